package io.metastream.flink.grbal;

import io.metastream.core.grbal.Segment;

/**
 * The unit the GrBAL task operator sends the meta-learner: M+K consecutive transitions of one task,
 * flattened row-major once (they reach the learner's {@link Segment} without being unflattened). A Flink POJO. {@code thetaVersion} is the model version the task operator held when it
 * cut the segment; {@code oldestPolicyVersion} is the oldest version any agent acted with inside it
 * (-1 when some step was acted without a model), which the learner uses to bound staleness.
 */
public class GrbalSegment {
    public String taskId;
    public long thetaVersion;
    public long oldestPolicyVersion;
    public int length;
    public int obsDim;
    public int actDim;
    public double[] obs;
    public double[] act;
    public double[] nextObs;

    public GrbalSegment() {}

    /** The core segment: the flat arrays, validated and copied once. */
    public Segment toSegment() {
        return Segment.ofFlat(length, obsDim, actDim, obs, act, nextObs);
    }

    @Override
    public String toString() {
        return "GrbalSegment{" + taskId + ", theta v" + thetaVersion + ", " + length + " steps}";
    }
}
