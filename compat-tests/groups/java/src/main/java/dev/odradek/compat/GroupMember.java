package dev.odradek.compat;

import static dev.odradek.compat.MemberProcess.emit;
import static dev.odradek.compat.MemberProcess.partitionNumbers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.consumer.StickyAssignor;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * A consumer-group member for the membership scenarios, speaking the same line protocol as
 * member.py: one JSON object per line on stdout for assignments, revocations, losses, records
 * and successful commits. SIGTERM closes the consumer (leaving the group).
 *
 * <pre>GroupMember --bootstrap B --group G --topic T --assignor A --name N</pre>
 * where A is range, roundrobin, sticky, cooperative-sticky, or consumer (KIP-848).
 */
public final class GroupMember {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = MemberProcess.options(args);
        String topic = a.get("topic");
        String assignor = a.get("assignor");
        Properties p = MemberProcess.consumerProperties(a);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "200");
        if (assignor.equals("consumer")) {
            p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        } else {
            Map<String, String> classes = Map.of(
                "range", RangeAssignor.class.getName(),
                "roundrobin", RoundRobinAssignor.class.getName(),
                "sticky", StickyAssignor.class.getName(),
                "cooperative-sticky", CooperativeStickyAssignor.class.getName());
            p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, classes.get(assignor));
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
            p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "20000");
        }

        KafkaConsumer<byte[], byte[]> consumer = MemberProcess.stoppableConsumer(p);

        // Processed and not yet committed, per owned partition; dropped when a partition goes.
        Map<Integer, Long> next = new HashMap<>();
        Set<Integer> dirty = new HashSet<>();

        ConsumerRebalanceListener listener = new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> tps) {
                emit("assigned", partitionNumbers(tps));
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> tps) {
                List<Integer> mine = new ArrayList<>();
                tps.forEach(tp -> mine.add(tp.partition()));
                commit(consumer, topic, next, dirty, mine);
                mine.forEach(q -> { next.remove(q); dirty.remove(q); });
                emit("revoked", partitionNumbers(tps));
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> tps) {
                tps.forEach(tp -> { next.remove(tp.partition()); dirty.remove(tp.partition()); });
                emit("lost", partitionNumbers(tps));
            }
        };
        consumer.subscribe(List.of(topic), listener);
        MemberProcess.pollUntilStopped(consumer, false, recs -> {
            if (!recs.isEmpty()) {
                StringBuilder sb = new StringBuilder("\"recs\":[");
                boolean first = true;
                for (ConsumerRecord<byte[], byte[]> r : recs) {
                    sb.append(first ? "" : ",").append('[').append(r.partition()).append(',').append(r.offset()).append(']');
                    first = false;
                    next.put(r.partition(), r.offset() + 1);
                    dirty.add(r.partition());
                }
                emit("records", sb.append(']').toString());
            }
            List<Integer> owned = new ArrayList<>();
            consumer.assignment().forEach(tp -> owned.add(tp.partition()));
            commit(consumer, topic, next, dirty, owned);
        });
    }

    private static void commit(KafkaConsumer<byte[], byte[]> consumer, String topic, Map<Integer, Long> next,
                               Set<Integer> dirty, List<Integer> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offs = new HashMap<>();
        StringBuilder sb = new StringBuilder("\"offs\":{");
        boolean first = true;
        for (int q : partitions) {
            if (dirty.contains(q)) {
                offs.put(new TopicPartition(topic, q), new OffsetAndMetadata(next.get(q)));
                sb.append(first ? "" : ",").append('"').append(q).append("\":").append(next.get(q));
                first = false;
            }
        }
        if (offs.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offs, Duration.ofSeconds(30));
        } catch (WakeupException e) {
            MemberProcess.stop();
            emit("commit_failed", "\"error\":\"wakeup\"");
            return;
        } catch (KafkaException e) {
            emit("commit_failed", "\"error\":\"" + e.getClass().getSimpleName() + "\"");
            return;
        }
        partitions.forEach(dirty::remove);
        emit("commit", sb.append('}').toString());
    }
}
