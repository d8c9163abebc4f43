package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TaskFamiliesTest {

    @Test
    void findsTheBuiltInFamilies() {
        assertThat(TaskFamilies.byName("pendulum").name()).isEqualTo("pendulum");
        assertThat(TaskFamilies.byName("point-mass").name()).isEqualTo("point-mass");
        assertThat(TaskFamilies.byName("point-robot").name()).isEqualTo("point-robot");
        assertThat(TaskFamilies.byName("sparse-point-robot").name()).isEqualTo("sparse-point-robot");
        assertThat(TaskFamilies.byName("point-vel").name()).isEqualTo("point-vel");
        assertThat(TaskFamilies.names())
                .containsExactly("pendulum", "point-mass", "point-robot", "point-vel", "sparse-point-robot");
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        assertThatThrownBy(() -> TaskFamilies.byName("cartpole"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cartpole")
                .hasMessageContaining("[pendulum, point-mass, point-robot, point-vel, sparse-point-robot]");
    }
}
