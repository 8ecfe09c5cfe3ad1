package org.odradek.codecdiff;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.record.TimestampType;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Record batches, each codec, both directions, plus legacy message sets.
 *
 * Both sides describe batches in one canonical text (see od_codec_tool.c), so
 * a random description is at once the input of a builder and the expected
 * output of a reader:
 *   kafka->odradek: Kafka's MemoryRecordsBuilder builds the description;
 *                   Odradek's reader must print it back exactly.
 *   odradek->kafka: Odradek's builder builds it; Kafka reads the bytes,
 *                   checks every CRC, and must see exactly the description.
 *   identical-bytes: uncompressed, Odradek's batch must be Kafka's, byte for byte.
 *   legacy:kafka->odradek: magic 0/1 message sets from Kafka, read by Odradek.
 *   legacy:odradek->kafka: magic 0/1 messages and wrappers written by Odradek, read by Kafka
 *                   (uncompressed ones must also equal Kafka's bytes).
 */
final class BatchDiff {
    static final String CAT_K2O = "batches:kafka->odradek";
    static final String CAT_O2K = "batches:odradek->kafka";
    static final String CAT_BYTES = "batches:identical-bytes";
    static final String CAT_LEGACY = "legacy:kafka->odradek";
    static final String CAT_LEGACY_O2K = "legacy:odradek->kafka";
    static final String CAT_LEGACY_BYTES = "legacy:identical-bytes";

    private static final CompressionType[] CODECS = {
        CompressionType.NONE, CompressionType.GZIP, CompressionType.SNAPPY, CompressionType.LZ4,
        CompressionType.ZSTD,
    };

    private record Hdr(String key, byte[] value) {
    }

    private record Rec(long offset, long timestamp, byte[] key, byte[] value, List<Hdr> headers) {
    }

    private record Batch(long base, CompressionType codec, boolean logAppendTime, long appendTime, long pid,
                         short epoch, int seq, boolean txn, boolean control, int leader, List<Rec> recs) {
        long last() {
            return recs.get(recs.size() - 1).offset();
        }

        long maxTimestamp() {
            if (logAppendTime) {
                return appendTime;
            }
            long max = RecordBatch.NO_TIMESTAMP;
            for (Rec r : recs) {
                max = Math.max(max, r.timestamp());
            }
            return max;
        }
    }

    private final Tool tool;
    private final Report report;
    private final Path work;
    private final Random rng;
    private final int scenarios;

    BatchDiff(Tool tool, Report report, Path work, long seed, int scenarios) {
        this.tool = tool;
        this.report = report;
        this.work = work;
        this.rng = new Random(seed * 31 + 7);
        this.scenarios = scenarios;
    }

    void run() throws Exception {
        for (CompressionType codec : CODECS) {
            for (int s = 0; s < scenarios; s++) {
                kafkaToOdradek(codec, s);
                odradekToKafka(codec, s);
            }
        }
        for (byte magic : new byte[]{RecordBatch.MAGIC_VALUE_V0, RecordBatch.MAGIC_VALUE_V1}) {
            // zstd did not exist before magic 2.
            for (CompressionType codec : Arrays.copyOf(CODECS, 4)) {
                for (int s = 0; s < Math.max(2, scenarios / 2); s++) {
                    legacy(magic, codec, s);
                    legacyFromOdradek(magic, codec, s);
                }
            }
        }
    }

    // ------------------------------------------------------------ random batches

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        if (rng.nextBoolean()) {
            rng.nextBytes(b);
        } else {
            // Repetitive content, so the codecs actually find matches to encode.
            for (int i = 0; i < n; i++) {
                b[i] = (byte) ("odradek-".charAt(i % 8) + (i / 97 % 3));
            }
        }
        return b;
    }

    private byte[] maybeNullBytes(boolean big) {
        int pick = rng.nextInt(10);
        if (pick == 0) {
            return null;
        }
        if (pick == 1) {
            return new byte[0];
        }
        return randomBytes(big ? 20_000 + rng.nextInt(60_000) : rng.nextInt(48) + 1);
    }

    private String headerKey() {
        String[] keys = {"", "k", "trace-id", "content-type", "\u00e9t\u00e9", "\u6f22\u5b57", "x\ud83d\ude00"};
        return keys[rng.nextInt(keys.length)];
    }

    private long timestamp() {
        return rng.nextInt(25) == 0 ? RecordBatch.NO_TIMESTAMP : 1_600_000_000_000L + rng.nextInt(1 << 30);
    }

    /**
     * Records of one data batch. `consecutive` keeps offsets base..base+n-1, which is
     * all Odradek's builder writes; Kafka's builder may leave gaps, as compaction does.
     */
    private List<Rec> records(long base, boolean consecutive, boolean big) {
        int n = big ? 8 + rng.nextInt(8) : 1 + rng.nextInt(rng.nextInt(4) == 0 ? 200 : 12);
        List<Rec> out = new ArrayList<>();
        long off = base;
        for (int i = 0; i < n; i++) {
            List<Hdr> hs = new ArrayList<>();
            int nh = rng.nextInt(3) == 0 ? rng.nextInt(4) : 0;
            for (int h = 0; h < nh; h++) {
                hs.add(new Hdr(headerKey(), maybeNullBytes(false)));
            }
            out.add(new Rec(off, timestamp(), maybeNullBytes(false), maybeNullBytes(big && i % 3 == 0), hs));
            off += consecutive ? 1 : 1 + (rng.nextInt(4) == 0 ? rng.nextInt(1000) : 0);
        }
        return out;
    }

    private Batch dataBatch(long base, CompressionType codec, boolean consecutive, boolean big) {
        boolean idempotent = rng.nextBoolean();
        long pid = idempotent ? rng.nextLong() & Long.MAX_VALUE : RecordBatch.NO_PRODUCER_ID;
        short epoch = idempotent ? (short) rng.nextInt(Short.MAX_VALUE + 1) : RecordBatch.NO_PRODUCER_EPOCH;
        int seq = idempotent ? rng.nextInt(Integer.MAX_VALUE) : RecordBatch.NO_SEQUENCE;
        boolean txn = idempotent && rng.nextBoolean();
        int leader = rng.nextBoolean() ? RecordBatch.NO_PARTITION_LEADER_EPOCH : rng.nextInt(1 << 20);
        boolean append = rng.nextInt(5) == 0;
        long appendTime = append ? 1_700_000_000_000L + rng.nextInt(1 << 20) : RecordBatch.NO_TIMESTAMP;
        return new Batch(base, codec, append, appendTime, pid, epoch, seq, txn, false, leader,
            records(base, consecutive, big));
    }

    /** A COMMIT or ABORT marker, with the record bytes Kafka's marker format has. */
    private Batch markerBatch(long base) {
        ControlRecordType type = rng.nextBoolean() ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
        int coordinatorEpoch = rng.nextInt(1 << 16);
        ByteBuffer key = ByteBuffer.allocate(4).putShort((short) 0).putShort(type.type());
        ByteBuffer value = ByteBuffer.allocate(6).putShort((short) 0).putInt(coordinatorEpoch);
        Rec r = new Rec(base, 1_650_000_000_000L + rng.nextInt(1 << 20), key.array(), value.array(), List.of());
        int leader = rng.nextBoolean() ? RecordBatch.NO_PARTITION_LEADER_EPOCH : rng.nextInt(1000);
        return new Batch(base, CompressionType.NONE, false, RecordBatch.NO_TIMESTAMP, rng.nextInt(1 << 30),
            (short) rng.nextInt(100), RecordBatch.NO_SEQUENCE, true, true, leader, List.of(r));
    }

    /**
     * A control batch of the kind KRaft writes (leader change, snapshot header and
     * footer, voters...): control but not transactional, any codec, record values
     * opaque to the record layer.
     */
    private Batch kraftControlBatch(long base, CompressionType codec) {
        List<Rec> recs = new ArrayList<>();
        int n = 1 + rng.nextInt(3);
        long ts = 1_650_000_000_000L + rng.nextInt(1 << 20);
        for (int i = 0; i < n; i++) {
            short type = (short) (2 + rng.nextInt(5));
            ByteBuffer key = ByteBuffer.allocate(4).putShort((short) 0).putShort(type);
            recs.add(new Rec(base + i, ts, key.array(), randomBytes(rng.nextInt(40)), List.of()));
        }
        return new Batch(base, codec, false, RecordBatch.NO_TIMESTAMP, RecordBatch.NO_PRODUCER_ID,
            RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, false, true, rng.nextInt(1000), recs);
    }

    private List<Batch> scenario(CompressionType codec, int s, boolean consecutive) {
        List<Batch> out = new ArrayList<>();
        long next = rng.nextInt(3) == 0 ? 0 : rng.nextLong() & 0xffffffffffL;
        int n = 1 + rng.nextInt(3);
        for (int i = 0; i < n; i++) {
            // Scenario 1 carries large values: several lz4 blocks and snappy chunks per batch.
            int kind = s > 1 ? rng.nextInt(8) : 7;
            Batch b = kind < 2 ? markerBatch(next)
                : kind == 2 ? kraftControlBatch(next, codec)
                : dataBatch(next, codec, consecutive, s == 1);
            out.add(b);
            next = b.last() + 1 + rng.nextInt(3);
        }
        return out;
    }

    // ------------------------------------------------------------ canonical text

    private static void hex(StringBuilder sb, byte[] b) {
        if (b == null) {
            sb.append("null");
        } else {
            sb.append(Report.hex(b));
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static String codecName(CompressionType t) {
        return t.name;
    }

    private static void batchLine(StringBuilder sb, long base, long last, int magic, CompressionType codec,
                                  String tstype, long maxts, long pid, int epoch, int seq, boolean txn,
                                  boolean control, int leader, int count) {
        sb.append("batch base=").append(base).append(" last=").append(last).append(" magic=").append(magic)
            .append(" codec=").append(codecName(codec)).append(" tstype=").append(tstype)
            .append(" maxts=").append(maxts).append(" pid=").append(pid).append(" epoch=").append(epoch)
            .append(" seq=").append(seq).append(" txn=").append(txn ? 1 : 0)
            .append(" control=").append(control ? 1 : 0).append(" leader=").append(leader)
            .append(" count=").append(count).append('\n');
    }

    private static void recordLine(StringBuilder sb, long offset, long ts, byte[] key, byte[] value,
                                   List<Hdr> headers) {
        sb.append("record offset=").append(offset).append(" ts=").append(ts).append(" key=");
        hex(sb, key);
        sb.append(" value=");
        hex(sb, value);
        sb.append(" headers=");
        for (int i = 0; i < headers.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            hex(sb, headers.get(i).key().getBytes(StandardCharsets.UTF_8));
            sb.append(':');
            hex(sb, headers.get(i).value());
        }
        sb.append('\n');
    }

    /** What a correct reader prints for these batches. */
    private static String describe(List<Batch> batches) {
        StringBuilder sb = new StringBuilder();
        for (Batch b : batches) {
            batchLine(sb, b.base(), b.last(), 2, b.codec(), b.logAppendTime() ? "append" : "create",
                b.maxTimestamp(), b.pid(), b.epoch(), b.seq(), b.txn(), b.control(), b.leader(), b.recs().size());
            for (Rec r : b.recs()) {
                recordLine(sb, r.offset(), b.logAppendTime() ? b.appendTime() : r.timestamp(), r.key(), r.value(),
                    r.headers());
            }
        }
        return sb.toString();
    }

    /** What Kafka itself reads from v2 bytes, in the same text; CRCs are checked on the way. */
    private static String kafkaReads(byte[] raw) {
        MemoryRecords mr = MemoryRecords.readableRecords(ByteBuffer.wrap(raw));
        StringBuilder sb = new StringBuilder();
        int consumed = 0;
        for (RecordBatch b : mr.batches()) {
            b.ensureValid();
            consumed += b.sizeInBytes();
            List<Record> recs = new ArrayList<>();
            b.forEach(recs::add);
            String tstype = b.timestampType() == TimestampType.LOG_APPEND_TIME ? "append"
                : b.timestampType() == TimestampType.CREATE_TIME ? "create" : "none";
            Integer count = b.countOrNull();
            batchLine(sb, b.baseOffset(), b.lastOffset(), b.magic(), b.compressionType(), tstype, b.maxTimestamp(),
                b.producerId(), b.producerEpoch(), b.baseSequence(), b.isTransactional(), b.isControlBatch(),
                b.partitionLeaderEpoch(), count == null ? recs.size() : count);
            for (Record r : recs) {
                List<Hdr> hs = new ArrayList<>();
                for (Header h : r.headers()) {
                    hs.add(new Hdr(h.key(), h.value()));
                }
                recordLine(sb, r.offset(), r.timestamp(), bytes(r.key()), bytes(r.value()), hs);
            }
        }
        if (consumed != raw.length) {
            throw new IllegalStateException("Kafka's batch iteration stopped at byte " + consumed + " of "
                + raw.length + " (trailing bytes or a torn batch)");
        }
        return sb.toString();
    }

    /** First line where two canonical texts differ, for the failure message. */
    private static String textDiff(String la, String a, String lb, String b) {
        String[] x = a.split("\n", -1);
        String[] y = b.split("\n", -1);
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            String l1 = i < x.length ? x[i] : "(end)";
            String l2 = i < y.length ? y[i] : "(end)";
            if (!l1.equals(l2)) {
                return "first difference on line " + (i + 1) + "\n" + la + ": " + clip(l1) + "\n" + lb + ": "
                    + clip(l2);
            }
        }
        return "identical";
    }

    private static String clip(String s) {
        return s.length() > 400 ? s.substring(0, 400) + "...(" + s.length() + " chars)" : s;
    }

    // ------------------------------------------------------------ Kafka's builder

    private static byte[] kafkaBuild(List<Batch> batches) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Batch b : batches) {
            MemoryRecords mr;
            if (b.control() && b.txn()) {
                Rec r = b.recs().get(0);
                ByteBuffer key = ByteBuffer.wrap(r.key());
                ByteBuffer value = ByteBuffer.wrap(r.value());
                key.getShort();
                value.getShort();
                ControlRecordType type = ControlRecordType.fromTypeId(key.getShort());
                mr = MemoryRecords.withEndTransactionMarker(b.base(), r.timestamp(), b.leader(), b.pid(), b.epoch(),
                    new EndTransactionMarker(type, value.getInt()));
            } else if (b.control()) {
                MemoryRecordsBuilder mb = MemoryRecords.builder(ByteBuffer.allocate(1 << 12),
                    RecordBatch.MAGIC_VALUE_V2, Compression.of(b.codec()).build(), TimestampType.CREATE_TIME,
                    b.base(), RecordBatch.NO_TIMESTAMP, b.pid(), b.epoch(), b.seq(), false, true, b.leader());
                for (Rec r : b.recs()) {
                    mb.appendControlRecordWithOffset(r.offset(), new SimpleRecord(r.timestamp(), r.key(), r.value()));
                }
                mr = mb.build();
            } else {
                ByteBuffer buf = ByteBuffer.allocate(1 << 16);
                MemoryRecordsBuilder mb = MemoryRecords.builder(buf, RecordBatch.MAGIC_VALUE_V2,
                    Compression.of(b.codec()).build(),
                    b.logAppendTime() ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME, b.base(),
                    b.appendTime(), b.pid(), b.epoch(), b.seq(), b.txn(), b.leader());
                for (Rec r : b.recs()) {
                    Header[] hs = r.headers().stream().map(h -> new RecordHeader(h.key(), h.value()))
                        .toArray(Header[]::new);
                    mb.appendWithOffset(r.offset(), r.timestamp(), r.key(), r.value(), hs);
                }
                mr = mb.build();
            }
            ByteBuffer bb = mr.buffer();
            byte[] raw = new byte[bb.remaining()];
            bb.get(raw);
            out.writeBytes(raw);
        }
        return out.toByteArray();
    }

    // ------------------------------------------------------------ the cases

    private void kafkaToOdradek(CompressionType codec, int s) throws Exception {
        String what = codec.name + " #" + s;
        List<Batch> batches = scenario(codec, s, false);
        String want = describe(batches);
        byte[] raw = kafkaBuild(batches);
        String kafka = kafkaReads(raw);
        if (!kafka.equals(want)) {
            report.fail(CAT_K2O, what, "this test's expectation disagrees with Kafka itself: "
                + textDiff("expected", want, "kafka", kafka));
            return;
        }
        Path in = work.resolve("k2o.batches");
        Path out = work.resolve("k2o.txt");
        Files.write(in, raw);
        Files.deleteIfExists(out);
        Tool.Run run = tool.run(300, "batch-decode", in.toString(), out.toString());
        String got = Files.exists(out) ? Files.readString(out) : "";
        if (!got.equals(want)) {
            report.fail(CAT_K2O, what, "exit " + run.exit() + " " + run.stderr().trim() + "; "
                + textDiff("kafka  ", want, "odradek", got));
        } else if (run.exit() != 0) {
            report.fail(CAT_K2O, what, "output right but exit " + run.exit() + ": " + run.stderr());
        } else {
            report.pass(CAT_K2O);
        }
    }

    private void odradekToKafka(CompressionType codec, int s) throws Exception {
        String what = codec.name + " #" + s;
        List<Batch> batches = scenario(codec, s, true);
        String want = describe(batches);
        Path in = work.resolve("o2k.txt");
        Path out = work.resolve("o2k.batches");
        Files.writeString(in, want);
        Files.deleteIfExists(out);
        Tool.Run run = tool.run(300, "batch-build", in.toString(), out.toString());
        byte[] raw = Files.exists(out) ? Files.readAllBytes(out) : new byte[0];
        if (run.exit() != 0) {
            report.fail(CAT_O2K, what, "od_codec_tool batch-build exit " + run.exit() + ": " + run.stderr());
            return;
        }
        String kafka;
        try {
            kafka = kafkaReads(raw);
        } catch (RuntimeException e) {
            report.fail(CAT_O2K, what, "Kafka rejected Odradek's batches: " + e
                + "\nfirst bytes: " + Report.hex(raw, 0, 80));
            return;
        }
        if (!kafka.equals(want)) {
            report.fail(CAT_O2K, what, textDiff("odradek's input", want, "kafka reads    ", kafka));
        } else {
            report.pass(CAT_O2K);
        }
        if (codec == CompressionType.NONE) {
            // The description carries what a reader sees, so under LOG_APPEND_TIME each
            // record's own timestamp is gone; Kafka gets the same input Odradek got.
            List<Batch> same = batches.stream().map(b -> !b.logAppendTime() ? b
                : new Batch(b.base(), b.codec(), true, b.appendTime(), b.pid(), b.epoch(), b.seq(), b.txn(),
                    b.control(), b.leader(), b.recs().stream().map(r -> new Rec(r.offset(), b.appendTime(), r.key(),
                        r.value(), r.headers())).toList())).toList();
            byte[] ref = kafkaBuild(same);
            if (Arrays.equals(ref, raw)) {
                report.pass(CAT_BYTES);
            } else {
                report.fail(CAT_BYTES, what, Report.diff("kafka", ref, "odradek", raw));
            }
        }
    }

    /** Kafka's view of a legacy message set, one line per (flattened) record. */
    private static String kafkaReadsLegacy(byte[] raw) {
        MemoryRecords mr = MemoryRecords.readableRecords(ByteBuffer.wrap(raw));
        StringBuilder sb = new StringBuilder();
        for (RecordBatch b : mr.batches()) {
            b.ensureValid();
            String tstype = b.magic() == 0 ? "none"
                : b.timestampType() == TimestampType.LOG_APPEND_TIME ? "append" : "create";
            for (Record r : b) {
                legacyLine(sb, r.offset(), b.magic(), b.compressionType(), tstype, r.timestamp(), bytes(r.key()),
                    bytes(r.value()));
            }
        }
        return sb.toString();
    }

    private static void legacyLine(StringBuilder sb, long offset, int magic, CompressionType codec, String tstype,
                                   long ts, byte[] key, byte[] value) {
        sb.append("legacy offset=").append(offset).append(" magic=").append(magic).append(" codec=")
            .append(codecName(codec)).append(" tstype=").append(tstype).append(" ts=").append(ts).append(" key=");
        hex(sb, key);
        sb.append(" value=");
        hex(sb, value);
        sb.append('\n');
    }

    private void legacy(byte magic, CompressionType codec, int s) throws Exception {
        String what = "magic " + magic + " " + codec.name + " #" + s;
        StringBuilder want = new StringBuilder();
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        long next = rng.nextInt(1000);
        int sets = 1 + rng.nextInt(3);
        for (int i = 0; i < sets; i++) {
            boolean append = magic == 1 && rng.nextInt(3) == 0;
            long appendTime = 1_700_000_000_000L + rng.nextInt(1 << 20);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            MemoryRecordsBuilder mb = MemoryRecords.builder(buf, magic, Compression.of(codec).build(),
                append ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME, next, appendTime);
            List<Rec> recs = records(next, rng.nextBoolean(), s == 1);
            for (Rec r : recs) {
                long ts = magic == 0 ? RecordBatch.NO_TIMESTAMP : Math.max(0, r.timestamp());
                mb.appendWithOffset(r.offset(), ts, r.key(), r.value());
                String tstype = magic == 0 ? "none" : append ? "append" : "create";
                legacyLine(want, r.offset(), magic, codec, tstype, magic == 0 ? -1 : append ? appendTime : ts,
                    r.key(), r.value());
            }
            ByteBuffer bb = mb.build().buffer();
            byte[] b = new byte[bb.remaining()];
            bb.get(b);
            raw.writeBytes(b);
            next = recs.get(recs.size() - 1).offset() + 1 + rng.nextInt(3);
        }
        String kafka = kafkaReadsLegacy(raw.toByteArray());
        if (!kafka.equals(want.toString())) {
            report.fail(CAT_LEGACY, what, "this test's expectation disagrees with Kafka itself: "
                + textDiff("expected", want.toString(), "kafka", kafka));
            return;
        }
        Path in = work.resolve("legacy.batches");
        Path out = work.resolve("legacy.txt");
        Files.write(in, raw.toByteArray());
        Files.deleteIfExists(out);
        Tool.Run run = tool.run(300, "legacy-decode", in.toString(), out.toString());
        String got = Files.exists(out) ? Files.readString(out) : "";
        if (!got.equals(kafka)) {
            report.fail(CAT_LEGACY, what, "exit " + run.exit() + " " + run.stderr().trim() + "; "
                + textDiff("kafka  ", kafka, "odradek", got));
        } else if (run.exit() != 0) {
            report.fail(CAT_LEGACY, what, "output right but exit " + run.exit() + ": " + run.stderr());
        } else {
            report.pass(CAT_LEGACY);
        }
    }

    private void legacyFromOdradek(byte magic, CompressionType codec, int s) throws Exception {
        String what = "magic " + magic + " " + codec.name + " #" + s;
        StringBuilder input = new StringBuilder();
        StringBuilder want = new StringBuilder();
        List<List<Rec>> plainSets = new ArrayList<>();
        List<Long> plainAppendTimes = new ArrayList<>();
        long next = rng.nextInt(1000);
        int sets = 1 + rng.nextInt(3);
        for (int i = 0; i < sets; i++) {
            boolean append = magic == 1 && rng.nextInt(3) == 0;
            long appendTime = 1_700_000_000_000L + rng.nextInt(1 << 20);
            String tstype = magic == 0 ? "none" : append ? "append" : "create";
            List<Rec> recs = new ArrayList<>();
            for (Rec r : records(next, rng.nextBoolean(), s == 1)) {
                long ts = magic == 0 ? RecordBatch.NO_TIMESTAMP : append ? appendTime : Math.max(0, r.timestamp());
                recs.add(new Rec(r.offset(), ts, r.key(), r.value(), List.of()));
            }
            if (codec == CompressionType.NONE) {
                for (Rec r : recs) {
                    legacyLine(input, r.offset(), magic, codec, tstype, r.timestamp(), r.key(), r.value());
                }
                plainSets.add(recs);
                plainAppendTimes.add(append ? appendTime : RecordBatch.NO_TIMESTAMP);
            } else {
                long wrapperTs = append ? appendTime : recs.stream().mapToLong(Rec::timestamp).max().orElse(-1);
                input.append("wrapper magic=").append(magic).append(" codec=").append(codec.name)
                    .append(" tstype=").append(tstype).append(" ts=").append(magic == 0 ? -1 : wrapperTs).append('\n');
                for (Rec r : recs) {
                    input.append("inner offset=").append(r.offset()).append(" ts=")
                        .append(append ? Math.max(0, r.timestamp()) : r.timestamp()).append(" key=");
                    hex(input, r.key());
                    input.append(" value=");
                    hex(input, r.value());
                    input.append('\n');
                }
            }
            for (Rec r : recs) {
                legacyLine(want, r.offset(), magic, codec, tstype, r.timestamp(), r.key(), r.value());
            }
            next = recs.get(recs.size() - 1).offset() + 1 + rng.nextInt(3);
        }
        Path in = work.resolve("legacy-o2k.txt");
        Path out = work.resolve("legacy-o2k.batches");
        Files.writeString(in, input);
        Files.deleteIfExists(out);
        Tool.Run run = tool.run(300, "legacy-build", in.toString(), out.toString());
        byte[] raw = Files.exists(out) ? Files.readAllBytes(out) : new byte[0];
        if (run.exit() != 0) {
            report.fail(CAT_LEGACY_O2K, what, "od_codec_tool legacy-build exit " + run.exit() + ": " + run.stderr());
            return;
        }
        String kafka;
        try {
            kafka = kafkaReadsLegacy(raw);
        } catch (RuntimeException e) {
            report.fail(CAT_LEGACY_O2K, what, "Kafka rejected Odradek's messages: " + e
                + "\nfirst bytes: " + Report.hex(raw, 0, 80));
            return;
        }
        if (!kafka.equals(want.toString())) {
            report.fail(CAT_LEGACY_O2K, what, textDiff("odradek's input", want.toString(), "kafka reads    ", kafka));
        } else {
            report.pass(CAT_LEGACY_O2K);
        }
        if (codec == CompressionType.NONE) {
            ByteArrayOutputStream ref = new ByteArrayOutputStream();
            for (int i = 0; i < plainSets.size(); i++) {
                List<Rec> recs = plainSets.get(i);
                long appendTime = plainAppendTimes.get(i);
                MemoryRecordsBuilder mb = MemoryRecords.builder(ByteBuffer.allocate(1 << 16), magic, Compression.NONE,
                    appendTime >= 0 ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME,
                    recs.get(0).offset(), appendTime);
                for (Rec r : recs) {
                    mb.appendWithOffset(r.offset(), r.timestamp(), r.key(), r.value());
                }
                ByteBuffer bb = mb.build().buffer();
                byte[] b = new byte[bb.remaining()];
                bb.get(b);
                ref.writeBytes(b);
            }
            if (Arrays.equals(ref.toByteArray(), raw)) {
                report.pass(CAT_LEGACY_BYTES);
            } else {
                report.fail(CAT_LEGACY_BYTES, what, Report.diff("kafka", ref.toByteArray(), "odradek", raw));
            }
        }
    }
}
