/*
 * The broker's shared state and the operations handlers need: the metadata
 * image, the partition logs, topic creation and deletion through the KRaft
 * controller, and waking parked fetches.
 *
 * Metadata: the process runs in combined mode (process.roles=broker,
 * controller) with one voter. kraft/'s controller owns __cluster_metadata-0
 * (quorum-state, snapshots, bootstrap.checkpoint, all in Kafka's formats) on
 * the controller thread (controller_thread.h). Every metadata change is a
 * controller operation there; the broker's image and partition table follow
 * the committed batches through the controller's on_commit hook. Handlers
 * that change metadata are deferred and answered from that thread once the
 * batch is durable and applied.
 *
 * Threads and locks: everything behind `lock` (the image, the partition
 * table, every od_log, the producer-id block and the parked fetches) is
 * touched only with it held. Handlers run on network threads and hold it for
 * the duration of one request's work on shared state, never across a wait
 * or a disk sync. The controller thread takes it only to apply a committed
 * batch; the log maintenance thread (log_maintenance.h) per partition for
 * retention and for a whole cleaner round. The settings are immutable after
 * od_broker_open.
 *
 * Lifetime: od_broker_open (format check, controller open and replay,
 * registration, logs, controller and maintenance threads) ->
 * od_broker_serve (listeners, until a signal) -> od_broker_close
 * (maintenance stopped, controller thread drained and stopped, clean
 * shutdown: logs closed, checkpoints and the clean-shutdown marker written).
 */
#ifndef ODRADEK_BROKER_BROKER_H
#define ODRADEK_BROKER_BROKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct od_broker_config;

#include "config_bridge.h"
#include "metadata_image.h"
#include "partition_log.h"
#include "transaction_coordinator.h"
#include "wire.h"

typedef struct od_broker_endpoint {
    char *listener;
    char *host;
    int32_t port;
} od_broker_endpoint;

/* Group coordinator settings (group_service.h), named after Kafka's keys. */
typedef struct od_broker_group_settings {
    int32_t offsets_topic_num_partitions;
    int16_t offsets_topic_replication_factor;
    int32_t offsets_topic_segment_bytes;
    int32_t offsets_topic_compression_codec;
    int32_t offsets_retention_minutes;
    int64_t offsets_retention_check_interval_ms;
    int32_t offset_metadata_max_bytes;
    int32_t group_min_session_timeout_ms;
    int32_t group_max_session_timeout_ms;
    int32_t group_initial_rebalance_delay_ms;
    int32_t group_max_size;
    /* KIP-848 consumer groups (consumer_group.h) */
    bool consumer_protocol_enabled;   /* "consumer" in group.coordinator.rebalance.protocols */
    int32_t consumer_session_timeout_ms;
    int32_t consumer_heartbeat_interval_ms;
    int32_t consumer_max_size;
    int32_t consumer_assignors[2];    /* od_cg_assignor values, group.consumer.assignors order */
    int32_t consumer_assignor_count;
    int32_t consumer_migration_policy; /* od_cg_migration_policy, group.consumer.migration.policy */
} od_broker_group_settings;

/* The values handlers read, copied out of the broker config at start so
 * handlers need not see the config module. */
typedef struct od_broker_settings {
    int32_t node_id;
    char cluster_id[64];
    char *rack;                       /* NULL when unset */
    int32_t num_partitions;
    int16_t default_replication_factor;
    int32_t min_insync_replicas;
    bool auto_create_topics_enable;
    bool delete_topic_enable;
    int32_t fetch_max_bytes;
    od_log_config log_defaults;       /* what a new topic's logs start with */
    od_broker_endpoint *advertised;   /* client listeners, as clients should reach them */
    int32_t advertised_count;
    od_broker_endpoint *listeners;    /* what to bind */
    int32_t listener_count;
    od_broker_endpoint *controller_listeners; /* controller.listener.names, bound after listeners */
    int32_t controller_listener_count;
    int32_t socket_request_max_bytes;
    int64_t connections_max_idle_ms;
    int32_t network_threads;
    int32_t max_fetch_sessions;       /* max.incremental.fetch.session.cache.slots */
    char *log_dir;                    /* the first of log.dirs: partitions live here */
    char *metadata_log_dir;           /* where __cluster_metadata-0 lives */
    od_tc_config txn;                 /* transaction.* and transactional.id.* settings */
    int64_t metadata_snapshot_bytes;  /* metadata.log.max.record.bytes.between.snapshots */
    int64_t metadata_snapshot_interval_ms; /* metadata.log.max.snapshot.interval.ms */
    int32_t metadata_segment_bytes;   /* metadata.log.segment.bytes */
    int64_t metadata_segment_ms;      /* metadata.log.segment.ms */
    int64_t metadata_retention_bytes; /* metadata.max.retention.bytes */
    int64_t metadata_retention_ms;    /* metadata.max.retention.ms */
    int64_t retention_check_interval_ms;   /* log.retention.check.interval.ms */
    bool log_cleaner_enable;               /* log.cleaner.enable && log.cleaner.threads > 0 */
    int64_t log_cleaner_backoff_ms;        /* log.cleaner.backoff.ms */
    int64_t file_delete_delay_ms;          /* log.segment.delete.delay.ms */
    int64_t producer_id_expiration_ms;     /* producer.id.expiration.ms (static; see od_broker_producer_id_expiration_ms) */
    int64_t producer_id_expiration_check_interval_ms; /* producer.id.expiration.check.interval.ms */
    od_broker_group_settings groups;
} od_broker_settings;

/* Frees what a settings struct owns. */
void od_broker_settings_free(od_broker_settings *s);

/* One partition this broker leads (all of them, with one node). */
typedef struct od_broker_partition {
    od_log *log;
    int32_t pins;                     /* reads whose file regions are still being sent */
    bool deleted;                     /* topic gone; the log is removed once pins reach 0 */
} od_broker_partition;

typedef struct od_broker_topic {
    char *name;
    od_uuid id;
    int32_t partition_count;
    od_broker_partition **partitions;
} od_broker_topic;

typedef struct od_parked_fetch od_parked_fetch;

/* A Fetch waiting for data: woken (on its own loop) when a produce appends. */
struct od_parked_fetch {
    od_parked_fetch *prev, *next;
    void (*wake)(od_parked_fetch *pf);   /* called with the broker lock held */
};

typedef struct od_broker od_broker;
struct od_broker {
    pthread_mutex_t lock;
    od_broker_settings settings;
    od_mimage *image;
    struct od_fio *io;
    struct od_logdir *logdir;
    struct od_logdir *metadata_dir;   /* == logdir when metadata.log.dir is the first log dir */
    struct od_controller *controller; /* owned by the controller thread once it runs */
    struct od_ctl_thread *ctl_thread;
    struct od_maint *maintenance;     /* retention, cleaner, purge (log_maintenance.h) */
    int64_t last_log_delete_ms;       /* when a partition directory was last renamed -delete; 0: none pending */
    int64_t broker_epoch;             /* immutable after od_broker_open */
    od_broker_topic *topics;
    int32_t topic_count, topic_cap;
    od_parked_fetch parked;           /* list head */
    bool fetches_final;               /* shutting down: a fetch answers now, never parks */
    int64_t producer_id_next, producer_id_end; /* the block this broker hands out from */
    bool producer_id_refill_pending;  /* a refill job is queued (od_broker_next_producer_id) */
    struct od_fetch_sessions *fetch_sessions;  /* KIP-227 cache (handlers/fetch_session.h) */
    struct od_txn_service *txn;       /* transaction coordinator (txn_service.h) */
    /* stop_lock guards server and stop_requested: od_broker_request_stop
     * comes from another thread (main.c's signal thread) and must never
     * reach a server that od_broker_serve is destroying. */
    pthread_mutex_t stop_lock;
    struct od_server *server;         /* stop_lock; set while od_broker_serve runs */
    bool stop_requested;              /* stop_lock */
    struct od_broker_config *config;  /* the loaded config; owned; immutable */
    /* config under the image's dynamic broker configs (owned), NULL while
     * there are none. Replaced on the controller thread under the lock;
     * read under the lock, or on the controller thread. */
    struct od_broker_config *dynamic_config;
    struct od_group_service *groups;  /* consumer groups (group_service.h); its own lock */
};

void od_broker_lock(od_broker *b);
void od_broker_unlock(od_broker *b);

/* Lookups; lock held. NULL when unknown. */
od_broker_topic *od_broker_topic_by_name(od_broker *b, od_str name);
od_broker_topic *od_broker_topic_by_id(od_broker *b, const od_uuid *id);
od_broker_partition *od_broker_partition_of(od_broker_topic *t, int32_t partition);

/* Kafka's topic name rule: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
bool od_topic_name_valid(od_str name, const char **why);

typedef struct od_topic_config_kv {
    od_str name;
    od_str value;   /* len -1: null */
} od_topic_config_kv;

/* Posts a job to the controller thread (controller_thread.h); any thread. */
struct od_ctl_job;
void od_broker_post_controller_job(od_broker *b, struct od_ctl_job *job);

/* Called on the controller thread when a topic creation finished:
 * error_code is Kafka's (NONE, TOPIC_ALREADY_EXISTS, ...), message NULL or
 * valid only during the call. */
typedef void od_topic_created_fn(void *ctx, int16_t error_code, const char *message,
                                 const od_uuid *topic_id);

/* Creates a topic through the controller, asynchronously: returns at once
 * (any thread, lock not held) and calls done (may be NULL) on the
 * controller thread after the creation is committed and its logs are open,
 * or refused. num_partitions/replication_factor -1 take the broker
 * defaults. The name and configs are copied. Returns 0, or -1 when out of
 * memory (done is then never called). */
int od_broker_create_topic(od_broker *b, od_str name, int32_t num_partitions,
                           int16_t replication_factor, const od_topic_config_kv *configs,
                           int32_t config_count, od_topic_created_fn *done, void *done_ctx);

/* Hands out one producer id from the current block (lock held). Returns
 * false when the block is used up: the caller then asks the controller
 * for a new one (od_broker_refill_producer_ids). */
bool od_broker_take_producer_id(od_broker *b, int64_t *producer_id);
/* For callers that cannot wait (the transaction coordinator; lock held):
 * one id from the current block, or, when it is used up,
 * COORDINATOR_LOAD_IN_PROGRESS (retriable, as Kafka's broker answers while
 * its next block is on the way) after asking the controller thread for a
 * new block. Returns a Kafka error code. */
int16_t od_broker_next_producer_id(od_broker *b, int64_t *producer_id);
/* Controller thread, lock NOT held: takes a block from the controller when
 * the current one is used up, then hands out one id. Returns a Kafka error
 * code. */
int16_t od_broker_refill_producer_ids(od_broker *b, struct od_controller *c, int64_t now_ms,
                                      od_arena *arena, int64_t *producer_id);

/* Kafka's error code for a controller operation that failed as a whole. */
int16_t od_broker_controller_error(int err);

/* ---- configs: broker_configs.c, the only handler-facing code that sees the
 * config module. Kafka's numbering: DescribeConfigs source and type ids. */
/* Describes the keys of a topic (type 2) or broker (type 4) resource, all
 * of them when keys is NULL, into arena memory. Lock held. Returns a Kafka
 * error code; *message explains a failure. */
int16_t od_broker_describe_configs(od_broker *b, od_arena *arena, int8_t resource_type,
                                   od_str resource_name, const od_str *keys, int32_t key_count,
                                   bool include_synonyms, od_described_config **out,
                                   int32_t *count, const char **message);

/* The controller's config validation hook (od_config_validate_fn): only
 * topic resources may change; a value is checked with Kafka's rules for
 * the key. ctx is the broker. */
int16_t od_broker_validate_config_value(void *ctx, int8_t resource_type, const char *resource,
                                        const char *key, const char *value, char *msg,
                                        size_t msg_cap);
/* The same for all changes of one resource at once
 * (od_config_validate_resource_fn): a broker resource's refusals name
 * every key they apply to, as Kafka's do. */
int16_t od_broker_validate_config_resource(void *ctx, int8_t resource_type, const char *resource,
                                           const char *const *keys, const char *const *values,
                                           int32_t count, char *msg, size_t msg_cap);

/* producer.id.expiration.ms in force: the dynamic broker value, else the
 * static one. Broker lock held. */
int64_t od_broker_producer_id_expiration_ms(const od_broker *b);

/* The answer to a BROKER config resource naming a node other than this
 * one (Kafka checks the name on the broker that gets the request):
 * OD_ERR_NONE for "" and this node's id, else INVALID_REQUEST with Kafka's
 * message (`describe` selects DescribeConfigs' wording). */
int16_t od_broker_check_config_node(const od_broker *b, od_arena *arena, od_str name, bool describe,
                                    const char **message);

/* Rebuilds dynamic_config from the image's BROKER ConfigRecords (this
 * broker's and the cluster-wide ""), lock held, controller thread or
 * opening. Returns 0, or -1 (logged) when they do not resolve; the old
 * snapshot then stays. */
int od_broker_refresh_dynamic_config(od_broker *b);

/* Checks CreateTopics configs (lock held). OD_ERR_NONE or INVALID_CONFIG
 * with *message (arena). */
int16_t od_broker_validate_topic_configs(od_broker *b, od_arena *arena,
                                         const od_topic_config_kv *configs, int32_t count,
                                         const char **message);

/* The log settings a topic's overrides give (lock held). */
void od_broker_topic_log_config(od_broker *b, const char *topic, od_log_config *out);
/* The same from another image (the controller's, on its thread). */
void od_broker_topic_log_config_in(od_broker *b, const od_mimage *img, const char *topic,
                                   od_log_config *out);

/* Takes a read pin on a partition (lock held); the returned od_ref drops it
 * (any thread, takes the lock). NULL when out of memory, and then the read
 * is released at once. */
struct od_ref *od_broker_pin_read(od_broker *b, od_broker_partition *p,
                                  const od_log_read_result *read);

/* Wakes every parked fetch (lock held): something was appended. */
void od_broker_wake_fetches(od_broker *b);
void od_broker_park_fetch(od_broker *b, od_parked_fetch *pf);
void od_broker_unpark_fetch(od_broker *b, od_parked_fetch *pf);
/* The shutdown has begun: every parked fetch answers with what it has, and
 * no fetch parks any more (any thread; takes the lock). */
void od_broker_finish_fetches(od_broker *b);

int64_t od_wall_clock_ms(void);

/* Opens storage (both dirs must be formatted), replays the metadata log,
 * bootstraps an empty one (metadata.version, this broker's registration)
 * and opens every partition log. Takes ownership of *settings. Returns NULL
 * with a message in err. */
od_broker *od_broker_open(od_broker_settings *settings, struct od_broker_config *config,
                          char *err, size_t err_len);

/* Binds the listeners and serves until od_broker_request_stop. Returns 0, or
 * -1 with a message in err. */
int od_broker_serve(od_broker *b, char *err, size_t err_len);

/* Starts the graceful shutdown; any thread, also before od_broker_serve
 * (which then stops at once). Takes stop_lock: never from a signal
 * handler. */
void od_broker_request_stop(od_broker *b);

/* Bound port of the first listener (after serve has bound it). */
uint16_t od_broker_port(od_broker *b);

/* Clean shutdown of storage; frees b. Returns 0, or -1 when the logs could
 * not be closed cleanly (the next start recovers). */
int od_broker_close(od_broker *b);

#endif
