package io.metastream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.metastream.client.CommandLineArgs;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LocalRunSettingsTest {

    private static LocalRun.Settings parse(String... args) {
        return LocalRun.settings(new CommandLineArgs(args, Set.of("job-only", "no-bad-records")));
    }

    @Test
    void theJobGetsTheFamilysSuggestedModelUnderTheCommandLines() {
        assertThat(parse("--family", "arm").jobOptions()).containsEntry("grbal.hidden", "128,128");
        assertThat(parse("--family", "arm", "--grbal.hidden", "32,32").jobOptions()).containsEntry("grbal.hidden", "32,32");
        assertThat(parse().jobOptions()).doesNotContainKey("grbal.hidden");
        assertThat(parse("--family", "pendulum").jobOptions()).doesNotContainKey("grbal.hidden")
                .doesNotContainKey("mpc.horizon"); // planner settings go to the agents, not the job
    }
}
