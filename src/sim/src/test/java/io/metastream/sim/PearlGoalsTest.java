package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The published PEARL goal lists, checked three ways: against the reference table (a verbatim copy of
 * METARL.md Appendix A in the test resources), against hand-picked values, and re-derived from numpy's
 * legacy MT19937 stream with {@link LegacyNumpyRandom}.
 */
class PearlGoalsTest {

    @Test
    void pointRobotGoalsAreExactlyTheAppendixATable() throws IOException {
        double[][] table = appendixA();
        double[][] goals = PearlGoals.pointRobot();

        assertThat(table).hasNumberOfRows(100);
        assertThat(goals).hasNumberOfRows(100);
        for (int i = 0; i < 100; i++) {
            assertThat(goals[i]).as("goal %d", i).containsExactly(table[i]);
        }
    }

    @Test
    void pointRobotGoalsSpotChecks() {
        double[][] g = PearlGoals.pointRobot();
        assertThat(g[0]).containsExactly(-0.4759506499688366, -0.6826320556910688);
        assertThat(g[12]).containsExactly(-0.0007034772559750824, -0.6428626456729458);
        assertThat(g[29]).containsExactly(0.9469187987353844, -0.017036940337160633);
        assertThat(g[79]).containsExactly(0.10041242688340368, 0.8115007231481777);
        assertThat(g[80]).containsExactly(0.7966378440628668, -0.4751950943033574);
        assertThat(g[85]).containsExactly(-0.30810865356323713, -0.0005257880349265331);
        assertThat(g[99]).containsExactly(0.7042328659939507, 0.0948723942233416);
    }

    @Test
    void pointRobotGoalsAreNumpysSeed1337UniformDraws() {
        LegacyNumpyRandom rng = new LegacyNumpyRandom(1337);
        double[][] goals = PearlGoals.pointRobot();
        for (int i = 0; i < 100; i++) {
            double gx = rng.uniform(-1.0, 1.0);
            double gy = rng.uniform(-1.0, 1.0);
            assertThat(goals[i]).as("goal %d", i).containsExactly(gx, gy);
        }
    }

    @Test
    void sparseOrderIsNumpysSeed1337ShuffleOfTheHalfCircle() {
        Integer[] k = IntStream.range(0, 100).boxed().toArray(Integer[]::new);
        new LegacyNumpyRandom(1337).shuffle(k);

        assertThat(PearlGoals.sparseOrder()).containsExactly(IntStream.range(0, 100).map(i -> k[i]).toArray());
    }

    @Test
    void sparseOrderSpotChecksAndSplit() {
        int[] order = PearlGoals.sparseOrder();
        assertThat(order).hasSize(100);
        assertThat(IntStream.of(order).sorted().toArray()).containsExactly(IntStream.range(0, 100).toArray());
        // train: the first 80
        assertThat(order[0]).isEqualTo(2);
        assertThat(order[1]).isEqualTo(48);
        assertThat(order[40]).isEqualTo(0);
        assertThat(order[79]).isEqualTo(75);
        // eval: the last 20
        assertThat(IntStream.of(order).skip(80).toArray())
                .containsExactly(66, 22, 88, 27, 1, 24, 99, 54, 6, 9, 72, 84, 82, 90, 96, 89, 39, 92, 61, 23);
    }

    @Test
    void sparseGoalsLieOnTheUpperUnitHalfCircleAtTheirAngles() {
        double[][] goals = PearlGoals.sparsePointRobot();
        int[] order = PearlGoals.sparseOrder();
        for (int i = 0; i < 100; i++) {
            double theta = order[i] * Math.PI / 99;
            assertThat(goals[i][0]).as("x of goal %d", i).isCloseTo(Math.cos(theta), within(1e-15));
            assertThat(goals[i][1]).as("y of goal %d", i).isCloseTo(Math.sin(theta), within(1e-15));
            assertThat(Math.hypot(goals[i][0], goals[i][1])).isCloseTo(1.0, within(1e-15));
            assertThat(goals[i][1]).isGreaterThanOrEqualTo(0.0);
        }
        // numpy's values (np.linspace(0, np.pi, 100), np.cos, np.sin) at a few positions
        assertThat(goals[40]).as("k = 0").containsExactly(1.0, 0.0);
        assertThat(goals[86]).as("k = 99, linspace ends at pi exactly").containsExactly(-1.0, 1.2246467991473532e-16);
        assertThat(goals[0]).as("k = 2").containsExactly(0.9979866764718844, 0.0634239196565645);
        assertThat(goals[80]).as("k = 66").containsExactly(-0.5000000000000002, 0.8660254037844385);
    }

    @Test
    void sparseGoalsAreExactlyNumpysValues() throws IOException {
        double[][] goals = PearlGoals.sparsePointRobot();
        int[] order = PearlGoals.sparseOrder();
        List<String[]> rows = resourceRows("/pearl-sparse-point-robot-goals.txt", 4);

        assertThat(rows).hasSize(100);
        for (int i = 0; i < 100; i++) {
            String[] f = rows.get(i);
            assertThat(Integer.parseInt(f[0])).isEqualTo(i);
            assertThat(order[i]).as("k at position %d", i).isEqualTo(Integer.parseInt(f[1]));
            assertThat(goals[i]).as("goal at position %d", i)
                    .containsExactly(Double.parseDouble(f[2]), Double.parseDouble(f[3]));
        }
    }

    @Test
    void copiesAreFresh() {
        PearlGoals.pointRobot()[0][0] = 42;
        PearlGoals.sparseOrder()[0] = 42;
        assertThat(PearlGoals.pointRobot()[0][0]).isEqualTo(-0.4759506499688366);
        assertThat(PearlGoals.sparseOrder()[0]).isEqualTo(2);
    }

    /** Parses the verbatim Appendix A table: "i gx gy" rows. */
    static double[][] appendixA() throws IOException {
        List<double[]> goals = new ArrayList<>();
        for (String[] f : resourceRows("/pearl-point-robot-goals.txt", 3)) {
            assertThat(Integer.parseInt(f[0])).isEqualTo(goals.size());
            goals.add(new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2])});
        }
        return goals.toArray(new double[0][]);
    }

    /** The whitespace-separated data rows of a test resource, skipping '#' comments and the column header. */
    private static List<String[]> resourceRows(String resource, int columns) throws IOException {
        List<String[]> rows = new ArrayList<>();
        try (InputStream in = PearlGoalsTest.class.getResourceAsStream(resource)) {
            assertThat(in).as("test resource %s", resource).isNotNull();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                String[] f = line.trim().split("\\s+");
                if (line.startsWith("#") || f.length != columns || !Character.isDigit(f[0].charAt(0))) {
                    continue;
                }
                rows.add(f);
            }
        }
        return rows;
    }
}
