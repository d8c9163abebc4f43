package io.metastream.client;

import io.metastream.schema.AdaptedModel;
import io.metastream.schema.DeadLetter;
import io.metastream.schema.DeadLetterReason;
import io.metastream.schema.FastWeights;
import io.metastream.schema.GaussianPosterior;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;
import io.metastream.schema.TransitionKind;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AvroCodecTest {

    private final AvroCodec<Transition> codec = Codecs.transition();

    static Transition transition(String taskId, int step) {
        return Transition.newBuilder()
                .setTaskId(taskId)
                .setAgentId("agent-1")
                .setEpisodeId(7)
                .setStep(step)
                .setObservation(List.of(0.1f, -0.2f, 0.3f))
                .setAction(List.of(1.0f))
                .setReward(-0.5f)
                .setNextObservation(List.of(0.11f, -0.19f, 0.31f))
                .setDone(false)
                .setPolicyVersion(3L)
                .setTimestamp(Instant.ofEpochMilli(1_700_000_000_123L))
                .setKind(TransitionKind.POST_ADAPTATION)
                .build();
    }

    @Test
    void roundTripsEveryTopicRecord() {
        Transition t = transition("task-1", 4);
        assertThat(codec.decode(codec.encode(t))).isEqualTo(t);

        ModelVersion v = ModelVersion.newBuilder()
                .setModelName("m").setVersion(2).setParentVersion(1L).setAlgorithm("GRBAL").setConfigHash("ab")
                .setConfig(Map.of("innerLr", "0.01")).setSeed(42).setParameterEncoding("metastream-mlp-v1")
                .setParameters(ByteBuffer.wrap(new byte[] {1, 2, 3})).setParametersSha256("00").setTasksSeen(3)
                .setTransitionsSeen(99).setOuterSteps(5).setMetrics(Map.of("postAdaptLoss", 0.25))
                .setCreatedAt(Instant.ofEpochMilli(1000)).setCodeVersion("0.1.0").setPlatform(null).build();
        AvroCodec<ModelVersion> models = Codecs.modelVersion();
        assertThat(models.decode(models.encode(v))).isEqualTo(v);

        AdaptedModel a = AdaptedModel.newBuilder()
                .setTaskId("task-1").setModelName("m").setBaseVersion(2).setAlgorithm("GRBAL")
                .setAdaptation(FastWeights.newBuilder().setDelta(ByteBuffer.wrap(new byte[16])).setDeltaSha256("x").build())
                .setContextTransitions(16).setInnerSteps(1).setContextLossBefore(0.5).setContextLossAfter(0.25)
                .setCreatedAt(Instant.ofEpochMilli(2000)).build();
        AvroCodec<AdaptedModel> adapted = Codecs.adaptedModel();
        assertThat(adapted.decode(adapted.encode(a))).isEqualTo(a);

        DeadLetter d = DeadLetter.newBuilder()
                .setSourceTopic("t").setSourcePartition(1).setSourceOffset(9).setKey(null)
                .setValue(ByteBuffer.wrap(new byte[] {9})).setReason(DeadLetterReason.MALFORMED).setMessage("bad")
                .setTimestamp(Instant.ofEpochMilli(3000)).build();
        AvroCodec<DeadLetter> deadLetters = Codecs.deadLetter();
        assertThat(deadLetters.decode(deadLetters.encode(d))).isEqualTo(d);
    }

    @Test
    void encodingStartsWithMarkerAndLittleEndianFingerprint() {
        byte[] bytes = codec.encode(transition("task-1", 0));

        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(fingerprint)
                .isEqualTo(SchemaNormalization.parsingFingerprint64(Transition.getClassSchema()))
                .isEqualTo(codec.fingerprint());
    }

    @Test
    void decodesTransitionsWrittenWithTheSchemaBeforeKindExisted() throws Exception {
        Schema v0 = historySchema("Transition-v0.avsc");
        assertThat(v0.getField("kind")).isNull();
        GenericRecord old = new GenericData.Record(v0);
        old.put("taskId", "task-9");
        old.put("agentId", "legacy-agent");
        old.put("episodeId", 1L);
        old.put("step", 2);
        old.put("observation", List.of(1f, 2f, 3f));
        old.put("action", List.of(0.5f));
        old.put("reward", 1.5f);
        old.put("nextObservation", List.of(1.1f, 2.1f, 3.1f));
        old.put("done", true);
        old.put("policyVersion", null);
        old.put("timestamp", 1_600_000_000_000L);
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v0).encode(old).array();

        Transition t = codec.decode(bytes);

        assertThat(t.getTaskId()).isEqualTo("task-9");
        assertThat(t.getAgentId()).isEqualTo("legacy-agent");
        assertThat(t.getObservation()).containsExactly(1f, 2f, 3f);
        assertThat(t.getDone()).isTrue();
        assertThat(t.getPolicyVersion()).isNull();
        assertThat(t.getTimestamp()).isEqualTo(Instant.ofEpochMilli(1_600_000_000_000L));
        assertThat(t.getKind()).isNull();
        assertThat(t.getSparseReward()).isNull();
        assertThat(codec.knownWriterSchemas()).hasSize(3);
    }

    @Test
    void decodesPosteriorsWrittenWithTheSchemaBeforeTheCovarianceFactorExisted() throws Exception {
        Schema v0 = historySchema("AdaptedModel-v0.avsc");
        Schema postSchema = v0.getField("adaptation").schema().getTypes().get(1);
        assertThat(postSchema.getName()).isEqualTo("GaussianPosterior");
        assertThat(postSchema.getField("covarianceFactor")).isNull();
        GenericRecord post = new GenericData.Record(postSchema);
        post.put("mean", List.of(0.5f, -0.5f));
        post.put("stddev", List.of(0.1f, 0.2f));
        GenericRecord old = new GenericData.Record(v0);
        old.put("taskId", "task-2");
        old.put("modelName", "m");
        old.put("baseVersion", 7L);
        old.put("algorithm", "PEARL");
        old.put("adaptation", post);
        old.put("contextTransitions", 20);
        old.put("innerSteps", 0);
        old.put("contextLossBefore", null);
        old.put("contextLossAfter", null);
        old.put("createdAt", 1_600_000_000_000L);
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v0).encode(old).array();

        AdaptedModel a = Codecs.adaptedModel().decode(bytes);

        GaussianPosterior g = (GaussianPosterior) a.getAdaptation();
        assertThat(g.getMean()).containsExactly(0.5f, -0.5f);
        assertThat(g.getStddev()).containsExactly(0.1f, 0.2f);
        assertThat(g.getCovarianceFactor()).isEmpty();
        assertThat(a.getBaseVersion()).isEqualTo(7L);
    }

    @Test
    void decodesTransitionsWrittenWithTheSchemaBeforeSparseRewardExisted() throws Exception {
        Schema v1 = historySchema("Transition-v1.avsc");
        assertThat(v1.getField("kind")).isNotNull();
        assertThat(v1.getField("sparseReward")).isNull();
        GenericRecord old = new GenericData.Record(v1);
        old.put("taskId", "task-3");
        old.put("agentId", "a");
        old.put("episodeId", 0L);
        old.put("step", 0);
        old.put("observation", List.of(1f, 2f));
        old.put("action", List.of(0.5f, 0.5f));
        old.put("reward", -1f);
        old.put("nextObservation", List.of(1.1f, 2.1f));
        old.put("done", false);
        old.put("policyVersion", 4L);
        old.put("timestamp", 1_600_000_000_000L);
        old.put("kind", new GenericData.EnumSymbol(v1.getField("kind").schema().getTypes().get(1), "EVALUATION"));
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old).array();

        Transition t = codec.decode(bytes);

        assertThat(t.getPolicyVersion()).isEqualTo(4L);
        assertThat(t.getKind()).isEqualTo(io.metastream.schema.TransitionKind.EVALUATION);
        assertThat(t.getSparseReward()).isNull();
    }

    /** What a producer in another language does: parse the .avsc, write the body, prepend the header by hand. */
    @Test
    void decodesARecordAssembledByHandFromTheAvscFile() throws Exception {
        Path avsc = Path.of(System.getProperty("basedir", "."), "../../schemas/src/main/avro/Transition.avsc").normalize();
        Schema schema = new Schema.Parser().parse(Files.readString(avsc));
        GenericRecord r = new GenericData.Record(schema);
        r.put("taskId", "python-task");
        r.put("agentId", "gym");
        r.put("episodeId", 12L);
        r.put("step", 0);
        r.put("observation", List.of(0f, 1f));
        r.put("action", List.of(-1f));
        r.put("reward", 0.25f);
        r.put("nextObservation", List.of(0.5f, 1.5f));
        r.put("done", false);
        r.put("policyVersion", 4L);
        r.put("timestamp", 1_234L);
        r.put("kind", new GenericData.EnumSymbol(schema.getField("kind").schema().getTypes().get(1), "DEMONSTRATION"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xC3);
        out.write(0x01);
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(SchemaNormalization.parsingFingerprint64(schema)).array());
        BinaryEncoder body = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(r, body);
        body.flush();

        Transition t = codec.decode(out.toByteArray());

        assertThat(t.getTaskId()).isEqualTo("python-task");
        assertThat(t.getPolicyVersion()).isEqualTo(4L);
        assertThat(t.getTimestamp()).isEqualTo(Instant.ofEpochMilli(1_234L));
        assertThat(t.getKind()).isEqualTo(TransitionKind.DEMONSTRATION);
    }

    @Test
    void inputThatIsNotASingleObjectMessageIsMalformed() {
        assertMalformed(null, "null");
        assertMalformed(new byte[0], "shorter than the 10-byte");
        assertMalformed(new byte[] {(byte) 0xC3, 0x01, 1, 2}, "shorter than the 10-byte");
        assertMalformed("{\"taskId\": \"json\", \"more\": 1}".getBytes(StandardCharsets.UTF_8), "not the single-object marker");
        byte[] random = new byte[64];
        new Random(1).nextBytes(random);
        random[0] = 0x00;
        assertMalformed(random, "bytes 0-1 are 00");
    }

    @Test
    void truncatedCorruptOrPaddedBodiesAreMalformedWithTheirOffset() {
        byte[] good = codec.encode(transition("task-1", 0));

        byte[] truncated = Arrays.copyOf(good, good.length - 3);
        assertMalformed(truncated, "at byte offset");

        byte[] padded = Arrays.copyOf(good, good.length + 2);
        assertMalformed(padded, "2 trailing bytes");

        // taskId's length varint claims 2^31 bytes: must be refused, not allocated
        byte[] hugeLength = Arrays.copyOf(good, good.length);
        byte[] varint = {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F};
        byte[] corrupt = new byte[hugeLength.length + varint.length - 1];
        System.arraycopy(hugeLength, 0, corrupt, 0, AvroCodec.HEADER_LENGTH);
        System.arraycopy(varint, 0, corrupt, AvroCodec.HEADER_LENGTH, varint.length);
        System.arraycopy(hugeLength, AvroCodec.HEADER_LENGTH + 1, corrupt, AvroCodec.HEADER_LENGTH + varint.length,
                hugeLength.length - AvroCodec.HEADER_LENGTH - 1);
        assertThatThrownBy(() -> codec.decode(corrupt))
                .isInstanceOfSatisfying(CodecException.class, e -> assertThat(e.reason()).isEqualTo(CodecException.Reason.MALFORMED))
                .hasMessageContaining("byte offset 10")
                .hasMessageContaining("Transition.taskId");

        // a valid header followed by garbage
        for (long seed = 0; seed < 200; seed++) {
            byte[] garbage = new byte[40];
            new Random(seed).nextBytes(garbage);
            System.arraycopy(good, 0, garbage, 0, AvroCodec.HEADER_LENGTH);
            assertThatThrownBy(() -> codec.decode(garbage)).isInstanceOf(CodecException.class)
                    .extracting(e -> ((CodecException) e).reason()).isEqualTo(CodecException.Reason.MALFORMED);
        }
    }

    @Test
    void aWellFormedHeaderWithAnUnknownFingerprintIsUnknownSchema() {
        byte[] bytes = codec.encode(transition("task-1", 0));
        ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(0x0123456789ABCDEFL);

        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOfSatisfying(CodecException.class,
                        e -> assertThat(e.reason()).isEqualTo(CodecException.Reason.UNKNOWN_SCHEMA))
                .hasMessageContaining("0x0123456789ABCDEF")
                .hasMessageContaining(AvroCodec.hex(codec.fingerprint()));
    }

    @Test
    void aModelVersionIsNotATransition() {
        AvroCodec<ModelVersion> models = Codecs.modelVersion();
        byte[] transitionBytes = codec.encode(transition("task-1", 0));

        assertThatThrownBy(() -> models.decode(transitionBytes))
                .isInstanceOfSatisfying(CodecException.class,
                        e -> assertThat(e.reason()).isEqualTo(CodecException.Reason.UNKNOWN_SCHEMA));
    }

    @Test
    void encodingARecordWithAMissingRequiredFieldSaysWhich() {
        Transition t = transition("task-1", 0);
        t.setAgentId(null);

        assertThatThrownBy(() -> codec.encode(t)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("agentId");
    }

    @Test
    void factorySurvivesJavaSerialization() throws Exception {
        AvroCodec.Factory<Transition> factory = AvroCodec.factory(Transition.class);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(factory);
        }
        Object copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = in.readObject();
        }
        @SuppressWarnings("unchecked")
        AvroCodec<Transition> fromCopy = ((AvroCodec.Factory<Transition>) copy).get();

        Transition t = transition("task-1", 1);
        assertThat(fromCopy.decode(codec.encode(t))).isEqualTo(t);
    }

    @Test
    void oneCodecServesManyThreads() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Boolean>> jobs = new ArrayList<>();
            for (int thread = 0; thread < 4; thread++) {
                String task = "task-" + thread;
                jobs.add(() -> {
                    for (int i = 0; i < 2000; i++) {
                        Transition t = transition(task, i);
                        if (!codec.decode(codec.encode(t)).equals(t)) {
                            return false;
                        }
                    }
                    return true;
                });
            }
            for (Future<Boolean> f : pool.invokeAll(jobs)) {
                assertThat(f.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void assertMalformed(byte[] bytes, String messagePart) {
        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOfSatisfying(CodecException.class, e -> assertThat(e.reason()).isEqualTo(CodecException.Reason.MALFORMED))
                .hasMessageContaining(messagePart);
    }

    private static Schema historySchema(String file) throws Exception {
        try (InputStream in = AvroCodec.class.getClassLoader().getResourceAsStream(AvroCodec.HISTORY_FOLDER + file)) {
            assertThat(in).as(file + " on the class path").isNotNull();
            return new Schema.Parser().parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
