package io.metastream.core.grbal;

import io.metastream.core.internal.ByteReader;
import io.metastream.core.internal.ByteWriter;
import io.metastream.core.internal.NdArrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Running per-dimension mean and standard deviation (Welford's algorithm) of the dynamics model's
 * inputs {@code x = [obs || act]} and targets {@code y = nextObs − obs}, and the maps between raw
 * and normalised space: {@code (v − mean) / std}. The standard deviation is the sample standard
 * deviation, floored at {@value #STD_FLOOR}; with fewer than two samples it is taken as 1.
 *
 * <h2>Lifecycle</h2>
 * {@link #update} while collecting statistics, then {@link #freeze()}; a frozen normalizer rejects
 * updates, so models trained in its normalised space keep their meaning.
 *
 * <h2>Threading</h2>
 * Not thread-safe while it is updated; owned by one writer (the meta-learner). A frozen normalizer
 * is immutable and may be shared between threads once safely published (e.g. through a final field
 * of {@link DynamicsModel}).
 */
public final class Normalizer {

    /** Smallest standard deviation used for scaling, so constant dimensions do not divide by zero. */
    public static final double STD_FLOOR = 1e-6;
    static final int FORMAT_VERSION = 1;
    private static final String FORMAT = "Normalizer state";

    private final int obsDim;
    private final int actDim;
    private long count;
    private final double[] meanX;
    private final double[] m2X;
    private final double[] meanY;
    private final double[] m2Y;
    private boolean frozen;

    /**
     * An empty normalizer (mean 0, std 1 until two samples are seen).
     *
     * @param obsDim observation dimension, positive
     * @param actDim action dimension, positive
     */
    public Normalizer(int obsDim, int actDim) {
        this(obsDim, actDim, 0, new double[obsDim + actDim], new double[obsDim + actDim], new double[obsDim],
                new double[obsDim], false);
    }

    private Normalizer(int obsDim, int actDim, long count, double[] meanX, double[] m2X, double[] meanY, double[] m2Y,
            boolean frozen) {
        if (obsDim <= 0 || actDim <= 0) {
            throw new IllegalArgumentException("obsDim and actDim must be positive, got " + obsDim + " and " + actDim);
        }
        if (count < 0) {
            throw new IllegalArgumentException("count is " + count + " but cannot be negative");
        }
        this.obsDim = obsDim;
        this.actDim = actDim;
        this.count = count;
        this.meanX = meanX;
        this.m2X = m2X;
        this.meanY = meanY;
        this.m2Y = m2Y;
        this.frozen = frozen;
    }

    public int obsDim() {
        return obsDim;
    }

    public int actDim() {
        return actDim;
    }

    /** Number of transitions folded into the statistics. */
    public long count() {
        return count;
    }

    public boolean frozen() {
        return frozen;
    }

    /** Stops updates for good. Idempotent. */
    public void freeze() {
        frozen = true;
    }

    /**
     * Folds every transition of {@code s} into the statistics.
     *
     * @throws IllegalStateException when frozen
     * @throws IllegalArgumentException when the segment's dimensions differ from this normalizer's
     */
    public void update(Segment s) {
        if (frozen) {
            throw new IllegalStateException("normalizer is frozen; update it only before freeze(), or use copy() "
                    + "of an unfrozen normalizer");
        }
        checkDims(s);
        double[] o = s.obsFlat();
        double[] a = s.actFlat();
        double[] no = s.nextObsFlat();
        int in = obsDim + actDim;
        for (int t = 0; t < s.length(); t++) {
            count++;
            for (int j = 0; j < in; j++) {
                double v = j < obsDim ? o[t * obsDim + j] : a[t * actDim + j - obsDim];
                double d = v - meanX[j];
                meanX[j] += d / count;
                m2X[j] += d * (v - meanX[j]);
            }
            for (int j = 0; j < obsDim; j++) {
                double v = no[t * obsDim + j] - o[t * obsDim + j];
                double d = v - meanY[j];
                meanY[j] += d / count;
                m2Y[j] += d * (v - meanY[j]);
            }
        }
    }

    private void checkDims(Segment s) {
        if (s == null) {
            throw new IllegalArgumentException("segment is null");
        }
        if (s.obsDim() != obsDim || s.actDim() != actDim) {
            throw new IllegalArgumentException("segment has obsDim " + s.obsDim() + " and actDim " + s.actDim()
                    + " but this normalizer was built for obsDim " + obsDim + " and actDim " + actDim);
        }
    }

    private double std(double m2) {
        if (count < 2) {
            return 1.0;
        }
        return Math.max(Math.sqrt(m2 / (count - 1)), STD_FLOOR);
    }

    /** Per-dimension mean of {@code x = [obs || act]} (a copy). */
    public double[] inputMean() {
        return meanX.clone();
    }

    /** Per-dimension scale of {@code x} used for normalisation. */
    public double[] inputStd() {
        double[] s = new double[meanX.length];
        for (int j = 0; j < s.length; j++) {
            s[j] = std(m2X[j]);
        }
        return s;
    }

    /** Per-dimension mean of {@code y = nextObs − obs} (a copy). */
    public double[] targetMean() {
        return meanY.clone();
    }

    /** Per-dimension scale of {@code y} used for normalisation. */
    public double[] targetStd() {
        double[] s = new double[meanY.length];
        for (int j = 0; j < s.length; j++) {
            s[j] = std(m2Y[j]);
        }
        return s;
    }

    /** Normalised inputs {@code [length, obsDim + actDim]} of a segment. */
    public INDArray inputs(Segment s) {
        return NdArrays.matrix(inputArray(s), s.length(), obsDim + actDim);
    }

    /** {@link #inputs(Segment)} as a flat row-major array. */
    public double[] inputArray(Segment s) {
        checkDims(s);
        return normalizeInputs(s.obsFlat(), s.actFlat(), s.length());
    }

    /** {@link #targets(Segment)} as a flat row-major array. */
    public double[] targetArray(Segment s) {
        return NdArrays.toFlatArray(targets(s));
    }

    /** Normalised targets {@code [length, obsDim]} of a segment. */
    public INDArray targets(Segment s) {
        checkDims(s);
        int n = s.length();
        double[] o = s.obsFlat();
        double[] no = s.nextObsFlat();
        double[] sd = targetStd();
        double[] out = new double[n * obsDim];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < obsDim; j++) {
                int i = t * obsDim + j;
                out[i] = (no[i] - o[i] - meanY[j]) / sd[j];
            }
        }
        return NdArrays.matrix(out, n, obsDim);
    }

    /** Normalised inputs {@code [n, obsDim + actDim]} for batches {@code obs [n, obsDim]}, {@code act [n, actDim]}. */
    public INDArray inputs(INDArray obs, INDArray act) {
        int n = NdArrays.requireDoubleMatrix(obs, -1, obsDim, "obs");
        NdArrays.requireDoubleMatrix(act, n, actDim, "act");
        return NdArrays.matrix(normalizeInputs(NdArrays.toFlatArray(obs), NdArrays.toFlatArray(act), n), n, obsDim + actDim);
    }

    private double[] normalizeInputs(double[] o, double[] a, int n) {
        int in = obsDim + actDim;
        double[] sd = inputStd();
        double[] out = new double[n * in];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < obsDim; j++) {
                out[t * in + j] = (o[t * obsDim + j] - meanX[j]) / sd[j];
            }
            for (int j = 0; j < actDim; j++) {
                out[t * in + obsDim + j] = (a[t * actDim + j] - meanX[obsDim + j]) / sd[obsDim + j];
            }
        }
        return out;
    }

    /** Maps normalised deltas {@code [n, obsDim]} back to raw {@code nextObs − obs}; returns a new array. */
    public INDArray denormalizeDelta(INDArray yNorm) {
        NdArrays.requireDoubleMatrix(yNorm, -1, obsDim, "yNorm");
        return yNorm.mulRowVector(NdArrays.row(targetStd())).addiRowVector(NdArrays.row(meanY));
    }

    /** An independent copy with the same statistics and frozen flag. */
    public Normalizer copy() {
        return new Normalizer(obsDim, actDim, count, meanX.clone(), m2X.clone(), meanY.clone(), m2Y.clone(), frozen);
    }

    /** A frozen copy, or this instance when it is already frozen (frozen normalizers are immutable). */
    public Normalizer frozenCopy() {
        if (frozen) {
            return this;
        }
        Normalizer c = copy();
        c.freeze();
        return c;
    }

    /**
     * Serialises the statistics. Format (little-endian): int format version (1), int obsDim, int
     * actDim, long count, byte frozen, then meanX, m2X, meanY, m2Y each as int length + doubles.
     */
    public byte[] toBytes() {
        return new ByteWriter(64 + 8 * (3 * obsDim + 2 * actDim) * 2)
                .putInt(FORMAT_VERSION)
                .putInt(obsDim)
                .putInt(actDim)
                .putLong(count)
                .putBoolean(frozen)
                .putDoubles(meanX)
                .putDoubles(m2X)
                .putDoubles(meanY)
                .putDoubles(m2Y)
                .toByteArray();
    }

    /**
     * Restores a normalizer written by {@link #toBytes()}.
     *
     * @throws IllegalArgumentException on an unknown format version, truncation or inconsistent sizes
     */
    public static Normalizer fromBytes(byte[] bytes) {
        ByteReader r = new ByteReader(bytes, FORMAT);
        r.readVersion(FORMAT_VERSION);
        int obsDim = r.readCount("obsDim", 1 << 20);
        int actDim = r.readCount("actDim", 1 << 20);
        long count = r.readLong("count");
        boolean frozen = r.readBoolean("frozen");
        double[] meanX = r.readDoubles("input mean", obsDim + actDim);
        double[] m2X = r.readDoubles("input M2", obsDim + actDim);
        double[] meanY = r.readDoubles("target mean", obsDim);
        double[] m2Y = r.readDoubles("target M2", obsDim);
        r.expectEnd();
        return new Normalizer(obsDim, actDim, count, meanX, m2X, meanY, m2Y, frozen);
    }

    @Override
    public String toString() {
        return "Normalizer[obsDim=" + obsDim + ", actDim=" + actDim + ", count=" + count + ", frozen=" + frozen + "]";
    }
}
