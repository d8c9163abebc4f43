package io.metastream.sim.fleet;

import io.metastream.sim.fleet.grbal.ModelSource;
import io.metastream.client.TaskModel;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** A model source whose per-task models a test sets directly; counts lookups. Thread-safe. */
final class FakeModelSource implements ModelSource {

    private final Map<String, TaskModel> models = new ConcurrentHashMap<>();
    private final AtomicLong lookups = new AtomicLong();

    FakeModelSource put(String taskId, TaskModel model) {
        models.put(taskId, model);
        return this;
    }

    void remove(String taskId) {
        models.remove(taskId);
    }

    long lookups() {
        return lookups.get();
    }

    @Override
    public Optional<TaskModel> modelFor(String taskId) {
        lookups.incrementAndGet();
        return Optional.ofNullable(models.get(taskId));
    }
}
