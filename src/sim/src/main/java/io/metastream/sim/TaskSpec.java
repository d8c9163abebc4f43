package io.metastream.sim;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One task of a {@link TaskFamily}: a stable identifier plus the parameters that define its dynamics
 * or its reward (for example a pendulum's mass, a point robot's goal). Immutable; the parameter map is copied and sorted by name,
 * so two specs with the same id and parameters are equal regardless of how they were built.
 *
 * <p>The id is also the Kafka key of every transition collected in the task, so the streaming job
 * keeps one context window per id. Which parameter names a family needs is documented on
 * {@link TaskFamilies}.
 *
 * @param id non-blank identifier, e.g. {@code "pendulum-train-7"}
 * @param params parameter values by name; every value must be finite
 */
public record TaskSpec(String id, SortedMap<String, Double> params) {

    public TaskSpec {
        Objects.requireNonNull(id, "TaskSpec id must not be null");
        if (id.isBlank()) {
            throw new IllegalArgumentException(
                    "TaskSpec id must be non-blank; use an id such as 'pendulum-train-7'");
        }
        Objects.requireNonNull(params, "TaskSpec params must not be null; pass an empty map for none");
        TreeMap<String, Double> copy = new TreeMap<>();
        for (Map.Entry<String, Double> e : params.entrySet()) {
            String name = e.getKey();
            Double value = e.getValue();
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("task '" + id + "' has a blank parameter name; name every parameter");
            }
            if (value == null || !Double.isFinite(value)) {
                throw new IllegalArgumentException("parameter '" + name + "' of task '" + id + "' is " + value
                        + "; every task parameter must be a finite number");
            }
            copy.put(name, value);
        }
        params = Collections.unmodifiableSortedMap(copy);
    }

    /**
     * Returns the value of a parameter the caller requires.
     *
     * @throws IllegalArgumentException if the task has no such parameter; the message lists the ones it has
     */
    public double param(String name) {
        Double value = params.get(name);
        if (value == null) {
            throw new IllegalArgumentException("task '" + id + "' has no parameter '" + name + "' (it has "
                    + params.keySet() + "); build it with the parameters its family documents");
        }
        return value;
    }
}
