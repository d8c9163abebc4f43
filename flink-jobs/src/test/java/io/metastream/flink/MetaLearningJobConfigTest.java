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
            "--kafka.security.protocol", "SASL_SSL", "--metastream.obs-dim", "4", "--metastream.act-dim", "2"});
        assertThat(conf.get(MetaStreamOptions.BOOTSTRAP_SERVERS)).isEqualTo("b:9092");
        Properties kafka = MetaLearningJob.kafkaProperties(conf);
        assertThat(kafka).containsEntry("security.protocol", "SASL_SSL").hasSize(1);
        Map<String, String> grbal = MetaLearningJob.algorithmSettings(conf);
        assertThat(grbal).containsEntry("innerLr", "0.05").containsEntry("obsDim", "4").containsEntry("actDim", "2");
    }

    @Test
    void leavesTheRestartStrategyToTheClusterAndRetainsCheckpoints() {
        Configuration env = MetaLearningJob.environmentConfig(new Configuration());
        assertThat(env.contains(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY))
                .as("a hard-coded restart budget ended the job after a lost TaskManager").isFalse();
        assertThat(env.get(org.apache.flink.configuration.CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION))
                .isEqualTo(org.apache.flink.configuration.ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        Configuration own = MetaLearningJob.parseArgs(new String[] {
            "--execution.checkpointing.externalized-checkpoint-retention", "DELETE_ON_CANCELLATION",
            "--restart-strategy.type", "fixed-delay"});
        Configuration kept = MetaLearningJob.environmentConfig(own);
        assertThat(kept.get(org.apache.flink.configuration.CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION))
                .isEqualTo(org.apache.flink.configuration.ExternalizedCheckpointRetention.DELETE_ON_CANCELLATION);
        assertThat(kept.get(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("fixed-delay");
    }

    @Test
    void theStateBackendSettingSelectsRocksDbWithIncrementalCheckpointsOrTheHeap() {
        var backend = org.apache.flink.configuration.StateBackendOptions.STATE_BACKEND;
        var incremental = org.apache.flink.configuration.CheckpointingOptions.INCREMENTAL_CHECKPOINTS;
        Configuration unset = MetaLearningJob.environmentConfig(new Configuration());
        assertThat(unset.contains(backend)).as("Flink's own setting is left alone").isFalse();
        Configuration rocks = MetaLearningJob.environmentConfig(
                MetaLearningJob.parseArgs(new String[] {"--metastream.state-backend", "RocksDB"}));
        assertThat(rocks.get(backend)).isEqualTo("rocksdb");
        assertThat(rocks.get(incremental)).isTrue();
        Configuration full = MetaLearningJob.environmentConfig(MetaLearningJob.parseArgs(new String[] {
            "--metastream.state-backend", "rocksdb", "--execution.checkpointing.incremental", "false"}));
        assertThat(full.get(incremental)).as("the user's own choice stands").isFalse();
        Configuration heap = MetaLearningJob.environmentConfig(
                MetaLearningJob.parseArgs(new String[] {"--metastream.state-backend", "hashmap"}));
        assertThat(heap.get(backend)).isEqualTo("hashmap");
        assertThatThrownBy(() -> MetaLearningJob.environmentConfig(
                MetaLearningJob.parseArgs(new String[] {"--metastream.state-backend", "rocks"})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("metastream.state-backend must be hashmap or rocksdb, got 'rocks'");
    }

    @Test
    void theNumberingGuardFailsClosedWhenItCannotReadTheTopicToItsEnd() {
        MetaLearningJob.guardScanEnded(io.metastream.client.TopicReader.Stop.END, "models", "m");
        for (io.metastream.client.TopicReader.Stop stop : java.util.List.of(io.metastream.client.TopicReader.Stop.TIMEOUT,
                io.metastream.client.TopicReader.Stop.LIMIT)) {
            assertThatThrownBy(() -> MetaLearningJob.guardScanEnded(stop, "models", "m"))
                    .hasMessageContaining("could not read topic models to its end").hasMessageContaining("refusing to start");
        }
    }

    @Test
    void aTaskIdPatternThatIsNoRegularExpressionIsNamed() {
        assertThat(MetaLearningJob.taskIdPattern(new Configuration())).isNull();
        assertThat(MetaLearningJob.taskIdPattern(MetaLearningJob.parseArgs(new String[] {
            "--metastream.task-id-pattern", "robot-[0-9]+"})).matcher("robot-7").matches()).isTrue();
        assertThatThrownBy(() -> MetaLearningJob.taskIdPattern(MetaLearningJob.parseArgs(new String[] {
            "--metastream.task-id-pattern", "robot-["})))
                .hasMessageContaining("metastream.task-id-pattern is not a regular expression");
    }

    @Test
    void jobsOfOtherModelsUseOtherTransactionalIds() {
        Configuration a = MetaLearningJob.parseArgs(new String[] {"--metastream.model-name", "robots-a"});
        Configuration b = MetaLearningJob.parseArgs(new String[] {"--metastream.model-name", "robots-b"});
        assertThat(MetaLearningJob.transactionalIdPrefix(a)).isEqualTo("metastream-job-robots-a")
                .isNotEqualTo(MetaLearningJob.transactionalIdPrefix(b));
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
        conf.setString("metastream.obs-dim", "4");
        conf.setString("metastream.act-dim", "2");
        conf.setString("grbal.innerLR", "0.1");
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(conf)).hasMessageContaining("innerLR");
        Configuration other = new Configuration();
        other.setString("metastream.bootstrap-servers", "b:9092");
        other.setString("metastream.algorithm", "maml");
        other.setString("metastream.obs-dim", "4");
        other.setString("metastream.act-dim", "2");
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(other)).hasMessageContaining("'maml' is not supported; supported: grbal, pearl");
        Configuration pearl = new Configuration();
        pearl.setString("metastream.bootstrap-servers", "b:9092");
        pearl.setString("metastream.algorithm", "pearl");
        pearl.setString("metastream.obs-dim", "2");
        pearl.setString("metastream.act-dim", "2");
        MetaLearningJob.fromKafka(pearl); // the reference defaults are valid
        pearl.setString("pearl.klweight", "0.1");
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(pearl)).hasMessageContaining("klweight");
    }

    @Test
    void buildsThePearlGraphWithItsOwnOperatorsAndTheGpuSlotSharingGroupOnRequest() {
        Configuration conf = new Configuration();
        conf.setString("metastream.bootstrap-servers", "b:9092");
        conf.setString("metastream.algorithm", "pearl");
        conf.setString("metastream.obs-dim", "2");
        conf.setString("metastream.act-dim", "2");
        conf.setString("metastream.learner.gpu", "true");
        org.apache.flink.streaming.api.environment.StreamExecutionEnvironment env =
                org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment();
        MetaLearningJob.fromKafka(conf).build(env);
        org.apache.flink.streaming.api.graph.StreamGraph graph = env.getStreamGraph(false);
        java.util.Map<String, org.apache.flink.streaming.api.graph.StreamNode> byName = new java.util.HashMap<>();
        graph.getStreamNodes().forEach(n -> byName.put(n.getOperatorName(), n));
        org.assertj.core.api.Assertions.assertThat(byName).containsKeys("pearl-task-context", "pearl-meta-learner");
        org.assertj.core.api.Assertions.assertThat(byName).doesNotContainKeys("task-adaptation", "meta-learner");
        org.apache.flink.streaming.api.graph.StreamNode learner = byName.get("pearl-meta-learner");
        org.assertj.core.api.Assertions.assertThat(learner.getParallelism()).isEqualTo(1);
        org.assertj.core.api.Assertions.assertThat(learner.getSlotSharingGroup()).isEqualTo("meta-learner-gpu");
        org.assertj.core.api.Assertions.assertThat(graph.getSlotSharingGroupResource("meta-learner-gpu")).hasValueSatisfying(
                r -> org.assertj.core.api.Assertions.assertThat(r.getExtendedResources()).containsKey("gpu"));
        org.assertj.core.api.Assertions.assertThat(byName.get("pearl-task-context").getSlotSharingGroup()).isNotEqualTo("meta-learner-gpu");
    }

    @Test
    void observationAndActionSizesAreRequiredJobSettingsThatNoAlgorithmKeyCanOverride() {
        Configuration conf = new Configuration();
        conf.setString("metastream.bootstrap-servers", "b:9092");
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(conf)).hasMessageContaining("set metastream.obs-dim");
        conf.setString("metastream.obs-dim", "5");
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(conf)).hasMessageContaining("set metastream.act-dim");
        conf.setString("metastream.act-dim", "0");
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(conf)).hasMessageContaining("metastream.act-dim must be positive");
        conf.setString("metastream.act-dim", "1");
        assertThat(MetaLearningJob.algorithmSettings(conf)).containsEntry("obsDim", "5").containsEntry("actDim", "1");
        conf.setString("grbal.obsDim", "5");
        assertThatThrownBy(() -> MetaLearningJob.fromKafka(conf))
                .hasMessageContaining("grbal.obsDim is not a setting").hasMessageContaining("metastream.obs-dim");
        Configuration pearl = new Configuration();
        pearl.setString("metastream.obs-dim", "5");
        pearl.setString("metastream.act-dim", "1");
        pearl.setString("metastream.algorithm", "pearl");
        pearl.setString("pearl.actDim", "3");
        assertThatThrownBy(() -> MetaLearningJob.algorithmSettings(pearl)).hasMessageContaining("metastream.act-dim instead");
    }
    @Test
    void theLearnersBusyLimitReachesTheFunctionsAndAnOutOfRangeOneFailsTheSubmission() {
        Configuration ok = new Configuration();
        ok.set(MetaStreamOptions.LEARNER_BUSY_LIMIT, 0.25);
        assertThat(MetaLearningJob.functionParameters(ok)).containsEntry(MetaStreamOptions.LEARNER_BUSY_LIMIT.key(), "0.25");
        assertThat(MetaLearningJob.functionParameters(new Configuration()))
                .containsEntry(MetaStreamOptions.LEARNER_BUSY_LIMIT.key(), "0.9");
        Configuration bad = new Configuration();
        bad.set(MetaStreamOptions.LEARNER_BUSY_LIMIT, 0.0);
        assertThatThrownBy(() -> MetaLearningJob.functionParameters(bad))
                .hasMessageContaining(MetaStreamOptions.LEARNER_BUSY_LIMIT.key()).hasMessageContaining("(0, 1]");
    }
}
