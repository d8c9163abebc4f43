package io.metastream.core.grbal;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How a dynamics model adapts to a task from its last M transitions.
 *
 * <ul>
 *   <li>{@link #GRADIENT}: GrBAL, {@code innerSteps} gradient steps of the fixed size {@code innerLr}.
 *   <li>{@link #META_SGD}: the same steps with one learned step size per parameter (Meta-SGD, Li et al.
 *       2017), meta-trained beside θ and published with the model.
 *   <li>{@link #RECURRENT}: ReBAL, a GRU reads the M transitions and its final state shifts every bias
 *       of the network ({@link RecurrentAdaptation}); meta-trained beside θ and published with it.
 *   <li>{@link #RIDGE}: the output layer solved exactly by ridge regression on the M transitions, shrunk
 *       toward θ's with a meta-learned strength ({@link RidgeAdaptation}).
 * </ul>
 */
public enum AdaptationRule {
    GRADIENT("gradient"),
    META_SGD("meta-sgd"),
    RECURRENT("recurrent"),
    RIDGE("ridge");

    private final String settingName;

    AdaptationRule(String settingName) {
        this.settingName = settingName;
    }

    /** The name used in settings and model blobs. */
    public String settingName() {
        return settingName;
    }

    /** Whether the rule has learned parameters that travel with the model. */
    public boolean learned() {
        return this != GRADIENT;
    }

    /**
     * @throws IllegalArgumentException naming the accepted values
     */
    public static AdaptationRule fromName(String name) {
        for (AdaptationRule r : values()) {
            if (r.settingName.equalsIgnoreCase(name == null ? "" : name.trim()) || r.name().equalsIgnoreCase(String.valueOf(name).trim())) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown adaptation rule '" + name + "'; use one of "
                + Arrays.stream(values()).map(AdaptationRule::settingName).collect(Collectors.joining(", ")));
    }
}
