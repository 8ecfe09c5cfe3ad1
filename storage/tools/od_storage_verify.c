/*
 * od_storage_verify: opens a partition directory (ours or Kafka's) the way
 * a broker does after a clean shutdown (indexes read lazily, no recovery
 * scan), checks every segment's .index and .timeindex against its .log,
 * and reads the whole log back through od_log_read.
 *
 *   od_storage_verify LOG_DIR TOPIC PARTITION [--unclean]
 *
 * --unclean re-validates every segment as after a crash instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "partition_log.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s LOG_DIR TOPIC PARTITION [--unclean]\n", argv[0]);
        return 2;
    }
    bool unclean = argc > 4 && strcmp(argv[4], "--unclean") == 0;
    od_log_config cfg;
    od_log_config_default(&cfg);
    od_log_open_args a = {0};
    a.io = od_fio_posix();
    a.log_dir = argv[1];
    a.topic = argv[2];
    a.partition = atoi(argv[3]);
    a.config = &cfg;
    a.had_clean_shutdown = !unclean;
    a.log_start_offset = -1;
    a.cleaner_offset = -1;
    od_log *log;
    od_log_recovery_stats st;
    od_st_err err = od_log_open(&a, &log, &st);
    if (err) {
        fprintf(stderr, "open: %s\n", od_st_err_name(err));
        return 1;
    }
    int bad = 0;
    for (size_t i = 0; i < od_log_segment_count(log); i++) {
        char why[256];
        if (od_segment_verify(od_log_segment_at(log, i), why, sizeof why) != OD_ST_OK) {
            fprintf(stderr, "segment %zu: %s\n", i, why);
            bad = 1;
        }
    }
    int64_t next = od_log_start_offset(log), leo = od_log_end_offset(log), bytes = 0;
    while (next < leo && !bad) {
        od_log_read_result r;
        err = od_log_read(log, next, 1 << 20, -1, true, &r);
        if (err || r.region.length == 0) {
            fprintf(stderr, "read at %lld: %s\n", (long long)next, od_st_err_name(err));
            bad = 1;
            break;
        }
        uint8_t *b = malloc((size_t)r.region.length);
        if (pread(r.region.fd, b, (size_t)r.region.length, r.region.position) != r.region.length)
            bad = 1;
        size_t pos = 0;
        int64_t last = -1;
        while (!bad && (size_t)r.region.length - pos >= OD_BATCH_HEADER_SIZE) {
            size_t total = od_batch_total_size(b + pos, (size_t)r.region.length - pos);
            od_batch_header h;
            if (total > (size_t)r.region.length - pos)
                break;
            if (od_batch_validate(b + pos, total, &h) != OD_BATCH_OK) {
                fprintf(stderr, "bad batch at offset %lld\n", (long long)next);
                bad = 1;
            }
            last = od_batch_last_offset(&h);
            pos += total;
        }
        bytes += (int64_t)pos;
        free(b);
        od_log_read_release(log, &r);
        if (last < next)
            bad = 1;
        next = last + 1;
    }
    printf("%s: %zu segments, offsets %lld..%lld, %lld bytes read, %d segments recovered: %s\n",
           od_log_dir(log), od_log_segment_count(log), (long long)od_log_start_offset(log),
           (long long)leo, (long long)bytes, st.segments_recovered, bad ? "FAILED" : "ok");
    od_log_close(log, false);
    return bad;
}
