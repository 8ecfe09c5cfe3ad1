package org.odradek.codecdiff;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Differential test of Odradek's codecs against Apache Kafka's own classes.
 *
 *   java -cp target/classes:target/lib/* org.odradek.codecdiff.Main \
 *       --tool PATH/od_codec_tool --specs PATH/kafka-specs [--seed N] [--samples N]
 *       [--scenarios N] [--only messages|batches]
 *       [--overlay protocol/gen/spec_overlay.json --overlay-jar kafka-clients-NEWER.jar]
 *
 * Prints each failing case, a table per category, and a last line
 * "N passed, N failed, N skipped"; exits 1 on any failure.
 */
public final class Main {
    public static void main(String[] args) throws Exception {
        Path exe = null;
        Path specsDir = null;
        Path overlayManifest = null;
        Path overlayJar = null;
        long seed = 20241106L;
        int samples = 24;
        int scenarios = 12;
        String only = "";
        int maxDetails = 400;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tool" -> exe = Path.of(args[++i]);
                case "--specs" -> specsDir = Path.of(args[++i]);
                case "--overlay" -> overlayManifest = Path.of(args[++i]);
                case "--overlay-jar" -> overlayJar = Path.of(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                case "--scenarios" -> scenarios = Integer.parseInt(args[++i]);
                case "--only" -> only = args[++i];
                case "--max-details" -> maxDetails = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (exe == null || specsDir == null || (overlayManifest == null) != (overlayJar == null)) {
            System.err.println("usage: Main --tool od_codec_tool --specs kafka-specs [--seed N] [--samples N]"
                + " [--only messages|batches] [--overlay MANIFEST --overlay-jar JAR]");
            System.exit(2);
        }
        Path work = Files.createTempDirectory("codec-diff");
        Tool tool = new Tool(exe, work);
        Report report = new Report(maxDetails);
        System.out.println("codec-diff: seed " + seed + ", " + samples + " samples per (message, version); scratch "
            + work);

        if (!only.equals("batches")) {
            Overlay overlay = overlayManifest == null ? null : new Overlay(overlayManifest, overlayJar);
            List<Specs.Message> specs = Specs.load(specsDir, overlay);
            MessageDiff md = new MessageDiff(specs, overlay, tool, report);
            md.catalogue();
            md.kafkaToOdradek(seed, samples);
            md.odradekToKafka(seed, samples, work);
        }
        if (!only.equals("messages")) {
            new BatchDiff(tool, report, work, seed, scenarios).run();
        }
        boolean ok = report.failed() == 0;
        if (ok) {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        } else {
            System.out.println("inputs and outputs of the last od_codec_tool runs kept in " + work);
        }
        report.summary();
        System.exit(ok ? 0 : 1);
    }

    private Main() {
    }
}
