package org.odradek.codecdiff;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The C side, od_codec_tool, run as a child process over files.
 *
 * Frame file (all integers big-endian), one frame after another to the end:
 *   u16 name length | name (UTF-8) | i16 version | i32 length | bytes
 * Result file of `reencode`, one result per input frame, in order:
 *   u8 status (0 ok, 1 error) | i32 length | bytes (the re-encoding, or the error text)
 * The tool flushes after every result, so when it dies on some input the
 * results before it survive and the run resumes after the culprit.
 */
final class Tool {
    record Frame(String name, short version, byte[] bytes) {
    }

    record Result(boolean ok, byte[] bytes) {
        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    record Run(int exit, String fullStderr) {
        /** The start of the tool's stderr, enough for a failure line. */
        String stderr() {
            return fullStderr.length() > 2000 ? fullStderr.substring(0, 2000) + "..." : fullStderr;
        }
    }

    private final Path exe;
    private final Path work;

    Tool(Path exe, Path work) {
        this.exe = exe;
        this.work = work;
    }

    Run run(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(exe.toString());
        cmd.addAll(List.of(args));
        Path err = work.resolve("tool.stderr");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile())
            .redirectOutput(work.resolve("tool.stdout").toFile()).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            return new Run(-1, "timed out after " + timeoutSeconds + "s");
        }
        return new Run(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }

    String stdout() throws IOException {
        return Files.readString(work.resolve("tool.stdout"), StandardCharsets.UTF_8);
    }

    /** Re-encodes every frame in Odradek; a frame that kills the tool gets an error result. */
    List<Result> reencode(List<Frame> frames) throws IOException, InterruptedException {
        List<Result> out = new ArrayList<>();
        Path in = work.resolve("reencode.in");
        Path res = work.resolve("reencode.out");
        while (out.size() < frames.size()) {
            writeFrames(in, frames.subList(out.size(), frames.size()));
            Files.deleteIfExists(res);
            Run r = run(600, "reencode", in.toString(), res.toString());
            List<Result> got = Files.exists(res) ? readResults(res) : List.of();
            out.addAll(got);
            if (out.size() < frames.size() && (r.exit() != 0 || got.isEmpty())) {
                out.add(new Result(false, ("od_codec_tool died (exit " + r.exit() + "): " + r.stderr().trim())
                    .getBytes(StandardCharsets.UTF_8)));
            }
        }
        return out;
    }

    static void writeFrames(Path p, List<Frame> frames) throws IOException {
        try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(p)))) {
            for (Frame f : frames) {
                byte[] name = f.name().getBytes(StandardCharsets.UTF_8);
                o.writeShort(name.length);
                o.write(name);
                o.writeShort(f.version());
                o.writeInt(f.bytes().length);
                o.write(f.bytes());
            }
        }
    }

    static List<Frame> readFrames(Path p) throws IOException {
        List<Frame> out = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(p)))) {
            while (true) {
                int n;
                try {
                    n = in.readUnsignedShort();
                } catch (EOFException e) {
                    break;
                }
                try {
                    String name = new String(in.readNBytes(n), StandardCharsets.UTF_8);
                    short v = in.readShort();
                    byte[] b = readExactly(in, in.readInt());
                    out.add(new Frame(name, v, b));
                } catch (EOFException e) {
                    break; // a torn last frame from a tool that died mid-write
                }
            }
        }
        return out;
    }

    private static List<Result> readResults(Path p) throws IOException {
        List<Result> out = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(p)))) {
            while (true) {
                int status = in.read();
                if (status < 0) {
                    break;
                }
                try {
                    byte[] b = readExactly(in, in.readInt());
                    out.add(new Result(status == 0, b));
                } catch (EOFException e) {
                    break;
                }
            }
        }
        return out;
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
        if (n < 0) {
            throw new IOException("negative length in tool output");
        }
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new EOFException();
        }
        return b;
    }
}
