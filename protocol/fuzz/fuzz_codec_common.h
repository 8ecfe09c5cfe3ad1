/*
 * Shared checks for the codec fuzzers: whatever decodes must re-encode to
 * exactly `size` bytes and then survive a second decode/encode unchanged.
 * A violation aborts, which libFuzzer reports as a crash with the input.
 */
#ifndef ODRADEK_FUZZ_CODEC_COMMON_H
#define ODRADEK_FUZZ_CODEC_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "od_messages.h"

static void fuzz_fail(const char *what, const od_message_desc *desc, int16_t version)
{
    fprintf(stderr, "codec invariant broken: %s (%s v%d)\n", what, desc->name, version);
    abort();
}

/* Decodes `len` bytes as desc@version; on success checks the encode invariants.
 * Returns 1 when the input decoded. */
static int fuzz_decode_and_reencode(const od_message_desc *desc, int16_t version, const uint8_t *data,
                                    size_t len)
{
    od_arena arena;
    od_arena_init(&arena);
    void *msg = od_arena_alloc(&arena, desc->struct_size);
    void *again = od_arena_alloc(&arena, desc->struct_size);
    if (!msg || !again)
        abort();
    desc->init(msg);
    od_reader r;
    od_reader_init(&r, data, len, &arena);
    int decoded = desc->decode(msg, &r, version) == OD_WIRE_OK;
    if (decoded) {
        od_writer first;
        od_writer_init(&first, 0);
        od_wire_err err = desc->encode(msg, &first, version);
        if (err != OD_WIRE_OK)
            fuzz_fail("a decoded message does not encode", desc, version);
        if (first.len != desc->size(msg, version))
            fuzz_fail("size() disagrees with encode()", desc, version);
        /* The first re-encoding is canonical; a second round trip must not change it. */
        desc->init(again);
        od_reader r2;
        od_reader_init(&r2, first.buf, first.len, &arena);
        if (desc->decode(again, &r2, version) != OD_WIRE_OK || od_reader_remaining(&r2) != 0)
            fuzz_fail("re-encoded bytes do not decode", desc, version);
        od_writer second;
        od_writer_init(&second, 0);
        if (desc->encode(again, &second, version) != OD_WIRE_OK || second.len != first.len ||
            memcmp(first.buf, second.buf, first.len) != 0)
            fuzz_fail("second round trip changed the bytes", desc, version);
        od_writer_free(&second);
        od_writer_free(&first);
    }
    od_arena_release(&arena);
    return decoded;
}

#endif
