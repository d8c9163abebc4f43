package io.metastream.core.pearl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The learner solves one easy control task end to end (encoder, critics, actor, temperature; z from
 * the posterior of the task's own context). A 2-D point starts at the origin and must reach the goal
 * {@code (0.5, −0.3)}: {@code s ← s + 0.1·a}, {@code a ∈ [−1, 1]²}, reward {@code −|s' − g|},
 * horizon 20, no terminal states. A uniformly random policy scores about −11.7; the best policy
 * about −1.1.
 */
class SacSanityTest {

    /** Test-only environment: the fixed-goal point. */
    static final class PointGoal {
        static final double[] GOAL = {0.5, -0.3};
        static final int HORIZON = 20;
        double[] s = new double[2];
        int t;

        double[] reset() {
            s = new double[2];
            t = 0;
            return s.clone();
        }

        /** Applies {@code a} (clipped to [−1, 1]) and returns the reward. */
        double step(double[] a) {
            for (int j = 0; j < 2; j++) {
                s[j] += 0.1 * Math.max(-1, Math.min(1, a[j]));
            }
            t++;
            return -Math.hypot(s[0] - GOAL[0], s[1] - GOAL[1]);
        }

        boolean timeUp() {
            return t >= HORIZON;
        }
    }

    interface Actor {
        double[] act(double[] obs);
    }

    static double averageReturn(Actor actor, int episodes) {
        double total = 0;
        PointGoal env = new PointGoal();
        for (int e = 0; e < episodes; e++) {
            double[] o = env.reset();
            while (!env.timeUp()) {
                double[] a = actor.act(o);
                total += env.step(a);
                o = env.s.clone();
            }
        }
        return total / episodes;
    }

    @Test
    void learnsToReachAFixedGoalFarBetterThanARandomPolicy() {
        PearlConfig cfg = PearlConfig.builder().obsDim(2).actDim(2).latentDim(1).encoderHidden(16).netHidden(32, 32)
                .gamma(0.9).tau(0.01).learningRate(1e-3).batchSize(128).contextSize(16).metaBatch(1).seed(3).build();
        PearlLearner learner = new PearlLearner(cfg);
        Random rng = new Random(4);
        List<double[]> replay = new ArrayList<>(); // rows (s, a, r, s')
        PointGoal env = new PointGoal();
        int randomSteps = 400;
        int totalSteps = 3000;
        PearlPolicy policy = learner.currentPolicy();
        double[] z = new double[1];
        double[] o = env.reset();
        long t0 = System.nanoTime();
        for (int step = 0; step < totalSteps; step++) {
            if (env.t == 0 && step >= randomSteps) {
                policy = learner.currentPolicy();
                z = policy.posterior(context(replay, cfg.contextSize(), rng)).sample(rng);
            }
            double[] a = step < randomSteps ? new double[] {2 * rng.nextDouble() - 1, 2 * rng.nextDouble() - 1}
                    : policy.act(o, z, rng, false);
            double r = env.step(a);
            double[] next = env.s.clone();
            replay.add(new double[] {o[0], o[1], a[0], a[1], r, next[0], next[1]});
            o = env.timeUp() ? env.reset() : next;
            if (step >= randomSteps) {
                learner.step(List.of(sample(replay, cfg.contextSize(), cfg.batchSize(), rng)));
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        PearlPolicy trained = learner.currentPolicy();
        double[] zEval = trained.posterior(context(replay, cfg.contextSize(), rng)).mean();
        double trainedReturn = averageReturn(obs -> trained.act(obs, zEval, null, true), 10);
        Random eval = new Random(5);
        double randomReturn = averageReturn(obs -> new double[] {2 * eval.nextDouble() - 1, 2 * eval.nextDouble() - 1}, 200);
        System.out.printf("SAC sanity: %d env steps, %d gradient steps in %.1f s; deterministic return %.2f, random %.2f,"
                + " alpha %.3f, rejected %d%n", totalSteps, learner.version(), seconds, trainedReturn, randomReturn,
                learner.alpha(), learner.rejectedSteps());
        assertThat(randomReturn).isBetween(-13.0, -10.0);
        assertThat(trainedReturn).isGreaterThan(randomReturn + 7.0).isGreaterThan(-3.5);
    }

    private static double[][] context(List<double[]> replay, int n, Random rng) {
        double[][] c = new double[n][];
        for (int i = 0; i < n; i++) {
            c[i] = replay.get(rng.nextInt(replay.size()));
        }
        return c;
    }

    private static TaskBatch sample(List<double[]> replay, int contextSize, int batchSize, Random rng) {
        double[][] obs = new double[batchSize][];
        double[][] act = new double[batchSize][];
        double[][] next = new double[batchSize][];
        double[] rew = new double[batchSize];
        for (int i = 0; i < batchSize; i++) {
            double[] row = replay.get(rng.nextInt(replay.size()));
            obs[i] = new double[] {row[0], row[1]};
            act[i] = new double[] {row[2], row[3]};
            rew[i] = row[4];
            next[i] = new double[] {row[5], row[6]};
        }
        return TaskBatch.of(context(replay, contextSize, rng), obs, act, rew, next, new double[batchSize]);
    }
}
