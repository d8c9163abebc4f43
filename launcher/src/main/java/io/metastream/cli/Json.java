package io.metastream.cli;

/** JSON text for the reports the launcher writes: numbers (non-finite as null), strings and arrays. */
public final class Json {
    private Json() {}

    /** A finite number, or {@code null}. */
    public static String num(double d) {
        return Double.isFinite(d) ? Double.toString(d) : "null";
    }

    /** {@code [a, b, ...]}, non-finite values as null. */
    public static String array(double[] v) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ", ").append(num(v[i]));
        }
        return b.append(']').toString();
    }

    /** A quoted, escaped string. */
    public static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /**
     * Appends {@code value} as JSON: maps (keys as strings, in their order), lists, {@code double[]} rows,
     * numbers, booleans, strings and null; nested containers indented by two spaces per level, the
     * numeric rows of a series each on one line.
     */
    public static void write(StringBuilder b, Object value, String indent) {
        if (value == null) {
            b.append("null");
        } else if (value instanceof java.util.Map<?, ?> m) {
            if (m.isEmpty()) {
                b.append("{}");
                return;
            }
            b.append("{\n");
            int i = 0;
            for (java.util.Map.Entry<?, ?> e : m.entrySet()) {
                b.append(indent).append("  ").append(str(String.valueOf(e.getKey()))).append(": ");
                write(b, e.getValue(), indent + "  ");
                b.append(++i < m.size() ? ",\n" : "\n");
            }
            b.append(indent).append('}');
        } else if (value instanceof java.util.List<?> l) {
            boolean rows = !l.isEmpty() && l.stream().allMatch(o -> o instanceof double[] || o instanceof Number);
            if (rows) {
                b.append('[');
                for (int i = 0; i < l.size(); i++) {
                    b.append(i == 0 ? "" : ", ");
                    write(b, l.get(i), indent);
                }
                b.append(']');
                return;
            }
            if (l.isEmpty()) {
                b.append("[]");
                return;
            }
            b.append("[\n");
            for (int i = 0; i < l.size(); i++) {
                b.append(indent).append("  ");
                write(b, l.get(i), indent + "  ");
                b.append(i + 1 < l.size() ? ",\n" : "\n");
            }
            b.append(indent).append(']');
        } else if (value instanceof double[] d) {
            b.append(array(d));
        } else if (value instanceof Double || value instanceof Float) {
            b.append(num(((Number) value).doubleValue()));
        } else if (value instanceof Number || value instanceof Boolean) {
            b.append(value);
        } else {
            b.append(str(value.toString()));
        }
    }

    /**
     * {@code text} with this machine's paths made portable, for files that may be committed: the
     * working directory becomes relative, the home directory {@code ~} and the temporary directory
     * {@code $TMPDIR}.
     */
    public static String withoutMachinePaths(String text) {
        java.util.Map<String, String> dirs = new java.util.TreeMap<>(
                java.util.Comparator.comparingInt(String::length).reversed().thenComparing(java.util.Comparator.naturalOrder()));
        dirs.put(String.valueOf(System.getProperty("user.home")), "~/");
        dirs.put(java.nio.file.Paths.get("").toAbsolutePath().toString(), "");
        dirs.put(String.valueOf(System.getProperty("java.io.tmpdir")), "$TMPDIR/");
        String out = text;
        for (java.util.Map.Entry<String, String> d : dirs.entrySet()) { // the deepest first: tmpdir may lie in the working directory
            out = replacePrefix(out, d.getKey(), d.getValue());
        }
        return out;
    }

    private static String replacePrefix(String text, String dir, String replacement) {
        if (dir == null || dir.isEmpty() || dir.equals("/")) {
            return text;
        }
        String d = dir.endsWith("/") ? dir : dir + "/";
        return text.replace(d, replacement);
    }
}
