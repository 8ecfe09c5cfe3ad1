package dev.odradek.compat;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What the member programs (GroupMember, Kip848Member, RegexMember) share: their
 * "--key value" options, the consumer settings they all use, the JSON lines they print on
 * stdout (one event a line, stamped in microseconds, read by ../membership.py), and the poll
 * loop that SIGTERM ends by closing the consumer (leaving the group).
 */
final class MemberProcess {
    private static final AtomicBoolean STOPPING = new AtomicBoolean();

    /** What a member does with each poll's records (none when the poll returned nothing). */
    interface PollHandler {
        void handle(ConsumerRecords<byte[], byte[]> records);
    }

    private MemberProcess() {
    }

    /** The "--key value" pairs of args, keyed without the dashes. */
    static Map<String, String> options(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        return a;
    }

    /**
     * The settings of every member: --bootstrap, --group, --name as the client id, manual
     * commits, the earliest offset when the group has none, records as bytes.
     */
    static Properties consumerProperties(Map<String, String> a) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, a.get("group"));
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, a.get("name"));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /** A consumer that SIGTERM wakes up, ending pollUntilStopped. */
    static KafkaConsumer<byte[], byte[]> stoppableConsumer(Properties p) {
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> {
            STOPPING.set(true);
            consumer.wakeup();
        });
        return consumer;
    }

    /** Ends pollUntilStopped after this pass: for a handler whose own call took SIGTERM's wakeup. */
    static void stop() {
        STOPPING.set(true);
    }

    /** Prints {"t":microseconds,"ev":ev} with fields (null for none) inside the braces. */
    static synchronized void emit(String ev, String fields) {
        long us = System.currentTimeMillis() * 1000L + (System.nanoTime() / 1000L) % 1000L;
        StringBuilder sb = new StringBuilder("{\"t\":").append(us).append(",\"ev\":\"").append(ev).append('"');
        if (fields != null) {
            sb.append(',').append(fields);
        }
        System.out.println(sb.append('}'));
        System.out.flush();
    }

    /** s as a JSON string. */
    static String quote(String s) {
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

    /** "parts":[0,1]: partition numbers, for a member of one topic. */
    static String partitionNumbers(Collection<TopicPartition> tps) {
        StringBuilder sb = new StringBuilder("\"parts\":[");
        boolean first = true;
        for (TopicPartition tp : tps) {
            sb.append(first ? "" : ",").append(tp.partition());
            first = false;
        }
        return sb.append(']').toString();
    }

    /** "parts":["t-0","u-1"]: topic and partition, for a member of several topics. */
    static String topicPartitions(Collection<TopicPartition> tps) {
        StringBuilder sb = new StringBuilder("\"parts\":[");
        boolean first = true;
        for (TopicPartition tp : tps) {
            sb.append(first ? "" : ",").append(quote(tp.topic() + "-" + tp.partition()));
            first = false;
        }
        return sb.append(']').toString();
    }

    /** A listener that only reports "assigned", "revoked" and "lost", with the partitions as parts() writes them. */
    static ConsumerRebalanceListener reporting(Function<Collection<TopicPartition>, String> parts) {
        return new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> tps) {
                emit("assigned", parts.apply(tps));
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> tps) {
                emit("revoked", parts.apply(tps));
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> tps) {
                emit("lost", parts.apply(tps));
            }
        };
    }

    /**
     * Polls (300 ms at a time) until SIGTERM or stop(), handing every poll's records to handler;
     * then closes the consumer and reports "closed". With reportPollErrors, an exception from
     * poll() is reported as an "error" event (its class and message) and ends the loop, and a
     * close() that throws it again is let be; without, it ends the process with its stack trace.
     */
    static void pollUntilStopped(KafkaConsumer<byte[], byte[]> consumer, boolean reportPollErrors,
                                 PollHandler handler) {
        try {
            while (!STOPPING.get()) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(300));
                } catch (WakeupException e) {
                    break;
                } catch (RuntimeException e) {
                    if (!reportPollErrors) {
                        throw e;
                    }
                    emit("error", "\"class\":" + quote(e.getClass().getName()) + ",\"msg\":"
                        + quote(String.valueOf(e.getMessage())));
                    break;
                }
                handler.handle(records);
            }
        } finally {
            try {
                consumer.close();
            } catch (WakeupException e) {
                consumer.close();
            } catch (RuntimeException e) {
                if (!reportPollErrors) {
                    throw e;
                }
                // closing after a fatal error may rethrow it; the error line is out already
            }
            emit("closed", null);
        }
    }
}
