package io.metastream.core.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.grbal.Grbal;
import io.metastream.core.grbal.GrbalConfig;
import io.metastream.core.grbal.Normalizer;
import io.metastream.core.mpc.BatchReward;
import io.metastream.core.mpc.MpcConfig;
import io.metastream.core.mpc.MpcPlanner;
import io.metastream.core.nn.Mlp;
import io.metastream.core.nn.MlpTape;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Timings of the hot paths, printed to the test output. Tagged slow (excluded by default); run with
 * {@code mvn -o -pl src/core test -Pslow -Dtest=PerformanceProbeTest} and read
 * {@code target/surefire-reports/*PerformanceProbeTest-output.txt}. Set OMP_NUM_THREADS=1 (surefire does).
 */
@Tag("slow")
class PerformanceProbeTest {

    private static INDArray randn(Random rng, int rows, int cols) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian();
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.DOUBLE);
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * Median per-call time in microseconds over repetitions: "wall" and this thread's CPU time.
     * On a shared 2-core machine the CPU time is the more stable figure (other processes inflate
     * wall time); both are printed.
     */
    private static String micros(Runnable r, double seconds) {
        long warmEnd = System.nanoTime() + (long) (0.3e9 * seconds);
        while (System.nanoTime() < warmEnd) {
            r.run();
        }
        int reps = 7;
        double[] wall = new double[reps];
        double[] cpu = new double[reps];
        for (int rep = 0; rep < reps; rep++) {
            int n = 0;
            long c0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9 / reps);
            while (System.nanoTime() < end) {
                r.run();
                n++;
            }
            wall[rep] = (System.nanoTime() - t0) / 1e3 / n;
            cpu[rep] = (THREADS.getCurrentThreadCpuTime() - c0) / 1e3 / n;
        }
        java.util.Arrays.sort(wall);
        java.util.Arrays.sort(cpu);
        return String.format("wall %.0f us (min %.0f), thread CPU %.0f us", wall[reps / 2], wall[0], cpu[reps / 2]);
    }

    @Test
    void reportsTimingsOfMetaGradientAndPlanning() {
        System.out.println("OMP_NUM_THREADS=" + System.getenv("OMP_NUM_THREADS"));
        Random rng = new Random(1);
        for (boolean firstOrder : new boolean[] {false, true}) {
            for (int steps : new int[] {1, 2}) {
                GrbalConfig cfg = GrbalConfig.builder().obsDim(3).actDim(1).hidden(64, 64).adaptWindow(16).predictWindow(16)
                        .innerSteps(steps).firstOrder(firstOrder).build();
                Grbal grbal = new Grbal(cfg);
                Mlp mlp = grbal.mlp();
                INDArray theta = mlp.initParams(rng);
                INDArray xa = randn(rng, 16, 4);
                INDArray ya = randn(rng, 16, 3);
                INDArray xe = randn(rng, 16, 4);
                INDArray ye = randn(rng, 16, 3);
                String us = micros(() -> grbal.metaGradient(theta, xa, ya, xe, ye), 3);
                System.out.printf("metaGradient %s innerSteps=%d firstOrder=%s: %s%n", mlp, steps, firstOrder, us);
            }
        }
        Mlp mlp = new Mlp(new int[] {4, 64, 64, 3}, io.metastream.core.nn.Activation.TANH);
        INDArray theta = mlp.initParams(rng);
        INDArray x = randn(rng, 16, 4);
        INDArray y = randn(rng, 16, 3);
        INDArray v = randn(rng, 1, mlp.numParams());
        System.out.printf("  loss: %s%n", micros(() -> mlp.loss(theta, x, y), 1));
        System.out.printf("  tape (fwd): %s%n", micros(() -> mlp.tape(theta, x, y), 1));
        System.out.printf("  lossAndGradient: %s%n", micros(() -> mlp.lossAndGradient(theta, x, y), 1));
        MlpTape tape = mlp.tape(theta, x, y);
        tape.gradient();
        System.out.printf("  hvp on existing tape: %s%n", micros(() -> tape.hessianVectorProduct(v), 1));
        System.out.printf("  hessianVectorProduct (full): %s%n", micros(() -> mlp.hessianVectorProduct(theta, x, y, v), 1));

        Normalizer norm = new Normalizer(3, 1);
        DynamicsModel model = new DynamicsModel(mlp, theta, norm);
        INDArray obs = randn(rng, 200, 3);
        INDArray act = randn(rng, 200, 1);
        System.out.printf("predictNext 200x: %s%n", micros(() -> model.predictNext(obs, act), 1));
        BatchReward up = (ob, ac, nx, from, rows, out) -> {
            for (int r = from; r < from + rows; r++) {
                out[r] = -nx[r * 3];
            }
        };
        for (MpcConfig.Method method : MpcConfig.Method.values()) {
            MpcPlanner planner = new MpcPlanner(MpcConfig.builder().method(method).horizon(15).candidates(64)
                    .actionBounds(1, -1, 1).build(), new Random(2));
            double[] o = {0.1, -0.2, 0.3};
            String us = micros(() -> planner.act(model.rollout(), up, o), 3);
            System.out.printf("MpcPlanner.act 64 candidates x horizon 15, %s, net %s: %s%n", method, mlp, us);
            // the timed calls must also have produced a usable action
            double[] a = planner.act(model.rollout(), up, o);
            assertThat(a).hasSize(1);
            assertThat(a[0]).isBetween(-1.0, 1.0);
        }
    }
}
