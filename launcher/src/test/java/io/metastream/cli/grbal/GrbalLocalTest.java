package io.metastream.cli.grbal;

import static org.assertj.core.api.Assertions.assertThat;

import io.metastream.core.mpc.MpcConfig;
import io.metastream.sim.TaskFamilies;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GrbalLocalTest {

    @Test
    void plannerTakesTheFamilysSettingsUnderTheUsers() {
        MpcConfig pendulum = GrbalLocal.mpcFor(TaskFamilies.byName("pendulum"), Map.of());
        assertThat(pendulum.horizon()).isEqualTo(30);
        assertThat(pendulum.candidates()).isEqualTo(32);

        MpcConfig mine = GrbalLocal.mpcFor(TaskFamilies.byName("pendulum"), Map.of("candidates", "100"));
        assertThat(mine.horizon()).isEqualTo(30);
        assertThat(mine.candidates()).isEqualTo(100);

        MpcConfig arm = GrbalLocal.mpcFor(TaskFamilies.byName("arm"), Map.of());
        assertThat(arm.horizon()).isEqualTo(15);
        assertThat(arm.candidates()).isEqualTo(64);
        assertThat(arm.actDim()).isEqualTo(2);
    }

    @Test
    void familiesSuggestSettingsByPrefix() {
        assertThat(TaskFamilies.byName("pendulum").suggestedSettings("mpc."))
                .containsExactly(Map.entry("candidates", "32"), Map.entry("horizon", "30"));
        assertThat(TaskFamilies.byName("pendulum").suggestedSettings("grbal.")).isEmpty();
        assertThat(TaskFamilies.byName("arm").suggestedSettings()).isEmpty();
    }
}
