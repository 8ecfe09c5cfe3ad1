package org.odradek.storagecompat;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes a known workload into a live Apache Kafka broker with Kafka's own
 * clients, then records what Kafka's consumer reads, so that Odradek's
 * storage can later be checked against Kafka's files.
 *
 * Usage: Main BOOTSTRAP OUT_DIR KAFKA_LOG_DIR
 *
 * Output files in OUT_DIR (one record per line, see line()):
 *   <topic>.sent          what the producers sent, with the offsets Kafka acknowledged
 *   <topic>.uncommitted   a read_uncommitted consumer's view
 *   <topic>.committed     a read_committed consumer's view
 *   codecs.times          "timestamp offset" pairs from offsetsForTimes
 * Exits 1 when a consumer's view differs from what was sent (topics that are
 * not compacted).
 */
public final class Main {
    static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};
    /* Near the present: Kafka rolls on segment.ms and deletes on retention.ms by
     * record timestamps, so old timestamps would roll every append and could
     * expire segments mid-run. */
    static final long BASE_TS = (System.currentTimeMillis() / 1000 - 3600) * 1000;

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        Path out = Path.of(args[1]);
        Path logDir = Path.of(args[2]);
        Files.createDirectories(out);

        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            // The cleaner wakes every 15 s by default; a shorter backoff keeps the
            // run short. It is a dynamic broker setting, so no restart is needed.
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "");
            admin.incrementalAlterConfigs(Map.of(broker, List.of(new AlterConfigOp(
                    new ConfigEntry("log.cleaner.backoff.ms", "300"), AlterConfigOp.OpType.SET))))
                .all().get(30, TimeUnit.SECONDS);
            List<NewTopic> topics = new ArrayList<>();
            // Small segments so every topic has several, and a small index interval
            // so the offset and time indexes have many entries to check.
            Map<String, String> small = Map.of("segment.bytes", "16384", "index.interval.bytes", "1024");
            topics.add(new NewTopic("codecs", 1, (short) 1).configs(small));
            topics.add(new NewTopic("txn", 1, (short) 1).configs(small));
            Map<String, String> compact = new HashMap<>(small);
            compact.put("cleanup.policy", "compact");
            compact.put("segment.ms", "100");
            compact.put("min.cleanable.dirty.ratio", "0.01");
            topics.add(new NewTopic("compacted", 1, (short) 1).configs(compact));
            Map<String, String> appendTime = new HashMap<>(small);
            appendTime.put("message.timestamp.type", "LogAppendTime");
            topics.add(new NewTopic("appendtime", 1, (short) 1).configs(appendTime));
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }

        Map<String, List<String>> sent = new TreeMap<>();
        produceCodecs(bootstrap, sent);
        produceTxn(bootstrap, sent);
        produceCompacted(bootstrap, logDir, sent);
        produceAppendTime(bootstrap, sent);
        for (List<String> l : sent.values())
            l.sort((x, y) -> Long.compare(Long.parseLong(x.split(" ", 2)[0]), Long.parseLong(y.split(" ", 2)[0])));

        boolean ok = true;
        for (String topic : List.of("codecs", "txn", "compacted", "appendtime")) {
            List<String> unc = consume(bootstrap, topic, "read_uncommitted");
            List<String> com = consume(bootstrap, topic, "read_committed");
            write(out.resolve(topic + ".sent"), sent.get(topic));
            write(out.resolve(topic + ".uncommitted"), unc);
            write(out.resolve(topic + ".committed"), com);
            // Compaction removes records, and LogAppendTime replaces the producer's timestamps.
            if (!topic.equals("compacted") && !topic.equals("appendtime") && !unc.equals(sent.get(topic))) {
                System.err.println("Kafka's consumer does not read back what was sent to " + topic);
                ok = false;
            }
        }
        writeTimes(bootstrap, "codecs", out.resolve("codecs.times"), sent.get("codecs"));
        writeTimes(bootstrap, "appendtime", out.resolve("appendtime.times"),
                   consume(bootstrap, "appendtime", "read_uncommitted"));
        System.exit(ok ? 0 : 1);
    }

    static Properties producerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        return p;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A value that compresses (repeats) but varies in length and content. */
    static byte[] value(Random rnd, String tag, int i) {
        StringBuilder sb = new StringBuilder();
        int n = rnd.nextInt(12);
        for (int k = 0; k <= n; k++)
            sb.append(tag).append('-').append(i).append('-').append(k).append(' ');
        if (i % 11 == 0)
            return new byte[0];
        return bytes(sb.toString());
    }

    static List<Header> headers(Random rnd, int i) {
        List<Header> h = new ArrayList<>();
        int n = i % 3;
        for (int k = 0; k < n; k++)
            h.add(new RecordHeader("h" + k, k == 1 ? null : bytes("hv" + i + "." + rnd.nextInt(1000))));
        return h;
    }

    static void send(KafkaProducer<byte[], byte[]> p, String topic, byte[] key, byte[] value, long ts,
                     List<Header> hdrs, List<String> log, List<java.util.concurrent.Future<RecordMetadata>> pending,
                     List<ProducerRecord<byte[], byte[]>> recs) {
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, 0, ts, key, value, hdrs);
        pending.add(p.send(r));
        recs.add(r);
    }

    static void collect(List<String> log, List<java.util.concurrent.Future<RecordMetadata>> pending,
                        List<ProducerRecord<byte[], byte[]>> recs) throws Exception {
        for (int i = 0; i < pending.size(); i++) {
            RecordMetadata md = pending.get(i).get(60, TimeUnit.SECONDS);
            ProducerRecord<byte[], byte[]> r = recs.get(i);
            log.add(line(md.offset(), r.timestamp(), r.key(), r.value(), r.headers()));
        }
        pending.clear();
        recs.clear();
    }

    static void produceCodecs(String bootstrap, Map<String, List<String>> sent) throws Exception {
        List<String> log = new ArrayList<>();
        Random rnd = new Random(1);
        List<java.util.concurrent.Future<RecordMetadata>> pending = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> recs = new ArrayList<>();
        int seq = 0;
        for (String codec : CODECS) {
            for (boolean idempotent : new boolean[] {true, false}) {
                Properties p = producerProps(bootstrap);
                p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
                p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(idempotent));
                if (!idempotent)
                    p.put(ProducerConfig.ACKS_CONFIG, "1");
                try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(p)) {
                    for (int i = 0; i < 150; i++, seq++) {
                        byte[] key = i % 17 == 5 ? null : bytes("key-" + codec + "-" + i);
                        byte[] val = i % 23 == 7 ? null : value(rnd, codec, i);
                        // Mostly increasing timestamps with a few steps back, as real
                        // producers write them.
                        long ts = BASE_TS + seq * 10L - (i % 29 == 3 ? 5000 : 0);
                        send(prod, "codecs", key, val, ts, headers(rnd, i), log, pending, recs);
                        if (i % 40 == 39)
                            prod.flush();
                    }
                    prod.flush();
                    collect(log, pending, recs);
                }
            }
        }
        sent.put("codecs", log);
    }

    static void produceTxn(String bootstrap, Map<String, List<String>> sent) throws Exception {
        List<String> log = new ArrayList<>();
        Random rnd = new Random(2);
        List<java.util.concurrent.Future<RecordMetadata>> pending = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> recs = new ArrayList<>();
        Properties pa = producerProps(bootstrap);
        pa.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "odradek-txn-a");
        Properties pb = producerProps(bootstrap);
        pb.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "odradek-txn-b");
        pb.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        Properties pc = producerProps(bootstrap);
        try (KafkaProducer<byte[], byte[]> a = new KafkaProducer<>(pa);
             KafkaProducer<byte[], byte[]> b = new KafkaProducer<>(pb);
             KafkaProducer<byte[], byte[]> plain = new KafkaProducer<>(pc)) {
            a.initTransactions();
            b.initTransactions();
            long ts = BASE_TS;
            for (int round = 0; round < 24; round++) {
                // Two transactions open at once, so aborted ranges overlap committed
                // data from the other producer and from a non-transactional one.
                a.beginTransaction();
                b.beginTransaction();
                for (int i = 0; i < 12; i++) {
                    int n = round * 100 + i;
                    send(a, "txn", bytes("a-" + n), value(rnd, "a", n), ts++, headers(rnd, n), log, pending, recs);
                    a.flush();
                    send(b, "txn", bytes("b-" + n), value(rnd, "b", n), ts++, headers(rnd, n), log, pending, recs);
                    b.flush();
                    if (i % 4 == 0) {
                        send(plain, "txn", bytes("p-" + n), value(rnd, "p", n), ts++, headers(rnd, n), log,
                             pending, recs);
                        plain.flush();
                    }
                }
                collect(log, pending, recs);
                if (round % 3 == 0) a.abortTransaction(); else a.commitTransaction();
                if (round % 2 == 0) b.commitTransaction(); else b.abortTransaction();
            }
        }
        sent.put("txn", log);
    }

    /** A LogAppendTime topic: the broker stamps each batch, consumers see its time. */
    static void produceAppendTime(String bootstrap, Map<String, List<String>> sent) throws Exception {
        List<String> log = new ArrayList<>();
        Random rnd = new Random(4);
        List<java.util.concurrent.Future<RecordMetadata>> pending = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> recs = new ArrayList<>();
        for (String codec : List.of("none", "zstd", "gzip")) {
            Properties p = producerProps(bootstrap);
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
            try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(p)) {
                for (int i = 0; i < 120; i++) {
                    send(prod, "appendtime", bytes("at-" + codec + "-" + i), value(rnd, codec, i), BASE_TS + i,
                         headers(rnd, i), log, pending, recs);
                    if (i % 30 == 29)
                        prod.flush();
                }
                prod.flush();
                collect(log, pending, recs);
            }
        }
        sent.put("appendtime", log);
    }

    static void produceCompacted(String bootstrap, Path logDir, Map<String, List<String>> sent)
            throws Exception {
        List<String> log = new ArrayList<>();
        Random rnd = new Random(3);
        List<java.util.concurrent.Future<RecordMetadata>> pending = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> recs = new ArrayList<>();
        Properties p = producerProps(bootstrap);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(p)) {
            long ts = BASE_TS;
            for (int round = 0; round < 6; round++) {
                for (int k = 0; k < 60; k++) {
                    // Tombstones for some keys in the last rounds; they stay (delete.retention.ms
                    // is a day), so the cleaned log has them.
                    byte[] v = round >= 4 && k % 7 == 0 ? null : bytes("v" + round + "-" + k + "-" + rnd.nextInt());
                    send(prod, "compacted", bytes("key" + k), v, ts++, headers(rnd, k), log, pending, recs);
                }
                prod.flush();
                collect(log, pending, recs);
                Thread.sleep(250); // past segment.ms, so the next append rolls
            }
            // Kafka rolls only on append and never cleans the active segment, so
            // keep appending one key (rolling each time) until the cleaner has
            // passed every data round; then let it finish what is below the
            // active segment, after which nothing is dirty and the files stay put.
            long dataEnd = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (cleanerOffset(logDir, "compacted") < dataEnd || dataEnd < 0) {
                if (System.nanoTime() > deadline)
                    throw new IllegalStateException("the log cleaner did not pass offset " + dataEnd);
                send(prod, "compacted", bytes("tick"), bytes("tick"), System.currentTimeMillis(), List.of(),
                     log, pending, recs);
                prod.flush();
                long o = pending.get(0).get().offset();
                collect(log, pending, recs);
                if (dataEnd < 0)
                    dataEnd = o;
                Thread.sleep(300);
            }
        }
        while (cleanerOffset(logDir, "compacted") < activeBase(logDir.resolve("compacted-0")))
            Thread.sleep(200);
        sent.put("compacted", log);
    }

    static long cleanerOffset(Path logDir, String topic) throws IOException {
        Path ckpt = logDir.resolve("cleaner-offset-checkpoint");
        if (Files.exists(ckpt)) {
            for (String l : Files.readAllLines(ckpt)) {
                String[] f = l.split(" ");
                if (f.length == 3 && f[0].equals(topic))
                    return Long.parseLong(f[2]);
            }
        }
        return -1;
    }

    static long activeBase(Path dir) throws IOException {
        long max = 0;
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (n.endsWith(".log"))
                    max = Math.max(max, Long.parseLong(n.substring(0, n.length() - 4)));
            }
        }
        return max;
    }

    static List<String> consume(String bootstrap, String topic, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<String> lines = new ArrayList<>();
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (c.position(tp) < end) {
                if (System.nanoTime() > deadline)
                    throw new IllegalStateException("consumer stuck at " + c.position(tp) + " of " + topic);
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500)))
                    lines.add(line(r.offset(), r.timestamp(), r.key(), r.value(), r.headers()));
            }
        }
        return lines;
    }

    /** offsetsForTimes at every 13th record's timestamp (or one past it) and a few around the edges. */
    static void writeTimes(String bootstrap, String topic, Path file, List<String> sentLines) throws IOException {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        TopicPartition tp = new TopicPartition(topic, 0);
        List<Long> targets = new ArrayList<>(List.of(0L, BASE_TS - 1, Long.MAX_VALUE / 2));
        for (int i = 0; i < sentLines.size(); i += 13)
            targets.add(Long.parseLong(sentLines.get(i).split(" ")[1]) + (i % 2));
        List<String> lines = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            for (long t : targets) {
                OffsetAndTimestamp o = c.offsetsForTimes(Map.of(tp, t)).get(tp);
                lines.add(t + " " + (o == null ? -1 : o.offset()) + " " + (o == null ? -1 : o.timestamp()));
            }
        }
        write(file, lines);
    }

    static void write(Path f, Collection<String> lines) throws IOException {
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(f))) {
            for (String l : lines)
                w.println(l);
        }
    }

    static String hex(byte[] b) {
        if (b == null)
            return "null";
        StringBuilder sb = new StringBuilder("x");
        for (byte x : b)
            sb.append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    /** One record as the C side prints it: offset ts key value [hkey=hvalue,...]. */
    static String line(long offset, long ts, byte[] key, byte[] value, Iterable<Header> headers) {
        StringBuilder sb = new StringBuilder();
        sb.append(offset).append(' ').append(ts).append(' ').append(hex(key)).append(' ').append(hex(value)).append(" [");
        boolean first = true;
        for (Header h : headers) {
            if (!first)
                sb.append(',');
            first = false;
            sb.append(hex(h.key().getBytes(StandardCharsets.UTF_8))).append('=').append(hex(h.value()));
        }
        return sb.append(']').toString();
    }

    private Main() {
    }
}
