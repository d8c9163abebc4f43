package io.metastream.flink.internal;

import java.nio.charset.StandardCharsets;

/**
 * Seeds derived from configuration, a key and keyed state only, never from a subtask index, a metric or
 * arrival order across keys: a task's random draws are then the same after a restore or a rescale.
 */
public final class KeyedSeeds {
    private KeyedSeeds() {}

    /** A well-mixed seed for draw number {@code counter} of key {@code key} under the configured {@code seed}. */
    public static long of(long seed, String key, long counter) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ (b & 0xFF));
        }
        return mix(h ^ mix(counter + 0x632BE59BD9B4E019L));
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
