package org.odradek.codecdiff;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.protocol.Readable;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Kafka's generated class for one spec, found by name in the package its
 * module generates into, and driven by reflection: read from bytes, write to
 * bytes, and build from JSON through the matching *JsonConverter.
 */
final class Kafka {
    /** Spec folder -> Java package its classes are generated into. */
    static final Map<String, String> PACKAGES = Map.of(
        "message", "org.apache.kafka.common.message",
        "metadata", "org.apache.kafka.common.metadata",
        "raft", "org.apache.kafka.raft.generated",
        "group-coordinator", "org.apache.kafka.coordinator.group.generated",
        "transaction-coordinator", "org.apache.kafka.coordinator.transaction.generated",
        "storage", "org.apache.kafka.server.log.remote.metadata.storage.generated");

    final Class<? extends Message> cls;
    private final Constructor<? extends Message> reader;
    private final Method fromJson;
    final short lowest;
    final short highest;

    private Kafka(Class<? extends Message> cls) throws ReflectiveOperationException {
        this.cls = cls;
        this.reader = cls.getConstructor(Readable.class, short.class);
        Class<?> conv = Class.forName(cls.getName() + "JsonConverter", true, cls.getClassLoader());
        this.fromJson = conv.getMethod("read", JsonNode.class, short.class);
        Message proto = cls.getConstructor().newInstance();
        this.lowest = proto.lowestSupportedVersion();
        this.highest = proto.highestSupportedVersion();
    }

    /** Kafka's class for a spec, or null when no jar has it; an overlaid spec's comes from the overlay jar. */
    static Kafka find(Specs.Message m, Overlay overlay) {
        ClassLoader loader = overlay != null ? overlay.loaderFor(m) : Kafka.class.getClassLoader();
        String pkg = PACKAGES.get(m.folder());
        // Requests, responses, headers and most "data" specs get a "Data" suffix; records do not.
        for (String name : new String[]{m.name() + "Data", m.name()}) {
            try {
                Class<?> c = Class.forName(pkg + "." + name, true, loader);
                if (Message.class.isAssignableFrom(c)) {
                    return new Kafka(c.asSubclass(Message.class));
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                // try the next spelling
            }
        }
        return null;
    }

    Message fromJson(JsonNode json, short version) throws Throwable {
        try {
            return (Message) fromJson.invoke(null, json, version);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Kafka's reading of `bytes`; `consumed[0]` receives how many bytes it used. */
    Message read(byte[] bytes, short version, int[] consumed) throws Throwable {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        try {
            Message msg = reader.newInstance(new ByteBufferAccessor(buf), version);
            consumed[0] = buf.position();
            return msg;
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    static byte[] write(Message msg, short version) {
        ByteBuffer b = MessageUtil.toByteBuffer(msg, version);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
