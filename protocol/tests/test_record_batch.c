#include "od_test.h"
#include "records/batch_builder.h"
#include "records/compression.h"
#include "records/record_batch.h"
#include "records/records.h"

#include <sys/resource.h>
#include <zlib.h>
#include <zstd.h>

enum { LIMIT = 1 << 20 };

/* od_test.h's REQUIRE evaluates its condition twice; these evaluate once, so
 * calls with side effects (next, build) can go inside. */
#define REQUIRE_OK(expr)                                                                          \
    do {                                                                                          \
        od_batch_err req_err_ = (expr);                                                           \
        CHECKF(req_err_ == OD_BATCH_OK, "%s: %s", #expr, od_batch_err_name(req_err_));            \
        if (req_err_ != OD_BATCH_OK)                                                              \
            return;                                                                               \
    } while (0)
#define REQUIRE_TRUE(expr)                                                                        \
    do {                                                                                          \
        bool req_ok_ = (expr);                                                                    \
        REQUIRE(req_ok_);                                                                         \
    } while (0)

static bool bytes_eq_cstr(od_bytes b, const char *s)
{
    return b.len >= 0 && (size_t)b.len == strlen(s) && memcmp(b.ptr, s, (size_t)b.len) == 0;
}

/*
 * A v2 batch written out by hand from the protocol guide's layout: two
 * records, the first with a key and one header, the second with a null key
 * and a header whose value is null. The CRC was computed with a separate
 * bit-at-a-time CRC-32C, not with the code under test.
 */
static const uint8_t golden[] = {
    /* baseOffset int64 = 42 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
    /* batchLength int32 = 82 (bytes after this field) */
    0x00, 0x00, 0x00, 0x52,
    /* partitionLeaderEpoch int32 = 7 */
    0x00, 0x00, 0x00, 0x07,
    /* magic int8 = 2 */
    0x02,
    /* crc uint32, CRC-32C of attributes..end */
    0x8c, 0xc6, 0x6c, 0x53,
    /* attributes int16 = 0 (no compression, create time, not transactional) */
    0x00, 0x00,
    /* lastOffsetDelta int32 = 1 */
    0x00, 0x00, 0x00, 0x01,
    /* baseTimestamp int64 = 1700000000000 */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
    /* maxTimestamp int64 = 1700000000005 */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x05,
    /* producerId int64 = 1234 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xd2,
    /* producerEpoch int16 = 3 */
    0x00, 0x03,
    /* baseSequence int32 = 10 */
    0x00, 0x00, 0x00, 0x0a,
    /* recordCount int32 = 2 */
    0x00, 0x00, 0x00, 0x02,
    /* record 0: length varint 17 */
    0x22,
    /*   attributes int8 0, timestampDelta varlong 0, offsetDelta varint 0 */
    0x00, 0x00, 0x00,
    /*   key: varint length 1, "k" */
    0x02, 'k',
    /*   value: varint length 5, "hello" */
    0x0a, 'h', 'e', 'l', 'l', 'o',
    /*   headers: count 1; key length 2 "h1"; value length 1 "v" */
    0x02, 0x04, 'h', '1', 0x02, 'v',
    /* record 1: length varint 14 */
    0x1c,
    /*   attributes 0, timestampDelta 5, offsetDelta 1 */
    0x00, 0x0a, 0x02,
    /*   key: varint -1 (null) */
    0x01,
    /*   value: length 5 "world" */
    0x0a, 'w', 'o', 'r', 'l', 'd',
    /*   headers: count 1; key length 1 "x"; value -1 (null) */
    0x02, 0x02, 'x', 0x01,
};

static void golden_header_fields(void)
{
    od_batch_header h;
    REQUIRE_OK(od_batch_header_parse(golden, sizeof golden, &h));
    CHECK_EQ_INT(h.base_offset, 42);
    CHECK_EQ_INT(h.batch_length, 82);
    CHECK_EQ_INT(h.partition_leader_epoch, 7);
    CHECK_EQ_INT(h.magic, 2);
    CHECK_EQ_INT(h.crc, 0x8cc66c53u);
    CHECK_EQ_INT(h.attributes, 0);
    CHECK_EQ_INT(h.last_offset_delta, 1);
    CHECK_EQ_INT(h.base_timestamp, 1700000000000);
    CHECK_EQ_INT(h.max_timestamp, 1700000000005);
    CHECK_EQ_INT(h.producer_id, 1234);
    CHECK_EQ_INT(h.producer_epoch, 3);
    CHECK_EQ_INT(h.base_sequence, 10);
    CHECK_EQ_INT(h.record_count, 2);
    CHECK_EQ_INT(od_batch_last_offset(&h), 43);
    CHECK_EQ_INT(od_batch_compression(&h), OD_COMPRESSION_NONE);
    CHECK(!od_batch_is_transactional(&h));
    CHECK(!od_batch_is_control(&h));
    CHECK_EQ_INT(od_batch_total_size(golden, sizeof golden), sizeof golden);
    CHECK(od_batch_crc_ok(golden, sizeof golden));
    CHECK_EQ_INT(od_batch_validate(golden, sizeof golden, NULL), OD_BATCH_OK);
}

static void header_rejections(void)
{
    uint8_t b[sizeof golden];
    od_batch_header h;
    memcpy(b, golden, sizeof b);
    b[OD_BATCH_MAGIC_AT] = 1;
    CHECK_EQ_INT(od_batch_header_parse(b, sizeof b, &h), OD_BATCH_BAD_MAGIC);
    memcpy(b, golden, sizeof b);
    od_store_be32(b + OD_BATCH_LENGTH_AT, 48);
    CHECK_EQ_INT(od_batch_header_parse(b, sizeof b, &h), OD_BATCH_BAD_LENGTH);
    od_store_be32(b + OD_BATCH_LENGTH_AT, 0xffffffffu);
    CHECK_EQ_INT(od_batch_header_parse(b, sizeof b, &h), OD_BATCH_BAD_LENGTH);
    CHECK_EQ_INT(od_batch_total_size(b, sizeof b), 0);
    CHECK_EQ_INT(od_batch_total_size(golden, OD_LOG_OVERHEAD - 1), 0);
    CHECK_EQ_INT(od_batch_total_size(golden, OD_LOG_OVERHEAD), sizeof golden);
    /* A prefix holding only the header still parses: storage reads headers alone. */
    CHECK_EQ_INT(od_batch_header_parse(golden, OD_BATCH_HEADER_SIZE, &h), OD_BATCH_OK);
    CHECK_EQ_INT(od_batch_validate(golden, OD_BATCH_HEADER_SIZE, &h), OD_BATCH_TRUNCATED);
}

static void crc_detects_every_single_bit_flip(void)
{
    uint8_t b[sizeof golden];
    for (size_t i = OD_BATCH_CRC_AT; i < sizeof golden; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, golden, sizeof b);
            b[i] ^= (uint8_t)(1u << bit);
            CHECKF(!od_batch_crc_ok(b, sizeof b), "flip at byte %zu bit %d not detected", i, bit);
        }
}

static void restamp_after_header_edit(void)
{
    uint8_t b[sizeof golden + 5];
    memcpy(b, golden, sizeof golden);
    memset(b + sizeof golden, 0xee, 5); /* trailing bytes belong to the next batch */
    od_store_be64(b + OD_BATCH_BASE_OFFSET_AT, 1000); /* outside the CRC */
    CHECK(od_batch_crc_ok(b, sizeof b));
    od_store_be64(b + OD_BATCH_MAX_TIMESTAMP_AT, 1800000000000); /* inside the CRC */
    CHECK(!od_batch_crc_ok(b, sizeof b));
    od_batch_restamp_crc(b, sizeof b);
    CHECK(od_batch_crc_ok(b, sizeof b));
    CHECK(!od_batch_crc_ok(b, sizeof golden - 1));
}

static void truncation_at_every_length_fails_cleanly(void)
{
    for (size_t n = 0; n < sizeof golden; n++) {
        /* A fresh heap copy of exactly n bytes lets ASan catch any overread. */
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, golden, n);
        od_batch_header h;
        od_batch_err e = od_batch_validate(p, n, &h);
        CHECKF(e == OD_BATCH_TRUNCATED, "length %zu: %s", n, od_batch_err_name(e));
        CHECK(!od_batch_crc_ok(p, n));
        free(p);
    }
}


static void golden_records_field_by_field(void)
{
    od_record_iter it;
    REQUIRE_OK(od_record_iter_init(&it, golden, sizeof golden, LIMIT));
    od_record rec;
    od_record_header hdr;
    od_header_iter hi;

    REQUIRE_TRUE(od_record_iter_next(&it, &rec));
    CHECK_EQ_INT(rec.attributes, 0);
    CHECK_EQ_INT(rec.timestamp_delta, 0);
    CHECK_EQ_INT(rec.offset_delta, 0);
    CHECK_EQ_INT(rec.offset, 42);
    CHECK_EQ_INT(rec.timestamp, 1700000000000);
    CHECK(bytes_eq_cstr(rec.key, "k"));
    CHECK(bytes_eq_cstr(rec.value, "hello"));
    CHECK_EQ_INT(rec.header_count, 1);
    CHECK(rec.value.ptr >= golden && rec.value.ptr < golden + sizeof golden); /* a view, no copy */
    od_header_iter_init(&hi, &rec);
    REQUIRE_TRUE(od_header_iter_next(&hi, &hdr));
    CHECK(od_str_eq_cstr(hdr.key, "h1"));
    CHECK(bytes_eq_cstr(hdr.value, "v"));
    CHECK(!od_header_iter_next(&hi, &hdr));

    REQUIRE_TRUE(od_record_iter_next(&it, &rec));
    CHECK_EQ_INT(rec.timestamp_delta, 5);
    CHECK_EQ_INT(rec.offset_delta, 1);
    CHECK_EQ_INT(rec.offset, 43);
    CHECK_EQ_INT(rec.timestamp, 1700000000005);
    CHECK_EQ_INT(rec.key.len, -1);
    CHECK(bytes_eq_cstr(rec.value, "world"));
    od_header_iter_init(&hi, &rec);
    REQUIRE_TRUE(od_header_iter_next(&hi, &hdr));
    CHECK(od_str_eq_cstr(hdr.key, "x"));
    CHECK_EQ_INT(hdr.value.len, -1);

    CHECK(!od_record_iter_next(&it, &rec));
    CHECK_EQ_INT(it.err, OD_BATCH_OK);
    od_record_iter_finish(&it);
}

static od_batch_params golden_params(void)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.base_offset = 42;
    p.partition_leader_epoch = 7;
    p.producer_id = 1234;
    p.producer_epoch = 3;
    p.base_sequence = 10;
    return p;
}

static void builder_reproduces_golden_bytes(void)
{
    const od_record_header h0[] = {{OD_STR_LIT("h1"), {(const uint8_t *)"v", 1}}};
    const od_record_header h1[] = {{OD_STR_LIT("x"), OD_BYTES_NULL}};
    const od_builder_record recs[] = {
        {1700000000000, {(const uint8_t *)"k", 1}, {(const uint8_t *)"hello", 5}, h0, 1},
        {1700000000005, OD_BYTES_NULL, {(const uint8_t *)"world", 5}, h1, 1},
    };
    od_batch_params p = golden_params();
    od_writer w;
    od_writer_init(&w, 0);
    od_write_raw(&w, "pre", 3); /* the batch is appended after what is already there */
    REQUIRE_OK(od_batch_build(&p, recs, 2, &w));
    CHECK_EQ_INT(w.len, 3 + sizeof golden);
    CHECK_MEM(w.buf + 3, golden, sizeof golden);
    od_writer_free(&w);
}

/* Fixed-seed xorshift so failures reproduce. */
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

enum { MANY = 300 };

static void build_parse_iterate_every_codec(void)
{
    static uint8_t payload[MANY][64];
    static od_builder_record recs[MANY];
    static const od_record_header hdrs[2] = {{OD_STR_LIT("trace"), {(const uint8_t *)"abc", 3}},
                                             {OD_STR_LIT("empty"), {(const uint8_t *)"", 0}}};
    for (int i = 0; i < MANY; i++) {
        size_t n = (size_t)(rng() % 64);
        for (size_t j = 0; j < n; j++)
            payload[i][j] = (uint8_t)(i % 7 == 0 ? rng() : 'a' + (j % 5));
        recs[i].timestamp = 1700000000000 + (int64_t)(rng() % 1000) - 500; /* out of order */
        recs[i].key = (i % 3 == 0) ? OD_BYTES_NULL : (od_bytes){payload[i], (int32_t)(n / 2)};
        recs[i].value = (i % 11 == 0) ? OD_BYTES_NULL : (od_bytes){payload[i], (int32_t)n};
        recs[i].headers = hdrs;
        recs[i].header_count = i % 3;
        if (recs[i].header_count > 2)
            recs[i].header_count = 2;
    }
    int64_t max_ts = recs[0].timestamp;
    for (int i = 1; i < MANY; i++)
        if (recs[i].timestamp > max_ts)
            max_ts = recs[i].timestamp;

    for (int codec = OD_COMPRESSION_NONE; codec <= OD_COMPRESSION_ZSTD; codec++) {
        od_batch_params p = OD_BATCH_PARAMS_INIT;
        p.base_offset = 1000;
        p.compression = (od_compression)codec;
        p.transactional = codec == OD_COMPRESSION_LZ4;
        p.producer_id = 77;
        p.producer_epoch = 2;
        p.base_sequence = 5;
        od_writer w;
        od_writer_init(&w, 0);
        REQUIRE_OK(od_batch_build(&p, recs, MANY, &w));
        od_batch_header h;
        CHECKF(od_batch_validate(w.buf, w.len, &h) == OD_BATCH_OK, "codec %d", codec);
        CHECK_EQ_INT(od_batch_total_size(w.buf, w.len), w.len);
        CHECK_EQ_INT(od_batch_compression(&h), codec);
        CHECK_EQ_INT(h.record_count, MANY);
        CHECK_EQ_INT(h.last_offset_delta, MANY - 1);
        CHECK_EQ_INT(h.base_timestamp, recs[0].timestamp);
        CHECK_EQ_INT(h.max_timestamp, max_ts);
        CHECK_EQ_INT(od_batch_is_transactional(&h), codec == OD_COMPRESSION_LZ4);
        CHECK_EQ_INT(h.producer_id, 77);
        CHECK_EQ_INT(h.base_sequence, 5);
        CHECK_EQ_INT(h.partition_leader_epoch, -1);

        od_record_iter it;
        REQUIRE_OK(od_record_iter_init(&it, w.buf, w.len, LIMIT));
        od_record rec;
        int i = 0;
        while (od_record_iter_next(&it, &rec)) {
            CHECK_EQ_INT(rec.offset, 1000 + i);
            CHECK_EQ_INT(rec.timestamp, recs[i].timestamp);
            CHECK_EQ_INT(rec.key.len, recs[i].key.len);
            CHECK_EQ_INT(rec.value.len, recs[i].value.len);
            if (rec.value.len > 0)
                CHECK_MEM(rec.value.ptr, recs[i].value.ptr, (size_t)rec.value.len);
            CHECK_EQ_INT(rec.header_count, recs[i].header_count);
            od_header_iter hi;
            od_record_header hh;
            od_header_iter_init(&hi, &rec);
            for (int k = 0; k < rec.header_count; k++) {
                REQUIRE_TRUE(od_header_iter_next(&hi, &hh));
                CHECK(od_str_eq(hh.key, hdrs[k].key));
                CHECK_EQ_INT(hh.value.len, hdrs[k].value.len);
            }
            i++;
        }
        CHECKF(it.err == OD_BATCH_OK, "codec %d: %s", codec, od_batch_err_name(it.err));
        CHECK_EQ_INT(i, MANY);
        od_record_iter_finish(&it);
        CHECK_EQ_INT(od_batch_validate_records(w.buf, w.len, LIMIT), OD_BATCH_OK);
        /* The records take ~10 KiB uncompressed: a smaller bound must refuse them. */
        if (codec != OD_COMPRESSION_NONE)
            CHECK_EQ_INT(od_batch_validate_records(w.buf, w.len, 1024), OD_BATCH_TOO_LARGE);
        od_writer_free(&w);
    }
}

static void builder_flags_and_log_append_time(void)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.log_append_time = true;
    p.log_append_time_ms = 1800000000000;
    p.control = true;
    od_builder_record r = {1700000000000, OD_BYTES_NULL, OD_BYTES_NULL, NULL, 0};
    od_writer w;
    od_writer_init(&w, 0);
    REQUIRE_OK(od_batch_build(&p, &r, 1, &w));
    od_batch_header h;
    REQUIRE_OK(od_batch_validate(w.buf, w.len, &h));
    CHECK_EQ_INT(h.attributes, OD_BATCH_ATTR_LOG_APPEND_TIME | OD_BATCH_ATTR_CONTROL);
    CHECK_EQ_INT(h.max_timestamp, 1800000000000);
    CHECK_EQ_INT(h.base_timestamp, 1700000000000);
    od_record_iter it;
    od_record rec;
    REQUIRE_OK(od_record_iter_init(&it, w.buf, w.len, LIMIT));
    REQUIRE_TRUE(od_record_iter_next(&it, &rec));
    CHECK_EQ_INT(rec.timestamp, 1800000000000); /* consumers see the append time */
    od_record_iter_finish(&it);

    /* An empty batch or a null header key is refused and leaves the writer alone. */
    size_t before = w.len;
    CHECK_EQ_INT(od_batch_build(&p, &r, 0, &w), OD_BATCH_INVALID_RECORD);
    const od_record_header bad[] = {{OD_STR_NULL, OD_BYTES_NULL}};
    r.headers = bad;
    r.header_count = 1;
    CHECK_EQ_INT(od_batch_build(&p, &r, 1, &w), OD_BATCH_INVALID_RECORD);
    p.compression = (od_compression)5;
    r.header_count = 0;
    CHECK_EQ_INT(od_batch_build(&p, &r, 1, &w), OD_BATCH_BAD_COMPRESSION);
    CHECK_EQ_INT(w.len, before);
    od_writer_free(&w);
}

static void control_batches_round_trip(void)
{
    for (int t = OD_CONTROL_ABORT; t <= OD_CONTROL_COMMIT; t++) {
        od_batch_params p = OD_BATCH_PARAMS_INIT;
        p.base_offset = 500;
        p.partition_leader_epoch = 4;
        p.producer_id = 9000;
        p.producer_epoch = 12;
        p.base_sequence = 33;                   /* ignored: markers carry no sequence */
        p.compression = OD_COMPRESSION_ZSTD;    /* ignored: markers are uncompressed */
        od_writer w;
        od_writer_init(&w, 0);
        REQUIRE_OK(od_control_batch_build(&p, (od_control_type)t, 17, 1700000000123, &w));
        od_batch_header h;
        REQUIRE_OK(od_batch_validate(w.buf, w.len, &h));
        CHECK_EQ_INT(h.attributes, OD_BATCH_ATTR_TRANSACTIONAL | OD_BATCH_ATTR_CONTROL);
        CHECK_EQ_INT(h.base_sequence, -1);
        CHECK_EQ_INT(h.producer_id, 9000);
        CHECK_EQ_INT(h.producer_epoch, 12);
        CHECK_EQ_INT(h.partition_leader_epoch, 4);
        CHECK_EQ_INT(h.record_count, 1);
        CHECK_EQ_INT(h.max_timestamp, 1700000000123);
        od_record_iter it;
        od_record rec;
        REQUIRE_OK(od_record_iter_init(&it, w.buf, w.len, LIMIT));
        REQUIRE_TRUE(od_record_iter_next(&it, &rec));
        /* Key and value bytes as Kafka writes them: version 0 first. */
        const uint8_t key[4] = {0, 0, 0, (uint8_t)t};
        const uint8_t value[6] = {0, 0, 0, 0, 0, 17};
        REQUIRE(rec.key.len == 4 && rec.value.len == 6);
        CHECK_MEM(rec.key.ptr, key, 4);
        CHECK_MEM(rec.value.ptr, value, 6);
        od_control_record c;
        CHECK_EQ_INT(od_control_record_parse(&rec, &c), OD_BATCH_OK);
        CHECK_EQ_INT(c.type, t);
        CHECK_EQ_INT(c.key_version, 0);
        CHECK_EQ_INT(c.coordinator_epoch, 17);
        od_record_iter_finish(&it);
        od_writer_free(&w);
    }
    /* Short keys and short marker values are refused. */
    const uint8_t k[4] = {0, 0, 0, 1};
    od_record rec = {0};
    rec.key = (od_bytes){k, 3};
    rec.value = OD_BYTES_NULL;
    od_control_record c;
    CHECK_EQ_INT(od_control_record_parse(&rec, &c), OD_BATCH_INVALID_RECORD);
    rec.key.len = 4;
    CHECK_EQ_INT(od_control_record_parse(&rec, &c), OD_BATCH_INVALID_RECORD);
    const uint8_t other[4] = {0, 0, 0, 3}; /* a KRaft control type: value left alone */
    rec.key.ptr = other;
    CHECK_EQ_INT(od_control_record_parse(&rec, &c), OD_BATCH_OK);
    CHECK_EQ_INT(c.type, 3);
}

/* Copies the golden batch, lets `edit` change the records, fixes the length
 * and CRC, and returns the iterator's verdict. */
static od_batch_err iterate_edited(const uint8_t *records, size_t records_len, int32_t count)
{
    uint8_t buf[256];
    memcpy(buf, golden, OD_BATCH_HEADER_SIZE);
    memcpy(buf + OD_BATCH_HEADER_SIZE, records, records_len);
    size_t total = OD_BATCH_HEADER_SIZE + records_len;
    od_store_be32(buf + OD_BATCH_LENGTH_AT, (uint32_t)(total - OD_LOG_OVERHEAD));
    od_store_be32(buf + OD_BATCH_RECORD_COUNT_AT, (uint32_t)count);
    od_batch_restamp_crc(buf, total);
    return od_batch_validate_records(buf, total, LIMIT);
}

static void record_length_consistency(void)
{
    const uint8_t *recs = golden + OD_BATCH_HEADER_SIZE;
    size_t n = sizeof golden - OD_BATCH_HEADER_SIZE;
    CHECK_EQ_INT(iterate_edited(recs, n, 2), OD_BATCH_OK);
    /* count says 3, only 2 present */
    CHECK_EQ_INT(iterate_edited(recs, n, 3), OD_BATCH_INVALID_RECORD);
    /* count says 1, a whole record follows */
    CHECK_EQ_INT(iterate_edited(recs, n, 1), OD_BATCH_INVALID_RECORD);
    /* trailing garbage after the last record */
    uint8_t more[128];
    memcpy(more, recs, n);
    more[n] = 0x00;
    CHECK_EQ_INT(iterate_edited(more, n + 1, 2), OD_BATCH_INVALID_RECORD);
    /* record length one too long: it swallows the next record's first byte,
     * so its fields no longer fill it */
    memcpy(more, recs, n);
    more[0] = 0x24; /* 18 instead of 17 */
    CHECK_EQ_INT(iterate_edited(more, n, 2), OD_BATCH_CORRUPT);
    /* record length one too short: the headers overrun it */
    more[0] = 0x20; /* 16 */
    CHECK_EQ_INT(iterate_edited(more, n, 2), OD_BATCH_CORRUPT);
    /* negative record length */
    more[0] = 0x01;
    CHECK_EQ_INT(iterate_edited(more, n, 2), OD_BATCH_CORRUPT);
    /* a value length pointing past the record */
    memcpy(more, recs, n);
    more[6] = 0x0c; /* 6 instead of 5 */
    CHECK_EQ_INT(iterate_edited(more, n, 2), OD_BATCH_CORRUPT);
    /* a null header key (-1) */
    memcpy(more, recs, n);
    more[13] = 0x01; /* header key length -1; the rest no longer fits */
    CHECK_EQ_INT(iterate_edited(more, n, 2), OD_BATCH_CORRUPT);
    /* offset deltas out of order: second record claims delta 0 */
    memcpy(more, recs, n);
    more[18 + 3] = 0x00;
    CHECK_EQ_INT(iterate_edited(more, n, 2), OD_BATCH_BAD_OFFSET_DELTA);
    /* offset delta past lastOffsetDelta */
    more[18 + 3] = 0x04; /* 2 > lastOffsetDelta 1 */
    CHECK_EQ_INT(iterate_edited(more, n, 2), OD_BATCH_BAD_OFFSET_DELTA);
    /* negative record count */
    CHECK_EQ_INT(iterate_edited(recs, n, -1), OD_BATCH_INVALID_RECORD);
}

static void iterator_truncation_at_every_length(void)
{
    for (int codec = OD_COMPRESSION_NONE; codec <= OD_COMPRESSION_ZSTD; codec++) {
        const od_record_header h0[] = {{OD_STR_LIT("h"), {(const uint8_t *)"v", 1}}};
        od_builder_record recs[3] = {
            {1, {(const uint8_t *)"key", 3}, {(const uint8_t *)"value-one", 9}, h0, 1},
            {2, OD_BYTES_NULL, {(const uint8_t *)"value-two", 9}, NULL, 0},
            {3, {(const uint8_t *)"k3", 2}, OD_BYTES_NULL, NULL, 0},
        };
        od_batch_params p = OD_BATCH_PARAMS_INIT;
        p.compression = (od_compression)codec;
        od_writer w;
        od_writer_init(&w, 0);
        REQUIRE_OK(od_batch_build(&p, recs, 3, &w));
        for (size_t n = 0; n < w.len; n++) {
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, w.buf, n);
            CHECK_EQ_INT(od_batch_validate_records(cut, n, LIMIT), OD_BATCH_TRUNCATED);
            free(cut);
        }
        /* Shrinking batchLength (and re-stamping the CRC) cuts the compressed
         * payload itself: the codec or record decoder must refuse it. */
        for (size_t n = OD_BATCH_HEADER_SIZE; n < w.len; n++) {
            uint8_t *cut = malloc(n);
            memcpy(cut, w.buf, n);
            od_store_be32(cut + OD_BATCH_LENGTH_AT, (uint32_t)(n - OD_LOG_OVERHEAD));
            od_batch_restamp_crc(cut, n);
            od_batch_err e = od_batch_validate_records(cut, n, LIMIT);
            CHECKF(e == OD_BATCH_BAD_COMPRESSION || e == OD_BATCH_CORRUPT ||
                       e == OD_BATCH_INVALID_RECORD,
                   "codec %d cut at %zu: %s", codec, n, od_batch_err_name(e));
            free(cut);
        }
        od_writer_free(&w);
    }
}

static void crc_corruption_detected_by_iterator(void)
{
    uint8_t b[sizeof golden];
    memcpy(b, golden, sizeof b);
    b[sizeof b - 3] ^= 0x20;
    od_record_iter it;
    CHECK_EQ_INT(od_record_iter_init(&it, b, sizeof b, LIMIT), OD_BATCH_CORRUPT);
    od_record rec;
    CHECK(!od_record_iter_next(&it, &rec));
    od_record_iter_finish(&it);
    od_record_iter_finish(&it); /* twice is fine */
}

static void record_set_splits_mixed_entries(void)
{
    /* golden v2 batch, then a legacy v0 message, then a control batch, then
     * half of another golden batch. */
    static const uint8_t v0[] = {0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0x11, 0x61, 0x50, 0x54, 0x27,
                                 0, 0, 0, 0, 0, 1, 'k', 0, 0, 0, 2, 'v', '1'};
    od_writer w;
    od_writer_init(&w, 0);
    od_write_raw(&w, golden, sizeof golden);
    od_write_raw(&w, v0, sizeof v0);
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    REQUIRE_OK(od_control_batch_build(&p, OD_CONTROL_ABORT, 1, 2, &w));
    size_t control_len = w.len - sizeof golden - sizeof v0;
    size_t whole = w.len;
    od_write_raw(&w, golden, sizeof golden / 2);

    od_record_set_iter it;
    od_record_set_iter_init(&it, w.buf, w.len);
    const uint8_t *e;
    size_t n;
    int8_t magic;
    REQUIRE_TRUE(od_record_set_next(&it, &e, &n, &magic));
    CHECK(e == w.buf && n == sizeof golden && magic == 2);
    REQUIRE_TRUE(od_record_set_next(&it, &e, &n, &magic));
    CHECK(n == sizeof v0 && magic == 0);
    REQUIRE_TRUE(od_record_set_next(&it, &e, &n, &magic));
    CHECK(n == control_len && magic == 2);
    CHECK(!od_record_set_next(&it, &e, &n, &magic));
    CHECK_EQ_INT(it.err, OD_BATCH_TRUNCATED);
    CHECK_EQ_INT(it.pos, whole);

    od_record_set_iter_init(&it, w.buf, whole);
    int count = 0;
    while (od_record_set_next(&it, &e, &n, &magic))
        count++;
    CHECK_EQ_INT(count, 3);
    CHECK_EQ_INT(it.err, OD_BATCH_OK);

    w.buf[OD_BATCH_MAGIC_AT] = 3;
    od_record_set_iter_init(&it, w.buf, whole);
    CHECK(!od_record_set_next(&it, &e, &n, &magic));
    CHECK_EQ_INT(it.err, OD_BATCH_BAD_MAGIC);
    w.buf[OD_BATCH_MAGIC_AT] = 2;
    od_store_be32(w.buf + OD_BATCH_LENGTH_AT, 48);
    od_record_set_iter_init(&it, w.buf, whole);
    CHECK(!od_record_set_next(&it, &e, &n, &magic));
    CHECK_EQ_INT(it.err, OD_BATCH_BAD_LENGTH);
    od_writer_free(&w);
}

/* ---------------------------------------------------------------- codecs */

static void codecs_round_trip_sizes(void)
{
    const size_t sizes[] = {0, 1, 100, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 200000};
    uint8_t *src = malloc(200000);
    REQUIRE(src != NULL);
    for (size_t i = 0; i < 200000; i++)
        src[i] = (i / 1000) % 2 ? (uint8_t)rng() : (uint8_t)(i % 13);
    for (int codec = OD_COMPRESSION_GZIP; codec <= OD_COMPRESSION_ZSTD; codec++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            od_writer w;
            od_writer_init(&w, 0);
            REQUIRE_OK(od_compress((od_compression)codec, src, sizes[s], &w));
            uint8_t *out;
            size_t out_len;
            od_batch_err e =
                od_decompress((od_compression)codec, w.buf, w.len, sizes[s], &out, &out_len);
            CHECKF(e == OD_BATCH_OK, "%s size %zu: %s", od_compression_name(codec), sizes[s],
                   od_batch_err_name(e));
            if (e == OD_BATCH_OK) {
                CHECK(out != NULL);
                CHECK_EQ_INT(out_len, sizes[s]);
                CHECK_MEM(out, src, sizes[s]);
                free(out);
            }
            /* Exactly one byte under the size must fail as too large. */
            if (sizes[s] > 0) {
                e = od_decompress((od_compression)codec, w.buf, w.len, sizes[s] - 1, &out,
                                  &out_len);
                CHECKF(e == OD_BATCH_TOO_LARGE, "%s size %zu limit-1: %s",
                       od_compression_name(codec), sizes[s], od_batch_err_name(e));
                CHECK(out == NULL);
            }
            od_writer_free(&w);
        }
    free(src);
}

static void snappy_xerial_layout_and_raw_blocks(void)
{
    uint8_t src[70000];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i % 251);
    od_writer w;
    od_writer_init(&w, 0);
    REQUIRE_OK(od_compress(OD_COMPRESSION_SNAPPY, src, sizeof src, &w));
    const uint8_t header[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    REQUIRE(w.len > 16);
    CHECK_MEM(w.buf, header, 16);
    /* 70000 bytes in 32 KiB blocks: three chunks, each length-prefixed. */
    size_t pos = 16;
    int chunks = 0;
    while (pos + 4 <= w.len) {
        pos += 4 + od_load_be32(w.buf + pos);
        chunks++;
    }
    CHECK_EQ_INT(pos, w.len);
    CHECK_EQ_INT(chunks, 3);

    /* A raw snappy block (no framing), as some non-Java clients send. The
     * first chunk of the framed stream is one: 32768 bytes of input. */
    uint32_t first = od_load_be32(w.buf + 16);
    uint8_t *out;
    size_t out_len;
    REQUIRE_OK(od_decompress(OD_COMPRESSION_SNAPPY, w.buf + 20, first, LIMIT, &out, &out_len));
    CHECK_EQ_INT(out_len, 32768);
    CHECK_MEM(out, src, 32768);
    free(out);

    /* A chunk length past the end, a short header, garbage: all refused. */
    uint8_t bad[64];
    memcpy(bad, header, 16);
    od_store_be32(bad + 16, 1000);
    memset(bad + 20, 0, 10);
    CHECK_EQ_INT(od_decompress(OD_COMPRESSION_SNAPPY, bad, 30, LIMIT, &out, &out_len),
                 OD_BATCH_BAD_COMPRESSION);
    CHECK_EQ_INT(od_decompress(OD_COMPRESSION_SNAPPY, bad, 12, LIMIT, &out, &out_len),
                 OD_BATCH_BAD_COMPRESSION);
    memset(bad, 0xff, sizeof bad);
    CHECK_EQ_INT(od_decompress(OD_COMPRESSION_SNAPPY, bad, sizeof bad, LIMIT, &out, &out_len),
                 OD_BATCH_BAD_COMPRESSION);
    /* A raw block claiming 1 GiB is refused before any allocation. */
    const uint8_t huge_claim[] = {0x80, 0x80, 0x80, 0x80, 0x04, 0x00};
    CHECK_EQ_INT(od_decompress(OD_COMPRESSION_SNAPPY, huge_claim, sizeof huge_claim, LIMIT, &out,
                               &out_len),
                 OD_BATCH_TOO_LARGE);
    od_writer_free(&w);
}

static void lz4_frame_matches_kafka_settings(void)
{
    const char *text = "lz4 frame written the way Kafka's Java stream writes it";
    od_writer w;
    od_writer_init(&w, 0);
    REQUIRE_OK(od_compress(OD_COMPRESSION_LZ4, text, strlen(text), &w));
    REQUIRE(w.len > 7);
    const uint8_t magic[4] = {0x04, 0x22, 0x4d, 0x18};
    CHECK_MEM(w.buf, magic, 4);
    /* FLG: version 01, block independence, no block/content checksum, no size. */
    CHECK_EQ_INT(w.buf[4], 0x60);
    /* BD: 64 KiB maximum block size. */
    CHECK_EQ_INT(w.buf[5], 0x40);
    od_writer_free(&w);
}

static void gzip_concatenated_members_and_trailing_garbage(void)
{
    od_writer w;
    od_writer_init(&w, 0);
    REQUIRE_OK(od_compress(OD_COMPRESSION_GZIP, "hello ", 6, &w));
    CHECK_EQ_INT(w.buf[0], 0x1f);
    CHECK_EQ_INT(w.buf[1], 0x8b);
    REQUIRE_OK(od_compress(OD_COMPRESSION_GZIP, "world", 5, &w));
    uint8_t *out;
    size_t out_len;
    REQUIRE_OK(od_decompress(OD_COMPRESSION_GZIP, w.buf, w.len, LIMIT, &out, &out_len));
    CHECK_EQ_INT(out_len, 11);
    CHECK_MEM(out, "hello world", 11);
    free(out);
    od_write_raw(&w, "junk", 4);
    CHECK_EQ_INT(od_decompress(OD_COMPRESSION_GZIP, w.buf, w.len, LIMIT, &out, &out_len),
                 OD_BATCH_BAD_COMPRESSION);
    CHECK_EQ_INT(od_decompress(OD_COMPRESSION_NONE, w.buf, w.len, LIMIT, &out, &out_len),
                 OD_BATCH_BAD_COMPRESSION);
    CHECK_EQ_INT(od_decompress((od_compression)6, w.buf, w.len, LIMIT, &out, &out_len),
                 OD_BATCH_BAD_COMPRESSION);
    od_writer_free(&w);
}

/* Compresses 64 MiB of zeros without holding them: the bomb is a few KiB. */
static void make_bomb(od_compression codec, od_writer *w)
{
    static uint8_t zeros[1 << 20];
    const int mib = 64;
    if (codec == OD_COMPRESSION_GZIP) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        uint8_t chunk[65536];
        for (int i = 0; i <= mib; i++) {
            zs.next_in = zeros;
            zs.avail_in = i < mib ? sizeof zeros : 0;
            do {
                zs.next_out = chunk;
                zs.avail_out = sizeof chunk;
                deflate(&zs, i < mib ? Z_NO_FLUSH : Z_FINISH);
                od_write_raw(w, chunk, sizeof chunk - zs.avail_out);
            } while (zs.avail_out == 0);
        }
        deflateEnd(&zs);
    } else {
        ZSTD_CCtx *c = ZSTD_createCCtx();
        uint8_t chunk[65536];
        for (int i = 0; i <= mib; i++) {
            ZSTD_inBuffer in = {zeros, i < mib ? sizeof zeros : 0, 0};
            size_t left;
            do {
                ZSTD_outBuffer out = {chunk, sizeof chunk, 0};
                left = ZSTD_compressStream2(c, &out, &in, i < mib ? ZSTD_e_continue : ZSTD_e_end);
                od_write_raw(w, chunk, out.pos);
            } while (in.pos < in.size || (i == mib && left != 0));
        }
        ZSTD_freeCCtx(c);
    }
}

/* Peak resident set so far, in bytes. Under ASan freed memory sits in
 * quarantine, so there this approximates everything allocated so far. */
static size_t peak_rss(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (size_t)ru.ru_maxrss * 1024;
}

static void decompression_bombs_stop_at_the_limit(void)
{
    const od_compression codecs[] = {OD_COMPRESSION_GZIP, OD_COMPRESSION_ZSTD};
    od_writer bombs[2];
    for (size_t i = 0; i < 2; i++) {
        od_writer_init(&bombs[i], 0);
        make_bomb(codecs[i], &bombs[i]);
        CHECKF(bombs[i].len < (1u << 20), "%s bomb is %zu bytes", od_compression_name(codecs[i]),
               bombs[i].len);
    }
    /* Every bounded attempt runs before anything inflates the bombs fully,
     * so the peak RSS shows what the bounded attempts allocated: the 1 MiB
     * bound plus codec state, far from 64 MiB. */
    for (size_t i = 0; i < 2; i++) {
        size_t before = peak_rss();
        uint8_t *out = (uint8_t *)1;
        size_t out_len = 1;
        od_batch_err e =
            od_decompress(codecs[i], bombs[i].buf, bombs[i].len, 1 << 20, &out, &out_len);
        size_t grew = peak_rss() - before;
        CHECKF(e == OD_BATCH_TOO_LARGE, "%s: %s", od_compression_name(codecs[i]),
               od_batch_err_name(e));
        CHECK(out == NULL);
        CHECK_EQ_INT(out_len, 0);
        CHECKF(grew < ((size_t)24 << 20), "%s: peak RSS grew by %zu bytes",
               od_compression_name(codecs[i]), grew);

        /* The same bomb as the records of a batch. */
        od_writer batch;
        od_writer_init(&batch, 0);
        od_writer_skip(&batch, OD_BATCH_HEADER_SIZE);
        od_write_raw(&batch, bombs[i].buf, bombs[i].len);
        od_store_be32(batch.buf + OD_BATCH_LENGTH_AT, (uint32_t)(batch.len - OD_LOG_OVERHEAD));
        batch.buf[OD_BATCH_MAGIC_AT] = 2;
        od_store_be16(batch.buf + OD_BATCH_ATTRIBUTES_AT, (uint16_t)codecs[i]);
        od_store_be32(batch.buf + OD_BATCH_RECORD_COUNT_AT, 1);
        od_batch_restamp_crc(batch.buf, batch.len);
        CHECK_EQ_INT(od_batch_validate_records(batch.buf, batch.len, 1 << 20), OD_BATCH_TOO_LARGE);
        od_writer_free(&batch);
    }
    /* With room for it, each bomb really is 64 MiB of zeros. */
    for (size_t i = 0; i < 2; i++) {
        uint8_t *out;
        size_t out_len;
        od_batch_err e =
            od_decompress(codecs[i], bombs[i].buf, bombs[i].len, (size_t)65 << 20, &out, &out_len);
        CHECK_EQ_INT(e, OD_BATCH_OK);
        if (e == OD_BATCH_OK) {
            CHECK_EQ_INT(out_len, (size_t)64 << 20);
            CHECK(out[0] == 0 && out[out_len - 1] == 0);
            free(out);
        }
        od_writer_free(&bombs[i]);
    }
}

/* Streams `len` bytes through zstd with the given window, size not pledged,
 * the way Java's zstd output stream writes. */
static void zstd_stream_with_window(int window_log, const uint8_t *src, size_t len, od_writer *w)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log);
    uint8_t chunk[65536];
    /* Feeding the input with e_continue first keeps the size unknown, so the
     * frame header carries the window instead of the content size. */
    ZSTD_inBuffer in = {src, len, 0};
    ZSTD_outBuffer first = {chunk, sizeof chunk, 0};
    ZSTD_compressStream2(c, &first, &in, ZSTD_e_continue);
    od_write_raw(w, chunk, first.pos);
    size_t left;
    do {
        ZSTD_outBuffer out = {chunk, sizeof chunk, 0};
        left = ZSTD_compressStream2(c, &out, &in, ZSTD_e_end);
        od_write_raw(w, chunk, out.pos);
    } while (left != 0 && !ZSTD_isError(left));
    ZSTD_freeCCtx(c);
}

static void zstd_window_claims_are_bounded(void)
{
    const char *text = "small batch, large declared window";
    uint8_t *out;
    size_t out_len;
    /* 8 MiB: what a high producer level declares; accepted under a 1 MiB bound. */
    od_writer w;
    od_writer_init(&w, 0);
    zstd_stream_with_window(23, (const uint8_t *)text, strlen(text), &w);
    CHECK_EQ_INT(od_decompress(OD_COMPRESSION_ZSTD, w.buf, w.len, LIMIT, &out, &out_len),
                 OD_BATCH_OK);
    if (out) {
        CHECK_EQ_INT(out_len, strlen(text));
        free(out);
    }
    od_writer_free(&w);
    /* 256 MiB claimed: refused before the decoder allocates it. */
    od_writer_init(&w, 0);
    zstd_stream_with_window(28, (const uint8_t *)text, strlen(text), &w);
    od_batch_err e = od_decompress(OD_COMPRESSION_ZSTD, w.buf, w.len, LIMIT, &out, &out_len);
    CHECKF(e == OD_BATCH_TOO_LARGE, "%s", od_batch_err_name(e));
    od_writer_free(&w);
}

static void corrupt_payloads_never_crash(void)
{
    for (int codec = OD_COMPRESSION_GZIP; codec <= OD_COMPRESSION_ZSTD; codec++) {
        uint8_t src[5000];
        for (size_t i = 0; i < sizeof src; i++)
            src[i] = (uint8_t)(i % 97);
        od_writer w;
        od_writer_init(&w, 0);
        REQUIRE_OK(od_compress((od_compression)codec, src, sizeof src, &w));
        for (int round = 0; round < 400; round++) {
            uint8_t *copy = malloc(w.len);
            memcpy(copy, w.buf, w.len);
            int flips = 1 + (int)(rng() % 3);
            for (int f = 0; f < flips; f++)
                copy[rng() % w.len] ^= (uint8_t)(1u << (rng() % 8));
            size_t len = (round % 4 == 0) ? (size_t)(rng() % w.len) : w.len;
            uint8_t *out;
            size_t out_len;
            od_batch_err e = od_decompress((od_compression)codec, copy, len, 8192, &out, &out_len);
            if (e == OD_BATCH_OK)
                free(out); /* some flips land in ignored bits; that is fine */
            else
                CHECK(e == OD_BATCH_BAD_COMPRESSION || e == OD_BATCH_TOO_LARGE);
            free(copy);
        }
        od_writer_free(&w);
    }
}

OD_TEST_MAIN(OD_CASE(golden_header_fields), OD_CASE(header_rejections),
             OD_CASE(crc_detects_every_single_bit_flip), OD_CASE(restamp_after_header_edit),
             OD_CASE(truncation_at_every_length_fails_cleanly),
             OD_CASE(golden_records_field_by_field), OD_CASE(builder_reproduces_golden_bytes),
             OD_CASE(build_parse_iterate_every_codec), OD_CASE(builder_flags_and_log_append_time),
             OD_CASE(control_batches_round_trip), OD_CASE(record_length_consistency),
             OD_CASE(iterator_truncation_at_every_length),
             OD_CASE(crc_corruption_detected_by_iterator), OD_CASE(codecs_round_trip_sizes),
             OD_CASE(snappy_xerial_layout_and_raw_blocks),
             OD_CASE(lz4_frame_matches_kafka_settings),
             OD_CASE(gzip_concatenated_members_and_trailing_garbage),
             OD_CASE(decompression_bombs_stop_at_the_limit), OD_CASE(corrupt_payloads_never_crash),
             OD_CASE(zstd_window_claims_are_bounded), OD_CASE(record_set_splits_mixed_entries))
