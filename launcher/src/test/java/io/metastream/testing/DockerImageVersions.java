package io.metastream.testing;

/** Docker images used by tests, pinned in one place (never a floating tag). */
public final class DockerImageVersions {

    /** Apache Kafka, same version as the broker jars the embedded {@code KafkaBroker} runs. */
    public static final String KAFKA = "apache/kafka:4.2.0";

    private DockerImageVersions() {
    }
}
