package io.metastream.flink.internal;

import io.metastream.client.ModelSignatures;
import io.metastream.schema.ModelVersion;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Map;

/**
 * The job's side of signed model versions, read on the TaskManager from the files that the job settings
 * {@value #SIGNING_KEY} (the learner's Ed25519 private key, PKCS#8 PEM) and {@value #TRUSTED_KEYS} (the
 * public keys versions must be signed with, X.509 PEM) name. The paths travel as global job parameters;
 * the key material never enters the job graph. Without either setting versions are published unsigned
 * and every version that passes its checksum is taken.
 */
public final class ModelTrust {

    /** Job setting: the learner's private key file. */
    public static final String SIGNING_KEY = "metastream.signing-key-file";
    /** Job setting: the trusted public keys file. */
    public static final String TRUSTED_KEYS = "metastream.trusted-keys-file";

    private static final ModelTrust NONE = new ModelTrust(null, null);

    private final KeyPair signer;
    private final Map<String, PublicKey> trusted;

    private ModelTrust(KeyPair signer, Map<String, PublicKey> trusted) {
        this.signer = signer;
        this.trusted = trusted;
    }

    /**
     * Reads the keys the settings name.
     *
     * @throws IllegalArgumentException when a file cannot be read or parsed, when a signing key is set
     *     without trusted keys, or when the signing key's public half is not among the trusted keys
     */
    public static ModelTrust from(Map<String, String> settings) {
        String signing = blankToNull(settings.get(SIGNING_KEY));
        String trustedFile = blankToNull(settings.get(TRUSTED_KEYS));
        if (signing == null && trustedFile == null) {
            return NONE;
        }
        Map<String, PublicKey> trusted = trustedFile == null ? null : ModelSignatures.readPublicKeys(Path.of(trustedFile));
        KeyPair pair = null;
        if (signing != null) {
            if (trusted == null) {
                throw new IllegalArgumentException(SIGNING_KEY + " is set but " + TRUSTED_KEYS + " is not: give the public "
                        + "key file written with the private key, so the job's task operators verify what its learner signs");
            }
            PrivateKey key = ModelSignatures.readPrivateKey(Path.of(signing));
            pair = matchingPair(key, trusted, signing, trustedFile);
        }
        return new ModelTrust(pair, trusted);
    }

    /** Finds the trusted public key that verifies what {@code key} signs. */
    private static KeyPair matchingPair(PrivateKey key, Map<String, PublicKey> trusted, String signing, String trustedFile) {
        byte[] probe = "metastream key pair check".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try {
            java.security.Signature signer = java.security.Signature.getInstance("Ed25519");
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            for (PublicKey pub : trusted.values()) {
                java.security.Signature verifier = java.security.Signature.getInstance("Ed25519");
                verifier.initVerify(pub);
                verifier.update(probe);
                if (verifier.verify(signature)) {
                    return new KeyPair(pub, key);
                }
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("the key in " + signing + " cannot sign: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("the private key in " + signing + " belongs to none of the public keys in "
                + trustedFile + "; the job would refuse its own versions");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** True when versions must be signed by a trusted key to be taken. */
    public boolean verifies() {
        return trusted != null;
    }

    /** Signs {@code v} when a signing key is configured. */
    public void sign(ModelVersion v) {
        if (signer != null) {
            ModelSignatures.sign(v, signer.getPrivate(), signer.getPublic());
        }
    }

    /**
     * Refuses {@code v} unless it is signed by a trusted key, when keys are trusted.
     *
     * @throws io.metastream.client.ModelIntegrityException saying why
     */
    public void check(ModelVersion v) {
        if (trusted != null) {
            ModelSignatures.verify(v, trusted);
        }
    }
}
