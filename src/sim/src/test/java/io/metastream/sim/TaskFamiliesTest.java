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
        assertThat(TaskFamilies.byName("arm").name()).isEqualTo("arm");
        assertThat(TaskFamilies.byName("spring-chain").name()).isEqualTo("spring-chain");
        assertThat(TaskFamilies.names())
                .containsExactly("arm", "pendulum", "point-mass", "point-robot", "point-vel", "sparse-point-robot", "spring-chain");
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        assertThatThrownBy(() -> TaskFamilies.byName("cartpole"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cartpole")
                .hasMessageContaining("[arm, pendulum, point-mass, point-robot, point-vel, sparse-point-robot, spring-chain]");
    }
}
