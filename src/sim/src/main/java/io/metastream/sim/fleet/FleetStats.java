package io.metastream.sim.fleet;

import java.util.Collections;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A consistent-enough snapshot of a {@link Fleet}'s counters (each field is read atomically, the
 * fields together are not), for logs, metrics and tests.
 *
 * @param transitionsProduced transitions handed to the Kafka producer
 * @param transitionsSent transitions the broker acknowledged
 * @param sendErrors transitions whose send failed (logged; the fleet keeps running)
 * @param episodesCompleted episodes finished by all agents together
 * @param meanEpisodeReturn mean undiscounted return of the last {@link Fleet#RETURN_WINDOW} completed
 *     episodes; NaN before the first one completes
 * @param randomSteps steps whose action was drawn uniformly at random (no model yet, or ε-exploration)
 * @param plannedStepsByPolicyVersion steps whose action the MPC planner chose, by the base model version used
 * @param deadLetters this fleet's records the job dead-lettered since the fleet started; -1 when the fleet
 *     was built without {@code deadLetterTopic}
 * @param secondsRunning seconds since the fleet's first step (0 before it)
 * @param recentTransitionsPerSecond transitions produced per second over about the last 10 seconds; NaN
 *     during the first second
 */
public record FleetStats(
        long transitionsProduced,
        long transitionsSent,
        long sendErrors,
        long episodesCompleted,
        double meanEpisodeReturn,
        long randomSteps,
        SortedMap<Long, Long> plannedStepsByPolicyVersion,
        long deadLetters,
        double secondsRunning,
        double recentTransitionsPerSecond) {

    public FleetStats {
        Objects.requireNonNull(plannedStepsByPolicyVersion, "plannedStepsByPolicyVersion");
        plannedStepsByPolicyVersion = Collections.unmodifiableSortedMap(new TreeMap<>(plannedStepsByPolicyVersion));
    }

    /** Transitions produced per second since the first step; NaN before it. */
    public double transitionsPerSecond() {
        return secondsRunning > 0 ? transitionsProduced / secondsRunning : Double.NaN;
    }

    /** Steps acted with a model, over all versions. */
    public long plannedSteps() {
        return plannedStepsByPolicyVersion.values().stream().mapToLong(Long::longValue).sum();
    }
}
