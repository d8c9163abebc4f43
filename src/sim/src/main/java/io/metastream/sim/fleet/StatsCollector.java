package io.metastream.sim.fleet;

import java.util.ArrayDeque;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's counters. Written by the loop thread (steps, episodes) and by the producer's I/O thread
 * (acknowledgements, errors); read by any thread through {@link #snapshot(long)}.
 */
final class StatsCollector {

    private static final Logger LOG = LoggerFactory.getLogger(StatsCollector.class);
    /** After the first failure, one in this many further failures is logged, with the running count. */
    private static final long ERROR_LOG_EVERY = 1000;

    private final int returnWindow;
    private final AtomicLong produced = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong episodes = new AtomicLong();
    private final AtomicLong randomSteps = new AtomicLong();
    private final ArrayDeque<Double> recentReturns = new ArrayDeque<>();
    private final TreeMap<Long, Long> plannedByVersion = new TreeMap<>();
    /** Time of the first step (System.nanoTime), 0 before it. */
    private volatile long firstStepNanos;
    /** (nanoTime, produced) samples at most one per second, for the recent rate; guarded by itself. */
    private final ArrayDeque<long[]> rateSamples = new ArrayDeque<>();
    /** Seconds the recent rate looks back. */
    static final int RATE_WINDOW_SECONDS = 10;
    private final Callback callback = (metadata, exception) -> {
        if (exception == null) {
            sent.incrementAndGet();
        } else {
            long n = errors.incrementAndGet();
            if (n == 1 || n % ERROR_LOG_EVERY == 0) {
                LOG.warn("Sending a transition failed ({} failures so far); check the brokers, the topic "
                        + "and the producer's security settings", n, exception);
            }
        }
    };

    StatsCollector(int returnWindow) {
        this.returnWindow = returnWindow;
    }

    /** Callback counting acknowledgements and failures; pass it with every send. */
    Callback sendCallback() {
        return callback;
    }

    void onStep(Agent.StepOutcome outcome) {
        long n = produced.incrementAndGet();
        long now = System.nanoTime();
        if (firstStepNanos == 0) {
            firstStepNanos = now;
        }
        synchronized (rateSamples) {
            long[] last = rateSamples.peekLast();
            if (last == null || now - last[0] >= 1_000_000_000L) {
                rateSamples.addLast(new long[] {now, n});
                if (rateSamples.size() > RATE_WINDOW_SECONDS + 1) {
                    rateSamples.removeFirst();
                }
            }
        }
        if (outcome.planned()) {
            synchronized (plannedByVersion) {
                plannedByVersion.merge(outcome.transition().getPolicyVersion(), 1L, Long::sum);
            }
        } else {
            randomSteps.incrementAndGet();
        }
        if (outcome.transition().getDone()) {
            synchronized (recentReturns) {
                recentReturns.addLast(outcome.episodeReturn());
                if (recentReturns.size() > returnWindow) {
                    recentReturns.removeFirst();
                }
            }
            episodes.incrementAndGet();
        }
    }

    FleetStats snapshot(long deadLetters) {
        double meanReturn;
        synchronized (recentReturns) {
            meanReturn = recentReturns.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }
        SortedMap<Long, Long> planned;
        synchronized (plannedByVersion) {
            planned = new TreeMap<>(plannedByVersion);
        }
        long n = produced.get();
        long now = System.nanoTime();
        long first = firstStepNanos;
        double seconds = first == 0 ? 0.0 : (now - first) / 1e9;
        double recent = Double.NaN;
        synchronized (rateSamples) {
            long[] oldest = rateSamples.peekFirst();
            if (oldest != null && now - oldest[0] >= 1_000_000_000L) {
                recent = (n - oldest[1]) / ((now - oldest[0]) / 1e9);
            }
        }
        return new FleetStats(n, sent.get(), errors.get(), episodes.get(), meanReturn,
                randomSteps.get(), planned, deadLetters, seconds, recent);
    }
}
