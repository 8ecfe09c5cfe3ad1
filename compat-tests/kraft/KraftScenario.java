// Drives Apache Kafka through topic and config changes with its own Admin
// client, then prints the resulting metadata in the canonical form that
// od_kraft_dump prints for Odradek's replay of the same __cluster_metadata
// log. Run with the Kafka classpath: java -cp CP KraftScenario.java HOST:PORT
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

public class KraftScenario {
    private static String ids(Collection<Node> nodes) {
        return nodes.stream().map(n -> Integer.toString(n.id())).collect(Collectors.joining(","));
    }

    private static void alter(Admin admin, ConfigResource.Type type, String name, String key, String value,
                              AlterConfigOp.OpType op) throws Exception {
        ConfigResource resource = new ConfigResource(type, name);
        AlterConfigOp change = new AlterConfigOp(new ConfigEntry(key, value), op);
        admin.incrementalAlterConfigs(Map.of(resource, List.of(change))).all().get();
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(List.of(
                new NewTopic("orders", 3, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact", "retention.ms", "12345")),
                new NewTopic("events.v1", 2, (short) 1),
                new NewTopic("doomed", 1, (short) 1).configs(Map.of("max.message.bytes", "2000")),
                new NewTopic("manual", Map.of(0, List.of(1), 1, List.of(1)))
            )).all().get();
            List<NewTopic> bulk = new ArrayList<>();
            for (int i = 0; i < 25; i++)
                bulk.add(new NewTopic("bulk-" + i, 1 + i % 3, (short) 1)
                    .configs(i % 2 == 0 ? Map.of("segment.bytes", Integer.toString(1048576 + i)) : Map.of()));
            admin.createTopics(bulk).all().get();
            admin.deleteTopics(List.of("doomed", "bulk-3")).all().get();
            alter(admin, ConfigResource.Type.TOPIC, "events.v1", "segment.ms", "600000", AlterConfigOp.OpType.SET);
            alter(admin, ConfigResource.Type.TOPIC, "orders", "retention.ms", null, AlterConfigOp.OpType.DELETE);
            alter(admin, ConfigResource.Type.TOPIC, "orders", "cleanup.policy", "delete", AlterConfigOp.OpType.APPEND);
            alter(admin, ConfigResource.Type.BROKER, "", "log.cleaner.threads", "2", AlterConfigOp.OpType.SET);
            admin.createPartitions(Map.of("events.v1", NewPartitions.increaseTo(4))).all().get();
            // The deleted name comes back with a new id.
            admin.createTopics(List.of(new NewTopic("doomed", 2, (short) 1))).all().get();

            // The broker's metadata cache trails the controller: wait until it
            // shows the last changes before describing.
            Map<String, TopicDescription> topics = null;
            for (int attempt = 0; attempt < 60; attempt++) {
                Collection<String> names = admin.listTopics().names().get();
                try {
                    topics = admin.describeTopics(names).allTopicNames().get();
                } catch (ExecutionException e) {
                    // A deleted topic still listed by a cache that has not settled yet.
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException))
                        throw e;
                    topics = null;
                    Thread.sleep(500);
                    continue;
                }
                TopicDescription doomed = topics.get("doomed");
                TopicDescription events = topics.get("events.v1");
                boolean settled = !topics.containsKey("bulk-3") && doomed != null
                    && doomed.partitions().size() == 2 && events != null
                    && events.partitions().size() == 4;
                if (settled)
                    break;
                Thread.sleep(500);
            }
            TreeSet<String> lines = new TreeSet<>();
            List<ConfigResource> resources = new ArrayList<>();
            for (TopicDescription t : topics.values()) {
                lines.add("topic " + t.name() + " " + t.topicId() + " partitions=" + t.partitions().size());
                for (TopicPartitionInfo p : t.partitions()) {
                    lines.add("partition " + t.name() + " " + p.partition()
                        + " leader=" + (p.leader() == null ? -1 : p.leader().id())
                        + " replicas=" + ids(p.replicas()) + " isr=" + ids(p.isr()));
                }
                resources.add(new ConfigResource(ConfigResource.Type.TOPIC, t.name()));
            }
            resources.add(new ConfigResource(ConfigResource.Type.BROKER, ""));
            Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
            for (Map.Entry<ConfigResource, Config> e : configs.entrySet()) {
                for (ConfigEntry c : e.getValue().entries()) {
                    boolean dynamic = c.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG
                        || c.source() == ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG;
                    if (!dynamic)
                        continue;
                    String kind = e.getKey().type() == ConfigResource.Type.TOPIC ? "topic" : "broker";
                    lines.add("config " + kind + " " + e.getKey().name() + " " + c.name() + "=" + c.value());
                }
            }
            for (String line : lines)
                System.out.println(line);
        }
    }
}
