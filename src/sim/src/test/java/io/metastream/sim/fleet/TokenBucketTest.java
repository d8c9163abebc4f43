package io.metastream.sim.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final AtomicLong slept = new AtomicLong();

    private TokenBucket bucket(double rate) {
        return new TokenBucket(rate, now::get, nanos -> {
            slept.addAndGet(nanos);
            now.addAndGet(nanos);
        });
    }

    @Test
    void startsWithABurstOfATenthOfASecond() {
        TokenBucket bucket = bucket(100);
        for (int i = 0; i < 10; i++) {
            assertThat(bucket.acquire(() -> false)).isTrue();
        }
        assertThat(slept.get()).isZero();
        assertThat(bucket.acquire(() -> false)).isTrue();
        assertThat(slept.get()).isBetween(9_000_000L, 11_000_000L);
    }

    @Test
    void sustainedRateIsTheConfiguredRate() {
        TokenBucket bucket = bucket(50);
        long start = now.get();
        for (int i = 0; i < 505; i++) {
            bucket.acquire(() -> false);
        }
        // 5 burst tokens, then 500 at 50 per second
        assertThat(now.get() - start).isBetween(9_900_000_000L, 10_100_000_000L);
    }

    @Test
    void stopRequestEndsTheWaitWithoutAToken() {
        TokenBucket bucket = bucket(1);
        assertThat(bucket.acquire(() -> false)).isTrue();
        assertThat(bucket.acquire(() -> true)).isFalse();
    }

    @Test
    void rejectsANonPositiveRate() {
        assertThatThrownBy(() -> bucket(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
