package io.metastream.core.nn;

import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J finds its backend through the thread context class loader; in Flink's user-code class loader
 * that is not the loader that holds the job jar, so operators call {@link #load()} in {@code open}.
 */
public final class Nd4jBackend {
    private Nd4jBackend() {}

    public static void load() {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(Nd4jBackend.class.getClassLoader());
        try {
            Nd4j.getBackend();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Backend and machine, recorded in every model version's provenance. */
    public static String platform() {
        return Nd4j.getBackend().getClass().getSimpleName() + " " + System.getProperty("os.name") + "-"
                + System.getProperty("os.arch");
    }
}
