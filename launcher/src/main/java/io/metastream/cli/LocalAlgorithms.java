package io.metastream.cli;

import io.metastream.cli.grbal.GrbalLocal;
import io.metastream.cli.pearl.PearlLocal;
import io.metastream.flink.MetaAlgorithms;

import java.util.List;

/** The algorithms the launcher can run and drive, one line each; every one pairs with a job algorithm. */
public final class LocalAlgorithms {
    private LocalAlgorithms() {}

    private static final List<LocalAlgorithm> ALL = List.of(
            new GrbalLocal(),
            new PearlLocal());

    /**
     * The launcher side of the algorithm {@code name} names.
     *
     * @throws IllegalArgumentException for a name no registered algorithm has, listing the supported ones
     */
    public static LocalAlgorithm byName(String name) {
        String job = MetaAlgorithms.byName(name).name();
        for (LocalAlgorithm a : ALL) {
            if (a.job().name().equals(job)) {
                return a;
            }
        }
        throw new IllegalStateException("algorithm '" + job + "' runs in the job but the launcher has no "
                + "LocalAlgorithm for it; register one in LocalAlgorithms");
    }

    /** Every registered algorithm. */
    public static List<LocalAlgorithm> all() {
        return ALL;
    }
}
