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
 * <p>Rules, in the order checked: taskId is non-empty and equals the record key when a key is present
 * (the key decides the partition, so a mismatch would split a task), step is not negative
 * ({@code INVALID_FIELD}); observation and nextObservation have {@code obsDim} values and action
 * {@code actDim} ({@code WRONG_DIMENSION}); reward, sparseReward and every vector value are finite
 * ({@code NON_FINITE}). Immutable.
 */
public final class TransitionRules implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A broken rule: the dead-letter reason and a message that names the field. */
    public record Violation(DeadLetterReason reason, String message) {}

    private final int obsDim;
    private final int actDim;

    public TransitionRules(int obsDim, int actDim) {
        if (obsDim <= 0 || actDim <= 0) {
            throw new IllegalArgumentException("obsDim and actDim must be positive, got " + obsDim + ", " + actDim);
        }
        this.obsDim = obsDim;
        this.actDim = actDim;
    }

    /** The first rule {@code t} breaks; {@code key} is the record key, or null when the record has none. */
    public Optional<Violation> check(Transition t, byte[] key) {
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
        return Optional.empty();
    }

    /** True when {@code t} breaks no rule (the key is not checked). */
    public boolean accepts(Transition t) {
        return check(t, null).isEmpty();
    }

    private static String fieldProblem(Transition t, byte[] key) {
        if (t.getTaskId() == null || t.getTaskId().isEmpty()) {
            return "taskId is empty";
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
        String p = firstNonFinite("observation", t.getObservation());
        if (p == null) {
            p = firstNonFinite("action", t.getAction());
        }
        if (p == null) {
            p = firstNonFinite("nextObservation", t.getNextObservation());
        }
        return p;
    }

    private static String firstNonFinite(String field, List<Float> values) {
        for (int i = 0; i < values.size(); i++) {
            Float v = values.get(i);
            if (v == null || !Float.isFinite(v)) {
                return field + "[" + i + "] is " + v;
            }
        }
        return null;
    }
}
