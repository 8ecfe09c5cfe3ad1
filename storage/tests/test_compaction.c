/* Log compaction: latest value per key survives with its offset, tombstones
 * expire, producer batches keep their sequence, compressed batches are
 * recompressed, followers accept compacted data, and a crash at any point of
 * a pass loses nothing. */
#include <errno.h>

#include "cleaner.h"
#include "records/batch_builder.h"
#include "records/records.h"
#include "st_logutil.h"

typedef struct rec_view {
    int64_t offset;
    char key[16];
    char value[32]; /* "" with is_null for tombstones */
    bool is_null;
} rec_view;

/* Decodes every record in the log into out (at most cap); returns count. */
static int all_records(od_log *log, rec_view *out, int cap)
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
            od_record_iter it;
            od_record rec;
            if (od_record_iter_init(&it, b + pos, total, 1 << 24) != OD_BATCH_OK) {
                od_record_iter_finish(&it);
                free(b);
                od_log_read_release(log, &r);
                return -1;
            }
            while (od_record_iter_next(&it, &rec)) {
                if (rec.offset < next || n >= cap || od_batch_is_control(&it.header))
                    continue;
                rec_view *v = &out[n++];
                v->offset = rec.offset;
                snprintf(v->key, sizeof v->key, "%.*s", rec.key.len > 0 ? (int)rec.key.len : 0,
                         rec.key.len > 0 ? (const char *)rec.key.ptr : "");
                v->is_null = rec.value.len < 0;
                snprintf(v->value, sizeof v->value, "%.*s", rec.value.len > 0 ? (int)rec.value.len : 0,
                         rec.value.len > 0 ? (const char *)rec.value.ptr : "");
            }
            last = od_batch_last_offset(&it.header);
            od_record_iter_finish(&it);
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

/* Appends one batch of records "key<k>"="v<offset>" (value NULL: tombstone). */
static od_st_err put(od_log *log, const int *keys, int n, bool tombstone, int64_t ts,
                     od_compression codec, int64_t pid, int32_t seq)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.compression = codec;
    p.producer_id = pid;
    p.producer_epoch = pid >= 0 ? 0 : -1;
    p.base_sequence = seq;
    od_builder_record r[16];
    char kbuf[16][16], vbuf[16][32];
    int64_t leo = od_log_end_offset(log);
    for (int i = 0; i < n; i++) {
        snprintf(kbuf[i], 16, "key%d", keys[i]);
        snprintf(vbuf[i], 32, "v%lld", (long long)(leo + i));
        r[i] = (od_builder_record){ts, {(const uint8_t *)kbuf[i], (int32_t)strlen(kbuf[i])},
                                   tombstone ? (od_bytes){NULL, -1}
                                             : (od_bytes){(const uint8_t *)vbuf[i], (int32_t)strlen(vbuf[i])},
                                   NULL, 0};
    }
    od_writer w;
    od_writer_init(&w, 256);
    od_batch_build(&p, r, n, &w);
    od_st_err err = od_log_append_leader(log, w.buf, w.len, 0, ts, NULL);
    od_writer_free(&w);
    return err;
}

static od_log_config compact_cfg(void)
{
    od_log_config c;
    od_log_config_default(&c);
    c.cleanup_compact = true;
    c.cleanup_delete = false;
    c.segment_bytes = 700;
    c.index_interval_bytes = 128;
    c.segment_index_bytes = 4096;
    return c;
}

/* Latest offset per key among records, checked against a model. */
static void check_latest(rec_view *v, int n, const int64_t *latest_of_key, int nkeys)
{
    for (int k = 0; k < nkeys; k++) {
        if (latest_of_key[k] < 0)
            continue;
        int found = 0;
        for (int i = 0; i < n; i++) {
            char want[16];
            snprintf(want, sizeof want, "key%d", k);
            if (strcmp(v[i].key, want) == 0 && v[i].offset == latest_of_key[k]) {
                char val[32];
                snprintf(val, sizeof val, "v%lld", (long long)v[i].offset);
                CHECKF(v[i].is_null || strcmp(v[i].value, val) == 0, "key %d value %s", k, v[i].value);
                found++;
            }
        }
        CHECKF(found == 1, "key %d latest offset %lld found %d times", k, (long long)latest_of_key[k], found);
    }
}

static void test_compaction_keeps_latest(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = compact_cfg();
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    int64_t latest[10];
    for (int k = 0; k < 10; k++)
        latest[k] = -1;
    for (int i = 0; i < 120; i++) {
        int keys[3] = {i % 10, (i * 7) % 10, (i * 3 + 1) % 10};
        int n = 1 + i % 3;
        int64_t leo = od_log_end_offset(log);
        REQUIRE_OK(put(log, keys, n, false, 1000 + i, i % 4 == 0 ? OD_COMPRESSION_ZSTD : OD_COMPRESSION_NONE, -1, -1));
        for (int j = 0; j < n; j++)
            latest[keys[j]] = leo + j;
    }
    int64_t leo = od_log_end_offset(log);
    od_log_set_high_watermark(log, leo);
    size_t nseg = od_log_segment_count(log);
    CHECK(nseg > 5);
    int64_t size_before = od_log_size_bytes(log);
    CHECK(od_log_dirty_ratio(log) > 0.99);
    od_clean_stats st;
    REQUIRE_OK(od_log_clean(log, 10000, &st));
    CHECK_EQ_INT(st.segments_cleaned, (int)nseg - 1);
    CHECK(st.records_removed > 100);
    CHECK(od_log_size_bytes(log) < size_before / 3);
    CHECK_EQ_INT(od_log_end_offset(log), leo);
    CHECK_EQ_INT(od_log_cleaner_offset(log), od_log_segment_at(log, nseg - 1)->base_offset);
    CHECK(od_log_dirty_ratio(log) < 0.01);
    CHECK(st_verify_all(log));
    rec_view *v = calloc(1000, sizeof *v);
    int n = all_records(log, v, 1000);
    REQUIRE(n > 0);
    for (int i = 1; i < n; i++)
        CHECK(v[i].offset > v[i - 1].offset);
    check_latest(v, n, latest, 10);
    /* Below the cleaned range every key appears once. */
    int64_t cut = od_log_cleaner_offset(log);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n && v[i].offset < cut && v[j].offset < cut; j++)
            CHECKF(strcmp(v[i].key, v[j].key) != 0, "%s twice below the cleaner offset", v[i].key);
    /* Offsets of cleaned-away records read as the next surviving batch. */
    od_log_read_result r;
    REQUIRE_OK(od_log_read(log, 0, 100, -1, true, &r));
    CHECK(r.region.length > 0);
    od_log_read_release(log, &r);
    /* Timestamp lookups still work over the cleaned data. */
    int64_t off, ts;
    REQUIRE_OK(od_log_offset_for_timestamp(log, 1119, &off, &ts));
    CHECK(off >= 0);

    /* A second pass over already-clean data removes nothing more. */
    REQUIRE_OK(put(log, (int[]){1}, 1, false, 2000, OD_COMPRESSION_NONE, -1, -1));
    REQUIRE_OK(od_log_roll(log, 0));
    latest[1] = od_log_end_offset(log) - 1;
    od_log_set_high_watermark(log, od_log_end_offset(log));
    REQUIRE_OK(od_log_clean(log, 10000, &st));
    n = all_records(log, v, 1000);
    check_latest(v, n, latest, 10);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    /* Reopen: the cleaned segments load like any other. */
    log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(all_records(log, v, 1000), n);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    free(v);
    st_rmtree(dir);
}

static void test_tombstones_and_bounds(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = compact_cfg();
    cfg.delete_retention_ms = 1000;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    for (int i = 0; i < 30; i++)
        REQUIRE_OK(put(log, (int[]){i % 3}, 1, false, 100, OD_COMPRESSION_NONE, -1, -1));
    REQUIRE_OK(put(log, (int[]){0}, 1, true, 100, OD_COMPRESSION_NONE, -1, -1)); /* delete key0 */
    REQUIRE_OK(od_log_roll(log, 0));
    int64_t leo = od_log_end_offset(log);
    /* Nothing is cleaned above the high watermark. */
    od_log_set_high_watermark(log, 0);
    od_clean_stats st;
    REQUIRE_OK(od_log_clean(log, 500, &st));
    CHECK_EQ_INT(st.segments_cleaned, 0);
    od_log_set_high_watermark(log, leo);
    /* Young tombstone: kept, and it hides every older key0. */
    REQUIRE_OK(od_log_clean(log, 500, &st));
    rec_view v[64];
    int n = all_records(log, v, 64);
    int key0 = 0, tomb = 0;
    for (int i = 0; i < n; i++) {
        key0 += strcmp(v[i].key, "key0") == 0;
        tomb += v[i].is_null;
    }
    CHECK_EQ_INT(key0, 1);
    CHECK_EQ_INT(tomb, 1);
    CHECK_EQ_INT(n, 3);
    /* Past delete.retention.ms the tombstone goes too, at the next pass
     * (passes run when there is dirty data, as Kafka's do). */
    REQUIRE_OK(od_log_clean(log, 100000, &st));
    CHECK_EQ_INT(st.segments_cleaned, 0);
    REQUIRE_OK(put(log, (int[]){1}, 1, false, 100, OD_COMPRESSION_NONE, -1, -1));
    REQUIRE_OK(od_log_roll(log, 0));
    od_log_set_high_watermark(log, od_log_end_offset(log));
    REQUIRE_OK(od_log_clean(log, 100000, &st));
    n = all_records(log, v, 64);
    CHECK_EQ_INT(n, 2);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_producer_batches_survive(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = compact_cfg();
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    REQUIRE_OK(put(log, (int[]){1}, 1, false, 100, OD_COMPRESSION_NONE, 77, 0));
    REQUIRE_OK(put(log, (int[]){1}, 1, false, 100, OD_COMPRESSION_NONE, 77, 1));
    for (int i = 0; i < 20; i++)
        REQUIRE_OK(put(log, (int[]){1, 2}, 2, false, 100, OD_COMPRESSION_LZ4, -1, -1));
    REQUIRE_OK(od_log_roll(log, 0));
    od_log_set_high_watermark(log, od_log_end_offset(log));
    od_clean_stats st;
    REQUIRE_OK(od_log_clean(log, 500, &st));
    CHECK(st.records_removed > 0);
    /* Producer 77's last batch (offset 1) is empty now but still there. */
    od_log_read_result r;
    REQUIRE_OK(od_log_read(log, 0, 1 << 20, -1, true, &r));
    uint8_t *b = st_read_region(r.region.fd, r.region.position, r.region.length);
    od_batch_header h;
    REQUIRE(b && od_batch_header_parse(b, (size_t)r.region.length, &h) == OD_BATCH_OK);
    CHECK(h.producer_id == 77 && h.base_offset == 1 && h.record_count == 0 && h.last_offset_delta == 0);
    CHECK(od_batch_crc_ok(b, (size_t)r.region.length));
    free(b);
    od_log_read_release(log, &r);
    CHECK_EQ_INT(od_log_close(log, false), OD_ST_OK);
    /* After a crash (no snapshot at the end) the state is rebuilt from the
     * compacted log: producer 77 continues at sequence 2. */
    char snap[512];
    int64_t *snaps;
    size_t ns;
    snprintf(snap, sizeof snap, "%s/t-0", dir);
    REQUIRE_OK(od_pstate_list_snapshots(od_fio_posix(), snap, &snaps, &ns));
    for (size_t i = 0; i < ns; i++)
        od_pstate_delete_snapshot(od_fio_posix(), snap, snaps[i]);
    free(snaps);
    log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(put(log, (int[]){1}, 1, false, 100, OD_COMPRESSION_NONE, 77, 1), OD_ST_DUPLICATE_SEQUENCE);
    CHECK_EQ_INT(put(log, (int[]){1}, 1, false, 100, OD_COMPRESSION_NONE, 77, 2), OD_ST_OK);

    /* A follower takes the compacted bytes as they are. */
    char dir2[256];
    st_tmpdir(dir2);
    od_log *f = st_open(dir2, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(f);
    int64_t next = 0;
    while (next < od_log_end_offset(log)) {
        REQUIRE_OK(od_log_read(log, next, 1 << 20, -1, true, &r));
        b = st_read_region(r.region.fd, r.region.position, r.region.length);
        size_t whole = 0;
        while (whole + OD_LOG_OVERHEAD <= (size_t)r.region.length &&
               whole + od_batch_total_size(b + whole, (size_t)r.region.length - whole) <= (size_t)r.region.length) {
            REQUIRE(od_batch_header_parse(b + whole, (size_t)r.region.length - whole, &h) == OD_BATCH_OK);
            next = od_batch_last_offset(&h) + 1;
            whole += od_batch_total_size(b + whole, (size_t)r.region.length - whole);
        }
        od_st_err ferr = od_log_append_follower(f, b, whole, 0, NULL);
        CHECKF(ferr == OD_ST_OK, "%s", od_st_err_name(ferr));
        free(b);
        od_log_read_release(log, &r);
        if (ferr)
            break;
    }
    CHECK_EQ_INT(od_log_end_offset(f), od_log_end_offset(log));
    CHECK_EQ_INT(od_log_close(f, true), OD_ST_OK);
    st_rmtree(dir2);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

/* Builds a log, then runs one pass that dies after `calls` mutating calls. */
static void crash_pass(const char *dir, int64_t calls, int64_t *latest, int64_t *made_calls)
{
    od_log_config cfg = compact_cfg();
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    f.skip_fsync = true;
    od_log *log = st_open(dir, &cfg, &f.io, false, 0, NULL, NULL);
    if (!log)
        return;
    for (int k = 0; k < 6; k++)
        latest[k] = -1;
    for (int i = 0; i < 60; i++) {
        int k = (i * 5) % 6;
        latest[k] = od_log_end_offset(log);
        if (put(log, &k, 1, false, 100, OD_COMPRESSION_NONE, -1, -1) != OD_ST_OK)
            break;
    }
    od_log_roll(log, 0);
    od_log_flush(log, 0);
    od_log_set_high_watermark(log, od_log_end_offset(log));
    int64_t before = f.mutating_calls;
    f.crash_after_calls = calls < 0 ? -1 : before + calls;
    od_log_clean(log, 500, NULL);
    *made_calls = f.mutating_calls - before;
    od_log_close(log, false);
}

static void test_crash_during_compaction(void)
{
    char dir[256];
    int64_t latest[6], total = 0;
    st_tmpdir(dir);
    crash_pass(dir, -1, latest, &total);
    st_rmtree(dir);
    CHECK(total > 10);
    for (int64_t c = 0; c <= total; c += 1 + c / 8) {
        st_tmpdir(dir);
        int64_t made;
        crash_pass(dir, c, latest, &made);
        od_log_config cfg = compact_cfg();
        od_fio_fault nosync;
        od_fio_fault_init(&nosync, od_fio_posix());
        nosync.skip_fsync = true;
        od_log *log = st_open(dir, &cfg, &nosync.io, false, 0, NULL, NULL);
        REQUIRE(log);
        rec_view v[128];
        int n = all_records(log, v, 128);
        CHECKF(n >= 6, "crash at %lld: %d records", (long long)c, n);
        check_latest(v, n, latest, 6);
        CHECKF(st_verify_all(log), "crash at %lld", (long long)c);
        char p[512];
        snprintf(p, sizeof p, "%s/t-0", dir);
        /* No .swap or .cleaned is left behind. */
        CHECK_EQ_INT(od_cleaner_finish_interrupted(od_fio_posix(), p), OD_ST_OK);
        /* And the next pass completes. */
        od_log_set_high_watermark(log, od_log_end_offset(log));
        CHECK_EQ_INT(od_log_clean(log, 500, NULL), OD_ST_OK);
        n = all_records(log, v, 128);
        check_latest(v, n, latest, 6);
        CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
        st_rmtree(dir);
    }
}

static void test_offset_map(void)
{
    od_offset_map *m = od_offset_map_new(100);
    REQUIRE(m);
    char k[32];
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "k%d", i);
        CHECK(od_offset_map_put(m, (const uint8_t *)k, strlen(k), i));
    }
    CHECK(!od_offset_map_put(m, (const uint8_t *)"new", 3, 5));
    CHECK(od_offset_map_put(m, (const uint8_t *)"k7", 2, 700)); /* update fits */
    CHECK_EQ_INT(od_offset_map_get(m, (const uint8_t *)"k7", 2), 700);
    CHECK_EQ_INT(od_offset_map_get(m, (const uint8_t *)"k8", 2), 8);
    CHECK_EQ_INT(od_offset_map_get(m, (const uint8_t *)"nope", 4), -1);
    CHECK_EQ_INT(od_offset_map_get(m, (const uint8_t *)"", 0), -1);
    od_offset_map_free(m);
}

OD_TEST_MAIN(OD_CASE(test_offset_map), OD_CASE(test_compaction_keeps_latest),
             OD_CASE(test_tombstones_and_bounds), OD_CASE(test_producer_batches_survive),
             OD_CASE(test_crash_during_compaction))
