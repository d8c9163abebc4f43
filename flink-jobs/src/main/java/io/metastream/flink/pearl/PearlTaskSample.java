package io.metastream.flink.pearl;

import io.metastream.core.pearl.TaskBatch;
import io.metastream.core.pearl.TaskSampler;

/**
 * What the PEARL task operator sends the meta-learner for one task: a context batch (rows
 * {@code (s, a, r, s')} from the task's fresh exploration window) and an RL batch (rows
 * {@code (s, a, r, s', done)} from the task's replay shard), both flattened row-major. A Flink POJO.
 * {@code createdAtMillis} lets the learner skip gradient steps on samples that waited too long.
 */
public class PearlTaskSample {
    public String taskId;
    public long createdAtMillis;
    public long modelVersion;
    public int obsDim;
    public int actDim;
    public int contextRows;
    public int batchRows;
    public double[] context;
    public double[] batch;

    public PearlTaskSample() {}

    /** Flattens a task batch drawn by {@code TaskSampler}. */
    static PearlTaskSample of(String taskId, long modelVersion, long createdAtMillis, int obsDim, int actDim,
            double[][] contextRows, double[][] replayRows) {
        PearlTaskSample s = new PearlTaskSample();
        s.taskId = taskId;
        s.modelVersion = modelVersion;
        s.createdAtMillis = createdAtMillis;
        s.obsDim = obsDim;
        s.actDim = actDim;
        s.contextRows = contextRows.length;
        s.batchRows = replayRows.length;
        s.context = flatten(contextRows);
        s.batch = flatten(replayRows);
        return s;
    }

    private static double[] flatten(double[][] rows) {
        int w = rows.length == 0 ? 0 : rows[0].length;
        double[] flat = new double[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * w, w);
        }
        return flat;
    }

    /**
     * The learner's view.
     *
     * @throws IllegalArgumentException when the arrays do not match the declared sizes
     */
    public TaskBatch toTaskBatch() {
        if (context == null || batch == null || taskId == null) {
            throw new IllegalArgumentException("sample of task " + taskId + " lacks its task id, context or batch array");
        }
        int cw = TaskSampler.contextWidth(obsDim, actDim, false);
        if (contextRows > 0 && context.length == contextRows * TaskSampler.contextWidth(obsDim, actDim, true)) {
            cw = TaskSampler.contextWidth(obsDim, actDim, true); // rows with the previous reward
        }
        return TaskSampler.batch(rows(context, contextRows, cw),
                rows(batch, batchRows, TaskSampler.replayWidth(obsDim, actDim)), obsDim, actDim);
    }

    private static double[][] rows(double[] flat, int length, int width) {
        if (flat.length != length * width) {
            throw new IllegalArgumentException("sample array has " + flat.length + " values, expected " + length + "x" + width);
        }
        double[][] r = new double[length][width];
        for (int i = 0; i < length; i++) {
            System.arraycopy(flat, i * width, r[i], 0, width);
        }
        return r;
    }

    @Override
    public String toString() {
        return "PearlTaskSample{" + taskId + ", v" + modelVersion + ", " + contextRows + " context, " + batchRows + " RL rows}";
    }
}
