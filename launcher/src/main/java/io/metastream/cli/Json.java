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
}
