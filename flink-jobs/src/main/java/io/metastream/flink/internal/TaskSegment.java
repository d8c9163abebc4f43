package io.metastream.flink.internal;

/**
 * The unit the task operator sends the meta-learner: the last M+K transitions of one task, flattened
 * row-major. A Flink POJO. {@code thetaVersion} is the model version the task operator held when it
 * cut the segment; {@code oldestPolicyVersion} is the oldest version any agent acted with inside it
 * (-1 when some step was acted without a model), which the learner uses to bound staleness.
 */
public class TaskSegment {
    public String taskId;
    public long thetaVersion;
    public long oldestPolicyVersion;
    public int length;
    public int obsDim;
    public int actDim;
    public double[] obs;
    public double[] act;
    public double[] nextObs;

    public TaskSegment() {}

    /** Unflattens into rows of {@code width}. */
    static double[][] rows(double[] flat, int length, int width) {
        if (flat.length != length * width) {
            throw new IllegalArgumentException(
                    "segment array has " + flat.length + " values, expected " + length + "x" + width);
        }
        double[][] r = new double[length][width];
        for (int i = 0; i < length; i++) {
            System.arraycopy(flat, i * width, r[i], 0, width);
        }
        return r;
    }

    public double[][] obsRows() {
        return rows(obs, length, obsDim);
    }

    public double[][] actRows() {
        return rows(act, length, actDim);
    }

    public double[][] nextObsRows() {
        return rows(nextObs, length, obsDim);
    }

    @Override
    public String toString() {
        return "TaskSegment{" + taskId + ", theta v" + thetaVersion + ", " + length + " steps}";
    }
}
