package io.metastream.flink;

import io.metastream.flink.grbal.GrbalAlgorithm;
import io.metastream.flink.pearl.PearlAlgorithm;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The registry of algorithms the job can run, by {@code metastream.algorithm}. One line per algorithm. */
public final class MetaAlgorithms {
    private MetaAlgorithms() {}

    /** The algorithm a job runs when {@code metastream.algorithm} is not set. */
    public static final String DEFAULT = "grbal";

    private static final List<MetaAlgorithm<?>> ALL = List.of(
            new GrbalAlgorithm(),
            new PearlAlgorithm());

    /** Every registered algorithm, in registration order. */
    public static List<MetaAlgorithm<?>> all() {
        return ALL;
    }

    /** The names {@code metastream.algorithm} accepts. */
    public static List<String> names() {
        return ALL.stream().map(MetaAlgorithm::name).collect(Collectors.toList());
    }

    /** {@code name (description); ...} of every algorithm, for option descriptions. */
    public static String described() {
        return ALL.stream().map(a -> a.name() + " (" + a.description() + ")").collect(Collectors.joining("; "));
    }

    /**
     * The algorithm called {@code name} (case-insensitive).
     *
     * @throws IllegalArgumentException for a name no algorithm has, listing the supported ones
     */
    public static MetaAlgorithm<?> byName(String name) {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        for (MetaAlgorithm<?> a : ALL) {
            if (a.name().equals(n)) {
                return a;
            }
        }
        throw new IllegalArgumentException(MetaStreamOptions.ALGORITHM.key() + " '" + name + "' is not supported; "
                + "supported: " + String.join(", ", names()));
    }
}
