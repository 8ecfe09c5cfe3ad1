/*
 * Down-conversion of v2 batches to magic 0/1 message sets and up-conversion
 * back, for every codec magic 0/1 can carry: records, offsets, timestamps
 * and codecs survive; a fetch offset inside an uncompressed batch drops
 * the records before it; zstd and control batches are refused or dropped.
 */
#include "od_test.h"
#include "records/batch_builder.h"
#include "records/convert.h"
#include "records/legacy.h"
#include "records/records.h"

#define LIMIT ((size_t)1 << 20)

static const char *values[] = {"alpha", "beta", "gamma"};

/* Three records at base offset 10, timestamps 1000, 1001, 1002. */
static void build(od_writer *w, od_compression codec)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.base_offset = 10;
    p.compression = codec;
    od_builder_record recs[3];
    for (int i = 0; i < 3; i++)
        recs[i] = (od_builder_record){.timestamp = 1000 + i,
                                      .key = i == 1 ? OD_BYTES_NULL : (od_bytes){(const uint8_t *)"k", 1},
                                      .value = {(const uint8_t *)values[i], (int32_t)strlen(values[i])}};
    REQUIRE(od_batch_build(&p, recs, 3, w) == OD_BATCH_OK);
}

static void down_and_back(od_compression codec, int8_t magic)
{
    od_writer v2, old, back;
    od_writer_init(&v2, 256);
    od_writer_init(&old, 256);
    od_writer_init(&back, 256);
    build(&v2, codec);
    CHECK_EQ_INT(od_records_down_convert(v2.buf, v2.len, magic, 0, LIMIT, &old), OD_BATCH_OK);
    od_legacy_iter it;
    od_legacy_iter_init(&it, old.buf, old.len, LIMIT);
    od_legacy_record r;
    int n = 0;
    while (od_legacy_iter_next(&it, &r)) {
        CHECKF(r.offset == 10 + n, "codec %d magic %d offset %lld", codec, magic, (long long)r.offset);
        CHECK_EQ_INT(r.magic, magic);
        CHECK_EQ_INT(r.wrapper_compression, codec);
        CHECK_EQ_INT(r.timestamp, magic == 1 ? 1000 + n : -1);
        CHECK_EQ_INT(r.key.len, n == 1 ? -1 : 1);
        CHECK(r.value.len == (int32_t)strlen(values[n]) && memcmp(r.value.ptr, values[n], (size_t)r.value.len) == 0);
        n++;
    }
    CHECK_EQ_INT(it.err, OD_BATCH_OK);
    CHECK_EQ_INT(n, 3);
    od_legacy_iter_finish(&it);

    /* Up again: one v2 batch of the three records, same codec. */
    CHECK_EQ_INT(od_records_up_convert(old.buf, old.len, LIMIT, &back), OD_BATCH_OK);
    od_record_iter ri;
    REQUIRE(od_record_iter_init(&ri, back.buf, back.len, LIMIT) == OD_BATCH_OK);
    CHECK_EQ_INT(od_batch_compression(&ri.header), codec);
    od_record rec;
    n = 0;
    while (od_record_iter_next(&ri, &rec)) {
        CHECK_EQ_INT(rec.offset, n);
        CHECK_EQ_INT(rec.timestamp, magic == 1 ? 1000 + n : -1);
        CHECK(rec.value.len == (int32_t)strlen(values[n]) && memcmp(rec.value.ptr, values[n], (size_t)rec.value.len) == 0);
        n++;
    }
    CHECK_EQ_INT(ri.err, OD_BATCH_OK);
    CHECK_EQ_INT(n, 3);
    od_record_iter_finish(&ri);
    od_writer_free(&v2);
    od_writer_free(&old);
    od_writer_free(&back);
}

static void every_codec_both_magics(void)
{
    const od_compression codecs[] = {OD_COMPRESSION_NONE, OD_COMPRESSION_GZIP, OD_COMPRESSION_SNAPPY,
                                     OD_COMPRESSION_LZ4};
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        for (int8_t magic = 0; magic <= 1; magic++)
            down_and_back(codecs[i], magic);
}

static void fetch_offset_inside_a_batch(void)
{
    od_writer v2, old;
    od_writer_init(&v2, 256);
    od_writer_init(&old, 256);
    build(&v2, OD_COMPRESSION_NONE);
    size_t whole = v2.len;
    build(&v2, OD_COMPRESSION_NONE); /* a second batch, cut short below */
    CHECK_EQ_INT(od_records_down_convert(v2.buf, whole + 20, 1, 11, LIMIT, &old), OD_BATCH_OK);
    od_legacy_iter it;
    od_legacy_iter_init(&it, old.buf, old.len, LIMIT);
    od_legacy_record r;
    int64_t offsets[4];
    int n = 0;
    while (n < 4 && od_legacy_iter_next(&it, &r))
        offsets[n++] = r.offset;
    od_legacy_iter_finish(&it);
    CHECK_EQ_INT(n, 2); /* 11 and 12; the partial batch is left out */
    CHECK(n == 2 && offsets[0] == 11 && offsets[1] == 12);
    od_writer_free(&v2);
    od_writer_free(&old);
}

static void zstd_refused_control_dropped(void)
{
    od_writer v2, old;
    od_writer_init(&v2, 256);
    od_writer_init(&old, 256);
    build(&v2, OD_COMPRESSION_ZSTD);
    CHECK_EQ_INT(od_records_down_convert(v2.buf, v2.len, 1, 0, LIMIT, &old), OD_BATCH_BAD_COMPRESSION);
    v2.len = old.len = 0;
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.producer_id = 7;
    p.producer_epoch = 0;
    REQUIRE(od_control_batch_build(&p, OD_CONTROL_COMMIT, 0, 5, &v2) == OD_BATCH_OK);
    CHECK_EQ_INT(od_records_down_convert(v2.buf, v2.len, 1, 0, LIMIT, &old), OD_BATCH_OK);
    CHECK_EQ_INT(old.len, 0);
    od_writer_free(&v2);
    od_writer_free(&old);
}

OD_TEST_MAIN({"every_codec_both_magics", every_codec_both_magics},
             {"fetch_offset_inside_a_batch", fetch_offset_inside_a_batch},
             {"zstd_refused_control_dropped", zstd_refused_control_dropped})
