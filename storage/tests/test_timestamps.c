/* Leader-append timestamp bounds (message.timestamp.before/after.max.ms), as
 * Apache Kafka 3.9's LogValidator applies them: strict comparisons on
 * now - ts in wrapping long arithmetic, -1 exempt, LogAppendTime topics and
 * follower appends unchecked, one refused record fails the whole set; a
 * producer's LogAppendTime batch refused where it is not range-checked. */
#include "records/batch_builder.h"
#include "st_logutil.h"

#define NOW 1000000000LL

/* Appends one batch whose record i has timestamp ts[i] (base offset `base`). */
static void tbatch(od_writer *w, int64_t base, const int64_t *ts, int n, od_compression codec)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.base_offset = base;
    p.compression = codec;
    od_builder_record r[16];
    for (int i = 0; i < n; i++)
        r[i] = (od_builder_record){ts[i], {(const uint8_t *)"k", 1}, {(const uint8_t *)"value", 5}, NULL, 0};
    od_batch_build(&p, r, n, w);
}

static od_log_config bounded_cfg(int64_t before, int64_t after)
{
    od_log_config c;
    od_log_config_default(&c);
    c.message_timestamp_before_max_ms = before;
    c.message_timestamp_after_max_ms = after;
    return c;
}

/* Appends one batch of n records with the given timestamps; on refusal
 * checks that nothing reached the log. */
static od_st_err append_ts(od_log *log, const int64_t *ts, int n, od_compression codec)
{
    int64_t leo = od_log_end_offset(log), size = od_log_size_bytes(log);
    od_writer w;
    od_writer_init(&w, 256);
    tbatch(&w, 0, ts, n, codec);
    od_st_err err = od_log_append_leader(log, w.buf, w.len, 0, NOW, NULL);
    od_writer_free(&w);
    if (err != OD_ST_OK) {
        CHECK_EQ_INT(od_log_end_offset(log), leo);
        CHECK_EQ_INT(od_log_size_bytes(log), size);
    }
    return err;
}

typedef struct seen {
    od_ts_violation v[16];
    int n;
} seen;

static void collect(void *arg, const od_ts_violation *v)
{
    seen *s = arg;
    if (s->n < 16)
        s->v[s->n] = *v;
    s->n++;
}

static void test_bounds_are_inclusive(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = bounded_cfg(1000, 2000);
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    /* Exactly now - before and now + after: diff == bound is not > bound. */
    int64_t edge[] = {NOW - 1000, NOW + 2000, NOW};
    CHECK_EQ_INT(append_ts(log, edge, 3, OD_COMPRESSION_NONE), OD_ST_OK);
    int64_t old[] = {NOW, NOW - 1001};
    CHECK_EQ_INT(append_ts(log, old, 2, OD_COMPRESSION_NONE), OD_ST_INVALID_TIMESTAMP);
    int64_t future[] = {NOW + 2001};
    CHECK_EQ_INT(append_ts(log, future, 1, OD_COMPRESSION_NONE), OD_ST_INVALID_TIMESTAMP);
    int64_t far_future[] = {INT64_MAX};
    CHECK_EQ_INT(append_ts(log, far_future, 1, OD_COMPRESSION_NONE), OD_ST_INVALID_TIMESTAMP);
    /* NO_TIMESTAMP is never checked, whatever the bounds. */
    int64_t none[] = {-1, -1};
    CHECK_EQ_INT(append_ts(log, none, 2, OD_COMPRESSION_NONE), OD_ST_OK);
    int64_t minus_two[] = {-2};
    CHECK_EQ_INT(append_ts(log, minus_two, 1, OD_COMPRESSION_NONE), OD_ST_INVALID_TIMESTAMP);
    CHECK_EQ_INT(od_log_end_offset(log), 5);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);

    /* Zero bounds: only now itself passes. */
    st_tmpdir(dir);
    cfg = bounded_cfg(0, 0);
    log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    int64_t now_only[] = {NOW};
    CHECK_EQ_INT(append_ts(log, now_only, 1, OD_COMPRESSION_NONE), OD_ST_OK);
    int64_t one_ms[] = {NOW + 1};
    CHECK_EQ_INT(append_ts(log, one_ms, 1, OD_COMPRESSION_NONE), OD_ST_INVALID_TIMESTAMP);
    one_ms[0] = NOW - 1;
    CHECK_EQ_INT(append_ts(log, one_ms, 1, OD_COMPRESSION_NONE), OD_ST_INVALID_TIMESTAMP);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

/* Kafka computes now - ts as a Java long, which wraps: with only the
 * before bound set, a timestamp near Long.MIN_VALUE makes the difference
 * negative and passes. The check mirrors that (no undefined overflow). */
static void test_wrapping_matches_kafka(void)
{
    od_log_config cfg = bounded_cfg(1000, INT64_MAX);
    od_writer w;
    od_writer_init(&w, 256);
    int64_t ts[] = {INT64_MIN + 5};
    tbatch(&w, 0, ts, 1, OD_COMPRESSION_NONE);
    CHECK_EQ_INT(od_log_check_timestamps(&cfg, w.buf, w.len, NOW, NULL, NULL), OD_ST_OK);
    /* A finite after bound catches it through -diff. */
    cfg.message_timestamp_after_max_ms = 2000;
    CHECK_EQ_INT(od_log_check_timestamps(&cfg, w.buf, w.len, NOW, NULL, NULL), OD_ST_INVALID_TIMESTAMP);
    /* The reported bounds wrap like Kafka's message: now - Long.MAX_VALUE. */
    cfg = bounded_cfg(INT64_MAX, 60000);
    w.len = 0;
    int64_t day[] = {NOW + 86400000LL};
    tbatch(&w, 0, day, 1, OD_COMPRESSION_NONE);
    seen s = {0};
    CHECK_EQ_INT(od_log_check_timestamps(&cfg, w.buf, w.len, NOW, collect, &s), OD_ST_INVALID_TIMESTAMP);
    CHECK_EQ_INT(s.n, 1);
    CHECK_EQ_INT(s.v[0].lower, NOW - INT64_MAX);
    CHECK_EQ_INT(s.v[0].upper, NOW + 60000);
    /* now + Long.MAX_VALUE wraps negative in Kafka's text too. */
    cfg = bounded_cfg(0, INT64_MAX);
    w.len = 0;
    int64_t past[] = {NOW - 1};
    tbatch(&w, 0, past, 1, OD_COMPRESSION_NONE);
    s.n = 0;
    CHECK_EQ_INT(od_log_check_timestamps(&cfg, w.buf, w.len, NOW, collect, &s), OD_ST_INVALID_TIMESTAMP);
    CHECK_EQ_INT(s.n, 1);
    CHECK_EQ_INT(s.v[0].lower, NOW);
    CHECK_EQ_INT(s.v[0].upper, INT64_MIN + NOW - 1);
    od_writer_free(&w);
}

/* Every refused record of the first failing batch is named, indexed within
 * its batch, with the offset as sent; later batches are not looked at. */
static void test_record_errors(void)
{
    od_log_config cfg = bounded_cfg(1000, 1000);
    od_writer w;
    od_writer_init(&w, 512);
    int64_t good[] = {NOW, NOW + 1};
    tbatch(&w, 0, good, 2, OD_COMPRESSION_NONE);
    int64_t mixed[] = {NOW, NOW - 5000, -1, NOW + 5000};
    tbatch(&w, 0, mixed, 4, OD_COMPRESSION_NONE);
    int64_t bad[] = {NOW - 9999};
    tbatch(&w, 0, bad, 1, OD_COMPRESSION_NONE);
    seen s = {0};
    CHECK_EQ_INT(od_log_check_timestamps(&cfg, w.buf, w.len, NOW, collect, &s), OD_ST_INVALID_TIMESTAMP);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_INT(s.v[0].batch_index, 1);
    CHECK_EQ_INT(s.v[0].timestamp, NOW - 5000);
    CHECK_EQ_INT(s.v[0].offset, 1);
    CHECK_EQ_INT(s.v[0].lower, NOW - 1000);
    CHECK_EQ_INT(s.v[0].upper, NOW + 1000);
    CHECK_EQ_INT(s.v[1].batch_index, 3);
    CHECK_EQ_INT(s.v[1].timestamp, NOW + 5000);
    CHECK_EQ_INT(s.v[1].offset, 3);

    /* The whole set is refused and the log stays empty. */
    char dir[256];
    st_tmpdir(dir);
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(od_log_append_leader(log, w.buf, w.len, 0, NOW, NULL), OD_ST_INVALID_TIMESTAMP);
    CHECK_EQ_INT(od_log_end_offset(log), 0);
    CHECK_EQ_INT(od_log_size_bytes(log), 0);
    od_writer_free(&w);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_compressed_batch(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = bounded_cfg(60000, 60000);
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    od_compression codecs[] = {OD_COMPRESSION_GZIP, OD_COMPRESSION_LZ4, OD_COMPRESSION_ZSTD,
                               OD_COMPRESSION_SNAPPY};
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
        int64_t ts[] = {NOW, NOW + 10, NOW - 86400000LL, NOW + 20};
        CHECK_EQ_INT(append_ts(log, ts, 4, codecs[c]), OD_ST_INVALID_TIMESTAMP);
        od_writer w;
        od_writer_init(&w, 256);
        tbatch(&w, 0, ts, 4, codecs[c]);
        seen s = {0};
        CHECK_EQ_INT(od_log_check_timestamps(&cfg, w.buf, w.len, NOW, collect, &s),
                     OD_ST_INVALID_TIMESTAMP);
        CHECK_EQ_INT(s.n, 1);
        CHECK_EQ_INT(s.v[0].batch_index, 2);
        CHECK_EQ_INT(s.v[0].offset, 2);
        od_writer_free(&w);
        ts[2] = NOW - 60000;
        CHECK_EQ_INT(append_ts(log, ts, 4, codecs[c]), OD_ST_OK);
    }
    CHECK_EQ_INT(od_log_end_offset(log), 16);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_unchecked_cases(void)
{
    int64_t wild[] = {0, INT64_MAX, INT64_MIN + 1, NOW - 86400000LL * 365, -1};
    char dir[256];

    /* Defaults (both Long.MAX_VALUE) never refuse anything. */
    st_tmpdir(dir);
    od_log_config cfg;
    od_log_config_default(&cfg);
    CHECK_EQ_INT(cfg.message_timestamp_before_max_ms, INT64_MAX);
    CHECK_EQ_INT(cfg.message_timestamp_after_max_ms, INT64_MAX);
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(append_ts(log, wild, 5, OD_COMPRESSION_NONE), OD_ST_OK);
    CHECK_EQ_INT(append_ts(log, wild, 5, OD_COMPRESSION_GZIP), OD_ST_OK);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);

    /* LogAppendTime topics: the broker's clock replaces the producer's. */
    st_tmpdir(dir);
    cfg = bounded_cfg(0, 0);
    cfg.log_append_time = true;
    log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(append_ts(log, wild, 5, OD_COMPRESSION_NONE), OD_ST_OK);
    CHECK_EQ_INT(od_log_end_offset(log), 5);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);

    /* Followers copy what the leader accepted. */
    st_tmpdir(dir);
    cfg = bounded_cfg(0, 0);
    log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    od_writer w;
    od_writer_init(&w, 256);
    tbatch(&w, 0, wild, 5, OD_COMPRESSION_NONE);
    CHECK_EQ_INT(od_log_append_follower(log, w.buf, w.len, NOW, NULL), OD_ST_OK);
    od_writer_free(&w);
    CHECK_EQ_INT(od_log_end_offset(log), 5);
    /* AlterConfigs can lift the bounds at once. */
    od_log_config lifted = bounded_cfg(INT64_MAX, INT64_MAX);
    od_log_set_config(log, &lifted);
    CHECK_EQ_INT(append_ts(log, wild, 5, OD_COMPRESSION_NONE), OD_ST_OK);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

/* A producer's batch marked LogAppendTime: Kafka refuses it only where it
 * does not range-check it (bad_input.py shows the same on Kafka 3.9.2). */
static void test_log_append_time_from_a_producer(void)
{
    char dir[256];
    int64_t ts[] = {NOW, NOW};
    for (int c = 0; c < 3; c++) {
        st_tmpdir(dir);
        od_log_config cfg;
        od_log_config_default(&cfg);
        cfg.log_append_time = c == 2;
        od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
        REQUIRE(log);
        od_writer w;
        od_writer_init(&w, 256);
        od_batch_params p = OD_BATCH_PARAMS_INIT;
        p.log_append_time = true;
        p.log_append_time_ms = c == 1 ? -1 : NOW;
        od_builder_record r[2];
        for (int i = 0; i < 2; i++)
            r[i] = (od_builder_record){ts[i], {(const uint8_t *)"k", 1}, {(const uint8_t *)"v", 1}, NULL, 0};
        REQUIRE(od_batch_build(&p, r, 2, &w) == OD_BATCH_OK);
        seen s = {.n = 0};
        od_st_err want = c == 0 ? OD_ST_OK : OD_ST_INVALID_TIMESTAMP;
        CHECKF(od_log_check_timestamps(&cfg, w.buf, w.len, NOW, collect, &s) == want, "case %d", c);
        CHECKF(s.n == (c == 0 ? 0 : 2) && (s.n == 0 || s.v[0].log_append_time), "case %d: %d", c, s.n);
        CHECKF(od_log_append_leader(log, w.buf, w.len, 0, NOW, NULL) == want, "case %d", c);
        od_writer_free(&w);
        CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
        st_rmtree(dir);
    }
}

OD_TEST_MAIN(OD_CASE(test_bounds_are_inclusive), OD_CASE(test_wrapping_matches_kafka),
             OD_CASE(test_record_errors), OD_CASE(test_compressed_batch),
             OD_CASE(test_unchecked_cases), OD_CASE(test_log_append_time_from_a_producer))
