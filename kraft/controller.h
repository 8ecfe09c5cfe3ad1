/*
 * The KRaft controller: turns admin operations into metadata records,
 * commits them through the quorum as one batch, then applies them to the
 * metadata image. The image is always exactly the committed log.
 *
 * Every operation follows the same path:
 *   1. validate against the current image (Kafka's error codes and messages
 *      per item; nothing is written for an item that fails);
 *   2. build the records of every item that passed;
 *   3. append them as one batch and wait for the commit (a quorum of one
 *      commits on the local fsync);
 *   4. apply them to the image, in log order, at their offsets.
 * validate_only stops after 1.
 *
 * Invariants
 *   1. The image equals the replay of the committed log: records reach the
 *      image only after od_quorum_append committed them (inside a group
 *      commit, before the fsync, but seen by nothing outside the group:
 *      invariant 9), and a restart replays the log into an empty image.
 *   2. One operation = one batch: either all of its records are in the log
 *      or none (the batch is the unit of a log append and of recovery).
 *   3. A record that fails to apply after its commit means log and image
 *      disagree; the controller turns Failed (every later call returns
 *      OD_KR_FAILED) rather than guess.
 *   4. A broker's epoch is the offset of its RegisterBrokerRecord (as Kafka).
 *   5. Topic ids are random version-4 uuids, never the zero or metadata-topic
 *      ids and never starting with '-' in base64, unique in the image.
 *   8. Metadata transactions (Begin/End/AbortTransactionRecord) apply as in
 *      Kafka: the records between Begin and End reach the image together at
 *      End; an Abort drops them; a transaction the log leaves open at start
 *      is aborted by writing AbortTransactionRecord before anything else.
 *   7. On open, the latest snapshot (if any) is loaded first and the log is
 *      replayed from its end offset; od_controller_snapshot writes the
 *      committed image as snapshot (last applied offset + 1, its epoch).
 *   6. On a fresh log the first data batch is the bootstrap
 *      (bootstrap.checkpoint, else metadata.version from the configuration),
 *      wrapped as Kafka does (BeginTransaction, records, ZkMigrationState,
 *      EndTransaction, by metadata.version).
 *  10. The log is cut only below a snapshot that stays: segments go only
 *      when wholly below the end offset of a snapshot that is not deleted
 *      in the same clean, so the latest snapshot plus the log after it
 *      always replay into the image (invariant 7), after a crash at any
 *      point of a clean too.
 *   9. Group commit: between od_controller_group_begin and
 *      od_controller_group_commit, each operation still validates against
 *      the image, appends its own batch (invariant 2 holds per operation)
 *      and applies it, but the batch is not fsynced: the image runs ahead
 *      of the durable log so that the group's later operations see the
 *      earlier ones, as they would one by one. That image is read by
 *      nothing but the group's own operations: no on_commit, no snapshot,
 *      no reply (the caller answers every operation of the group only
 *      after od_controller_group_commit returned). group_commit fsyncs all
 *      the group's batches at once, then calls on_commit once for all of
 *      their records (consecutive offsets). If the fsync or any append of
 *      the group failed, the controller is Failed (invariant 3's rule:
 *      never serve an image the log may not hold) and every operation of
 *      the group must be answered as unknown (OD_KR_IO), never as done.
 *
 * State machine: Open -> Active (after the election and replay in
 * od_controller_open; only Active serves writes) -> Failed (sticky, after a
 * storage error or invariant 3) ; close from any state.
 *
 * Threads: the controller, its quorum and its image are owned by one thread.
 * That thread blocks on fsync in every write (a commit is a local fsync for
 * a quorum of one), so it must not be a network event-loop thread
 * (principle 7): handlers post operations to it and get completions back.
 * Results and messages come from the caller's arena.
 *
 * Outcome of a failed write: OD_KR_IO means the batch may or may not be in
 * the log (written, fsync failed); after a restart it may be committed by
 * the next election. Callers answer such requests as Kafka answers a
 * timeout: the change is unknown, not refused.
 */
#ifndef ODRADEK_KRAFT_CONTROLLER_H
#define ODRADEK_KRAFT_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "bootstrap.h"
#include "kraft_err.h"
#include "metadata_image.h"
#include "od_messages.h"
#include "quorum.h"
#include "snapshot.h"

/* Kafka error codes the controller returns. */
enum {
    OD_KERR_NONE = 0,
    OD_KERR_UNKNOWN_SERVER_ERROR = -1,
    OD_KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    OD_KERR_INVALID_TOPIC_EXCEPTION = 17,
    OD_KERR_UNSUPPORTED_VERSION = 35,
    OD_KERR_TOPIC_ALREADY_EXISTS = 36,
    OD_KERR_INVALID_PARTITIONS = 37,
    OD_KERR_INVALID_REPLICATION_FACTOR = 38,
    OD_KERR_INVALID_REPLICA_ASSIGNMENT = 39,
    OD_KERR_INVALID_CONFIG = 40,
    OD_KERR_NOT_CONTROLLER = 41,
    OD_KERR_INVALID_REQUEST = 42,
    OD_KERR_POLICY_VIOLATION = 44,
    OD_KERR_KAFKA_STORAGE_ERROR = 56,
    OD_KERR_STALE_BROKER_EPOCH = 77,
    OD_KERR_INVALID_UPDATE_VERSION = 95,
    OD_KERR_UNKNOWN_TOPIC_ID = 100,
    OD_KERR_INCONSISTENT_CLUSTER_ID = 104,
};

/* Kafka's limits. */
enum {
    OD_TOPIC_NAME_MAX = 249,
    OD_PRODUCER_ID_BLOCK_SIZE = 1000,
    OD_MAX_RECORDS_PER_USER_OP = 10000,
};

/* IncrementalAlterConfigs operations. */
enum {
    OD_CONFIG_OP_SET = 0,
    OD_CONFIG_OP_DELETE = 1,
    OD_CONFIG_OP_APPEND = 2,
    OD_CONFIG_OP_SUBTRACT = 3,
};

/* Validates one config value for a resource (value NULL: the key is being
 * removed). Returns a Kafka error code (OD_KERR_INVALID_CONFIG, ...) and
 * writes a message into msg; 0 when valid. */
typedef int16_t (*od_config_validate_fn)(void *ctx, int8_t resource_type, const char *resource,
                                         const char *key, const char *value, char *msg,
                                         size_t msg_cap);
/* Validates all changes of one resource together (values[i] NULL: keys[i]
 * is being removed), for rules that look at the whole set, such as Kafka's
 * messages naming every refused key. Same result convention as
 * od_config_validate_fn. */
typedef int16_t (*od_config_validate_resource_fn)(void *ctx, int8_t resource_type,
                                                  const char *resource, const char *const *keys,
                                                  const char *const *values, int32_t count,
                                                  char *msg, size_t msg_cap);
/* True when the key holds a comma-separated list (APPEND/SUBTRACT allowed). */
typedef bool (*od_config_is_list_fn)(void *ctx, int8_t resource_type, const char *key);

typedef struct od_controller_config {
    od_fio *io;
    const char *metadata_log_dir;       /* metadata.log.dir, else the first log.dirs entry */
    int32_t node_id;
    const int32_t *voters;              /* controller.quorum.voters ids */
    int32_t voter_count;
    const char *cluster_id;             /* meta.properties; NULL: not checked */
    int32_t default_num_partitions;     /* num.partitions; 0 means 1 */
    int16_t default_replication_factor; /* default.replication.factor; 0 means 1 */
    int16_t metadata_version;           /* bootstrap level without bootstrap.checkpoint; 0: latest */
    od_config_validate_fn validate_config; /* NULL: every value accepted */
    /* When set, used instead of validate_config, once per resource. */
    od_config_validate_resource_fn validate_resource;
    od_config_is_list_fn is_list_config;   /* NULL: every key is a list */
    void *config_ctx;
    /* Random source for topic ids and placement; NULL: getrandom(2). */
    uint64_t (*random64)(void *ctx);
    void *random_ctx;
    /* Called on the controller thread after each committed batch has been
     * applied, with the batch's records and the image they produced (the
     * broker opens logs for new partitions, drops removed topics, publishes
     * a clone to readers). Not called for the replay at open: the image
     * after od_controller_open is the starting point. NULL: none. */
    void (*on_commit)(void *ctx, const od_mrec *recs, int32_t count, int64_t first_offset,
                      const od_mimage *img);
    void *commit_ctx;
    od_raft_log_config log;             /* metadata.log.segment.bytes / .ms; zeros: defaults */
    /* metadata.max.retention.bytes / .ms, for od_controller_clean_log;
     * negative: no limit. */
    int64_t retention_bytes;
    int64_t retention_ms;
} od_controller_config;

typedef struct od_controller od_controller;

/* Opens the quorum, elects (a sole voter leads at once), replays the
 * committed log into a fresh image, and writes the bootstrap batch into an
 * empty log (invariant 6). */
od_kr_err od_controller_open(const od_controller_config *cfg, int64_t now_ms,
                             od_controller **out);
od_kr_err od_controller_close(od_controller *c, bool clean);

/* Group commit (invariant 9). Operations called between these two return
 * their per-item results as usual, but nothing they did is durable until
 * od_controller_group_commit returns OD_KR_OK; any other result (OD_KR_IO)
 * replaces the outcome of every operation of the group. The records'
 * arenas passed to the operations must live until group_commit returns.
 * A group with no batch appended commits without an fsync. */
void od_controller_group_begin(od_controller *c);
od_kr_err od_controller_group_commit(od_controller *c, int64_t now_ms);

/* The committed image (owner thread only; publish a clone to others). */
const od_mimage *od_controller_image(const od_controller *c);
od_quorum *od_controller_quorum(od_controller *c);

/* One item's outcome; message NULL when Kafka sends none. */
typedef struct od_ctl_status {
    int16_t error_code;
    const char *error_message;
} od_ctl_status;

typedef struct od_ctl_topic_result {
    od_str name;                 /* as in the request (a view) */
    od_uuid topic_id;            /* zero when unknown */
    od_ctl_status status;
    int32_t num_partitions;      /* -1 on error */
    int16_t replication_factor;  /* -1 on error */
} od_ctl_topic_result;

typedef struct od_ctl_resource_result {
    int8_t resource_type;
    od_str resource_name;
    od_ctl_status status;
} od_ctl_resource_result;

/* BrokerRegistration: RegisterBrokerRecord (fenced, as Kafka registers).
 * *broker_epoch valid when status is NONE. */
od_kr_err od_controller_register_broker(od_controller *c,
                                        const od_broker_registration_request *req,
                                        int64_t now_ms, od_arena *arena, od_ctl_status *status,
                                        int64_t *broker_epoch);

/* The broker caught up: BrokerRegistrationChangeRecord fenced=-1. */
od_kr_err od_controller_unfence_broker(od_controller *c, int32_t broker_id, int64_t broker_epoch,
                                       int64_t now_ms, od_arena *arena, od_ctl_status *status);

/* CreateTopics: one result per request topic, in request order. */
od_kr_err od_controller_create_topics(od_controller *c, const od_create_topics_request *req,
                                      int64_t now_ms, od_arena *arena,
                                      od_ctl_topic_result **results);

/* DeleteTopics by name (topic_names, v0-5) and by name or id (topics, v6+):
 * results for topic_names first, then topics, each in request order. */
od_kr_err od_controller_delete_topics(od_controller *c, const od_delete_topics_request *req,
                                      int64_t now_ms, od_arena *arena,
                                      od_ctl_topic_result **results, int32_t *count);

/* CreatePartitions: one result per request topic. */
od_kr_err od_controller_create_partitions(od_controller *c,
                                          const od_create_partitions_request *req,
                                          int64_t now_ms, od_arena *arena,
                                          od_ctl_topic_result **results);

/* IncrementalAlterConfigs / AlterConfigs: one result per resource. */
od_kr_err od_controller_incremental_alter_configs(
    od_controller *c, const od_incremental_alter_configs_request *req, int64_t now_ms,
    od_arena *arena, od_ctl_resource_result **results);
od_kr_err od_controller_alter_configs(od_controller *c, const od_alter_configs_request *req,
                                      int64_t now_ms, od_arena *arena,
                                      od_ctl_resource_result **results);

/* AllocateProducerIds: a block of OD_PRODUCER_ID_BLOCK_SIZE ids. */
od_kr_err od_controller_allocate_producer_ids(od_controller *c, int32_t broker_id,
                                              int64_t broker_epoch, int64_t now_ms,
                                              od_arena *arena, od_ctl_status *status,
                                              int64_t *first_id, int32_t *count);

/* UpdateFeatures for one feature (level 0 removes it). */
od_kr_err od_controller_update_feature(od_controller *c, const char *name, int16_t level,
                                       int64_t now_ms, od_arena *arena, od_ctl_status *status);

/* Writes the committed image as a snapshot in the metadata partition
 * directory; *id (may be NULL) tells which. Nothing is deleted here. */
od_kr_err od_controller_snapshot(od_controller *c, int64_t now_ms, od_snapshot_id *id);

/* Kafka's metadata retention (invariant 10): while there is more than one
 * snapshot and the log and snapshots together exceed retention_bytes, or
 * the oldest snapshot is older than retention_ms, the log segments wholly
 * below the second-oldest snapshot go, then the oldest snapshot. The
 * latest snapshot and the log after it always stay. *deleted (may be
 * NULL): how many snapshots went. */
od_kr_err od_controller_clean_log(od_controller *c, int64_t now_ms, int *deleted);

/* Replays a whole metadata log directory into `img` without joining a
 * quorum: every batch in the log, committed or not, so only for tools and
 * compatibility tests on a stopped single-node cluster (whose log is all
 * committed), after the latest snapshot if there is one. Writes nothing to
 * the log. */
od_kr_err od_metadata_replay_dir(od_fio *io, const char *metadata_log_dir, int64_t now_ms,
                                 od_mimage *img);

#endif
