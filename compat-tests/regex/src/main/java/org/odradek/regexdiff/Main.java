package org.odradek.regexdiff;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Differential test of Odradek's od_regex against RE2/J, the engine Kafka's group coordinator
 * compiles SubscribedTopicRegex with ({@code Pattern.compile(regex)}, then
 * {@code matcher(topic).matches()}).
 *
 * <p>For every pattern of the corpus (the hand-picked patterns.txt plus seeded generated and
 * mutated ones) and a set of subjects, it compares accept/refuse and each full-match result with
 * od_regex_tool. Exit status 1 on any difference.
 *
 * <p>Usage: Main --tool PATH --patterns FILE [--seed N] [--generated N] [--verbose]
 */
public final class Main {
    /** Topic-like subjects every pattern is matched against, besides generated ones. */
    private static final String[] FIXED_SUBJECTS = {
        "", "a", "b", "ab", "aa", "aaa", "abab", "ba", "A", "B", "AB", "K", "k", "S", "s", "x",
        "-", "_", ".", "..", "a-b", "a.b", "a_b", "0", "12", "123", "a1", "1a",
        "orders", "orders-eu", "Orders", "ORDERS", "my-orders", "orders.v2", "topic-1", "topic_1",
        "topic.1", "topic-", "__consumer_offsets", "__transaction_state", "payments.EU-v12",
        "prod.orders-x", "dev.9", "x{2}", "{", "}", "[", "]", "a b", "a\nb", "\n", "\t",
        "a]", "a{x", "x{,3}", "x{01}", "&", "*", "+", "?", "(", ")", "|", "^", "$", "\\",
    };

    private static final String ATOM_CHARS = "ab.-_kKsS01";
    private static final String[] ESCAPES = {
        "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\pL", "\\p{Lu}", "\\p{Ll}", "\\PN", "\\p{^L}",
        "\\p{Greek}", "\\p{Latin}", "\\p{Common}", "\\pP", "\\x41", "\\x{6B}", "\\x{212A}",
        "\\x{17F}", "\\.", "\\-", "\\_", "\\b", "\\B", "\\A", "\\z", "^", "$", "\\Q.-\\E", "\\141",
        "\\n", "\\t", "\\0",
    };
    private static final String[] CLASSES = {
        "[ab]", "[^ab]", "[a-c]", "[^.-]", "[-a]", "[a-]", "[]a]", "[\\d.]", "[[:alpha:]]",
        "[[:^digit:]]", "[[:word:]-]", "[[:punct:]]", "[\\pL\\d]", "[^\\W_]", "[k-s]", "[\\x00-a]",
        "[A-Z0-9._-]", "[^\\n]",
    };
    private static final String MUTATION_CHARS = "()[]{}*+?|\\^$-:<>=!PpQEx01239,.aAkKiUsm_";

    private final Random random;

    private Main(long seed) {
        this.random = new Random(seed);
    }

    public static void main(String[] args) throws Exception {
        String tool = null;
        Path patterns = null;
        long seed = 848;
        int generated = 1500;
        boolean verbose = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tool": tool = args[++i]; break;
                case "--patterns": patterns = Path.of(args[++i]); break;
                case "--seed": seed = Long.parseLong(args[++i]); break;
                case "--generated": generated = Integer.parseInt(args[++i]); break;
                case "--verbose": verbose = true; break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (tool == null || patterns == null) {
            throw new IllegalArgumentException("usage: --tool PATH --patterns FILE [--seed N] [--generated N]");
        }
        System.exit(new Main(seed).run(tool, patterns, generated, verbose));
    }

    private int run(String tool, Path patternFile, int generated, boolean verbose) throws IOException, InterruptedException {
        Set<String> corpus = new LinkedHashSet<>();
        int handPicked = 0;
        for (String line : Files.readAllLines(patternFile, StandardCharsets.UTF_8)) {
            if (line.startsWith("#") || line.isEmpty()) {
                continue;
            }
            // One pattern per line; "\\n" at the very end of the file format is not needed:
            // patterns hold no newline (topic-name regexes never do).
            corpus.add(line);
            handPicked++;
        }
        for (int i = 0; i < generated; i++) {
            String p = regex(3);
            corpus.add(p);
            corpus.add(mutate(p));
        }

        Process proc = new ProcessBuilder(tool).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedWriter toTool = new BufferedWriter(new OutputStreamWriter(proc.getOutputStream(), StandardCharsets.UTF_8));
        BufferedReader fromTool = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8));

        int patterns = 0, accepted = 0, refused = 0, matchChecks = 0, matchesTrue = 0, differences = 0, skipped = 0;
        for (String pattern : corpus) {
            Pattern compiled = null;
            String re2jError = null;
            try {
                compiled = Pattern.compile(pattern);
            } catch (PatternSyntaxException e) {
                re2jError = e.getDescription();
            } catch (StackOverflowError | OutOfMemoryError e) {
                // RE2/J itself cannot handle it; od_regex refuses such patterns as too large.
                skipped++;
                continue;
            }
            List<String> subjects = subjects(pattern);
            StringBuilder request = new StringBuilder(hex(pattern));
            for (String s : subjects) {
                request.append(' ').append(s.isEmpty() ? "-" : hex(s));
            }
            toTool.write(request.toString());
            toTool.newLine();
            toTool.flush();
            String answer = fromTool.readLine();
            if (answer == null) {
                System.err.println("od_regex_tool died on pattern " + show(pattern));
                return 1;
            }
            patterns++;
            if (compiled == null) {
                refused++;
                if (!answer.startsWith("ERR SYNTAX")) {
                    differences++;
                    System.err.println("DIFF " + show(pattern) + ": RE2/J refuses (" + re2jError + "), od_regex: " + answer);
                } else if (verbose) {
                    System.err.println("both refuse " + show(pattern) + ": " + re2jError + " / " + answer);
                }
                continue;
            }
            accepted++;
            if (!answer.startsWith("OK ") || answer.length() != 3 + subjects.size()) {
                differences++;
                System.err.println("DIFF " + show(pattern) + ": RE2/J accepts, od_regex: " + answer);
                continue;
            }
            for (int i = 0; i < subjects.size(); i++) {
                boolean expected = compiled.matcher(subjects.get(i)).matches();
                boolean actual = answer.charAt(3 + i) == '1';
                matchChecks++;
                if (expected) {
                    matchesTrue++;
                }
                if (expected != actual) {
                    differences++;
                    System.err.println("DIFF " + show(pattern) + " on " + show(subjects.get(i)) + ": RE2/J "
                        + expected + ", od_regex " + actual);
                }
            }
        }
        toTool.close();
        proc.waitFor();
        System.out.printf("regex-diff: %d patterns (%d hand-picked), %d accepted, %d refused, %d skipped (RE2/J overflow);"
            + " %d full-match comparisons (%d true); %d differences%n",
            patterns, handPicked, accepted, refused, skipped, matchChecks, matchesTrue, differences);
        if (accepted == 0 || refused == 0 || matchesTrue == 0 || matchesTrue == matchChecks) {
            System.err.println("regex-diff: corpus does not exercise both outcomes");
            return 1;
        }
        return differences == 0 ? 0 : 1;
    }

    /** Fixed subjects plus random strings over the pattern's own characters and topic characters. */
    private List<String> subjects(String pattern) {
        List<String> out = new ArrayList<>(List.of(FIXED_SUBJECTS));
        StringBuilder alphabet = new StringBuilder("ab-._");
        for (char c : pattern.toCharArray()) {
            if (c < 128 && c >= 32) {
                alphabet.append(c);
            }
        }
        for (int i = 0; i < 24; i++) {
            int len = random.nextInt(7);
            StringBuilder s = new StringBuilder();
            for (int j = 0; j < len; j++) {
                s.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            out.add(s.toString());
        }
        return out;
    }

    /** A random RE2-syntax pattern (valid in most cases; the mutations make invalid ones). */
    private String regex(int depth) {
        int branches = 1 + (random.nextInt(4) == 0 ? random.nextInt(3) : 0);
        StringBuilder sb = new StringBuilder();
        for (int b = 0; b < branches; b++) {
            if (b > 0) {
                sb.append('|');
            }
            int pieces = random.nextInt(5);
            for (int i = 0; i < pieces; i++) {
                sb.append(piece(depth));
            }
        }
        return sb.toString();
    }

    private String piece(int depth) {
        String atom = atom(depth);
        switch (random.nextInt(10)) {
            case 0: return atom + "*";
            case 1: return atom + "+";
            case 2: return atom + "?";
            case 3: return atom + "{" + random.nextInt(3) + "}";
            case 4: return atom + "{" + random.nextInt(3) + ",}";
            case 5: {
                int lo = random.nextInt(3);
                return atom + "{" + lo + "," + (lo + random.nextInt(3)) + "}" + (random.nextBoolean() ? "?" : "");
            }
            case 6: return atom + (random.nextBoolean() ? "*?" : "+?");
            default: return atom;
        }
    }

    private String atom(int depth) {
        int k = random.nextInt(depth > 0 ? 12 : 8);
        switch (k) {
            case 0: case 1: case 2: return String.valueOf(ATOM_CHARS.charAt(random.nextInt(ATOM_CHARS.length())));
            case 3: return ".";
            case 4: return ESCAPES[random.nextInt(ESCAPES.length)];
            case 5: return CLASSES[random.nextInt(CLASSES.length)];
            case 6: return random.nextBoolean() ? "(?i)" : "(?-i)";
            case 7: return random.nextBoolean() ? "(?s)" : "(?m)";
            case 8: return "(" + regex(depth - 1) + ")";
            case 9: return "(?:" + regex(depth - 1) + ")";
            case 10: return "(?i:" + regex(depth - 1) + ")";
            default: return "(?P<g" + random.nextInt(1000) + ">" + regex(depth - 1) + ")";
        }
    }

    /** One to three random edits (delete, insert or replace a character from the syntax alphabet). */
    private String mutate(String p) {
        StringBuilder sb = new StringBuilder(p);
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int op = random.nextInt(3);
            char c = MUTATION_CHARS.charAt(random.nextInt(MUTATION_CHARS.length()));
            if (sb.length() == 0 || op == 0) {
                sb.insert(sb.length() == 0 ? 0 : random.nextInt(sb.length() + 1), c);
            } else if (op == 1) {
                sb.deleteCharAt(random.nextInt(sb.length()));
            } else {
                sb.setCharAt(random.nextInt(sb.length()), c);
            }
        }
        return sb.toString();
    }

    private static String hex(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }

    private static String show(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c < 32 || c == 127) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
