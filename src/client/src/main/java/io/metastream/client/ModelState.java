package io.metastream.client;

import io.metastream.schema.AdaptedModel;
import io.metastream.schema.ModelVersion;

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

    /** A verified version, its format and what the format decoded it to. */
    private record Held(long version, ModelFormat<?, ?> format, Object decoded, String runId, String sha256) {}

    /** Identity matters: the per-task cache is keyed by the adaptation object it was built from. */
    private static final class Adaptation {
        final long baseVersion;
        final ModelFormat<?, ?> format;
        final Object record;
        volatile boolean unusable;

        Adaptation(long baseVersion, ModelFormat<?, ?> format, Object record) {
            this.baseVersion = baseVersion;
            this.format = format;
            this.record = record;
        }
    }

    /** What {@link ModelFormat#adapted} returned for an adaptation on a base. */
    private record Combined(Adaptation source, Held base, Object value) {
    }

    /** Default of the largest step from the newest held version to a new one. */
    static final long DEFAULT_MAX_VERSION_JUMP = 10_000;

    private final String modelName;
    private final int keepVersions;
    /** Key id → trusted public key; null when unsigned versions are accepted. */
    private final Map<String, java.security.PublicKey> trustedKeys;
    private final long maxVersionJump;

    private final Object lock = new Object();
    private final TreeMap<Long, Held> versions = new TreeMap<>();           // guarded by lock
    private final Map<String, Adaptation> adaptations = new HashMap<>();    // guarded by lock
    private ModelVersion latestRecord;                                      // guarded by lock
    private final Map<String, Combined> combined = new ConcurrentHashMap<>();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong versionsSeen = new AtomicLong();

    ModelState(String modelName, int keepVersions) {
        this(modelName, keepVersions, null, DEFAULT_MAX_VERSION_JUMP);
    }

    /**
     * @param trustedKeys when not null, only versions signed by one of these keys are accepted
     * @param maxVersionJump a version more than this above the newest held one is refused (a forged
     *     number such as Long.MAX_VALUE would otherwise pin the client)
     */
    ModelState(String modelName, int keepVersions, Map<String, java.security.PublicKey> trustedKeys, long maxVersionJump) {
        if (keepVersions < 1) {
            throw new IllegalArgumentException("keepVersions must be at least 1, got " + keepVersions);
        }
        if (maxVersionJump < 1) {
            throw new IllegalArgumentException("maxVersionJump must be at least 1, got " + maxVersionJump);
        }
        this.modelName = modelName;
        this.keepVersions = keepVersions;
        this.trustedKeys = trustedKeys == null ? null : Map.copyOf(trustedKeys);
        this.maxVersionJump = maxVersionJump;
    }

    /** Verifies and keeps a published version; returns whether it was added. */
    boolean onModelVersion(ModelVersion v) {
        if (!modelName.equals(v.getModelName())) {
            return false;
        }
        String refusal = refusal(v);
        if (refusal != null) {
            reject(refusal);
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
        ModelFormat<?, ?> format = ModelFormats.byEncoding(v.getParameterEncoding()).orElseThrow();
        synchronized (lock) {
            long version = v.getVersion();
            if (versions.containsKey(version)
                    || (versions.size() >= keepVersions && version < versions.firstKey())) {
                return false;
            }
            versions.put(version, new Held(version, format, decoded, v.getRunId(), v.getParametersSha256()));
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

    /**
     * Why {@code v} must not be used, or null: unsigned or wrongly signed when keys are trusted; a second
     * version of one run with a number already held but other parameters (a fork: an older savepoint was
     * restored and published the number again); a number too far above the newest held one.
     */
    private String refusal(ModelVersion v) {
        if (trustedKeys != null) {
            try {
                ModelSignatures.verify(v, trustedKeys);
            } catch (ModelIntegrityException e) {
                return e.getMessage();
            }
        }
        synchronized (lock) {
            Held same = versions.get(v.getVersion());
            if (same != null && !same.sha256().equalsIgnoreCase(String.valueOf(v.getParametersSha256()))) {
                return "model " + modelName + " version " + v.getVersion() + " arrived again with other parameters ("
                        + (same.runId().equals(v.getRunId()) ? "same run " + v.getRunId() : "runs " + same.runId() + " and "
                        + v.getRunId()) + "): a fork, e.g. an older savepoint restored; keeping the first";
            }
            if (!versions.isEmpty() && v.getVersion() > versions.lastKey() + maxVersionJump) {
                return "model " + modelName + " version " + v.getVersion() + " is more than " + maxVersionJump
                        + " above the newest held version " + versions.lastKey() + "; refusing the jump";
            }
        }
        return null;
    }

    /** Checks and keeps a task's adaptation; returns whether it replaced the held one. */
    boolean onAdaptedModel(AdaptedModel a) {
        if (!modelName.equals(a.getModelName())) {
            return false;
        }
        Object adaptation = a.getAdaptation();
        String what = "task " + a.getTaskId() + ", base version " + a.getBaseVersion();
        if (adaptation == null) {
            reject("adaptation of " + what + " is null");
            return false;
        }
        ModelFormat<?, ?> format = ModelFormats.byAdaptation(adaptation).orElse(null);
        if (format == null) {
            reject(what + ": no model format applies a " + adaptation.getClass().getSimpleName() + " adaptation");
            return false;
        }
        try {
            format.checkAdaptation(adaptation);
        } catch (ModelIntegrityException e) {
            reject(what + ": " + e.getMessage());
            return false;
        }
        Adaptation next = new Adaptation(a.getBaseVersion(), format, adaptation);
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

    /** The newest version decoded, when it is a {@code type}. */
    <M> Optional<M> base(Class<M> type) {
        synchronized (lock) {
            return versions.isEmpty() ? Optional.empty() : cast(versions.lastEntry().getValue().decoded(), type);
        }
    }

    /** A held version decoded, when it is held and a {@code type}. */
    <M> Optional<M> version(long version, Class<M> type) {
        synchronized (lock) {
            Held h = versions.get(version);
            return h == null ? Optional.empty() : cast(h.decoded(), type);
        }
    }

    /**
     * What an agent acts with in a task ({@link ModelFormat#taskType()}): the newest version with the
     * task's adaptation applied when it has a usable one (on the version the format applies it to),
     * else the newest version unadapted. Empty before the first version or when the newest version's
     * format does not give a {@code type}.
     */
    <T> Optional<T> forTask(String taskId, Class<T> type) {
        Held latest;
        Held base = null;
        Adaptation adaptation;
        synchronized (lock) {
            if (versions.isEmpty() || versions.lastEntry().getValue().format().taskType() != type) {
                return Optional.empty();
            }
            latest = versions.lastEntry().getValue();
            adaptation = adaptations.get(taskId);
            if (adaptation != null && adaptation.format == latest.format()) {
                base = latest.format().adaptationBoundToItsBase() ? versions.get(adaptation.baseVersion) : latest;
            }
        }
        if (base != null && !adaptation.unusable) {
            Combined cached = combined.get(taskId);
            if (cached != null && cached.source() == adaptation && cached.base() == base) {
                return Optional.of(type.cast(cached.value()));
            }
            try {
                Object value = adapt(base, adaptation);
                combined.put(taskId, new Combined(adaptation, base, value));
                return Optional.of(type.cast(value));
            } catch (ModelIntegrityException e) {
                adaptation.unusable = true;
                reject("task " + taskId + ", base version " + base.version() + ": " + e.getMessage());
            }
        } else {
            combined.remove(taskId);
        }
        return Optional.of(type.cast(unadapted(latest)));
    }

    @SuppressWarnings("unchecked")
    private static <M, T> T adapt(Held base, Adaptation adaptation) {
        ModelFormat<M, T> f = (ModelFormat<M, T>) base.format();
        return f.adapted((M) base.decoded(), base.version(), adaptation.record, adaptation.baseVersion);
    }

    @SuppressWarnings("unchecked")
    private static <M, T> T unadapted(Held latest) {
        ModelFormat<M, T> f = (ModelFormat<M, T>) latest.format();
        return f.unadapted((M) latest.decoded(), latest.version());
    }

    private static <M> Optional<M> cast(Object decoded, Class<M> type) {
        return type.isInstance(decoded) ? Optional.of(type.cast(decoded)) : Optional.empty();
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
}
