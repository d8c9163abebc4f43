package io.metastream.core.pearl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Time of one {@link PearlLearner#step} at the reference sizes (point robot: obs 2, act 2; latent 5;
 * encoder 3×200; policy and critics 3×300; batch 256, context 100, meta-batch 16). Tagged slow;
 * run with {@code mvn -o -pl src/core test -Pslow -Dtest=PearlStepTimingTest} and read
 * {@code target/surefire-reports/*PearlStepTimingTest-output.txt}.
 */
@Tag("slow")
class PearlStepTimingTest {

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    @Test
    void reportsTheTimeOfOneReferenceSizedStep() {
        PearlConfig cfg = PearlConfig.builder().obsDim(2).actDim(2).build();
        PearlLearner learner = new PearlLearner(cfg);
        List<TaskBatch> batch = PearlLearnerTest.metaBatch(cfg, 1);
        for (int i = 0; i < 3; i++) {
            learner.step(batch);
        }
        int reps = 10;
        double[] wall = new double[reps];
        double[] cpu = new double[reps];
        for (int i = 0; i < reps; i++) {
            long c0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            assertThat(learner.step(batch).accepted()).isTrue();
            wall[i] = (System.nanoTime() - t0) / 1e6;
            cpu[i] = (THREADS.getCurrentThreadCpuTime() - c0) / 1e6;
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        System.out.printf("OMP_NUM_THREADS=%s; PearlLearner.step (3x300 nets, encoder 3x200, batch 256, context 100, "
                + "meta-batch 16): median wall %.1f ms (min %.1f, max %.1f), median thread CPU %.1f ms; %.2f steps/s%n",
                System.getenv("OMP_NUM_THREADS"), wall[reps / 2], wall[0], wall[reps - 1], cpu[reps / 2], 1000 / wall[reps / 2]);
    }
}
