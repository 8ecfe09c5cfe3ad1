#include "od_test.h"
#include "records/compression.h"
#include "records/legacy.h"

#include <lz4frame.h>
#include <zlib.h>

enum { LIMIT = 1 << 20 };

/* od_test.h's REQUIRE evaluates its condition twice; this evaluates once. */
#define REQUIRE_TRUE(expr)                                                                        \
    do {                                                                                          \
        bool req_ok_ = (expr);                                                                    \
        REQUIRE(req_ok_);                                                                         \
    } while (0)

static bool bytes_eq_cstr(od_bytes b, const char *s)
{
    return b.len >= 0 && (size_t)b.len == strlen(s) && memcmp(b.ptr, s, (size_t)b.len) == 0;
}

/* Magic 0, offset 5, key "k", value "v1"; CRC-32 from Python's zlib.crc32. */
static const uint8_t v0_message[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* offset */
    0x00, 0x00, 0x00, 0x11,                         /* messageSize 17 */
    0x61, 0x50, 0x54, 0x27,                         /* crc */
    0x00,                                           /* magic 0 */
    0x00,                                           /* attributes: no codec */
    0x00, 0x00, 0x00, 0x01, 'k',                    /* key */
    0x00, 0x00, 0x00, 0x02, 'v', '1',               /* value */
};

/* Magic 1, offset 6, create time 1700000000000, null key, value "hi". */
static const uint8_t v1_message[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, /* offset */
    0x00, 0x00, 0x00, 0x18,                         /* messageSize 24 */
    0xdb, 0xa4, 0xe6, 0xe2,                         /* crc */
    0x01,                                           /* magic 1 */
    0x00,                                           /* attributes */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* timestamp */
    0xff, 0xff, 0xff, 0xff,                         /* key: null */
    0x00, 0x00, 0x00, 0x02, 'h', 'i',               /* value */
};

static void v0_message_fields(void)
{
    od_legacy_message m;
    REQUIRE_TRUE(od_legacy_message_parse(v0_message, sizeof v0_message, &m) == OD_BATCH_OK);
    CHECK_EQ_INT(m.offset, 5);
    CHECK_EQ_INT(m.message_size, 17);
    CHECK_EQ_INT(m.crc, 0x61505427u);
    CHECK_EQ_INT(m.magic, 0);
    CHECK_EQ_INT(m.attributes, 0);
    CHECK_EQ_INT(m.timestamp, -1);
    CHECK(bytes_eq_cstr(m.key, "k"));
    CHECK(bytes_eq_cstr(m.value, "v1"));
    CHECK_EQ_INT(od_batch_total_size(v0_message, sizeof v0_message), sizeof v0_message);
}

static void v1_message_fields(void)
{
    od_legacy_message m;
    REQUIRE_TRUE(od_legacy_message_parse(v1_message, sizeof v1_message, &m) == OD_BATCH_OK);
    CHECK_EQ_INT(m.offset, 6);
    CHECK_EQ_INT(m.magic, 1);
    CHECK_EQ_INT(m.timestamp, 1700000000000);
    CHECK_EQ_INT(m.key.len, -1);
    CHECK(bytes_eq_cstr(m.value, "hi"));
}

static void writer_reproduces_hand_built_bytes(void)
{
    od_writer w;
    od_writer_init(&w, 0);
    CHECK_EQ_INT(od_legacy_message_write(&w, 0, 5, 0, 12345, (od_bytes){(const uint8_t *)"k", 1},
                                         (od_bytes){(const uint8_t *)"v1", 2}),
                 OD_BATCH_OK);
    CHECK_EQ_INT(od_legacy_message_write(&w, 1, 6, 0, 1700000000000, OD_BYTES_NULL,
                                         (od_bytes){(const uint8_t *)"hi", 2}),
                 OD_BATCH_OK);
    REQUIRE(w.len == sizeof v0_message + sizeof v1_message);
    CHECK_MEM(w.buf, v0_message, sizeof v0_message);
    CHECK_MEM(w.buf + sizeof v0_message, v1_message, sizeof v1_message);
    CHECK_EQ_INT(od_legacy_message_write(&w, 2, 0, 0, 0, OD_BYTES_NULL, OD_BYTES_NULL),
                 OD_BATCH_BAD_MAGIC);
    od_writer_free(&w);
}

static void plain_set_of_both_magics(void)
{
    uint8_t set[sizeof v0_message + sizeof v1_message];
    memcpy(set, v0_message, sizeof v0_message);
    memcpy(set + sizeof v0_message, v1_message, sizeof v1_message);
    od_legacy_iter it;
    od_legacy_iter_init(&it, set, sizeof set, LIMIT);
    od_legacy_record r;
    REQUIRE_TRUE(od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(r.offset, 5);
    CHECK_EQ_INT(r.magic, 0);
    CHECK_EQ_INT(r.timestamp, -1);
    CHECK_EQ_INT(r.wrapper_compression, OD_COMPRESSION_NONE);
    CHECK(bytes_eq_cstr(r.value, "v1"));
    REQUIRE_TRUE(od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(r.offset, 6);
    CHECK_EQ_INT(r.magic, 1);
    CHECK_EQ_INT(r.timestamp, 1700000000000);
    CHECK(!r.log_append_time);
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_OK);
    od_legacy_iter_finish(&it);
}

static void message_rejections(void)
{
    uint8_t b[sizeof v1_message];
    od_legacy_message m;
    memcpy(b, v1_message, sizeof b);
    b[sizeof b - 1] ^= 1;
    CHECK_EQ_INT(od_legacy_message_parse(b, sizeof b, &m), OD_BATCH_CORRUPT);
    memcpy(b, v1_message, sizeof b);
    b[16] = 2;
    CHECK_EQ_INT(od_legacy_message_parse(b, sizeof b, &m), OD_BATCH_BAD_MAGIC);
    memcpy(b, v1_message, sizeof b);
    od_store_be32(b + 8, 13);
    CHECK_EQ_INT(od_legacy_message_parse(b, sizeof b, &m), OD_BATCH_BAD_LENGTH);
    od_store_be32(b + 8, 21); /* enough for v0, not for v1 */
    CHECK_EQ_INT(od_legacy_message_parse(b, sizeof b, &m), OD_BATCH_BAD_LENGTH);
    /* value length claims one byte more than the message holds */
    memcpy(b, v1_message, sizeof b);
    b[33] = 3;
    CHECK_EQ_INT(od_legacy_message_parse(b, sizeof b, &m), OD_BATCH_CORRUPT);
    /* key length -2 */
    memcpy(b, v1_message, sizeof b);
    b[29] = 0xfe;
    CHECK_EQ_INT(od_legacy_message_parse(b, sizeof b, &m), OD_BATCH_CORRUPT);
}

static void truncation_at_every_length(void)
{
    for (size_t n = 0; n < sizeof v1_message; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, v1_message, n);
        od_legacy_message m;
        CHECK_EQ_INT(od_legacy_message_parse(p, n, &m), OD_BATCH_TRUNCATED);
        od_legacy_iter it;
        od_legacy_iter_init(&it, p, n, LIMIT);
        od_legacy_record r;
        CHECK(!od_legacy_iter_next(&it, &r));
        CHECK_EQ_INT(it.err, n == 0 ? OD_BATCH_OK : OD_BATCH_TRUNCATED);
        od_legacy_iter_finish(&it);
        free(p);
    }
}

/* ---------------------------------------------------------------- wrappers */

/* gzip with zlib directly, independent of the code under test. */
static size_t gzip_raw(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)len;
    zs.next_out = dst;
    zs.avail_out = (uInt)cap;
    int ret = deflate(&zs, Z_FINISH);
    deflateEnd(&zs);
    return ret == Z_STREAM_END ? cap - zs.avail_out : 0;
}

/* Appends one message by hand: header fields, then the CRC over
 * magic..end computed with zlib's crc32. */
static void put_message(uint8_t *buf, size_t *len, int8_t magic, int64_t offset, int8_t attrs,
                        int64_t ts, const uint8_t *key, int32_t key_len, const uint8_t *value,
                        int32_t value_len)
{
    uint8_t *m = buf + *len;
    size_t p = 16;
    m[p++] = (uint8_t)magic;
    m[p++] = (uint8_t)attrs;
    if (magic == 1) {
        od_store_be64(m + p, (uint64_t)ts);
        p += 8;
    }
    od_store_be32(m + p, (uint32_t)key_len);
    p += 4;
    if (key_len > 0) {
        memcpy(m + p, key, (size_t)key_len);
        p += (size_t)key_len;
    }
    od_store_be32(m + p, (uint32_t)value_len);
    p += 4;
    if (value_len > 0) {
        memcpy(m + p, value, (size_t)value_len);
        p += (size_t)value_len;
    }
    od_store_be64(m, (uint64_t)offset);
    od_store_be32(m + 8, (uint32_t)(p - 12));
    od_store_be32(m + 12, (uint32_t)crc32(0L, m + 16, (uInt)(p - 16)));
    *len += p;
}

typedef struct wrapped {
    uint8_t set[4096];
    size_t len;
} wrapped;

/* A message set holding one wrapper of `count` inner messages "value-i",
 * inner offsets from `first_inner_offset`, wrapper offset `wrapper_offset`. */
static void make_wrapped(wrapped *out, int8_t magic, od_compression codec, int8_t wrapper_attrs,
                         int64_t wrapper_offset, int64_t wrapper_ts, int64_t first_inner_offset,
                         int count, int8_t inner_magic, int8_t inner_attrs)
{
    uint8_t inner[2048];
    size_t inner_len = 0;
    for (int i = 0; i < count; i++) {
        char v[24];
        int n = snprintf(v, sizeof v, "value-%d", i);
        put_message(inner, &inner_len, inner_magic, first_inner_offset + i, inner_attrs,
                    1000 + i, (const uint8_t *)"k", 1, (const uint8_t *)v, n);
    }
    uint8_t packed[2048];
    size_t packed_len;
    if (codec == OD_COMPRESSION_GZIP) {
        packed_len = gzip_raw(inner, inner_len, packed, sizeof packed);
    } else {
        od_writer w;
        od_writer_init_fixed(&w, packed, sizeof packed);
        od_compress(codec, inner, inner_len, &w);
        packed_len = w.len;
    }
    out->len = 0;
    put_message(out->set, &out->len, magic, wrapper_offset, (int8_t)(wrapper_attrs | codec),
                wrapper_ts, NULL, -1, packed, (int32_t)packed_len);
}

static void gzip_wrapped_magic1_relative_offsets(void)
{
    wrapped w;
    /* 3 inner messages with relative offsets 0..2; wrapper offset 102 is
     * the absolute offset of the last, so they are 100, 101, 102. */
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, 0, 102, 5000, 0, 3, 1, 0);
    od_legacy_iter it;
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    od_legacy_record r;
    for (int i = 0; i < 3; i++) {
        REQUIRE_TRUE(od_legacy_iter_next(&it, &r));
        CHECK_EQ_INT(r.offset, 100 + i);
        CHECK_EQ_INT(r.magic, 1);
        CHECK_EQ_INT(r.timestamp, 1000 + i); /* create time: the inner message's own */
        CHECK(!r.log_append_time);
        CHECK_EQ_INT(r.wrapper_compression, OD_COMPRESSION_GZIP);
        char v[24];
        snprintf(v, sizeof v, "value-%d", i);
        CHECK(bytes_eq_cstr(r.value, v));
        CHECK(bytes_eq_cstr(r.key, "k"));
    }
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_OK);
    od_legacy_iter_finish(&it);
}

static void gzip_wrapped_magic0_absolute_offsets(void)
{
    wrapped w;
    make_wrapped(&w, 0, OD_COMPRESSION_GZIP, 0, 52, 0, 50, 3, 0, 0);
    od_legacy_iter it;
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    od_legacy_record r;
    for (int i = 0; i < 3; i++) {
        REQUIRE_TRUE(od_legacy_iter_next(&it, &r));
        CHECK_EQ_INT(r.offset, 50 + i);
        CHECK_EQ_INT(r.magic, 0);
        CHECK_EQ_INT(r.timestamp, -1);
    }
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_OK);
    od_legacy_iter_finish(&it);
}

static void log_append_time_wrapper_overrides_inner_timestamps(void)
{
    wrapped w;
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, OD_LEGACY_ATTR_LOG_APPEND_TIME, 9, 777777, 0, 2, 1,
                 0);
    od_legacy_iter it;
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    od_legacy_record r;
    REQUIRE_TRUE(od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(r.offset, 8);
    CHECK_EQ_INT(r.timestamp, 777777);
    CHECK(r.log_append_time);
    od_legacy_iter_finish(&it);
}

static void zero_wrapper_offset_keeps_inner_offsets(void)
{
    wrapped w;
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, 0, 0, 0, 0, 2, 1, 0);
    od_legacy_iter it;
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    od_legacy_record r;
    REQUIRE_TRUE(od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(r.offset, 0);
    REQUIRE_TRUE(od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(r.offset, 1);
    od_legacy_iter_finish(&it);
}

static void other_codecs_wrap_too(void)
{
    const od_compression codecs[] = {OD_COMPRESSION_SNAPPY, OD_COMPRESSION_LZ4};
    for (int magic = 0; magic <= 1; magic++)
        for (size_t c = 0; c < 2; c++) {
            wrapped w;
            make_wrapped(&w, (int8_t)magic, codecs[c], 0, magic ? 13 : 11, 0, magic ? 0 : 10, 4,
                         (int8_t)magic, 0);
            od_legacy_iter it;
            od_legacy_iter_init(&it, w.set, w.len, LIMIT);
            od_legacy_record r;
            int n = 0;
            while (od_legacy_iter_next(&it, &r)) {
                CHECK_EQ_INT(r.offset, 10 + n);
                CHECK_EQ_INT(r.wrapper_compression, codecs[c]);
                n++;
            }
            CHECKF(it.err == OD_BATCH_OK, "magic %d %s: %s", magic,
                   od_compression_name(codecs[c]), od_batch_err_name(it.err));
            CHECK_EQ_INT(n, 4);
            od_legacy_iter_finish(&it);
        }
}

/* The first Kafka clients computed the LZ4 frame header checksum over the
 * frame magic too; Kafka accepts that for magic 0 only. */
static void lz4_magic0_broken_header_checksum(void)
{
    const char *text = "old clients wrote a bad frame descriptor checksum";
    od_writer w;
    od_writer_init(&w, 0);
    REQUIRE_TRUE(od_compress(OD_COMPRESSION_LZ4, text, strlen(text), &w) == OD_BATCH_OK);
    REQUIRE(w.len > 7 && (w.buf[4] & 0x09) == 0); /* header is magic, FLG, BD, HC */
    w.buf[6] ^= 0x5a;
    uint8_t *out;
    size_t out_len;
    CHECK_EQ_INT(od_decompress(OD_COMPRESSION_LZ4, w.buf, w.len, LIMIT, &out, &out_len),
                 OD_BATCH_BAD_COMPRESSION);
    REQUIRE_TRUE(od_decompress_lz4_legacy(w.buf, w.len, LIMIT, &out, &out_len) == OD_BATCH_OK);
    CHECK_EQ_INT(out_len, strlen(text));
    CHECK_MEM(out, text, out_len);
    free(out);
    /* Cut anywhere, it still fails cleanly. */
    for (size_t n = 0; n < w.len; n++) {
        od_batch_err e = od_decompress_lz4_legacy(w.buf, n, LIMIT, &out, &out_len);
        CHECKF(e == OD_BATCH_BAD_COMPRESSION, "cut %zu: %s", n, od_batch_err_name(e));
    }
    od_writer_free(&w);
}

static void wrapper_rejections(void)
{
    wrapped w;
    od_legacy_iter it;
    od_legacy_record r;

    /* inner magic differs from the wrapper's */
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, 0, 2, 0, 0, 3, 0, 0);
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_INVALID_RECORD);
    od_legacy_iter_finish(&it);

    /* an inner message that claims to be compressed */
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, 0, 2, 0, 0, 3, 1, OD_COMPRESSION_GZIP);
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_INVALID_RECORD);
    od_legacy_iter_finish(&it);

    /* magic 1 wrapper offset below the last relative offset */
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, 0, 1, 0, 0, 3, 1, 0);
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_INVALID_RECORD);
    od_legacy_iter_finish(&it);

    /* no inner messages */
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, 0, 2, 0, 0, 0, 1, 0);
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_INVALID_RECORD);
    od_legacy_iter_finish(&it);

    /* zstd is not a legacy codec */
    make_wrapped(&w, 1, OD_COMPRESSION_ZSTD, 0, 2, 0, 0, 3, 1, 0);
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_BAD_COMPRESSION);
    od_legacy_iter_finish(&it);

    /* a compressed wrapper with a null value */
    w.len = 0;
    put_message(w.set, &w.len, 1, 0, OD_COMPRESSION_GZIP, 0, NULL, -1, NULL, -1);
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_INVALID_RECORD);
    od_legacy_iter_finish(&it);

    /* a wrapper that inflates past the bound */
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, 0, 2, 0, 0, 3, 1, 0);
    od_legacy_iter_init(&it, w.set, w.len, 40);
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK_EQ_INT(it.err, OD_BATCH_TOO_LARGE);
    od_legacy_iter_finish(&it);

    /* a corrupt compressed payload (CRC re-computed so it reaches the codec) */
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, 0, 2, 0, 0, 3, 1, 0);
    w.set[w.len - 12] ^= 0xff;
    od_store_be32(w.set + 12, (uint32_t)crc32(0L, w.set + 16, (uInt)(w.len - 16)));
    od_legacy_iter_init(&it, w.set, w.len, LIMIT);
    CHECK(!od_legacy_iter_next(&it, &r));
    CHECK(it.err == OD_BATCH_BAD_COMPRESSION || it.err == OD_BATCH_CORRUPT);
    od_legacy_iter_finish(&it);
}

static void wrapper_truncated_everywhere(void)
{
    wrapped w;
    make_wrapped(&w, 1, OD_COMPRESSION_GZIP, 0, 102, 0, 0, 3, 1, 0);
    for (size_t n = 0; n < w.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, w.set, n);
        od_legacy_iter it;
        od_legacy_iter_init(&it, p, n, LIMIT);
        od_legacy_record r;
        CHECK(!od_legacy_iter_next(&it, &r));
        CHECK_EQ_INT(it.err, n == 0 ? OD_BATCH_OK : OD_BATCH_TRUNCATED);
        od_legacy_iter_finish(&it);
        free(p);
    }
}

OD_TEST_MAIN(OD_CASE(v0_message_fields), OD_CASE(v1_message_fields),
             OD_CASE(writer_reproduces_hand_built_bytes), OD_CASE(plain_set_of_both_magics),
             OD_CASE(message_rejections), OD_CASE(truncation_at_every_length),
             OD_CASE(gzip_wrapped_magic1_relative_offsets),
             OD_CASE(gzip_wrapped_magic0_absolute_offsets),
             OD_CASE(log_append_time_wrapper_overrides_inner_timestamps),
             OD_CASE(zero_wrapper_offset_keeps_inner_offsets), OD_CASE(other_codecs_wrap_too),
             OD_CASE(lz4_magic0_broken_header_checksum), OD_CASE(wrapper_rejections),
             OD_CASE(wrapper_truncated_everywhere))
