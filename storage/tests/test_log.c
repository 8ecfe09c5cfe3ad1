/* Partition log: append, read, indexes, roll, timestamps, retention,
 * truncation, validation, epochs, clean reopen. */
#include <errno.h>
#include <fcntl.h>

#include "st_logutil.h"

static od_log_config small_cfg(void)
{
    od_log_config c;
    od_log_config_default(&c);
    c.index_interval_bytes = 256;
    c.segment_index_bytes = 4096;
    return c;
}

static void test_append_and_read(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(od_log_end_offset(log), 0);
    od_writer w;
    od_writer_init(&w, 256);
    st_build_batch(&w, 777, 5, 1000, 1, 10, 0);
    od_append_info info;
    CHECK_EQ_INT(od_log_append_leader(log, w.buf, w.len, 3, 5000, &info), OD_ST_OK);
    od_writer_free(&w);
    CHECK_EQ_INT(info.first_offset, 0);
    CHECK_EQ_INT(info.last_offset, 4);
    CHECK_EQ_INT(info.max_timestamp, 1004);
    CHECK_EQ_INT(info.offset_of_max_timestamp, 4);
    CHECK_EQ_INT(info.log_append_time, -1);
    CHECK_EQ_INT(st_append(log, 9, 5, 10, 3), OD_ST_OK);
    CHECK_EQ_INT(od_log_end_offset(log), 50);

    /* Offsets and epoch rewritten on disk; CRC still valid (not covered). */
    od_log_read_result r;
    CHECK_EQ_INT(od_log_read(log, 0, 1 << 20, -1, false, &r), OD_ST_OK);
    REQUIRE(r.region.length > 0);
    CHECK_EQ_INT(r.region.position, 0);
    uint8_t *b = st_read_region(r.region.fd, 0, r.region.length);
    od_batch_header h;
    CHECK_EQ_INT(od_batch_validate(b, (size_t)r.region.length, &h), OD_BATCH_OK);
    CHECK_EQ_INT(h.base_offset, 0);
    CHECK_EQ_INT(h.partition_leader_epoch, 3);
    size_t first_size = od_batch_total_size(b, (size_t)r.region.length);
    free(b);
    od_log_read_release(log, &r);

    /* Reads start at the batch holding the offset, as Kafka's do. */
    CHECK_EQ_INT(od_log_read(log, 7, 1 << 20, -1, false, &r), OD_ST_OK);
    CHECK_EQ_INT(r.region.position, (int64_t)first_size);
    od_log_read_release(log, &r);

    /* max_bytes cuts; min_one returns the first batch whole. */
    CHECK_EQ_INT(od_log_read(log, 0, 10, -1, false, &r), OD_ST_OK);
    CHECK_EQ_INT(r.region.length, 10);
    od_log_read_release(log, &r);
    CHECK_EQ_INT(od_log_read(log, 0, 10, -1, true, &r), OD_ST_OK);
    CHECK_EQ_INT(r.region.length, (int64_t)first_size);
    od_log_read_release(log, &r);

    /* A high watermark bound never serves a batch at or past it. */
    CHECK_EQ_INT(od_log_read(log, 0, 1 << 20, 5, false, &r), OD_ST_OK);
    CHECK_EQ_INT(r.region.length, (int64_t)first_size);
    od_log_read_release(log, &r);
    CHECK_EQ_INT(od_log_read(log, 5, 1 << 20, 5, false, &r), OD_ST_OK);
    CHECK_EQ_INT(r.region.length, 0);

    CHECK_EQ_INT(od_log_read(log, 50, 1 << 20, -1, false, &r), OD_ST_OK);
    CHECK_EQ_INT(r.region.length, 0);
    CHECK_EQ_INT(od_log_read(log, 51, 1 << 20, -1, false, &r), OD_ST_OFFSET_OUT_OF_RANGE);
    CHECK_EQ_INT(od_log_read(log, -1, 1 << 20, -1, false, &r), OD_ST_OFFSET_OUT_OF_RANGE);

    CHECK_EQ_INT(st_check_contents(log, 0, 10), 50);
    CHECK_EQ_INT(st_check_contents(log, 23, 10), 50);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_sparse_index_and_clean_reopen(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    /* The index files come with the first entry written (segment.c,
     * invariant 8), preallocated as Kafka keeps an active segment's. */
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.index"), -1);
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.timeindex"), -1);
    CHECK_EQ_INT(st_append(log, 100, 2, 30, 0), OD_ST_OK);
    CHECK_EQ_INT(od_log_flush(log, 0), OD_ST_OK);
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.index"), 4096);
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.timeindex"), 4092);
    od_segment *s = od_log_segment_at(log, 0);
    uint32_t n = s->oidx_n, tn = s->tidx_n;
    /* ~130-byte batches, one entry per >256 bytes: about one per 3 batches. */
    /* After an entry the counter restarts with that append's bytes, so with
     * 135-byte batches and a 256-byte interval every second append indexes. */
    CHECKF(n >= 45 && n <= 55, "%u entries", n);
    CHECK(tn == n); /* timestamps grow with every append */
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    /* Clean close trims the indexes to their entries (plus the final time entry). */
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.index"), (int64_t)n * 8);
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.timeindex"), (int64_t)(tn + 1) * 12);

    od_log_recovery_stats st;
    log = st_open(dir, &cfg, NULL, true, 0, &st, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st.segments_recovered, 0);
    CHECK_EQ_INT(od_log_end_offset(log), 200);
    CHECK_EQ_INT(od_log_recovery_point(log), 200);
    s = od_log_segment_at(log, 0);
    CHECK_EQ_INT(s->oidx_n, n);
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.index"), 4096);
    CHECK_EQ_INT(st_check_contents(log, 0, 30), 200);
    CHECK_EQ_INT(st_check_contents(log, 151, 30), 200);
    CHECK_EQ_INT(st_append(log, 5, 2, 30, 0), OD_ST_OK);
    CHECK_EQ_INT(st_check_contents(log, 0, 30), 210);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_roll_by_size_and_names(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.segment_bytes = 2000;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st_append(log, 60, 3, 40, 0), OD_ST_OK);
    size_t n = od_log_segment_count(log);
    CHECK(n > 5);
    for (size_t i = 0; i < n; i++) {
        od_segment *s = od_log_segment_at(log, i);
        CHECK(s->size <= 2000);
        CHECK(i + 1 == n ? s->active : !s->active);
        char name[64];
        od_segment_file_name(name, sizeof name, s->base_offset, ".log");
        CHECK(st_file_size(dir, name) == s->size);
        if (i + 1 < n) {
            CHECK_EQ_INT(s->next_offset, od_log_segment_at(log, i + 1)->base_offset);
            od_segment_file_name(name, sizeof name, s->base_offset, ".index");
            CHECK_EQ_INT(st_file_size(dir, name), (int64_t)s->oidx_n * 8);
        }
    }
    CHECK(st_file_size(dir, "00000000000000000000.log") > 0);
    CHECK_EQ_INT(st_check_contents(log, 0, 40), 180);
    CHECK(st_verify_all(log));
    /* A whole append above segment.bytes is refused. */
    od_writer w;
    od_writer_init(&w, 4096);
    st_build_batch(&w, 0, 20, 0, 1, 100, 0);
    CHECK_EQ_INT(od_log_append_leader(log, w.buf, w.len, 0, 0, NULL), OD_ST_BATCH_TOO_LARGE);
    od_writer_free(&w);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);

    /* Reopen: every sealed segment is described lazily, reads cross them. */
    log = st_open(dir, &cfg, NULL, true, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(od_log_segment_count(log), n);
    CHECK(!od_log_segment_at(log, 1)->index_loaded);
    CHECK_EQ_INT(st_check_contents(log, 100, 40), 180);
    CHECK(od_log_segment_at(log, n - 2)->index_loaded);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_roll_by_time_and_index_full(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.segment_ms = 1000;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    od_writer w;
    od_writer_init(&w, 256);
    st_build_batch(&w, 0, 1, 100, 0, 5, 0);
    CHECK_EQ_INT(od_log_append_leader(log, w.buf, w.len, 0, 0, NULL), OD_ST_OK);
    w.len = 0;
    st_build_batch(&w, 0, 1, 1000, 0, 5, 1);
    CHECK_EQ_INT(od_log_append_leader(log, w.buf, w.len, 0, 0, NULL), OD_ST_OK);
    CHECK_EQ_INT(od_log_segment_count(log), 1); /* waited 900 ms */
    w.len = 0;
    st_build_batch(&w, 0, 1, 1101, 0, 5, 2);
    CHECK_EQ_INT(od_log_append_leader(log, w.buf, w.len, 0, 0, NULL), OD_ST_OK);
    CHECK_EQ_INT(od_log_segment_count(log), 2); /* 1001 ms after the first batch */
    CHECK_EQ_INT(od_log_segment_at(log, 1)->base_offset, 2);
    od_writer_free(&w);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);

    st_tmpdir(dir);
    cfg = small_cfg();
    cfg.index_interval_bytes = 1;
    cfg.segment_index_bytes = 24; /* three offset entries, two time entries */
    log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st_append(log, 20, 1, 5, 0), OD_ST_OK);
    CHECK(od_log_segment_count(log) >= 5);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(st_check_contents(log, 0, 5), 20);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_timestamp_lookup(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.segment_bytes = 3000;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    /* Record with offset o has timestamp 10 * o. */
    CHECK_EQ_INT(st_append(log, 40, 4, 20, 0), OD_ST_OK);
    CHECK(od_log_segment_count(log) > 2);
    int64_t off, ts;
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, 0, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 0);
    CHECK_EQ_INT(ts, 0);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, 555, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 56);
    CHECK_EQ_INT(ts, 560);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, 1590, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 159);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, 1591, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, -1);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, OD_TS_EARLIEST, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 0);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, OD_TS_LATEST, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 160);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, OD_TS_MAX_TIMESTAMP, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 159);
    CHECK_EQ_INT(ts, 1590);
    for (int64_t t = 0; t <= 1590; t += 37) {
        CHECK_EQ_INT(od_log_offset_for_timestamp(log, t, &off, &ts), OD_ST_OK);
        CHECK_EQ_INT(off, (t + 9) / 10);
    }
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    /* The same answers from lazily loaded, sealed indexes. */
    log = st_open(dir, &cfg, NULL, true, 0, NULL, NULL);
    REQUIRE(log);
    for (int64_t t = 0; t <= 1590; t += 41) {
        CHECK_EQ_INT(od_log_offset_for_timestamp(log, t, &off, &ts), OD_ST_OK);
        CHECK_EQ_INT(off, (t + 9) / 10);
    }
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_retention(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.segment_bytes = 1500;
    cfg.retention_ms = -1;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st_append(log, 100, 2, 20, 0), OD_ST_OK);
    size_t n = od_log_segment_count(log);
    REQUIRE(n > 4);
    int32_t del;
    /* Nothing goes above the high watermark (0 so far). */
    od_log_config c2 = *od_log_get_config(log);
    c2.retention_bytes = 0;
    od_log_set_config(log, &c2);
    CHECK_EQ_INT(od_log_enforce_retention(log, 0, &del), OD_ST_OK);
    CHECK_EQ_INT(del, 0);
    /* With the HW at the start of segment 2, only segments 0 and 1 may go. */
    od_log_set_high_watermark(log, od_log_segment_at(log, 2)->base_offset);
    CHECK_EQ_INT(od_log_enforce_retention(log, 0, &del), OD_ST_OK);
    CHECK_EQ_INT(del, 2);
    CHECK_EQ_INT(od_log_start_offset(log), od_log_segment_at(log, 0)->base_offset);
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.log"), -1);
    od_log_read_result r;
    CHECK_EQ_INT(od_log_read(log, 0, 100, -1, false, &r), OD_ST_OFFSET_OUT_OF_RANGE);
    /* retention.bytes keeps the newest data within the bound. */
    od_log_set_high_watermark(log, od_log_end_offset(log));
    int64_t size = od_log_size_bytes(log);
    /* Kafka's rule: a segment goes only if what remains still meets the bound. */
    int64_t first = od_log_segment_at(log, 0)->size;
    c2.retention_bytes = size - first + 1;
    od_log_set_config(log, &c2);
    CHECK_EQ_INT(od_log_enforce_retention(log, 0, &del), OD_ST_OK);
    CHECK_EQ_INT(del, 0);
    c2.retention_bytes = size - first;
    od_log_set_config(log, &c2);
    CHECK_EQ_INT(od_log_enforce_retention(log, 0, &del), OD_ST_OK);
    CHECK_EQ_INT(del, 1);
    CHECK_EQ_INT(od_log_size_bytes(log), size - first);
    /* retention.ms by the segments' max timestamps (10 * offset here). */
    c2.retention_bytes = -1;
    c2.retention_ms = 100;
    od_log_set_config(log, &c2);
    int64_t second = od_log_segment_at(log, 1)->base_offset;
    int64_t now = 10 * (second - 1) + 101; /* segment 0 expired, segment 1 not */
    CHECK_EQ_INT(od_log_enforce_retention(log, now, &del), OD_ST_OK);
    CHECK_EQ_INT(del, 1);
    CHECK_EQ_INT(od_log_start_offset(log), second);
    /* Everything expired and below the HW: rolled, then all old ones go. */
    int64_t leo = od_log_end_offset(log);
    CHECK_EQ_INT(od_log_enforce_retention(log, INT64_MAX / 2, &del), OD_ST_OK);
    CHECK_EQ_INT(od_log_segment_count(log), 1);
    CHECK_EQ_INT(od_log_end_offset(log), leo);
    CHECK_EQ_INT(od_log_start_offset(log), leo);
    CHECK_EQ_INT(st_append(log, 2, 2, 20, 0), OD_ST_OK);
    CHECK_EQ_INT(st_check_contents(log, leo, 20), leo + 4);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_truncate_and_delete_records(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.segment_bytes = 1500;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st_append(log, 80, 2, 20, 1), OD_ST_OK);
    CHECK_EQ_INT(st_append(log, 10, 2, 20, 4), OD_ST_OK);
    size_t n = od_log_segment_count(log);
    REQUIRE(n > 4);
    od_log_set_high_watermark(log, 100);
    /* Truncate into the middle of segment 2, inside a batch: it goes whole. */
    int64_t cut = od_log_segment_at(log, 2)->base_offset + 5;
    CHECK_EQ_INT(od_log_truncate_to(log, cut), OD_ST_OK);
    CHECK_EQ_INT(od_log_segment_count(log), 3);
    CHECK_EQ_INT(od_log_end_offset(log), cut - 1);
    CHECK_EQ_INT(od_log_high_watermark(log), cut - 1);
    CHECK(od_log_segment_at(log, 2)->active);
    CHECK(st_verify_all(log));
    size_t ne;
    const od_epoch_entry *ep = od_log_epochs(log, &ne);
    CHECK_EQ_INT(ne, 1);
    CHECK_EQ_INT(ep[0].epoch, 1);
    CHECK_EQ_INT(st_append(log, 3, 2, 20, 5), OD_ST_OK);
    CHECK_EQ_INT(st_check_contents(log, 0, 20), cut + 5);
    ep = od_log_epochs(log, &ne);
    CHECK_EQ_INT(ne, 2);
    CHECK_EQ_INT(ep[1].epoch, 5);
    CHECK_EQ_INT(ep[1].start_offset, cut - 1);

    /* DeleteRecords: not past the HW; drops whole segments below. */
    od_log_set_high_watermark(log, od_log_end_offset(log));
    CHECK_EQ_INT(od_log_delete_records_before(log, od_log_end_offset(log) + 1), OD_ST_OFFSET_OUT_OF_RANGE);
    int64_t target = od_log_segment_at(log, 1)->base_offset + 3;
    CHECK_EQ_INT(od_log_delete_records_before(log, target), OD_ST_OK);
    CHECK_EQ_INT(od_log_start_offset(log), target);
    CHECK_EQ_INT(od_log_segment_at(log, 0)->base_offset, target - 3);
    od_log_read_result r;
    CHECK_EQ_INT(od_log_read(log, target - 1, 100, -1, false, &r), OD_ST_OFFSET_OUT_OF_RANGE);
    CHECK_EQ_INT(od_log_read(log, target, 100, -1, false, &r), OD_ST_OK);
    od_log_read_release(log, &r);
    ep = od_log_epochs(log, &ne);
    CHECK_EQ_INT(ep[0].start_offset, target);
    int64_t off, ts;
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, OD_TS_EARLIEST, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, target);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, 0, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, target);

    /* Truncating below the log start empties the log at that offset. */
    CHECK_EQ_INT(od_log_truncate_to(log, 2), OD_ST_OK);
    CHECK_EQ_INT(od_log_segment_count(log), 1);
    CHECK_EQ_INT(od_log_end_offset(log), 2);
    CHECK_EQ_INT(od_log_start_offset(log), 2);
    CHECK_EQ_INT(st_append(log, 1, 2, 20, 6), OD_ST_OK);
    CHECK_EQ_INT(st_check_contents(log, 2, 20), 4);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void expect_refused(od_log *log, uint8_t *buf, size_t len, od_st_err want)
{
    int64_t leo = od_log_end_offset(log), size = od_log_size_bytes(log);
    CHECK_EQ_INT(od_log_append_leader(log, buf, len, 0, 0, NULL), want);
    CHECK_EQ_INT(od_log_end_offset(log), leo);
    CHECK_EQ_INT(od_log_size_bytes(log), size);
}

static void test_validation(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.max_message_bytes = 500;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st_append(log, 1, 2, 10, 0), OD_ST_OK);
    od_writer w;
    od_writer_init(&w, 256);
    st_build_batch(&w, 0, 3, 0, 1, 10, 0);
    w.buf[w.len - 1] ^= 1; /* payload flip: CRC mismatch */
    expect_refused(log, w.buf, w.len, OD_ST_CORRUPT);
    w.buf[w.len - 1] ^= 1;
    od_store_be32(w.buf + OD_BATCH_RECORD_COUNT_AT, 4);
    od_batch_restamp_crc(w.buf, w.len);
    expect_refused(log, w.buf, w.len, OD_ST_INVALID_RECORD);
    od_store_be32(w.buf + OD_BATCH_RECORD_COUNT_AT, 3);
    od_batch_restamp_crc(w.buf, w.len);
    w.buf[OD_BATCH_MAGIC_AT] = 1;
    expect_refused(log, w.buf, w.len, OD_ST_INVALID_RECORD);
    w.buf[OD_BATCH_MAGIC_AT] = 2;
    expect_refused(log, w.buf, w.len - 1, OD_ST_CORRUPT);        /* truncated */
    od_write_raw(&w, "junk", 4);
    expect_refused(log, w.buf, w.len, OD_ST_CORRUPT);            /* trailing bytes */
    w.len = 0;
    st_build_batch(&w, 0, 2, 0, 1, 400, 0);
    expect_refused(log, w.buf, w.len, OD_ST_RECORD_TOO_LARGE);
    expect_refused(log, w.buf, 0, OD_ST_INVALID_RECORD);
    /* A good batch after a bad one in the same set: nothing is appended. */
    w.len = 0;
    st_build_batch(&w, 0, 2, 0, 1, 10, 0);
    size_t good = w.len;
    st_build_batch(&w, 0, 2, 0, 1, 10, 0);
    w.buf[w.len - 2] ^= 0x40;
    expect_refused(log, w.buf, w.len, OD_ST_CORRUPT);
    /* Records that do not parse under a good CRC are invalid, not corrupt,
     * as Kafka answers them: here the first record's offset delta is 2. */
    w.len = 0;
    st_build_batch(&w, 0, 2, 0, 1, 10, 0);
    w.buf[OD_BATCH_HEADER_SIZE + 3] = 0x04;
    od_batch_restamp_crc(w.buf, w.len);
    expect_refused(log, w.buf, w.len, OD_ST_INVALID_RECORD);
    (void)good;
    od_writer_free(&w);
    CHECK_EQ_INT(st_check_contents(log, 0, 10), 2);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_log_append_time(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.log_append_time = true;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    od_writer w;
    od_writer_init(&w, 256);
    st_build_batch(&w, 0, 3, 5, 1, 10, 0);
    st_build_batch(&w, 0, 2, 5, 1, 10, 3);
    od_append_info info;
    CHECK_EQ_INT(od_log_append_leader(log, w.buf, w.len, 2, 123456, &info), OD_ST_OK);
    od_writer_free(&w);
    CHECK_EQ_INT(info.log_append_time, 123456);
    CHECK_EQ_INT(info.max_timestamp, 123456);
    CHECK_EQ_INT(info.offset_of_max_timestamp, 4);
    CHECK_EQ_INT(info.batch_count, 2);
    od_log_read_result r;
    CHECK_EQ_INT(od_log_read(log, 0, 1 << 20, -1, false, &r), OD_ST_OK);
    uint8_t *b = st_read_region(r.region.fd, r.region.position, r.region.length);
    od_batch_header h;
    CHECK_EQ_INT(od_batch_validate(b, (size_t)r.region.length, &h), OD_BATCH_OK);
    CHECK(h.attributes & OD_BATCH_ATTR_LOG_APPEND_TIME);
    CHECK_EQ_INT(h.max_timestamp, 123456);
    size_t t1 = od_batch_total_size(b, (size_t)r.region.length);
    CHECK_EQ_INT(od_batch_validate(b + t1, (size_t)r.region.length - t1, &h), OD_BATCH_OK);
    CHECK_EQ_INT(h.base_offset, 3);
    free(b);
    od_log_read_release(log, &r);
    int64_t off, ts;
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, 123456, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 0);
    CHECK_EQ_INT(ts, 123456);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_epochs_and_follower(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    od_writer w;
    od_writer_init(&w, 256);
    st_build_batch(&w, 0, 3, 0, 1, 10, 0);
    od_store_be32(w.buf + OD_BATCH_LEADER_EPOCH_AT, 2);
    CHECK_EQ_INT(od_log_append_follower(log, w.buf, w.len, 0, NULL), OD_ST_OK);
    CHECK_EQ_INT(od_log_append_follower(log, w.buf, w.len, 0, NULL), OD_ST_OUT_OF_ORDER);
    w.len = 0;
    st_build_batch(&w, 10, 2, 0, 1, 10, 10); /* a gap, as compaction leaves */
    od_store_be32(w.buf + OD_BATCH_LEADER_EPOCH_AT, 4);
    CHECK_EQ_INT(od_log_append_follower(log, w.buf, w.len, 0, NULL), OD_ST_OK);
    CHECK_EQ_INT(od_log_end_offset(log), 12);
    w.len = 0;
    st_build_batch(&w, (int64_t)1 << 33, 1, 0, 1, 10, 0); /* past the 32-bit relative range */
    od_store_be32(w.buf + OD_BATCH_LEADER_EPOCH_AT, 4);
    CHECK_EQ_INT(od_log_append_follower(log, w.buf, w.len, 0, NULL), OD_ST_OK);
    CHECK_EQ_INT(od_log_segment_count(log), 2);
    CHECK_EQ_INT(od_log_segment_at(log, 1)->base_offset, (int64_t)1 << 33);
    od_writer_free(&w);
    size_t ne;
    const od_epoch_entry *ep = od_log_epochs(log, &ne);
    CHECK_EQ_INT(ne, 2);
    CHECK(ep[0].epoch == 2 && ep[0].start_offset == 0);
    CHECK(ep[1].epoch == 4 && ep[1].start_offset == 10);
    int32_t e;
    int64_t end;
    od_log_end_offset_for_epoch(log, 3, &e, &end);
    CHECK(e == 2 && end == 10);
    od_log_end_offset_for_epoch(log, 4, &e, &end);
    CHECK(e == 4 && end == ((int64_t)1 << 33) + 1);
    od_log_end_offset_for_epoch(log, 1, &e, &end);
    CHECK(e == -1 && end == -1);
    char path[512], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/t-0/leader-epoch-checkpoint", dir);
    CHECK_EQ_INT(od_fio_read_file(od_fio_posix(), path, 1000, &text, &len), 0);
    CHECK(text && strcmp(text, "0\n2\n2 0\n4 10\n") == 0);
    free(text);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    log = st_open(dir, &cfg, NULL, true, 0, NULL, NULL);
    REQUIRE(log);
    ep = od_log_epochs(log, &ne);
    CHECK_EQ_INT(ne, 2);
    CHECK_EQ_INT(od_log_end_offset(log), ((int64_t)1 << 33) + 1);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_unclean_recovery(void)
{
    char dir[256], path[512];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.segment_bytes = 3000;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st_append(log, 60, 2, 20, 0), OD_ST_OK);
    CHECK_EQ_INT(od_log_flush(log, 0), OD_ST_OK);
    int64_t rp = od_log_recovery_point(log), leo = od_log_end_offset(log);
    CHECK_EQ_INT(rp, leo);
    size_t nseg = od_log_segment_count(log);
    int64_t abase = od_log_segment_at(log, nseg - 1)->base_offset;
    CHECK_EQ_INT(od_log_close(log, false), OD_ST_OK);

    /* A torn tail: half a batch appended behind the last whole one. */
    char name[64];
    od_segment_file_name(name, sizeof name, abase, ".log");
    snprintf(path, sizeof path, "%s/t-0/%s", dir, name);
    od_writer w;
    od_writer_init(&w, 256);
    st_build_batch(&w, leo, 2, 0, 1, 20, 0);
    int fd = open(path, O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0);
    CHECK(write(fd, w.buf, w.len / 2) == (ssize_t)(w.len / 2));
    close(fd);
    od_writer_free(&w);

    od_log_recovery_stats st;
    log = st_open(dir, &cfg, NULL, false, rp, &st, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st.segments_recovered, 1);
    CHECK(st.bytes_truncated > 0);
    CHECK_EQ_INT(od_log_end_offset(log), leo);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(st_check_contents(log, 0, 20), leo);
    CHECK_EQ_INT(od_log_close(log, false), OD_ST_OK);

    /* Corruption in an older segment past the recovery point: cut there and
     * drop every later segment. */
    od_segment_file_name(name, sizeof name, 0, ".log");
    snprintf(path, sizeof path, "%s/t-0/%s", dir, name);
    fd = open(path, O_RDWR);
    REQUIRE(fd >= 0);
    uint8_t byte;
    CHECK(pread(fd, &byte, 1, 1000) == 1);
    byte ^= 0xff;
    CHECK(pwrite(fd, &byte, 1, 1000) == 1);
    close(fd);
    log = st_open(dir, &cfg, NULL, false, 0, &st, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(od_log_segment_count(log), 1);
    CHECK_EQ_INT(st.segments_deleted, (int)nseg - 1);
    CHECK(od_log_end_offset(log) > 0 && od_log_end_offset(log) < leo);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(st_check_contents(log, 0, 20), od_log_end_offset(log));
    CHECK_EQ_INT(st_append(log, 2, 2, 20, 0), OD_ST_OK);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_bad_index_rebuilt_and_fd_bound(void)
{
    char dir[256], path[512];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.segment_bytes = 1000;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st_append(log, 100, 2, 20, 0), OD_ST_OK);
    size_t n = od_log_segment_count(log);
    REQUIRE(n > 10);
    int64_t base1 = od_log_segment_at(log, 1)->base_offset;
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    char name[64];
    od_segment_file_name(name, sizeof name, base1, ".index");
    snprintf(path, sizeof path, "%s/t-0/%s", dir, name);
    int fd = open(path, O_WRONLY | O_TRUNC);
    REQUIRE(fd >= 0);
    CHECK(write(fd, "\x00\x00\x00\x09\x7f\x00\x00\x00\x00\x00", 10) == 10); /* not whole entries */
    close(fd);
    od_segment_file_name(name, sizeof name, 0, ".timeindex");
    snprintf(path, sizeof path, "%s/t-0/%s", dir, name);
    CHECK_EQ_INT(unlink(path), 0);

    od_fd_cache cache = {.limit = 3};
    od_log_open_args a = {0};
    a.io = od_fio_posix();
    a.log_dir = dir;
    a.topic = "t";
    a.config = &cfg;
    a.fd_cache = &cache;
    a.had_clean_shutdown = true;
    a.log_start_offset = -1;
    od_log_recovery_stats st;
    od_st_err oerr = od_log_open(&a, &log, &st); /* REQUIRE evaluates twice */
    REQUIRE(oerr == OD_ST_OK);
    CHECK_EQ_INT(cache.open, 1); /* the active segment, read to find the log end */
    CHECK_EQ_INT(st_check_contents(log, 0, 20), 200);
    CHECK(cache.open <= 3);
    CHECK(st_verify_all(log));
    CHECK(cache.open <= 3);
    /* A pinned region survives eviction pressure. */
    od_log_read_result r;
    CHECK_EQ_INT(od_log_read(log, 0, 100, -1, false, &r), OD_ST_OK);
    CHECK_EQ_INT(st_check_contents(log, 20, 20), 200);
    uint8_t *b = st_read_region(r.region.fd, r.region.position, r.region.length);
    CHECK(b != NULL);
    free(b);
    od_log_read_release(log, &r);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    CHECK_EQ_INT(cache.open, 0);
    st_rmtree(dir);
}

static void test_flush_policy(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = small_cfg();
    cfg.flush_messages = 4;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st_append(log, 1, 3, 10, 0), OD_ST_OK);
    CHECK_EQ_INT(od_log_recovery_point(log), 0);
    CHECK_EQ_INT(st_append(log, 1, 1, 10, 0), OD_ST_OK);
    CHECK_EQ_INT(od_log_recovery_point(log), 4);
    cfg.flush_messages = INT64_MAX;
    cfg.flush_ms = 100;
    od_log_set_config(log, &cfg);
    CHECK_EQ_INT(st_append(log, 1, 1, 10, 0), OD_ST_OK); /* at 5000, as the last flush */
    CHECK_EQ_INT(od_log_recovery_point(log), 4);
    od_writer w;
    od_writer_init(&w, 128);
    st_build_batch(&w, 0, 1, 50, 0, 10, 5);
    CHECK_EQ_INT(od_log_append_leader(log, w.buf, w.len, 0, 5100, NULL), OD_ST_OK);
    od_writer_free(&w);
    CHECK_EQ_INT(od_log_recovery_point(log), 6);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

OD_TEST_MAIN(OD_CASE(test_append_and_read), OD_CASE(test_sparse_index_and_clean_reopen),
             OD_CASE(test_roll_by_size_and_names), OD_CASE(test_roll_by_time_and_index_full),
             OD_CASE(test_timestamp_lookup), OD_CASE(test_retention),
             OD_CASE(test_truncate_and_delete_records), OD_CASE(test_validation),
             OD_CASE(test_log_append_time), OD_CASE(test_epochs_and_follower),
             OD_CASE(test_unclean_recovery), OD_CASE(test_bad_index_rebuilt_and_fd_bound),
             OD_CASE(test_flush_policy))
