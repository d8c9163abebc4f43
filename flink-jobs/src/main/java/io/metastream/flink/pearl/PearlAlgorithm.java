package io.metastream.flink.pearl;

import io.metastream.core.pearl.PearlConfig;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * PEARL (Rakelly et al. 2019) on the stream: the task operator keeps each task's context window and
 * replay shard and emits the task's posterior q(z | c); task samples go to the SAC learner, which
 * publishes the encoder and the actor ({@code metastream-pearl-policy-v1}).
 */
public final class PearlAlgorithm implements MetaAlgorithm<PearlTaskSample> {

    /**
     * PEARL settings sized for a CPU machine (the reference 3×300 nets take about 0.6 s per learner step
     * on 2 cores), used by the local run and the tests; every key can be overridden with
     * {@code --pearl.<key>}. Reward scale 100 with a fixed temperature of 1 follows oyster's point-robot
     * configuration. The encoder keeps the paper's diagonal factors: rank factors ({@code encoderRank} 1)
     * win offline over 40,000 steps ({@code bench pearl}), but in the stream's first few thousand steps
     * they learned no faster on average and far less reliably (PearlJobIT's gain after 4,500 steps ranged
     * from 0.6 to 5.7 over eight runs, against 3.0 to 3.8 over three runs with diagonal factors). The KL weight
     * and the context sampling stay at the reference (0.1, uniform rows): {@code bench pearl} uses
     * {@code klWeight} 10 and {@code minContextSize} 10, but in the stream's first few thousand steps
     * both learned more slowly. A cluster job uses {@code PearlConfig}'s reference defaults (the paper's
     * diagonal factors) unless given these keys.
     */
    public static final Map<String, String> CPU_SETTINGS = Map.ofEntries(
            Map.entry("netHidden", "64,64"), Map.entry("encoderHidden", "64,64"), Map.entry("batchSize", "128"),
            Map.entry("contextSize", "64"), Map.entry("metaBatch", "8"), Map.entry("rewardScale", "100"),
            Map.entry("learnAlpha", "false"), Map.entry("policyLr", "1e-3"), Map.entry("qLr", "1e-3"),
            Map.entry("encoderLr", "1e-3"));

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
        Map<String, String> info = new HashMap<>(c.provenance());
        info.put("adaptEvery", Integer.toString(job.get(MetaStreamOptions.ADAPT_EVERY)));
        info.put("contextWindow", Integer.toString(job.get(CONTEXT_WINDOW)));
        info.put("sampleEvery", Integer.toString(job.get(SAMPLE_EVERY)));
        info.put("replayCapacity", Integer.toString(job.get(MetaStreamOptions.REPLAY_CAPACITY)));
        info.put("updatesPerSample", Integer.toString(job.get(UPDATES_PER_SAMPLE)));
        info.put("publishEvery", Integer.toString(job.get(MetaStreamOptions.PUBLISH_EVERY)));
        return new PearlLearnerFunction(c.modelName(), c.settings(), info, job.get(MetaStreamOptions.PUBLISH_EVERY),
                job.get(UPDATES_PER_SAMPLE), job.get(MAX_SAMPLE_AGE).toMillis());
    }
}
