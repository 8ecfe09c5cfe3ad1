package org.odradek.codecdiff;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Apache Kafka's JSON message specs, read from shared/kafka-specs at run time
 * (and, for the generator's overlay, from a newer kafka-clients jar).
 * The Java side needs them only to know which fields exist, are nullable or
 * are tagged in a version, so that random content never puts a value where
 * Kafka's writer would refuse it.
 */
final class Specs {
    /** Inclusive version range; empty when lo > hi. */
    record Range(int lo, int hi) {
        static final Range NONE = new Range(1, 0);

        static Range parse(String s) {
            if (s == null || s.isEmpty() || s.equals("none")) {
                return NONE;
            }
            if (s.endsWith("+")) {
                return new Range(Integer.parseInt(s.substring(0, s.length() - 1)), Short.MAX_VALUE);
            }
            int dash = s.indexOf('-');
            if (dash > 0) {
                return new Range(Integer.parseInt(s.substring(0, dash)), Integer.parseInt(s.substring(dash + 1)));
            }
            int v = Integer.parseInt(s);
            return new Range(v, v);
        }

        boolean contains(int v) {
            return v >= lo && v <= hi;
        }
    }

    record Field(String name, String type, Range versions, Range nullable, Range tagged, int tag,
                 String defaultValue, List<Field> fields) {
        String jsonName() {
            return Character.toLowerCase(name.charAt(0)) + name.substring(1);
        }
    }

    record Message(String folder, String name, String type, Range valid, Range flexible,
                   List<Field> fields, Map<String, List<Field>> commonStructs) {
        /** The fields of a struct type, inline or from commonStructs. */
        List<Field> structFields(Field f) {
            if (f.fields() != null) {
                return f.fields();
            }
            String t = f.type().startsWith("[]") ? f.type().substring(2) : f.type();
            List<Field> common = commonStructs.get(t);
            if (common == null) {
                throw new IllegalStateException(name + ": unknown struct type " + t);
            }
            return common;
        }
    }

    static final String[] FOLDERS = {
        "message", "metadata", "raft", "group-coordinator", "transaction-coordinator", "storage",
    };

    private static final ObjectMapper MAPPER = new ObjectMapper()
        .configure(JsonParser.Feature.ALLOW_COMMENTS, true);

    /** The specs under root, with those the overlay names (when not null) read from its jar. */
    static List<Message> load(Path root, Overlay overlay) throws IOException {
        List<Message> out = new ArrayList<>();
        for (String folder : FOLDERS) {
            Path dir = root.resolve(folder);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            }
            for (Path p : files) {
                byte[] newer = overlay == null ? null : overlay.spec(folder, p.getFileName().toString());
                JsonNode n = newer != null ? MAPPER.readTree(newer) : MAPPER.readTree(p.toFile());
                if (!n.has("name") || !n.has("validVersions")) {
                    continue;
                }
                if (newer != null) {
                    overlay.covers(folder, n.get("name").asText(), Kafka.PACKAGES.get(folder));
                }
                Map<String, List<Field>> common = new HashMap<>();
                for (JsonNode c : iter(n.get("commonStructs"))) {
                    common.put(c.get("name").asText(), fields(c.get("fields")));
                }
                out.add(new Message(folder, n.get("name").asText(),
                    n.path("type").asText(""),
                    Range.parse(n.get("validVersions").asText()),
                    Range.parse(n.path("flexibleVersions").asText("none")),
                    fields(n.get("fields")), common));
            }
        }
        return out;
    }

    private static Iterable<JsonNode> iter(JsonNode n) {
        return n == null ? List.of() : n;
    }

    private static List<Field> fields(JsonNode arr) {
        List<Field> out = new ArrayList<>();
        for (JsonNode f : iter(arr)) {
            out.add(new Field(f.get("name").asText(), f.get("type").asText(),
                Range.parse(f.path("versions").asText("none")),
                Range.parse(f.path("nullableVersions").asText("none")),
                Range.parse(f.path("taggedVersions").asText("none")),
                f.path("tag").asInt(-1),
                f.has("default") ? f.get("default").asText() : null,
                f.has("fields") ? fields(f.get("fields")) : null));
        }
        return out;
    }

    private Specs() {
    }
}
