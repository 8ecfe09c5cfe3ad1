package org.odradek.codecdiff;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.ZipFile;

/**
 * The generator's spec overlay (protocol/gen/spec_overlay.json): a few specs
 * come from a newer kafka-clients jar than the one on the classpath. For
 * those, the JSON spec is read out of that jar, and Kafka's generated classes
 * are loaded from it too, so each message is judged by the Kafka release its
 * spec came from.
 *
 * The newer classes run on the classpath's Kafka runtime (Readable, Writable,
 * MessageUtil: the interfaces MessageDiff uses), except for the schema
 * classes in org.apache.kafka.common.protocol.types, whose newer versions the
 * newer generated code needs; RawTaggedField stays shared because
 * Message.unknownTaggedFields() returns it.
 */
final class Overlay {
    /** "folder/File.json" -> the entry in the jar. */
    private final Map<String, String> specs = new HashMap<>();
    private final Map<String, String> messageClassPrefixes = new HashMap<>();
    private final Path jar;
    private final ClassLoader loader;

    Overlay(Path manifest, Path jar) throws IOException {
        JsonNode n = new ObjectMapper().readTree(manifest.toFile());
        String want = n.get("sha256").asText();
        String have = sha256(jar);
        if (!want.equals(have)) {
            throw new IOException(jar + ": sha256 " + have + ", but " + manifest + " pins " + want);
        }
        this.jar = jar;
        n.get("specs").fields().forEachRemaining(e -> specs.put(e.getKey(), e.getValue().asText()));
        this.loader = new NewerFirst(new URL[]{jar.toUri().toURL()}, Overlay.class.getClassLoader());
    }

    /** The overlaid spec's bytes, or null when folder/file is not overlaid. */
    byte[] spec(String folder, String file) throws IOException {
        String entry = specs.get(folder + "/" + file);
        if (entry == null) {
            return null;
        }
        try (ZipFile z = new ZipFile(jar.toFile()); InputStream in = z.getInputStream(z.getEntry(entry))) {
            return in.readAllBytes();
        }
    }

    /** Records that Kafka's classes for this message, in this package, come from the jar. */
    void covers(String folder, String name, String pkg) {
        messageClassPrefixes.put(folder + "/" + name, pkg + "." + name);
    }

    /** The loader for a message's classes: the jar's when the spec is overlaid. */
    ClassLoader loaderFor(Specs.Message m) {
        return messageClassPrefixes.containsKey(m.folder() + "/" + m.name())
            ? loader : Overlay.class.getClassLoader();
    }

    private boolean newer(String className) {
        if (className.startsWith("org.apache.kafka.common.protocol.types.")) {
            return !className.equals("org.apache.kafka.common.protocol.types.RawTaggedField");
        }
        for (String prefix : messageClassPrefixes.values()) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private final class NewerFirst extends URLClassLoader {
        NewerFirst(URL[] urls, ClassLoader parent) {
            super(urls, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!newer(name)) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : findClass(name);
            }
        }
    }

    private static String sha256(Path p) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
