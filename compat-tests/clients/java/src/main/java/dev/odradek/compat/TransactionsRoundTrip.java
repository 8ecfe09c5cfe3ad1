package dev.odradek.compat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java client's transactional producer against a broker given on the command line:
 * {@code TransactionsRoundTrip BOOTSTRAP TOPIC TRANSACTIONAL_ID}. Commits, aborts and commits
 * again; a read_committed consumer must read exactly the committed values in order, a
 * read_uncommitted one every value; a second producer with the same transactional id fences the
 * first. Prints "ok" when every check holds; otherwise throws with the first mismatch.
 */
public final class TransactionsRoundTrip {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: TransactionsRoundTrip BOOTSTRAP TOPIC TRANSACTIONAL_ID");
            System.exit(2);
        }
        String bootstrap = args[0], topic = args[1], txnId = args[2];
        Properties ac = new Properties();
        ac.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(ac)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
        List<String> committed = new ArrayList<>(), all = new ArrayList<>();
        try (KafkaProducer<String, String> p = producer(bootstrap, txnId)) {
            p.initTransactions();
            send(p, topic, "c1-", 50, true, committed, all);
            send(p, topic, "a-", 50, false, committed, all);
            send(p, topic, "c2-", 20, true, committed, all);

            // A second producer with the same id fences the first.
            try (KafkaProducer<String, String> second = producer(bootstrap, txnId)) {
                second.initTransactions();
                send(second, topic, "s-", 5, true, committed, all);
                boolean fenced = false;
                try {
                    p.beginTransaction();
                    p.send(new ProducerRecord<>(topic, 0, null, "zombie")).get(60, TimeUnit.SECONDS);
                    p.commitTransaction();
                } catch (Exception e) {
                    fenced = e instanceof ProducerFencedException || e.getCause() instanceof ProducerFencedException;
                }
                check(fenced, "the first producer was not fenced");
            }
        }
        check(read(bootstrap, topic, "read_committed").equals(committed), "read_committed saw other records");
        check(read(bootstrap, topic, "read_uncommitted").equals(all), "read_uncommitted missed records");
        System.out.println("ok: " + committed.size() + " committed of " + all.size());
    }

    private static KafkaProducer<String, String> producer(String bootstrap, String txnId) {
        Properties pc = new Properties();
        pc.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pc.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
        pc.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pc.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pc.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
        return new KafkaProducer<>(pc);
    }

    private static void send(KafkaProducer<String, String> p, String topic, String prefix, int n, boolean commit,
                             List<String> committed, List<String> all) throws Exception {
        p.beginTransaction();
        for (int i = 0; i < n; i++) {
            p.send(new ProducerRecord<>(topic, 0, null, prefix + i));
            all.add(prefix + i);
            if (commit)
                committed.add(prefix + i);
        }
        p.flush();
        if (commit)
            p.commitTransaction();
        else
            p.abortTransaction();
    }

    private static List<String> read(String bootstrap, String topic, String isolation) {
        Properties cc = new Properties();
        cc.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        cc.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cc.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> got = new ArrayList<>();
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cc)) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            long deadline = System.currentTimeMillis() + 60000;
            while (c.position(tp) < end && System.currentTimeMillis() < deadline)
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500)))
                    got.add(r.value());
        }
        return got;
    }

    private static void check(boolean ok, String what) {
        if (!ok)
            throw new IllegalStateException(what);
    }
}
