/*
 * Conversion between v2 record batches and magic 0/1 message sets, with
 * Kafka 3.9's rules: down for a Fetch older than v4 (v0-1 read magic 0,
 * v2-3 magic 1), up for a Produce older than v3 whose set is magic 0/1 (the
 * log holds only v2 batches).
 *
 * Down (Kafka's RecordsUtil.downConvert): control batches are dropped;
 * entries already at or below the target magic are copied; an uncompressed
 * batch becomes one message per record at or after `first_offset`; a
 * compressed batch becomes one wrapper of the same codec holding every
 * record (inner offsets relative for magic 1, absolute for magic 0, the
 * wrapper at the last offset); headers are dropped; magic 1 keeps the
 * record timestamps and the LOG_APPEND_TIME flag. A partial entry at the
 * end (a read cut at max bytes) is left out.
 *
 * Up (Kafka's LogValidator for a client's magic 0/1 set): one v2 batch of
 * every record, base offset 0 (the log assigns offsets), compressed with
 * the first wrapper's codec, timestamps kept (-1 for magic 0), no producer
 * id.
 */
#ifndef ODRADEK_PROTOCOL_RECORDS_CONVERT_H
#define ODRADEK_PROTOCOL_RECORDS_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "record_batch.h"
#include "wire.h"

/* Appends the down-conversion of set[0..len) to magic 0 or 1 to `out`.
 * Returns OD_BATCH_OK; OD_BATCH_BAD_COMPRESSION for a zstd batch (no magic
 * 0/1 codec; Kafka answers UNSUPPORTED_COMPRESSION_TYPE); an iteration
 * error of a batch that does not read back (OD_BATCH_CORRUPT, ...);
 * OD_BATCH_NO_MEMORY. `out` may hold part of the result on error. */
od_batch_err od_records_down_convert(const uint8_t *set, size_t len, int8_t magic, int64_t first_offset,
                                     size_t decompress_limit, od_writer *out);

/* Appends one v2 batch holding every record of the magic 0/1 set
 * set[0..len) to `out`. A partial message at the end is ignored, as
 * Kafka's iterator ignores it. Returns OD_BATCH_OK; any od_legacy_iter
 * error (OD_BATCH_CORRUPT for a bad CRC, OD_BATCH_INVALID_RECORD,
 * OD_BATCH_BAD_COMPRESSION, ...); OD_BATCH_INVALID_RECORD for a set with
 * no record; OD_BATCH_NO_MEMORY. */
od_batch_err od_records_up_convert(const uint8_t *set, size_t len, size_t decompress_limit, od_writer *out);

#endif
