/*
 * od_storage_mklog: writes a sample log dir for compatibility checks with
 * Kafka's own tools (kafka.tools.DumpLogSegments):
 *
 *   od_storage_mklog DIR [--compact]
 *
 * Partition DIR/sample-0 gets several segments of plain, compressed,
 * idempotent and transactional batches, commit and abort markers (so a
 * .txnindex), producer snapshots, and a clean close; DIR gets the
 * checkpoint files and the clean-shutdown marker. --compact makes the topic
 * compacted and runs one cleaning pass before the close.
 */
#include <stdio.h>
#include <string.h>

#include "cleaner.h"
#include "log_dir.h"
#include "records/batch_builder.h"

static int put(od_log *log, int64_t pid, int32_t seq, bool txn, od_compression codec, int n,
               int64_t ts)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.producer_id = pid;
    p.producer_epoch = pid >= 0 ? 0 : -1;
    p.base_sequence = seq;
    p.transactional = txn;
    p.compression = codec;
    od_builder_record r[8];
    char k[8][16], v[8][64];
    for (int i = 0; i < n; i++) {
        snprintf(k[i], sizeof k[i], "key-%d", (int)((ts + i) % 7));
        snprintf(v[i], sizeof v[i], "value %lld/%d", (long long)ts, i);
        r[i] = (od_builder_record){ts + i, {(const uint8_t *)k[i], (int32_t)strlen(k[i])},
                                   {(const uint8_t *)v[i], (int32_t)strlen(v[i])}, NULL, 0};
    }
    od_writer w;
    od_writer_init(&w, 512);
    od_batch_build(&p, r, n, &w);
    od_st_err err = od_log_append_leader(log, w.buf, w.len, 3, ts, NULL);
    od_writer_free(&w);
    if (err)
        fprintf(stderr, "append: %s\n", od_st_err_name(err));
    return err ? 1 : 0;
}

static int marker(od_log *log, int64_t pid, od_control_type type, int64_t ts)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.producer_id = pid;
    p.producer_epoch = 0;
    od_writer w;
    od_writer_init(&w, 128);
    od_control_batch_build(&p, type, 5, ts, &w);
    od_st_err err = od_log_append_leader(log, w.buf, w.len, 3, ts, NULL);
    od_writer_free(&w);
    return err ? 1 : 0;
}

int main(int argc, char **argv)
{
    bool compact = argc == 3 && strcmp(argv[2], "--compact") == 0;
    if (argc != 2 && !compact) {
        fprintf(stderr, "usage: %s DIR [--compact]\n", argv[0]);
        return 2;
    }
    od_logdir *d;
    od_log *log;
    od_log_config cfg;
    od_log_config_default(&cfg);
    cfg.segment_bytes = 16 * 1024;
    cfg.index_interval_bytes = 512;
    cfg.cleanup_compact = compact;
    if (od_logdir_open(od_fio_posix(), argv[1], 64, &d) != OD_ST_OK ||
        od_logdir_open_log(d, "sample", 0, &cfg, 0, &log, NULL) != OD_ST_OK)
        return 1;
    int bad = 0;
    int64_t ts = 1700000000000LL;
    int32_t seq = 0;
    od_compression codecs[] = {OD_COMPRESSION_NONE, OD_COMPRESSION_GZIP, OD_COMPRESSION_SNAPPY,
                               OD_COMPRESSION_LZ4, OD_COMPRESSION_ZSTD};
    for (int i = 0; i < 400 && !bad; i++) {
        ts += 10;
        switch (i % 8) {
        case 0: case 1: case 2:
            bad |= put(log, -1, -1, false, codecs[i % 5], 1 + i % 4, ts);
            break;
        case 3: case 4:
            bad |= put(log, 1000, seq, false, codecs[(i / 8) % 5], 3, ts);
            seq += 3;
            break;
        case 5:
            bad |= put(log, 2000 + i, 0, true, OD_COMPRESSION_NONE, 2, ts);
            break;
        case 6:
            bad |= marker(log, 2000 + i - 1, (i / 8) % 2 ? OD_CONTROL_ABORT : OD_CONTROL_COMMIT, ts);
            break;
        case 7:
            bad |= put(log, -1, -1, false, OD_COMPRESSION_NONE, 1, ts - 5000); /* older ts */
            break;
        }
    }
    od_log_set_high_watermark(log, od_log_end_offset(log));
    if (compact) {
        od_clean_stats st;
        if (od_log_clean(log, ts, &st) != OD_ST_OK)
            return 1;
        printf("compacted %d segments: %lld of %lld records removed, %lld -> %lld bytes\n",
               st.segments_cleaned, (long long)st.records_removed, (long long)st.records_read,
               (long long)st.bytes_before, (long long)st.bytes_after);
    }
    od_uuid id = {{0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
    od_partition_metadata_write(od_fio_posix(), od_log_dir(log), &id);
    od_meta_properties m = {.version = 1, .node_id = 1};
    strcpy(m.cluster_id, "WmEBAgMEBQYHCAkKCwwNDg");
    strcpy(m.directory_id, "AAAAAAAAAAAAAAAAAAAAAQ");
    od_meta_properties_write(od_fio_posix(), argv[1], &m);
    printf("log end %lld, %zu segments\n", (long long)od_log_end_offset(log), od_log_segment_count(log));
    return od_logdir_close(d, 1) != OD_ST_OK || bad;
}
