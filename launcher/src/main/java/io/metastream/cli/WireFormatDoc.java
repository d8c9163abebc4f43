package io.metastream.cli;

import io.metastream.client.TopicNames;
import io.metastream.schema.AdaptedModel;
import io.metastream.schema.DeadLetter;
import io.metastream.schema.ModelVersion;
import io.metastream.schema.Transition;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;

/**
 * The wire format for producers and readers in other languages, generated from the schemas: for each
 * record type its topic, key, the fingerprint that follows the single-object marker and the Parsing
 * Canonical Form it is computed over. {@code bin/metastream help wire-format} prints it, and the
 * README's "Wire format" holds the same text (a test compares them).
 */
public final class WireFormatDoc {
    private WireFormatDoc() {}

    private record Entry(Schema schema, String topic, String key) {}

    private static List<Entry> entries() {
        TopicNames t = TopicNames.defaults();
        return List.of(
                new Entry(Transition.getClassSchema(), t.experience(), "taskId (UTF-8)"),
                new Entry(ModelVersion.getClassSchema(), t.models(), "modelName (UTF-8)"),
                new Entry(AdaptedModel.getClassSchema(), t.adapted(), "taskId (UTF-8)"),
                new Entry(DeadLetter.getClassSchema(), t.deadLetters(), "the source record's key"));
    }

    /** The 8 fingerprint bytes as they appear on the wire (CRC-64-AVRO, little endian). */
    public static byte[] fingerprint(Schema schema) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(SchemaNormalization.parsingFingerprint64(schema)).array();
    }

    /** The Markdown the README holds. */
    public static String markdown() {
        HexFormat hex = HexFormat.ofDelimiter(" ");
        StringBuilder b = new StringBuilder("| record | topic | key | bytes 2–9 of every value (fingerprint) |\n"
                + "| --- | --- | --- | --- |\n");
        for (Entry e : entries()) {
            b.append("| `").append(e.schema().getName()).append("` | `").append(e.topic()).append("` | ").append(e.key())
                    .append(" | `").append(hex.formatHex(fingerprint(e.schema()))).append("` |\n");
        }
        b.append("\nParsing Canonical Forms, the exact text each fingerprint is computed over:\n\n```text\n");
        for (Entry e : entries()) {
            b.append(e.schema().getName()).append(": ").append(SchemaNormalization.toParsingForm(e.schema())).append('\n');
        }
        return b.append("```\n").toString();
    }
}
