/*
 * Kafka record batches (message format v2, "magic 2") and the legacy message
 * sets (magic 0 and 1).
 *
 * Layout of a v2 batch header (61 bytes, big-endian):
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 |
 *   crc uint32 (CRC-32C of everything after it) | attributes int16 | lastOffsetDelta int32 |
 *   baseTimestamp int64 | maxTimestamp int64 | producerId int64 | producerEpoch int16 |
 *   baseSequence int32 | recordCount int32 | records...
 * batchLength counts the bytes after the batchLength field itself.
 *
 * The storage layer appends and serves batches as opaque bytes; it needs
 * only the header (parse, validate, rewrite offsets/epoch/timestamps and
 * re-stamp the CRC). Records are decoded only where the broker must look
 * inside (compaction, down-conversion, validation of compressed batches).
 */
#ifndef ODRADEK_PROTOCOL_RECORD_BATCH_H
#define ODRADEK_PROTOCOL_RECORD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum {
    OD_BATCH_HEADER_SIZE = 61,
    /* Offset of each header field within a v2 batch. */
    OD_BATCH_BASE_OFFSET_AT = 0,
    OD_BATCH_LENGTH_AT = 8,
    OD_BATCH_LEADER_EPOCH_AT = 12,
    OD_BATCH_MAGIC_AT = 16,
    OD_BATCH_CRC_AT = 17,
    OD_BATCH_ATTRIBUTES_AT = 21,
    OD_BATCH_LAST_OFFSET_DELTA_AT = 23,
    OD_BATCH_BASE_TIMESTAMP_AT = 27,
    OD_BATCH_MAX_TIMESTAMP_AT = 35,
    OD_BATCH_PRODUCER_ID_AT = 43,
    OD_BATCH_PRODUCER_EPOCH_AT = 51,
    OD_BATCH_BASE_SEQUENCE_AT = 53,
    OD_BATCH_RECORD_COUNT_AT = 57,
    /* The smallest prefix that tells offset, length and magic of any batch or legacy message. */
    OD_LOG_OVERHEAD = 12,
};

typedef enum od_compression {
    OD_COMPRESSION_NONE = 0,
    OD_COMPRESSION_GZIP = 1,
    OD_COMPRESSION_SNAPPY = 2,
    OD_COMPRESSION_LZ4 = 3,
    OD_COMPRESSION_ZSTD = 4,
} od_compression;

/* Batch attribute bits. */
enum {
    OD_BATCH_ATTR_COMPRESSION_MASK = 0x07,
    OD_BATCH_ATTR_LOG_APPEND_TIME = 0x08,
    OD_BATCH_ATTR_TRANSACTIONAL = 0x10,
    OD_BATCH_ATTR_CONTROL = 0x20,
    OD_BATCH_ATTR_DELETE_HORIZON = 0x40,
};

typedef struct od_batch_header {
    int64_t base_offset;
    int32_t batch_length;
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
} od_batch_header;

/* Why a batch was refused; each maps to one Kafka error code in the broker. */
typedef enum od_batch_err {
    OD_BATCH_OK = 0,
    OD_BATCH_TRUNCATED,         /* fewer bytes than the header or batchLength claims */
    OD_BATCH_BAD_MAGIC,         /* magic not 0, 1 or 2 (or not 2 where v2 is required) */
    OD_BATCH_BAD_LENGTH,        /* batchLength too small for a header, or negative */
    OD_BATCH_CORRUPT,           /* CRC mismatch, or records that do not parse */
    OD_BATCH_BAD_COMPRESSION,   /* unknown codec id, or a payload the codec rejects */
    OD_BATCH_TOO_LARGE,         /* decompressed size past the configured bound */
    OD_BATCH_INVALID_RECORD,    /* record count/offsets/timestamps inconsistent with the header */
    OD_BATCH_NO_MEMORY,
    OD_BATCH_BAD_OFFSET_DELTA,  /* a record's offset delta not above the previous one, or past lastOffsetDelta */
} od_batch_err;

const char *od_batch_err_name(od_batch_err err);

/* Parses the 61-byte v2 header at buf. Checks only what the header alone can
 * tell: enough bytes for the header, magic == 2, batch_length >= 49 and
 * base_offset + OD_LOG_OVERHEAD + batch_length <= len is NOT required (the
 * caller may hold a prefix). Does not check the CRC. */
od_batch_err od_batch_header_parse(const uint8_t *buf, size_t len, od_batch_header *out);

/* Total bytes of the batch or legacy message starting at buf
 * (OD_LOG_OVERHEAD + batchLength), or 0 when fewer than OD_LOG_OVERHEAD bytes.
 * Also 0 when the length field is negative (a corrupt prefix: callers that
 * treat 0 as "need more bytes" should run od_batch_header_parse to tell). */
size_t od_batch_total_size(const uint8_t *buf, size_t len);

/* Checks the CRC-32C of a whole v2 batch (header + records). The batch's
 * extent comes from its batchLength; `len` may be larger (bytes after the
 * batch are ignored). Returns false when the CRC differs, and also when
 * `len` holds less than the whole batch or magic is not 2. */
bool od_batch_crc_ok(const uint8_t *batch, size_t len);

/* Recomputes and stores the CRC of a whole v2 batch after its header was
 * edited. Covers the same extent as od_batch_crc_ok; does nothing when `len`
 * does not hold the whole batch or magic is not 2. */
void od_batch_restamp_crc(uint8_t *batch, size_t len);

/* Everything that can be checked without looking inside the records:
 * header parse (as od_batch_header_parse), the whole batch present in `len`
 * (else OD_BATCH_TRUNCATED), CRC (else OD_BATCH_CORRUPT), recordCount and
 * lastOffsetDelta non-negative (else OD_BATCH_INVALID_RECORD), codec id known
 * (else OD_BATCH_BAD_COMPRESSION). Fills *out (may be NULL) on success. */
od_batch_err od_batch_validate(const uint8_t *batch, size_t len, od_batch_header *out);

static inline int64_t od_batch_last_offset(const od_batch_header *h)
{
    return h->base_offset + h->last_offset_delta;
}

static inline od_compression od_batch_compression(const od_batch_header *h)
{
    return (od_compression)(h->attributes & OD_BATCH_ATTR_COMPRESSION_MASK);
}

static inline bool od_batch_is_transactional(const od_batch_header *h)
{
    return (h->attributes & OD_BATCH_ATTR_TRANSACTIONAL) != 0;
}

static inline bool od_batch_is_control(const od_batch_header *h)
{
    return (h->attributes & OD_BATCH_ATTR_CONTROL) != 0;
}

/* CRC-32C (Castagnoli), hardware-accelerated where the CPU allows. `crc` is
 * the running value (0 to start). The per-path entry points are in crc32c.h. */
uint32_t od_crc32c(uint32_t crc, const void *data, size_t len);

#endif
