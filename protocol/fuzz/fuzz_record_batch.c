/*
 * Feeds arbitrary bytes to every record-level decoder: v2 batch headers,
 * the record iterator (after re-stamping the CRC so mutations reach the
 * record decoder instead of dying at the checksum), control-record parsing,
 * each codec's bounded decompressor, and legacy message-set iteration.
 * Nothing here may crash, leak, read out of bounds, or allocate far past the
 * small decompression bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "records/compression.h"
#include "records/legacy.h"
#include "records/record_batch.h"
#include "records/records.h"

/* Small, so a bomb is found quickly and memory stays low. */
enum { FUZZ_DECOMPRESS_LIMIT = 64 * 1024 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_records(const uint8_t *batch, size_t len)
{
    od_record_iter it;
    if (od_record_iter_init(&it, batch, len, FUZZ_DECOMPRESS_LIMIT) == OD_BATCH_OK) {
        od_record rec;
        bool control = od_batch_is_control(&it.header);
        while (od_record_iter_next(&it, &rec)) {
            od_header_iter hi;
            od_record_header h;
            od_header_iter_init(&hi, &rec);
            while (od_header_iter_next(&hi, &h)) {
                /* Touch every byte of every view so ASan checks its bounds. */
                volatile uint8_t sink = 0;
                for (int32_t i = 0; i < h.key.len; i++)
                    sink ^= (uint8_t)h.key.ptr[i];
                for (int32_t i = 0; i < h.value.len; i++)
                    sink ^= h.value.ptr[i];
                (void)sink;
            }
            volatile uint8_t sink = 0;
            for (int32_t i = 0; i < rec.key.len; i++)
                sink ^= rec.key.ptr[i];
            for (int32_t i = 0; i < rec.value.len; i++)
                sink ^= rec.value.ptr[i];
            (void)sink;
            if (control) {
                od_control_record c;
                (void)od_control_record_parse(&rec, &c);
            }
        }
    }
    od_record_iter_finish(&it);
}

static void walk_v2(const uint8_t *data, size_t size)
{
    /* Mutable copy, exactly sized, so the CRC can be fixed and ASan sees
     * any read past the end. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    size_t pos = 0;
    while (pos < size) {
        od_batch_header h;
        uint8_t *b = copy + pos;
        size_t left = size - pos;
        (void)od_batch_header_parse(b, left, &h);
        (void)od_batch_crc_ok(b, left);
        size_t total = od_batch_total_size(b, left);
        od_batch_restamp_crc(b, left);
        walk_records(b, left);
        if (total == 0 || total > left)
            break;
        pos += total;
    }
    free(copy);
}

static void walk_legacy(const uint8_t *data, size_t size)
{
    od_legacy_iter it;
    od_legacy_iter_init(&it, data, size, FUZZ_DECOMPRESS_LIMIT);
    od_legacy_record r;
    while (od_legacy_iter_next(&it, &r)) {
        volatile uint8_t sink = 0;
        for (int32_t i = 0; i < r.value.len; i++)
            sink ^= r.value.ptr[i];
        (void)sink;
    }
    od_legacy_iter_finish(&it);
}

static void walk_codecs(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    /* The first byte picks the codec so the fuzzer can focus on one. */
    od_compression codec = (od_compression)(data[0] % 6);
    uint8_t *out;
    size_t out_len;
    if (od_decompress(codec, data + 1, size - 1, FUZZ_DECOMPRESS_LIMIT, &out, &out_len) ==
        OD_BATCH_OK) {
        if (out_len > FUZZ_DECOMPRESS_LIMIT)
            abort();
        free(out);
    }
    if (codec == OD_COMPRESSION_LZ4 &&
        od_decompress_lz4_legacy(data + 1, size - 1, FUZZ_DECOMPRESS_LIMIT, &out, &out_len) ==
            OD_BATCH_OK)
        free(out);
}

static void walk_record_set(const uint8_t *data, size_t size)
{
    od_record_set_iter it;
    od_record_set_iter_init(&it, data, size);
    const uint8_t *entry;
    size_t len;
    int8_t magic;
    while (od_record_set_next(&it, &entry, &len, &magic)) {
        if (entry < data || entry + len > data + size)
            abort();
        if (magic == 2)
            (void)od_batch_validate_records(entry, len, FUZZ_DECOMPRESS_LIMIT);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk_record_set(data, size);
    walk_v2(data, size);
    walk_legacy(data, size);
    walk_codecs(data, size);
    return 0;
}
