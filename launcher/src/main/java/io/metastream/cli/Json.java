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
