package io.metastream.client;

import io.metastream.schema.ModelVersion;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ed25519 signatures on model versions: the learner signs each version it publishes, and the job and
 * every client that is given the trusted public keys refuse a version that is unsigned, signed by
 * another key, or whose signed identity was changed. The SHA-256 in the record catches corruption;
 * the signature catches forgery (anyone who can write to the models topic could otherwise set any
 * version number and parameters).
 *
 * <p>What is signed (UTF-8 strings with a 4-byte length, numbers as 8-byte big-endian): the text
 * {@value #CONTEXT}, modelName, version, parentVersion (-1 for none), runId, algorithm,
 * parameterEncoding, parametersSha256 in lower case. The parameters themselves are covered through their
 * SHA-256, which {@link ModelVerifier} checks against the bytes.
 *
 * <p>Keys are PEM files: a private key as PKCS#8 ({@code BEGIN PRIVATE KEY}), public keys as X.509
 * ({@code BEGIN PUBLIC KEY}; a trusted-keys file may hold several, for rotation). Stateless and
 * thread-safe.
 */
public final class ModelSignatures {

    /** Domain separation: a signature over these bytes cannot be replayed for another purpose. */
    public static final String CONTEXT = "metastream-model-version-signature-v1";
    private static final String ALGORITHM = "Ed25519";
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private ModelSignatures() {}

    /** The bytes a signature covers. */
    public static byte[] signedBytes(ModelVersion v) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            string(out, CONTEXT);
            string(out, v.getModelName());
            out.writeLong(v.getVersion());
            out.writeLong(v.getParentVersion() == null ? -1 : v.getParentVersion());
            string(out, v.getRunId());
            string(out, v.getAlgorithm());
            string(out, v.getParameterEncoding());
            string(out, v.getParametersSha256() == null ? "" : v.getParametersSha256().toLowerCase(java.util.Locale.ROOT));
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    /** Sets {@code v}'s signingKeyId and signature; {@code publicKey} is the private key's pair. */
    public static void sign(ModelVersion v, PrivateKey key, PublicKey publicKey) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(key);
            s.update(signedBytes(v));
            v.setSigningKeyId(keyId(publicKey));
            v.setSignature(ByteBuffer.wrap(s.sign()));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot sign with this key (" + key.getAlgorithm() + "): " + e.getMessage(), e);
        }
    }

    /**
     * Checks {@code v}'s signature against {@code trusted} (key id → public key).
     *
     * @throws ModelIntegrityException naming the version and why it is refused: unsigned, signed by a key
     *     that is not trusted, or a signature that does not match its identity
     */
    public static void verify(ModelVersion v, Map<String, PublicKey> trusted) {
        String what = "model " + v.getModelName() + " version " + v.getVersion();
        if (v.getSignature() == null || v.getSigningKeyId() == null) {
            throw new ModelIntegrityException(what + " is unsigned and only signed versions are trusted here; refusing it");
        }
        PublicKey key = trusted.get(v.getSigningKeyId());
        if (key == null) {
            throw new ModelIntegrityException(what + " is signed by key " + v.getSigningKeyId()
                    + ", which is not among the trusted keys " + trusted.keySet() + "; refusing it");
        }
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(key);
            s.update(signedBytes(v));
            ByteBuffer sig = v.getSignature().duplicate();
            byte[] b = new byte[sig.remaining()];
            sig.get(b);
            if (!s.verify(b)) {
                throw new ModelIntegrityException(what + " has a signature that does not match its identity (version, "
                        + "parent, run, parameters hash); it was forged or altered, refusing it");
            }
        } catch (java.security.SignatureException e) {
            throw new ModelIntegrityException(what + " has a malformed signature: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is required by every Java 15+ platform", e);
        }
    }

    /** The first 16 hex digits of the SHA-256 of the key's X.509 encoding. */
    public static String keyId(PublicKey key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded())).substring(0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new Ed25519 key pair. */
    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is required by every Java 15+ platform", e);
        }
    }

    /**
     * Writes a new key pair: {@code privateFile} (PKCS#8 PEM, readable by its owner only where the file
     * system allows) and {@code publicFile} (X.509 PEM, the file to give readers as trusted keys).
     */
    public static KeyPair writeNewPair(Path privateFile, Path publicFile) throws IOException {
        KeyPair pair = generate();
        Files.writeString(privateFile, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        ownerOnly(privateFile);
        Files.writeString(publicFile, pem("PUBLIC KEY", pair.getPublic().getEncoded()));
        return pair;
    }

    /** Makes {@code file} readable and writable by its owner only (POSIX permissions, else the java.io.File flags). */
    private static void ownerOnly(Path file) throws IOException {
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            return;
        }
        java.io.File f = file.toFile();
        boolean ok = f.setReadable(false, false) && f.setReadable(true, true)
                && f.setWritable(false, false) && f.setWritable(true, true);
        if (!ok) {
            throw new IOException("cannot restrict " + file + " to its owner; keep the private key elsewhere");
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /**
     * Reads the private key of a PEM file and the public keys next to it.
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    public static PrivateKey readPrivateKey(Path file) {
        List<byte[]> keys = blocks(file, "PRIVATE KEY");
        if (keys.size() != 1) {
            throw new IllegalArgumentException(file + " holds " + keys.size() + " PRIVATE KEY blocks; it must hold exactly one "
                    + "Ed25519 key in PKCS#8 PEM (bin/metastream keys writes one)");
        }
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(keys.get(0)));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " does not hold an Ed25519 private key: " + e.getMessage(), e);
        }
    }

    /**
     * Reads every public key of a PEM file, by key id.
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    public static Map<String, PublicKey> readPublicKeys(Path file) {
        List<byte[]> keys = blocks(file, "PUBLIC KEY");
        if (keys.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no PUBLIC KEY block; give the X.509 PEM file written with the "
                    + "learner's private key");
        }
        Map<String, PublicKey> out = new LinkedHashMap<>();
        for (byte[] der : keys) {
            try {
                PublicKey k = KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
                out.put(keyId(k), k);
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException(file + " holds a key that is not an Ed25519 public key: " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static List<byte[]> blocks(Path file, String type) {
        Objects.requireNonNull(file, "file");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read key file " + file + ": " + e.getMessage(), e);
        }
        List<byte[]> out = new ArrayList<>();
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(type)) {
                try {
                    out.add(Base64.getMimeDecoder().decode(m.group(2)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " has a " + type + " block that is not base64: " + e.getMessage(), e);
                }
            }
        }
        return out;
    }
}
