package io.metastream.core.mpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class BatchProjectionTest {

    @Test
    void aPairGoesOntoTheUnitCircleKeepingItsAngle() {
        double[] v = {9, 0.6, 0.8 * 1.5, 9};
        BatchProjection.onUnitCircle(v, 1);
        assertThat(v[1]).isCloseTo(0.6 / Math.hypot(0.6, 1.2), within(1e-12));
        assertThat(Math.hypot(v[1], v[2])).isCloseTo(1.0, within(1e-12));
        assertThat(Math.atan2(v[2], v[1])).isCloseTo(Math.atan2(1.2, 0.6), within(1e-12));
        assertThat(v[0]).isEqualTo(9);
        assertThat(v[3]).isEqualTo(9);
    }

    @Test
    void aZeroPairBecomesAngleZeroAndANonFinitePairStaysAsItIs() {
        double[] zero = {0, 0};
        BatchProjection.onUnitCircle(zero, 0);
        assertThat(zero).containsExactly(1, 0);
        double[] nan = {Double.NaN, 1};
        BatchProjection.onUnitCircle(nan, 0);
        assertThat(nan[0]).isNaN();
        assertThat(nan[1]).isEqualTo(1);
    }

    @Test
    void clipBoundsBothSidesAndKeepsNaN() {
        double[] v = {12, -12, 3, Double.NaN};
        for (int i = 0; i < v.length; i++) {
            BatchProjection.clip(v, i, 10);
        }
        assertThat(v[0]).isEqualTo(10);
        assertThat(v[1]).isEqualTo(-10);
        assertThat(v[2]).isEqualTo(3);
        assertThat(v[3]).isNaN();
    }
}
