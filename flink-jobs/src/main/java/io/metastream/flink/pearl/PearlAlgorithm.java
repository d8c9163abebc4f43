package io.metastream.flink.pearl;

import io.metastream.core.pearl.PearlConfig;
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

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * PEARL (Rakelly et al. 2019) on the stream: the task operator keeps each task's context window and
 * replay shard and emits the task's posterior q(z | c); task samples go to the SAC learner, which
 * publishes the encoder and the actor ({@code metastream-pearl-policy-v1}).
 */
public final class PearlAlgorithm implements MetaAlgorithm<PearlTaskSample> {


    public static final ConfigOption<Integer> CONTEXT_WINDOW =
            ConfigOptions.key("metastream.pearl.context-window")
                    .intType()
                    .defaultValue(200)
                    .withDescription("PEARL: per task, the newest exploration transitions the posterior is inferred from "
                            + "(fresh data only, never the replay).");

    public static final ConfigOption<Integer> SAMPLE_EVERY =
            ConfigOptions.key("metastream.pearl.sample-every")
                    .intType()
                    .defaultValue(32)
                    .withDescription("PEARL: per task, send the meta-learner a sample (a context batch and an RL batch "
                            + "from the task's replay shard) after this many new transitions.");

    public static final ConfigOption<Integer> UPDATES_PER_SAMPLE =
            ConfigOptions.key("metastream.pearl.updates-per-sample")
                    .intType()
                    .defaultValue(1)
                    .withDescription("PEARL: learner gradient steps per received task sample.");

    public static final ConfigOption<Duration> MAX_SAMPLE_AGE =
            ConfigOptions.key("metastream.pearl.max-sample-age")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(15))
                    .withDescription("PEARL: a sample older than this when it reaches the learner is pooled but "
                            + "triggers no gradient step (counter lateSamples), so a learner that falls behind catches "
                            + "up on fresh data instead of building an ever longer backlog.");

    @Override
    public String name() {
        return "pearl";
    }

    @Override
    public String description() {
        return "off-policy SAC with a probabilistic context encoder; agents do posterior sampling";
    }

    @Override
    public List<ConfigOption<?>> options() {
        return List.of(CONTEXT_WINDOW, SAMPLE_EVERY, UPDATES_PER_SAMPLE, MAX_SAMPLE_AGE);
    }

    @Override
    public List<Setting> hyperParameters() {
        return PearlConfig.settings();
    }

    @Override
    public void validate(Map<String, String> settings) {
        PearlConfig.fromMap(settings);
    }

    @Override
    public Operators operators() {
        return new Operators("pearl-task-context", "pearl-adapted-sink", "pearl-meta-learner", "pearl-models-sink");
    }

    @Override
    public KeyedBroadcastProcessFunction<String, Transition, ModelVersion, AdaptedModel> taskFunction(Context c) {
        Configuration job = c.job();
        return new PearlTaskFunction(c.modelName(), c.settings(), job.get(MetaStreamOptions.ADAPT_EVERY),
                job.get(SAMPLE_EVERY), job.get(CONTEXT_WINDOW),
                job.get(MetaStreamOptions.REPLAY_CAPACITY));
    }

    @Override
    public OutputTag<PearlTaskSample> learnerInput() {
        return PearlTaskFunction.SAMPLES;
    }

    @Override
    public ProcessFunction<PearlTaskSample, ModelVersion> learnerFunction(Context c) {
        Configuration job = c.job();
        Map<String, String> info = c.provenanceWith(
                List.of("adaptEvery", "contextWindow", "sampleEvery", "replayCapacity", "updatesPerSample", "publishEvery"),
                List.of(MetaStreamOptions.ADAPT_EVERY, CONTEXT_WINDOW, SAMPLE_EVERY, MetaStreamOptions.REPLAY_CAPACITY,
                        UPDATES_PER_SAMPLE, MetaStreamOptions.PUBLISH_EVERY));
        return new PearlLearnerFunction(c.modelName(), c.settings(), info, job.get(MetaStreamOptions.PUBLISH_EVERY),
                job.get(UPDATES_PER_SAMPLE), job.get(MAX_SAMPLE_AGE).toMillis());
    }
}
