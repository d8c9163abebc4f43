package io.metastream.sim;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.SplittableRandom;

/**
 * The base class of a family whose tasks are drawn from a distribution of parameters (a mass, a
 * length, a goal): extend it for your own simulator or robot. It generates the task sets: one root
 * stream per seed, split into a training and a held-out stream, so the two sets are independent draws,
 * extending one never shifts the other, and no held-out task shares its parameters with a training task.
 *
 * <p>A subclass gives its sizes, bounds and horizon ({@link TaskFamily}), {@link #sampleParams} (one
 * task's parameters), {@link #validate} (the check {@link AbstractEnvironment} runs on every task
 * change), {@link #create} (usually {@code new MyEnv(this, task, seed)}, an {@link AbstractEnvironment})
 * and {@link #reward()} (the batched reward MPC plans with). Its {@link #name()} needs no registration:
 * hand the family object to {@code Fleet.builder().family(...)}; {@link TaskFamilies} lists only the
 * built-in ones. See the README's "Your own simulator or robot".
 */
public abstract class AbstractTaskFamily extends BaseTaskFamily {

    /** Draws the parameters of one task from the family's distribution (keys are the parameter names). */
    protected abstract SortedMap<String, Double> sampleParams(SplittableRandom rng);

    @Override
    public final List<TaskSpec> trainTasks(int n, long seed) {
        return disjointSets(n, seed).get(0);
    }

    @Override
    public final List<TaskSpec> heldOutTasks(int n, long seed) {
        return disjointSets(n, seed).get(1);
    }

    private List<List<TaskSpec>> disjointSets(int n, long seed) {
        if (n < 0) {
            throw new IllegalArgumentException("number of tasks must be >= 0, got " + n);
        }
        SplittableRandom root = new SplittableRandom(seed);
        SplittableRandom trainRng = root.split();
        SplittableRandom testRng = root.split();
        List<TaskSpec> train = draw(trainRng, "train", n);
        List<TaskSpec> test = draw(testRng, "test", n);
        Set<SortedMap<String, Double>> trainParams = new HashSet<>();
        train.forEach(t -> trainParams.add(t.params()));
        for (TaskSpec t : test) {
            if (trainParams.contains(t.params())) {
                throw new IllegalStateException("held-out task " + t.id() + " has the same parameters as a training task "
                        + "for seed " + seed + "; use another seed");
            }
        }
        return List.of(train, test);
    }

    private List<TaskSpec> draw(SplittableRandom rng, String split, int n) {
        List<TaskSpec> tasks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            tasks.add(new TaskSpec(name() + "-" + split + "-" + i, sampleParams(rng)));
        }
        return List.copyOf(tasks);
    }

    /** Returns a parameter that must be strictly positive (a mass, a length). */
    protected static double requirePositive(TaskSpec task, String param) {
        double v = task.param(param);
        if (!(v > 0)) {
            throw new IllegalArgumentException("parameter '" + param + "' of task '" + task.id() + "' is " + v
                    + "; it must be > 0");
        }
        return v;
    }

    /** Returns a parameter that must be zero or positive (a friction, a gain). */
    protected static double requireNonNegative(TaskSpec task, String param) {
        double v = task.param(param);
        if (!(v >= 0)) {
            throw new IllegalArgumentException("parameter '" + param + "' of task '" + task.id() + "' is " + v
                    + "; it must be >= 0");
        }
        return v;
    }
}
