package io.metastream.flink.internal;

/** The metastream version recorded in model provenance: the jar's Implementation-Version, or "dev" from classes. */
public final class CodeVersion {
    private CodeVersion() {}

    public static String get() {
        String v = CodeVersion.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
