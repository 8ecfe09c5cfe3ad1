package org.odradek.codecdiff;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.protocol.Message;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every message at every version, both ways:
 *   kafka->odradek: Kafka writes random content; Odradek decodes and encodes
 *                   again and must give back the same bytes.
 *   odradek->kafka: Odradek writes random content; Kafka reads all of it and
 *                   writes it again, and must give back the same bytes.
 * One case is one (message, version) in one direction; it passes when all its
 * samples do.
 */
final class MessageDiff {
    static final String CAT_VERSIONS = "messages:version-range";
    static final String CAT_K2O = "messages:kafka->odradek";
    static final String CAT_O2K = "messages:odradek->kafka";

    private final List<Specs.Message> specs;
    private final Tool tool;
    private final Report report;
    private final Map<String, Kafka> kafka = new LinkedHashMap<>();
    private final Map<String, Specs.Message> byName = new HashMap<>();
    /** Top-level tags Kafka did not know in Odradek's messages: shows the filler makes them. */
    private int unknownSeen;

    MessageDiff(List<Specs.Message> specs, Overlay overlay, Tool tool, Report report) {
        this.specs = specs;
        this.tool = tool;
        this.report = report;
        for (Specs.Message m : specs) {
            byName.put(m.name(), m);
            Kafka k = Kafka.find(m, overlay);
            if (k == null) {
                report.skip(CAT_VERSIONS, m.folder() + "/" + m.name(), "no generated class in the Kafka jars");
            } else {
                kafka.put(m.name(), k);
            }
        }
    }

    /** Odradek's catalogue (`list`): name -> {min, max}. Compared with Kafka's ranges. */
    Map<String, int[]> catalogue() throws Exception {
        Tool.Run r = tool.run(60, "list");
        Map<String, int[]> od = new HashMap<>();
        if (r.exit() != 0) {
            report.fail(CAT_VERSIONS, "od_codec_tool list", "exit " + r.exit() + ": " + r.stderr());
            return od;
        }
        for (String line : tool.stdout().split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 3) {
                od.put(w[0], new int[]{Integer.parseInt(w[1]), Integer.parseInt(w[2])});
            }
        }
        for (Map.Entry<String, Kafka> e : kafka.entrySet()) {
            int[] o = od.get(e.getKey());
            Kafka k = e.getValue();
            if (o == null) {
                report.fail(CAT_VERSIONS, e.getKey(), "Odradek has no descriptor for it");
            } else if (o[0] != k.lowest || o[1] != k.highest) {
                report.fail(CAT_VERSIONS, e.getKey(), "Odradek versions " + o[0] + ".." + o[1]
                    + ", Kafka " + k.lowest + ".." + k.highest);
            } else {
                report.pass(CAT_VERSIONS);
            }
        }
        return od;
    }

    private record Case(String name, short version) {
    }

    void kafkaToOdradek(long seed, int samples) throws Exception {
        RandomJson rj = new RandomJson(seed);
        UnknownTags unknown = new UnknownTags(seed);
        List<Tool.Frame> frames = new ArrayList<>();
        List<Case> owners = new ArrayList<>();
        Map<Case, String> broken = new LinkedHashMap<>();
        for (Map.Entry<String, Kafka> e : kafka.entrySet()) {
            Specs.Message m = byName.get(e.getKey());
            Kafka k = e.getValue();
            for (short v = k.lowest; v <= k.highest; v++) {
                Case c = new Case(m.name(), v);
                // First, the object exactly as Kafka constructs it: every field at its default.
                try {
                    Message empty = k.cls.getConstructor().newInstance();
                    frames.add(new Tool.Frame(m.name(), v, Kafka.write(empty, v)));
                    owners.add(c);
                } catch (Throwable t) {
                    // Some defaults (a null where this version forbids it) are not writable; random content covers those.
                }
                for (int s = 0; s < samples; s++) {
                    ObjectNode json = rj.message(m, v);
                    byte[] bytes;
                    try {
                        Message msg = k.fromJson(json, v);
                        // Half the samples also carry tags unknown to both sides.
                        if (s % 2 == 1) {
                            unknown.add(m, msg, v);
                        }
                        bytes = Kafka.write(msg, v);
                    } catch (Throwable t) {
                        // Our generator made content Kafka will not write: a bug in this test.
                        broken.putIfAbsent(c, "Kafka refused the random content: " + t + "\njson: " + json);
                        continue;
                    }
                    frames.add(new Tool.Frame(m.name(), v, bytes));
                    owners.add(c);
                }
            }
        }
        System.out.println("kafka->odradek: " + frames.size() + " messages written by Kafka, carrying "
            + unknown.added + " unknown tagged fields");
        List<Tool.Result> results = tool.reencode(frames);
        Map<Case, String> firstFailure = new LinkedHashMap<>();
        Map<Case, Integer> seen = new LinkedHashMap<>();
        for (int i = 0; i < frames.size(); i++) {
            Case c = owners.get(i);
            seen.merge(c, 1, Integer::sum);
            if (firstFailure.containsKey(c)) {
                continue;
            }
            Tool.Result r = results.get(i);
            byte[] want = frames.get(i).bytes();
            if (!r.ok()) {
                firstFailure.put(c, "Odradek could not re-encode: " + r.text()
                    + "\nkafka bytes (" + want.length + "): " + Report.hex(want, 0, 96));
            } else if (!Arrays.equals(want, r.bytes())) {
                firstFailure.put(c, Report.diff("kafka", want, "odradek", r.bytes()));
            }
        }
        for (Map.Entry<String, Kafka> e : kafka.entrySet()) {
            Kafka k = e.getValue();
            for (short v = k.lowest; v <= k.highest; v++) {
                Case c = new Case(e.getKey(), v);
                String what = c.name() + " v" + v;
                if (broken.containsKey(c)) {
                    report.fail(CAT_K2O, what, broken.get(c));
                } else if (firstFailure.containsKey(c)) {
                    report.fail(CAT_K2O, what, firstFailure.get(c));
                } else if (seen.getOrDefault(c, 0) == 0) {
                    report.fail(CAT_K2O, what, "no sample was produced");
                } else {
                    report.pass(CAT_K2O);
                }
            }
        }
    }

    void odradekToKafka(long seed, int samples, Path work) throws Exception {
        Path out = work.resolve("random.frames");
        Tool.Run r = tool.run(600, "random", Long.toString(seed), Integer.toString(samples), out.toString());
        Map<Case, String> firstFailure = new LinkedHashMap<>();
        // The tool names the (message, version) of each problem it saw while writing
        // ("Name vN sample S: ..."); those cases fail even if Kafka agrees with the bytes.
        boolean attributed = false;
        for (String line : r.fullStderr().split("\n")) {
            java.util.regex.Matcher mt = java.util.regex.Pattern.compile("^(\\S+) v(\\d+) sample \\d+: (.*)$")
                .matcher(line);
            if (mt.matches()) {
                firstFailure.putIfAbsent(new Case(mt.group(1), Short.parseShort(mt.group(2))),
                    "Odradek, writing its own random content: " + mt.group(3));
                attributed = true;
            }
        }
        if (r.exit() != 0 && !attributed) {
            report.fail(CAT_O2K, "od_codec_tool random", "exit " + r.exit() + ": " + r.stderr());
        }
        List<Tool.Frame> frames = out.toFile().exists() ? Tool.readFrames(out) : List.of();
        Map<Case, Integer> seen = new LinkedHashMap<>();
        for (Tool.Frame f : frames) {
            Case c = new Case(f.name(), f.version());
            seen.merge(c, 1, Integer::sum);
            if (firstFailure.containsKey(c)) {
                continue;
            }
            String why = check(f);
            if (why != null) {
                firstFailure.put(c, why);
            }
        }
        System.out.println("odradek->kafka: " + frames.size() + " messages written by Odradek; Kafka found "
            + unknownSeen + " unknown tagged fields at their top level");
        for (Map.Entry<String, Kafka> e : kafka.entrySet()) {
            Kafka k = e.getValue();
            for (short v = k.lowest; v <= k.highest; v++) {
                Case c = new Case(e.getKey(), v);
                String what = c.name() + " v" + v;
                if (firstFailure.containsKey(c)) {
                    report.fail(CAT_O2K, what, firstFailure.remove(c));
                } else if (seen.getOrDefault(c, 0) == 0) {
                    report.fail(CAT_O2K, what, "Odradek produced no sample for it");
                } else {
                    report.pass(CAT_O2K);
                }
                seen.remove(c);
            }
        }
        // Whatever is left is a (message, version) Kafka does not know.
        for (Map.Entry<Case, Integer> e : seen.entrySet()) {
            Case c = e.getKey();
            String why = firstFailure.getOrDefault(c, "Kafka has no such (message, version)");
            report.fail(CAT_O2K, c.name() + " v" + c.version(), why);
        }
    }

    /** Null when Kafka reads all of f and writes the same bytes back; else what went wrong. */
    private String check(Tool.Frame f) {
        Kafka k = kafka.get(f.name());
        if (k == null || f.version() < k.lowest || f.version() > k.highest) {
            return "Kafka has no such (message, version)";
        }
        int[] consumed = new int[1];
        Message msg;
        try {
            msg = k.read(f.bytes(), f.version(), consumed);
        } catch (Throwable t) {
            return "Kafka could not read Odradek's bytes: " + t
                + "\nodradek bytes (" + f.bytes().length + "): " + Report.hex(f.bytes(), 0, 96);
        }
        unknownSeen += msg.unknownTaggedFields().size();
        if (consumed[0] != f.bytes().length) {
            return "Kafka read " + consumed[0] + " of " + f.bytes().length + " bytes; rest: "
                + Report.hex(f.bytes(), consumed[0], consumed[0] + 32);
        }
        byte[] again;
        try {
            again = Kafka.write(msg, f.version());
        } catch (Throwable t) {
            return "Kafka read Odradek's bytes but could not write them again: " + t;
        }
        if (!Arrays.equals(f.bytes(), again)) {
            return Report.diff("odradek", f.bytes(), "kafka", again);
        }
        return null;
    }
}
