package io.metastream.cli;

import io.metastream.cli.grbal.GrbalReport;
import io.metastream.cli.pearl.PearlReport;
import io.metastream.sim.evaluation.MetaTest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ReportTest {

    @Test
    void writesValidJsonWithTheDocumentedFieldsAndThePlots(@TempDir Path dir) throws Exception {
        Report r = new Report();
        r.family = "pendulum";
        r.versionsPublished = 3;
        r.transitionsProcessed = 100;
        r.transitionsProduced = 101;
        r.deadLetters = 5;
        r.wallSeconds = 12.5;
        r.seed = 7;
        r.curve = List.of(new double[] {1, 10, 0.5, 0.4}, new double[] {2, 20, Double.NaN, 0.3});
        r.section = new GrbalReport(new MetaTest.Result(1, 0.1, 0.3, 0.2, -900, -1000,
                List.of(new MetaTest.TaskResult("t-1", 0.1, 0.3, 0.2, -900, -1000))),
                Map.of("innerLr", "0.1", "quote\"key", "v"));
        assertThat(r.write(dir)).containsExactly("learning-curve.png", "heldout-mse.png", "heldout-mpc-return.png");

        JsonNode json = new ObjectMapper().readTree(Files.readString(dir.resolve("report.json")));
        assertThat(json.get("algorithm").asText()).isEqualTo("GRBAL");
        assertThat(json.get("versionsPublished").asLong()).isEqualTo(3);
        assertThat(json.get("transitionsProcessed").asLong()).isEqualTo(100);
        assertThat(json.get("deadLetters").asLong()).isEqualTo(5);
        assertThat(json.get("wallSeconds").asDouble()).isEqualTo(12.5);
        JsonNode heldOut = json.get("heldOut");
        for (String k : List.of("adaptedMse", "unadaptedMse", "nonMetaMse", "mpcReturnAdapted", "mpcReturnUnadapted")) {
            assertThat(heldOut.get(k).isNumber()).as(k).isTrue();
        }
        assertThat(heldOut.get("perTask").get(0).get("taskId").asText()).isEqualTo("t-1");
        assertThat(json.get("learningCurve").get(1).get("preAdaptLoss").isNull()).isTrue();
        assertThat(json.get("config").get("quote\"key").asText()).isEqualTo("v");
        assertThat(dir.resolve("learning-curve.png")).isNotEmptyFile();
        assertThat(dir.resolve("heldout-mse.png")).isNotEmptyFile();
        assertThat(dir.resolve("heldout-mpc-return.png")).isNotEmptyFile();
    }

    @Test
    void aPearlReportHasThePriorAndAdaptedReturnsAndItsPlots(@TempDir Path dir) throws Exception {
        Report r = new Report();
        r.family = "point-robot";
        r.versionsPublished = 3;
        r.seed = 7;
        r.curve = List.of(new double[] {1, 1000, 50.0, -20.0}, new double[] {2, 2000, 40.0, -12.5});
        r.section = new PearlReport(new io.metastream.sim.pearl.PearlMetaTrainer.Evaluation(new double[] {-15, -12, -10},
                new double[] {0, 0.5, 1}, 8, 3), Map.of("latentDim", "5"));
        r.write(dir);

        JsonNode json = new ObjectMapper().readTree(Files.readString(dir.resolve("report.json")));
        assertThat(json.get("algorithm").asText()).isEqualTo("PEARL");
        JsonNode heldOut = json.get("heldOut");
        assertThat(heldOut.get("priorReturn").asDouble()).isEqualTo(-15.0);
        assertThat(heldOut.get("adaptedReturn").asDouble()).isEqualTo(-10.0);
        assertThat(heldOut.get("returnAfterContextEpisodes").size()).isEqualTo(3);
        assertThat(heldOut.get("goalReachedAfterContextEpisodes").get(2).asDouble()).isEqualTo(1.0);
        assertThat(json.get("learningCurve").get(1).get("fleetMeanReturn").asDouble()).isEqualTo(-12.5);
        assertThat(dir.resolve("learning-curve.png")).isNotEmptyFile();
        assertThat(dir.resolve("heldout-return.png")).isNotEmptyFile();
    }
}
