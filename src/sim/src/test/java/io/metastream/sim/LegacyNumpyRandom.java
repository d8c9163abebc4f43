package io.metastream.sim;

/**
 * Test-only re-implementation of numpy's legacy {@code RandomState} stream for an integer seed
 * (MT19937 seeded by {@code init_genrand}), just enough to re-derive the PEARL goal lists independently
 * of the constants in {@link PearlGoals}: {@code uniform(low, high)} (53-bit doubles from two 32-bit
 * draws) and {@code shuffle} (Fisher–Yates from the end, indices by masked rejection sampling as
 * numpy's {@code random_interval}). Written from the published MT19937 algorithm. Not thread-safe.
 */
final class LegacyNumpyRandom {

    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    /** The 32-bit state words (Java's int arithmetic wraps modulo 2³², as the C code's uint32). */
    private final int[] mt = new int[N];
    private int index;

    /** The state after {@code np.random.seed(seed)} for 0 ≤ seed < 2³². */
    LegacyNumpyRandom(long seed) {
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
        index = N;
    }

    /** The next 32-bit output, as an unsigned value. */
    long nextUint32() {
        if (index >= N) {
            twist();
        }
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    private void twist() {
        for (int k = 0; k < N; k++) {
            int y = (mt[k] & UPPER_MASK) | (mt[(k + 1) % N] & LOWER_MASK);
            mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        }
        index = 0;
    }

    /** {@code random_sample()}: a double in [0, 1) with 53 random bits. */
    double nextDouble() {
        long a = nextUint32() >>> 5;
        long b = nextUint32() >>> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /** {@code uniform(low, high)}. */
    double uniform(double low, double high) {
        return low + (high - low) * nextDouble();
    }

    /** A uniform integer in [0, max] by rejection from the smallest all-ones mask covering max. */
    long interval(long max) {
        if (max == 0) {
            return 0;
        }
        long mask = max;
        mask |= mask >>> 1;
        mask |= mask >>> 2;
        mask |= mask >>> 4;
        mask |= mask >>> 8;
        mask |= mask >>> 16;
        long value;
        do {
            value = nextUint32() & mask;
        } while (value > max);
        return value;
    }

    /** {@code shuffle(x)} along the first axis (rows move whole, as for numpy's 2-D goal array). */
    <T> void shuffle(T[] x) {
        for (int i = x.length - 1; i > 0; i--) {
            int j = (int) interval(i);
            T tmp = x[i];
            x[i] = x[j];
            x[j] = tmp;
        }
    }
}
