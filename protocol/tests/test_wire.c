#include "od_test.h"
#include "wire.h"

static void varints_round_trip_at_their_limits(void)
{
    const int64_t longs[] = {0, 1, -1, 63, -64, 64, -65, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) {
        od_writer w;
        od_writer_init(&w, 0);
        od_write_varlong(&w, longs[i]);
        CHECK_EQ_INT(w.len, od_varlong_size(longs[i]));
        od_reader r;
        od_reader_init(&r, w.buf, w.len, NULL);
        CHECK_EQ_INT(od_read_varlong(&r), longs[i]);
        CHECK_EQ_INT(r.err, OD_WIRE_OK);
        CHECK_EQ_INT(od_reader_remaining(&r), 0);
        od_writer_free(&w);
    }
    const int32_t ints[] = {0, 1, -1, 300, -300, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        od_writer w;
        od_writer_init(&w, 0);
        od_write_varint(&w, ints[i]);
        CHECK_EQ_INT(w.len, od_varint_size(ints[i]));
        od_reader r;
        od_reader_init(&r, w.buf, w.len, NULL);
        CHECK_EQ_INT(od_read_varint(&r), ints[i]);
        od_writer_free(&w);
    }
}

static void zigzag_matches_protocol_guide(void)
{
    /* From the protocol guide: 0->0, -1->1, 1->2, -2->3, uvarint 300 -> 0xac 0x02. */
    uint8_t buf[8];
    od_writer w;
    od_writer_init_fixed(&w, buf, sizeof buf);
    od_write_varint(&w, -1);
    od_write_varint(&w, 1);
    od_write_uvarint(&w, 300);
    const uint8_t want[] = {0x01, 0x02, 0xac, 0x02};
    CHECK_EQ_INT(w.len, sizeof want);
    CHECK_MEM(buf, want, sizeof want);
}

static void overlong_varint_is_malformed(void)
{
    const uint8_t six_bytes[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    od_reader r;
    od_reader_init(&r, six_bytes, sizeof six_bytes, NULL);
    (void)od_read_uvarint(&r);
    CHECK_EQ_INT(r.err, OD_WIRE_MALFORMED);
    const uint8_t too_big[] = {0xff, 0xff, 0xff, 0xff, 0x1f}; /* 2^35-1 */
    od_reader_init(&r, too_big, sizeof too_big, NULL);
    (void)od_read_uvarint(&r);
    CHECK_EQ_INT(r.err, OD_WIRE_MALFORMED);
}

static void errors_are_sticky(void)
{
    const uint8_t two[] = {0x00, 0x05};
    od_reader r;
    od_reader_init(&r, two, sizeof two, NULL);
    CHECK_EQ_INT(od_read_i32(&r), 0);
    CHECK_EQ_INT(r.err, OD_WIRE_TRUNCATED);
    /* A later read that would fit still fails: the reader stays failed. */
    CHECK_EQ_INT(od_read_i8(&r), 0);
    CHECK_EQ_INT(r.err, OD_WIRE_TRUNCATED);
}

static void forged_array_count_does_not_allocate(void)
{
    /* A 20-byte frame claiming 2^31-1 elements. */
    uint8_t frame[20] = {0x7f, 0xff, 0xff, 0xff};
    od_arena arena;
    od_arena_init(&arena);
    od_reader r;
    od_reader_init(&r, frame, sizeof frame, &arena);
    int32_t n = od_read_array_len(&r, false, false, 4);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(r.err, OD_WIRE_MALFORMED);
    CHECK_EQ_INT(arena.bytes_allocated, 0);
    od_arena_release(&arena);
}

static void strings_are_views_and_null_is_checked(void)
{
    const uint8_t classic[] = {0x00, 0x03, 'a', 'b', 'c', 0xff, 0xff};
    od_reader r;
    od_reader_init(&r, classic, sizeof classic, NULL);
    od_str s = od_read_string(&r, false, false);
    CHECK_EQ_INT(s.len, 3);
    CHECK(s.ptr == (const char *)classic + 2);
    od_str n = od_read_string(&r, false, true);
    CHECK_EQ_INT(n.len, -1);
    CHECK_EQ_INT(r.err, OD_WIRE_OK);

    const uint8_t compact_null[] = {0x00};
    od_reader_init(&r, compact_null, sizeof compact_null, NULL);
    (void)od_read_string(&r, true, false);
    CHECK_EQ_INT(r.err, OD_WIRE_NULL_NOT_ALLOWED);

    /* Any negative classic length means null, as Kafka reads it. */
    const uint8_t negative[] = {0xff, 0xfe, 0xff, 0xfe};
    od_reader_init(&r, negative, sizeof negative, NULL);
    CHECK_EQ_INT(od_read_string(&r, false, true).len, -1);
    CHECK_EQ_INT(r.err, OD_WIRE_OK);
    (void)od_read_string(&r, false, false);
    CHECK_EQ_INT(r.err, OD_WIRE_NULL_NOT_ALLOWED);
}

static void fixed_writer_refuses_overflow(void)
{
    uint8_t buf[3];
    od_writer w;
    od_writer_init_fixed(&w, buf, sizeof buf);
    od_write_i32(&w, 7);
    CHECK_EQ_INT(w.err, OD_WIRE_TOO_LARGE);
}

static void back_patching_writes_lengths(void)
{
    od_writer w;
    od_writer_init(&w, 1);
    size_t at = od_writer_skip(&w, 4);
    od_write_string(&w, OD_STR_LIT("hello"), true);
    od_writer_patch_i32(&w, at, (int32_t)(w.len - at - 4));
    od_reader r;
    od_reader_init(&r, w.buf, w.len, NULL);
    CHECK_EQ_INT(od_read_i32(&r), 6);
    od_str s = od_read_string(&r, true, false);
    CHECK(od_str_eq_cstr(s, "hello"));
    od_writer_free(&w);
}

static void arena_grows_and_aligns(void)
{
    od_arena arena;
    od_arena_init(&arena);
    for (int i = 1; i < 2000; i++) {
        void *p = od_arena_alloc(&arena, (size_t)i);
        REQUIRE(p != NULL);
        CHECK(((uintptr_t)p & 15) == 0);
        memset(p, 0xab, (size_t)i);
    }
    void *big = od_arena_alloc(&arena, 3u << 20);
    CHECK(big != NULL);
    CHECK(od_arena_alloc(&arena, SIZE_MAX - 4) == NULL);
    od_arena_release(&arena);
    CHECK_EQ_INT(arena.bytes_allocated, 0);
}

OD_TEST_MAIN(OD_CASE(varints_round_trip_at_their_limits), OD_CASE(zigzag_matches_protocol_guide),
             OD_CASE(overlong_varint_is_malformed), OD_CASE(errors_are_sticky),
             OD_CASE(forged_array_count_does_not_allocate),
             OD_CASE(strings_are_views_and_null_is_checked), OD_CASE(fixed_writer_refuses_overflow),
             OD_CASE(back_patching_writes_lengths), OD_CASE(arena_grows_and_aligns))
