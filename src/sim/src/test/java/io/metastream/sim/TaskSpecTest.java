package io.metastream.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class TaskSpecTest {

    @Test
    void rejectsBlankId() {
        assertThatThrownBy(() -> new TaskSpec(" ", new TreeMap<>()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("non-blank");
    }

    @Test
    void rejectsNonFiniteParameters() {
        TreeMap<String, Double> params = new TreeMap<>(Map.of("mass", Double.NaN));
        assertThatThrownBy(() -> new TaskSpec("t", params))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'mass'")
                .hasMessageContaining("finite");
    }

    @Test
    void copiesParametersSoLaterChangesDoNotLeakIn() {
        TreeMap<String, Double> params = new TreeMap<>(Map.of("mass", 1.0));
        TaskSpec spec = new TaskSpec("t", params);
        params.put("mass", 2.0);

        assertThat(spec.param("mass")).isEqualTo(1.0);
        assertThatThrownBy(() -> spec.params().put("x", 1.0)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void equalWhateverTheSourceMapOrder() {
        TreeMap<String, Double> reversed = new TreeMap<>(java.util.Comparator.reverseOrder());
        reversed.putAll(new HashMap<>(Map.of("a", 1.0, "b", 2.0)));
        TaskSpec a = new TaskSpec("t", reversed);
        TaskSpec b = new TaskSpec("t", new TreeMap<>(Map.of("a", 1.0, "b", 2.0)));

        assertThat(a).isEqualTo(b);
        assertThat(a.params().firstKey()).isEqualTo("a");
    }

    @Test
    void missingParameterNamesTheOnesPresent() {
        TaskSpec spec = new TaskSpec("t", new TreeMap<>(Map.of("mass", 1.0)));
        assertThatThrownBy(() -> spec.param("length"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'length'")
                .hasMessageContaining("[mass]");
    }
}
