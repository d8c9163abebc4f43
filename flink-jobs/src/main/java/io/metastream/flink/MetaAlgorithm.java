package io.metastream.flink;

import io.metastream.core.settings.Setting;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.OutputTag;

import java.util.List;
import java.util.Map;

/**
 * One meta-RL algorithm on the stream: the parts that vary between algorithms. {@link MetaLearningJob}
 * builds the same graph for every algorithm from them (sources, validation, dead letters, the model
 * broadcast and the exactly-once sinks are shared):
 *
 * <pre>
 *   transitions ─keyBy(taskId)─► {@link #taskFunction} (inner loop; connected to the model broadcast) ─► adapted
 *                                     │ side output {@link #learnerInput}
 *                                     ▼
 *                               {@link #learnerFunction} (outer loop, parallelism 1) ─► models
 * </pre>
 *
 * <p>Implementations are stateless and registered in {@link MetaAlgorithms}; adding an algorithm means
 * writing its package (its settings class in {@code src/core}, its two functions here) and adding one
 * line to that registry. The operator uids an implementation returns are part of its savepoint format
 * and must never change.
 *
 * @param <S> what the task operator sends the learner for one task (a Flink POJO: it crosses the network
 *            and may sit in the learner's checkpointed state)
 */
public interface MetaAlgorithm<S> {

    /** The value of {@code metastream.algorithm} that selects it, lower case; also its settings prefix. */
    String name();

    /** One line for {@code help} and the settings table: what the algorithm adapts and how agents act. */
    String description();

    /** The prefix of its hyper-parameter keys, {@code name() + "."}. */
    default String settingsPrefix() {
        return name() + ".";
    }

    /** Its own job settings (declared in its package), for {@code help} and the settings table. */
    List<ConfigOption<?>> options();

    /** Its hyper-parameters ({@code <name>.<key>}), for {@code help} and the settings table. */
    List<Setting> hyperParameters();

    /**
     * Validates its hyper-parameters: the prefix-stripped keys plus {@code obsDim} and {@code actDim}.
     *
     * @throws IllegalArgumentException naming an unknown key or a value out of bounds
     */
    void validate(Map<String, String> settings);

    /** Names and uids of its four operators. */
    Operators operators();

    /** The keyed task operator (the inner loop). */
    KeyedBroadcastProcessFunction<String, Transition, ModelVersion, AdaptedModel> taskFunction(Context context);

    /** The side output of {@link #taskFunction} that feeds the learner. */
    OutputTag<S> learnerInput();

    /** The meta-learner (the outer loop); runs with parallelism 1. */
    ProcessFunction<S, ModelVersion> learnerFunction(Context context);

    /**
     * Names (which are also the uids) of an algorithm's operators. Uids are how a savepoint finds each
     * operator's state, so two algorithms never share one: a savepoint of one is never restored into the other.
     */
    record Operators(String task, String adaptedSink, String learner, String modelsSink) {}

    /**
     * What the job hands an algorithm when it builds the graph.
     *
     * @param job        every job setting ({@link MetaStreamOptions})
     * @param modelName  the model the learner publishes and the task operator follows
     * @param settings   the algorithm's prefix-stripped hyper-parameters plus obsDim and actDim, validated
     * @param provenance job settings every version records (as {@code job.<key>}); the algorithm adds its own
     */
    record Context(Configuration job, String modelName, Map<String, String> settings, Map<String, String> provenance) {

        /**
         * The provenance plus the given job settings' values, each under its name: {@code names[i]} for
         * {@code options[i]} (the names versions have always recorded, e.g. {@code adaptEvery}).
         */
        public Map<String, String> provenanceWith(List<String> names, List<ConfigOption<?>> options) {
            Map<String, String> info = new java.util.HashMap<>(provenance);
            for (int i = 0; i < names.size(); i++) {
                info.put(names.get(i), String.valueOf(job.get(options.get(i))));
            }
            return info;
        }
    }
}
