/*
 * Legacy message sets: message format v0 (magic 0) and v1 (magic 1, adds a
 * timestamp), as old clients produce and old consumers fetch them.
 *
 * One entry of a message set (big-endian):
 *   offset int64 | messageSize int32 | crc uint32 | magic int8 | attributes int8 |
 *   [timestamp int64, magic 1 only] | key bytes (int32 length, -1 null) |
 *   value bytes (int32 length, -1 null)
 * The CRC is CRC-32 (zlib's polynomial) of magic..end of value.
 * attributes: bits 0-2 codec (gzip, snappy, lz4; zstd is not allowed before
 * v2), bit 3 (magic 1) LOG_APPEND_TIME.
 *
 * A compressed message is a wrapper whose value is a compressed message set
 * of inner messages. For magic 1 the inner offsets are relative (0..n-1) and
 * the wrapper's offset is the absolute offset of the last inner message; for
 * magic 0 the inner offsets are absolute. Iteration flattens wrappers so the
 * caller sees one record per inner message with its absolute offset, ready
 * for up- or down-conversion.
 *
 * Memory: records from uncompressed messages are views into the caller's
 * buffer. Records from a compressed wrapper are views into a decompressed
 * buffer the iterator owns, valid until the iterator moves past that wrapper
 * (the next od_legacy_iter_next that returns a record from elsewhere) or
 * od_legacy_iter_finish; copy anything needed longer.
 */
#ifndef ODRADEK_PROTOCOL_RECORDS_LEGACY_H
#define ODRADEK_PROTOCOL_RECORDS_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record_batch.h"
#include "wire.h"

enum {
    OD_LEGACY_ATTR_COMPRESSION_MASK = 0x07,
    OD_LEGACY_ATTR_LOG_APPEND_TIME = 0x08,
    /* crc + magic + attributes + key length + value length */
    OD_LEGACY_V0_MIN_SIZE = 14,
    /* ... + timestamp */
    OD_LEGACY_V1_MIN_SIZE = 22,
};

/* One message exactly as it sits in a message set. */
typedef struct od_legacy_message {
    int64_t offset;
    int32_t message_size;
    uint32_t crc;
    int8_t magic;
    int8_t attributes;
    int64_t timestamp;       /* -1 (no timestamp) for magic 0 */
    od_bytes key;            /* len -1: null */
    od_bytes value;          /* len -1: null */
} od_legacy_message;

static inline od_compression od_legacy_compression(const od_legacy_message *m)
{
    return (od_compression)(m->attributes & OD_LEGACY_ATTR_COMPRESSION_MASK);
}

/* Parses the message at buf and checks its CRC. On OD_BATCH_OK, *out is
 * filled and the message takes OD_LOG_OVERHEAD + out->message_size bytes.
 * Errors: OD_BATCH_TRUNCATED (fewer bytes than the message), OD_BATCH_BAD_MAGIC
 * (magic not 0 or 1), OD_BATCH_BAD_LENGTH (messageSize below the minimum for
 * its magic), OD_BATCH_CORRUPT (CRC mismatch, or key/value lengths that do not
 * exactly fill messageSize). */
od_batch_err od_legacy_message_parse(const uint8_t *buf, size_t len, od_legacy_message *out);

/* Appends one message (computing size and CRC) to w. `timestamp` is ignored
 * for magic 0. Returns OD_BATCH_OK, OD_BATCH_BAD_MAGIC for a magic other than
 * 0/1, OD_BATCH_NO_MEMORY when the writer fails. */
od_batch_err od_legacy_message_write(od_writer *w, int8_t magic, int64_t offset,
                                     int8_t attributes, int64_t timestamp, od_bytes key,
                                     od_bytes value);

/* A message after flattening: an uncompressed top-level message, or one inner
 * message of a compressed wrapper. */
typedef struct od_legacy_record {
    int64_t offset;          /* absolute */
    int8_t magic;
    int8_t attributes;       /* the message's own (inner ones carry no codec) */
    /* Magic 1: the message's timestamp, or the wrapper's when the wrapper
     * says LOG_APPEND_TIME (log_append_time is then true). Magic 0: -1. */
    int64_t timestamp;
    bool log_append_time;
    od_compression wrapper_compression; /* NONE when not from a wrapper */
    od_bytes key;
    od_bytes value;
} od_legacy_record;

typedef struct od_legacy_iter {
    const uint8_t *buf;
    size_t len;
    size_t pos;              /* next top-level message */
    size_t decompress_limit;
    /* The wrapper being flattened, if any. */
    od_legacy_message wrapper;
    uint8_t *inner;          /* owned decompressed inner message set */
    size_t inner_len;
    size_t inner_pos;
    int64_t inner_base;      /* added to inner offsets (magic 1) */
    bool in_wrapper;
    od_batch_err err;
} od_legacy_iter;

/* Prepares to iterate the message set buf[0..len). Allocates nothing. */
void od_legacy_iter_init(od_legacy_iter *it, const uint8_t *buf, size_t len,
                         size_t decompress_limit);

/* Yields the next record and returns true; false at the end or on error,
 * with it->err:
 *   OD_BATCH_OK               every byte of the set consumed;
 *   OD_BATCH_TRUNCATED        the set ends inside a message (a fetch response
 *                             may legitimately end so; the records already
 *                             yielded are complete);
 *   any od_legacy_message_parse error for a top-level message;
 *   OD_BATCH_BAD_COMPRESSION  zstd or an unknown codec in a wrapper, or a
 *                             payload the codec refuses;
 *   OD_BATCH_TOO_LARGE        a wrapper inflating past decompress_limit;
 *   OD_BATCH_CORRUPT          an inner message that does not parse, or an
 *                             inner set ending inside a message;
 *   OD_BATCH_INVALID_RECORD   a wrapper with a null value or no inner
 *                             messages, an inner message that is itself
 *                             compressed or whose magic differs from the
 *                             wrapper's, or (magic 1) a wrapper offset below
 *                             the last inner relative offset. */
bool od_legacy_iter_next(od_legacy_iter *it, od_legacy_record *out);

/* Frees the decompressed buffer, if any. Safe to call twice. */
void od_legacy_iter_finish(od_legacy_iter *it);

#endif
