package io.metastream.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One algorithm's part of the local run's report: its held-out meta-test, its learning curve, its
 * plots and the lines {@code bin/metastream run} prints. {@link Report} writes the fields every run has
 * around it.
 */
public interface ReportSection {

    /** The report's {@code algorithm} field (the {@code ModelVersion.algorithm} of the run's model). */
    String algorithm();

    /** The settings the run's model was trained with, written as {@code config}. */
    Map<String, String> config();

    /**
     * Appends the {@code "heldOut": {...},} field and the entries of the {@code learningCurve} array, one
     * per curve point (each point as {@link LocalAlgorithm#curvePoint} made it).
     */
    void appendHeldOut(StringBuilder json);

    /** One {@code learningCurve} entry, a JSON object. */
    String curveEntry(double[] point);

    /** Writes the PNG plots into {@code dir}; returns their file names. */
    List<String> plot(Path dir, String family, List<double[]> curve) throws IOException;

    /** The held-out lines printed at the end of a run. */
    List<String> summary(String family);
}
