package io.metastream.core.pearl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Activation;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class PearlLearnerTest {

    static final PearlConfig SMALL = PearlConfig.builder().obsDim(2).actDim(2).latentDim(3).encoderHidden(16, 16)
            .netHidden(32, 32).batchSize(16).contextSize(8).metaBatch(3).learningRate(1e-3).seed(7).build();

    static TaskBatch randomBatch(PearlConfig cfg, Random rng, int contextRows, int size, double rewardScale) {
        return TaskBatch.random(cfg, rng, contextRows, size, rewardScale);
    }

    static List<TaskBatch> metaBatch(PearlConfig cfg, long seed) {
        return TaskBatch.randomMetaBatch(cfg, seed);
    }

    private static double[] flat(INDArray a) {
        return NdArrays.toFlatArray(a);
    }

    @Test
    void stepUpdatesEveryNetworkAndMovesTheTargetsByPolyakAveraging() {
        PearlLearner l = new PearlLearner(SMALL);
        INDArray[] before = l.parameters();
        PearlLearner.StepResult r = l.step(metaBatch(SMALL, 1));
        assertThat(r.accepted()).isTrue();
        assertThat(r.version()).isEqualTo(1);
        assertThat(r.criticLoss()).isPositive().isFinite();
        assertThat(r.klDivergence()).isPositive();
        assertThat(r.alpha()).isEqualTo(1.0);
        INDArray[] after = l.parameters();
        for (int i = 0; i < 4; i++) {
            assertThat(flat(after[i])).as("network " + i).isNotEqualTo(flat(before[i]));
        }
        double tau = SMALL.tau();
        for (int i = 0; i < 2; i++) {
            double[] expected = flat(before[4 + i].mul(1 - tau).addi(after[2 + i].mul(tau)));
            assertThat(ContextEncoderTest.relErr(flat(after[4 + i]), expected)).isLessThan(1e-14);
        }
        assertThat(l.alpha()).isNotEqualTo(1.0); // learned temperature moved
        PearlLearner fixed = new PearlLearner(SMALL.toBuilder().learnAlpha(false).fixedAlpha(0.2).build());
        PearlLearner.StepResult rf = fixed.step(metaBatch(SMALL, 1));
        assertThat(rf.alpha()).isCloseTo(0.2, within(1e-15));
        assertThat(rf.alphaLoss()).isZero();
        assertThat(fixed.alpha()).isCloseTo(0.2, within(1e-15));
    }

    @Test
    void clipsEachNetworksGradientToMaxGradNormAndOnlyThen() {
        PearlLearner clipping = new PearlLearner(SMALL.toBuilder().maxGradNorm(1e-9).build());
        clipping.step(metaBatch(SMALL, 1));
        assertThat(clipping.clippedGradients()).as("encoder, policy and both critics").isEqualTo(4);
        PearlLearner off = new PearlLearner(SMALL.toBuilder().maxGradNorm(0).build());
        off.step(metaBatch(SMALL, 1));
        assertThat(off.clippedGradients()).isZero();
        // a large finite reward: clipped, applied, and the step stays finite
        PearlLearner guarded = new PearlLearner(SMALL);
        List<TaskBatch> wild = new ArrayList<>(metaBatch(SMALL, 2));
        wild.set(1, randomBatch(SMALL, new Random(3), 8, 16, 1e6));
        assertThat(guarded.step(wild).accepted()).isTrue();
        assertThat(guarded.clippedGradients()).isPositive();
    }

    @Test
    void aRestoredSnapshotContinuesExactlyLikeTheOriginal() {
        PearlLearner a = new PearlLearner(SMALL);
        for (int s = 0; s < 3; s++) {
            a.step(metaBatch(SMALL, 10 + s));
        }
        byte[] snap = a.snapshot();
        PearlLearner b = PearlLearner.restore(SMALL, snap);
        assertThat(b.version()).isEqualTo(3);
        assertThat(b.snapshot()).isEqualTo(snap);
        for (int s = 0; s < 2; s++) {
            PearlLearner.StepResult ra = a.step(metaBatch(SMALL, 20 + s));
            PearlLearner.StepResult rb = b.step(metaBatch(SMALL, 20 + s));
            assertThat(rb).isEqualTo(ra);
        }
        INDArray[] pa = a.parameters();
        INDArray[] pb = b.parameters();
        for (int i = 0; i < pa.length; i++) {
            assertThat(flat(pb[i])).isEqualTo(flat(pa[i]));
        }
        // a fresh learner with the same seed takes the same steps too
        PearlLearner c = new PearlLearner(SMALL);
        PearlLearner d = new PearlLearner(SMALL);
        assertThat(c.step(metaBatch(SMALL, 5))).isEqualTo(d.step(metaBatch(SMALL, 5)));
    }

    @Test
    void rejectsAStepWithNonFiniteLossesLeavingEveryParameterAndOptimizerUnchanged() {
        PearlLearner l = new PearlLearner(SMALL);
        l.step(metaBatch(SMALL, 1));
        byte[] before = l.snapshot();
        List<TaskBatch> bad = new ArrayList<>(metaBatch(SMALL, 2));
        bad.set(1, randomBatch(SMALL, new Random(3), 8, 16, 1e300)); // squared Bellman errors overflow
        PearlLearner.StepResult r = l.step(bad);
        assertThat(r.accepted()).isFalse();
        assertThat(r.version()).isEqualTo(1);
        assertThat(r.criticLoss()).isInfinite();
        assertThat(l.rejectedSteps()).isEqualTo(1);
        assertThat(l.version()).isEqualTo(1);
        PearlLearner restoredBefore = PearlLearner.restore(SMALL, before);
        INDArray[] now = l.parameters();
        INDArray[] then = restoredBefore.parameters();
        for (int i = 0; i < now.length; i++) {
            assertThat(flat(now[i])).isEqualTo(flat(then[i]));
        }
        assertThat(l.step(metaBatch(SMALL, 4)).accepted()).isTrue();
        assertThat(l.version()).isEqualTo(2);
    }

    @Test
    void acceptsTasksOfDifferentSizesAndRejectsMismatchedDimensions() {
        PearlLearner l = new PearlLearner(SMALL);
        Random rng = new Random(9);
        List<TaskBatch> uneven = List.of(randomBatch(SMALL, rng, 3, 10, 1), randomBatch(SMALL, rng, 12, 5, 1));
        assertThat(l.step(uneven).accepted()).isTrue();
        assertThat(l.step(metaBatch(SMALL, 3)).accepted()).isTrue(); // sizes change again: buffers reallocated
        assertThatThrownBy(() -> l.step(List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("metaBatch is empty");
        PearlConfig other = SMALL.toBuilder().obsDim(3).build();
        assertThatThrownBy(() -> l.step(List.of(randomBatch(other, rng, 2, 2, 1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("obsDim 3");
        assertThatThrownBy(() -> TaskBatch.of(new double[1][7], new double[1][2], new double[1][2], new double[] {Double.NaN},
                new double[1][2], new double[1])).hasMessageContaining("reward[0] is NaN");
        assertThatThrownBy(() -> TaskBatch.of(new double[1][6], new double[1][2], new double[1][2], new double[1],
                new double[1][2], new double[1])).hasMessageContaining("context[0] has 6 values; a context row has 7");
    }

    @Test
    void contextRowsWithThePreviousRewardWidenTheEncoderAndItsBlob() {
        PearlConfig wide = SMALL.toBuilder().contextPreviousReward(true).build();
        assertThat(wide.contextDim()).isEqualTo(SMALL.contextDim() + 2);
        PearlLearner l = new PearlLearner(wide);
        assertThat(l.step(metaBatch(wide, 4)).accepted()).isTrue();
        assertThatThrownBy(() -> l.step(metaBatch(SMALL, 4))).hasMessageContaining("context rows of 7 values but the "
                + "configuration's are 9 (contextPreviousReward true)");
        PearlPolicy p = PearlPolicy.decode(l.currentPolicy().encode());
        assertThat(p.contextDim()).isEqualTo(9);
        double[][] ctx = {{0.1, 0.2, 0.3, -0.4, -0.5, 0.6, 0.7, -0.45, 1}};
        assertThat(p.posterior(ctx).mean()).containsExactly(l.currentPolicy().posterior(ctx).mean());
        assertThat(PearlPolicy.decode(new PearlLearner(SMALL).currentPolicy().encode()).contextDim()).isEqualTo(7);
    }

    @Test
    void rankFactorsTrainTheEncoderAndTravelInAVersionTwoBlob() {
        PearlConfig rank = SMALL.toBuilder().encoderRank(1).contextPreviousReward(true).build();
        PearlLearner l = new PearlLearner(rank);
        double[] before = flat(l.parameters()[0]);
        for (int i = 0; i < 3; i++) {
            assertThat(l.step(metaBatch(rank, 10 + i)).accepted()).isTrue();
        }
        assertThat(flat(l.parameters()[0])).isNotEqualTo(before);
        byte[] blob = l.currentPolicy().encode();
        assertThat(ByteBuffer.wrap(blob, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(2);
        PearlPolicy p = PearlPolicy.decode(blob);
        assertThat(p.encoderRank()).isEqualTo(1);
        assertThat(p.contextDim()).isEqualTo(9);
        double[][] ctx = {{0.1, 0.2, 0.3, -0.4, -0.5, 0.6, 0.7, -0.45, 1}, {0.3, 0.1, -0.2, 0.4, 0.5, 0.2, 0.1, 0.7, 1}};
        Posterior q = p.posterior(ctx);
        assertThat(q.fullCovariance()).isTrue();
        assertThat(q).isEqualTo(l.currentPolicy().posterior(ctx));
        // a diagonal encoder still writes format 1, which earlier readers take
        byte[] diag = new PearlLearner(SMALL).currentPolicy().encode();
        assertThat(ByteBuffer.wrap(diag, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(1);
        assertThat(PearlPolicy.decode(diag).posterior(new double[][] {new double[7]}).fullCovariance()).isFalse();
    }

    @Test
    void policySnapshotActsAndInfersLikeTheLearnersNetworksAndRoundTripsThroughItsBlob() {
        PearlLearner l = new PearlLearner(SMALL);
        l.step(metaBatch(SMALL, 1));
        PearlPolicy p = l.currentPolicy();
        assertThat(p.version()).isEqualTo(1);
        INDArray[] params = l.parameters();
        Random rng = new Random(4);
        double[] obs = {0.3, -0.7};
        double[] z = {0.1, 0.2, -0.5};
        double[] out = flat(SMALL.policyMlp().forward(params[1], NdArrays.matrix(new double[] {0.3, -0.7, 0.1, 0.2, -0.5}, 1, 5)));
        double[] det = p.act(obs, z, null, true);
        assertThat(det[0]).isCloseTo(Math.tanh(out[0]), within(1e-13));
        assertThat(det[1]).isCloseTo(Math.tanh(out[1]), within(1e-13));
        double[] sto = p.act(obs, z, new Random(5), false);
        Random same = new Random(5);
        assertThat(sto[0]).isCloseTo(Math.tanh(out[0] + Math.exp(out[2]) * same.nextGaussian()), within(1e-13));
        assertThat(sto[1]).isCloseTo(Math.tanh(out[1] + Math.exp(out[3]) * same.nextGaussian()), within(1e-13));

        double[][] ctx = new double[5][SMALL.contextDim()];
        for (double[] row : ctx) {
            for (int c = 0; c < row.length; c++) {
                row[c] = rng.nextGaussian();
            }
        }
        Posterior post = p.posterior(ctx);
        Posterior direct = SMALL.encoder().infer(params[0], NdArrays.matrix(Arrays.stream(ctx).flatMapToDouble(Arrays::stream)
                .toArray(), 5, SMALL.contextDim()));
        assertThat(post).isEqualTo(direct);
        assertThat(p.posterior(new double[0][])).isEqualTo(Posterior.prior(3));

        byte[] blob = p.encode();
        PearlPolicy back = PearlPolicy.decode(blob);
        assertThat(back.encode()).isEqualTo(blob);
        assertThat(back.act(obs, z, null, true)).containsExactly(det);
        assertThat(back.posterior(ctx)).isEqualTo(post);
        byte[] badMagic = blob.clone();
        badMagic[0] = 'X';
        assertThatThrownBy(() -> PearlPolicy.decode(badMagic)).hasMessageContaining("MSPP");
        byte[] badVersion = blob.clone();
        badVersion[4] = 9;
        assertThatThrownBy(() -> PearlPolicy.decode(badVersion)).hasMessageContaining("unknown format version 9");
        assertThatThrownBy(() -> PearlPolicy.decode(Arrays.copyOf(blob, blob.length - 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("policy parameters");
    }

    @Test
    void restoreRejectsUnknownVersionsAndMismatchedNetworks() {
        byte[] snap = new PearlLearner(SMALL).snapshot();
        byte[] badVersion = snap.clone();
        badVersion[0] = 7;
        assertThatThrownBy(() -> PearlLearner.restore(SMALL, badVersion)).hasMessageContaining("unknown format version 7");
        assertThatThrownBy(() -> PearlLearner.restore(SMALL.toBuilder().netHidden(16).build(), snap))
                .hasMessageContaining("policy parameters").hasMessageContaining("configuration the snapshot was taken with");
        assertThatThrownBy(() -> PearlLearner.restore(SMALL, Arrays.copyOf(snap, snap.length - 1)))
                .hasMessageContaining("truncated");
        // a changed learning rate is accepted (and used from then on)
        assertThat(PearlLearner.restore(SMALL.toBuilder().qLr(1e-4).build(), snap).config().qLr()).isEqualTo(1e-4);
    }

    @Test
    void tanhNetworksTrainToo() {
        PearlConfig cfg = SMALL.toBuilder().activation(Activation.TANH).build();
        PearlLearner l = new PearlLearner(cfg);
        double first = l.step(metaBatch(cfg, 1)).criticLoss();
        double last = first;
        for (int s = 0; s < 30; s++) {
            last = l.step(metaBatch(cfg, 1)).criticLoss(); // the same batch: the critic loss falls
        }
        assertThat(last).isLessThan(first);
    }
}
