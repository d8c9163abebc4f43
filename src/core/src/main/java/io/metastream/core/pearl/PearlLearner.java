package io.metastream.core.pearl;

import io.metastream.core.internal.ByteReader;
import io.metastream.core.internal.ByteWriter;
import io.metastream.core.internal.NdArrays;
import io.metastream.core.nn.Mlp;
import io.metastream.core.optim.Adam;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PEARL's meta-learner (Rakelly and Zhou et al. 2019): the context encoder, the z-conditioned SAC
 * policy, twin critics with Polyak-averaged targets, the entropy temperature, and their Adam states.
 *
 * <h2>One step ({@link #step})</h2>
 * <ol>
 *   <li>Encoder: per task, the posterior from its context (one network pass over all context rows of
 *       the meta-batch) and one reparameterised sample {@code z_t = μ_t + σ_t ⊙ ε_t}.
 *   <li>Critics and encoder: {@code J_Q} (see {@link PearlObjective}) for both critics; its gradient
 *       with respect to z flows into the encoder together with {@code β Σ_t KL(q_t ‖ N(0, I))}
 *       (summed over tasks, as in oyster). The critic target uses z as a constant.
 *   <li>Actor: {@code J_π} with z as a constant (the policy does not train the encoder).
 *   <li>Temperature (when {@code learnAlpha}): {@code J(log α) = −log α · mean(log π + H̄)} with
 *       {@code H̄ = −actDim}.
 *   <li>All losses are evaluated at the parameters before the step; then each network takes one
 *       Adam step and the target critics move by Polyak averaging with {@code τ}.
 * </ol>
 * The noise of a step ({@code ε}, and the action noise of the target and the actor) is drawn from a
 * generator seeded by {@code (cfg.seed(), step attempt number)}, so a learner restored from a
 * snapshot continues exactly like the original.
 *
 * <h2>Failure policy</h2>
 * A step whose losses or gradients are not finite is rejected before anything changes; a step whose
 * updated parameters are not finite is rolled back from preallocated backups. Either way
 * {@link #rejectedSteps()} increments, {@link #version()} does not, the result has
 * {@code accepted == false}, and all parameters and optimizer states are as before the call.
 *
 * <h2>Threading and ownership</h2>
 * Not thread-safe: one instance is owned by one operator (one thread). {@link #currentPolicy()}
 * returns an immutable snapshot that may be handed to other threads.
 */
public final class PearlLearner {

    private static final Logger LOG = LoggerFactory.getLogger(PearlLearner.class);
    static final int SNAPSHOT_VERSION = 1;
    private static final String FORMAT = "PearlLearner snapshot";

    private final PearlConfig cfg;
    private final ContextEncoder encoder;
    private final Mlp qMlp;
    private final Mlp policyMlp;
    private final PearlObjective objective;

    private final INDArray encParams;
    private final INDArray policyParams;
    private final INDArray q1;
    private final INDArray q2;
    private final INDArray q1Target;
    private final INDArray q2Target;
    private final INDArray logAlpha;
    private final Adam encAdam;
    private final Adam policyAdam;
    private final Adam q1Adam;
    private final Adam q2Adam;
    private final Adam alphaAdam;

    private final INDArray gEnc;
    private final INDArray gPolicy;
    private final INDArray gQ1;
    private final INDArray gQ2;
    private final INDArray gAlpha;

    // rollback of a step whose updated parameters are not finite (allocated on the first step)
    private INDArray[] backupParams;
    private Adam[] backupAdams;

    private EncoderPass encPass;
    private long attempts;
    private long version;
    private long rejected;
    private long clipped;

    /** A fresh learner: all networks drawn from {@code new Random(cfg.seed())}, targets equal to the critics. */
    public PearlLearner(PearlConfig cfg) {
        this(requireCfg(cfg), null);
    }

    private PearlLearner(PearlConfig cfg, double[][] state) {
        this.cfg = cfg;
        this.encoder = cfg.encoder();
        this.qMlp = cfg.qMlp();
        this.policyMlp = cfg.policyMlp();
        this.objective = new PearlObjective(cfg);
        if (state == null) {
            Random rng = new Random(cfg.seed());
            encParams = encoder.initParams(rng);
            policyParams = policyMlp.initParams(rng);
            q1 = qMlp.initParams(rng);
            q2 = qMlp.initParams(rng);
            q1Target = q1.dup();
            q2Target = q2.dup();
            logAlpha = NdArrays.row(new double[] {Math.log(cfg.fixedAlpha())});
        } else {
            encParams = NdArrays.row(state[0]);
            policyParams = NdArrays.row(state[1]);
            q1 = NdArrays.row(state[2]);
            q2 = NdArrays.row(state[3]);
            q1Target = NdArrays.row(state[4]);
            q2Target = NdArrays.row(state[5]);
            logAlpha = NdArrays.row(state[6]);
        }
        encAdam = new Adam(encoder.mlp().numParams(), cfg.encoderLr());
        policyAdam = new Adam(policyMlp.numParams(), cfg.policyLr());
        q1Adam = new Adam(qMlp.numParams(), cfg.qLr());
        q2Adam = new Adam(qMlp.numParams(), cfg.qLr());
        alphaAdam = new Adam(1, cfg.alphaLr());
        gEnc = Nd4j.zeros(DataType.DOUBLE, 1, encoder.mlp().numParams());
        gPolicy = Nd4j.zeros(DataType.DOUBLE, 1, policyMlp.numParams());
        gQ1 = Nd4j.zeros(DataType.DOUBLE, 1, qMlp.numParams());
        gQ2 = Nd4j.zeros(DataType.DOUBLE, 1, qMlp.numParams());
        gAlpha = Nd4j.zeros(DataType.DOUBLE, 1, 1);
    }

    private static PearlConfig requireCfg(PearlConfig cfg) {
        if (cfg == null) {
            throw new IllegalArgumentException("cfg is null; build one with PearlConfig.builder()");
        }
        return cfg;
    }

    /**
     * The outcome of one {@link #step}.
     *
     * @param version accepted steps after this one (the version of {@link #currentPolicy()})
     * @param accepted false when the step was rejected for non-finite values
     * @param criticLoss {@code J_Q}, the sum of both critics' mean squared Bellman errors
     * @param actorLoss {@code J_π}
     * @param klDivergence {@code Σ_tasks KL(q(z|c_t) ‖ N(0, I))}
     * @param alpha the temperature used in this step
     * @param alphaLoss {@code −log α · mean(log π + H̄)} (0 when α is fixed)
     * @param entropy {@code −mean log π(ã|s, z)}, the policy's entropy estimate
     * @param meanQ mean critic value on the batch
     */
    public record StepResult(long version, boolean accepted, double criticLoss, double actorLoss, double klDivergence,
            double alpha, double alphaLoss, double entropy, double meanQ) {}

    /**
     * One gradient step of critics + encoder, actor and temperature over a meta-batch (see the class
     * comment).
     *
     * @param metaBatch one {@link TaskBatch} per task, at least one; dimensions must match the
     *     configuration (sizes may differ between tasks and steps; buffers are reallocated when the
     *     total sizes change)
     * @throws IllegalArgumentException for an empty meta-batch or mismatched dimensions
     */
    public StepResult step(List<TaskBatch> metaBatch) {
        int tasks = checkBatch(metaBatch);
        int obsDim = cfg.obsDim();
        int actDim = cfg.actDim();
        int latent = cfg.latentDim();
        int[] ctxRows = new int[tasks];
        int[] rlRows = new int[tasks];
        int ctxTotal = 0;
        int m = 0;
        for (int t = 0; t < tasks; t++) {
            ctxRows[t] = metaBatch.get(t).contextRows();
            rlRows[t] = metaBatch.get(t).size();
            ctxTotal += ctxRows[t];
            m += rlRows[t];
        }
        int cd = cfg.contextDim();
        double[] ctx = new double[ctxTotal * cd];
        double[] obs = new double[m * obsDim];
        double[] act = new double[m * actDim];
        double[] rew = new double[m];
        double[] next = new double[m * obsDim];
        double[] done = new double[m];
        int c0 = 0;
        int r0 = 0;
        for (TaskBatch b : metaBatch) {
            System.arraycopy(b.contextData(), 0, ctx, c0 * cd, b.contextRows() * cd);
            System.arraycopy(b.obsData(), 0, obs, r0 * obsDim, b.size() * obsDim);
            System.arraycopy(b.actData(), 0, act, r0 * actDim, b.size() * actDim);
            System.arraycopy(b.rewardData(), 0, rew, r0, b.size());
            System.arraycopy(b.nextObsData(), 0, next, r0 * obsDim, b.size() * obsDim);
            System.arraycopy(b.doneData(), 0, done, r0, b.size());
            c0 += b.contextRows();
            r0 += b.size();
        }

        if (encPass == null || !encPass.fits(ctxRows)) {
            encPass = new EncoderPass(encoder, ctxRows);
        }
        Random rng = new Random(stepSeed(cfg.seed(), attempts++));
        double[] eps = gaussians(rng, encPass.noiseSize());
        double[] nextNoise = gaussians(rng, m * actDim);
        double[] noise = gaussians(rng, m * actDim);

        objective.load(rlRows, obs, act, rew, next, done);
        encPass.forward(encParams, ctx);
        double[] z = new double[tasks * latent];
        encPass.sample(eps, z);
        double kl = encPass.klSum();
        double la = logAlpha.getDouble(0);
        double alpha = Math.exp(la);

        PearlObjective.Critic critic = objective.critic(q1, q2, q1Target, q2Target, policyParams, alpha, z, z, nextNoise,
                gQ1, gQ2);
        encPass.backward(eps, critic.dLdz(), cfg.klWeight(), gEnc);
        PearlObjective.Actor actor = objective.actor(policyParams, q1, q2, alpha, z, noise, gPolicy);
        double[] alphaLg = PearlObjective.alphaLossAndGradient(la, actor.meanLogPi(), cfg.targetEntropy());
        double alphaLoss = cfg.learnAlpha() ? alphaLg[0] : 0.0;
        gAlpha.putScalar(0, alphaLg[1]);

        boolean ok = Double.isFinite(critic.loss()) && Double.isFinite(actor.loss()) && Double.isFinite(kl)
                && Double.isFinite(alphaLg[0]) && Double.isFinite(alphaLg[1]) && NdArrays.allFinite(gEnc)
                && NdArrays.allFinite(gPolicy) && NdArrays.allFinite(gQ1) && NdArrays.allFinite(gQ2);
        if (ok) {
            ok = applyUpdates();
        }
        if (ok) {
            version++;
        } else {
            rejected++;
            LOG.warn("PEARL step rejected (critic loss {}, actor loss {}, KL {}, alpha {}); parameters kept at version {}, "
                    + "{} rejected so far", critic.loss(), actor.loss(), kl, alpha, version, rejected);
        }
        return new StepResult(version, ok, critic.loss(), actor.loss(), kl, alpha, alphaLoss, -actor.meanLogPi(),
                critic.meanQ());
    }

    /** Adam steps and Polyak averaging; false (and everything rolled back) when a parameter became non-finite. */
    private boolean applyUpdates() {
        INDArray[] live = {encParams, policyParams, q1, q2, logAlpha};
        Adam[] adams = {encAdam, policyAdam, q1Adam, q2Adam, alphaAdam};
        if (backupParams == null) {
            backupParams = new INDArray[live.length];
            backupAdams = new Adam[live.length];
            for (int i = 0; i < live.length; i++) {
                backupParams[i] = live[i].dup();
                backupAdams[i] = adams[i].copy();
            }
        } else {
            for (int i = 0; i < live.length; i++) {
                backupParams[i].assign(live[i]);
                backupAdams[i].copyFrom(adams[i]);
            }
        }
        clipped += clip(gEnc) + clip(gPolicy) + clip(gQ1) + clip(gQ2);
        encAdam.step(encParams, gEnc);
        policyAdam.step(policyParams, gPolicy);
        q1Adam.step(q1, gQ1);
        q2Adam.step(q2, gQ2);
        if (cfg.learnAlpha()) {
            alphaAdam.step(logAlpha, gAlpha);
        }
        boolean finite = true;
        for (INDArray p : live) {
            finite &= NdArrays.allFinite(p);
        }
        if (!finite) {
            for (int i = 0; i < live.length; i++) {
                live[i].assign(backupParams[i]);
                adams[i].copyFrom(backupAdams[i]);
            }
            return false;
        }
        polyak(q1Target, q1);
        polyak(q2Target, q2);
        return true;
    }

    private void polyak(INDArray target, INDArray source) {
        target.muli(1.0 - cfg.tau());
        Nd4j.exec(new Axpy(source, target, target, cfg.tau()));
    }

    private int checkBatch(List<TaskBatch> metaBatch) {
        if (metaBatch == null || metaBatch.isEmpty()) {
            throw new IllegalArgumentException("metaBatch is empty; pass one TaskBatch per task (cfg.metaBatch() = "
                    + cfg.metaBatch() + " is the reference size)");
        }
        for (int t = 0; t < metaBatch.size(); t++) {
            TaskBatch b = metaBatch.get(t);
            if (b == null) {
                throw new IllegalArgumentException("metaBatch[" + t + "] is null");
            }
            if (b.obsDim() != cfg.obsDim() || b.actDim() != cfg.actDim()) {
                throw new IllegalArgumentException("metaBatch[" + t + "] has obsDim " + b.obsDim() + " and actDim "
                        + b.actDim() + " but the configuration says " + cfg.obsDim() + " and " + cfg.actDim());
            }
            if (b.contextDim() != cfg.contextDim()) {
                throw new IllegalArgumentException("metaBatch[" + t + "] has context rows of " + b.contextDim()
                        + " values but the configuration's are " + cfg.contextDim() + " (contextPreviousReward "
                        + cfg.contextPreviousReward() + ")");
            }
        }
        return metaBatch.size();
    }

    /** SplitMix64 of the seed and the attempt number: decorrelated per-step noise streams. */
    static long stepSeed(long seed, long attempt) {
        long x = seed * 0x9E3779B97F4A7C15L + attempt;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    private static double[] gaussians(Random rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextGaussian();
        }
        return v;
    }

    /** Accepted steps so far; the version of {@link #currentPolicy()}. */
    public long version() {
        return version;
    }

    /** Scales {@code g} down to {@code maxGradNorm} when it is longer; returns 1 when it did. */
    private int clip(INDArray g) {
        if (cfg.maxGradNorm() <= 0) {
            return 0;
        }
        double norm = g.norm2Number().doubleValue();
        if (norm > cfg.maxGradNorm()) {
            g.muli(cfg.maxGradNorm() / norm);
            return 1;
        }
        return 0;
    }

    /** Network gradients scaled down to {@code maxGradNorm} so far (not part of a snapshot). */
    public long clippedGradients() {
        return clipped;
    }

    /** Steps rejected for non-finite values. */
    public long rejectedSteps() {
        return rejected;
    }

    /** Calls of {@link #step} so far, accepted or not (it selects the next step's noise). */
    public long stepsAttempted() {
        return attempts;
    }

    public PearlConfig config() {
        return cfg;
    }

    /** The current temperature α. */
    public double alpha() {
        return Math.exp(logAlpha.getDouble(0));
    }

    /** An immutable snapshot of the encoder and policy for agents and task operators. */
    public PearlPolicy currentPolicy() {
        return new PearlPolicy(version, cfg.obsDim(), cfg.actDim(), cfg.contextDim(), cfg.latentDim(), cfg.encoderRank(),
                cfg.activation(),
                cfg.encoderHidden(), cfg.netHidden(), NdArrays.toFlatArray(encParams), NdArrays.toFlatArray(policyParams));
    }

    /** Copies of the parameter vectors, for tests and diagnostics: encoder, policy, q1, q2, q1Target, q2Target. */
    INDArray[] parameters() {
        return new INDArray[] {encParams.dup(), policyParams.dup(), q1.dup(), q2.dup(), q1Target.dup(), q2Target.dup()};
    }

    /**
     * Serialises the complete learner state. Format (little-endian): int version (1), string config
     * hash, long steps attempted, long version, long rejected steps, then the encoder, policy,
     * critic 1, critic 2, target 1, target 2 parameters and {@code log α} (each int length + float64),
     * then the Adam states of encoder, policy, critic 1, critic 2 and {@code log α} (each int length +
     * {@link Adam#toBytes()}).
     */
    public byte[] snapshot() {
        ByteWriter w = new ByteWriter(64 * (encoder.mlp().numParams() + policyMlp.numParams() + 2 * qMlp.numParams()) + 1024)
                .putInt(SNAPSHOT_VERSION)
                .putString(cfg.configHash())
                .putLong(attempts)
                .putLong(version)
                .putLong(rejected);
        for (INDArray p : new INDArray[] {encParams, policyParams, q1, q2, q1Target, q2Target, logAlpha}) {
            w.putDoubles(NdArrays.toFlatArray(p));
        }
        for (Adam a : new Adam[] {encAdam, policyAdam, q1Adam, q2Adam, alphaAdam}) {
            w.putBytes(a.toBytes());
        }
        return w.toByteArray();
    }

    /**
     * Restores a learner from {@link #snapshot()}. Learning rates of the configuration replace the
     * snapshot's; a differing config hash is logged as a warning, not rejected, so settings such as
     * learning rates may change across restarts.
     *
     * @throws IllegalArgumentException on an unknown format version, corruption, or networks that do
     *     not fit {@code cfg}
     */
    public static PearlLearner restore(PearlConfig cfg, byte[] snapshot) {
        requireCfg(cfg);
        ByteReader r = new ByteReader(snapshot, FORMAT);
        r.readVersion(SNAPSHOT_VERSION);
        String hash = r.readString("config hash");
        long attempts = r.readLong("steps attempted");
        long version = r.readLong("version");
        long rejected = r.readLong("rejected steps");
        Mlp enc = cfg.encoder().mlp();
        Mlp pol = cfg.policyMlp();
        Mlp q = cfg.qMlp();
        String[] names = {"encoder", "policy", "critic 1", "critic 2", "target critic 1", "target critic 2", "log alpha"};
        int[] counts = {enc.numParams(), pol.numParams(), q.numParams(), q.numParams(), q.numParams(), q.numParams(), 1};
        double[][] state = new double[names.length][];
        for (int i = 0; i < names.length; i++) {
            int n = r.readCount(names[i] + " parameter count", Integer.MAX_VALUE);
            if (n != counts[i]) {
                throw new IllegalArgumentException(FORMAT + " holds " + n + " " + names[i] + " parameters but the configuration's"
                        + " network has " + counts[i] + "; restore with the configuration the snapshot was taken with"
                        + " (config hash " + hash + ")");
            }
            state[i] = new double[n];
            for (int k = 0; k < n; k++) {
                state[i][k] = r.readDouble(names[i] + " parameter " + k);
            }
        }
        PearlLearner l = new PearlLearner(cfg, state);
        Adam[] adams = {l.encAdam, l.policyAdam, l.q1Adam, l.q2Adam, l.alphaAdam};
        String[] adamNames = {"encoder", "policy", "critic 1", "critic 2", "log alpha"};
        for (int i = 0; i < adams.length; i++) {
            Adam a = Adam.fromBytes(r.readBytes(adamNames[i] + " Adam state"));
            if (a.numParams() != adams[i].numParams()) {
                throw new IllegalArgumentException(FORMAT + " is corrupt: the " + adamNames[i] + " Adam state has "
                        + a.numParams() + " parameters but the network has " + adams[i].numParams());
            }
            adams[i].copyFrom(a); // moments and step count; the learning rate stays the configuration's
        }
        r.expectEnd();
        l.attempts = attempts;
        l.version = version;
        l.rejected = rejected;
        if (!hash.equals(cfg.configHash())) {
            LOG.warn("restored a PEARL learner snapshot taken with config hash {} under config hash {}", hash, cfg.configHash());
        }
        return l;
    }
}
