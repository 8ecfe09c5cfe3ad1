package org.odradek.codecdiff;

import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.types.RawTaggedField;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * Adds tagged fields no spec defines to a Kafka message object, at every
 * level a flexible version writes, the way a newer peer's message looks to an
 * older reader. The JSON converters cannot express these, so they are added
 * to the built object. Tag numbers fall in the gaps between and after the
 * known tags, so a decoder must interleave them in order when writing back.
 */
final class UnknownTags {
    private final Random rng;
    /** How many unknown tags were added, so the log shows this path ran. */
    int added;

    UnknownTags(long seed) {
        rng = new Random(seed ^ 0x5eed);
    }

    void add(Specs.Message spec, Message msg, int version) {
        if (!spec.flexible().contains(version)) {
            return;
        }
        walk(spec, spec.fields(), msg, version);
    }

    private void walk(Specs.Message spec, List<Specs.Field> fields, Object obj, int version) {
        if (!(obj instanceof Message m)) {
            return;
        }
        TreeSet<Integer> known = new TreeSet<>();
        for (Specs.Field f : fields) {
            if (f.tag() >= 0) {
                known.add(f.tag());
            }
            if (!f.versions().contains(version) || RandomJson.isPrimitive(elementType(f))) {
                continue;
            }
            Object child;
            try {
                child = obj.getClass().getMethod(f.jsonName()).invoke(obj);
            } catch (ReflectiveOperationException e) {
                continue;
            }
            if (child instanceof Collection<?> c) {
                for (Object e : c) {
                    walk(spec, spec.structFields(f), e, version);
                }
            } else if (child != null) {
                walk(spec, spec.structFields(f), child, version);
            }
        }
        if (rng.nextInt(3) != 0) {
            return;
        }
        int limit = (known.isEmpty() ? 0 : known.last()) + 4;
        List<Integer> free = new ArrayList<>();
        for (int t = 0; t <= limit; t++) {
            if (!known.contains(t)) {
                free.add(t);
            }
        }
        TreeSet<Integer> chosen = new TreeSet<>();
        int n = 1 + rng.nextInt(3);
        for (int i = 0; i < n; i++) {
            chosen.add(free.get(rng.nextInt(free.size())));
        }
        if (rng.nextInt(4) == 0) {
            chosen.add(200 + rng.nextInt(20000)); // a tag whose number takes a multi-byte varint
        }
        List<RawTaggedField> raw = m.unknownTaggedFields();
        for (int t : chosen) {
            byte[] data = new byte[rng.nextInt(6)];
            rng.nextBytes(data);
            raw.add(new RawTaggedField(t, data));
            added++;
        }
    }

    private static String elementType(Specs.Field f) {
        return f.type().startsWith("[]") ? f.type().substring(2) : f.type();
    }
}
