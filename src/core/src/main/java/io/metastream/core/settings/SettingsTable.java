package io.metastream.core.settings;

import io.metastream.core.internal.ConfigMaps;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The one declaration of a configuration's settings: per key its type, default, description, how to read
 * it from a configuration and how to set it on a builder. The configuration's canonical string form
 * ({@link #toMap}), its parser ({@link #apply}), its set of known keys and its documentation
 * ({@link #settings}) all come from this table, so a key is written once.
 *
 * @param <C> the configuration
 * @param <B> its builder
 */
public final class SettingsTable<C, B> {

    /**
     * The key of the observation size in every algorithm configuration. The job sets it (and
     * {@link #ACT_DIM}) from its own size settings; users never pass it as an algorithm key.
     */
    public static final String OBS_DIM = "obsDim";
    /** The key of the action size in every algorithm configuration; see {@link #OBS_DIM}. */
    public static final String ACT_DIM = "actDim";
    /** The key of the seed in every algorithm configuration (the local run and the benchmarks set it). */
    public static final String SEED = "seed";

    private record Entry<C, B>(Setting doc, Function<C, String> format, BiConsumer<B, String> parse) {}

    private final String owner;
    private final Map<String, Entry<C, B>> entries = new LinkedHashMap<>();

    private SettingsTable(String owner) {
        this.owner = owner;
    }

    /** An empty table; {@code owner} names the configuration in error messages. */
    public static <C, B> SettingsTable<C, B> of(String owner) {
        return new SettingsTable<>(owner);
    }

    private SettingsTable<C, B> add(String key, String type, Object dflt, String description, Function<C, String> format,
            BiConsumer<B, String> parse) {
        if (entries.containsKey(key)) {
            throw new IllegalStateException(owner + " declares " + key + " twice");
        }
        entries.put(key, new Entry<>(new Setting(key, type, dflt == null ? "" : String.valueOf(dflt), description),
                format, parse));
        return this;
    }

    /** An int setting; {@code dflt} null for a required one. */
    public SettingsTable<C, B> integer(String key, Integer dflt, String description, Function<C, Integer> get,
            IntSetter<B> set) {
        return add(key, "int", dflt, description, c -> Integer.toString(get.apply(c)),
                (b, v) -> set.set(b, Integer.parseInt(v)));
    }

    /** A long setting. */
    public SettingsTable<C, B> longValue(String key, Long dflt, String description, Function<C, Long> get,
            LongSetter<B> set) {
        return add(key, "long", dflt, description, c -> Long.toString(get.apply(c)),
                (b, v) -> set.set(b, Long.parseLong(v)));
    }

    /** A double setting, written in {@link Double#toString(double)} form. */
    public SettingsTable<C, B> decimal(String key, Double dflt, String description, Function<C, Double> get,
            DoubleSetter<B> set) {
        return add(key, "double", dflt, description, c -> Double.toString(get.apply(c)),
                (b, v) -> set.set(b, Double.parseDouble(v)));
    }

    /** A boolean setting ({@code true} or {@code false}, any case). */
    public SettingsTable<C, B> bool(String key, Boolean dflt, String description, Function<C, Boolean> get,
            BooleanSetter<B> set) {
        return add(key, "boolean", dflt, description, c -> Boolean.toString(get.apply(c)),
                (b, v) -> set.set(b, ConfigMaps.parseBoolean(owner, key, v)));
    }

    /** A list of ints, comma-separated (hidden layer sizes). */
    public SettingsTable<C, B> ints(String key, int[] dflt, String description, Function<C, int[]> get,
            BiConsumer<B, int[]> set) {
        return add(key, "ints", dflt == null ? null : ConfigMaps.joinInts(dflt), description,
                c -> ConfigMaps.joinInts(get.apply(c)), (b, v) -> set.accept(b, ConfigMaps.parseInts(v)));
    }

    /** A setting of another type, with its own formatting and parsing. */
    public <T> SettingsTable<C, B> other(String key, String type, T dflt, String description, Function<C, T> get,
            Function<T, String> format, Function<String, T> parse, BiConsumer<B, T> set) {
        return add(key, type, dflt == null ? null : format.apply(dflt), description, c -> format.apply(get.apply(c)),
                (b, v) -> set.accept(b, parse.apply(v)));
    }

    /** Every setting of {@code config} as a string, in a new sorted map. */
    public Map<String, String> toMap(C config) {
        TreeMap<String, String> m = new TreeMap<>();
        entries.forEach((k, e) -> m.put(k, e.format().apply(config)));
        return m;
    }

    /**
     * Sets every entry of {@code map} on {@code builder} (values trimmed).
     *
     * @throws IllegalArgumentException for an unknown key (naming the known ones) or an unparsable value
     */
    public B apply(Map<String, String> map, B builder) {
        ConfigMaps.apply(owner, map, keys(), (k, v) -> entries.get(k).parse().accept(builder, v));
        return builder;
    }

    /** The known keys. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    /** The documentation of every setting, in declaration order. */
    public List<Setting> settings() {
        List<Setting> out = new ArrayList<>();
        entries.values().forEach(e -> out.add(e.doc()));
        return List.copyOf(out);
    }

    /** Sets an int on a builder. */
    @FunctionalInterface
    public interface IntSetter<B> {
        void set(B builder, int value);
    }

    /** Sets a long on a builder. */
    @FunctionalInterface
    public interface LongSetter<B> {
        void set(B builder, long value);
    }

    /** Sets a double on a builder. */
    @FunctionalInterface
    public interface DoubleSetter<B> {
        void set(B builder, double value);
    }

    /** Sets a boolean on a builder. */
    @FunctionalInterface
    public interface BooleanSetter<B> {
        void set(B builder, boolean value);
    }
}
