package io.metastream.flink.grbal;

import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.settings.Setting;
import io.metastream.flink.MetaAlgorithm;
import io.metastream.flink.MetaStreamOptions;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.OutputTag;

import java.util.List;
import java.util.Map;

/**
 * GrBAL (Nagabandi et al. 2019) on the stream: the task operator adapts the dynamics model theta on each
 * task's newest M transitions (gradient steps) and sends the learner segments of M+K transitions; the
 * learner takes the second-order MAML step and publishes theta ({@code metastream-mlp-v1}).
 */
public final class GrbalAlgorithm implements MetaAlgorithm<GrbalSegment> {

    public static final ConfigOption<Integer> SEGMENT_STRIDE =
            ConfigOptions.key("metastream.segment-stride")
                    .intType()
                    .defaultValue(8)
                    .withDescription("The task operator sends the meta-learner the last M+K transitions of a task after this many new ones.");

    public static final ConfigOption<Integer> REPLAY_SEGMENTS =
            ConfigOptions.key("metastream.replay-segments")
                    .intType()
                    .defaultValue(3)
                    .withDescription("With every new segment, this many older windows drawn at random from the task's replay shard are also sent to the meta-learner.");

    public static final ConfigOption<Long> MAX_POLICY_LAG =
            ConfigOptions.key("metastream.max-policy-lag")
                    .longType()
                    .defaultValue(1000L)
                    .withDescription("Segments whose oldest transition was collected with a model more than this many versions older than the learner's are dropped and counted (staleSegments).");

    @Override
    public String name() {
        return "grbal";
    }

    @Override
    public String description() {
        return "model-based: a dynamics model adapted by gradient steps on each task's newest transitions; agents plan with MPC";
    }

    @Override
    public List<ConfigOption<?>> options() {
        return List.of(SEGMENT_STRIDE, REPLAY_SEGMENTS, MAX_POLICY_LAG);
    }

    @Override
    public List<Setting> hyperParameters() {
        return GrbalConfig.settings();
    }

    @Override
    public void validate(Map<String, String> settings) {
        GrbalConfig.fromMap(settings);
    }

    @Override
    public Operators operators() {
        return new Operators("task-adaptation", "adapted-sink", "meta-learner", "models-sink");
    }

    @Override
    public KeyedBroadcastProcessFunction<String, Transition, ModelVersion, AdaptedModel> taskFunction(Context c) {
        Configuration job = c.job();
        return new GrbalTaskFunction(c.modelName(), c.settings(), job.get(MetaStreamOptions.ADAPT_EVERY),
                job.get(SEGMENT_STRIDE), job.get(MetaStreamOptions.REPLAY_CAPACITY),
                job.get(REPLAY_SEGMENTS));
    }

    @Override
    public OutputTag<GrbalSegment> learnerInput() {
        return GrbalTaskFunction.SEGMENTS;
    }

    @Override
    public ProcessFunction<GrbalSegment, ModelVersion> learnerFunction(Context c) {
        Configuration job = c.job();
        Map<String, String> info = c.provenanceWith(
                List.of("adaptEvery", "segmentStride", "replayCapacity", "replaySegments", "publishEvery"),
                List.of(MetaStreamOptions.ADAPT_EVERY, SEGMENT_STRIDE, MetaStreamOptions.REPLAY_CAPACITY, REPLAY_SEGMENTS,
                        MetaStreamOptions.PUBLISH_EVERY));
        return new GrbalLearnerFunction(c.modelName(), c.settings(), info, job.get(MetaStreamOptions.PUBLISH_EVERY),
                job.get(MAX_POLICY_LAG));
    }
}
