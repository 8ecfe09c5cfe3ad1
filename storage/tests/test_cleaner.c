/* Kafka's cleaner semantics on top of the compaction pass: choosing a log
 * (dirty ratio, compaction lags, checkpoint), KIP-534 delete horizons,
 * aborted transactions and their markers, merged segment groups, and a
 * crash at every write of a horizon rewrite and of a merged swap. */
#include <errno.h>

#include "cleaner.h"
#include "log_dir.h"
#include "records/batch_builder.h"
#include "records/records.h"
#include "st_logutil.h"

/* One batch of the log as a test sees it. */
typedef struct seen_batch {
    od_batch_header h;
    int nrec;
    int ntomb;
    bool crc_ok;
    int64_t first_rec_ts;  /* timestamp of its first record, as a consumer reads it */
    int64_t first_rec_off;
    char keys[8][16];
} seen_batch;

/* Decodes every whole batch of the log; returns the count or -1. */
static int all_batches(od_log *log, seen_batch *out, int cap)
{
    int n = 0;
    int64_t next = od_log_start_offset(log), leo = od_log_end_offset(log);
    while (next < leo) {
        od_log_read_result r;
        if (od_log_read(log, next, 1 << 20, -1, true, &r) != OD_ST_OK || r.region.length == 0)
            return -1;
        uint8_t *b = st_read_region(r.region.fd, r.region.position, r.region.length);
        size_t pos = 0, len = (size_t)r.region.length;
        int64_t last = next - 1;
        while (b && len - pos >= OD_BATCH_HEADER_SIZE) {
            size_t total = od_batch_total_size(b + pos, len - pos);
            if (total > len - pos)
                break;
            if (n < cap) {
                seen_batch *sb = &out[n];
                memset(sb, 0, sizeof *sb);
                od_batch_header_parse(b + pos, total, &sb->h);
                sb->crc_ok = od_batch_crc_ok(b + pos, total);
                sb->first_rec_ts = -1;
                od_record_iter it;
                od_record rec;
                if (od_record_iter_init(&it, b + pos, total, 1 << 24) == OD_BATCH_OK) {
                    while (od_record_iter_next(&it, &rec)) {
                        if (sb->nrec == 0) {
                            sb->first_rec_ts = rec.timestamp;
                            sb->first_rec_off = rec.offset;
                        }
                        if (sb->nrec < 8)
                            snprintf(sb->keys[sb->nrec], 16, "%.*s",
                                     rec.key.len > 0 ? (int)rec.key.len : 0,
                                     rec.key.len > 0 ? (const char *)rec.key.ptr : "");
                        sb->nrec++;
                        sb->ntomb += rec.value.len < 0;
                    }
                }
                od_record_iter_finish(&it);
                last = od_batch_last_offset(&sb->h);
                n++;
            }
            pos += total;
        }
        free(b);
        od_log_read_release(log, &r);
        if (last < next)
            return -1;
        next = last + 1;
    }
    return n;
}

/* Appends one batch of "key<k>" records (tombstones when tomb). */
static od_st_err put(od_log *log, const int *keys, int n, bool tomb, int64_t ts, int64_t pid,
                     int32_t seq, bool txn)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.producer_id = pid;
    p.producer_epoch = pid >= 0 ? 0 : -1;
    p.base_sequence = seq;
    p.transactional = txn;
    od_builder_record r[8];
    char kbuf[8][16];
    for (int i = 0; i < n; i++) {
        snprintf(kbuf[i], 16, "key%d", keys[i]);
        r[i] = (od_builder_record){ts + i, {(const uint8_t *)kbuf[i], (int32_t)strlen(kbuf[i])},
                                   tomb ? (od_bytes){NULL, -1} : (od_bytes){(const uint8_t *)"val", 3},
                                   NULL, 0};
    }
    od_writer w;
    od_writer_init(&w, 256);
    od_batch_build(&p, r, n, &w);
    od_st_err err = od_log_append_leader(log, w.buf, w.len, 0, ts, NULL);
    od_writer_free(&w);
    return err;
}

static od_st_err marker(od_log *log, int64_t pid, od_control_type type, int64_t ts)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.producer_id = pid;
    p.producer_epoch = 0;
    od_writer w;
    od_writer_init(&w, 128);
    od_control_batch_build(&p, type, 1, ts, &w);
    od_st_err err = od_log_append_leader(log, w.buf, w.len, 0, ts, NULL);
    od_writer_free(&w);
    return err;
}

static od_log_config cfg_compact(void)
{
    od_log_config c;
    od_log_config_default(&c);
    c.cleanup_compact = true;
    c.cleanup_delete = false;
    c.segment_bytes = 600;
    c.index_interval_bytes = 128;
    c.segment_index_bytes = 4096;
    c.delete_retention_ms = 1000;
    return c;
}

static void seal(od_log *log)
{
    od_log_roll(log, 0);
    od_log_set_high_watermark(log, od_log_end_offset(log));
}

static void count_aborted(void *ctx, const od_aborted_txn *t)
{
    (void)t;
    (*(int *)ctx)++;
}

/* ------------------------------------------------------------ KIP-534 */

static void test_delete_horizon(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = cfg_compact();
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    for (int i = 0; i < 6; i++)
        REQUIRE_OK(put(log, (int[]){i % 3, 5}, 2, false, 100 + i, -1, -1, false));
    REQUIRE_OK(put(log, (int[]){0}, 1, true, 300, -1, -1, false)); /* tombstone for key0 */
    seal(log);
    od_clean_stats st;
    REQUIRE_OK(od_log_clean(log, 5000, &st));
    CHECK(st.batches_horizon_set >= 1);
    seen_batch b[64];
    int n = all_batches(log, b, 64);
    REQUIRE(n > 0);
    int tomb_batches = 0;
    for (int i = 0; i < n; i++) {
        CHECK(b[i].crc_ok);
        if (b[i].ntomb > 0) {
            tomb_batches++;
            /* Rewritten once: the horizon bit and baseTimestamp = now +
             * delete.retention.ms, record timestamps unchanged for readers. */
            CHECK(b[i].h.attributes & OD_BATCH_ATTR_DELETE_HORIZON);
            CHECK_EQ_INT(b[i].h.base_timestamp, 5000 + 1000);
            CHECK_EQ_INT(b[i].first_rec_ts, 300);
            CHECK_EQ_INT(b[i].h.max_timestamp, 300);
        } else {
            CHECK(!(b[i].h.attributes & OD_BATCH_ATTR_DELETE_HORIZON));
        }
        for (int k = 0; k < b[i].nrec && k < 8; k++)
            CHECK(b[i].ntomb > 0 || strcmp(b[i].keys[k], "key0") != 0);
    }
    CHECK_EQ_INT(tomb_batches, 1);
    CHECK(st_verify_all(log));

    /* Before the horizon a later pass keeps the tombstone and does not
     * restamp it. */
    REQUIRE_OK(put(log, (int[]){1}, 1, false, 400, -1, -1, false));
    seal(log);
    REQUIRE_OK(od_log_clean(log, 5500, &st));
    CHECK_EQ_INT(st.batches_horizon_set, 0);
    n = all_batches(log, b, 64);
    tomb_batches = 0;
    for (int i = 0; i < n; i++)
        if (b[i].ntomb > 0) {
            tomb_batches++;
            CHECK_EQ_INT(b[i].h.base_timestamp, 6000);
        }
    CHECK_EQ_INT(tomb_batches, 1);

    /* Once now >= horizon the next pass removes it. */
    REQUIRE_OK(put(log, (int[]){2}, 1, false, 500, -1, -1, false));
    seal(log);
    REQUIRE_OK(od_log_clean(log, 6000, &st));
    n = all_batches(log, b, 64);
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(b[i].ntomb, 0);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

/* ----------------------------------------------------- transactions */

static void test_aborted_transactions(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = cfg_compact();
    cfg.segment_bytes = 100000;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    /* Producer 7 aborts a transaction, producer 8 commits one, 9 writes
     * plainly. */
    REQUIRE_OK(put(log, (int[]){1, 2}, 2, false, 100, 7, 0, true));
    REQUIRE_OK(put(log, (int[]){3}, 1, false, 100, 8, 0, true));
    REQUIRE_OK(put(log, (int[]){4}, 1, false, 100, -1, -1, false));
    REQUIRE_OK(put(log, (int[]){1}, 1, false, 101, 7, 2, true));
    REQUIRE_OK(marker(log, 7, OD_CONTROL_ABORT, 110));
    REQUIRE_OK(marker(log, 8, OD_CONTROL_COMMIT, 110));
    /* Producer 7 carries on, so its aborted batch is not its last one (a
     * producer's last batch stays, even emptied, as in Kafka). */
    REQUIRE_OK(put(log, (int[]){6}, 1, false, 115, 7, 3, true));
    REQUIRE_OK(marker(log, 7, OD_CONTROL_COMMIT, 116));
    REQUIRE_OK(put(log, (int[]){5}, 1, false, 120, -1, -1, false));
    seal(log);
    int aborted = 0;
    REQUIRE_OK(od_log_collect_aborted(log, 0, od_log_end_offset(log), count_aborted, &aborted));
    CHECK_EQ_INT(aborted, 1);

    /* Pass 1: the aborted data goes; its marker stays (this pass saw the
     * data), and so does its .txnindex entry. The COMMIT stays too. */
    od_clean_stats st;
    REQUIRE_OK(od_log_clean(log, 1000, &st));
    CHECK_EQ_INT(st.aborted_batches_removed, 2);
    seen_batch b[32];
    int n = all_batches(log, b, 32);
    int markers = 0, data7 = 0;
    for (int i = 0; i < n; i++) {
        CHECK(b[i].crc_ok);
        if (od_batch_is_control(&b[i].h))
            markers++;
        else if (b[i].h.producer_id == 7)
            data7 += b[i].nrec;
    }
    CHECK_EQ_INT(markers, 3);
    CHECK_EQ_INT(data7, 1); /* only the committed record */
    aborted = 0;
    REQUIRE_OK(od_log_collect_aborted(log, 0, od_log_end_offset(log), count_aborted, &aborted));
    CHECK_EQ_INT(aborted, 1);
    CHECK(st_verify_all(log));

    /* Pass 2: no data of the aborted transaction is left, so its marker
     * gets a delete horizon and its .txnindex entry goes. */
    REQUIRE_OK(put(log, (int[]){4}, 1, false, 130, -1, -1, false));
    seal(log);
    REQUIRE_OK(od_log_clean(log, 2000, &st));
    n = all_batches(log, b, 32);
    markers = 0;
    for (int i = 0; i < n; i++)
        if (od_batch_is_control(&b[i].h) && b[i].h.producer_id == 7 &&
            b[i].h.base_offset == 5) {
            markers++;
            CHECK(b[i].h.attributes & OD_BATCH_ATTR_DELETE_HORIZON);
            CHECK_EQ_INT(b[i].h.base_timestamp, 3000);
            CHECK(b[i].crc_ok);
        }
    CHECK_EQ_INT(markers, 1);
    aborted = 0;
    REQUIRE_OK(od_log_collect_aborted(log, 0, od_log_end_offset(log), count_aborted, &aborted));
    CHECK_EQ_INT(aborted, 0);

    /* Pass 3, past the horizon: the ABORT marker goes. */
    REQUIRE_OK(put(log, (int[]){5}, 1, false, 140, -1, -1, false));
    seal(log);
    REQUIRE_OK(od_log_clean(log, 3000, &st));
    n = all_batches(log, b, 32);
    markers = 0;
    for (int i = 0; i < n; i++)
        markers += od_batch_is_control(&b[i].h) && b[i].h.producer_id == 7 && b[i].h.base_offset == 5;
    CHECK_EQ_INT(markers, 0);
    /* The COMMIT markers whose data is still there stay. */
    markers = 0;
    for (int i = 0; i < n; i++)
        markers += od_batch_is_control(&b[i].h);
    CHECK(markers >= 1);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    /* Reopened, the txnindex and the log still agree. */
    log = st_open(dir, &cfg, NULL, true, 0, NULL, NULL);
    REQUIRE(log);
    aborted = 0;
    REQUIRE_OK(od_log_collect_aborted(log, 0, od_log_end_offset(log), count_aborted, &aborted));
    CHECK_EQ_INT(aborted, 0);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

/* ------------------------------------------------------------ grouping */

static void test_groups_merge(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = cfg_compact();
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    for (int i = 0; i < 80; i++)
        REQUIRE_OK(put(log, (int[]){i % 4}, 1, false, 100 + i, -1, -1, false));
    seal(log);
    size_t before = od_log_segment_count(log);
    CHECK(before > 6);
    od_clean_stats st;
    REQUIRE_OK(od_log_clean(log, 1000, &st));
    /* First pass: sizes before cleaning decide, so nothing merges yet. */
    CHECK_EQ_INT(od_log_segment_count(log), before);
    /* Second pass: the small cleaned segments merge into one. */
    REQUIRE_OK(put(log, (int[]){1}, 1, false, 300, -1, -1, false));
    seal(log);
    size_t mid = od_log_segment_count(log);
    REQUIRE_OK(od_log_clean(log, 1000, &st));
    CHECK(st.groups >= 1 && st.groups < st.segments_cleaned);
    CHECK(od_log_segment_count(log) < mid);
    seen_batch b[128];
    int n = all_batches(log, b, 128);
    CHECK(n >= 4);
    for (int i = 1; i < n; i++)
        CHECK(b[i].h.base_offset > od_batch_last_offset(&b[i - 1].h));
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    log = st_open(dir, &cfg, NULL, true, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(all_batches(log, b, 128), n);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_group_size_rules(void)
{
    od_seg_ctx ctx = {0};
    od_segment s[4];
    od_segment *p[4];
    for (int i = 0; i < 4; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].ctx = &ctx;
        s[i].base_offset = i * 100;
        s[i].size = 300;
        s[i].oidx_n = 2;
        s[i].tidx_n = 2;
        p[i] = &s[i];
    }
    CHECK_EQ_INT(od_cleaner_group_size(p, 4, 1000, 4096, 400), 3);  /* 3 x 300 <= 1000 */
    CHECK_EQ_INT(od_cleaner_group_size(p, 4, 600, 4096, 400), 2);
    CHECK_EQ_INT(od_cleaner_group_size(p, 4, 1 << 30, 48, 400), 2); /* 3 x 24 > 48 for timeindex */
    CHECK_EQ_INT(od_cleaner_group_size(p, 4, 1 << 30, 40, 400), 1);
    s[2].base_offset = (int64_t)INT32_MAX + 50;                     /* offsets past 32 bits */
    s[3].base_offset = (int64_t)INT32_MAX + 500;
    CHECK_EQ_INT(od_cleaner_group_size(p, 4, 1 << 30, 4096, (int64_t)INT32_MAX + 600), 1);
    s[1].size = 0; /* an empty segment never breaks a group on offsets */
    CHECK_EQ_INT(od_cleaner_group_size(p, 4, 1 << 30, 4096, (int64_t)INT32_MAX + 600), 2);
}

/* ----------------------------------------------------------- scheduling */

static void test_cleanable_state(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = cfg_compact();
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    for (int i = 0; i < 40; i++)
        REQUIRE_OK(put(log, (int[]){i % 4}, 1, false, 1000 + i * 10, -1, -1, false));
    seal(log);
    od_log_cleanable cs;
    REQUIRE_OK(od_log_cleanable_state(log, 10000, &cs));
    CHECK_EQ_INT(cs.first_dirty, 0);
    CHECK_EQ_INT(cs.first_uncleanable, od_log_segment_at(log, od_log_segment_count(log) - 1)->base_offset);
    CHECK_EQ_INT(cs.clean_bytes, 0);
    CHECK(cs.ratio > 0.99 && cs.cleanable);

    /* The high watermark (LSO) bounds it, down to a segment base. */
    int64_t mid = od_log_segment_at(log, 2)->base_offset;
    od_log_set_high_watermark(log, mid + 1);
    REQUIRE_OK(od_log_cleanable_state(log, 10000, &cs));
    CHECK_EQ_INT(cs.first_uncleanable, mid);
    od_log_set_high_watermark(log, od_log_end_offset(log));

    /* min.compaction.lag.ms: segments with newer records are not cleanable. */
    cfg.min_compaction_lag_ms = 10000 - 1200;
    od_log_set_config(log, &cfg);
    REQUIRE_OK(od_log_cleanable_state(log, 10000, &cs));
    CHECK(cs.first_uncleanable > 0);
    CHECK(cs.first_uncleanable < od_log_end_offset(log));
    for (size_t i = 0; i + 1 < od_log_segment_count(log); i++) {
        od_segment *s = od_log_segment_at(log, i);
        if (s->base_offset < cs.first_uncleanable)
            CHECK(od_segment_largest_timestamp(s) <= 1200);
    }
    cfg.min_compaction_lag_ms = 0;

    /* After a pass the ratio is low and the log is not chosen... */
    od_log_set_config(log, &cfg);
    REQUIRE_OK(od_log_clean(log, 10000, NULL));
    REQUIRE_OK(put(log, (int[]){1}, 1, false, 2000, -1, -1, false));
    seal(log);
    REQUIRE_OK(od_log_cleanable_state(log, 10000, &cs));
    CHECK(cs.clean_bytes > 0);
    CHECK(cs.ratio < 0.5 && !cs.cleanable);
    CHECK_EQ_INT(cs.compaction_delay_ms, 0);
    /* ...unless max.compaction.lag.ms says the dirty part waited too long. */
    cfg.max_compaction_lag_ms = 5000;
    od_log_set_config(log, &cfg);
    REQUIRE_OK(od_log_cleanable_state(log, 10000, &cs));
    CHECK_EQ_INT(cs.compaction_delay_ms, 10000 - 5000 - 2000);
    CHECK(cs.cleanable);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

typedef struct lock_trace {
    int locks, unlocks, depth, max_depth;
} lock_trace;

static void t_lock(void *ctx, od_log *l)
{
    (void)l;
    lock_trace *t = ctx;
    t->locks++;
    if (++t->depth > t->max_depth)
        t->max_depth = t->depth;
}

static void t_unlock(void *ctx, od_log *l)
{
    (void)l;
    lock_trace *t = ctx;
    t->unlocks++;
    t->depth--;
}

static void fill(od_log *log, int nbatches, int nkeys, int64_t ts)
{
    for (int i = 0; i < nbatches; i++)
        if (put(log, (int[]){i % nkeys}, 1, false, ts + i, -1, -1, false) != OD_ST_OK)
            return;
    seal(log);
}

static void test_run_once_picks_filthiest(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_logdir *d;
    REQUIRE_OK(od_logdir_open(od_fio_posix(), dir, 64, &d));
    od_log_config cc = cfg_compact(), plain;
    od_log_config_default(&plain);
    od_log *a, *b, *c;
    REQUIRE_OK(od_logdir_open_log(d, "a", 0, &cc, 1000, &a, NULL));
    REQUIRE_OK(od_logdir_open_log(d, "b", 0, &cc, 1000, &b, NULL));
    REQUIRE_OK(od_logdir_open_log(d, "c", 0, &plain, 1000, &c, NULL));
    fill(a, 30, 3, 100);
    fill(b, 30, 3, 100);
    fill(c, 30, 3, 100);
    /* Clean a once; with a little new data its ratio is the lower one. */
    REQUIRE_OK(od_log_clean(a, 1000, NULL));
    fill(a, 2, 3, 200);
    od_log_cleanable sa, sb;
    REQUIRE_OK(od_log_cleanable_state(a, 1000, &sa));
    REQUIRE_OK(od_log_cleanable_state(b, 1000, &sb));
    CHECK(sb.ratio > sa.ratio);
    lock_trace t = {0};
    od_cleaner_hooks hooks = {t_lock, t_unlock, &t};
    od_cleaner_round r;
    REQUIRE_OK(od_logdir_cleaner_run_once(d, 1000, &hooks, &r));
    CHECK(r.cleaned == b);
    CHECK(!r.forced);
    CHECK(r.stats.records_removed > 0);
    CHECK_EQ_INT(t.locks, t.unlocks);
    CHECK_EQ_INT(t.max_depth, 1);
    CHECK(t.locks >= 3); /* a and b inspected, b cleaned; c (delete policy) untouched */
    /* The checkpoint names both compacted logs with their cleaner offsets. */
    od_tp_offset *e;
    size_t ne;
    REQUIRE_OK(od_ckpt_read_offsets(od_fio_posix(), dir, OD_CKPT_CLEANER, &e, &ne));
    CHECK_EQ_INT(ne, 2);
    for (size_t i = 0; i < ne; i++) {
        od_log *l = strcmp(e[i].topic, "a") == 0 ? a : b;
        CHECK_EQ_INT(e[i].offset, od_log_cleaner_offset(l));
    }
    od_ckpt_free_offsets(e, ne);
    CHECK_EQ_INT(od_log_cleaner_offset(b), od_log_end_offset(b));
    /* Now a is the dirtiest above 0.5? It is not, so nothing is cleaned. */
    REQUIRE_OK(od_logdir_cleaner_run_once(d, 1000, NULL, &r));
    CHECK(r.cleaned == NULL || r.cleaned == a);
    /* compact+delete: retention runs in the cleaner round too. (By size:
     * segments emptied by cleaning date from their file's mtime, as in
     * Kafka, so time-based retention would need the real clock.) */
    cc.cleanup_delete = true;
    cc.retention_bytes = 1;
    od_log_set_config(a, &cc);
    REQUIRE_OK(od_logdir_cleaner_run_once(d, 100000, NULL, &r));
    CHECKF(r.segments_deleted > 0, "%d segments deleted, %zu left", r.segments_deleted,
           od_log_segment_count(a));

    REQUIRE_OK(od_logdir_close(d, 1));
    /* The checkpoint is read back at the next open. */
    REQUIRE_OK(od_logdir_open(od_fio_posix(), dir, 64, &d));
    REQUIRE_OK(od_logdir_open_log(d, "b", 0, &cc, 1000, &b, NULL));
    CHECK_EQ_INT(od_log_cleaner_offset(b), od_log_end_offset(b));
    REQUIRE_OK(od_logdir_close(d, 1));
    st_rmtree(dir);
}

/* -------------------------------------------------------------- crashes */

typedef void (*build_fn)(od_log *log);

static void build_horizon_case(od_log *log)
{
    for (int i = 0; i < 24; i++)
        if (put(log, (int[]){i % 4}, 1, i % 5 == 4 || i >= 22, 100 + i, -1, -1, false) != OD_ST_OK)
            return;
}

/* Cleans once (small segments), then adds a little so the second pass
 * merges the cleaned ones. */
static void build_merge_case(od_log *log)
{
    build_horizon_case(log);
    seal(log);
    od_log_clean(log, 500, NULL);
    for (int i = 0; i < 3; i++)
        if (put(log, (int[]){i}, 1, false, 200 + i, -1, -1, false) != OD_ST_OK)
            return;
}

/* The latest record of each key (tombstones included), read back. */
static void latest_of(od_log *log, int64_t *latest, bool *tomb)
{
    for (int k = 0; k < 4; k++) {
        latest[k] = -1;
        tomb[k] = false;
    }
    seen_batch b[128];
    int n = all_batches(log, b, 128);
    (void)n;
    /* Walk records again for offsets per key. */
    int64_t next = od_log_start_offset(log), leo = od_log_end_offset(log);
    while (next < leo) {
        od_log_read_result r;
        if (od_log_read(log, next, 1 << 20, -1, true, &r) != OD_ST_OK || r.region.length == 0)
            return;
        uint8_t *buf = st_read_region(r.region.fd, r.region.position, r.region.length);
        size_t pos = 0, len = (size_t)r.region.length;
        int64_t last = next - 1;
        while (buf && len - pos >= OD_BATCH_HEADER_SIZE) {
            size_t total = od_batch_total_size(buf + pos, len - pos);
            if (total > len - pos)
                break;
            od_record_iter it;
            od_record rec;
            if (od_record_iter_init(&it, buf + pos, total, 1 << 24) == OD_BATCH_OK) {
                while (od_record_iter_next(&it, &rec)) {
                    int k;
                    if (rec.key.len > 3 && sscanf((const char *)rec.key.ptr + 3, "%d", &k) == 1 &&
                        k >= 0 && k < 4 && rec.offset > latest[k]) {
                        latest[k] = rec.offset;
                        tomb[k] = rec.value.len < 0;
                    }
                }
                last = od_batch_last_offset(&it.header);
            }
            od_record_iter_finish(&it);
            pos += total;
        }
        free(buf);
        od_log_read_release(log, &r);
        if (last < next)
            return;
        next = last + 1;
    }
}

static int count_suffix_cb_n;
static const char *count_suffix_cb_sfx;
static int count_suffix_cb(void *ctx, const char *name)
{
    (void)ctx;
    size_t a = strlen(name), b = strlen(count_suffix_cb_sfx);
    if (a >= b && strcmp(name + a - b, count_suffix_cb_sfx) == 0)
        count_suffix_cb_n++;
    return 0;
}

static int count_suffix(const char *dir, const char *sfx)
{
    count_suffix_cb_n = 0;
    count_suffix_cb_sfx = sfx;
    od_fio_posix()->m->readdir(od_fio_posix(), dir, count_suffix_cb, NULL);
    return count_suffix_cb_n;
}

/* Runs build, then one pass at now = 500 that dies after `calls` mutating
 * calls; returns how many the pass made and the model before it. */
static void crash_run(const char *dir, build_fn build, int64_t calls, int64_t *made,
                      int64_t *latest, bool *tomb, od_clean_stats *st)
{
    od_log_config cfg = cfg_compact();
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    f.skip_fsync = true;
    od_log *log = st_open(dir, &cfg, &f.io, false, 0, NULL, NULL);
    if (!log)
        return;
    build(log);
    seal(log);
    od_log_flush(log, 0);
    latest_of(log, latest, tomb);
    int64_t before = f.mutating_calls;
    f.crash_after_calls = calls < 0 ? -1 : before + calls;
    od_log_clean(log, 500, st);
    *made = f.mutating_calls - before;
    od_log_close(log, false);
}

static void crash_every_write(build_fn build, const char *what)
{
    char dir[256];
    int64_t total = 0, latest[4], got[4];
    bool tomb[4], gtomb[4];
    od_clean_stats st;
    st_tmpdir(dir);
    crash_run(dir, build, -1, &total, latest, tomb, &st);
    st_rmtree(dir);
    /* The pass under test does what its name says. */
    if (build == build_merge_case)
        CHECKF(st.groups < st.segments_cleaned, "%d groups of %d", st.groups, st.segments_cleaned);
    else
        CHECK(st.batches_horizon_set > 0);
    CHECKF(total > 5, "%s: %lld calls", what, (long long)total);
    if (getenv("OD_CLEANER_TEST_VERBOSE"))
        fprintf(stderr, "%s: %lld mutating calls in the pass\n", what, (long long)total);
    for (int64_t c = 0; c <= total; c++) {
        st_tmpdir(dir);
        int64_t made;
        crash_run(dir, build, c, &made, latest, tomb, &st);
        od_log_config cfg = cfg_compact();
        od_fio_fault nosync;
        od_fio_fault_init(&nosync, od_fio_posix());
        nosync.skip_fsync = true;
        od_log *log = st_open(dir, &cfg, &nosync.io, false, 0, NULL, NULL);
        REQUIRE(log);
        /* Every key's latest record is the same as before the pass. */
        latest_of(log, got, gtomb);
        for (int k = 0; k < 4; k++) {
            CHECKF(got[k] == latest[k] && gtomb[k] == tomb[k], "%s crash at %lld: key%d %lld/%lld",
                   what, (long long)c, k, (long long)got[k], (long long)latest[k]);
        }
        CHECKF(st_verify_all(log), "%s crash at %lld", what, (long long)c);
        seen_batch b[128];
        int n = all_batches(log, b, 128);
        CHECKF(n > 0, "%s crash at %lld", what, (long long)c);
        for (int i = 0; i < n; i++) {
            CHECK(b[i].crc_ok);
            if (i > 0)
                CHECKF(b[i].h.base_offset > od_batch_last_offset(&b[i - 1].h), "%s crash at %lld",
                       what, (long long)c);
        }
        char p[512];
        snprintf(p, sizeof p, "%s/t-0", dir);
        CHECK_EQ_INT(count_suffix(p, ".swap"), 0);
        CHECK_EQ_INT(count_suffix(p, ".cleaned"), 0);
        /* And the next pass completes and keeps the same latest records. */
        od_log_set_high_watermark(log, od_log_end_offset(log));
        CHECK_EQ_INT(od_log_clean(log, 500, NULL), OD_ST_OK);
        latest_of(log, got, gtomb);
        for (int k = 0; k < 4; k++)
            CHECK(got[k] == latest[k]);
        CHECK(st_verify_all(log));
        CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
        st_rmtree(dir);
    }
}

static void test_crash_during_horizon_rewrite(void)
{
    crash_every_write(build_horizon_case, "horizon");
}

static void test_crash_during_merged_swap(void)
{
    crash_every_write(build_merge_case, "merge");
}

OD_TEST_MAIN(OD_CASE(test_delete_horizon), OD_CASE(test_aborted_transactions),
             OD_CASE(test_groups_merge), OD_CASE(test_group_size_rules),
             OD_CASE(test_cleanable_state), OD_CASE(test_run_once_picks_filthiest),
             OD_CASE(test_crash_during_horizon_rewrite), OD_CASE(test_crash_during_merged_swap))
