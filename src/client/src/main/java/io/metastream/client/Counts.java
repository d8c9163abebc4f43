package io.metastream.client;

/** The cadence of warnings about a growing count: the first, then at 10, 100, 1000, ... */
public final class Counts {
    private Counts() {}

    /** True for 1, 10, 100, ...: the counts at which a repeated problem is logged again. */
    public static boolean isPowerOfTen(long n) {
        if (n < 1) {
            return false;
        }
        while (n % 10 == 0) {
            n /= 10;
        }
        return n == 1;
    }
}
