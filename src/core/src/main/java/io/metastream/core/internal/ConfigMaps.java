package io.metastream.core.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/** The canonical string form shared by the algorithm configurations (toMap / fromMap / configHash). */
public final class ConfigMaps {
    private ConfigMaps() {}

    /** SHA-256 (lowercase hex) of the map as UTF-8 lines {@code key=value\n} in the map's iteration order. */
    public static String sha256(Map<String, String> canonical) {
        StringBuilder sb = new StringBuilder();
        canonical.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(sb.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /** "true" or "false", any case; anything else names the owner and key in its message. */
    public static boolean parseBoolean(String owner, String key, String v) {
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException(owner + " key '" + key + "' has value '" + v + "'; use true or false");
    }

    /** Comma-separated integers, e.g. {@code 64,64}; the empty string is the empty array. */
    public static String joinInts(int[] values) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(values[i]);
        }
        return sb.toString();
    }

    /** The inverse of {@link #joinInts}; throws NumberFormatException on a non-integer part. */
    public static int[] parseInts(String v) {
        if (v.isEmpty()) {
            return new int[0];
        }
        String[] parts = v.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i].trim());
        }
        return out;
    }

    /**
     * Hands every entry of {@code map} (values trimmed, null read as empty) to {@code setter}, after
     * rejecting keys outside {@code keys}; a number that does not parse becomes an
     * IllegalArgumentException naming the owner, key and value.
     */
    public static void apply(String owner, Map<String, String> map, Set<String> keys, BiConsumer<String, String> setter) {
        if (map == null) {
            throw new IllegalArgumentException("map is null");
        }
        for (String k : map.keySet()) {
            if (!keys.contains(k)) {
                throw new IllegalArgumentException("unknown " + owner + " key '" + k + "'; known keys are "
                        + new TreeSet<>(keys));
            }
        }
        for (Map.Entry<String, String> e : map.entrySet()) {
            String k = e.getKey();
            String v = e.getValue() == null ? "" : e.getValue().trim();
            try {
                setter.accept(k, v);
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(owner + " key '" + k + "' has value '" + v + "' which is not a valid "
                        + (v.contains(",") || k.toLowerCase(java.util.Locale.ROOT).endsWith("hidden")
                                ? "comma-separated list of integers" : "number"), ex);
            }
        }
    }
}
