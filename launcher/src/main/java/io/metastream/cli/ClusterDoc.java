package io.metastream.cli;

import io.metastream.client.TopicLayout;
import io.metastream.client.TopicNames;
import io.metastream.local.FlinkCluster;
import io.metastream.local.KafkaBroker;
import io.metastream.local.LocalCluster;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The README's cluster section ({@code bin/metastream help cluster}), generated from the code that
 * the cluster tests and {@code bin/metastream cluster} run: the Flink settings of
 * {@link FlinkCluster}, the broker settings of {@link KafkaBroker#settings}, the topic layout, and the
 * job arguments of {@link LocalCluster#jobArguments}. A test checks the README holds exactly this.
 */
final class ClusterDoc {

    static final Path DIR = Path.of("/srv/metastream");
    static final String BROKERS = "kafka1:9092,kafka2:9092,kafka3:9092";

    private ClusterDoc() {
    }

    static String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("`bin/metastream cluster` starts all of it on this machine, each part its own process: three KRaft\n")
                .append("brokers, the topics, a learner key pair, a Flink standalone cluster (a JobManager and two\n")
                .append("TaskManagers started from Flink's jars alone), submits the job jar with Flink's `flink run` client\n")
                .append("and runs a fleet (`--no-submit`, `--agents 0` leave those out). `ClusterIT` and the crash suite run\n")
                .append("exactly this, with the settings below.\n\n");
        b.append("**Kafka**: three or more brokers with these settings (`KafkaBroker.settings`):\n\n```properties\n");
        KafkaBroker.settings(3).forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
        b.append("```\n\nthen the topics (`bin/metastream topics --print` writes these lines; `$T` is `kafka-topics.sh`):\n\n```bash\n");
        TopicLayout.kafkaTopicsCommands(TopicNames.defaults(), 4, BROKERS, 3).forEach(l -> b.append(l).append('\n'));
        b.append("```\n\n**Flink**: a Flink 2.2 cluster whose `conf/config.yaml` has these settings (hosts, ports and\n")
                .append("paths are yours; the TaskManagers also need `OMP_NUM_THREADS=1` in their environment):\n\n```yaml\n");
        Map<String, String> settings = FlinkCluster.documentedSettings(DIR.resolve("flink"));
        settings.forEach((k, v) -> b.append(k).append(": ").append(v).append('\n'));
        b.append("```\n\nThe job jar brings everything else (Kafka connector, `flink-connector-base`, Avro, ND4J and its\n")
                .append("natives): a distribution's `lib/` needs nothing added. Settings that matter, and why:\n")
                .append("`restart-strategy.type: exponential-delay` has no attempt limit, so a job waits out a broker outage\n")
                .append("or a missing TaskManager instead of failing; two slots per TaskManager with the job's slots spread\n")
                .append("over both (`cluster.evenly-spread-out-slots`) let it restart on the survivor at once;\n")
                .append("`taskmanager.rpc.port: 0` keeps a replacement TaskManager off a dead one's address (a fixed port\n")
                .append("made it never register); checkpoints live outside the JobManager and are retained on cancel\n")
                .append("(the job also sets RETAIN_ON_CANCELLATION itself); `org.bytedeco.javacpp.cachedir` unpacks ND4J's\n")
                .append("~400 MB of natives once per TaskManager instead of once per submission. A TaskManager killed\n")
                .append("with SIGKILL leaves its copies of the job jar (~150 MB) in `io.tmp.dirs`: clear that folder before\n")
                .append("its replacement starts (`bin/metastream cluster` gives each process its own folder and does).\n\n");
        b.append("**Submit** (detached), with a key pair from `bin/metastream keys --out /srv/metastream/keys`:\n\n```bash\n");
        b.append("flink run -d ").append(LocalCluster.JOB_JAR);
        List<String> args = LocalCluster.jobArguments(BROKERS, DIR.resolve("keys"), "pendulum", "grbal-pendulum", List.of());
        for (int i = 0; i < args.size(); i += 2) {
            b.append(" \\\n  ").append(args.get(i)).append(' ').append(args.get(i + 1));
        }
        b.append("\n```\n\n");
        b.append("**Stop and resume**: `flink stop --savepointPath ").append(DIR.resolve("flink/savepoints").toUri())
                .append(" <job id>` prints the savepoint's path; `flink run -d -s <that path> ...` (the same arguments)\n")
                .append("resumes: the version numbering, the run id and every task's window go on. After a JobManager loss\n")
                .append("(no HA) or a cancel, resume from the newest retained checkpoint the same way: `flink run -d -s ")
                .append(DIR.resolve("flink/checkpoints").toUri()).append("<job id>/chk-<n> ...`. A job started without\n")
                .append("state refuses to run over versions already on the models topic (the numbering guard).\n\n");
        b.append("**Readers**: read the models and adapted topics with `isolation.level=read_committed` (`ModelClient`\n")
                .append("and `bin/metastream models` do). A read_uncommitted reader also sees records of transactions that a\n")
                .append("failure aborted: after a restore the job publishes those version numbers again with other weights,\n")
                .append("so such a reader sees a number twice (v296 then v288 was seen). After each recovery the job's log may\n")
                .append("hold `KafkaCommitter - Unable to commit transaction ... producer is already fenced ... this most likely\n")
                .append("signals data loss`: the restored job committed that transaction already (or aborted it and wrote its\n")
                .append("records again), so nothing was lost; the crash suite counts every transition to check that.\n");
        return b.toString();
    }
}
