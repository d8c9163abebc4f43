package io.metastream.client;

import io.metastream.core.grbal.DynamicsModel;
import io.metastream.schema.AdaptedModel;
import io.metastream.core.pearl.PearlPolicy;
import io.metastream.core.pearl.Posterior;
import io.metastream.schema.FastWeights;
import io.metastream.schema.GaussianPosterior;
import io.metastream.schema.ModelVersion;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What {@link ModelClient} knows about one model: the newest {@code keepVersions} verified base
 * models, and the newest verified adaptation per task. Fed record by record; no Kafka.
 *
 * <p>Rules: records of other models are ignored. A version or adaptation that fails verification is
 * counted in {@link #rejectedRecords()}, logged at WARN and otherwise ignored, so the last good state
 * stays in use. An adaptation replaces a task's held one only if its base version is at least as new.
 * A version older than every held one when the window is full is ignored.
 *
 * <p>Threading: one writer thread calls the {@code on*} methods; any number of threads read
 * concurrently. Base models are verified and decoded outside the lock; the combined (adapted) model
 * of a task is computed on first read and cached until the task's adaptation changes or its base
 * version leaves the window.
 *
 * <p>Known limit: the cache holds one combined model per task read (in addition to the task's
 * delta), so memory grows with the number of distinct tasks served.
 */
final class ModelState {

    private static final Logger LOG = LoggerFactory.getLogger(ModelState.class);

    /** A verified version and what its {@link ModelFormats} format decoded it to. */
    private record Held(long version, Object decoded) {
        /** The dynamics model, or null when the version carries another kind of model. */
        DynamicsModel model() {
            return decoded instanceof DynamicsModel m ? m : null;
        }

        /** The policy, or null when the version carries another kind of model. */
        PearlPolicy policy() {
            return decoded instanceof PearlPolicy p ? p : null;
        }
    }

    /** Identity matters: the combined-model cache is keyed by the adaptation object it was built from. */
    private static final class Adaptation {
        final long baseVersion;
        final FastWeights fastWeights;
        final GaussianPosterior posterior;
        volatile boolean unusable;

        Adaptation(long baseVersion, FastWeights fastWeights, GaussianPosterior posterior) {
            this.baseVersion = baseVersion;
            this.fastWeights = fastWeights;
            this.posterior = posterior;
        }
    }

    private record Combined(Adaptation source, DynamicsModel base, DynamicsModel model) {
    }

    private final String modelName;
    private final int keepVersions;

    private final Object lock = new Object();
    private final TreeMap<Long, Held> versions = new TreeMap<>();           // guarded by lock
    private final Map<String, Adaptation> adaptations = new HashMap<>();    // guarded by lock
    private ModelVersion latestRecord;                                      // guarded by lock
    private final Map<String, Combined> combined = new ConcurrentHashMap<>();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong versionsSeen = new AtomicLong();

    ModelState(String modelName, int keepVersions) {
        if (keepVersions < 1) {
            throw new IllegalArgumentException("keepVersions must be at least 1, got " + keepVersions);
        }
        this.modelName = modelName;
        this.keepVersions = keepVersions;
    }

    /** Verifies and keeps a published version; returns whether it was added. */
    boolean onModelVersion(ModelVersion v) {
        if (!modelName.equals(v.getModelName())) {
            return false;
        }
        synchronized (lock) {
            if (versions.containsKey(v.getVersion())) {
                return false;
            }
        }
        Object decoded;
        try {
            decoded = ModelVerifier.verifyAndDecodeAny(v);
        } catch (ModelIntegrityException e) {
            reject(e.getMessage());
            return false;
        }
        synchronized (lock) {
            long version = v.getVersion();
            if (versions.containsKey(version)
                    || (versions.size() >= keepVersions && version < versions.firstKey())) {
                return false;
            }
            versions.put(version, new Held(version, decoded));
            while (versions.size() > keepVersions) {
                versions.pollFirstEntry();
            }
            if (versions.lastKey() == version) {
                latestRecord = v;
            }
            versionsSeen.incrementAndGet();
            lock.notifyAll();
            return true;
        }
    }

    /** Checks and keeps a task's adaptation; returns whether it replaced the held one. */
    boolean onAdaptedModel(AdaptedModel a) {
        if (!modelName.equals(a.getModelName())) {
            return false;
        }
        Adaptation next;
        if (a.getAdaptation() instanceof FastWeights fw) {
            try {
                ModelVerifier.checkedDelta(fw);
            } catch (ModelIntegrityException e) {
                reject("task " + a.getTaskId() + ", base version " + a.getBaseVersion() + ": " + e.getMessage());
                return false;
            }
            next = new Adaptation(a.getBaseVersion(), fw, null);
        } else if (a.getAdaptation() instanceof GaussianPosterior g) {
            try {
                ModelVerifier.verifyPosterior(g, g.getMean().size());
            } catch (ModelIntegrityException e) {
                reject("task " + a.getTaskId() + ", base version " + a.getBaseVersion() + ": " + e.getMessage());
                return false;
            }
            next = new Adaptation(a.getBaseVersion(), null, g);
        } else {
            reject("adaptation of task " + a.getTaskId() + " on version " + a.getBaseVersion() + " is null");
            return false;
        }
        synchronized (lock) {
            Adaptation held = adaptations.get(a.getTaskId());
            if (held != null && held.baseVersion > next.baseVersion) {
                return false;
            }
            adaptations.put(a.getTaskId(), next);
        }
        combined.remove(a.getTaskId());
        return true;
    }

    /** Forgets a task's adaptation (a tombstone on the compacted adapted topic). */
    void onAdaptationDeleted(String taskId) {
        synchronized (lock) {
            adaptations.remove(taskId);
        }
        combined.remove(taskId);
    }

    OptionalLong latestVersion() {
        synchronized (lock) {
            return versions.isEmpty() ? OptionalLong.empty() : OptionalLong.of(versions.lastKey());
        }
    }

    Optional<ModelVersion> latestModelVersion() {
        synchronized (lock) {
            return Optional.ofNullable(latestRecord);
        }
    }

    Optional<DynamicsModel> baseModel() {
        synchronized (lock) {
            return versions.isEmpty() ? Optional.empty() : Optional.ofNullable(versions.lastEntry().getValue().model());
        }
    }

    Optional<DynamicsModel> model(long version) {
        synchronized (lock) {
            Held h = versions.get(version);
            return h == null ? Optional.empty() : Optional.ofNullable(h.model());
        }
    }

    Optional<PearlPolicy> basePolicy() {
        synchronized (lock) {
            return versions.isEmpty() ? Optional.empty() : Optional.ofNullable(versions.lastEntry().getValue().policy());
        }
    }

    /**
     * The newest PEARL policy with the task's belief: the task's newest posterior when one is held (it
     * may have been inferred by the encoder of a slightly older version), else the prior. Empty before
     * the first version or when the model is not a PEARL policy.
     */
    Optional<TaskPolicy> policyFor(String taskId) {
        Held latest;
        Adaptation adaptation;
        synchronized (lock) {
            if (versions.isEmpty() || versions.lastEntry().getValue().policy() == null) {
                return Optional.empty();
            }
            latest = versions.lastEntry().getValue();
            adaptation = adaptations.get(taskId);
        }
        PearlPolicy policy = latest.policy();
        if (adaptation != null && adaptation.posterior != null && !adaptation.unusable) {
            try {
                Posterior belief = ModelVerifier.verifyPosterior(adaptation.posterior, policy.latentDim());
                return Optional.of(new TaskPolicy(policy, latest.version(), belief, adaptation.baseVersion, true));
            } catch (ModelIntegrityException e) {
                adaptation.unusable = true;
                reject("task " + taskId + ", base version " + adaptation.baseVersion + ": " + e.getMessage());
            }
        }
        return Optional.of(new TaskPolicy(policy, latest.version(), policy.prior(), -1, false));
    }

    Optional<TaskModel> modelFor(String taskId) {
        Adaptation adaptation;
        Held base;
        Held latest;
        synchronized (lock) {
            if (versions.isEmpty() || versions.lastEntry().getValue().model() == null) {
                return Optional.empty();
            }
            latest = versions.lastEntry().getValue();
            adaptation = adaptations.get(taskId);
            base = adaptation == null ? null : versions.get(adaptation.baseVersion);
        }
        if (adaptation != null && adaptation.fastWeights != null && base != null && base.model() != null
                && !adaptation.unusable) {
            Combined cached = combined.get(taskId);
            if (cached != null && cached.source() == adaptation && cached.base() == base.model()) {
                return Optional.of(new TaskModel(cached.model(), base.version(), true));
            }
            try {
                DynamicsModel adapted = apply(base.model(), adaptation.fastWeights);
                combined.put(taskId, new Combined(adaptation, base.model(), adapted));
                return Optional.of(new TaskModel(adapted, base.version(), true));
            } catch (ModelIntegrityException e) {
                adaptation.unusable = true;
                reject("task " + taskId + ", base version " + base.version() + ": " + e.getMessage());
            }
        } else {
            combined.remove(taskId);
        }
        return Optional.of(new TaskModel(latest.model(), latest.version(), false));
    }

    /** Waits until a version at least {@code version} is held; false on timeout. */
    boolean awaitVersion(long version, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (versions.isEmpty() || versions.lastKey() < version) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }

    long rejectedRecords() {
        return rejected.get();
    }

    long versionsSeen() {
        return versionsSeen.get();
    }

    /** Counts and logs a record that cannot be used. Also used for records that do not decode at all. */
    void reject(String why) {
        rejected.incrementAndGet();
        LOG.warn("Rejected a record for model {}: {}", modelName, why);
    }

    private static DynamicsModel apply(DynamicsModel base, FastWeights fw) {
        INDArray theta = base.params();
        INDArray delta = ModelVerifier.verifyDelta(fw, base.mlp().numParams());
        INDArray phi = theta.add(delta.castTo(theta.dataType()).reshape(theta.shape()));
        return base.withParams(phi);
    }
}
