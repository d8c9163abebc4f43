package io.metastream.core.grbal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SegmentTest {

    private static Segment threeSteps() {
        return new Segment(new double[][] {{0, 1}, {2, 3}, {4, 5}}, new double[][] {{1}, {2}, {3}},
                new double[][] {{2, 3}, {4, 5}, {6, 7}});
    }

    @Test
    void exposesDimensionsAndSlices() {
        Segment s = threeSteps();
        assertThat(s.length()).isEqualTo(3);
        assertThat(s.obsDim()).isEqualTo(2);
        assertThat(s.actDim()).isEqualTo(1);
        Segment tail = s.slice(1, 3);
        assertThat(tail.obs()).isDeepEqualTo(new double[][] {{2, 3}, {4, 5}});
        assertThat(tail.act()).isDeepEqualTo(new double[][] {{2}, {3}});
        assertThat(tail.nextObs()).isDeepEqualTo(new double[][] {{4, 5}, {6, 7}});
        assertThat(s.last(2)).isEqualTo(tail);
    }

    @Test
    void isImmutableThroughItsArguments() {
        double[][] obs = {{0, 1}};
        Segment s = new Segment(obs, new double[][] {{1}}, new double[][] {{2, 3}});
        obs[0][0] = 99;
        s.obs()[0][1] = 99;
        assertThat(s.obs()).isDeepEqualTo(new double[][] {{0, 1}});
    }

    @Test
    void rejectsInconsistentInputsNamingRowAndColumn() {
        assertThatThrownBy(() -> new Segment(new double[][] {{0}, {1}}, new double[][] {{1}}, new double[][] {{1}, {2}}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2, 1 and 2 rows");
        assertThatThrownBy(() -> new Segment(new double[][] {{0, 1}, {1}}, new double[][] {{1}, {1}},
                new double[][] {{1, 1}, {2, 2}})).hasMessageContaining("obs row 1 has 1 columns");
        assertThatThrownBy(() -> new Segment(new double[][] {{0}}, new double[][] {{Double.NaN}}, new double[][] {{1}}))
                .hasMessageContaining("act[0][0] is NaN");
        assertThatThrownBy(() -> new Segment(new double[0][], new double[0][], new double[0][]))
                .hasMessageContaining("at least one transition");
        assertThatThrownBy(() -> threeSteps().slice(2, 2)).hasMessageContaining("slice [2, 2)");
    }

    @Test
    void fromFlatArraysEqualsTheSegmentFromRowsAndCopiesItsInput() {
        double[] obs = {0, 1, 2, 3, 4, 5};
        Segment flat = Segment.ofFlat(3, 2, 1, obs, new double[] {1, 2, 3}, new double[] {2, 3, 4, 5, 6, 7});
        obs[0] = 99;
        assertThat(flat).isEqualTo(threeSteps());
    }

    @Test
    void fromFlatArraysRejectsWrongLengthsAndNonFiniteValuesNamingRowAndColumn() {
        assertThatThrownBy(() -> Segment.ofFlat(3, 2, 1, new double[5], new double[3], new double[6]))
                .hasMessageContaining("obs has 5 values, expected 3x2");
        assertThatThrownBy(() -> Segment.ofFlat(3, 2, 1, new double[6], new double[3],
                new double[] {0, 0, 0, Double.NaN, 0, 0})).hasMessageContaining("nextObs[1][1] is NaN");
        assertThatThrownBy(() -> Segment.ofFlat(0, 2, 1, new double[0], new double[0], new double[0]))
                .hasMessageContaining("positive length");
    }
}
