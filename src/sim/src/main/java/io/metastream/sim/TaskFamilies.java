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
 *   <li>{@code "point-robot"}: PEARL's dense point robot (reference METARL.md §3.1); task parameters
 *       {@code goalX}, {@code goalY}: the 100 published goals, 80 train and 20 held-out, independent of
 *       the seed. Observation the position (x, y), policy action in [−1, 1]² mapped to a displacement
 *       in [−0.1, 0.1]², reward −‖s − g‖, horizon 20.</li>
 *   <li>{@code "sparse-point-robot"}: PEARL's sparse point robot (§3.2); as {@code point-robot} but
 *       starting at the origin, with goals on the upper unit half circle in the published order and a
 *       sparse reward (within 0.2 of the goal) alongside the dense one.</li>
 *   <li>{@code "point-vel"}: a 1-D mass with friction and drag that must run at the task's
 *       {@code targetVelocity} in [0, 3] (the cheetah-vel idea); observation (v), action force in
 *       [−1, 1], reward −|v − v*| − 0.05a², horizon 200.</li>
 *
 *   <li>{@code "arm"}: a planar two-link arm (no gravity) holding the configuration (π/2, −π/2); link
 *       masses, lengths, joint damping and motor gains vary, half the tasks have one crippled joint
 *       (gain in [0.1, 0.4]) and each motor is reversed in a quarter of the tasks. Observation (cos q1, sin q1, cos q2, sin q2, q̇1, q̇2), action in [−1, 1]²,
 *       horizon 100. Specification: {@code ArmFamily}.</li>
 *   <li>{@code "spring-chain"}: three masses joined by springs and dampers to a wall and each other, motors
 *       on the first and last mass (gains varied, sometimes reversed), the last mass held at x = 1; masses,
 *       stiffness and damping vary. Observation (x1, x2, x3, v1, v2, v3), action in [−1, 1]², horizon 100.
 *       Specification: {@code SpringChainFamily}.</li>
 * </ul>
 *
 * <p>The point-robot and point-vel families reward a task-specific goal or target, so their batched reward is per task:
 * {@link TaskFamily#reward(TaskSpec)}.
 */
public final class TaskFamilies {

    private static final Map<String, Supplier<TaskFamily>> FAMILIES = Map.of(
            ArmFamily.NAME, ArmFamily::new,
            SpringChainFamily.NAME, SpringChainFamily::new,
            PendulumFamily.NAME, PendulumFamily::new,
            PointMassFamily.NAME, PointMassFamily::new,
            PointRobotFamily.DENSE_NAME, PointRobotFamily::dense,
            PointRobotFamily.SPARSE_NAME, PointRobotFamily::sparse,
            PointVelFamily.NAME, PointVelFamily::new);

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
