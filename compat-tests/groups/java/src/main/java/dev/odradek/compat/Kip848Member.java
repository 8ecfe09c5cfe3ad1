package dev.odradek.compat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * A KIP-848 member (group.protocol=consumer) of several topics, with an optional static
 * instance id and server-side assignor, for test_kip848_assignments.py. It prints the same
 * JSON lines as GroupMember ("assigned", "revoked", "lost", "closed"), with partitions named
 * "topic-partition" since it reads more than one topic. SIGTERM closes the consumer.
 *
 * <pre>Kip848Member --bootstrap B --group G --topics T1,T2 --name N [--instance I] [--server-assignor A]</pre>
 */
public final class Kip848Member {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = MemberProcess.options(args);
        Properties p = MemberProcess.consumerProperties(a);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        if (a.containsKey("instance")) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, a.get("instance"));
        if (a.containsKey("server-assignor")) p.put(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, a.get("server-assignor"));

        KafkaConsumer<byte[], byte[]> consumer = MemberProcess.stoppableConsumer(p);
        consumer.subscribe(new ArrayList<>(Arrays.asList(a.get("topics").split(","))),
                           MemberProcess.reporting(MemberProcess::topicPartitions));
        MemberProcess.pollUntilStopped(consumer, false, records -> { });
    }
}
