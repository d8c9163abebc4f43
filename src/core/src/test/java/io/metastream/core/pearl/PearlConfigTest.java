package io.metastream.core.pearl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.metastream.core.nn.Activation;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PearlConfigTest {

    @Test
    void builderAppliesTheReferenceDefaults() {
        PearlConfig cfg = PearlConfig.builder().obsDim(2).actDim(2).build();
        assertThat(cfg.latentDim()).isEqualTo(5);
        assertThat(cfg.encoderHidden()).containsExactly(200, 200, 200);
        assertThat(cfg.netHidden()).containsExactly(300, 300, 300);
        assertThat(cfg.activation()).isEqualTo(Activation.RELU);
        assertThat(cfg.gamma()).isEqualTo(0.99);
        assertThat(cfg.tau()).isEqualTo(0.005);
        assertThat(List.of(cfg.policyLr(), cfg.qLr(), cfg.encoderLr(), cfg.alphaLr())).containsOnly(3e-4);
        assertThat(cfg.klWeight()).isEqualTo(0.1);
        assertThat(cfg.rewardScale()).isEqualTo(5.0);
        assertThat(cfg.learnAlpha()).isTrue();
        assertThat(cfg.fixedAlpha()).isEqualTo(1.0);
        assertThat(cfg.batchSize()).isEqualTo(256);
        assertThat(cfg.contextSize()).isEqualTo(100);
        assertThat(cfg.minContextSize()).isZero();
        assertThat(cfg.contextPreviousReward()).isFalse();
        assertThat(cfg.metaBatch()).isEqualTo(16);
        assertThat(cfg.seed()).isEqualTo(42L);
        assertThat(cfg.contextDim()).isEqualTo(7);
        assertThat(cfg.targetEntropy()).isEqualTo(-2.0);
        assertThat(cfg.encoder().mlp().layerSizes()).containsExactly(7, 200, 200, 200, 10);
        assertThat(cfg.policyMlp().layerSizes()).containsExactly(7, 300, 300, 300, 4);
        assertThat(cfg.qMlp().layerSizes()).containsExactly(9, 300, 300, 300, 1);
    }

    @Test
    void mapFormIsCanonicalCompleteAndRoundTrips() {
        PearlConfig cfg = PearlConfig.builder().obsDim(3).actDim(1).latentDim(4).encoderHidden(8, 8).netHidden(16)
                .activation(Activation.TANH).gamma(0.95).tau(0.01).klWeight(0.0).learnAlpha(false).fixedAlpha(0.25)
                .minContextSize(7).contextPreviousReward(true).encoderRank(2).seed(-3).build();
        Map<String, String> map = cfg.toMap();
        assertThat(List.copyOf(map.keySet())).isSorted().hasSize(24);
        assertThat(cfg.encoder().rank()).isEqualTo(2);
        assertThat(cfg.encoder().mlp().layerSizes()).containsExactly(10, 8, 8, 2 * 4 + 2 * (4 + 1));
        assertThat(map).containsEntry("encoderHidden", "8,8").containsEntry("netHidden", "16").containsEntry("activation", "TANH")
                .containsEntry("minContextSize", "7").containsEntry("encoderRank", "2");
        PearlConfig back = PearlConfig.fromMap(map);
        assertThat(back).isEqualTo(cfg);
        assertThat(back.configHash()).isEqualTo(cfg.configHash()).hasSize(64);
        assertThat(cfg.toBuilder().seed(4).build().configHash()).isNotEqualTo(cfg.configHash());
        assertThat(PearlConfig.fromMap(Map.of("obsDim", "2", "actDim", "2")))
                .isEqualTo(PearlConfig.builder().obsDim(2).actDim(2).build());
    }

    @Test
    void rejectsInvalidSettingsSayingWhatToDo() {
        PearlConfig.Builder b = PearlConfig.builder().obsDim(2).actDim(2);
        assertThatThrownBy(() -> PearlConfig.builder().obsDim(2).build()).hasMessageContaining("actDim is not set");
        assertThatThrownBy(() -> b.gamma(1.5).build()).hasMessageContaining("gamma is 1.5");
        assertThatThrownBy(() -> PearlConfig.builder().obsDim(2).actDim(2).tau(0).build()).hasMessageContaining("tau is 0.0");
        assertThatThrownBy(() -> PearlConfig.builder().obsDim(2).actDim(2).qLr(-1).build())
                .hasMessageContaining("qLr is -1.0; use a finite value > 0");
        assertThatThrownBy(() -> PearlConfig.builder().obsDim(2).actDim(2).klWeight(Double.NaN).build())
                .hasMessageContaining("klWeight");
        assertThatThrownBy(() -> PearlConfig.builder().obsDim(2).actDim(2).netHidden(300, 0).build())
                .hasMessageContaining("netHidden[1] is 0");
        assertThatThrownBy(() -> PearlConfig.builder().obsDim(2).actDim(2).latentDim(0).build())
                .hasMessageContaining("latentDim is 0");
        assertThatThrownBy(() -> PearlConfig.builder().obsDim(2).actDim(2).encoderRank(-1).build())
                .hasMessageContaining("encoderRank is -1");
        assertThatThrownBy(() -> PearlConfig.builder().obsDim(2).actDim(2).contextSize(10).minContextSize(11).build())
                .hasMessageContaining("minContextSize is 11; use 0 (uniform rows, default) or a run length in [1, contextSize = 10]");
        Map<String, String> bad = new HashMap<>(PearlConfig.builder().obsDim(2).actDim(2).build().toMap());
        bad.put("beta", "0.1");
        assertThatThrownBy(() -> PearlConfig.fromMap(bad)).hasMessageContaining("unknown PearlConfig key 'beta'");
        assertThatThrownBy(() -> PearlConfig.fromMap(Map.of("obsDim", "2", "actDim", "2", "learnAlpha", "yes")))
                .hasMessageContaining("use true or false");
    }
}
