package io.metastream.sim.fleet;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Rate limiter for the fleet loop: refills {@code rate} tokens per second up to a burst of 100 ms worth
 * (at least one token); each transition takes one. Used by one thread only.
 */
final class TokenBucket {

    /** Longest single sleep, so a stop request is noticed quickly. */
    static final long MAX_SLEEP_NANOS = 50_000_000L;

    /** Sleeps for a number of nanoseconds; abstracted so tests can advance a fake clock. */
    @FunctionalInterface
    interface Sleeper {
        void sleepNanos(long nanos) throws InterruptedException;
    }

    private final double ratePerNano;
    private final double capacity;
    private final LongSupplier nanoClock;
    private final Sleeper sleeper;
    private double tokens;
    private long lastRefill;

    TokenBucket(double ratePerSecond, LongSupplier nanoClock, Sleeper sleeper) {
        if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("rate must be a positive finite number, got " + ratePerSecond);
        }
        this.ratePerNano = ratePerSecond / 1e9;
        this.capacity = Math.max(1.0, ratePerSecond / 10);
        this.nanoClock = nanoClock;
        this.sleeper = sleeper;
        this.tokens = capacity;
        this.lastRefill = nanoClock.getAsLong();
    }

    static TokenBucket systemClock(double ratePerSecond) {
        return new TokenBucket(ratePerSecond, System::nanoTime,
                nanos -> Thread.sleep(nanos / 1_000_000L, (int) (nanos % 1_000_000L)));
    }

    /**
     * Takes one token, sleeping until one is available.
     *
     * @return false, without taking a token, if {@code stop} turned true or the thread was interrupted
     *     (the interrupt flag is then restored)
     */
    boolean acquire(BooleanSupplier stop) {
        while (true) {
            refill();
            if (tokens >= 1.0) {
                tokens -= 1.0;
                return true;
            }
            if (stop.getAsBoolean()) {
                return false;
            }
            long wait = (long) Math.ceil((1.0 - tokens) / ratePerNano);
            try {
                sleeper.sleepNanos(Math.max(1L, Math.min(wait, MAX_SLEEP_NANOS)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    private void refill() {
        long now = nanoClock.getAsLong();
        tokens = Math.min(capacity, tokens + (now - lastRefill) * ratePerNano);
        lastRefill = now;
    }
}
