package io.metastream.flink.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The operator-state format both meta-learner operators checkpoint: a format number, the last
 * published version, the run id and the learner's own snapshot bytes.
 */
record LearnerCheckpoint(long version, String runId, byte[] snapshot) {

    /** Format 2 adds the run id; format 1 (no run id) still restores, with an empty one. */
    static final int FORMAT = 2;

    byte[] encode() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(FORMAT);
        out.writeLong(version);
        out.writeUTF(runId);
        out.writeInt(snapshot.length);
        out.write(snapshot);
        out.flush();
        return bytes.toByteArray();
    }

    /** @param what the operator, for the error message */
    static LearnerCheckpoint decode(byte[] bytes, String what) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        int format = in.readInt();
        if (format != FORMAT && format != 1) {
            throw new IOException(what + " state format " + format + " is not supported (this code reads " + FORMAT
                    + "); restore from a savepoint taken by a matching metastream version");
        }
        long version = in.readLong();
        String runId = format >= 2 ? in.readUTF() : "";
        byte[] snapshot = new byte[in.readInt()];
        in.readFully(snapshot);
        return new LearnerCheckpoint(version, runId, snapshot);
    }
}
