package io.metastream.core.internal;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Small ND4J helpers: zero-copy views over flat buffers, argument checks and finiteness tests.
 *
 * <p>Stateless and thread-safe. Views share storage with their source; writing through a view
 * writes the source.
 */
public final class NdArrays {

    private NdArrays() {}

    /**
     * A row-major {@code [rows, cols]} view of {@code flat} starting {@code offset} elements after
     * the first element of {@code flat}. {@code flat} must be contiguous (see {@link #contiguous}).
     * The view is itself contiguous, so it can be the output of {@code Nd4j.gemm}.
     */
    public static INDArray view(INDArray flat, long offset, long rows, long cols) {
        return Nd4j.create(flat.data(), new long[] {rows, cols}, new long[] {cols, 1}, flat.offset() + offset, 'c');
    }

    /**
     * A view of the first {@code cols} columns of the row-major matrix {@code m} (strided, so it is
     * not contiguous unless {@code cols == m.columns()}).
     */
    public static INDArray leadingColumns(INDArray m, long cols) {
        return Nd4j.create(m.data(), new long[] {m.rows(), cols}, new long[] {m.stride(0), 1}, m.offset(), 'c');
    }

    /** A view of {@code count} columns of the row-major matrix {@code m}, starting at column {@code from}. */
    public static INDArray columns(INDArray m, long from, long count) {
        return Nd4j.create(m.data(), new long[] {m.rows(), count}, new long[] {m.stride(0), 1}, m.offset() + from, 'c');
    }

    /**
     * Returns {@code a} when its elements are laid out contiguously in row-major order (so that
     * {@link #view} may be used on it), otherwise a contiguous copy.
     */
    public static INDArray contiguous(INDArray a) {
        boolean rowVectorLike = a.rank() <= 2 && a.size(0) == 1 || a.rank() == 1;
        if (a.elementWiseStride() == 1 && (a.ordering() == 'c' || rowVectorLike)) {
            return a;
        }
        return a.dup('c');
    }

    /**
     * Checks that {@code a} is a non-null DOUBLE array with {@code length} elements.
     *
     * @throws IllegalArgumentException naming {@code what} and saying how to fix the call
     */
    public static void requireDoubleLength(INDArray a, long length, String what) {
        if (a == null) {
            throw new IllegalArgumentException(what + " is null; pass a DOUBLE array with " + length + " elements");
        }
        if (a.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException(what + " has data type " + a.dataType()
                    + "; metastream-core computes in float64: pass a.castTo(DataType.DOUBLE)");
        }
        if (a.length() != length) {
            throw new IllegalArgumentException(what + " has " + a.length() + " elements (shape "
                    + java.util.Arrays.toString(a.shape()) + ") but " + length + " are required");
        }
    }

    /**
     * Checks that {@code a} is a non-null DOUBLE matrix {@code [rows, cols]}; {@code rows < 0}
     * accepts any number of rows (at least one).
     *
     * @return the number of rows
     */
    public static int requireDoubleMatrix(INDArray a, long rows, long cols, String what) {
        if (a == null) {
            throw new IllegalArgumentException(what + " is null; pass a DOUBLE matrix with " + cols + " columns");
        }
        if (a.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException(what + " has data type " + a.dataType()
                    + "; metastream-core computes in float64: pass a.castTo(DataType.DOUBLE)");
        }
        if (a.rank() != 2 || a.columns() != cols || (rows >= 0 && a.rows() != rows) || a.rows() < 1) {
            throw new IllegalArgumentException(what + " has shape " + java.util.Arrays.toString(a.shape())
                    + " but [" + (rows >= 0 ? String.valueOf(rows) : "n>=1") + ", " + cols + "] is required");
        }
        return a.rows();
    }

    /**
     * True when every element of {@code a} is finite. Uses one reduction: a sum is NaN or infinite
     * whenever any element is (or when finite elements overflow, which we also treat as failure).
     */
    public static boolean allFinite(INDArray a) {
        return Double.isFinite(a.sumNumber().doubleValue());
    }

    /** A new DOUBLE row vector {@code [1, values.length]} holding a copy of {@code values}. */
    public static INDArray row(double[] values) {
        return Nd4j.create(values, new long[] {1, values.length}, DataType.DOUBLE);
    }

    /** A new DOUBLE matrix {@code [rows, cols]} holding a copy of the row-major {@code values}. */
    public static INDArray matrix(double[] values, int rows, int cols) {
        if ((long) rows * cols != values.length) {
            throw new IllegalArgumentException("values has " + values.length + " elements, not " + rows + "x" + cols);
        }
        return Nd4j.create(values, new long[] {rows, cols}, DataType.DOUBLE);
    }

    /** Row-major copy of all elements of {@code a} into a new Java array. */
    public static double[] toFlatArray(INDArray a) {
        // A view's data() buffer has its own offset semantics; only read it directly when the array
        // is exactly its whole buffer, otherwise copy into a fresh contiguous array first.
        boolean whole = a.offset() == 0 && a.elementWiseStride() == 1 && a.data().length() == a.length()
                && (a.ordering() == 'c' || a.rank() == 1 || a.size(0) == 1);
        INDArray c = whole ? a : a.dup('c');
        return c.data().asDouble();
    }
}
