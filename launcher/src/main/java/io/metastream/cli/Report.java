package io.metastream.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.metastream.cli.Json.num;
import static io.metastream.cli.Json.str;

/**
 * The local run's result: {@code report.json} plus PNG plots in one folder. The fields every run has are
 * here; the held-out meta-test, the learning curve's columns and the plots are the algorithm's
 * {@link ReportSection}.
 */
final class Report {
    String family;
    long versionsPublished;
    long transitionsProcessed;
    long transitionsProduced;
    long deadLetters;
    /** The fleet's transitions per second over the run (from its first step to its end). */
    double fleetTransitionsPerSecond;
    /** One point per published version, as the algorithm's {@link LocalAlgorithm#curvePoint} made it. */
    List<double[]> curve;
    double wallSeconds;
    long seed;
    ReportSection section;
    /** The job's metrics at the end of the run, as {@link JobMetrics#snapshot} took them (null: not taken). */
    Map<String, Object> jobMetrics;

    /** Writes {@code report.json} and the plots; returns the plots' file names. */
    List<String> write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("report.json"), Json.withoutMachinePaths(toJson()));
        return section.plot(dir, family, curve);
    }

    String toJson() {
        StringBuilder b = new StringBuilder("{\n");
        field(b, "algorithm", section.algorithm());
        field(b, "family", family);
        field(b, "seed", seed);
        field(b, "versionsPublished", versionsPublished);
        field(b, "transitionsProcessed", transitionsProcessed);
        field(b, "transitionsProduced", transitionsProduced);
        field(b, "deadLetters", deadLetters);
        field(b, "fleetTransitionsPerSecond", fleetTransitionsPerSecond);
        field(b, "wallSeconds", wallSeconds);
        if (jobMetrics != null) {
            b.append("  \"jobMetrics\": ");
            Json.write(b, jobMetrics, "  ");
            b.append(",\n");
        }
        section.appendHeldOut(b);
        b.append("  \"learningCurve\": [");
        for (int i = 0; i < curve.size(); i++) {
            b.append(i == 0 ? "\n" : ",\n").append("    ").append(section.curveEntry(curve.get(i)));
        }
        b.append("\n  ],\n  \"config\": {");
        int i = 0;
        for (Map.Entry<String, String> e : new TreeMap<>(section.config()).entrySet()) {
            b.append(i++ == 0 ? "\n" : ",\n").append("    ").append(str(e.getKey())).append(": ").append(str(e.getValue()));
        }
        b.append("\n  }\n}\n");
        return b.toString();
    }

    private static void field(StringBuilder b, String name, Object v) {
        b.append("  ").append(str(name)).append(": ");
        if (v instanceof String) {
            b.append(str((String) v));
        } else if (v instanceof Double) {
            b.append(num((Double) v));
        } else {
            b.append(v);
        }
        b.append(",\n");
    }
}
