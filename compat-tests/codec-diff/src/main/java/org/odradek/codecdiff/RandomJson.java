package org.odradek.codecdiff;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Base64;
import java.util.List;
import java.util.Random;

/**
 * Random message content as the JSON that Kafka's generated *JsonConverter
 * classes read. Only fields present in the chosen version are emitted, null
 * only where the version allows it, so Kafka's writer accepts every object.
 * Values lean towards the edges (0, -1, min, max, empty, null) because that is
 * where encoders disagree.
 */
final class RandomJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String ALPHABET =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._ ";
    /** Multi-byte UTF-8 (2, 3 and 4 bytes) so lengths are counted in bytes, not chars. */
    private static final String[] WIDE = {"\u00e9", "\u00df", "\u6f22", "\u20ac", "\ud83d\ude00"};

    private final Random rng;

    RandomJson(long seed) {
        rng = new Random(seed);
    }

    ObjectNode message(Specs.Message m, int version) {
        return struct(m, m.fields(), version, 0);
    }

    private ObjectNode struct(Specs.Message m, List<Specs.Field> fields, int v, int depth) {
        ObjectNode o = F.objectNode();
        boolean flexible = m.flexible().contains(v);
        for (Specs.Field f : fields) {
            if (!f.versions().contains(v)) {
                continue;
            }
            boolean tagged = flexible && f.tagged().contains(v);
            boolean nullable = f.nullable().contains(v);
            JsonNode val = null;
            if (tagged && rng.nextInt(4) == 0) {
                // A tagged field equal to its default is left off the wire; cover that path too.
                val = defaultValue(f, nullable);
            }
            if (val == null) {
                val = value(m, f, f.type(), v, nullable, depth);
            }
            o.set(f.jsonName(), val);
        }
        return o;
    }

    private JsonNode value(Specs.Message m, Specs.Field f, String type, int v, boolean nullable, int depth) {
        if (type.startsWith("[]")) {
            if (nullable && rng.nextInt(6) == 0) {
                return F.nullNode();
            }
            String elem = type.substring(2);
            int max = depth < 2 ? 4 : 2;
            int n = rng.nextInt(5) == 0 ? 0 : rng.nextInt(max) + (depth < 2 ? 1 : 0);
            int childDepth = depth + 1;
            // Now and then a count past 127, whose compact length takes a two-byte varint.
            if (isPrimitive(elem) ? rng.nextInt(15) == 0 : depth == 0 && rng.nextInt(30) == 0) {
                n = 128 + rng.nextInt(80);
                childDepth = Math.max(childDepth, 3);
            }
            ArrayNode a = F.arrayNode();
            for (int i = 0; i < n; i++) {
                a.add(isPrimitive(elem)
                    ? value(m, f, elem, v, false, childDepth)
                    : struct(m, m.structFields(f), v, childDepth));
            }
            return a;
        }
        switch (type) {
            case "bool":
                return F.booleanNode(rng.nextBoolean());
            case "int8":
                return F.numberNode((byte) integer(8));
            case "int16":
                return F.numberNode((short) integer(16));
            case "uint16":
                return F.numberNode(pick(new long[]{0, 1, 0x7fff, 0x8000, 0xffff}, rng.nextInt(0x10000)));
            case "int32":
                return F.numberNode((int) integer(32));
            case "uint32":
                return F.numberNode(pick(new long[]{0, 1, 0x7fffffffL, 0x80000000L, 0xffffffffL},
                    rng.nextLong() & 0xffffffffL));
            case "int64":
                return F.numberNode(integer(64));
            case "float64":
                return F.numberNode(float64());
            case "string":
                if (nullable && rng.nextInt(5) == 0) {
                    return F.nullNode();
                }
                return F.textNode(string(depth));
            case "bytes":
            case "records":
                if (nullable && rng.nextInt(5) == 0) {
                    return F.nullNode();
                }
                return F.binaryNode(bytes(rng.nextInt(4) == 0 ? 0
                    : rng.nextInt(15) == 0 ? 120 + rng.nextInt(depth < 2 ? 20000 : 400)
                    : rng.nextInt(24) + 1));
            case "uuid": {
                byte[] b = rng.nextInt(5) == 0 ? new byte[16] : bytes(16);
                return F.textNode(Base64.getUrlEncoder().withoutPadding().encodeToString(b));
            }
            default:
                if (nullable && rng.nextInt(5) == 0) {
                    return F.nullNode();
                }
                return struct(m, m.structFields(f), v, depth + 1);
        }
    }

    static boolean isPrimitive(String t) {
        switch (t) {
            case "bool": case "int8": case "int16": case "uint16": case "int32": case "uint32":
            case "int64": case "float64": case "string": case "bytes": case "records": case "uuid":
                return true;
            default:
                return false;
        }
    }

    /** The JSON for a field's declared default, or null when it has none worth emitting. */
    private JsonNode defaultValue(Specs.Field f, boolean nullable) {
        String d = f.defaultValue();
        String t = f.type();
        if ("null".equals(d)) {
            return nullable ? F.nullNode() : null;
        }
        try {
            switch (t) {
                case "bool":
                    return F.booleanNode("true".equals(d));
                case "int8": case "int16": case "uint16": case "int32": case "uint32": case "int64":
                    return F.numberNode(d == null ? 0L : Long.decode(d));
                case "float64":
                    return F.numberNode(d == null ? 0.0 : Double.parseDouble(d));
                case "string":
                    return F.textNode(d == null ? "" : d);
                case "uuid":
                    return F.textNode("AAAAAAAAAAAAAAAAAAAAAA");
                case "bytes": case "records":
                    return F.binaryNode(new byte[0]);
                default:
                    return t.startsWith("[]") ? F.arrayNode() : null;
            }
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private long pick(long[] edges, long otherwise) {
        return rng.nextInt(3) == 0 ? edges[rng.nextInt(edges.length)] : otherwise;
    }

    private long integer(int bits) {
        long min = bits == 64 ? Long.MIN_VALUE : -(1L << (bits - 1));
        long max = bits == 64 ? Long.MAX_VALUE : (1L << (bits - 1)) - 1;
        switch (rng.nextInt(6)) {
            case 0:
                return new long[]{0, -1, 1, min, max}[rng.nextInt(5)];
            case 1:
                return rng.nextInt(300) - 20;
            default:
                long r = rng.nextLong();
                return bits == 64 ? r : (r << (64 - bits)) >> (64 - bits);
        }
    }

    private double float64() {
        switch (rng.nextInt(5)) {
            case 0:
                return new double[]{0.0, -0.0, 1.5, Double.MAX_VALUE, Double.MIN_VALUE,
                    Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}[rng.nextInt(7)];
            case 1:
                return rng.nextInt(1000) / 8.0;
            default:
                double d = Double.longBitsToDouble(rng.nextLong());
                return Double.isNaN(d) ? 0.25 : d;
        }
    }

    private String string(int depth) {
        int n = rng.nextInt(4) == 0 ? 0 : rng.nextInt(16) + 1;
        if (depth < 3 && rng.nextInt(20) == 0) {
            n = 100 + rng.nextInt(300); // lengths past 127 bytes need a two-byte compact varint
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (rng.nextInt(8) == 0) {
                sb.append(WIDE[rng.nextInt(WIDE.length)]);
            } else {
                sb.append(ALPHABET.charAt(rng.nextInt(ALPHABET.length())));
            }
        }
        return sb.toString();
    }

    byte[] bytes(int n) {
        byte[] b = new byte[n];
        rng.nextBytes(b);
        return b;
    }
}
