/*
 * The KIP-848 consumer-group coordinator (ConsumerGroupHeartbeat,
 * ConsumerGroupDescribe), following Kafka 3.9's GroupMetadataManager,
 * ConsumerGroup and CurrentAssignmentBuilder, as a pure API: no sockets, no
 * event loop, no storage. Like the classic coordinator (group_coordinator.h)
 * it gets a clock, a wake-up hook and an append of one record batch to a
 * __consumer_offsets partition through od_gc_env; the broker also hands it
 * the topic metadata (names, ids, partition counts) with od_cg_set_topics.
 *
 * Offsets of consumer groups stay with the classic coordinator (they share
 * __consumer_offsets and its OffsetCommit records); this module only
 * validates who may commit, fetch or delete them (od_cg_validate_offset_*).
 *
 * Invariants (numbered; the .c file adds internal ones):
 *   1. State changes only by replaying records. A heartbeat, a timer or a
 *      metadata change computes the records Kafka writes
 *      (ConsumerGroupMetadata, ...PartitionMetadata, ...MemberMetadata,
 *      ...TargetAssignmentMetadata/Member, ...CurrentMemberAssignment, key
 *      versions 3-8), appends them as one batch, and only when the append
 *      succeeds replays them through the same code that loads a partition.
 *      So a failed append changes nothing, and a reload rebuilds exactly the
 *      state the coordinator had (od_cg_load_*).
 *   2. No partition is held by two members: across a group's members, the
 *      sets assigned ∪ pending_revocation are disjoint (Kafka's partition
 *      epochs). A member receives a partition only when no member holds
 *      it (unreleased partitions wait), and a member gives one up only by
 *      acknowledging the revocation in a heartbeat (owned partitions).
 *   3. group_epoch >= assignment_epoch >= every member's epoch; a member's
 *      epoch moves only towards assignment_epoch, and only once it has
 *      revoked what the target takes away.
 *   4. The target assignment is recomputed (with the group's assignor) only
 *      when group_epoch > assignment_epoch, and then covers every
 *      subscribed partition that exists, each to exactly one member.
 *   5. Timers are virtual: nothing reads a clock but env.now_ms; session and
 *      rebalance timeouts fire only inside od_cg_tick.
 *   6. A group id is a classic group (group_coordinator.h) or a consumer
 *      group, never both; offsets stay with the classic coordinator in
 *      either case. The conversions between them (below) move a group from
 *      one to the other in one appended batch and keep its offsets.
 *
 * Member state machine (Kafka's MemberState), per heartbeat (reconcile):
 *
 *     +--------+  target moved, member must give back partitions  +----------------------+
 *     | STABLE | -----------------------------------------------> | UNREVOKED_PARTITIONS |
 *     +--------+ <----------------------------------+             +----------------------+
 *       |   ^   revoked and every new partition free |              | revoked, some new partition
 *       |   |                                        |              | still held by another member
 *       |   |  (target moved, nothing to revoke, some partition    v
 *       |   |   still held elsewhere)              +-----------------------+
 *       |   +------------------------------------- | UNRELEASED_PARTITIONS |
 *       +----------------------------------------> +-----------------------+
 *     leave (-1), session timeout, rebalance timeout while UNREVOKED: member
 *     fenced (removed, group epoch + 1); static leave (-2): epoch -2, the
 *     member keeps its partitions until it rejoins or its session expires.
 *
 * Group state (derived, Kafka's ConsumerGroup.State): Empty (no members),
 * Assigning (group_epoch > assignment_epoch), Reconciling (some member not
 * STABLE at assignment_epoch), Stable.
 *
 * Members of two kinds (KIP-848 migration): consumer-protocol members
 * (ConsumerGroupHeartbeat) and classic members (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup; od_cg_classic_*), which go through the same
 * member state machine: a JoinGroup is a heartbeat with the subscription
 * and owned partitions of its ConsumerProtocolSubscription, SyncGroup
 * hands out the assigned partitions, Heartbeat says REBALANCE_IN_PROGRESS
 * when the member must rejoin to move on. As in Kafka 3.9.2, a classic
 * member is admitted into a consumer group with members whatever the
 * migration policy (Kafka 4.x refuses it under "disabled", KAFKA-20640).
 *
 * Group type (group.consumer.migration.policy, Kafka 3.9's rules):
 *
 *   classic group --ConsumerGroupHeartbeat (epoch 0), non-empty, policy upgrade|bidirectional,
 *                   protocol type "consumer", size <= group.consumer.max.size-->  consumer group
 *                   (members become classic members at the classic generation, Stable, their
 *                   last assignment current and target; GroupMetadata tombstoned)
 *   classic group --same, refused--> GROUP_ID_NOT_FOUND (the group stays classic);
 *                   GROUP_MAX_SIZE_REACHED when it has exactly group.consumer.max.size members
 *   empty classic group --ConsumerGroupHeartbeat (epoch 0)--> tombstoned, a new consumer group
 *   consumer group --the last consumer-protocol member leaves or is fenced, at least one classic
 *                   member remains, policy downgrade|bidirectional, size <= group.max.size-->
 *                   classic group (consumer records tombstoned, GroupMetadata written with
 *                   generation = group epoch, then PreparingRebalance: every member rejoins)
 *   empty consumer group --JoinGroup--> tombstoned, a classic group (od_cg_delete_group)
 *
 * Differences from Kafka 3.9, on purpose:
 *   - SubscribedTopicRegex (ConsumerGroupHeartbeat v1) is served as Kafka
 *     4.4 serves it: RE2/J's syntax (od_regex.h), a pattern new to the group
 *     refused with INVALID_REGULAR_EXPRESSION after the member checks, and
 *     a member subscribed to its topic names plus every topic of the
 *     cluster whose whole name matches (internal topics included, as Kafka
 *     only filters by ACLs). The regex is persisted in the member's
 *     ConsumerGroupMemberMetadataValue; what it resolves to is recomputed
 *     from the cluster's topics, never stored (Kafka writes
 *     ConsumerGroupRegularExpression records, key version 16, which this
 *     coordinator neither writes nor needs). Kafka resolves regexes in the
 *     background, at most every 10 s and when the image has new topics, then
 *     bumps the group epoch; here resolution is immediate: a matching topic
 *     created later is picked up on the group's next heartbeat
 *     (od_cg_set_topics), so epochs may differ, assignments do not.
 *   - The assignors follow Kafka's (uniform: UniformHomogeneous- and
 *     UniformHeterogeneousAssignmentBuilder; range), with Java's HashMap
 *     and HashSet iteration orders emulated, and give the same assignments
 *     (compat-tests/kip848/assignor_diff.py), with one exception: on
 *     inputs where Kafka 3.9.2's heterogeneous builder throws (it moves a
 *     partition a second time while balancing, which its PartitionMovements
 *     refuses), Kafka fails the heartbeat with UNKNOWN_SERVER_ERROR and the
 *     group cannot move on; Odradek assigns with a simpler sticky balance
 *     instead (sizes within one wherever a subscriber could take more).
 *
 * Threading: one od_cg is owned by one thread (the broker's group thread);
 * nothing here locks. The classic coordinator given to od_cg_set_classic
 * is owned by the same thread (the group lock): a conversion changes both,
 * and may answer the classic coordinator's waiting JoinGroup/SyncGroup
 * requests (REBALANCE_IN_PROGRESS) from inside od_cg_heartbeat.
 */
#ifndef ODRADEK_BROKER_GROUPS_CONSUMER_GROUP_H
#define ODRADEK_BROKER_GROUPS_CONSUMER_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "group_coordinator.h"
#include "od_messages.h"
#include "wire.h"

/* Error codes beyond od_gc's. */
enum {
    OD_CG_UNSUPPORTED_VERSION = 35,
    OD_CG_INVALID_REQUEST = 42,
    OD_CG_FENCED_MEMBER_EPOCH = 110,
    OD_CG_UNRELEASED_INSTANCE_ID = 111,
    OD_CG_UNSUPPORTED_ASSIGNOR = 112,
    OD_CG_STALE_MEMBER_EPOCH = 113,
    OD_CG_INVALID_REGULAR_EXPRESSION = 128,
};

/* Kafka's MemberState byte, as stored in CurrentMemberAssignment. */
enum {
    OD_CG_MEMBER_STABLE = 0,
    OD_CG_MEMBER_UNREVOKED_PARTITIONS = 1,
    OD_CG_MEMBER_UNRELEASED_PARTITIONS = 2,
};

enum {
    OD_CG_LEAVE_EPOCH = -1,
    OD_CG_LEAVE_STATIC_EPOCH = -2,
};

/* ConsumerGroupDescribe v1's MemberType (KIP-1099): which protocol a member
 * speaks. */
enum {
    OD_CG_MEMBER_TYPE_CLASSIC = 0,
    OD_CG_MEMBER_TYPE_CONSUMER = 1,
};

typedef enum od_cg_assignor {
    OD_CG_ASSIGNOR_UNIFORM,
    OD_CG_ASSIGNOR_RANGE,
} od_cg_assignor;

/* group.consumer.migration.policy: which online conversions between classic
 * and consumer groups are allowed (Kafka's ConsumerGroupMigrationPolicy). */
typedef enum od_cg_migration_policy {
    OD_CG_MIGRATION_DISABLED,
    OD_CG_MIGRATION_UPGRADE,
    OD_CG_MIGRATION_DOWNGRADE,
    OD_CG_MIGRATION_BIDIRECTIONAL,
} od_cg_migration_policy;

typedef struct od_cg_config {
    int32_t offsets_topic_num_partitions; /* offsets.topic.num.partitions (50) */
    int32_t session_timeout_ms;           /* group.consumer.session.timeout.ms (45000) */
    int32_t heartbeat_interval_ms;        /* group.consumer.heartbeat.interval.ms (5000) */
    int32_t max_size;                     /* group.consumer.max.size (INT32_MAX) */
    /* group.consumer.assignors: the first is the default ("uniform,range") */
    od_cg_assignor assignors[2];
    int32_t assignor_count;
    uint64_t member_id_seed;              /* 0: seed member ids from getrandom */
    od_cg_migration_policy migration_policy; /* group.consumer.migration.policy (disabled) */
    int32_t classic_max_size;             /* group.max.size (INT32_MAX), for downgrades */
} od_cg_config;

void od_cg_config_default(od_cg_config *c);

typedef struct od_cg od_cg;

/* Returns NULL when out of memory. No partition is owned until loaded. */
od_cg *od_cg_create(const od_cg_config *config, const od_gc_env *env);

/* The classic coordinator sharing __consumer_offsets and the thread: the
 * conversions (od_cg_heartbeat upgrading a classic group, a leave or a
 * fencing downgrading a consumer group) read and change its groups. NULL:
 * no conversions. */
void od_cg_set_classic(od_cg *cg, od_gc *gc);
void od_cg_destroy(od_cg *cg);

/* One topic of the cluster's metadata. */
typedef struct od_cg_topic {
    od_str name;
    od_uuid id;
    int32_t partitions;
} od_cg_topic;

/* Replaces the coordinator's view of the cluster's topics (copied); until
 * the first call, heartbeats get COORDINATOR_LOAD_IN_PROGRESS. Groups
 * subscribed to a topic that appeared, vanished or changed its partition
 * count refresh their subscription metadata on their next heartbeat (a
 * new group epoch and target assignment when it changed), as Kafka does
 * on a new metadata image. Returns 0 or -1 (out of memory; old view kept). */
int od_cg_set_topics(od_cg *cg, const od_cg_topic *topics, int32_t count);

/* ---------------------------------------------------------------- loading */

/* Same contract as od_gc_load_*: feed every batch of the partition's log.
 * Records other than consumer-group ones (key versions 3-8) are skipped. */
int od_cg_load_begin(od_cg *cg, int32_t partition);
int od_cg_load_batch(od_cg *cg, int32_t partition, const uint8_t *batch, size_t len);
int od_cg_load_finish(od_cg *cg, int32_t partition);
void od_cg_unload(od_cg *cg, int32_t partition);
/* For a broker that feeds records one by one (its own batch iteration):
 * replays one record of the partition, beginning its load if needed. */
int od_cg_load_record(od_cg *cg, int32_t partition, od_bytes key, od_bytes value);
/* Finishes every partition being loaded and owns the ones never loaded
 * (they had no consumer-group records): for a broker that loads all of
 * __consumer_offsets at once. */
void od_cg_activate_all(od_cg *cg);

/* Fires due session and rebalance timeouts, then asks env.wake_at for the
 * next deadline. */
void od_cg_tick(od_cg *cg);

/* ---------------------------------------------------------------- APIs */

/* ConsumerGroupHeartbeat: fills *resp (arrays and strings from arena; the
 * error message is a static string). Never fails otherwise. regex is the
 * SubscribedTopicRegex of ConsumerGroupHeartbeat v1 (null in v0; empty
 * means "no regex"). */
void od_cg_heartbeat(od_cg *cg, const od_consumer_group_heartbeat_request *req, od_str regex,
                     od_str client_id, od_str client_host, od_arena *arena,
                     od_consumer_group_heartbeat_response *resp);

/* ConsumerGroupDescribe for one group: fills *out from arena; an unknown
 * group gets GROUP_ID_NOT_FOUND, as Kafka 3.9 answers. Returns 0, or -1 when
 * the arena is exhausted. */
int od_cg_describe(od_cg *cg, od_str group_id, od_arena *arena,
                   od_consumer_group_describe_response_described_group *out);

/* Whether a consumer group of that id exists (loaded partitions only). */
bool od_cg_has_group(const od_cg *cg, od_str group_id);

typedef struct od_cg_listed_group {
    od_str group_id;
    od_str state;                /* "Empty", "Assigning", "Reconciling", "Stable" */
} od_cg_listed_group;

/* Lists the consumer groups of loaded partitions (arena copies). Returns 0
 * or -1 when the arena is exhausted. */
int od_cg_list(const od_cg *cg, od_arena *arena, od_cg_listed_group **groups, int32_t *count);

/* Who may touch a consumer group's offsets, as Kafka 3.9's ConsumerGroup
 * decides (one place in the .c file; a new kind of member extends it there).
 * Each returns GROUP_ID_NOT_FOUND when there is no such consumer group.
 *
 * OffsetCommit (validateOffsetCommit): NONE when the group has no members
 * and the commit carries no epoch (an admin's), otherwise UNKNOWN_MEMBER_ID,
 * UNSUPPORTED_VERSION below OffsetCommit v9, STALE_MEMBER_EPOCH for any
 * other epoch than the member's (older or newer). */
int16_t od_cg_validate_offset_commit(const od_cg *cg, od_str group_id, od_str member_id,
                                     int32_t member_epoch, int16_t api_version);
/* TxnOffsetCommit: the same without the version check, and a wrong epoch is
 * ILLEGAL_GENERATION (OffsetMetadataManager.validateTransactionalOffsetCommit). */
int16_t od_cg_validate_txn_offset_commit(const od_cg *cg, od_str group_id, od_str member_id,
                                         int32_t member_epoch);
/* OffsetFetch (validateOffsetFetch): NONE for a null member id with no epoch
 * (before v9, admins), otherwise UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH. */
int16_t od_cg_validate_offset_fetch(const od_cg *cg, od_str group_id, od_str member_id,
                                    int32_t member_epoch);
/* OffsetDelete of one topic's offsets: GROUP_SUBSCRIBED_TO_TOPIC while a
 * member subscribes to it (isSubscribedToTopic), else NONE. */
int16_t od_cg_validate_offset_delete(const od_cg *cg, od_str group_id, od_str topic);

/* DeleteGroups: NONE (tombstones written), NON_EMPTY_GROUP,
 * GROUP_ID_NOT_FOUND, or a coordinator error. */
int16_t od_cg_delete_group(od_cg *cg, od_str group_id);

/* ---------------------------------------------------------------- classic members */

/* KIP-848's classic members: a JoinGroup/SyncGroup/Heartbeat/LeaveGroup
 * client inside a consumer group (Kafka's classicGroup*ToConsumerGroup).
 * Its subscription and owned partitions come from the ConsumerProtocol
 * Subscription in its first protocol's metadata; its generation is its
 * member epoch; its session is its JoinGroup's session timeout. The
 * caller routes here only for a consumer group that has members (an empty
 * one becomes a classic group, od_cg_delete_group). */
typedef struct od_cg_classic_join_args {
    od_str group_id;
    od_str member_id;            /* "" when unknown */
    od_str group_instance_id;
    od_str protocol_type;
    const od_gc_protocol *protocols;
    int32_t protocol_count;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    od_str client_id;
    od_str client_host;
    bool require_known_member_id; /* JoinGroup v4+ */
} od_cg_classic_join_args;

typedef struct od_cg_classic_join_result {
    int16_t error;
    od_str member_id;            /* arena; also set with MEMBER_ID_REQUIRED */
    int32_t generation_id;       /* the member epoch */
    od_str protocol_name;        /* the member's first protocol (protocol type "consumer") */
} od_cg_classic_join_result;

/* Answers at once (the member's epoch and assignment are decided by the
 * heartbeat flow, records appended before the answer). */
void od_cg_classic_join(od_cg *cg, const od_cg_classic_join_args *args, od_arena *arena,
                        od_cg_classic_join_result *out);

typedef struct od_cg_classic_sync_result {
    int16_t error;
    od_str protocol_type;
    od_str protocol_name;
    od_bytes assignment;         /* ConsumerProtocolAssignment of the assigned partitions */
} od_cg_classic_sync_result;

/* SyncGroup: UNKNOWN_MEMBER_ID (unknown, or not a classic member),
 * FENCED_INSTANCE_ID, ILLEGAL_GENERATION (generation != epoch),
 * INCONSISTENT_GROUP_PROTOCOL, REBALANCE_IN_PROGRESS (the group epoch moved:
 * rejoin), else the member's current assignment. */
void od_cg_classic_sync(od_cg *cg, od_str group_id, od_str member_id, od_str instance_id,
                        int32_t generation_id, od_str protocol_type, od_str protocol_name,
                        od_arena *arena, od_cg_classic_sync_result *out);

/* Heartbeat: the same member checks; REBALANCE_IN_PROGRESS when the member
 * must rejoin (group epoch above its epoch, partitions to revoke, or the
 * partitions it waits for are free). */
int16_t od_cg_classic_heartbeat(od_cg *cg, od_str group_id, od_str member_id, od_str instance_id,
                                int32_t generation_id);

/* LeaveGroup: removes the classic members named (by member id, or by
 * instance id, member id "" for an admin removal), one batch with the
 * group epoch bumped. Fills each member's error (and, for a static member,
 * its member id); returns a group-level error (coordinator) or NONE. */
int16_t od_cg_classic_leave(od_cg *cg, od_str group_id, od_gc_leave_member *leavers, int32_t n,
                            od_arena *arena);

/* Whether that member of that consumer group joined with JoinGroup. */
bool od_cg_member_is_classic(const od_cg *cg, od_str group_id, od_str member_id);

/* ---------------------------------------------------------------- assignors */

/* The server-side assignors as pure functions, so they can be compared
 * with Kafka's own (compat-tests/kip848). Members are given in the order
 * Kafka's TargetAssignmentBuilder would insert them into its HashMap;
 * topics are those that exist. A member may subscribe to topic ids that do
 * not exist: they get nothing, but make the subscriptions heterogeneous
 * unless every member names them (Kafka decides on the names). */
typedef struct od_cg_tp {
    od_uuid topic_id;
    int32_t partition;
} od_cg_tp;

typedef struct od_cg_assignor_member {
    od_str member_id;
    od_str instance_id;          /* len -1: dynamic (range orders static members first) */
    const od_uuid *topics;       /* subscribed topic ids */
    int32_t topic_count;
    const od_cg_tp *current;     /* current target assignment */
    int32_t current_count;
    od_cg_tp *result;            /* out (arena), sorted by topic id, partition */
    int32_t result_count;
} od_cg_assignor_member;

/* Returns 0, -1 when the arena is exhausted, or 1 when Kafka 3.9.2's
 * heterogeneous uniform builder throws on this input (the results are then
 * the fallback's, see the differences above). */
int od_cg_run_assignor(od_cg_assignor which, od_cg_assignor_member *members, int32_t count,
                       const od_cg_topic *topics, int32_t topic_count, od_arena *arena);

/* ---------------------------------------------------------------- inspection (tests) */

typedef struct od_cg_group_info {
    int32_t group_epoch;
    int32_t assignment_epoch;
    int32_t member_count;
    const char *state;
} od_cg_group_info;

bool od_cg_group_info_get(const od_cg *cg, od_str group_id, od_cg_group_info *out);

/* A member's view: epochs, state and its partitions as (topic id,
 * partition) pairs in arena. which: 0 assigned, 1 pending revocation,
 * 2 target. Returns false when unknown. */
bool od_cg_member_get(const od_cg *cg, od_str group_id, od_str member_id, int which,
                      od_arena *arena, int32_t *epoch, int8_t *state, od_cg_tp **tps,
                      int32_t *count);

#endif
