/*
 * Every generated message, at every valid version, filled with seeded random
 * content: size, encode, decode and encode again must agree byte for byte,
 * every proper prefix must fail to decode, and unknown tagged fields must
 * survive. A failure prints the message, version and seed to replay.
 */
#include <string.h>

#include "od_messages.h"
#include "od_messages_testing.h"
#include "od_test.h"

enum { SEEDS_PER_VERSION = 100, PREFIX_SEEDS_PER_VERSION = 5 };

static long cases_run;
static long prefixes_run;

/* Scratch space big enough for any message struct. */
typedef union message_storage {
    max_align_t align;
    unsigned char bytes[4096];
} message_storage;

static bool encode_message(const od_message_desc *d, const void *m, int16_t v, od_writer *w)
{
    od_writer_init(w, 0);
    od_wire_err err = d->encode(m, w, v);
    return err == OD_WIRE_OK;
}

static void round_trip_one(const od_message_desc *d, int16_t v, uint64_t seed, bool prefixes)
{
    static message_storage original, decoded;
    od_arena fill_arena, read_arena;
    od_arena_init(&fill_arena);
    od_arena_init(&read_arena);
    od_rng rng;
    od_rng_seed(&rng, seed * 1000003u + (uint64_t)v * 7919u + (uint64_t)(d - od_message_descs));

    od_message_fill_random(d)(original.bytes, v, &rng, &fill_arena);
    size_t predicted = d->size(original.bytes, v);
    od_writer first;
    bool ok = encode_message(d, original.bytes, v, &first);
    CHECKF(ok, "%s v%d seed %llu: encode failed: %s", d->name, v, (unsigned long long)seed,
           od_wire_err_name(first.err));
    if (!ok)
        goto out_first;
    CHECKF(first.len == predicted, "%s v%d seed %llu: size %zu but encoded %zu", d->name, v,
           (unsigned long long)seed, predicted, first.len);

    od_reader r;
    od_reader_init(&r, first.buf, first.len, &read_arena);
    od_wire_err err = d->decode(decoded.bytes, &r, v);
    CHECKF(err == OD_WIRE_OK, "%s v%d seed %llu: decode failed: %s", d->name, v,
           (unsigned long long)seed, od_wire_err_name(err));
    CHECKF(od_reader_remaining(&r) == 0, "%s v%d seed %llu: %zu bytes left after decode", d->name, v,
           (unsigned long long)seed, od_reader_remaining(&r));
    if (err != OD_WIRE_OK)
        goto out_first;

    CHECKF(d->size(decoded.bytes, v) == first.len, "%s v%d seed %llu: decoded size differs", d->name,
           v, (unsigned long long)seed);
    od_writer second;
    ok = encode_message(d, decoded.bytes, v, &second);
    CHECKF(ok, "%s v%d seed %llu: re-encode failed: %s", d->name, v, (unsigned long long)seed,
           od_wire_err_name(second.err));
    if (ok) {
        CHECKF(second.len == first.len && (first.len == 0 || memcmp(second.buf, first.buf, first.len) == 0),
               "%s v%d seed %llu: re-encoded bytes differ", d->name, v, (unsigned long long)seed);
    }
    od_writer_free(&second);

    /* Decoding is sequential and consumes exactly the encoded length, so a
     * prefix always runs out before the message ends: it must fail. */
    if (prefixes) {
        for (size_t len = 0; len < first.len; len++) {
            od_arena prefix_arena;
            od_arena_init(&prefix_arena);
            /* A copy of exactly `len` bytes so ASan catches any over-read. */
            uint8_t *copy = malloc(len ? len : 1);
            if (len > 0)
                memcpy(copy, first.buf, len);
            od_reader_init(&r, copy, len, &prefix_arena);
            err = d->decode(decoded.bytes, &r, v);
            CHECKF(err == OD_WIRE_TRUNCATED || err == OD_WIRE_MALFORMED,
                   "%s v%d seed %llu: prefix %zu/%zu gave %s", d->name, v, (unsigned long long)seed,
                   len, first.len, od_wire_err_name(err));
            free(copy);
            od_arena_release(&prefix_arena);
            prefixes_run++;
        }
    }
    cases_run++;

out_first:
    od_writer_free(&first);
    od_arena_release(&read_arena);
    od_arena_release(&fill_arena);
}

static void every_message_every_version_round_trips(void)
{
    for (size_t i = 0; i < od_message_desc_count; i++) {
        const od_message_desc *d = &od_message_descs[i];
        CHECKF(d->struct_size <= sizeof(message_storage), "%s: struct too big for the test", d->name);
        CHECKF(od_message_fill_random(d) != NULL, "%s: no filler", d->name);
        if (d->struct_size > sizeof(message_storage) || od_message_fill_random(d) == NULL)
            continue;
        for (int16_t v = d->min_version; v <= d->max_version; v++)
            for (uint64_t seed = 0; seed < SEEDS_PER_VERSION; seed++)
                round_trip_one(d, v, seed, seed < PREFIX_SEEDS_PER_VERSION);
    }
    printf("round trips: %ld (messages x versions x %d seeds), prefixes decoded: %ld\n", cases_run,
           SEEDS_PER_VERSION, prefixes_run);
}

static void versions_outside_the_range_are_refused(void)
{
    static message_storage m;
    for (size_t i = 0; i < od_message_desc_count; i++) {
        const od_message_desc *d = &od_message_descs[i];
        d->init(m.bytes);
        int16_t bad[] = {(int16_t)(d->min_version - 1), (int16_t)(d->max_version + 1)};
        for (size_t b = 0; b < 2; b++) {
            od_writer w;
            od_writer_init(&w, 0);
            CHECKF(d->encode(m.bytes, &w, bad[b]) == OD_WIRE_UNSUPPORTED_VERSION, "%s v%d encode",
                   d->name, bad[b]);
            od_writer_free(&w);
            od_reader r;
            const uint8_t zeros[64] = {0};
            od_reader_init(&r, zeros, sizeof zeros, NULL);
            CHECKF(d->decode(m.bytes, &r, bad[b]) == OD_WIRE_UNSUPPORTED_VERSION, "%s v%d decode",
                   d->name, bad[b]);
        }
    }
}

/* Encodes a message with unknown tags, decodes and checks they are all there. */
static void unknown_tagged_fields_survive(void)
{
    int checked = 0;
    for (size_t i = 0; i < od_message_desc_count; i++) {
        const od_message_desc *d = &od_message_descs[i];
        if (d->first_flexible_version < 0)
            continue;
        static message_storage m, back;
        od_arena arena;
        od_arena_init(&arena);
        int16_t v = d->max_version;
        d->init(m.bytes);
        /* unknown_tags is the last member of every generated struct. */
        od_raw_tags *tags = (od_raw_tags *)(m.bytes + d->struct_size - sizeof(od_raw_tags));
        static od_raw_tag items[2];
        items[0] = (od_raw_tag){1000, {(const uint8_t *)"abc", 3}};
        items[1] = (od_raw_tag){70000, {(const uint8_t *)"", 0}};
        tags->count = 2;
        tags->items = items;
        od_writer w;
        od_writer_init(&w, 0);
        CHECKF(d->encode(m.bytes, &w, v) == OD_WIRE_OK, "%s: encode", d->name);
        CHECK_EQ_INT(w.len, d->size(m.bytes, v));
        od_reader r;
        od_reader_init(&r, w.buf, w.len, &arena);
        CHECKF(d->decode(back.bytes, &r, v) == OD_WIRE_OK, "%s: decode", d->name);
        const od_raw_tags *got = (const od_raw_tags *)(back.bytes + d->struct_size - sizeof(od_raw_tags));
        CHECKF(got->count == 2, "%s: %d unknown tags came back", d->name, got->count);
        if (got->count == 2) {
            CHECK_EQ_INT(got->items[0].tag, 1000);
            CHECK(got->items[0].data.len == 3 && memcmp(got->items[0].data.ptr, "abc", 3) == 0);
            CHECK_EQ_INT(got->items[1].tag, 70000);
            CHECK_EQ_INT(got->items[1].data.len, 0);
        }
        /* The same message in a non-flexible version cannot carry them. */
        if (d->first_flexible_version > d->min_version) {
            od_writer w2;
            od_writer_init(&w2, 0);
            CHECKF(d->encode(m.bytes, &w2, d->min_version) == OD_WIRE_FIELD_NOT_IN_VERSION, "%s", d->name);
            od_writer_free(&w2);
        }
        od_writer_free(&w);
        od_arena_release(&arena);
        checked++;
    }
    CHECK(checked > 100);
}

/* Decodes `len` bytes; on success re-encodes into `out` (caller frees). */
static od_wire_err decode_then_encode(const od_message_desc *d, int16_t v, const uint8_t *bytes,
                                      size_t len, od_writer *out)
{
    static message_storage m;
    od_arena arena;
    od_arena_init(&arena);
    od_reader r;
    od_reader_init(&r, bytes, len, &arena);
    od_wire_err err = d->decode(m.bytes, &r, v);
    od_writer_init(out, 0);
    if (err == OD_WIRE_OK) {
        err = d->encode(m.bytes, out, v);
        CHECKF(err != OD_WIRE_OK || out->len == d->size(m.bytes, v), "%s v%d: size after mutation",
               d->name, v);
    }
    od_arena_release(&arena);
    return err;
}

/* Corrupted input must never crash or over-read (run under ASan), and
 * whatever decodes must encode again and then be stable under a second
 * round trip: decode normalises (bools to 0/1, duplicate tags to one), so the
 * first re-encoding may differ from the input, but not the second. */
static void mutated_inputs_decode_safely(void)
{
    long decoded_ok = 0, rejected = 0;
    for (size_t i = 0; i < od_message_desc_count; i++) {
        const od_message_desc *d = &od_message_descs[i];
        for (int16_t v = d->min_version; v <= d->max_version; v++) {
            for (uint64_t seed = 0; seed < 4; seed++) {
                static message_storage m;
                od_arena arena;
                od_arena_init(&arena);
                od_rng rng;
                od_rng_seed(&rng, 0x5eed0000u + seed * 131u + (uint64_t)v * 17u + i);
                od_message_fill_random(d)(m.bytes, v, &rng, &arena);
                od_writer w;
                od_writer_init(&w, 0);
                if (d->encode(m.bytes, &w, v) != OD_WIRE_OK || w.len == 0) {
                    od_writer_free(&w);
                    od_arena_release(&arena);
                    continue;
                }
                for (int round = 0; round < 16; round++) {
                    uint8_t *copy = malloc(w.len);
                    memcpy(copy, w.buf, w.len);
                    int flips = 1 + (int)od_rng_below(&rng, 3);
                    for (int f = 0; f < flips; f++) {
                        size_t at = od_rng_below(&rng, (uint32_t)w.len);
                        copy[at] = od_rng_below(&rng, 2) ? (uint8_t)od_rng_next(&rng) : (uint8_t)(copy[at] ^ 0x80);
                    }
                    od_writer once, twice, thrice;
                    od_wire_err err = decode_then_encode(d, v, copy, w.len, &once);
                    if (err == OD_WIRE_OK) {
                        decoded_ok++;
                        CHECK_EQ_INT(decode_then_encode(d, v, once.buf, once.len, &twice), OD_WIRE_OK);
                        CHECK_EQ_INT(decode_then_encode(d, v, twice.buf, twice.len, &thrice), OD_WIRE_OK);
                        CHECKF(twice.len == thrice.len &&
                                   (twice.len == 0 || memcmp(twice.buf, thrice.buf, twice.len) == 0),
                               "%s v%d seed %llu round %d: unstable after mutation", d->name, v,
                               (unsigned long long)seed, round);
                        od_writer_free(&twice);
                        od_writer_free(&thrice);
                    } else {
                        rejected++;
                    }
                    od_writer_free(&once);
                    free(copy);
                }
                od_writer_free(&w);
                od_arena_release(&arena);
            }
        }
    }
    printf("mutations: %ld decoded, %ld rejected\n", decoded_ok, rejected);
    CHECK(decoded_ok > 0 && rejected > 0);
}

OD_TEST_MAIN(OD_CASE(every_message_every_version_round_trips),
             OD_CASE(mutated_inputs_decode_safely),
             OD_CASE(versions_outside_the_range_are_refused),
             OD_CASE(unknown_tagged_fields_survive))
