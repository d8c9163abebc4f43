package io.metastream.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Command-line options: {@code --name value} pairs and {@code --flag}s. The only place raw strings are
 * parsed; every getter names the option in its error message.
 */
public final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Set<String> used = new TreeSet<>();

    public Args(String[] args, Set<String> flags) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new IllegalArgumentException("expected an option like --name value, got '" + a + "'");
            }
            String name = a.substring(2);
            int eq = name.indexOf('=');
            if (eq > 0) {
                values.put(name.substring(0, eq), name.substring(eq + 1));
            } else if (flags.contains(name)) {
                values.put(name, "true");
            } else if (i + 1 < args.length) {
                values.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("option --" + name + " needs a value");
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
