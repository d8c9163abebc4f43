package io.metastream.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.Normalizer;
import io.metastream.core.grbal.Segment;
import io.metastream.core.nn.Activation;
import io.metastream.core.nn.Mlp;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ModelBlobTest {

    /** Regenerate the golden files with {@code -Dmetastream.golden.regenerate=true} (only for a new format version). */
    private static final String REGENERATE = "metastream.golden.regenerate";
    private static final Path GOLDEN_DIR = Path.of("src", "test", "resources", "golden");
    private static final String BLOB = "model-v1.bin";
    private static final String PREDICTIONS = "model-v1.predictions.txt";

    /** A small deterministic model: 2-D observations, 1-D actions, one hidden tanh layer. */
    static DynamicsModel deterministicModel() {
        Random rng = new Random(2024);
        double[][] obs = new double[50][2];
        double[][] act = new double[50][1];
        double[][] next = new double[50][2];
        for (int t = 0; t < 50; t++) {
            obs[t][0] = 1 + rng.nextGaussian();
            obs[t][1] = -2 + 3 * rng.nextGaussian();
            act[t][0] = rng.nextDouble() - 0.5;
            next[t][0] = obs[t][0] + 0.1 * act[t][0];
            next[t][1] = obs[t][1] - 0.2 * obs[t][0];
        }
        Normalizer norm = new Normalizer(2, 1);
        norm.update(new Segment(obs, act, next));
        norm.freeze();
        Mlp mlp = new Mlp(new int[] {3, 5, 2}, Activation.TANH);
        return new DynamicsModel(mlp, mlp.initParams(rng), norm);
    }

    private static double[][] probeInputs() {
        return new double[][] {{0, 0, 0}, {1, -2, 0.25}, {-3, 4, -0.5}, {10, 10, 1}};
    }

    private static INDArray predict(DynamicsModel m, double[][] inputs) {
        double[][] obs = new double[inputs.length][];
        double[][] act = new double[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            obs[i] = Arrays.copyOfRange(inputs[i], 0, 2);
            act[i] = Arrays.copyOfRange(inputs[i], 2, 3);
        }
        return m.predictNext(Nd4j.create(obs), Nd4j.create(act));
    }

    @Test
    void roundTripIsExact() {
        DynamicsModel m = deterministicModel();
        byte[] blob = ModelBlob.encode(m);
        DynamicsModel back = ModelBlob.decode(blob);
        assertThat(back.mlp()).isEqualTo(m.mlp());
        assertThat(back.params()).isEqualTo(m.params());
        assertThat(back.normalizer().toBytes()).isEqualTo(m.normalizer().toBytes());
        assertThat(ModelBlob.encode(back)).isEqualTo(blob);
        assertThat(predict(back, probeInputs())).isEqualTo(predict(m, probeInputs()));
        assertThat(ModelBlob.sha256Hex(blob)).hasSize(64).isEqualTo(ModelBlob.sha256Hex(blob.clone()));
        assertThat(ModelBlob.ENCODING).isEqualTo("metastream-mlp-v1");
    }

    @Test
    void corruptedBlobsFailWithPreciseMessages() {
        byte[] blob = ModelBlob.encode(deterministicModel());

        byte[] badMagic = blob.clone();
        badMagic[0] = 'X';
        assertThatThrownBy(() -> ModelBlob.decode(badMagic)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a metastream model blob").hasMessageContaining("58 53 4D 42");

        byte[] future = blob.clone();
        ByteBuffer.wrap(future).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 3);
        assertThatThrownBy(() -> ModelBlob.decode(future)).hasMessageContaining("unknown format version 3");
        byte[] v2WithoutRule = blob.clone(); // version 2 promises a learned rule after the parameters
        ByteBuffer.wrap(v2WithoutRule).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 2);
        assertThatThrownBy(() -> ModelBlob.decode(v2WithoutRule)).hasMessageContaining("truncated")
                .hasMessageContaining("adaptation rule name");

        assertThatThrownBy(() -> ModelBlob.decode(Arrays.copyOf(blob, blob.length - 5)))
                .hasMessageContaining("truncated").hasMessageContaining("parameters need");
        assertThatThrownBy(() -> ModelBlob.decode(Arrays.copyOf(blob, 10))).hasMessageContaining("truncated");

        byte[] longer = Arrays.copyOf(blob, blob.length + 8);
        assertThatThrownBy(() -> ModelBlob.decode(longer)).hasMessageContaining("8 unexpected trailing bytes");

        byte[] wrongSize = blob.clone();
        ByteBuffer.wrap(wrongSize).order(ByteOrder.LITTLE_ENDIAN).putInt(12, 4); // first layer size 3 -> 4
        assertThatThrownBy(() -> ModelBlob.decode(wrongSize)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("parameter count is");

        byte[] badActivation = blob.clone();
        int nameOffset = 4 + 4 + 4 + 3 * 4 + 4;
        badActivation[nameOffset] = 'X';
        assertThatThrownBy(() -> ModelBlob.decode(badActivation)).hasMessageContaining("unknown activation 'XANH'");
    }

    @Test
    void aShortBlobDeclaringAHugeNetworkIsRefusedWithoutAllocatingIt() {
        // 52 bytes of header and normaliser that declare 1.6e9 parameters (12.8 GB); no parameter follows
        int[] sizes = {2, 40_000, 40_000, 2};
        int p = new Mlp(sizes, Activation.TANH).numParams();
        byte[] norm = deterministicModel().normalizer().toBytes();
        ByteBuffer b = ByteBuffer.allocate(64 + norm.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {'M', 'S', 'M', 'B'}).putInt(ModelBlob.FORMAT_VERSION).putInt(sizes.length);
        for (int size : sizes) {
            b.putInt(size);
        }
        byte[] tanh = Activation.TANH.name().getBytes(StandardCharsets.UTF_8);
        b.putInt(tanh.length).put(tanh).putInt(norm.length).put(norm).putInt(p);
        byte[] blob = Arrays.copyOf(b.array(), b.position());

        assertThatThrownBy(() -> ModelBlob.decode(blob)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("truncated").hasMessageContaining(p + " parameters need " + 8L * p + " bytes");
    }

    @Test
    void deltasRoundTripAndCheckTheirLength() {
        INDArray delta = Nd4j.createFromArray(new double[] {1.5, -0.0, Double.MIN_VALUE, 1e300}).reshape(1, 4);
        byte[] bytes = ModelBlob.encodeDelta(delta);
        assertThat(bytes).hasSize(32);
        assertThat(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getDouble(0)).isEqualTo(1.5);
        assertThat(ModelBlob.decodeDelta(bytes, 4)).isEqualTo(delta);
        assertThatThrownBy(() -> ModelBlob.decodeDelta(bytes, 5)).hasMessageContaining("32 bytes but 5 float64 values need 40");
        assertThatThrownBy(() -> ModelBlob.decodeDelta(Arrays.copyOf(bytes, 31), 4)).hasMessageContaining("truncated?");
    }

    @Test
    void goldenVersionOneBlobStillDecodesToTheSamePredictions() throws IOException {
        if (Boolean.getBoolean(REGENERATE)) {
            writeGolden();
        }
        byte[] blob = read(BLOB);
        List<double[]> rows = new ArrayList<>();
        for (String line : new String(read(PREDICTIONS), StandardCharsets.UTF_8).split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.trim().split("\\s+");
            rows.add(Arrays.stream(parts).mapToDouble(Double::parseDouble).toArray());
        }
        double[][] inputs = rows.stream().map(r -> Arrays.copyOfRange(r, 0, 3)).toArray(double[][]::new);
        double[][] expected = rows.stream().map(r -> Arrays.copyOfRange(r, 3, 5)).toArray(double[][]::new);
        DynamicsModel m = ModelBlob.decode(blob);
        INDArray got = predict(m, inputs);
        INDArray want = Nd4j.create(expected);
        assertThat(got.sub(want).norm2Number().doubleValue()).isLessThan(1e-12 * want.norm2Number().doubleValue());
        assertThat(ModelBlob.encode(m)).isEqualTo(blob);
    }

    private static byte[] read(String name) throws IOException {
        if (Boolean.getBoolean(REGENERATE)) {
            return Files.readAllBytes(GOLDEN_DIR.resolve(name));
        }
        try (InputStream in = ModelBlobTest.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                fail("golden file golden/" + name + " is missing from the test resources; restore it from version control "
                        + "(or, only when introducing a new format version, run once with -D" + REGENERATE + "=true)");
            }
            return in.readAllBytes();
        }
    }

    private static void writeGolden() throws IOException {
        DynamicsModel m = deterministicModel();
        Files.createDirectories(GOLDEN_DIR);
        Files.write(GOLDEN_DIR.resolve(BLOB), ModelBlob.encode(m));
        double[][] inputs = probeInputs();
        double[][] pred = predict(m, inputs).toDoubleMatrix();
        StringBuilder sb = new StringBuilder("# obs0 obs1 act0 -> predicted nextObs0 nextObs1, for golden/" + BLOB
                + " (written by ModelBlobTest; do not edit)\n");
        for (int i = 0; i < inputs.length; i++) {
            sb.append(inputs[i][0]).append(' ').append(inputs[i][1]).append(' ').append(inputs[i][2]).append(' ')
                    .append(pred[i][0]).append(' ').append(pred[i][1]).append('\n');
        }
        Files.writeString(GOLDEN_DIR.resolve(PREDICTIONS), sb.toString(), StandardCharsets.UTF_8);
    }
}
