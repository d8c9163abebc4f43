package io.metastream.sim;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.SplittableRandom;

/**
 * Shared task-set generation: one root stream per seed, split into a training and a held-out stream,
 * so the two sets are independent draws and extending one never shifts the other.
 */
abstract class AbstractTaskFamily extends BaseTaskFamily {

    /** Draws the parameters of one task from the family's distribution. */
    abstract SortedMap<String, Double> sampleParams(SplittableRandom rng);

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
    static double requirePositive(TaskSpec task, String param) {
        double v = task.param(param);
        if (!(v > 0)) {
            throw new IllegalArgumentException("parameter '" + param + "' of task '" + task.id() + "' is " + v
                    + "; it must be > 0");
        }
        return v;
    }

    /** Returns a parameter that must be zero or positive (a friction, a gain). */
    static double requireNonNegative(TaskSpec task, String param) {
        double v = task.param(param);
        if (!(v >= 0)) {
            throw new IllegalArgumentException("parameter '" + param + "' of task '" + task.id() + "' is " + v
                    + "; it must be >= 0");
        }
        return v;
    }
}
