// Runs Apache Kafka 3.9.2's server-side assignors (the group coordinator's
// UniformAssignor and RangeAssignor) on scenarios read from stdin, in the
// format od_assignor_tool.c documents, and prints the assignments the same
// way. The group spec is built as TargetAssignmentBuilder builds it: a
// HashMap of members filled in the given order, immutable assignments.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.coordinator.group.api.assignor.ConsumerGroupPartitionAssignor;
import org.apache.kafka.coordinator.group.api.assignor.GroupAssignment;
import org.apache.kafka.coordinator.group.api.assignor.MemberAssignment;
import org.apache.kafka.coordinator.group.api.assignor.SubscriptionType;
import org.apache.kafka.coordinator.group.assignor.RangeAssignor;
import org.apache.kafka.coordinator.group.assignor.UniformAssignor;
import org.apache.kafka.coordinator.group.modern.Assignment;
import org.apache.kafka.coordinator.group.modern.GroupSpecImpl;
import org.apache.kafka.coordinator.group.modern.MemberSubscriptionAndAssignmentImpl;
import org.apache.kafka.coordinator.group.modern.SubscribedTopicDescriberImpl;
import org.apache.kafka.coordinator.group.modern.TopicMetadata;

public final class AssignorDiff {
    private static Uuid uuid(String hex) {
        long msb = Long.parseUnsignedLong(hex.substring(0, 16), 16);
        long lsb = Long.parseUnsignedLong(hex.substring(16, 32), 16);
        return new Uuid(msb, lsb);
    }

    private static String hex(Uuid u) {
        return String.format("%016x%016x", u.getMostSignificantBits(), u.getLeastSignificantBits());
    }

    // As Assignment.fromRecord builds a member's target from its record:
    // topics put in record order into a HashMap, each partition list copied
    // into a HashSet.
    private static Map<Uuid, Set<Integer>> parseTps(String s) {
        Map<Uuid, Set<Integer>> out = new HashMap<>();
        if (s.equals("-")) return out;
        for (String topic : s.split(";")) {
            String[] kv = topic.split(":");
            List<Integer> parts = new ArrayList<>();
            for (String p : kv[1].split(",")) parts.add(Integer.parseInt(p));
            out.putIfAbsent(uuid(kv[0]), new HashSet<>(parts));
        }
        return out;
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String assignorName = "uniform";
        Map<Uuid, TopicMetadata> topics = new HashMap<>();
        List<String> order = new ArrayList<>();
        Map<String, MemberSubscriptionAndAssignmentImpl> members = new HashMap<>();
        List<Set<Uuid>> subscriptions = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split(" ");
            switch (f[0]) {
                case "assignor":
                    assignorName = f[1];
                    break;
                case "topic": {
                    Uuid id = uuid(f[1]);
                    topics.put(id, new TopicMetadata(id, "t" + topics.size(), Integer.parseInt(f[2]),
                        Collections.emptyMap()));
                    break;
                }
                case "member": {
                    // TopicIds resolves only the topics that exist; the
                    // coordinator decides homogeneity on the names as given
                    // (ModernGroup.subscriptionType), missing topics included.
                    Set<Uuid> subscribed = new HashSet<>();
                    Set<Uuid> named = new HashSet<>();
                    if (!f[2].equals("-"))
                        for (String t : f[2].split(",")) {
                            Uuid id = uuid(t);
                            named.add(id);
                            if (topics.containsKey(id)) subscribed.add(id);
                        }
                    order.add(f[1]);
                    subscriptions.add(named);
                    Optional<String> instance = f.length > 4 ? Optional.of(f[4]) : Optional.empty();
                    members.put(f[1], new MemberSubscriptionAndAssignmentImpl(Optional.empty(),
                        instance, subscribed, new Assignment(parseTps(f[3]))));
                    break;
                }
                case "end": {
                    boolean homogeneous = true;
                    for (Set<Uuid> s : subscriptions) homogeneous &= s.equals(subscriptions.get(0));
                    Map<Uuid, Map<Integer, String>> inverted = new HashMap<>();
                    members.forEach((id, m) -> m.partitions().forEach((t, ps) -> ps.forEach(p ->
                        inverted.computeIfAbsent(t, k -> new HashMap<>()).put(p, id))));
                    ConsumerGroupPartitionAssignor assignor =
                        assignorName.equals("range") ? new RangeAssignor() : new UniformAssignor();
                    StringBuilder out = new StringBuilder();
                    try {
                        GroupAssignment result = assignor.assign(
                            new GroupSpecImpl(members, homogeneous ? SubscriptionType.HOMOGENEOUS
                                : SubscriptionType.HETEROGENEOUS, inverted),
                            new SubscribedTopicDescriberImpl(topics));
                        for (String id : order) {
                            MemberAssignment a = result.members().get(id);
                            TreeMap<String, TreeSet<Integer>> sorted = new TreeMap<>();
                            if (a != null)
                                a.partitions().forEach((t, ps) -> {
                                    if (!ps.isEmpty()) sorted.put(hex(t), new TreeSet<>(ps));
                                });
                            out.append(id).append(' ');
                            if (sorted.isEmpty()) out.append('-');
                            boolean first = true;
                            for (Map.Entry<String, TreeSet<Integer>> e : sorted.entrySet()) {
                                if (!first) out.append(';');
                                first = false;
                                out.append(e.getKey()).append(':');
                                boolean firstP = true;
                                for (int p : e.getValue()) {
                                    if (!firstP) out.append(',');
                                    firstP = false;
                                    out.append(p);
                                }
                            }
                            out.append('\n');
                        }
                    } catch (RuntimeException e) {
                        out.append("error\n");
                    }
                    out.append("end\n");
                    System.out.print(out);
                    System.out.flush();
                    topics = new HashMap<>();
                    order = new ArrayList<>();
                    members = new HashMap<>();
                    subscriptions = new ArrayList<>();
                    break;
                }
                default:
                    break;
            }
        }
    }
}
