package io.metastream.client.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.metastream.client.CodecException;
import io.metastream.client.Codecs;
import io.metastream.client.TransitionRules;
import io.metastream.schema.Transition;

/**
 * Any bytes on the experience topic end as a decoded record that the rules accept or refuse with a
 * reason, or as a {@link CodecException}: never another exception, a hang or an allocation the input
 * does not pay for (what the job's validator relies on to dead-letter instead of restarting).
 */
class TransitionFuzzTest {

    private static final TransitionRules RULES = new TransitionRules(3, 1);

    @FuzzTest(maxDuration = "30s")
    void anyBytesDecodeOrFailWithACodecException(byte[] data) {
        Transition t;
        try {
            t = Codecs.transition().decode(data);
        } catch (CodecException e) {
            return;
        }
        RULES.check(t, data.length > 0 ? new byte[] {data[0]} : null);
    }
}
