package dev.odradek.compat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A KIP-848 member (group.protocol=consumer) of several topics, with an optional static
 * instance id and server-side assignor, for test_kip848_assignments.py. It prints the same
 * JSON lines as GroupMember ("assigned", "revoked", "lost", "closed"), with partitions named
 * "topic-partition" since it reads more than one topic. SIGTERM closes the consumer.
 *
 * <pre>Kip848Member --bootstrap B --group G --topics T1,T2 --name N [--instance I] [--server-assignor A]</pre>
 */
public final class Kip848Member {
    private static final AtomicBoolean STOPPING = new AtomicBoolean();

    private static synchronized void emit(String ev, Collection<TopicPartition> tps) {
        long us = System.currentTimeMillis() * 1000L + (System.nanoTime() / 1000L) % 1000L;
        StringBuilder sb = new StringBuilder("{\"t\":").append(us).append(",\"ev\":\"").append(ev).append('"');
        if (tps != null) {
            sb.append(",\"parts\":[");
            boolean first = true;
            for (TopicPartition tp : tps) {
                sb.append(first ? "" : ",").append('"').append(tp.topic()).append('-').append(tp.partition()).append('"');
                first = false;
            }
            sb.append(']');
        }
        System.out.println(sb.append('}'));
        System.out.flush();
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
        if (a.containsKey("instance")) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, a.get("instance"));
        if (a.containsKey("server-assignor")) p.put(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, a.get("server-assignor"));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> {
            STOPPING.set(true);
            consumer.wakeup();
        });
        consumer.subscribe(new ArrayList<>(Arrays.asList(a.get("topics").split(","))), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> tps) {
                emit("assigned", tps);
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> tps) {
                emit("revoked", tps);
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> tps) {
                emit("lost", tps);
            }
        });
        try {
            while (!STOPPING.get()) {
                try {
                    consumer.poll(Duration.ofMillis(300));
                } catch (WakeupException e) {
                    break;
                }
            }
        } finally {
            try {
                consumer.close();
            } catch (WakeupException e) {
                consumer.close();
            }
            emit("closed", null);
        }
    }
}
