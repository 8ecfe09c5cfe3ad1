/*
 * The broker side of the transaction coordinator: owns the od_tc, the
 * internal compacted topic __transaction_state (created on first use with
 * transaction.state.log.num.partitions partitions, as Kafka creates it on
 * the first FindCoordinator for a transaction), loading its partitions at
 * start, and the environment the coordinator runs in: appends to
 * __transaction_state, producer ids from the broker's block, and
 * transaction markers written straight into the data partitions' logs on
 * this single node (od_txn_write_marker, the path WriteTxnMarkers takes).
 *
 * Threads and locks: the coordinator is behind the broker lock, like every
 * log it touches; every function here is called with the lock held. Calls
 * that may write markers (EndTxn, InitProducerId, WriteTxnMarkers, the
 * timer) take the group lock first (od_txn_lock), as group_service.h
 * orders them. A timer thread owned by the service sleeps until the
 * coordinator's next deadline and then calls od_tc_tick under both.
 */
#ifndef ODRADEK_BROKER_TXN_SERVICE_H
#define ODRADEK_BROKER_TXN_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "broker.h"
#include "group_coordinator.h"
#include "transaction_coordinator.h"

#define OD_TXN_STATE_TOPIC "__transaction_state"

/* Takes the group lock (when consumer groups run) and then the broker lock,
 * the order group_service.h sets, so that markers written meanwhile into
 * __consumer_offsets reach the group coordinator's pending transactional
 * offsets at once. Returns what od_txn_unlock needs. */
od_gc *od_txn_lock(od_broker *b);
void od_txn_unlock(od_broker *b, od_gc *groups);

/* Creates the coordinator, loads __transaction_state if it exists, starts
 * the timer thread. Called from od_broker_open (single-threaded). Returns 0
 * or -1. */
int od_txn_service_open(od_broker *b);
/* Stops the timer thread and frees the coordinator (lock not held). */
void od_txn_service_close(od_broker *b);

/* The coordinator, creating and loading __transaction_state first when it
 * does not exist yet. NULL (and *error set, e.g. COORDINATOR_NOT_AVAILABLE)
 * when that fails. Lock held. */
od_tc *od_txn_coordinator(od_broker *b, int16_t *error);

/* Appends one COMMIT/ABORT control batch for the producer to a partition's
 * log as its leader (WriteTxnMarkers). Returns a Kafka error code:
 * UNKNOWN_TOPIC_OR_PARTITION when there is no such partition. Lock held. */
int16_t od_txn_write_marker(od_broker *b, od_str topic, int32_t partition, int64_t producer_id,
                            int16_t producer_epoch, int32_t coordinator_epoch, bool commit);

/* Produce's check of a transactional batch (KIP-890 part 1): the partition
 * must be in the producer's ongoing transaction. Returns NONE for records
 * that are not transactional or when no transactional id came with them;
 * otherwise NONE, INVALID_TXN_STATE (not in the transaction),
 * INVALID_PRODUCER_EPOCH (fenced), or NOT_ENOUGH_REPLICAS when the
 * coordinator cannot answer now (retriable, as Kafka maps it). Lock held. */
int16_t od_txn_verify_produce(od_broker *b, od_str transactional_id, od_str topic,
                              int32_t partition, const uint8_t *records, size_t len);

#endif
