/*
 * Building v2 record batches, byte for byte as Kafka's Java producer lays
 * them out: offset deltas 0..n-1, timestamp deltas relative to the first
 * record's timestamp, maxTimestamp the largest record timestamp, records
 * compressed as one stream after the 61-byte header, CRC-32C over
 * attributes..end.
 *
 * Also builds control batches carrying one transaction marker, as the
 * transaction coordinator asks partition leaders to write them.
 *
 * Memory: the builder copies each record as it is added (inputs need not
 * outlive od_batch_builder_add); the finished batch is appended to a caller's
 * od_writer, which owns it.
 */
#ifndef ODRADEK_PROTOCOL_RECORDS_BATCH_BUILDER_H
#define ODRADEK_PROTOCOL_RECORDS_BATCH_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record_batch.h"
#include "records.h"
#include "wire.h"

/* Header values the caller chooses. OD_BATCH_PARAMS_INIT gives what a
 * non-idempotent producer sends: no producer id/epoch/sequence, no leader
 * epoch, no compression, create-time timestamps. */
typedef struct od_batch_params {
    int64_t base_offset;
    int32_t partition_leader_epoch;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    od_compression compression;
    bool transactional;
    bool control;
    /* When set, the batch is marked LOG_APPEND_TIME and maxTimestamp is
     * log_append_time_ms (what a broker writes when the topic says so). */
    bool log_append_time;
    int64_t log_append_time_ms;
} od_batch_params;

#define OD_BATCH_PARAMS_INIT                                                                      \
    ((od_batch_params){.base_offset = 0,                                                          \
                       .partition_leader_epoch = -1,                                              \
                       .producer_id = -1,                                                         \
                       .producer_epoch = -1,                                                      \
                       .base_sequence = -1,                                                       \
                       .compression = OD_COMPRESSION_NONE})

/* One record to add. Null key/value: len -1. */
typedef struct od_builder_record {
    int64_t timestamp;
    od_bytes key;
    od_bytes value;
    const od_record_header *headers;
    int32_t header_count;
} od_builder_record;

typedef struct od_batch_builder {
    od_batch_params params;
    od_writer records;       /* encoded, uncompressed records */
    int32_t count;
    int64_t base_timestamp;  /* first record's timestamp */
    int64_t max_timestamp;
    od_batch_err err;        /* sticky, like the wire writer's */
} od_batch_builder;

/* Starts an empty batch. Allocates nothing until the first record. */
void od_batch_builder_init(od_batch_builder *b, const od_batch_params *params);

/* Encodes and appends one record; its offset delta is the number of records
 * added before it. Returns OD_BATCH_OK, or the builder's sticky error:
 * OD_BATCH_NO_MEMORY, OD_BATCH_TOO_LARGE (past INT32_MAX records or bytes), or
 * OD_BATCH_INVALID_RECORD (a header with a null key, a negative count). */
od_batch_err od_batch_builder_add(od_batch_builder *b, const od_builder_record *rec);

/* Appends the finished batch (header, compressed records, CRC) to `out`.
 * Returns OD_BATCH_OK; the builder's sticky error; OD_BATCH_INVALID_RECORD for
 * an empty batch (Kafka never writes one from a producer);
 * OD_BATCH_BAD_COMPRESSION for an unknown codec; OD_BATCH_NO_MEMORY or
 * OD_BATCH_TOO_LARGE when `out` cannot take it (out is left at its old length).
 * The builder can be finished more than once (e.g. into two writers). */
od_batch_err od_batch_builder_finish(od_batch_builder *b, od_writer *out);

/* Frees the builder's record buffer. */
void od_batch_builder_free(od_batch_builder *b);

/* One-shot: builds a batch of `count` records into `out`. Same returns as
 * od_batch_builder_finish. */
od_batch_err od_batch_build(const od_batch_params *params, const od_builder_record *records,
                            int32_t count, od_writer *out);

/* Appends a control batch holding one end-transaction marker: attributes
 * transactional|control, no compression, baseSequence -1, one record whose
 * key is (version 0, type) and value (version 0, coordinator_epoch), at
 * `timestamp`. Uses params->base_offset, partition_leader_epoch, producer_id
 * and producer_epoch; ignores the rest. Same returns as
 * od_batch_builder_finish. */
od_batch_err od_control_batch_build(const od_batch_params *params, od_control_type type,
                                    int32_t coordinator_epoch, int64_t timestamp,
                                    od_writer *out);

#endif
