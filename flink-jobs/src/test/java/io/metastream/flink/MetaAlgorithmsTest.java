package io.metastream.flink;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetaAlgorithmsTest {

    @Test
    void findsEachRegisteredAlgorithmByItsNameInAnyCase() {
        assertThat(MetaAlgorithms.names()).containsExactly("grbal", "pearl");
        for (MetaAlgorithm<?> a : MetaAlgorithms.all()) {
            assertThat(MetaAlgorithms.byName(a.name().toUpperCase())).isSameAs(a);
            assertThat(a.settingsPrefix()).isEqualTo(a.name() + ".");
        }
    }

    @Test
    void anUnknownNameListsTheSupportedOnes() {
        assertThatThrownBy(() -> MetaAlgorithms.byName("rl2"))
                .hasMessage("metastream.algorithm 'rl2' is not supported; supported: grbal, pearl");
    }

    @Test
    void noTwoAlgorithmsShareAnOperatorUidOrASideOutput() {
        Set<String> uids = new HashSet<>();
        Set<String> tags = new HashSet<>();
        for (MetaAlgorithm<?> a : MetaAlgorithms.all()) {
            MetaAlgorithm.Operators ops = a.operators();
            for (String uid : List.of(ops.task(), ops.adaptedSink(), ops.learner(), ops.modelsSink())) {
                assertThat(uids.add(uid)).as("uid %s of %s", uid, a.name()).isTrue();
            }
            assertThat(tags.add(a.learnerInput().getId())).isTrue();
        }
    }
}
