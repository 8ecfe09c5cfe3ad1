/*
 * The classic consumer-group coordinator (JoinGroup/SyncGroup/Heartbeat/
 * LeaveGroup, offsets), with Kafka 3.9's rules and error codes, as a pure
 * API: no sockets, no event loop, no storage. The broker gives it three
 * things through od_gc_env: a clock, a "wake me at" hook for its timers, and
 * an append of one record batch to a partition of __consumer_offsets.
 *
 * Invariants (numbered; the .c file adds internal ones):
 *   1. A group is in exactly one state; every change goes through one
 *      function (set_state in the .c file) that also stamps
 *      currentStateTimestamp, which is persisted.
 *   2. Every change Kafka persists (a new generation with its assignment, an
 *      Empty generation, a static member replacement, an offset commit, a
 *      deletion) is appended as __consumer_offsets records, in Kafka's
 *      exact key/value format, before the caller hears success. A failed
 *      append leaves the in-memory state as Kafka leaves it for that error.
 *   3. Replaying a partition's records (od_gc_load_*) rebuilds the state the
 *      records describe: last writer wins per key, tombstones delete.
 *   4. Each pending JoinGroup or SyncGroup gets exactly one completion, even
 *      when its member is removed, fenced, or its partition is unloaded.
 *   5. Timers are virtual: the coordinator never reads a clock except
 *      through env.now_ms, and expirations run only inside od_gc_tick.
 *
 * State machine (Kafka's GroupState), with the functions that cause each edge:
 *
 *                  join (initial delay)         all joined / rebalance timeout
 *     +-------+  ----------------------->  +--------------------+  ------------->  +---------------------+
 *     | Empty |                            | PreparingRebalance |                  | CompletingRebalance |
 *     +-------+  <-----------------------  +--------------------+  <-------------  +---------------------+
 *       |   ^     join completes, no members   ^          ^   join/leave/expiry/     |  leader's SyncGroup
 *       |   |                                  |          |   metadata change         |  stored
 *       |   |                                  |          |                           v
 *       |   |                                  |          +-------------------  +--------+
 *       |   +------------------------------------------------------------------ | Stable |
 *       |     (via PreparingRebalance when the last member leaves)            +--------+
 *       v
 *     +------+   DeleteGroups on Empty, offsets all expired while Empty,
 *     | Dead |   partition unloaded (from any state)
 *     +------+
 *
 *   Empty -> PreparingRebalance         first JoinGroup (prepare_rebalance)
 *   PreparingRebalance -> Completing    complete_join with members
 *   PreparingRebalance -> Empty         complete_join with none (generation still bumps)
 *   Completing -> Stable                leader SyncGroup appended (sync)
 *   Completing/Stable -> Preparing      join with new metadata, leader rejoin, leave,
 *                                       session/sync expiry (maybe_prepare_rebalance)
 *   Empty -> Dead                       delete, expiry of the last offset, unload
 *
 * Threading: one coordinator is owned by one thread (the broker's group
 * thread or its lock); nothing here locks. Completion callbacks run on that
 * thread, inside the coordinator: they must copy what they need and must not
 * call back into the coordinator.
 *
 * Memory: every string and byte array the coordinator keeps is its own copy.
 * Views handed to callbacks are valid only during the callback; results
 * filled into a caller's arena are the caller's.
 */
#ifndef ODRADEK_BROKER_GROUPS_GROUP_COORDINATOR_H
#define ODRADEK_BROKER_GROUPS_GROUP_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "wire.h"

/* Kafka error codes the coordinator returns. */
enum {
    OD_GC_NONE = 0,
    OD_GC_UNKNOWN_SERVER_ERROR = -1,
    OD_GC_UNKNOWN_TOPIC_OR_PARTITION = 3,
    OD_GC_INVALID_FETCH_SIZE = 4,
    OD_GC_NOT_LEADER_OR_FOLLOWER = 6,
    OD_GC_REQUEST_TIMED_OUT = 7,
    OD_GC_MESSAGE_TOO_LARGE = 10,
    OD_GC_OFFSET_METADATA_TOO_LARGE = 12,
    OD_GC_COORDINATOR_LOAD_IN_PROGRESS = 14,
    OD_GC_COORDINATOR_NOT_AVAILABLE = 15,
    OD_GC_NOT_COORDINATOR = 16,
    OD_GC_RECORD_LIST_TOO_LARGE = 18,
    OD_GC_NOT_ENOUGH_REPLICAS = 19,
    OD_GC_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    OD_GC_ILLEGAL_GENERATION = 22,
    OD_GC_INCONSISTENT_GROUP_PROTOCOL = 23,
    OD_GC_INVALID_GROUP_ID = 24,
    OD_GC_UNKNOWN_MEMBER_ID = 25,
    OD_GC_INVALID_SESSION_TIMEOUT = 26,
    OD_GC_REBALANCE_IN_PROGRESS = 27,
    OD_GC_INVALID_COMMIT_OFFSET_SIZE = 28,
    OD_GC_KAFKA_STORAGE_ERROR = 56,
    OD_GC_NON_EMPTY_GROUP = 68,
    OD_GC_GROUP_ID_NOT_FOUND = 69,
    OD_GC_MEMBER_ID_REQUIRED = 79,
    OD_GC_GROUP_MAX_SIZE_REACHED = 81,
    OD_GC_FENCED_INSTANCE_ID = 82,
    OD_GC_GROUP_SUBSCRIBED_TO_TOPIC = 86,
    OD_GC_UNSTABLE_OFFSET_COMMIT = 88,
};

typedef enum od_gc_state {
    OD_GC_EMPTY,
    OD_GC_PREPARING_REBALANCE,
    OD_GC_COMPLETING_REBALANCE,
    OD_GC_STABLE,
    OD_GC_DEAD,
} od_gc_state;

/* Kafka's spelling ("Empty", "PreparingRebalance", ...), as DescribeGroups
 * and ListGroups report it. */
const char *od_gc_state_name(od_gc_state s);

/* The group's protocol family. KIP-848's consumer groups live in a second
 * coordinator (consumer_group.h) that shares this one's records and keeps
 * its offsets here; a group moves between the two by the online upgrade
 * and downgrade (od_gc_group_export, od_gc_release_group,
 * od_gc_adopt_group). */
typedef enum od_gc_group_kind {
    OD_GC_KIND_CLASSIC,
} od_gc_group_kind;

/* Broker settings, named after Kafka's keys. od_gc_config_default fills
 * Kafka's defaults. */
typedef struct od_gc_config {
    int32_t offsets_topic_num_partitions;     /* offsets.topic.num.partitions (50) */
    int32_t group_min_session_timeout_ms;     /* group.min.session.timeout.ms (6000) */
    int32_t group_max_session_timeout_ms;     /* group.max.session.timeout.ms (1800000) */
    int32_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms (3000) */
    int32_t group_max_size;                   /* group.max.size (INT32_MAX) */
    int32_t offset_metadata_max_bytes;        /* offset.metadata.max.bytes (4096) */
    int64_t offsets_retention_ms;             /* offsets.retention.minutes (10080) in ms */
    int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms (600000) */
    int32_t offsets_topic_compression_codec;  /* offsets.topic.compression.codec (0 = none; Kafka's codec ids) */
    uint64_t member_id_seed;                  /* 0: seed member-id UUIDs from getrandom */
} od_gc_config;

void od_gc_config_default(od_gc_config *c);

/* What the broker supplies. */
typedef struct od_gc_env {
    void *ctx;
    /* Wall-clock milliseconds (Kafka's time.milliseconds()). */
    int64_t (*now_ms)(void *ctx);
    /* The coordinator wants od_gc_tick called at or after deadline_ms. It
     * calls this when it arms a deadline sooner than the one it last asked
     * for, and at the end of every tick with its earliest deadline; a later
     * call replaces an earlier request, and an early tick is harmless. The
     * broker arms one od_loop timer; tests just advance virtual time. May be
     * NULL (then the broker must tick on its own schedule). */
    void (*wake_at)(void *ctx, int64_t deadline_ms);
    /* Appends one v2 record batch (already built) to __consumer_offsets-
     * partition and returns a Kafka error code (0 when written as durably as
     * the broker promises). Called synchronously; the batch is only valid
     * during the call. */
    int16_t (*append)(void *ctx, int32_t partition, const uint8_t *batch, size_t len);
} od_gc_env;

typedef struct od_gc od_gc;

/* Returns NULL when out of memory. No partition is owned until loaded. */
od_gc *od_gc_create(const od_gc_config *config, const od_gc_env *env);
/* Unloads every partition (pending joins/syncs answered NOT_COORDINATOR)
 * and frees everything. */
void od_gc_destroy(od_gc *gc);

/* Java's String.hashCode over the UTF-16 form of a UTF-8 string (malformed
 * bytes decode to U+FFFD as Java's decoder replaces them). */
int32_t od_java_string_hash(od_str s);
/* __consumer_offsets partition of a group: Utils.abs(hashCode) % partitions. */
int32_t od_gc_partition_for(const od_gc *gc, od_str group_id);

/* ---------------------------------------------------------------- loading */

/* Ownership of __consumer_offsets partitions. Until a partition is loaded
 * its groups answer NOT_COORDINATOR; while loading,
 * COORDINATOR_LOAD_IN_PROGRESS. Begin, feed every batch of the log in order,
 * then finish. Returns 0, or OD_GC_UNKNOWN_SERVER_ERROR (out of memory, or
 * a partition out of range). */
int od_gc_load_begin(od_gc *gc, int32_t partition);
/* Feeds one v2 batch. Unknown key versions are skipped as Kafka skips them;
 * a corrupt batch fails the load (returns OD_GC_UNKNOWN_SERVER_ERROR). */
int od_gc_load_batch(od_gc *gc, int32_t partition, const uint8_t *batch, size_t len);
int od_gc_load_finish(od_gc *gc, int32_t partition);
/* Leadership lost: groups of the partition go Dead and are freed; pending
 * joins and syncs are answered NOT_COORDINATOR. */
void od_gc_unload(od_gc *gc, int32_t partition);

/* Runs every expiration whose deadline has passed (session, new-member and
 * pending-member timeouts, rebalance and sync timeouts, the initial delay,
 * offset retention), then asks env.wake_at for the next one. */
void od_gc_tick(od_gc *gc);

/* ---------------------------------------------------------------- JoinGroup */

typedef struct od_gc_protocol {
    od_str name;
    od_bytes metadata;
} od_gc_protocol;

typedef struct od_gc_join_member {
    od_str member_id;
    od_str group_instance_id;   /* len -1: none */
    od_bytes metadata;          /* for the selected protocol */
} od_gc_join_member;

/* JoinGroupResponse fields. protocol_type/protocol_name len -1 when the
 * group has none (Kafka's None): the handler writes null for v7+ and ""
 * before, as Kafka does. On error: generation -1, leader "", member_id as
 * Kafka echoes it. members is non-empty only for the leader. */
typedef struct od_gc_join_result {
    int16_t error;
    int32_t generation_id;
    od_str protocol_type;
    od_str protocol_name;
    od_str leader;
    bool skip_assignment;
    od_str member_id;
    const od_gc_join_member *members;
    int32_t member_count;
} od_gc_join_result;

typedef void od_gc_join_fn(void *done_ctx, const od_gc_join_result *res);

typedef struct od_gc_join_args {
    od_str group_id;
    od_str member_id;            /* "" for a new member */
    od_str group_instance_id;    /* len -1: dynamic member */
    od_str protocol_type;
    const od_gc_protocol *protocols;
    int32_t protocol_count;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms; /* v0 requests: pass the session timeout, as Kafka does */
    od_str client_id;
    od_str client_host;
    od_str reason;               /* for logs only */
    bool require_known_member_id; /* JoinGroup v4+ (KIP-394) */
    bool supports_skip_assignment; /* JoinGroup v9+ */
    od_gc_join_fn *done;
    void *done_ctx;
} od_gc_join_args;

/* Answers through a->done exactly once, now or later (when the rebalance
 * completes, times out, or the member is removed). */
void od_gc_join(od_gc *gc, const od_gc_join_args *a);

/* ---------------------------------------------------------------- SyncGroup */

typedef struct od_gc_assignment {
    od_str member_id;
    od_bytes assignment;
} od_gc_assignment;

typedef struct od_gc_sync_result {
    int16_t error;
    od_str protocol_type;   /* len -1 on error */
    od_str protocol_name;
    od_bytes assignment;    /* empty (len 0) on error */
} od_gc_sync_result;

typedef void od_gc_sync_fn(void *done_ctx, const od_gc_sync_result *res);

typedef struct od_gc_sync_args {
    od_str group_id;
    int32_t generation_id;
    od_str member_id;
    od_str group_instance_id;    /* len -1: none */
    od_str protocol_type;        /* len -1: not sent (before v5) */
    od_str protocol_name;        /* len -1: not sent */
    const od_gc_assignment *assignments; /* the leader's; followers send none */
    int32_t assignment_count;
    od_gc_sync_fn *done;
    void *done_ctx;
} od_gc_sync_args;

/* Answers through a->done exactly once, now or when the leader's assignment
 * arrives (or the rebalance is abandoned). */
void od_gc_sync(od_gc *gc, const od_gc_sync_args *a);

/* ---------------------------------------------------------------- Heartbeat, LeaveGroup */

/* Returns the HeartbeatResponse error code. */
int16_t od_gc_heartbeat(od_gc *gc, od_str group_id, od_str member_id, od_str group_instance_id,
                        int32_t generation_id);

typedef struct od_gc_leave_member {
    od_str member_id;            /* "" to remove by group_instance_id (admin) */
    od_str group_instance_id;    /* len -1: none */
    od_str reason;
    int16_t error;               /* out */
} od_gc_leave_member;

/* LeaveGroup v3+ (batched). Fills members[i].error and returns the
 * top-level error. For v0-2 (one member, no batch) the handler answers with
 * the member's error when the top level is NONE, as Kafka does. */
int16_t od_gc_leave(od_gc *gc, od_str group_id, od_gc_leave_member *members, int32_t count);

/* ---------------------------------------------------------------- DescribeGroups, ListGroups, DeleteGroups */

typedef struct od_gc_member_summary {
    od_str member_id;
    od_str group_instance_id;
    od_str client_id;
    od_str client_host;
    od_bytes metadata;           /* empty unless Stable */
    od_bytes assignment;         /* empty unless Stable */
} od_gc_member_summary;

typedef struct od_gc_group_summary {
    int16_t error;
    od_str state;                /* "Dead" for an unknown group */
    od_str protocol_type;        /* "" when none */
    od_str protocol_data;        /* the protocol name when Stable, else "" */
    od_gc_member_summary *members;
    int32_t member_count;
} od_gc_group_summary;

/* Fills *out for one group; strings and arrays are copied into arena.
 * Returns 0, or -1 when the arena is exhausted. */
int od_gc_describe(od_gc *gc, od_str group_id, od_arena *arena, od_gc_group_summary *out);

typedef struct od_gc_listed_group {
    od_str group_id;
    od_str protocol_type;
    od_str state;
    od_str group_type;           /* "classic" */
} od_gc_listed_group;

/* The ListGroups state filters as Kafka 3.9's new group coordinator (the
 * one that runs once the consumer protocol is enabled) reads them: each
 * trimmed as Java's String.trim does (every byte <= ' ' at either end),
 * which the old coordinator does not do; the type filters are never
 * trimmed. Returns an arena array of views into states (states itself when
 * count is 0), or NULL when the arena is exhausted. */
const od_str *od_gc_trim_state_filters(const od_str *states, int32_t count, od_arena *arena);

/* Lists groups of loaded partitions. states/types filters: count 0 = all;
 * both match case-insensitively, as Kafka lower-cases them.
 * *error is COORDINATOR_LOAD_IN_PROGRESS while a partition is loading (the
 * groups found are still listed, as Kafka does). Returns 0, or -1 when the
 * arena is exhausted. */
int od_gc_list(od_gc *gc, const od_str *states, int32_t state_count, const od_str *types,
               int32_t type_count, od_arena *arena, int16_t *error, od_gc_listed_group **groups,
               int32_t *group_count);

/* DeleteGroups for one group: NONE (offsets and metadata tombstoned),
 * NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, or a coordinator error. */
int16_t od_gc_delete_group(od_gc *gc, od_str group_id);

/* ---------------------------------------------------------------- offsets */

typedef struct od_gc_offset_commit {
    od_str topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;        /* -1: none */
    od_str metadata;             /* null is stored as "" */
    int64_t commit_timestamp;    /* -1: now (only OffsetCommit v1 sends one) */
    int16_t error;               /* out */
} od_gc_offset_commit;

/* OffsetCommit. retention_ms: -1 unless an OffsetCommit v2-4 request set it
 * (then an expire timestamp is stored and the v1 value format is written,
 * as Kafka does). Fills each commit's error; returns 0 (per-partition errors
 * carry everything, as in Kafka's response). */
int od_gc_commit_offsets(od_gc *gc, od_str group_id, od_str member_id, od_str group_instance_id,
                         int32_t generation_id, int64_t retention_ms, od_gc_offset_commit *commits,
                         int32_t count);

typedef struct od_gc_offset_fetch {
    od_str topic;                /* in, or out when fetching all */
    int32_t partition;
    int64_t offset;              /* out: -1 when none */
    int32_t leader_epoch;        /* out: -1 when none */
    od_str metadata;             /* out: "" when none */
    int16_t error;               /* out */
} od_gc_offset_fetch;

/* OffsetFetch for listed partitions (parts/count filled with topic and
 * partition) or, when *all is set, every committed offset of the group
 * (returned in *all_out from arena). Unknown groups give offset -1 and no
 * error. Returns the top-level error code; -1 is never returned, arena
 * exhaustion gives OD_GC_UNKNOWN_SERVER_ERROR. */
int16_t od_gc_fetch_offsets(od_gc *gc, od_str group_id, bool require_stable,
                            od_gc_offset_fetch *parts, int32_t count, bool all, od_arena *arena,
                            od_gc_offset_fetch **all_out, int32_t *all_count);

typedef struct od_gc_offset_delete {
    od_str topic;
    int32_t partition;
    int16_t error;               /* out */
} od_gc_offset_delete;

/* OffsetDelete: returns the group-level error; per-partition errors are
 * GROUP_SUBSCRIBED_TO_TOPIC for topics an active consumer group reads. */
int16_t od_gc_delete_offsets(od_gc *gc, od_str group_id, od_gc_offset_delete *parts,
                             int32_t count);

/* TxnOffsetCommit: the offsets are written as the producer's transactional
 * batch (producer id and epoch, no sequence) and stay pending, invisible to
 * OffsetFetch (which answers UNSTABLE_OFFSET_COMMIT for them when
 * require_stable), until od_gc_complete_txn. Kafka's checks: Dead group
 * COORDINATOR_NOT_AVAILABLE, FENCED_INSTANCE_ID, UNKNOWN_MEMBER_ID for a
 * member_id the group lacks, ILLEGAL_GENERATION for a generation >= 0 that
 * differs. An unknown group is created Empty. Fills each commit's error;
 * returns 0. */
int od_gc_txn_commit_offsets(od_gc *gc, od_str group_id, int64_t producer_id,
                             int16_t producer_epoch, od_str member_id, od_str group_instance_id,
                             int32_t generation_id, od_gc_offset_commit *commits, int32_t count);

/* A COMMIT (commit true) or ABORT marker of producer_id was written to
 * __consumer_offsets-partition: its pending offsets there become committed
 * offsets, or are dropped. Replay does the same for markers in the log. */
void od_gc_complete_txn(od_gc *gc, int32_t partition, int64_t producer_id, bool commit);

/* ---------------------------------------------------------------- inspection (tests, tools) */

/* The group's state, generation, leader and member count; false when the
 * group is unknown. leader is a view valid until the next call. */
bool od_gc_group_info(const od_gc *gc, od_str group_id, od_gc_state *state, int32_t *generation,
                      od_str *leader, int32_t *member_count);
/* Number of groups held (all partitions). */
size_t od_gc_group_count(const od_gc *gc);

/* ---------------------------------------------------------------- KIP-848 migration */

/* A classic group as the consumer-group coordinator converts it (Kafka's
 * ConsumerGroup.fromClassicGroup reads the same). */
typedef struct od_gc_exported_member {
    od_str member_id;
    od_str group_instance_id;
    od_str client_id;
    od_str client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    od_gc_protocol *protocols;
    int32_t protocol_count;
    od_bytes assignment;         /* the last SyncGroup's, empty when none */
} od_gc_exported_member;

typedef struct od_gc_exported_group {
    bool exists;                 /* the coordinator holds the group (maybe offsets only) */
    od_gc_state state;
    int32_t generation;
    od_str protocol_type;        /* len -1: none */
    od_str protocol_name;
    od_gc_exported_member *members;
    int32_t member_count;
} od_gc_exported_group;

/* Copies the group into arena. Returns 0 (exists false when unknown), -1
 * when the arena is exhausted. */
int od_gc_group_export(const od_gc *gc, od_str group_id, od_arena *arena, od_gc_exported_group *out);

/* After its GroupMetadata tombstone was appended by the consumer-group
 * coordinator (an online upgrade): waiting JoinGroup/SyncGroup requests are
 * answered REBALANCE_IN_PROGRESS, members and metadata go, committed
 * offsets stay (the group is dropped when it has none). */
void od_gc_release_group(od_gc *gc, od_str group_id);

/* After a GroupMetadata value (version-prefixed) for group_id was appended
 * by the consumer-group coordinator (an online downgrade): the group is
 * set from it as a load would (Stable, every member a session), then a
 * rebalance is prepared so every member rejoins. Returns 0 or an error. */
int od_gc_adopt_group(od_gc *gc, od_str group_id, od_bytes value);

#endif
