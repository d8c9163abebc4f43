package io.metastream.flink;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetaLearningJobConfigTest {

    @Test
    void parsesKeyValueArgumentsAndPassesPrefixedSettingsThrough() {
        Configuration conf = MetaLearningJob.parseArgs(new String[] {
            "--metastream.bootstrap-servers", "b:9092", "--grbal.innerLr", "0.05",
            "--kafka.security.protocol", "SASL_SSL", "--metastream.task-family", "point-mass"});
        assertThat(conf.get(MetaStreamOptions.BOOTSTRAP_SERVERS)).isEqualTo("b:9092");
        Properties kafka = MetaLearningJob.kafkaProperties(conf);
        assertThat(kafka).containsEntry("security.protocol", "SASL_SSL").hasSize(1);
        Map<String, String> grbal = MetaLearningJob.grbalConfig(conf);
        assertThat(grbal).containsEntry("innerLr", "0.05").containsEntry("obsDim", "4").containsEntry("actDim", "2");
    }

    @Test
    void rejectsMalformedArgumentsWithTheOffendingWord() {
        assertThatThrownBy(() -> MetaLearningJob.parseArgs(new String[] {"metastream.model-name", "x"}))
                .hasMessageContaining("metastream.model-name");
        assertThatThrownBy(() -> MetaLearningJob.parseArgs(new String[] {"--metastream.model-name"}))
                .hasMessageContaining("needs a value");
    }

    @Test
    void failsAtGraphConstructionOnUnknownAlgorithmSettingsOrMissingServers() {
        Configuration conf = new Configuration();
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(conf))
                .hasMessageContaining("metastream.bootstrap-servers");
        conf.setString("metastream.bootstrap-servers", "b:9092");
        conf.setString("grbal.innerLR", "0.1");
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(conf)).hasMessageContaining("innerLR");
        Configuration other = new Configuration();
        other.setString("metastream.bootstrap-servers", "b:9092");
        other.setString("metastream.algorithm", "pearl");
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(other)).hasMessageContaining("supported: grbal");
    }
}
