#include "od_test.h"
#include "records/record_batch.h"

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
    REQUIRE(od_batch_header_parse(golden, sizeof golden, &h) == OD_BATCH_OK);
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

OD_TEST_MAIN(OD_CASE(golden_header_fields), OD_CASE(header_rejections),
             OD_CASE(crc_detects_every_single_bit_flip), OD_CASE(restamp_after_header_edit),
             OD_CASE(truncation_at_every_length_fails_cleanly))
