package dev.odradek.compat;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A KIP-848 member (group.protocol=consumer) subscribed with a broker-side regular expression,
 * {@code subscribe(SubscriptionPattern)}, for test_regex_subscription.py. It prints JSON lines:
 * "assigned", "revoked", "lost" (partitions as "topic-partition"), "records" (how many records
 * each topic gave in one poll), "error" (the exception poll() threw: class and message, after
 * which it stops) and "closed". SIGTERM closes the consumer.
 *
 * <pre>RegexMember --bootstrap B --group G --pattern P --name N</pre>
 */
public final class RegexMember {
    private static final AtomicBoolean STOPPING = new AtomicBoolean();

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    private static synchronized void emit(String ev, String extra) {
        long us = System.currentTimeMillis() * 1000L + (System.nanoTime() / 1000L) % 1000L;
        StringBuilder sb = new StringBuilder("{\"t\":").append(us).append(",\"ev\":\"").append(ev).append('"');
        if (extra != null) {
            sb.append(',').append(extra);
        }
        System.out.println(sb.append('}'));
        System.out.flush();
    }

    private static String parts(Collection<TopicPartition> tps) {
        StringBuilder sb = new StringBuilder("\"parts\":[");
        boolean first = true;
        for (TopicPartition tp : tps) {
            sb.append(first ? "" : ",").append(quote(tp.topic() + "-" + tp.partition()));
            first = false;
        }
        return sb.append(']').toString();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, a.get("group"));
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, a.get("name"));
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> {
            STOPPING.set(true);
            consumer.wakeup();
        });
        consumer.subscribe(new SubscriptionPattern(a.get("pattern")), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> tps) {
                emit("assigned", parts(tps));
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> tps) {
                emit("revoked", parts(tps));
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> tps) {
                emit("lost", parts(tps));
            }
        });
        try {
            while (!STOPPING.get()) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(300));
                } catch (WakeupException e) {
                    break;
                } catch (RuntimeException e) {
                    emit("error", "\"class\":" + quote(e.getClass().getName()) + ",\"msg\":"
                        + quote(String.valueOf(e.getMessage())));
                    break;
                }
                if (records.isEmpty()) {
                    continue;
                }
                Map<String, Integer> counts = new TreeMap<>();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    counts.merge(r.topic(), 1, Integer::sum);
                }
                StringBuilder sb = new StringBuilder("\"counts\":{");
                boolean first = true;
                for (Map.Entry<String, Integer> e : counts.entrySet()) {
                    sb.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(e.getValue());
                    first = false;
                }
                emit("records", sb.append('}').toString());
            }
        } finally {
            try {
                consumer.close();
            } catch (WakeupException e) {
                consumer.close();
            } catch (RuntimeException e) {
                // closing after a fatal error may rethrow it; the error line is out already
            }
            emit("closed", null);
        }
    }
}
