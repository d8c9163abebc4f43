package io.metastream.cli;

import io.metastream.client.Codecs;
import io.metastream.schema.Transition;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class WireFormatDocTest {

    @Test
    void readmeHoldsTheGeneratedWireFormat() throws Exception {
        SettingsDocTest.assertReadmeHolds("wire format", "bin/metastream help wire-format", WireFormatDoc.markdown());
    }

    @Test
    void theDocumentedFingerprintIsWhatTheCodecWrites() {
        Transition t = Transition.newBuilder().setTaskId("t").setAgentId("a").setEpisodeId(0).setStep(0)
                .setObservation(java.util.List.of(0f)).setAction(java.util.List.of(0f)).setReward(0f)
                .setNextObservation(java.util.List.of(0f)).setDone(false).setPolicyVersion(null)
                .setTimestamp(java.time.Instant.EPOCH).build();
        byte[] value = Codecs.transition().encode(t);
        assertThat(Arrays.copyOfRange(value, 0, 2)).containsExactly((byte) 0xC3, (byte) 0x01);
        assertThat(Arrays.copyOfRange(value, 2, 10)).isEqualTo(WireFormatDoc.fingerprint(Transition.getClassSchema()));
    }
}
