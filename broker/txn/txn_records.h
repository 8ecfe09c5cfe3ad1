/*
 * __transaction_state records as Kafka 3.9's transaction coordinator writes
 * them (TransactionLog.keyToBytes / valueToBytes).
 *
 * Key: int16 version 0, then TransactionLogKey v0 (the transactional id).
 * Value: int16 version, then TransactionLogValue. Kafka 3.9 writes version
 * 0 (transaction.version 0: no flexible records) and reads 0 and 1; a null
 * value is a tombstone (the transactional id expired). An Empty state
 * writes a null partition array; every other state an array, empty for the
 * Complete states. Partitions are grouped by topic: topics in the order
 * they joined the transaction, partitions in the order they were added.
 * (Kafka groups a hash set, so with several topics its order may differ;
 * a reader must not depend on it, and neither loader does.)
 *
 * Invariants:
 *   1. Every record written here decodes with the generated codec at the
 *      version it names and re-encodes to the same bytes.
 *   2. Nothing here allocates except from the caller's writer or arena.
 */
#ifndef ODRADEK_BROKER_TXN_TXN_RECORDS_H
#define ODRADEK_BROKER_TXN_TXN_RECORDS_H

#include <stdint.h>

#include "od_messages.h"
#include "wire.h"

enum {
    OD_TXN_KEY_VERSION = 0,
    OD_TXN_VALUE_VERSION = 0,
    OD_TXN_VALUE_NEWEST_VERSION = 1,
};

/* Appends the version-prefixed key; returns w->err. */
od_wire_err od_txn_write_key(od_writer *w, od_str transactional_id);
/* Appends the version-prefixed value (version 0); returns w->err. */
od_wire_err od_txn_write_value(od_writer *w, const od_transaction_log_value *v);

/* Decodes a key (views into key). OD_WIRE_UNSUPPORTED_VERSION for a key
 * version other than 0 (Kafka's loader fails on those too). */
od_wire_err od_txn_read_key(od_bytes key, od_arena *arena, od_transaction_log_key *out);
/* Decodes a non-null value; *version gets its prefix. Versions past the
 * newest are read as the newest (later versions only add tagged fields). */
od_wire_err od_txn_read_value(od_bytes value, od_arena *arena, od_transaction_log_value *out,
                              int16_t *version);

#endif
