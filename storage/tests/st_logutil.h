/* Helpers for tests that drive a whole partition log. */
#ifndef ODRADEK_STORAGE_LOGUTIL_H
#define ODRADEK_STORAGE_LOGUTIL_H

#include "od_test.h"
#include "partition_log.h"
#include "st_testutil.h"

/* REQUIRE evaluates its condition twice; this evaluates `expr` once. */
#define REQUIRE_OK(expr)                                                             \
    do {                                                                             \
        od_st_err req_err_ = (expr);                                                 \
        CHECKF(req_err_ == OD_ST_OK, "%s: %s", #expr, od_st_err_name(req_err_));    \
        if (req_err_ != OD_ST_OK)                                                    \
            return;                                                                  \
    } while (0)

static inline od_log *st_open(const char *dir, const od_log_config *cfg, od_fio *io, bool clean,
                              int64_t recovery_point, od_log_recovery_stats *stats, od_st_err *err)
{
    od_log_open_args a = {0};
    a.io = io ? io : od_fio_posix();
    a.log_dir = dir;
    a.topic = "t";
    a.partition = 0;
    a.config = cfg;
    a.had_clean_shutdown = clean;
    a.recovery_point = recovery_point;
    a.log_start_offset = -1;
    a.now_ms = 1000;
    od_log *log = NULL;
    od_st_err e = od_log_open(&a, &log, stats);
    if (err)
        *err = e;
    return e == OD_ST_OK ? log : NULL;
}

/* Appends `batches` batches of `recs` records as leader; record values are
 * seeded by their final offset so st_check_contents can recognise them.
 * Timestamps: ts0 + 10 * offset. Returns the first error. */
static inline od_st_err st_append(od_log *log, int batches, int recs, size_t value_size, int32_t epoch)
{
    for (int b = 0; b < batches; b++) {
        int64_t leo = od_log_end_offset(log);
        od_writer w;
        od_writer_init(&w, 256);
        st_build_batch(&w, 0, recs, 10 * leo, 10, value_size, (uint64_t)leo);
        od_st_err err = od_log_append_leader(log, w.buf, w.len, epoch, 5000, NULL);
        od_writer_free(&w);
        if (err)
            return err;
    }
    return OD_ST_OK;
}

/* Walks the records of whole batches in buf from offset `from` on, checking
 * CRCs, contiguity and values. Returns the next expected offset, or -1. */
static inline int64_t st_check_batches(const uint8_t *buf, size_t len, int64_t expect, size_t value_size)
{
    size_t pos = 0;
    uint8_t *want = malloc(value_size ? value_size : 1);
    while (len - pos >= OD_BATCH_HEADER_SIZE) {
        size_t total = od_batch_total_size(buf + pos, len - pos);
        if (total > len - pos)
            break; /* a partial trailing batch, as Kafka serves */
        od_batch_header h;
        if (od_batch_validate(buf + pos, total, &h) != OD_BATCH_OK) {
            free(want);
            return -1;
        }
        if (h.base_offset > expect || od_batch_last_offset(&h) < expect) {
            /* the first batch may start before `expect`; later ones must follow on */
            free(want);
            return -1;
        }
        od_reader r;
        od_reader_init(&r, buf + pos + OD_BATCH_HEADER_SIZE, total - OD_BATCH_HEADER_SIZE, NULL);
        for (int i = 0; i < h.record_count; i++) {
            int32_t rl = od_read_varint(&r);
            const uint8_t *rec = od_read_raw(&r, (size_t)rl);
            od_reader rr;
            od_reader_init(&rr, rec, (size_t)rl, NULL);
            od_read_i8(&rr);
            od_read_varlong(&rr);
            int32_t od = od_read_varint(&rr);
            od_read_varint(&rr);
            int32_t vl = od_read_varint(&rr);
            const uint8_t *v = od_read_raw(&rr, (size_t)vl);
            int64_t off = h.base_offset + od;
            st_fill_value(want, value_size, (uint64_t)off);
            if (r.err || rr.err || (size_t)vl != value_size || memcmp(v, want, value_size) != 0) {
                free(want);
                return -1;
            }
        }
        expect = od_batch_last_offset(&h) + 1;
        pos += total;
    }
    free(want);
    return expect;
}

/* Reads the whole log [from, log end) through od_log_read and checks every
 * record. Returns the offset reached, or -1 on any mismatch. */
static inline int64_t st_check_contents(od_log *log, int64_t from, size_t value_size)
{
    int64_t next = from;
    int64_t leo = od_log_end_offset(log);
    while (next < leo) {
        od_log_read_result r;
        if (od_log_read(log, next, 1 << 20, -1, true, &r) != OD_ST_OK || r.region.length == 0)
            return -1;
        uint8_t *b = st_read_region(r.region.fd, r.region.position, r.region.length);
        int64_t n = b ? st_check_batches(b, (size_t)r.region.length, next, value_size) : -1;
        free(b);
        od_log_read_release(log, &r);
        if (n <= next)
            return -1;
        next = n;
    }
    return next;
}

/* Every segment's indexes agree with its .log. */
static inline bool st_verify_all(od_log *log)
{
    for (size_t i = 0; i < od_log_segment_count(log); i++) {
        char why[256];
        if (od_segment_verify(od_log_segment_at(log, i), why, sizeof why) != OD_ST_OK) {
            fprintf(stderr, "segment %zu: %s\n", i, why);
            return false;
        }
    }
    return true;
}

static inline int64_t st_file_size(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/t-0/%s", dir, name);
    od_fio_stat st;
    od_fio *io = od_fio_posix();
    return io->m->stat(io, p, &st) == 0 ? st.size : -1;
}

#endif
