package io.metastream.cli.grbal;

import io.metastream.cli.Plots;
import io.metastream.cli.ReportSection;
import io.metastream.sim.evaluation.MetaTest;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.metastream.cli.Json.num;
import static io.metastream.cli.Json.str;

/**
 * GrBAL's report section: held-out one-step prediction MSE (adapted, unadapted meta-model, non-meta) and
 * MPC return with and without adaptation; the curve is the meta-batch loss before and after adaptation
 * per version.
 */
public final class GrbalReport implements ReportSection {

    private final MetaTest.Result heldOut;
    private final Map<String, String> config;

    public GrbalReport(MetaTest.Result heldOut, Map<String, String> config) {
        this.heldOut = heldOut;
        this.config = config;
    }

    @Override
    public String algorithm() {
        return "GRBAL";
    }

    @Override
    public Map<String, String> config() {
        return config;
    }

    @Override
    public void appendHeldOut(StringBuilder b) {
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
    }

    @Override
    public String curveEntry(double[] c) {
        return "{\"version\": " + (long) c[0] + ", \"transitionsSeen\": " + (long) c[1] + ", \"preAdaptLoss\": "
                + num(c[2]) + ", \"postAdaptLoss\": " + num(c[3]) + "}";
    }

    @Override
    public List<String> plot(Path dir, String family, List<double[]> curve) throws IOException {
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
        return List.of("learning-curve.png", "heldout-mse.png", "heldout-mpc-return.png");
    }

    @Override
    public List<String> summary(String family) {
        return List.of(
                "held-out meta-test (" + heldOut.tasks() + " tasks, family " + family + "):",
                String.format("  one-step prediction MSE  adapted %.5f | unadapted meta-model %.5f | non-meta %.5f",
                        heldOut.adaptedMse(), heldOut.unadaptedMse(), heldOut.nonMetaMse()),
                String.format("  adapted / unadapted MSE  %.3f", heldOut.adaptedMse() / heldOut.unadaptedMse()),
                String.format("  MPC return               adapted %.1f | unadapted %.1f",
                        heldOut.mpcReturnAdapted(), heldOut.mpcReturnUnadapted()));
    }
}
