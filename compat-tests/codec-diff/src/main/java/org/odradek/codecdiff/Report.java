package org.odradek.codecdiff;

import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/** Pass/fail counts per category, failure lines as they happen, and the closing summary. */
final class Report {
    private final Map<String, int[]> counts = new LinkedHashMap<>();
    private final int maxDetails;
    private int details;

    Report(int maxDetails) {
        this.maxDetails = maxDetails;
    }

    void pass(String category) {
        counts.computeIfAbsent(category, k -> new int[3])[0]++;
    }

    void fail(String category, String what, String detail) {
        counts.computeIfAbsent(category, k -> new int[3])[1]++;
        // A broken encoder can fail thousands of cases the same way; keep the log readable.
        if (details++ < maxDetails) {
            System.out.println("FAIL [" + category + "] " + what + ": " + detail.replace("\n", "\n    "));
        } else if (details == maxDetails + 1) {
            System.out.println("(further failure details suppressed; counts below are complete)");
        }
    }

    void skip(String category, String what, String why) {
        counts.computeIfAbsent(category, k -> new int[3])[2]++;
        System.out.println("SKIP [" + category + "] " + what + ": " + why);
    }

    int failed() {
        return counts.values().stream().mapToInt(c -> c[1]).sum();
    }

    void summary() {
        int p = 0;
        int f = 0;
        int s = 0;
        System.out.println();
        System.out.println("category                        passed   failed  skipped");
        for (Map.Entry<String, int[]> e : counts.entrySet()) {
            int[] c = e.getValue();
            System.out.printf("%-30s %7d  %7d  %7d%n", e.getKey(), c[0], c[1], c[2]);
            p += c[0];
            f += c[1];
            s += c[2];
        }
        System.out.println(p + " passed, " + f + " failed, " + s + " skipped");
    }

    /** Where two encodings first differ, with hex of both around that point. */
    static String diff(String la, byte[] expected, String lb, byte[] actual) {
        int n = Math.min(expected.length, actual.length);
        int at = 0;
        while (at < n && expected[at] == actual[at]) {
            at++;
        }
        if (at == n && expected.length == actual.length) {
            return "identical";
        }
        int from = Math.max(0, at - 8);
        return "lengths " + la + "=" + expected.length + " " + lb + "=" + actual.length
            + ", first difference at byte " + at
            + String.format("%n%-8s [%d..]: %s", la, from, hex(expected, from, at + 16))
            + String.format("%n%-8s [%d..]: %s", lb, from, hex(actual, from, at + 16));
    }

    static String hex(byte[] b, int from, int to) {
        to = Math.min(to, b.length);
        if (from >= to) {
            return "(end)";
        }
        return HexFormat.ofDelimiter(" ").formatHex(b, from, to);
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
