/*
 * __consumer_offsets records as Kafka 3.9's group coordinator writes them,
 * and Java's String.hashCode for partitionFor.
 *
 * A record's key is an int16 key version followed by the key struct; its
 * value is an int16 value version followed by the value struct, or null (a
 * tombstone). Versions Kafka 3.9 (metadata version 3.9-IV0) writes:
 *   OffsetCommitKey     key version 1 (0 is read too; same layout)
 *   GroupMetadataKey    key version 2
 *   OffsetCommitValue   version 3, or version 1 when the commit carries an
 *                       expire timestamp (OffsetCommit v2-4 retention time)
 *   GroupMetadataValue  version 3
 * Key versions 3 and up belong to KIP-848 consumer groups and share groups;
 * a classic-only loader skips them, as Kafka's old coordinator does.
 *
 * Invariants:
 *   1. Every record written here decodes with the generated codec at the
 *      version it names, and the same bytes come back out (round trip).
 *   2. Nothing here allocates except from the caller's writer or arena.
 */
#ifndef ODRADEK_BROKER_GROUPS_GROUP_RECORDS_H
#define ODRADEK_BROKER_GROUPS_GROUP_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "od_messages.h"
#include "wire.h"

enum {
    OD_GC_OFFSET_KEY_VERSION = 1,
    OD_GC_GROUP_KEY_VERSION = 2,
    OD_GC_OFFSET_VALUE_VERSION = 3,
    OD_GC_OFFSET_VALUE_VERSION_WITH_EXPIRY = 1,
    OD_GC_GROUP_VALUE_VERSION = 3,
};

/* Appends version-prefixed record keys and values to w; returns w->err. */
od_wire_err od_gc_write_offset_key(od_writer *w, od_str group, od_str topic, int32_t partition);
od_wire_err od_gc_write_group_key(od_writer *w, od_str group);
/* expire_timestamp -1: none (version 3); otherwise version 1 carries it. */
od_wire_err od_gc_write_offset_value(od_writer *w, int64_t offset, int32_t leader_epoch,
                                     od_str metadata, int64_t commit_timestamp,
                                     int64_t expire_timestamp);
od_wire_err od_gc_write_group_value(od_writer *w, const od_group_metadata_value *v);

/* A decoded record key. */
typedef enum od_gc_key_kind {
    OD_GC_KEY_OFFSET,
    OD_GC_KEY_GROUP,
    OD_GC_KEY_OTHER,   /* a version this coordinator does not load */
} od_gc_key_kind;

typedef struct od_gc_record_key {
    od_gc_key_kind kind;
    int16_t version;
    od_offset_commit_key offset;   /* when OFFSET */
    od_group_metadata_key group;   /* when GROUP */
} od_gc_record_key;

/* Decodes a key (views into key). Returns OD_WIRE_OK or the decode error. */
od_wire_err od_gc_read_key(od_bytes key, od_arena *arena, od_gc_record_key *out);
/* Decodes a version-prefixed value; *version gets the prefix. */
od_wire_err od_gc_read_offset_value(od_bytes value, od_arena *arena, od_offset_commit_value *out,
                                    int16_t *version);
od_wire_err od_gc_read_group_value(od_bytes value, od_arena *arena, od_group_metadata_value *out,
                                   int16_t *version);

/* UTF-16 length of a UTF-8 string as Java decodes it (String.length()). */
int32_t od_java_utf16_length(od_str s);

#endif
