package dev.odradek.compat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;

/**
 * One admin, produce and consume round trip with the newest Java client, against a broker given
 * on the command line: {@code ClientsRoundTrip BOOTSTRAP TOPIC}. Exits 0 and prints "ok" when
 * every check holds; otherwise throws with the first mismatch.
 */
public final class ClientsRoundTrip {
    private static final int PARTITIONS = 3;
    private static final int RECORDS = 300;

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: ClientsRoundTrip BOOTSTRAP TOPIC");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args[1];
        Properties common = new Properties();
        common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        common.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");

        try (Admin admin = Admin.create(common)) {
            NewTopic nt = new NewTopic(topic, PARTITIONS, (short) 1)
                .configs(Map.of("retention.ms", "86400000", "compression.type", "producer"));
            admin.createTopics(List.of(nt)).all().get(60, TimeUnit.SECONDS);

            TopicDescription desc = admin.describeTopics(List.of(topic)).allTopicNames()
                .get(60, TimeUnit.SECONDS).get(topic);
            check(desc.partitions().size() == PARTITIONS, "describe: " + desc);

            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config cfg = admin.describeConfigs(List.of(res)).all().get(60, TimeUnit.SECONDS).get(res);
            check("86400000".equals(cfg.get("retention.ms").value()), "retention.ms: " + cfg.get("retention.ms"));

            Map<TopicPartition, Long> expectedEnd = produce(common, topic);
            consume(common, topic, expectedEnd);

            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            expectedEnd.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
                admin.listOffsets(latest).all().get(60, TimeUnit.SECONDS);
            for (Map.Entry<TopicPartition, Long> e : expectedEnd.entrySet()) {
                check(ends.get(e.getKey()).offset() == e.getValue(),
                      "end offset of " + e.getKey() + " is " + ends.get(e.getKey()).offset());
            }

            admin.deleteTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
        }
        System.out.println("ok: " + RECORDS + " records over " + PARTITIONS + " partitions");
    }

    /** Sends keyed records with the default partitioner; returns the end offset each partition should have. */
    private static Map<TopicPartition, Long> produce(Properties common, String topic) throws Exception {
        Properties p = new Properties();
        p.putAll(common);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        Map<TopicPartition, Long> next = new HashMap<>();
        for (int i = 0; i < PARTITIONS; i++) next.put(new TopicPartition(topic, i), 0L);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "key-" + i, "java value " + i)));
            }
            producer.flush();
            for (int i = 0; i < RECORDS; i++) {
                RecordMetadata md = sent.get(i).get(60, TimeUnit.SECONDS);
                byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
                // The documented default for keyed records: murmur2 of the serialized key.
                int want = Utils.toPositive(Utils.murmur2(key)) % PARTITIONS;
                check(md.partition() == want, "key-" + i + " went to " + md.partition() + ", murmur2 says " + want);
                TopicPartition tp = new TopicPartition(topic, md.partition());
                check(md.offset() == next.get(tp), "key-" + i + " got offset " + md.offset());
                next.put(tp, md.offset() + 1);
            }
        }
        return next;
    }

    private static void consume(Properties common, String topic, Map<TopicPartition, Long> expectedEnd) {
        Properties c = new Properties();
        c.putAll(common);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<String, String> got = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            Set<TopicPartition> tps = expectedEnd.keySet();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (got.size() < RECORDS && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    check(got.put(r.key(), r.value()) == null, "duplicate " + r.key());
                }
            }
        }
        check(got.size() == RECORDS, "consumed " + got.size() + " of " + RECORDS);
        for (int i = 0; i < RECORDS; i++) {
            check(("java value " + i).equals(got.get("key-" + i)), "key-" + i + " came back as " + got.get("key-" + i));
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new IllegalStateException(what);
    }
}
