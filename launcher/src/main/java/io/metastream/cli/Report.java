package io.metastream.cli;

import io.metastream.sim.MetaTest;
import io.metastream.sim.pearl.PearlMetaTrainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The local run's result: {@code report.json} plus PNG plots in one folder. */
final class Report {
    String algorithm;
    String family;
    long versionsPublished;
    long transitionsProcessed;
    long transitionsProduced;
    long deadLetters;
    /** GrBAL's held-out meta-test; null for PEARL. */
    MetaTest.Result heldOut;
    /** PEARL's held-out meta-test (return and goal-reached rate of episode k after k context episodes); null for GrBAL. */
    PearlMetaTrainer.Evaluation pearl;
    /** Per published version: version, transitionsSeen, preAdaptLoss, postAdaptLoss. */
    List<double[]> curve;
    double wallSeconds;
    long seed;
    Map<String, String> config;

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("report.json"), toJson());
        if (pearl != null) {
            Plots.lines(dir.resolve("learning-curve.png"), "PEARL on the stream (" + family + ")", "transitions sent",
                    "fleet mean episode return", Map.of("fleet (posterior sampling)",
                            curve.stream().map(c -> new double[] {c[1], c[3]}).toList()));
            LinkedHashMap<String, Double> ret = new LinkedHashMap<>();
            for (int k = 0; k < pearl.returnAfter().length; k++) {
                ret.put(k == 0 ? "prior z" : "after " + k + " context ep.", pearl.returnAfter()[k]);
            }
            Plots.bars(dir.resolve("heldout-return.png"), "Held-out return (higher is better)", "return", ret);
            return;
        }
        Map<String, List<double[]>> loss = new LinkedHashMap<>();
        loss.put("meta-batch loss before adaptation", curve.stream().map(c -> new double[] {c[0], c[2]}).toList());
        loss.put("meta-batch loss after adaptation", curve.stream().map(c -> new double[] {c[0], c[3]}).toList());
        Plots.lines(dir.resolve("learning-curve.png"), "GrBAL learning curve (" + family + ")", "model version",
                "normalised one-step MSE", loss);
        LinkedHashMap<String, Double> mse = new LinkedHashMap<>();
        mse.put("adapted", heldOut.adaptedMse());
        mse.put("unadapted meta", heldOut.unadaptedMse());
        mse.put("non-meta", heldOut.nonMetaMse());
        Plots.bars(dir.resolve("heldout-mse.png"), "Held-out one-step prediction MSE (lower is better)", "MSE", mse);
        LinkedHashMap<String, Double> ret = new LinkedHashMap<>();
        ret.put("MPC adapted", heldOut.mpcReturnAdapted());
        ret.put("MPC unadapted", heldOut.mpcReturnUnadapted());
        Plots.bars(dir.resolve("heldout-mpc-return.png"), "Held-out MPC return (higher is better)", "return", ret);
    }

    String toJson() {
        StringBuilder b = new StringBuilder("{\n");
        field(b, "algorithm", algorithm);
        field(b, "family", family);
        field(b, "seed", seed);
        field(b, "versionsPublished", versionsPublished);
        field(b, "transitionsProcessed", transitionsProcessed);
        field(b, "transitionsProduced", transitionsProduced);
        field(b, "deadLetters", deadLetters);
        field(b, "wallSeconds", wallSeconds);
        if (pearl != null) {
            return pearlJson(b);
        }
        b.append("  \"heldOut\": {\n");
        b.append("    \"tasks\": ").append(heldOut.tasks()).append(",\n");
        b.append("    \"adaptedMse\": ").append(num(heldOut.adaptedMse())).append(",\n");
        b.append("    \"unadaptedMse\": ").append(num(heldOut.unadaptedMse())).append(",\n");
        b.append("    \"nonMetaMse\": ").append(num(heldOut.nonMetaMse())).append(",\n");
        b.append("    \"adaptedToUnadaptedMseRatio\": ").append(num(heldOut.adaptedMse() / heldOut.unadaptedMse())).append(",\n");
        b.append("    \"mpcReturnAdapted\": ").append(num(heldOut.mpcReturnAdapted())).append(",\n");
        b.append("    \"mpcReturnUnadapted\": ").append(num(heldOut.mpcReturnUnadapted())).append(",\n");
        b.append("    \"perTask\": [");
        for (int i = 0; i < heldOut.perTask().size(); i++) {
            MetaTest.TaskResult t = heldOut.perTask().get(i);
            b.append(i == 0 ? "\n" : ",\n").append("      {\"taskId\": ").append(str(t.taskId()))
                    .append(", \"adaptedMse\": ").append(num(t.adaptedMse()))
                    .append(", \"unadaptedMse\": ").append(num(t.unadaptedMse()))
                    .append(", \"nonMetaMse\": ").append(num(t.nonMetaMse()))
                    .append(", \"mpcReturnAdapted\": ").append(num(t.mpcReturnAdapted()))
                    .append(", \"mpcReturnUnadapted\": ").append(num(t.mpcReturnUnadapted())).append("}");
        }
        b.append("\n    ]\n");
        b.append("  },\n");
        b.append("  \"learningCurve\": [");
        for (int i = 0; i < curve.size(); i++) {
            double[] c = curve.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {\"version\": ").append((long) c[0])
                    .append(", \"transitionsSeen\": ").append((long) c[1])
                    .append(", \"preAdaptLoss\": ").append(num(c[2]))
                    .append(", \"postAdaptLoss\": ").append(num(c[3])).append("}");
        }
        appendConfig(b);
        return b.toString();
    }

    private void appendConfig(StringBuilder b) {
        b.append("\n  ],\n  \"config\": {");
        int i = 0;
        for (Map.Entry<String, String> e : config.entrySet()) {
            b.append(i++ == 0 ? "\n" : ",\n").append("    ").append(str(e.getKey())).append(": ").append(str(e.getValue()));
        }
        b.append("\n  }\n}\n");
    }

    private String pearlJson(StringBuilder b) {
        int k = pearl.returnAfter().length - 1;
        b.append("  \"heldOut\": {\n");
        b.append("    \"tasks\": ").append(pearl.tasks()).append(",\n");
        b.append("    \"repetitions\": ").append(pearl.repetitions()).append(",\n");
        b.append("    \"priorReturn\": ").append(num(pearl.returnAfter()[0])).append(",\n");
        b.append("    \"adaptedReturn\": ").append(num(pearl.returnAfter()[k])).append(",\n");
        b.append("    \"returnAfterContextEpisodes\": ").append(array(pearl.returnAfter())).append(",\n");
        b.append("    \"goalReachedAfterContextEpisodes\": ").append(array(pearl.successAfter())).append("\n");
        b.append("  },\n");
        b.append("  \"learningCurve\": [");
        for (int i = 0; i < curve.size(); i++) {
            double[] c = curve.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {\"version\": ").append((long) c[0])
                    .append(", \"transitionsSent\": ").append((long) c[1])
                    .append(", \"criticLoss\": ").append(num(c[2]))
                    .append(", \"fleetMeanReturn\": ").append(num(c[3])).append("}");
        }
        appendConfig(b);
        return b.toString();
    }

    static String array(double[] v) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ", ").append(num(v[i]));
        }
        return b.append(']').toString();
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

    static String num(double d) {
        return Double.isFinite(d) ? Double.toString(d) : "null";
    }

    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
