/*
 * od_storage_bench: append throughput of one partition log, to compare with
 * dd writing the same bytes to the same disk.
 *
 *   od_storage_bench DIR [MiB] [batch KiB]
 *
 * Appends uncompressed 1 KiB-record batches as leader (validation, offset
 * assignment and index upkeep included), then one flush; prints MB/s for
 * the appends alone and including the final fsync.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "partition_log.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One v2 batch of n records of `vs` value bytes (CRC stamped). */
static void build(od_writer *w, int n, size_t vs)
{
    size_t start = w->len;
    od_write_i64(w, 0);
    size_t len_at = od_writer_skip(w, 4);
    od_write_i32(w, -1);
    od_write_i8(w, 2);
    od_writer_skip(w, 4);
    od_write_i16(w, 0);
    od_write_i32(w, n - 1);
    od_write_i64(w, 1700000000000LL);
    od_write_i64(w, 1700000000000LL);
    od_write_i64(w, -1);
    od_write_i16(w, -1);
    od_write_i32(w, -1);
    od_write_i32(w, n);
    uint8_t *v = calloc(1, vs);
    for (int i = 0; i < n; i++) {
        od_writer b;
        od_writer_init(&b, vs + 32);
        od_write_i8(&b, 0);
        od_write_varlong(&b, 0);
        od_write_varint(&b, i);
        od_write_varint(&b, -1);
        od_write_varint(&b, (int32_t)vs);
        od_write_raw(&b, v, vs);
        od_write_varint(&b, 0);
        od_write_varint(w, (int32_t)b.len);
        od_write_raw(w, b.buf, b.len);
        od_writer_free(&b);
    }
    free(v);
    od_writer_patch_i32(w, len_at, (int32_t)(w->len - start - OD_LOG_OVERHEAD));
    od_batch_restamp_crc(w->buf + start, w->len - start);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [MiB] [batch KiB]\n", argv[0]);
        return 2;
    }
    long mib = argc > 2 ? atol(argv[2]) : 512;
    int kib = argc > 3 ? atoi(argv[3]) : 16;
    od_log_config cfg;
    od_log_config_default(&cfg);
    od_log_open_args a = {0};
    a.io = od_fio_posix();
    a.log_dir = argv[1];
    a.topic = "bench";
    a.config = &cfg;
    a.log_start_offset = -1;
    od_log *log;
    od_st_err err = od_log_open(&a, &log, NULL);
    if (err) {
        fprintf(stderr, "open: %s\n", od_st_err_name(err));
        return 1;
    }
    od_writer w;
    od_writer_init(&w, (size_t)kib * 1024 + 4096);
    build(&w, kib, 1000);
    uint8_t *copy = malloc(w.len);
    long long total = 0, target = mib * 1024LL * 1024;
    double t0 = now_s();
    while (total < target) {
        memcpy(copy, w.buf, w.len); /* the leader path edits the request buffer in place */
        err = od_log_append_leader(log, copy, w.len, 0, 1700000000000LL, NULL);
        if (err) {
            fprintf(stderr, "append: %s\n", od_st_err_name(err));
            return 1;
        }
        total += (long long)w.len;
    }
    double t1 = now_s();
    err = od_log_flush(log, 0);
    double t2 = now_s();
    printf("appended %.1f MiB in %zu-byte batches: %.0f MB/s (appends), %.0f MB/s (with fsync), "
           "%zu segments\n",
           (double)total / 1048576.0, w.len, (double)total / 1e6 / (t1 - t0),
           (double)total / 1e6 / (t2 - t0), od_log_segment_count(log));
    od_log_close(log, true);
    od_writer_free(&w);
    free(copy);
    return err ? 1 : 0;
}
