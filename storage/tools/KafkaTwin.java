/*
 * KafkaTwin: replays the batches of one of our segment files into a segment
 * written by Kafka's own LogSegment class, so the .log, .index and
 * .timeindex files can be compared byte for byte (see kafka_twin.sh).
 *
 *   java -cp 'KAFKA_LIB/*:.' KafkaTwin OUR_SEGMENT.log OUT_DIR INDEX_INTERVAL INDEX_BYTES sealed|active
 *
 * One Kafka append per batch: Kafka 3.9 indexes batch by batch, so the
 * grouping of appends does not change the indexes.
 */
import java.io.File;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.record.FileLogInputStream.FileChannelRecordBatch;
import org.apache.kafka.common.record.FileRecords;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.storage.internals.log.LogConfig;
import org.apache.kafka.storage.internals.log.LogSegment;

public class KafkaTwin {
    public static void main(String[] args) throws Exception {
        File ours = new File(args[0]);
        File out = new File(args[1]);
        out.mkdirs();
        long base = Long.parseLong(ours.getName().substring(0, 20));
        Map<String, Object> props = new HashMap<>();
        props.put("index.interval.bytes", args[2]);
        props.put("segment.index.bytes", args[3]);
        LogConfig cfg = new LogConfig(props);
        LogSegment seg = LogSegment.open(out, base, cfg, Time.SYSTEM, false, 0, false, "");
        try (FileRecords fr = FileRecords.open(ours); RandomAccessFile raf = new RandomAccessFile(ours, "r")) {
            for (FileChannelRecordBatch b : fr.batches()) {
                byte[] bytes = new byte[b.sizeInBytes()];
                raf.seek(b.position());
                raf.readFully(bytes);
                seg.append(b.lastOffset(), MemoryRecords.readableRecords(ByteBuffer.wrap(bytes)));
            }
        }
        if (args[4].equals("sealed"))
            seg.onBecomeInactiveSegment();
        seg.close();
    }
}
