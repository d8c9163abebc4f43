package io.metastream.client;

import io.metastream.schema.DeadLetterReason;
import io.metastream.schema.Transition;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The rules a decoded {@link Transition} must meet to be used: the job's validator applies them (and
 * dead-letters with the reason they give), and anything else that checks records uses the same class.
 *
 * <p>Rules, in the order checked: taskId and agentId have at most {@value #MAX_ID_CHARS} characters
 * ({@code TOO_LARGE}); taskId is non-empty, matches the accepted pattern when one is set, and equals the record key when a key is present (the key
 * decides the partition, so a mismatch would split a task), policyVersion, episodeId and step are not
 * negative ({@code INVALID_FIELD}); observation and nextObservation have {@code obsDim} values and
 * action {@code actDim} ({@code WRONG_DIMENSION}); reward, sparseReward and every vector value are
 * finite ({@code NON_FINITE}) and within ±{@code maxAbsValue} ({@code OUT_OF_RANGE}). Immutable.
 */
public final class TransitionRules implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A broken rule: the dead-letter reason and a message that names the field. */
    public record Violation(DeadLetterReason reason, String message) {}

    /** Default bound on the magnitude of every reward, observation and action value. */
    public static final double DEFAULT_MAX_ABS_VALUE = 1e6;
    /** Longest taskId and agentId, in characters: a task id becomes keyed state for the task's life. */
    public static final int MAX_ID_CHARS = 256;

    private final int obsDim;
    private final int actDim;
    private final double maxAbsValue;
    /** Task ids the job accepts; null for any. */
    private final java.util.regex.Pattern taskIdPattern;

    /** Rules with the {@link #DEFAULT_MAX_ABS_VALUE default magnitude bound}. */
    public TransitionRules(int obsDim, int actDim) {
        this(obsDim, actDim, DEFAULT_MAX_ABS_VALUE);
    }

    /**
     * @param maxAbsValue the largest |value| accepted in reward, sparseReward, observation, action and
     *     nextObservation: a finite but huge value (1e30 in a warm-up) would otherwise enter a normaliser
     *     that is then frozen and shipped with every version
     */
    public TransitionRules(int obsDim, int actDim, double maxAbsValue) {
        this(obsDim, actDim, maxAbsValue, null);
    }

    /**
     * @param taskIdPattern task ids the job accepts (the whole id must match), null for any: every task id
     *     becomes keyed state in the job, so a deployment with known task names should say which
     */
    public TransitionRules(int obsDim, int actDim, double maxAbsValue, java.util.regex.Pattern taskIdPattern) {
        this.taskIdPattern = taskIdPattern;
        if (obsDim <= 0 || actDim <= 0) {
            throw new IllegalArgumentException("obsDim and actDim must be positive, got " + obsDim + ", " + actDim);
        }
        if (!(maxAbsValue > 0) || Double.isInfinite(maxAbsValue)) {
            throw new IllegalArgumentException("maxAbsValue must be positive and finite, got " + maxAbsValue);
        }
        this.obsDim = obsDim;
        this.actDim = actDim;
        this.maxAbsValue = maxAbsValue;
    }

    /** The first rule {@code t} breaks; {@code key} is the record key, or null when the record has none. */
    public Optional<Violation> check(Transition t, byte[] key) {
        Optional<Violation> tooLong = idTooLong(t);
        if (tooLong.isPresent()) {
            return tooLong;
        }
        String problem;
        if ((problem = fieldProblem(t, key)) != null) {
            return Optional.of(new Violation(DeadLetterReason.INVALID_FIELD, problem));
        }
        if ((problem = dimensionProblem(t)) != null) {
            return Optional.of(new Violation(DeadLetterReason.WRONG_DIMENSION, problem));
        }
        if ((problem = finiteProblem(t)) != null) {
            return Optional.of(new Violation(DeadLetterReason.NON_FINITE, problem));
        }
        if ((problem = rangeProblem(t)) != null) {
            return Optional.of(new Violation(DeadLetterReason.OUT_OF_RANGE, problem));
        }
        return Optional.empty();
    }

    /** True when {@code t} breaks no rule (the key is not checked). */
    public boolean accepts(Transition t) {
        return check(t, null).isEmpty();
    }

    private String fieldProblem(Transition t, byte[] key) {
        if (t.getTaskId() == null || t.getTaskId().isEmpty()) {
            return "taskId is empty";
        }
        if (taskIdPattern != null && !taskIdPattern.matcher(t.getTaskId()).matches()) {
            return "taskId '" + t.getTaskId() + "' does not match the accepted task ids " + taskIdPattern.pattern()
                    + " (metastream.task-id-pattern)";
        }
        if (t.getPolicyVersion() != null && t.getPolicyVersion() < 0) {
            return "policyVersion is negative: " + t.getPolicyVersion() + " (null for actions taken without a model)";
        }
        if (t.getEpisodeId() < 0) {
            return "episodeId is negative: " + t.getEpisodeId();
        }
        if (key != null) {
            String k = new String(key, StandardCharsets.UTF_8);
            if (!k.equals(t.getTaskId())) {
                return "record key '" + k + "' differs from taskId '" + t.getTaskId() + "'; key records by taskId";
            }
        }
        if (t.getStep() < 0) {
            return "step is negative: " + t.getStep();
        }
        return null;
    }

    /** A taskId or agentId longer than {@link #MAX_ID_CHARS}; checked before the other rules (reason TOO_LARGE). */
    public static Optional<Violation> idTooLong(Transition t) {
        for (String[] f : new String[][] {{"taskId", t.getTaskId()}, {"agentId", t.getAgentId()}}) {
            if (f[1] != null && f[1].length() > MAX_ID_CHARS) {
                return Optional.of(new Violation(DeadLetterReason.TOO_LARGE, f[0] + " has " + f[1].length()
                        + " characters; at most " + MAX_ID_CHARS + " are accepted"));
            }
        }
        return Optional.empty();
    }

    private String rangeProblem(Transition t) {
        if (Math.abs(t.getReward()) > maxAbsValue) {
            return "reward is " + t.getReward() + ", beyond the bound of " + maxAbsValue + " (metastream.max-abs-value)";
        }
        if (t.getSparseReward() != null && Math.abs(t.getSparseReward()) > maxAbsValue) {
            return "sparseReward is " + t.getSparseReward() + ", beyond the bound of " + maxAbsValue + " (metastream.max-abs-value)";
        }
        return firstVectorValue(t, v -> Math.abs(v) > maxAbsValue,
                ", beyond the bound of " + maxAbsValue + " (metastream.max-abs-value)");
    }

    private String dimensionProblem(Transition t) {
        if (t.getObservation().size() != obsDim) {
            return "observation has " + t.getObservation().size() + " values, the model expects " + obsDim;
        }
        if (t.getNextObservation().size() != obsDim) {
            return "nextObservation has " + t.getNextObservation().size() + " values, the model expects " + obsDim;
        }
        if (t.getAction().size() != actDim) {
            return "action has " + t.getAction().size() + " values, the model expects " + actDim;
        }
        return null;
    }

    private static String finiteProblem(Transition t) {
        if (!Float.isFinite(t.getReward())) {
            return "reward is " + t.getReward();
        }
        if (t.getSparseReward() != null && !Float.isFinite(t.getSparseReward())) {
            return "sparseReward is " + t.getSparseReward();
        }
        return firstVectorValue(t, v -> !Float.isFinite(v), "");
    }

    /** The first observation, action or nextObservation value (in that order) that is null or {@code bad}, described. */
    private static String firstVectorValue(Transition t, java.util.function.Predicate<Float> bad, String why) {
        String[] names = {"observation", "action", "nextObservation"};
        List<List<Float>> vectors = List.of(t.getObservation(), t.getAction(), t.getNextObservation());
        for (int f = 0; f < names.length; f++) {
            List<Float> values = vectors.get(f);
            for (int i = 0; i < values.size(); i++) {
                Float v = values.get(i);
                if (v == null || bad.test(v)) {
                    return names[f] + "[" + i + "] is " + v + why;
                }
            }
        }
        return null;
    }
}
