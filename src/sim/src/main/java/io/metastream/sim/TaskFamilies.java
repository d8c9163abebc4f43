package io.metastream.sim;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Registry of the built-in task families, looked up by name from configuration.
 *
 * <ul>
 *   <li>{@code "pendulum"}: gym's swing-up pendulum (current dynamics, pinned) with task parameters
 *       {@code mass} in [0.5, 2], {@code length} in [0.5, 1.5], {@code damping} in [0, 0.5] and actuator
 *       {@code gain} in [0.4, 1.6]. Observation (cos θ, sin θ, θ̇), action torque in [−2, 2], horizon 200.</li>
 *   <li>{@code "point-mass"}: a planar point mass driven to the origin through a rotated, possibly
 *       crippled actuator with friction; task parameters {@code gainX}, {@code gainY} in [0, 1.5],
 *       {@code rotation} in [−π/4, π/4] and {@code friction} in [0, 1]. Observation (x, y, vx, vy),
 *       action in [−1, 1]², horizon 100.</li>
 * </ul>
 */
public final class TaskFamilies {

    private static final Map<String, Supplier<TaskFamily>> FAMILIES = Map.of(
            PendulumFamily.NAME, PendulumFamily::new,
            PointMassFamily.NAME, PointMassFamily::new);

    private TaskFamilies() {}

    /**
     * Returns the family registered under a name.
     *
     * @throws IllegalArgumentException for an unknown name; the message lists the known names
     */
    public static TaskFamily byName(String name) {
        Objects.requireNonNull(name, "task family name must not be null");
        Supplier<TaskFamily> family = FAMILIES.get(name);
        if (family == null) {
            throw new IllegalArgumentException("unknown task family '" + name + "'; use one of " + names());
        }
        return family.get();
    }

    /** The registered names, sorted. */
    public static List<String> names() {
        return FAMILIES.keySet().stream().sorted().toList();
    }
}
