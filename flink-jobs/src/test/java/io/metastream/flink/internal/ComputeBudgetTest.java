package io.metastream.flink.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import java.util.Map;

class ComputeBudgetTest {

    /** A learner whose every step takes 10 ms, offered a step every 1 ms of wall time for 60 s. */
    private static double busyShare(double limit) {
        long[] now = {0};
        ComputeBudget b = new ComputeBudget(limit, () -> now[0]);
        long busy = 0;
        while (now[0] < 60_000_000_000L) {
            if (b.allows()) {
                b.spent(10_000_000L);
                now[0] += 10_000_000L;
                busy += 10_000_000L;
            } else {
                now[0] += 1_000_000L; // the step is skipped: taking the input costs (next to) nothing
            }
        }
        return busy / (double) now[0];
    }

    @Test
    void anOverloadedLearnerComputesForItsShareOfWallTimeAndNoMore() {
        // the starting credit (a tenth of a second) adds next to nothing to the share over a minute
        assertThat(busyShare(0.5)).isBetween(0.49, 0.51);
        assertThat(busyShare(0.9)).isBetween(0.89, 0.91);
        assertThat(busyShare(1.0)).isEqualTo(1.0);
    }

    @Test
    void aLearnerThatKeepsUpIsNeverHeldBack() {
        long[] now = {0};
        ComputeBudget b = new ComputeBudget(0.5, () -> now[0]);
        for (int i = 0; i < 10_000; i++) { // 1 ms steps every 4 ms: a quarter of the time
            assertThat(b.allows()).isTrue();
            b.spent(1_000_000L);
            now[0] += 4_000_000L;
        }
    }

    @Test
    void idleTimeBuysAtMostTheBurst() {
        long[] now = {0};
        ComputeBudget b = new ComputeBudget(0.5, () -> now[0]);
        now[0] += 3_600_000_000_000L; // an hour idle
        int steps = 0;
        while (b.allows()) {
            b.spent(10_000_000L); // 10 ms steps back to back (no wall time passes in this test's clock)
            steps++;
        }
        assertThat(steps).isEqualTo((int) (ComputeBudget.BURST_NANOS / 10_000_000L));
    }

    @Test
    void anOverloadedLearnerNeverComputesForLongerThanTwiceTheBurstAtATime() {
        long[] now = {0};
        ComputeBudget b = new ComputeBudget(0.5, () -> now[0]);
        long run = 0;
        long longest = 0;
        for (int i = 0; i < 100_000; i++) {
            if (b.allows()) {
                b.spent(1_000_000L);
                now[0] += 1_000_000L;
                run += 1_000_000L;
                longest = Math.max(longest, run);
            } else {
                now[0] += 10_000L; // a skipped segment: 10 us
                run = 0;
            }
        }
        assertThat(longest).isLessThanOrEqualTo(2 * ComputeBudget.BURST_NANOS + 1_000_000L);
    }

    @Test
    void aLimitOutsideZeroToOneIsRefusedWithItsKey() {
        assertThatThrownBy(() -> ComputeBudget.from(Map.of(ComputeBudget.KEY, "0")))
                .hasMessageContaining(ComputeBudget.KEY).hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> ComputeBudget.from(Map.of(ComputeBudget.KEY, "1.5"))).hasMessageContaining("1.5");
        assertThatThrownBy(() -> ComputeBudget.from(Map.of(ComputeBudget.KEY, "lots"))).hasMessageContaining("'lots'");
        assertThat(ComputeBudget.from(Map.of()).limit()).isEqualTo(ComputeBudget.DEFAULT_LIMIT);
    }
}
