/*
 * KRaft metadata records as they sit in a record's value in the
 * __cluster_metadata log, and the control records of a KRaft control batch.
 *
 * Invariants
 *   1. A metadata record value is: frame version (unsigned varint, always 1),
 *      record type = the spec's api key (unsigned varint), record version
 *      (unsigned varint), then the message encoded at that version. The
 *      record key is null. A decoder refuses any other frame version, type
 *      or version above what the codec knows, and trailing bytes: a log
 *      entry that does not parse exactly is corruption, not something to skip.
 *   2. A control record's key is int16 version (0) + int16 type; its value is
 *      the message encoded at version 0 (Kafka reads these values at a fixed
 *      version, so writing a newer one would make them unreadable).
 *   3. A KRaft control batch carries no producer id, is not transactional,
 *      and holds exactly one control record.
 *   4. Decoded messages are views: strings point into the record value, arrays
 *      come from the caller's arena. Both must outlive the decoded record.
 *
 * State machine: none; these are pure functions.
 */
#ifndef ODRADEK_KRAFT_METADATA_RECORD_H
#define ODRADEK_KRAFT_METADATA_RECORD_H

#include <stdint.h>

#include "arena.h"
#include "od_messages.h"
#include "records/batch_builder.h"
#include "records/records.h"
#include "wire.h"

enum { OD_METADATA_FRAME_VERSION = 1 };

/* Metadata record types: the api keys of the specs in metadata/. */
typedef enum od_mrec_type {
    OD_MREC_REGISTER_BROKER = 0,
    OD_MREC_UNREGISTER_BROKER = 1,
    OD_MREC_TOPIC = 2,
    OD_MREC_PARTITION = 3,
    OD_MREC_CONFIG = 4,
    OD_MREC_PARTITION_CHANGE = 5,
    OD_MREC_FENCE_BROKER = 7,
    OD_MREC_UNFENCE_BROKER = 8,
    OD_MREC_REMOVE_TOPIC = 9,
    OD_MREC_DELEGATION_TOKEN = 10,
    OD_MREC_USER_SCRAM_CREDENTIAL = 11,
    OD_MREC_FEATURE_LEVEL = 12,
    OD_MREC_CLIENT_QUOTA = 14,
    OD_MREC_PRODUCER_IDS = 15,
    OD_MREC_BROKER_REGISTRATION_CHANGE = 17,
    OD_MREC_ACCESS_CONTROL_ENTRY = 18,
    OD_MREC_REMOVE_ACCESS_CONTROL_ENTRY = 19,
    OD_MREC_NO_OP = 20,
    OD_MREC_ZK_MIGRATION_STATE = 21,
    OD_MREC_REMOVE_USER_SCRAM_CREDENTIAL = 22,
    OD_MREC_BEGIN_TRANSACTION = 23,
    OD_MREC_END_TRANSACTION = 24,
    OD_MREC_ABORT_TRANSACTION = 25,
    OD_MREC_REMOVE_DELEGATION_TOKEN = 26,
    OD_MREC_REGISTER_CONTROLLER = 27,
    OD_MREC_TYPE_LIMIT = 32, /* types are below this */
} od_mrec_type;

/* KRaft control record types (ControlRecordType ids beyond the transaction markers). */
typedef enum od_kctl_type {
    OD_KCTL_LEADER_CHANGE = 2,
    OD_KCTL_SNAPSHOT_HEADER = 3,
    OD_KCTL_SNAPSHOT_FOOTER = 4,
    OD_KCTL_KRAFT_VERSION = 5,
    OD_KCTL_VOTERS = 6,
} od_kctl_type;

/* One decoded or to-be-encoded metadata record. `msg` points to the
 * generated struct for `type` (od_topic_record for OD_MREC_TOPIC, ...). */
typedef struct od_mrec {
    int16_t type;
    int16_t version;
    const void *msg;
} od_mrec;

/* The codec descriptor for a metadata record type, or NULL when the type is
 * unknown. */
const od_message_desc *od_mrec_desc(int16_t type);

/* Bytes od_mrec_encode writes, or 0 for an unknown type. */
size_t od_mrec_size(const od_mrec *rec);

/* Appends the framed record (invariant 1) to w. Returns OD_WIRE_OK,
 * OD_WIRE_UNSUPPORTED_VERSION for an unknown type or a version outside the
 * spec's range, or the codec's error. */
od_wire_err od_mrec_encode(const od_mrec *rec, od_writer *w);

/* Decodes one framed record from a record value. The message struct and its
 * arrays come from `arena`. Returns OD_WIRE_OK; OD_WIRE_MALFORMED for a bad
 * frame version or trailing bytes; OD_WIRE_UNSUPPORTED_VERSION for an unknown
 * type or version; the codec's error otherwise. *out is valid only on OK. */
od_wire_err od_mrec_decode(const uint8_t *value, size_t len, od_arena *arena, od_mrec *out);

/* The codec descriptor-like entry points for control record values. */
typedef struct od_kctl {
    int16_t type;     /* od_kctl_type */
    const void *msg;  /* od_leader_change_message, od_snapshot_header_record, ... */
} od_kctl;

/* Appends a KRaft control batch holding one control record (invariants 2, 3)
 * to `out`. Uses params->base_offset and partition_leader_epoch only.
 * Returns OD_BATCH_OK, OD_BATCH_INVALID_RECORD for an unknown type or a
 * message that does not encode, or the builder's error. */
od_batch_err od_kctl_batch_build(const od_batch_params *params, const od_kctl *ctl,
                                 int64_t timestamp, od_writer *out);

/* Decodes a record of a control batch. Returns OD_WIRE_OK with out->type set
 * and out->msg decoded for the five KRaft types; OD_WIRE_OK with msg NULL
 * for other control types (transaction markers); OD_WIRE_MALFORMED for a
 * missing or short key/value. */
od_wire_err od_kctl_decode(const od_record *rec, od_arena *arena, od_kctl *out);

/* Appends a data batch of framed metadata records at `timestamp` to `out`:
 * null keys, no producer, no compression. Returns OD_BATCH_OK,
 * OD_BATCH_INVALID_RECORD when a record does not encode or count is 0, or
 * the builder's error. */
od_batch_err od_mrec_batch_build(const od_batch_params *params, const od_mrec *recs,
                                 int32_t count, int64_t timestamp, od_writer *out);

#endif
