// Asks Apache Kafka 3.9 itself how it reads configuration, for differential
// tests of broker/config. Three modes, each printing one line per input:
//   props FILE...   java.util.Properties.load: sorted hex(key)=hex(value)
//                   lines per file, or ERROR
//   broker FILE...  new KafkaConfig(props): OK or ERR <message>
//   values TSV      per line "B|T <key> <value>": ConfigDef parse + validator
//                   of that broker (B) or topic (T) key: OK or the message
//   describe BROKER TOPIC ...  pairs of files; DescribeConfigs entries (with
//                   synonyms) of the broker and of a topic with those
//                   overrides, one line each, or SKIP when Kafka refuses them
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

public class KafkaConfigOracle {
    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x));
        return b.toString();
    }

    static Properties load(String path) throws IOException {
        Properties p = new Properties();
        try (InputStream in = new FileInputStream(path)) {
            p.load(in);
        }
        return p;
    }

    static String line(org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.name()).append("=").append(r.value()).append(" src").append(r.configSource())
          .append(" ro=").append(r.readOnly()).append(" sens=").append(r.isSensitive()).append(" type=").append(r.configType());
        for (org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym y : r.synonyms())
            sb.append(" [").append(y.name()).append("=").append(y.value()).append(" src").append(y.source()).append("]");
        return sb.toString();
    }

    static void describe(String brokerFile, String topicFile) throws Exception {
        Properties bp = load(brokerFile), tp = load(topicFile);
        kafka.server.KafkaConfig kc;
        org.apache.kafka.storage.internals.log.LogConfig lc;
        try {
            kc = new kafka.server.KafkaConfig(bp, false);
            org.apache.kafka.storage.internals.log.LogConfig.validate(tp);
            lc = org.apache.kafka.storage.internals.log.LogConfig.fromProps(kc.extractLogConfigMap(), tp);
        } catch (Exception e) {
            System.out.println(brokerFile + "\tSKIP");
            return;
        }
        kafka.server.ConfigHelper h = new kafka.server.ConfigHelper(null, kc, null);
        java.lang.reflect.Method m = kafka.server.ConfigHelper.class.getDeclaredMethod(
            "createBrokerConfigEntry", boolean.class, boolean.class, boolean.class, String.class, Object.class);
        m.setAccessible(true);
        Map<String, Object> all = new TreeMap<>(scala.jdk.javaapi.CollectionConverters.asJava(h.allConfigs(kc)));
        for (Map.Entry<String, Object> e : all.entrySet())
            System.out.println(brokerFile + "\tB\t" + line((org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult)
                m.invoke(h, true, true, true, e.getKey(), e.getValue())));
        for (Map.Entry<String, ?> e : new TreeMap<String, Object>(lc.values()).entrySet())
            System.out.println(brokerFile + "\tT\t" + line(h.createTopicConfigEntry(lc, tp, true, false, e.getKey(), e.getValue())));
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        if (mode.equals("values")) {
            Map<String, ConfigDef.ConfigKey> broker = kafka.server.KafkaConfig.configDef().configKeys();
            Map<String, ConfigDef.ConfigKey> topic = org.apache.kafka.storage.internals.log.LogConfig.configKeys();
            try (BufferedReader r = new BufferedReader(new FileReader(args[1], StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String[] p = line.split("\t", -1);
                    ConfigDef.ConfigKey k = (p[0].equals("T") ? topic : broker).get(p[1]);
                    String out;
                    try {
                        Object v = ConfigDef.parseType(p[1], p[2], k.type);
                        if (k.validator != null) k.validator.ensureValid(p[1], v);
                        out = "OK";
                    } catch (ConfigException e) {
                        out = e.getMessage();
                    }
                    System.out.println(line + "\t" + out);
                }
            }
            return;
        }
        if (mode.equals("describe")) {
            for (int i = 1; i + 1 < args.length; i += 2)
                describe(args[i], args[i + 1]);
            return;
        }
        for (int i = 1; i < args.length; i++) {
            Properties p = new Properties();
            StringBuilder out = new StringBuilder();
            try (InputStream in = new FileInputStream(args[i])) {
                p.load(in);
                if (mode.equals("props")) {
                    TreeSet<String> lines = new TreeSet<>();
                    for (String k : p.stringPropertyNames()) lines.add(hex(k) + "=" + hex(p.getProperty(k)));
                    out.append(String.join(" ", lines));
                } else {
                    new kafka.server.KafkaConfig(p, false);
                    out.append("OK");
                }
            } catch (IllegalArgumentException | ConfigException e) {
                out.setLength(0);
                out.append(mode.equals("props") ? "ERROR" : "ERR " + e.getMessage());
            }
            System.out.println(args[i] + "\t" + out.toString().replace('\n', ' '));
        }
    }
}
