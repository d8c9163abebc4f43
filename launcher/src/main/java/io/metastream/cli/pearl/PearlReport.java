package io.metastream.cli.pearl;

import io.metastream.cli.Plots;
import io.metastream.cli.ReportSection;
import io.metastream.sim.pearl.PearlMetaTrainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.metastream.cli.Json.array;
import static io.metastream.cli.Json.num;

/**
 * PEARL's report section: held-out return (and goal-reached rate) of episode k after k context episodes;
 * the curve is the critic loss and the fleet's mean return per version.
 */
public final class PearlReport implements ReportSection {

    private final PearlMetaTrainer.Evaluation heldOut;
    private final Map<String, String> config;

    public PearlReport(PearlMetaTrainer.Evaluation heldOut, Map<String, String> config) {
        this.heldOut = heldOut;
        this.config = config;
    }

    @Override
    public String algorithm() {
        return "PEARL";
    }

    @Override
    public Map<String, String> config() {
        return config;
    }

    @Override
    public void appendHeldOut(StringBuilder b) {
        int k = heldOut.returnAfter().length - 1;
        b.append("  \"heldOut\": {\n");
        b.append("    \"tasks\": ").append(heldOut.tasks()).append(",\n");
        b.append("    \"repetitions\": ").append(heldOut.repetitions()).append(",\n");
        b.append("    \"priorReturn\": ").append(num(heldOut.returnAfter()[0])).append(",\n");
        b.append("    \"adaptedReturn\": ").append(num(heldOut.returnAfter()[k])).append(",\n");
        b.append("    \"returnAfterContextEpisodes\": ").append(array(heldOut.returnAfter())).append(",\n");
        b.append("    \"goalReachedAfterContextEpisodes\": ").append(array(heldOut.successAfter())).append("\n");
        b.append("  },\n");
    }

    @Override
    public String curveEntry(double[] c) {
        return "{\"version\": " + (long) c[0] + ", \"transitionsSent\": " + (long) c[1] + ", \"criticLoss\": "
                + num(c[2]) + ", \"fleetMeanReturn\": " + num(c[3]) + "}";
    }

    @Override
    public List<String> plot(Path dir, String family, List<double[]> curve) throws IOException {
        Plots.lines(dir.resolve("learning-curve.png"), "PEARL on the stream (" + family + ")", "transitions sent",
                "fleet mean episode return", Map.of("fleet (posterior sampling)",
                        curve.stream().map(c -> new double[] {c[1], c[3]}).toList()));
        LinkedHashMap<String, Double> ret = new LinkedHashMap<>();
        for (int k = 0; k < heldOut.returnAfter().length; k++) {
            ret.put(k == 0 ? "prior z" : "after " + k + " context ep.", heldOut.returnAfter()[k]);
        }
        Plots.bars(dir.resolve("heldout-return.png"), "Held-out return (higher is better)", "return", ret);
        return List.of("learning-curve.png", "heldout-return.png");
    }

    @Override
    public List<String> summary(String family) {
        double[] ret = heldOut.returnAfter();
        return List.of(
                "held-out meta-test (" + heldOut.tasks() + " tasks, family " + family + ", PEARL):",
                String.format("  return with z from the prior %.2f | after 1 context episode %.2f | after %d %.2f",
                        ret[0], ret[1], ret.length - 1, ret[ret.length - 1]));
    }
}
