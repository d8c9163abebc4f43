package io.metastream.cli;

import io.metastream.core.settings.Setting;
import io.metastream.core.settings.SettingsTable;
import io.metastream.flink.MetaAlgorithm;
import io.metastream.flink.MetaAlgorithms;
import io.metastream.flink.MetaStreamOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.description.HtmlFormatter;
import org.apache.flink.util.TimeUtils;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The settings table, generated from where each setting is declared: the job's {@link MetaStreamOptions},
 * each algorithm's own job options and its hyper-parameters. {@code bin/metastream help settings} prints
 * it, and the README's "Configuration" holds the same table (a test compares them).
 */
public final class SettingsDoc {
    private SettingsDoc() {}

    /** Every job setting, then each algorithm's options and hyper-parameters, in declaration order. */
    public static List<Setting> all() {
        List<Setting> out = new ArrayList<>();
        for (Field f : MetaStreamOptions.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == ConfigOption.class) {
                out.add(describe(option(f), typeOf(f)));
            }
        }
        for (MetaAlgorithm<?> a : MetaAlgorithms.all()) {
            for (ConfigOption<?> o : a.options()) {
                out.add(describe(o, typeName(o.defaultValue().getClass())));
            }
            for (Setting s : a.hyperParameters()) {
                if (s.key().equals(SettingsTable.OBS_DIM) || s.key().equals(SettingsTable.ACT_DIM)) {
                    continue; // set by the job from metastream.obs-dim / act-dim; refused as algorithm keys
                }
                out.add(new Setting(a.settingsPrefix() + s.key(), s.type(), s.defaultValue(), s.description()));
            }
        }
        for (Setting s : io.metastream.core.mpc.MpcConfig.settings()) {
            out.add(new Setting(LocalRun.MPC_PREFIX + s.key(), s.type(), s.defaultValue(),
                    "agents (bin/metastream run, fleet), MPC: " + s.description()));
        }
        return out;
    }

    /** The table in Markdown, as the README holds it. */
    public static String markdown() {
        StringBuilder b = new StringBuilder("| setting | type | default | meaning |\n| --- | --- | --- | --- |\n");
        for (Setting s : all()) {
            b.append("| `").append(s.key()).append("` | ").append(s.type().replace("|", "\\|")).append(" | ")
                    .append(s.defaultValue().isEmpty() ? "(required)" : s.defaultValue().replace("|", "\\|"))
                    .append(" | ").append(s.description().replace("|", "\\|")).append(" |\n");
        }
        return b.toString();
    }

    /** The table as text, for {@code help settings}. */
    public static String text() {
        StringBuilder b = new StringBuilder();
        for (Setting s : all()) {
            b.append(s.key()).append(" (").append(s.type()).append(", ")
                    .append(s.defaultValue().isEmpty() ? "required" : "default " + s.defaultValue()).append(")\n    ")
                    .append(s.description()).append('\n');
        }
        return b.toString();
    }

    private static ConfigOption<?> option(Field f) {
        try {
            return (ConfigOption<?>) f.get(null);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String typeOf(Field f) {
        if (f.getGenericType() instanceof ParameterizedType p && p.getActualTypeArguments()[0] instanceof Class<?> c) {
            return typeName(c);
        }
        return "string";
    }

    private static String typeName(Class<?> c) {
        if (c == Integer.class) {
            return "int";
        }
        if (c == Duration.class) {
            return "duration";
        }
        return c.getSimpleName().toLowerCase(java.util.Locale.ROOT);
    }

    private static Setting describe(ConfigOption<?> o, String type) {
        String dflt = MetaStreamOptions.REQUIRED.contains(o) ? "" : "(none)";
        if (o.hasDefaultValue()) {
            Object v = o.defaultValue();
            dflt = v instanceof Duration d ? TimeUtils.formatWithHighestUnit(d) : String.valueOf(v);
        }
        String text = new HtmlFormatter().format(o.description()).replace("&lt;", "<").replace("&gt;", ">")
                .replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
        return new Setting(o.key(), type, dflt, text);
    }
}
