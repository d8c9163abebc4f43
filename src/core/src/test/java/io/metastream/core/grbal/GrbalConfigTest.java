package io.metastream.core.grbal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.metastream.core.nn.Activation;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GrbalConfigTest {

    @Test
    void builderAppliesTheDocumentedDefaults() {
        GrbalConfig cfg = GrbalConfig.builder().obsDim(4).actDim(2).build();
        assertThat(cfg.hidden()).containsExactly(64, 64);
        assertThat(cfg.activation()).isEqualTo(Activation.TANH);
        assertThat(cfg.innerLr()).isEqualTo(0.1);
        assertThat(cfg.innerSteps()).isEqualTo(1);
        assertThat(cfg.adaptWindow()).isEqualTo(32);
        assertThat(cfg.adaptation()).isEqualTo(AdaptationRule.RIDGE);
        assertThat(cfg.adaptedParams()).isEqualTo("all");
        assertThat(cfg.recurrentSize()).isEqualTo(16);
        assertThat(cfg.predictWindow()).isEqualTo(16);
        assertThat(cfg.metaLr()).isEqualTo(1e-3);
        assertThat(cfg.metaBatchSize()).isEqualTo(8);
        assertThat(cfg.firstOrder()).isFalse();
        assertThat(cfg.seed()).isEqualTo(42L);
        assertThat(cfg.maxGradNorm()).isEqualTo(10.0);
        assertThat(cfg.normalizerWarmupTransitions()).isEqualTo(2000L);
        assertThat(cfg.outlierSigma()).isEqualTo(6.0);
        assertThat(cfg.quarantineAfter()).isEqualTo(3);
        assertThat(cfg.mlp().layerSizes()).containsExactly(6, 64, 64, 4);
    }

    @Test
    void mapFormIsCanonicalSortedCompleteAndRoundTrips() {
        GrbalConfig cfg = GrbalConfig.builder().obsDim(3).actDim(1).hidden(32, 16, 8).activation(Activation.RELU)
                .innerLr(0.123456789).innerSteps(3).firstOrder(true).seed(-5).maxGradNorm(0).build();
        Map<String, String> map = cfg.toMap();
        assertThat(List.copyOf(map.keySet())).isSorted().hasSize(19);
        assertThat(map).containsEntry("hidden", "32,16,8").containsEntry("activation", "RELU");
        GrbalConfig back = GrbalConfig.fromMap(map);
        assertThat(back).isEqualTo(cfg);
        assertThat(back.configHash()).isEqualTo(cfg.configHash()).hasSize(64);
        assertThat(cfg.toBuilder().seed(6).build().configHash()).isNotEqualTo(cfg.configHash());
        assertThat(GrbalConfig.fromMap(Map.of("obsDim", "3", "actDim", "1", "hidden", ""))
                .mlp().layerSizes()).containsExactly(4, 3);
    }

    @Test
    void fromMapTakesDefaultsForMissingKeysAndRejectsUnknownOnes() {
        GrbalConfig cfg = GrbalConfig.fromMap(Map.of("obsDim", "2", "actDim", "2"));
        assertThat(cfg).isEqualTo(GrbalConfig.builder().obsDim(2).actDim(2).build());
        Map<String, String> bad = new HashMap<>(cfg.toMap());
        bad.put("learningRate", "0.1");
        assertThatThrownBy(() -> GrbalConfig.fromMap(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown GrbalConfig key 'learningRate'");
        assertThatThrownBy(() -> GrbalConfig.fromMap(Map.of("obsDim", "2", "actDim", "x")))
                .hasMessageContaining("key 'actDim' has value 'x'");
        assertThatThrownBy(() -> GrbalConfig.fromMap(Map.of("obsDim", "2"))).hasMessageContaining("actDim is not set");
    }

    @Test
    void builderRejectsInvalidSettingsNamingTheSetting() {
        GrbalConfig.Builder b = GrbalConfig.builder().obsDim(2).actDim(1);
        assertThatThrownBy(() -> b.innerLr(0).build()).hasMessageContaining("innerLr is 0.0");
        assertThatThrownBy(() -> GrbalConfig.builder().obsDim(2).actDim(1).adaptWindow(0).build())
                .hasMessageContaining("adaptWindow (M) is 0");
        assertThatThrownBy(() -> GrbalConfig.builder().obsDim(2).actDim(1).hidden(64, -1).build())
                .hasMessageContaining("hidden[1] is -1");
        assertThatThrownBy(() -> GrbalConfig.builder().obsDim(2).actDim(1).metaBatchSize(0).build())
                .hasMessageContaining("metaBatchSize is 0");
        assertThatThrownBy(() -> GrbalConfig.builder().obsDim(2).actDim(1).maxGradNorm(Double.NaN).build())
                .hasMessageContaining("maxGradNorm is NaN");
        assertThatThrownBy(() -> GrbalConfig.builder().actDim(1).build()).hasMessageContaining("obsDim is not set");
    }

    @Test
    void hiddenArrayCannotBeMutatedFromOutside() {
        int[] hidden = {8, 8};
        GrbalConfig cfg = GrbalConfig.builder().obsDim(1).actDim(1).hidden(hidden).build();
        hidden[0] = 99;
        cfg.hidden()[1] = 99;
        assertThat(cfg.hidden()).containsExactly(8, 8);
    }
}
