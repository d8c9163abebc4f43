package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TaskFamiliesTest {

    @Test
    void findsTheBuiltInFamilies() {
        assertThat(TaskFamilies.byName("pendulum").name()).isEqualTo("pendulum");
        assertThat(TaskFamilies.byName("point-mass").name()).isEqualTo("point-mass");
        assertThat(TaskFamilies.names()).containsExactly("pendulum", "point-mass");
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        assertThatThrownBy(() -> TaskFamilies.byName("cartpole"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cartpole")
                .hasMessageContaining("[pendulum, point-mass]");
    }
}
