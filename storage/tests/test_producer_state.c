/* Producer state: Kafka's sequence rules, the .snapshot format byte for
 * byte, and its life in the log (roll, close, reopen, crash, truncation).
 * Also compressed batches: validation on append and exact timestamp lookup. */
#include <errno.h>
#include <fcntl.h>

#include "records/batch_builder.h"
#include "st_logutil.h"

/* One producer batch of n records (values "v"), optionally compressed. */
static void pbatch(od_writer *w, int64_t pid, int16_t epoch, int32_t seq, int n, int64_t ts,
                   od_compression codec, bool txn)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.producer_id = pid;
    p.producer_epoch = epoch;
    p.base_sequence = seq;
    p.compression = codec;
    p.transactional = txn;
    od_builder_record r[16];
    for (int i = 0; i < n; i++)
        r[i] = (od_builder_record){ts + i, {NULL, -1}, {(const uint8_t *)"value", 5}, NULL, 0};
    od_batch_build(&p, r, n, w);
}

static od_st_err app(od_log *log, int64_t pid, int16_t epoch, int32_t seq, int n, od_append_info *info)
{
    od_writer w;
    od_writer_init(&w, 256);
    pbatch(&w, pid, epoch, seq, n, 1000, OD_COMPRESSION_NONE, false);
    od_st_err err = od_log_append_leader(log, w.buf, w.len, 0, 2000, info);
    od_writer_free(&w);
    return err;
}

static void test_sequence_rules(void)
{
    od_pstate ps;
    od_pstate_init(&ps, 0);
    od_batch_header h = {0};
    h.producer_id = 7;
    h.producer_epoch = 1;
    h.base_sequence = 5; /* unknown producer: any sequence */
    h.last_offset_delta = 2;
    h.base_offset = 100;
    h.max_timestamp = 50;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, NULL), OD_ST_OK);
    CHECK_EQ_INT(od_pstate_apply(&ps, NULL, 0, &h), OD_ST_OK);
    CHECK_EQ_INT(ps.map_end_offset, 103);
    od_producer_batch dup;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, &dup), OD_ST_DUPLICATE_SEQUENCE);
    CHECK(dup.last_offset == 102 && dup.offset_delta == 2 && dup.first_seq == 5 && dup.last_seq == 7);
    h.base_sequence = 9;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, NULL), OD_ST_OUT_OF_ORDER_SEQUENCE);
    h.base_sequence = 8;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, NULL), OD_ST_OK);
    h.producer_epoch = 0;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, NULL), OD_ST_INVALID_PRODUCER_EPOCH);
    h.producer_epoch = 2;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, NULL), OD_ST_OUT_OF_ORDER_SEQUENCE);
    h.base_sequence = 0;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, NULL), OD_ST_OK);
    /* Sequences wrap past INT32_MAX. */
    h.producer_epoch = 1;
    h.base_sequence = 8;
    h.last_offset_delta = 0;
    h.base_offset = 103;
    od_pstate_apply(&ps, NULL, 0, &h);
    ps.e[0].batches[ps.e[0].nbatches - 1].last_seq = INT32_MAX;
    h.base_sequence = 0;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, NULL), OD_ST_OK);
    /* Only the last five batches are remembered for duplicates. */
    for (int i = 0; i < 6; i++) {
        h.base_sequence = i;
        h.base_offset = 200 + i;
        od_pstate_apply(&ps, NULL, 0, &h);
    }
    h.base_sequence = 0;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, NULL), OD_ST_OUT_OF_ORDER_SEQUENCE);
    h.base_sequence = 1;
    CHECK_EQ_INT(od_pstate_check(&ps, &h, NULL), OD_ST_DUPLICATE_SEQUENCE);
    od_pstate_expire(&ps, 1000, 100);
    CHECK_EQ_INT(ps.n, 0);
    od_pstate_free(&ps);
}

static void test_snapshot_format(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio *io = od_fio_posix();
    od_pstate ps;
    od_pstate_init(&ps, 0);
    od_writer w;
    od_writer_init(&w, 256);
    pbatch(&w, 1000, 3, 10, 4, 777, OD_COMPRESSION_NONE, true);
    od_store_be64(w.buf, 20); /* offsets 20..23 */
    od_batch_header h;
    REQUIRE(od_batch_header_parse(w.buf, w.len, &h) == OD_BATCH_OK);
    CHECK_EQ_INT(od_pstate_apply(&ps, w.buf, w.len, &h), OD_ST_OK);
    w.len = 0;
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.base_offset = 24;
    p.producer_id = 5;
    p.producer_epoch = 0;
    od_control_batch_build(&p, OD_CONTROL_COMMIT, 42, 900, &w);
    REQUIRE(od_batch_header_parse(w.buf, w.len, &h) == OD_BATCH_OK);
    CHECK_EQ_INT(od_pstate_apply(&ps, w.buf, w.len, &h), OD_ST_OK);
    od_writer_free(&w);
    CHECK_EQ_INT(ps.map_end_offset, 25);
    const od_producer_entry *e = od_pstate_find(&ps, 5);
    REQUIRE(e != NULL);
    CHECK(e->coordinator_epoch == 42 && e->txn_first_offset == -1 && e->nbatches == 0);
    CHECK_EQ_INT(od_pstate_find(&ps, 1000)->txn_first_offset, 20);

    CHECK_EQ_INT(od_pstate_write_snapshot(&ps, io, dir), OD_ST_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/00000000000000000025.snapshot", dir);
    char *raw;
    size_t len;
    REQUIRE(od_fio_read_file(io, path, 4096, &raw, &len) == 0);
    const uint8_t *b = (const uint8_t *)raw;
    CHECK_EQ_INT(len, 10 + 2 * 46);
    CHECK_EQ_INT(od_load_be16(b), 1);
    CHECK_EQ_INT(od_load_be32(b + 2), od_crc32c(0, b + 6, len - 6));
    CHECK_EQ_INT(od_load_be32(b + 6), 2);
    /* Entry 0 is producer 5 (sorted): marker only, so no data offset. */
    const uint8_t *x = b + 10;
    CHECK_EQ_INT((int64_t)od_load_be64(x), 5);
    CHECK_EQ_INT((int16_t)od_load_be16(x + 8), 0);
    CHECK_EQ_INT((int32_t)od_load_be32(x + 10), -1);
    CHECK_EQ_INT((int64_t)od_load_be64(x + 14), -1);
    CHECK_EQ_INT((int64_t)od_load_be64(x + 26), 900);
    CHECK_EQ_INT((int32_t)od_load_be32(x + 34), 42);
    CHECK_EQ_INT((int64_t)od_load_be64(x + 38), -1);
    x += 46;
    CHECK_EQ_INT((int64_t)od_load_be64(x), 1000);
    CHECK_EQ_INT((int16_t)od_load_be16(x + 8), 3);
    CHECK_EQ_INT((int32_t)od_load_be32(x + 10), 13);  /* last sequence */
    CHECK_EQ_INT((int64_t)od_load_be64(x + 14), 23);  /* last offset */
    CHECK_EQ_INT((int32_t)od_load_be32(x + 22), 3);   /* offset delta */
    CHECK_EQ_INT((int64_t)od_load_be64(x + 26), 780); /* max timestamp */
    CHECK_EQ_INT((int32_t)od_load_be32(x + 34), -1);
    CHECK_EQ_INT((int64_t)od_load_be64(x + 38), 20);  /* open transaction */
    free(raw);

    od_pstate back;
    od_pstate_init(&back, 0);
    CHECK_EQ_INT(od_pstate_read_snapshot(&back, io, dir, 25), OD_ST_OK);
    CHECK_EQ_INT(back.n, 2);
    CHECK_EQ_INT(back.map_end_offset, 25);
    e = od_pstate_find(&back, 1000);
    REQUIRE(e && e->nbatches == 1);
    CHECK(e->batches[0].first_seq == 10 && e->batches[0].last_seq == 13 && e->batches[0].last_offset == 23);
    /* Any flipped byte is caught by the CRC. */
    int fd = open(path, O_RDWR);
    uint8_t byte;
    CHECK(pread(fd, &byte, 1, 40) == 1);
    byte ^= 1;
    CHECK(pwrite(fd, &byte, 1, 40) == 1);
    close(fd);
    CHECK_EQ_INT(od_pstate_read_snapshot(&back, io, dir, 25), OD_ST_CORRUPT);
    CHECK_EQ_INT(od_pstate_read_snapshot(&back, io, dir, 26), OD_ST_NOT_FOUND);
    od_pstate_free(&back);
    od_pstate_free(&ps);
    st_rmtree(dir);
}

static void test_idempotent_log(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg;
    od_log_config_default(&cfg);
    cfg.segment_bytes = 300;
    cfg.segment_index_bytes = 4096;
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    od_append_info info;
    int32_t seq = 0;
    for (int i = 0; i < 12; i++, seq += 3)
        REQUIRE_OK(app(log, 42, 0, seq, 3, &info));
    CHECK(od_log_segment_count(log) > 2);
    int64_t leo = od_log_end_offset(log);
    /* A retry of the last batch is answered with its original offsets. */
    CHECK_EQ_INT(app(log, 42, 0, seq - 3, 3, &info), OD_ST_DUPLICATE_SEQUENCE);
    CHECK_EQ_INT(info.first_offset, leo - 3);
    CHECK_EQ_INT(info.last_offset, leo - 1);
    CHECK_EQ_INT(od_log_end_offset(log), leo);
    CHECK_EQ_INT(app(log, 42, 0, seq + 1, 3, &info), OD_ST_OUT_OF_ORDER_SEQUENCE);
    /* Every roll left a snapshot named by the new segment's base. */
    for (size_t i = 1; i < od_log_segment_count(log); i++) {
        char name[64];
        snprintf(name, sizeof name, "%020lld.snapshot", (long long)od_log_segment_at(log, i)->base_offset);
        CHECK(st_file_size(dir, name) > 0);
    }
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    char name[64];
    snprintf(name, sizeof name, "%020lld.snapshot", (long long)leo);
    CHECK_EQ_INT(st_file_size(dir, name), 10 + 46);

    /* Clean reopen: state from the snapshot at the log end. */
    log = st_open(dir, &cfg, NULL, true, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(app(log, 42, 0, seq - 3, 3, &info), OD_ST_DUPLICATE_SEQUENCE);
    REQUIRE_OK(app(log, 42, 0, seq, 3, &info));
    seq += 3;
    CHECK_EQ_INT(od_log_close(log, false), OD_ST_OK);

    /* Crash: the newest snapshot is behind; the scan after it catches up. */
    log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(app(log, 42, 0, seq - 3, 3, &info), OD_ST_DUPLICATE_SEQUENCE);
    CHECK_EQ_INT(od_log_producer_state(log)->map_end_offset, od_log_end_offset(log));
    /* Truncation rewinds the state with the log. */
    int64_t cut = od_log_end_offset(log) - 6;
    REQUIRE_OK(od_log_truncate_to(log, cut));
    CHECK_EQ_INT(app(log, 42, 0, seq - 3, 3, &info), OD_ST_OUT_OF_ORDER_SEQUENCE);
    CHECK_EQ_INT(app(log, 42, 0, seq - 6, 3, &info), OD_ST_OK);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);

    /* A corrupt newest snapshot is dropped and the state rebuilt from older. */
    int64_t *snaps;
    size_t ns;
    char pdir[512];
    snprintf(pdir, sizeof pdir, "%s/t-0", dir);
    REQUIRE_OK(od_pstate_list_snapshots(od_fio_posix(), pdir, &snaps, &ns));
    REQUIRE(ns > 1);
    char path[512];
    snprintf(path, sizeof path, "%s/t-0/%020lld.snapshot", dir, (long long)snaps[ns - 1]);
    free(snaps);
    int fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(write(fd, "garbage!!!", 10) == 10);
    close(fd);
    log = st_open(dir, &cfg, NULL, true, 0, NULL, NULL);
    REQUIRE(log);
    CHECK_EQ_INT(st_file_size(dir, strrchr(path, '/') + 1), -1);
    /* After the truncation above the last batch holds seq-6..seq-4. */
    CHECK_EQ_INT(app(log, 42, 0, seq - 6, 3, &info), OD_ST_DUPLICATE_SEQUENCE);
    CHECK_EQ_INT(app(log, 42, 0, seq - 3, 3, &info), OD_ST_OK);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

/* producer.id.expiration.ms at the log level: idle idempotent producers go,
 * a producer with an open transaction stays however old, and the next
 * snapshot no longer holds the expired ones. */
static void test_producer_expiry(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg;
    od_log_config_default(&cfg);
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    od_append_info info;
    REQUIRE_OK(app(log, 42, 0, 0, 3, &info)); /* max timestamp 1002 */
    REQUIRE_OK(app(log, 44, 0, 0, 1, &info)); /* max timestamp 1000 */
    od_writer w;
    od_writer_init(&w, 256);
    pbatch(&w, 43, 0, 0, 2, 100, OD_COMPRESSION_NONE, true); /* open transaction, ts 101 */
    REQUIRE_OK(od_log_append_leader(log, w.buf, w.len, 0, 2000, NULL));
    od_writer_free(&w);
    CHECK_EQ_INT(app(log, 42, 0, 7, 1, &info), OD_ST_OUT_OF_ORDER_SEQUENCE);

    int32_t expired = -1;
    /* Idle is measured from the last batch's max timestamp: 1001 ms after
     * 1000 is past 1000 ms for producer 44 only. */
    REQUIRE_OK(od_log_expire_producers(log, 2001, 1000, &expired));
    CHECK_EQ_INT(expired, 1);
    CHECK(od_pstate_find(od_log_producer_state(log), 44) == NULL);
    CHECK(od_pstate_find(od_log_producer_state(log), 42) != NULL);
    REQUIRE_OK(od_log_expire_producers(log, 2002, 1000, &expired));
    CHECK_EQ_INT(expired, 1);
    const od_producer_entry *open_txn = od_pstate_find(od_log_producer_state(log), 43);
    REQUIRE(open_txn != NULL);
    CHECK_EQ_INT(open_txn->txn_first_offset, 4);
    /* Kafka 3.9 treats an expired producer as unknown: any sequence goes. */
    CHECK_EQ_INT(app(log, 42, 0, 7, 1, &info), OD_ST_OK);
    CHECK_EQ_INT(app(log, 42, 0, 7, 1, &info), OD_ST_DUPLICATE_SEQUENCE);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);

    /* The snapshot written on close reflects the expiry. */
    log = st_open(dir, &cfg, NULL, true, 0, NULL, NULL);
    REQUIRE(log);
    CHECK(od_pstate_find(od_log_producer_state(log), 44) == NULL);
    CHECK(od_pstate_find(od_log_producer_state(log), 43) != NULL);
    CHECK_EQ_INT(app(log, 42, 0, 7, 1, &info), OD_ST_DUPLICATE_SEQUENCE);
    CHECK_EQ_INT(app(log, 42, 0, 9, 1, &info), OD_ST_OUT_OF_ORDER_SEQUENCE);
    CHECK_EQ_INT(app(log, 42, 0, 8, 1, &info), OD_ST_OK);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

/* One idempotent batch of one record for `pid` at timestamp ts. */
static od_st_err app_at(od_log *log, int64_t pid, int32_t seq, int64_t ts)
{
    od_writer w;
    od_writer_init(&w, 256);
    pbatch(&w, pid, 0, seq, 1, ts, OD_COMPRESSION_NONE, false);
    od_st_err err = od_log_append_leader(log, w.buf, w.len, 0, ts, NULL);
    od_writer_free(&w);
    return err;
}

static od_log *open_at(const char *dir, const od_log_config *cfg, bool clean, int64_t now_ms)
{
    od_log_open_args a = {0};
    a.io = od_fio_posix();
    a.log_dir = dir;
    a.topic = "t";
    a.config = cfg;
    a.had_clean_shutdown = clean;
    a.log_start_offset = -1;
    a.now_ms = now_ms;
    od_log *log = NULL;
    return od_log_open(&a, &log, NULL) == OD_ST_OK ? log : NULL;
}

/* Recovery after a crash, as Kafka's: producers of the loaded snapshot idle
 * for producer.id.expiration.ms at open are not restored; producers the
 * replay after the snapshot rebuilds stay until the next expiry check. */
static void test_expired_producers_after_crash(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg;
    od_log_config_default(&cfg);
    cfg.producer_id_expiration_ms = 3000;
    od_log *log = open_at(dir, &cfg, false, 1000);
    REQUIRE(log);
    REQUIRE_OK(app_at(log, 50, 0, 1000));
    REQUIRE_OK(app_at(log, 51, 0, 1000));
    REQUIRE_OK(od_log_roll(log, 1500)); /* the snapshot holds 50 and 51, last seen at 1000 */
    REQUIRE_OK(app_at(log, 52, 0, 1000));
    REQUIRE_OK(app_at(log, 51, 1, 7000));
    CHECK_EQ_INT(od_log_close(log, false), OD_ST_OK); /* crash: no snapshot at the log end */

    /* Before the expiration has passed everyone is back. */
    log = open_at(dir, &cfg, false, 3999);
    REQUIRE(log);
    CHECK(od_pstate_find(od_log_producer_state(log), 50) != NULL);
    CHECK(od_pstate_find(od_log_producer_state(log), 51) != NULL);
    CHECK(od_pstate_find(od_log_producer_state(log), 52) != NULL);
    CHECK_EQ_INT(od_log_close(log, false), OD_ST_OK);

    log = open_at(dir, &cfg, false, 6000);
    REQUIRE(log);
    CHECK(od_pstate_find(od_log_producer_state(log), 50) == NULL);
    const od_producer_entry *replayed = od_pstate_find(od_log_producer_state(log), 51);
    REQUIRE(replayed != NULL);
    CHECK_EQ_INT(replayed->last_timestamp, 7000);
    CHECK(od_pstate_find(od_log_producer_state(log), 52) != NULL);
    /* An expired producer is unknown: its next batch may start anywhere. */
    CHECK_EQ_INT(app_at(log, 50, 9, 6000), OD_ST_OK);
    int32_t expired = -1;
    REQUIRE_OK(od_log_expire_producers(log, 6000, cfg.producer_id_expiration_ms, &expired));
    CHECK_EQ_INT(expired, 1);
    CHECK(od_pstate_find(od_log_producer_state(log), 52) == NULL);
    CHECK(od_pstate_find(od_log_producer_state(log), 51) != NULL);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_compressed_batches(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg;
    od_log_config_default(&cfg);
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    od_compression codecs[] = {OD_COMPRESSION_GZIP, OD_COMPRESSION_SNAPPY, OD_COMPRESSION_LZ4,
                               OD_COMPRESSION_ZSTD};
    for (int i = 0; i < 4; i++) {
        od_writer w;
        od_writer_init(&w, 256);
        pbatch(&w, -1, -1, -1, 10, 1000 * (i + 1), codecs[i], false);
        REQUIRE_OK(od_log_append_leader(log, w.buf, w.len, 0, 0, NULL));
        /* A cut-short payload under a valid CRC is refused after
         * decompression: Kafka 3.9 fails the codec's exception as an
         * unexpected one, or the records that come out as invalid. */
        size_t cut = w.len - 3;
        od_store_be32(w.buf + OD_BATCH_LENGTH_AT, (uint32_t)(cut - OD_LOG_OVERHEAD));
        od_batch_restamp_crc(w.buf, cut);
        od_st_err err = od_log_append_leader(log, w.buf, cut, 0, 0, NULL);
        CHECKF(err == OD_ST_INVALID_RECORD || err == OD_ST_BAD_COMPRESSED_BATCH, "codec %d: %s", i,
               od_st_err_name(err));
        od_writer_free(&w);
    }
    CHECK_EQ_INT(od_log_end_offset(log), 40);
    int64_t off, ts;
    /* Records inside compressed batches are found exactly. */
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, 3004, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 24);
    CHECK_EQ_INT(ts, 3004);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, 1009, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 9);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, 1010, &off, &ts), OD_ST_OK);
    CHECK_EQ_INT(off, 10);
    CHECK_EQ_INT(ts, 2000);
    CHECK_EQ_INT(od_log_offset_for_timestamp(log, OD_TS_MAX_TIMESTAMP, &off, &ts), OD_ST_OK);
    CHECK(off == 39 && ts == 4009);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void count_aborted(void *ctx, const od_aborted_txn *t)
{
    od_aborted_txn *out = ctx;
    out[0].producer_id++; /* slot 0 counts, slot 1 keeps the last one */
    out[1] = *t;
}

static od_st_err marker(od_log *log, int64_t pid, od_control_type type, int32_t coord_epoch)
{
    od_writer w;
    od_writer_init(&w, 128);
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.producer_id = pid;
    p.producer_epoch = 0;
    od_control_batch_build(&p, type, coord_epoch, 5000, &w);
    od_st_err err = od_log_append_leader(log, w.buf, w.len, 0, 5000, NULL);
    od_writer_free(&w);
    return err;
}

static void test_transactions_and_txnindex(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg;
    od_log_config_default(&cfg);
    od_log *log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    od_writer w;
    od_writer_init(&w, 256);
    pbatch(&w, 1, 0, 0, 3, 100, OD_COMPRESSION_NONE, true); /* A: 0..2 */
    REQUIRE_OK(od_log_append_leader(log, w.buf, w.len, 0, 0, NULL));
    w.len = 0;
    pbatch(&w, 1, 0, 3, 3, 100, OD_COMPRESSION_NONE, true); /* A: 3..5 */
    REQUIRE_OK(od_log_append_leader(log, w.buf, w.len, 0, 0, NULL));
    w.len = 0;
    pbatch(&w, 2, 0, 0, 3, 100, OD_COMPRESSION_NONE, true); /* B: 6..8 */
    REQUIRE_OK(od_log_append_leader(log, w.buf, w.len, 0, 0, NULL));
    od_writer_free(&w);
    od_log_set_high_watermark(log, 9);
    CHECK_EQ_INT(od_log_last_stable_offset(log), 0);
    REQUIRE_OK(marker(log, 1, OD_CONTROL_ABORT, 7)); /* offset 9 */
    /* The abort marker is at or above the HW: A is not stable yet. */
    CHECK_EQ_INT(od_log_last_stable_offset(log), 0);
    od_log_set_high_watermark(log, 10);
    CHECK_EQ_INT(od_log_last_stable_offset(log), 6);
    REQUIRE_OK(marker(log, 2, OD_CONTROL_COMMIT, 7)); /* offset 10 */
    od_log_set_high_watermark(log, 11);
    CHECK_EQ_INT(od_log_last_stable_offset(log), 11);
    CHECK_EQ_INT(od_pstate_find(od_log_producer_state(log), 1)->coordinator_epoch, 7);

    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.txnindex"), 34);
    char path[512], *raw;
    size_t len;
    snprintf(path, sizeof path, "%s/t-0/00000000000000000000.txnindex", dir);
    REQUIRE(od_fio_read_file(od_fio_posix(), path, 1024, &raw, &len) == 0);
    const uint8_t *b = (const uint8_t *)raw;
    CHECK_EQ_INT(od_load_be16(b), 0);
    CHECK_EQ_INT((int64_t)od_load_be64(b + 2), 1);
    CHECK_EQ_INT((int64_t)od_load_be64(b + 10), 0);
    CHECK_EQ_INT((int64_t)od_load_be64(b + 18), 9);
    CHECK_EQ_INT((int64_t)od_load_be64(b + 26), 6);
    od_aborted_txn got[2] = {0};
    REQUIRE_OK(od_log_collect_aborted(log, 0, 11, count_aborted, got));
    CHECK_EQ_INT(got[0].producer_id, 1);
    CHECK(got[1].producer_id == 1 && got[1].first_offset == 0 && got[1].last_offset == 9);
    memset(got, 0, sizeof got);
    REQUIRE_OK(od_log_collect_aborted(log, 10, 11, count_aborted, got));
    CHECK_EQ_INT(got[0].producer_id, 0);

    /* A crash that lost the .txnindex: the replay at open writes it again. */
    CHECK_EQ_INT(od_log_close(log, false), OD_ST_OK);
    CHECK_EQ_INT(unlink(path), 0);
    log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    char *raw2;
    REQUIRE(od_fio_read_file(od_fio_posix(), path, 1024, &raw2, &len) == 0);
    CHECK(len == 34 && memcmp(raw, raw2, 34) == 0);
    free(raw2);
    free(raw);
    /* Truncating below the marker takes its entry; A is open again. */
    REQUIRE_OK(od_log_truncate_to(log, 9));
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.txnindex"), 0);
    od_log_set_high_watermark(log, 9);
    CHECK_EQ_INT(od_log_last_stable_offset(log), 0);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

OD_TEST_MAIN(OD_CASE(test_sequence_rules), OD_CASE(test_snapshot_format), OD_CASE(test_idempotent_log), OD_CASE(test_producer_expiry), OD_CASE(test_expired_producers_after_crash),
             OD_CASE(test_compressed_batches), OD_CASE(test_transactions_and_txnindex))
