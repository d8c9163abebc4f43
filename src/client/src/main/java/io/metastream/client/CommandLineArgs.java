package io.metastream.client;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Command-line options: {@code --name value} (or {@code --name=value}) pairs and {@code --flag}s. The one
 * parser of the project's command lines (the CLI, the job's {@code main}, the benchmarks, the example
 * producer): raw strings are parsed only here, and every getter names the option in its error message.
 * An option given twice is an error, and so is one no getter asked for ({@link #rejectUnknown}).
 */
public final class CommandLineArgs {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Set<String> used = new TreeSet<>();

    public CommandLineArgs(String[] args, Set<String> flags) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new IllegalArgumentException("expected an option like --name value, got '" + a + "'");
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (flags.contains(name)) {
                value = "true";
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("option --" + name + " needs a value");
            }
            if (values.put(name, value) != null) {
                throw new IllegalArgumentException("option --" + name + " is given twice");
            }
        }
    }

    public String string(String name, String def) {
        used.add(name);
        return values.getOrDefault(name, def);
    }

    public int integer(String name, int def) {
        String v = string(name, null);
        if (v == null) {
            return def;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    public long longValue(String name, long def) {
        String v = string(name, null);
        if (v == null) {
            return def;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    public double decimal(String name, double def) {
        String v = string(name, null);
        if (v == null) {
            return def;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number, got '" + v + "'");
        }
    }

    public boolean flag(String name) {
        return Boolean.parseBoolean(string(name, "false"));
    }

    public Path path(String name, Path def) {
        String v = string(name, null);
        return v == null ? def : Path.of(v);
    }

    /** Options with the given prefix, prefix kept (passed through to the job configuration). */
    public Map<String, String> withPrefix(String prefix) {
        Map<String, String> m = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                used.add(k);
                m.put(k, v);
            }
        });
        return m;
    }

    /** Every option as given, in order (the job's {@code main} hands them all to its configuration). */
    public Map<String, String> all() {
        used.addAll(values.keySet());
        return java.util.Collections.unmodifiableMap(values);
    }

    /** Fails on options no getter asked for: a typo must not be silently ignored. */
    public void rejectUnknown(String command) {
        Set<String> unknown = new TreeSet<>(values.keySet());
        unknown.removeAll(used);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown option(s) for '" + command + "': --"
                    + String.join(", --", unknown) + " (see bin/metastream help)");
        }
    }

    /** Parses a comma-separated list of positive integers such as {@code 64,64,64}. */
    public static int[] ints(String csv) {
        String[] parts = csv.split(",");
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected comma-separated integers such as 64,64,64, got '" + csv + "'");
            }
            if (v[i] <= 0) {
                throw new IllegalArgumentException("layer sizes must be > 0, got '" + csv + "'");
            }
        }
        return v;
    }
}
