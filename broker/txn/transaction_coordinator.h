/*
 * The transaction coordinator (InitProducerId for transactional ids,
 * AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, timeouts, expiry) with Kafka
 * 3.9's rules and error codes, as a pure API in the style of od_gc: no
 * sockets, no event loop, no storage. The broker supplies, through
 * od_tc_env, a clock, a "wake me at" hook for its timers, an append of one
 * record batch to a partition of __transaction_state, a producer-id source,
 * and a writer of one transaction marker into one data partition.
 *
 * Invariants (numbered; the .c file adds internal ones):
 *   1. A transactional id is in exactly one state; every change is a
 *      TransactionLogValue appended to its __transaction_state partition
 *      (transition() in the .c file) before memory changes and before the
 *      caller hears success. A failed append leaves memory as it was
 *      (except the epoch bump of a fence, which Kafka keeps too).
 *   2. Replaying a partition's records (od_tc_load_*) rebuilds the state
 *      the records describe: last writer wins per key, a null value
 *      deletes. A transaction found in PrepareCommit/PrepareAbort has its
 *      markers written again and then completes, as Kafka's does after a
 *      coordinator move; an Ongoing one runs until EndTxn or its timeout.
 *   3. A transaction reaches CompleteCommit/CompleteAbort only after every
 *      partition in it has its marker (or is gone: UNKNOWN_TOPIC_OR_PARTITION
 *      from the marker writer drops it, as Kafka drops markers for deleted
 *      topics). Markers that fail otherwise are retried from od_tc_tick.
 *   4. Partitions are only ever added while Ongoing; they are cleared in
 *      the Complete and Empty states (the records carry the same sets).
 *   5. Timers are virtual: the coordinator reads the clock only through
 *      env.now_ms; timeouts, marker retries and expiry run only inside
 *      od_tc_tick (or a call that completes a transaction).
 *
 * State machine (Kafka's TransactionState; record status numbers in [ ];
 * PrepareX/CompleteX stand for both Commit and Abort):
 *
 *                 AddPartitions/AddOffsets
 *   +----------+ -------------------------> +-------------+  EndTxn(commit)   +-------------------+
 *   | Empty[0] |                            | Ongoing[1]  | ----------------> | PrepareCommit[2]  |
 *   +----------+                            +-------------+                   +-------------------+
 *     ^  |  ^                               |  |   ^    |                          | markers written
 *     |  |  | InitProducerId (epoch bump)   |  |   |    | EndTxn(abort)            v
 *     |  |  +-------------------------------|--|---|----|------------------ +-------------------+
 *     |  |          (from CompleteX)        |  |   |    +-----------------> | PrepareAbort[3]   |
 *     |  |                                  |  |   |     timeout / Init    +-------------------+
 *     |  |                                  |  |   |     on Ongoing go via       | markers written
 *     |  |                                  |  |   |     PrepareEpochFence[7]    v
 *     |  |                                  |  |   |     (epoch bumped)    +-------------------+
 *     |  | expiry   +-------------------+   |  |   +--- Add (new txn) ---- | CompleteAbort[5]  |
 *     |  +--------> | Dead[6] (deleted, |   |  |                           +-------------------+
 *     |   (also     |  tombstone)       |   |  +-- Add (new txn) --------- | CompleteCommit[4] |
 *     |   CompleteX)+-------------------+   |                              +-------------------+
 *     +-------------------------------------+ (never: Ongoing never goes straight to Empty)
 *
 *   Empty/CompleteX -> Empty           od_tc_init_producer_id (epoch + 1, or a new id
 *                                      when the epoch is exhausted)
 *   Empty/CompleteX/Ongoing -> Ongoing od_tc_add_partitions
 *   Ongoing -> PrepareCommit/Abort     od_tc_end_txn
 *   Ongoing -> PrepareEpochFence -> PrepareAbort
 *                                      od_tc_init_producer_id on an open transaction,
 *                                      or its timeout in od_tc_tick (never persisted)
 *   PrepareX -> CompleteX              markers all written (end_txn, tick, load)
 *   Empty/CompleteX -> Dead            transactional.id.expiration.ms in od_tc_tick
 *
 * Threading: one coordinator is owned by one thread or one lock (the
 * broker's lock); nothing here locks. env callbacks run inside the
 * coordinator and must not call back into it.
 *
 * Memory: every string the coordinator keeps is its own copy; results
 * copied into a caller's arena are the caller's.
 */
#ifndef ODRADEK_BROKER_TXN_TRANSACTION_COORDINATOR_H
#define ODRADEK_BROKER_TXN_TRANSACTION_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "wire.h"

/* Kafka error codes the coordinator returns. */
enum {
    OD_TC_NONE = 0,
    OD_TC_UNKNOWN_SERVER_ERROR = -1,
    OD_TC_UNKNOWN_TOPIC_OR_PARTITION = 3,
    OD_TC_NOT_LEADER_OR_FOLLOWER = 6,
    OD_TC_REQUEST_TIMED_OUT = 7,
    OD_TC_MESSAGE_TOO_LARGE = 10,
    OD_TC_COORDINATOR_LOAD_IN_PROGRESS = 14,
    OD_TC_COORDINATOR_NOT_AVAILABLE = 15,
    OD_TC_NOT_COORDINATOR = 16,
    OD_TC_RECORD_LIST_TOO_LARGE = 18,
    OD_TC_NOT_ENOUGH_REPLICAS = 19,
    OD_TC_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    OD_TC_INVALID_REQUEST = 42,
    OD_TC_INVALID_PRODUCER_EPOCH = 47,
    OD_TC_INVALID_TXN_STATE = 48,
    OD_TC_INVALID_PRODUCER_ID_MAPPING = 49,
    OD_TC_INVALID_TRANSACTION_TIMEOUT = 50,
    OD_TC_CONCURRENT_TRANSACTIONS = 51,
    OD_TC_KAFKA_STORAGE_ERROR = 56,
    OD_TC_PRODUCER_FENCED = 90,
    OD_TC_TRANSACTIONAL_ID_NOT_FOUND = 105,
};

/* Kafka's TransactionState ids, as TransactionLogValue stores them. */
typedef enum od_txn_state {
    OD_TXN_EMPTY = 0,
    OD_TXN_ONGOING = 1,
    OD_TXN_PREPARE_COMMIT = 2,
    OD_TXN_PREPARE_ABORT = 3,
    OD_TXN_COMPLETE_COMMIT = 4,
    OD_TXN_COMPLETE_ABORT = 5,
    OD_TXN_DEAD = 6,
    OD_TXN_PREPARE_EPOCH_FENCE = 7,
} od_txn_state;

/* Kafka's names ("Empty", "Ongoing", ...), as DescribeTransactions and
 * ListTransactions report them; NULL for an id out of range. */
const char *od_txn_state_name(od_txn_state s);
/* Parses a name (exact, as Kafka's TransactionState.fromName); false when
 * unknown. */
bool od_txn_state_from_name(od_str name, od_txn_state *out);

/* Broker settings, named after Kafka's keys; od_tc_config_default fills
 * Kafka's defaults. */
typedef struct od_tc_config {
    int32_t num_partitions;               /* transaction.state.log.num.partitions (50) */
    int32_t max_timeout_ms;               /* transaction.max.timeout.ms (900000) */
    int64_t abort_check_interval_ms;      /* transaction.abort.timed.out.transaction.cleanup.interval.ms (10000) */
    int64_t id_expiration_ms;             /* transactional.id.expiration.ms (604800000) */
    int64_t remove_expired_interval_ms;   /* transaction.remove.expired.transaction.cleanup.interval.ms (3600000) */
    int64_t marker_retry_backoff_ms;      /* between marker attempts that failed (100) */
} od_tc_config;

void od_tc_config_default(od_tc_config *c);

typedef struct od_tc_env {
    void *ctx;
    int64_t (*now_ms)(void *ctx);
    /* As od_gc_env.wake_at: od_tc_tick wanted at or after deadline_ms; a
     * later call replaces an earlier one. May be NULL. */
    void (*wake_at)(void *ctx, int64_t deadline_ms);
    /* Appends one v2 batch to __transaction_state-partition; returns a
     * Kafka error code (0 once durable as configured). */
    int16_t (*append)(void *ctx, int32_t partition, const uint8_t *batch, size_t len);
    /* A fresh producer id; returns a Kafka error code. */
    int16_t (*next_producer_id)(void *ctx, int64_t *producer_id);
    /* Writes one COMMIT (commit true) or ABORT marker for the producer into
     * topic-partition, as WriteTxnMarkers does. Returns 0 when written,
     * UNKNOWN_TOPIC_OR_PARTITION when the partition no longer exists (the
     * marker is dropped), anything else to be retried later. */
    int16_t (*write_marker)(void *ctx, od_str topic, int32_t partition, int64_t producer_id,
                            int16_t producer_epoch, int32_t coordinator_epoch, bool commit);
} od_tc_env;

typedef struct od_tc od_tc;

/* NULL when out of memory (or num_partitions < 1). No partition is owned
 * until loaded. */
od_tc *od_tc_create(const od_tc_config *config, const od_tc_env *env);
void od_tc_destroy(od_tc *tc);

/* __transaction_state partition of a transactional id:
 * abs(String.hashCode) % partitions, with Kafka's Utils.abs. */
int32_t od_tc_partition_for(const od_tc *tc, od_str transactional_id);

/* ---------------------------------------------------------------- loading */

/* Until loaded, ids of a partition answer NOT_COORDINATOR; while loading,
 * COORDINATOR_LOAD_IN_PROGRESS. coordinator_epoch is the partition's
 * leader epoch (markers carry it). Returns 0 or OD_TC_UNKNOWN_SERVER_ERROR. */
int od_tc_load_begin(od_tc *tc, int32_t partition, int32_t coordinator_epoch);
/* Feeds one v2 batch in log order; control batches are skipped. A record
 * that does not decode fails the load (OD_TC_UNKNOWN_SERVER_ERROR). */
int od_tc_load_batch(od_tc *tc, int32_t partition, const uint8_t *batch, size_t len);
/* Takes ownership; transactions left in a Prepare state complete now
 * (markers, then the Complete record) or, failing that, from od_tc_tick. */
int od_tc_load_finish(od_tc *tc, int32_t partition);
/* Leadership lost: the partition's ids are forgotten. */
void od_tc_unload(od_tc *tc, int32_t partition);

/* Runs what is due: marker retries, timed-out transaction aborts (every
 * abort_check_interval_ms), transactional id expiry (every
 * remove_expired_interval_ms); then asks env.wake_at for the next. */
void od_tc_tick(od_tc *tc);

/* ---------------------------------------------------------------- producer API */

typedef struct od_tc_init_result {
    int16_t error;
    int64_t producer_id;     /* -1 on error */
    int16_t producer_epoch;  /* -1 on error */
} od_tc_init_result;

/* InitProducerId for a transactional id (non-null, may be ""; "" gives
 * INVALID_REQUEST). expected_producer_id/epoch: -1/-1 when the request
 * carries none (KIP-360). */
od_tc_init_result od_tc_init_producer_id(od_tc *tc, od_str transactional_id, int32_t timeout_ms,
                                         int64_t expected_producer_id, int16_t expected_epoch);

typedef struct od_tc_topic_partition {
    od_str topic;
    int32_t partition;
} od_tc_topic_partition;

/* AddPartitionsToTxn (and AddOffsetsToTxn, with __consumer_offsets and the
 * group's partition): one error for the whole set, as Kafka answers. */
int16_t od_tc_add_partitions(od_tc *tc, od_str transactional_id, int64_t producer_id,
                             int16_t producer_epoch, const od_tc_topic_partition *parts,
                             int32_t count);

/* KIP-890 verify-only: returns a top-level error (then every partition has
 * it) or NONE with errors[i] NONE for partitions in the transaction and
 * INVALID_TXN_STATE for the others. Changes nothing. */
int16_t od_tc_verify_partitions(od_tc *tc, od_str transactional_id, int64_t producer_id,
                                int16_t producer_epoch, const od_tc_topic_partition *parts,
                                int32_t count, int16_t *errors);

/* EndTxn from the client: commit or abort. */
int16_t od_tc_end_txn(od_tc *tc, od_str transactional_id, int64_t producer_id,
                      int16_t producer_epoch, bool commit);

/* ---------------------------------------------------------------- admin */

typedef struct od_tc_txn_info {
    od_str transactional_id;
    od_txn_state state;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t timeout_ms;
    int64_t start_ms;                 /* -1 when no transaction has started */
    int64_t last_update_ms;
    od_tc_topic_partition *parts;     /* in the order added */
    int32_t part_count;
} od_tc_txn_info;

/* DescribeTransactions for one id: NONE, TRANSACTIONAL_ID_NOT_FOUND,
 * NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS; UNKNOWN_SERVER_ERROR when
 * the arena is exhausted. Strings and arrays are copied into arena. */
int16_t od_tc_describe(od_tc *tc, od_str transactional_id, od_arena *arena, od_tc_txn_info *out);

/* ListTransactions over owned partitions. Filters with count 0 match all;
 * min_duration_ms < 0 matches all, else only transactions running at
 * least that long. *error is COORDINATOR_LOAD_IN_PROGRESS while a
 * partition loads. Partitions are not copied (parts NULL). Returns 0 or -1
 * when the arena is exhausted. */
int od_tc_list(od_tc *tc, const od_txn_state *states, int32_t state_count,
               const int64_t *producer_ids, int32_t producer_id_count, int64_t min_duration_ms,
               od_arena *arena, int16_t *error, od_tc_txn_info **out, int32_t *count);

/* Number of transactional ids held (all partitions). */
size_t od_tc_count(const od_tc *tc);

#endif
