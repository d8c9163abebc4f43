package io.metastream.cli;

import io.metastream.flink.MetaStreamOptions;
import io.metastream.sim.TaskFamily;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/**
 * Fills the job's observation and action sizes from a task family. The family only supplies defaults: an
 * explicit {@code metastream.obs-dim} or {@code metastream.act-dim} that agrees is kept, one that conflicts
 * is an error (a producer writing other sizes would have every record dead-lettered).
 */
public final class FamilySizes {
    private FamilySizes() {}

    /** Sets {@code metastream.task-family}, {@code obs-dim} and {@code act-dim} from {@code family} where unset. */
    public static Configuration apply(Configuration conf, TaskFamily family) {
        fill(conf, MetaStreamOptions.OBS_DIM, family.obsDim(), "observation", family);
        fill(conf, MetaStreamOptions.ACT_DIM, family.actDim(), "action", family);
        if (!conf.contains(MetaStreamOptions.TASK_FAMILY)) {
            conf.set(MetaStreamOptions.TASK_FAMILY, family.name());
        }
        return conf;
    }

    private static void fill(Configuration conf, ConfigOption<Integer> option, int size, String what, TaskFamily family) {
        if (!conf.contains(option)) {
            conf.set(option, size);
            return;
        }
        int given = conf.get(option);
        if (given != size) {
            throw new IllegalArgumentException(option.key() + " " + given + " conflicts with task family '"
                    + family.name() + "', whose " + what + " size is " + size + "; drop " + option.key()
                    + " or run a family with that size");
        }
    }
}
