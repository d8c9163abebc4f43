package io.metastream.client.grbal;

import io.metastream.client.ModelFormat;
import io.metastream.client.ModelVerifier;
import io.metastream.client.TaskModel;
import io.metastream.core.grbal.DynamicsModel;
import io.metastream.core.io.ModelBlob;
import io.metastream.schema.FastWeights;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * GrBAL's versions: a dynamics model ({@value ModelBlob#ENCODING}); a task's adaptation is the fast
 * weights φ − θ the job computed on one version, so it applies to that version only.
 */
public final class DynamicsModelFormat implements ModelFormat<DynamicsModel, TaskModel> {

    @Override
    public String encoding() {
        return ModelBlob.ENCODING;
    }

    @Override
    public Class<DynamicsModel> modelType() {
        return DynamicsModel.class;
    }

    @Override
    public Class<TaskModel> taskType() {
        return TaskModel.class;
    }

    @Override
    public DynamicsModel decode(byte[] blob) {
        return ModelBlob.decode(blob);
    }

    @Override
    public Class<?> adaptationType() {
        return FastWeights.class;
    }

    @Override
    public void checkAdaptation(Object adaptation) {
        ModelVerifier.checkedDelta((FastWeights) adaptation);
    }

    @Override
    public boolean adaptationBoundToItsBase() {
        return true;
    }

    @Override
    public TaskModel unadapted(DynamicsModel model, long version) {
        return new TaskModel(model, version, false);
    }

    @Override
    public TaskModel adapted(DynamicsModel base, long baseVersion, Object adaptation, long adaptationBaseVersion) {
        INDArray theta = base.params();
        INDArray delta = ModelVerifier.verifyDelta((FastWeights) adaptation, base.mlp().numParams());
        INDArray phi = theta.add(delta.castTo(theta.dataType()).reshape(theta.shape()));
        return new TaskModel(base.withParams(phi), baseVersion, true);
    }
}
