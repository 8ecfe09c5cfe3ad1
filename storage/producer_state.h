/*
 * Producer state of one partition (idempotence and transactions) and its
 * snapshot files, <20-digit offset>.snapshot, in Kafka's format:
 *
 *   version int16 (1) | crc uint32 (CRC-32C of every byte after it) |
 *   count int32 | count x { producerId int64, epoch int16, lastSequence int32,
 *   lastOffset int64, offsetDelta int32, timestamp int64,
 *   coordinatorEpoch int32, currentTxnFirstOffset int64 }   (big-endian)
 *
 * A snapshot named N holds the state after every batch below offset N.
 */
#ifndef ODRADEK_STORAGE_PRODUCER_STATE_H
#define ODRADEK_STORAGE_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fileio.h"
#include "records/record_batch.h"
#include "storage_err.h"

enum { OD_PRODUCER_BATCHES_KEPT = 5 }; /* Kafka keeps the last five for dedup */

typedef struct od_producer_batch {
    int32_t first_seq;
    int32_t last_seq;
    int64_t last_offset;
    int32_t offset_delta;
    int64_t timestamp;
} od_producer_batch;

typedef struct od_producer_entry {
    int64_t producer_id;
    int16_t epoch;
    int32_t coordinator_epoch;
    int64_t last_timestamp;
    int64_t txn_first_offset; /* -1 when no transaction is open */
    int nbatches;             /* oldest first */
    od_producer_batch batches[OD_PRODUCER_BATCHES_KEPT];
} od_producer_entry;

typedef struct od_pstate {
    od_producer_entry *e; /* sorted by producer id */
    size_t n, cap;
    int64_t map_end_offset; /* state covers every batch below this offset */
} od_pstate;

void od_pstate_init(od_pstate *ps, int64_t start);
void od_pstate_free(od_pstate *ps);
void od_pstate_clear(od_pstate *ps, int64_t start);
const od_producer_entry *od_pstate_find(const od_pstate *ps, int64_t producer_id);

/* Leader-side check of a producer batch before append (Kafka's rules):
 * OD_ST_DUPLICATE_SEQUENCE with *dup filled when it repeats one of the last
 * five batches, OD_ST_INVALID_PRODUCER_EPOCH for an older epoch,
 * OD_ST_OUT_OF_ORDER_SEQUENCE when the sequence does not follow on. A batch
 * with no sequence (-1: a coordinator's transactional append) gets only the
 * epoch check. */
od_st_err od_pstate_check(const od_pstate *ps, const od_batch_header *h, od_producer_batch *dup);

/* Applies an appended batch (final offsets) to the state. `batch` holds the
 * whole batch when it is a control batch (the marker is read from it). */
od_st_err od_pstate_apply(od_pstate *ps, const uint8_t *batch, size_t len, const od_batch_header *h);

/* Drops producers idle for expiration_ms with no open transaction. */
void od_pstate_expire(od_pstate *ps, int64_t now_ms, int64_t expiration_ms);

/* Writes the snapshot for ps->map_end_offset (atomically, fsynced). */
od_st_err od_pstate_write_snapshot(const od_pstate *ps, od_fio *io, const char *dir);

/* Replaces ps with the snapshot named `offset`; OD_ST_CORRUPT on a bad CRC
 * or layout, OD_ST_NOT_FOUND when absent. */
od_st_err od_pstate_read_snapshot(od_pstate *ps, od_fio *io, const char *dir, int64_t offset);

/* Offsets of the snapshot files in dir, ascending (malloc'd). */
od_st_err od_pstate_list_snapshots(od_fio *io, const char *dir, int64_t **offsets, size_t *n);

od_st_err od_pstate_delete_snapshot(od_fio *io, const char *dir, int64_t offset);

#endif
