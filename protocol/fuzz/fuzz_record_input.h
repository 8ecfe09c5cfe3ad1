/*
 * Shared input format for the fuzzers that replay a coordinator's log
 * (__consumer_offsets, KIP-848 group records, __transaction_state): the
 * input is a list of records, each a u8 key length, the key, a big-endian
 * u16 value length (0xFFFF for a tombstone) and the value. A record cut
 * short by the end of the input ends the list, so every input means
 * something and the fuzzer spends its time on the records, not the framing.
 */
#ifndef ODRADEK_FUZZ_RECORD_INPUT_H
#define ODRADEK_FUZZ_RECORD_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records/batch_builder.h"

enum { FUZZ_MAX_RECORDS = 64 };

/* Packs the first FUZZ_MAX_RECORDS records of the input into one valid
 * record batch in `batch`, every record stamped `timestamp`. Returns false,
 * with nothing left to free, when the input holds no whole record or the
 * batch cannot be built; otherwise the caller frees `batch`. */
static bool fuzz_records_to_batch(const uint8_t *data, size_t size, int64_t timestamp, od_writer *batch)
{
    od_builder_record recs[FUZZ_MAX_RECORDS];
    int32_t n = 0;
    size_t at = 0;
    while (n < FUZZ_MAX_RECORDS && at < size) {
        size_t klen = data[at++];
        if (at + klen + 2 > size)
            break;
        od_bytes key = {data + at, (int32_t)klen};
        at += klen;
        size_t vlen = ((size_t)data[at] << 8) | data[at + 1];
        at += 2;
        od_bytes value = OD_BYTES_NULL;
        if (vlen != 0xFFFF) {
            if (at + vlen > size)
                break;
            value = (od_bytes){data + at, (int32_t)vlen};
            at += vlen;
        }
        recs[n++] = (od_builder_record){.timestamp = timestamp, .key = key, .value = value};
    }
    if (n == 0)
        return false;
    od_writer_init(batch, 256);
    od_batch_params params = OD_BATCH_PARAMS_INIT;
    if (od_batch_build(&params, recs, n, batch) != OD_BATCH_OK) {
        od_writer_free(batch);
        return false;
    }
    return true;
}

#endif
