/*
 * Records inside a v2 batch, and control records (transaction markers).
 *
 * Record layout (all lengths and deltas are zigzag varints):
 *   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint | key | valueLength varint | value |
 *   headerCount varint |
 *   [headerKeyLength varint | headerKey | headerValueLength varint | headerValue]*
 * `length` counts the bytes after itself. Key, value and header value use -1
 * for null; a header key is never null.
 *
 * Memory: everything an iterator yields is a view. For an uncompressed batch
 * the views point into the caller's batch buffer, which must outlive them;
 * for a compressed batch they point into a decompressed buffer the iterator
 * owns, valid until od_record_iter_finish.
 */
#ifndef ODRADEK_PROTOCOL_RECORDS_RECORDS_H
#define ODRADEK_PROTOCOL_RECORDS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record_batch.h"
#include "wire.h"

/* One record header: key is a non-null string, value may be null (len -1). */
typedef struct od_record_header {
    od_str key;
    od_bytes value;
} od_record_header;

typedef struct od_record {
    int8_t attributes;        /* unused by Kafka today; carried as read */
    int64_t timestamp_delta;
    int32_t offset_delta;
    int64_t offset;           /* batch base_offset + offset_delta */
    /* base_timestamp + timestamp_delta, or the batch's max_timestamp when the
     * batch has LOG_APPEND_TIME (as Kafka consumers see it). */
    int64_t timestamp;
    od_bytes key;             /* len -1: null */
    od_bytes value;           /* len -1: null */
    int32_t header_count;
    od_bytes headers;         /* the encoded headers; walk with od_header_iter */
} od_record;

/* Walks the headers of one already-validated record. */
typedef struct od_header_iter {
    od_reader r;
    int32_t remaining;
} od_header_iter;

void od_header_iter_init(od_header_iter *it, const od_record *rec);

/* Fills *out with the next header and returns true; false when none remain. */
bool od_header_iter_next(od_header_iter *it, od_record_header *out);

typedef struct od_record_iter {
    od_batch_header header;
    od_reader r;              /* over the (decompressed) records */
    uint8_t *owned;           /* decompressed records, freed by od_record_iter_finish */
    int32_t index;            /* records yielded so far */
    int32_t prev_offset_delta;
    od_batch_err err;
} od_record_iter;

/* Prepares to iterate the records of the v2 batch at `batch`. Runs
 * od_batch_validate (so the whole batch must be in `len` and its CRC must
 * match), then decompresses the records if the batch is compressed, refusing
 * to produce more than `decompress_limit` bytes.
 * Returns OD_BATCH_OK, or the error (also kept in it->err); the iterator
 * must be finished with od_record_iter_finish either way. */
od_batch_err od_record_iter_init(od_record_iter *it, const uint8_t *batch, size_t len,
                                 size_t decompress_limit);

/* Yields the next record and returns true. Returns false at the end or on
 * the first error; then it->err tells which:
 *   OD_BATCH_OK             all recordCount records read and nothing follows;
 *   OD_BATCH_CORRUPT        a record's fields overrun, or do not fill exactly,
 *                           its length; bad varint; negative or null header key;
 *   OD_BATCH_INVALID_RECORD fewer records than recordCount, bytes after the
 *                           last record, or offset deltas not strictly
 *                           increasing within [0, lastOffsetDelta].
 * A batch is valid only when the loop ends with it->err == OD_BATCH_OK. */
bool od_record_iter_next(od_record_iter *it, od_record *out);

/* Frees what the iterator owns; every view it yielded becomes invalid if the
 * batch was compressed. Safe to call twice and after a failed init. */
void od_record_iter_finish(od_record_iter *it);

/* Decodes every record of the batch and returns the iterator's final error:
 * OD_BATCH_OK when the whole batch is well formed. Convenience for the
 * produce path, which must validate compressed batches. */
od_batch_err od_batch_validate_records(const uint8_t *batch, size_t len, size_t decompress_limit);

/* ---------------------------------------------------------------- record sets */

/* Splits a record set (a Produce/Fetch `records` field, or log bytes) into
 * its entries: v2 batches or legacy messages, told apart by magic. Entries
 * are views into the caller's buffer. Nothing inside an entry is checked
 * beyond its length and magic; use od_batch_validate / od_record_iter or
 * od_legacy_iter on each. */
typedef struct od_record_set_iter {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    od_batch_err err;
} od_record_set_iter;

void od_record_set_iter_init(od_record_set_iter *it, const uint8_t *buf, size_t len);

/* Yields the next whole entry (*entry, *entry_len bytes, *magic 0, 1 or 2)
 * and returns true. Returns false at the end, with it->err:
 *   OD_BATCH_OK         every byte consumed;
 *   OD_BATCH_TRUNCATED  the rest is a partial entry (a Fetch response may
 *                       end so; it->pos tells where it starts);
 *   OD_BATCH_BAD_MAGIC  magic not 0, 1 or 2;
 *   OD_BATCH_BAD_LENGTH a length too small for the entry's magic. */
bool od_record_set_next(od_record_set_iter *it, const uint8_t **entry, size_t *entry_len,
                        int8_t *magic);

/* ---------------------------------------------------------------- control records */

typedef enum od_control_type {
    OD_CONTROL_ABORT = 0,
    OD_CONTROL_COMMIT = 1,
} od_control_type;

typedef struct od_control_record {
    int16_t key_version;
    int16_t type;             /* od_control_type, or another id (KRaft uses more) */
    /* For ABORT/COMMIT only: the end-transaction marker value. */
    int16_t value_version;
    int32_t coordinator_epoch;
} od_control_record;

/* Parses a record from a control batch. The key must be version int16 +
 * type int16 (extra key bytes are allowed for future versions, as Kafka does).
 * For ABORT/COMMIT the value must hold version int16 + coordinatorEpoch int32;
 * for other types the value is not interpreted (value fields are zero).
 * Returns OD_BATCH_OK, or OD_BATCH_INVALID_RECORD for a null/short key, a
 * negative key version, or a null/short marker value. */
od_batch_err od_control_record_parse(const od_record *rec, od_control_record *out);

#endif
