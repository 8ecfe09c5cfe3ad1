// Asks Apache Kafka 3.9 itself how it reads configuration, for differential
// tests of broker/config. Three modes, each printing one line per input:
//   props FILE...   java.util.Properties.load: sorted hex(key)=hex(value)
//                   lines per file, or ERROR
//   broker FILE...  new KafkaConfig(props): OK or ERR <message>
//   values TSV      per line "B|T <key> <value>": ConfigDef parse + validator
//                   of that broker (B) or topic (T) key: OK or the message
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
