package dev.odradek.compat;

import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.SubscriptionPattern;

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
    public static void main(String[] args) throws Exception {
        Map<String, String> a = MemberProcess.options(args);
        Properties p = MemberProcess.consumerProperties(a);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");

        KafkaConsumer<byte[], byte[]> consumer = MemberProcess.stoppableConsumer(p);
        consumer.subscribe(new SubscriptionPattern(a.get("pattern")),
                           MemberProcess.reporting(MemberProcess::topicPartitions));
        MemberProcess.pollUntilStopped(consumer, true, records -> {
            if (records.isEmpty()) {
                return;
            }
            Map<String, Integer> counts = new TreeMap<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                counts.merge(r.topic(), 1, Integer::sum);
            }
            StringBuilder sb = new StringBuilder("\"counts\":{");
            boolean first = true;
            for (Map.Entry<String, Integer> e : counts.entrySet()) {
                sb.append(first ? "" : ",").append(MemberProcess.quote(e.getKey())).append(':').append(e.getValue());
                first = false;
            }
            MemberProcess.emit("records", sb.append('}').toString());
        });
    }
}
