/*
 * The broker's static configuration: Apache Kafka 3.9's server.properties
 * keys, read with Kafka's defaults, validators and cross-key rules, into a
 * typed od_broker_config.
 *
 * Owns: the one table of broker keys (name, type, Kafka 3.9 default,
 * validator, Kafka's dynamic-update mode, whether Odradek honours the key,
 * typed field); Kafka's precedence rules (log.retention.ms > minutes > hours,
 * log.roll.ms > hours, log.dirs > log.dir, node.id = broker.id); the KRaft
 * start-up checks a user would hit; and the broker side of DescribeConfigs
 * (value, source, synonyms, read-only, sensitive) so that a handler can answer
 * exactly as Kafka does. Every default in the table was read from Kafka 3.9.2's
 * own ConfigDef, not from documentation.
 *
 * Keys Kafka knows but Odradek ignores (ZooKeeper, JMX, remote storage,
 * pluggable Java classes...) are still in the table, because DescribeConfigs
 * must list them with Kafka's defaults; setting one yields a warning (a value
 * Kafka itself would refuse is still an error), so a KRaft server.properties
 * that Kafka 3.9 starts with also starts Odradek. The exceptions are keys
 * naming Java classes Odradek cannot provide where ignoring them would change
 * behaviour silently (authorizer.class.name, group.consumer.assignors).
 *
 * Thread-safety: an od_broker_config is immutable once loaded. Dynamic
 * updates (AlterConfigs) will build a new snapshot from the layers and swap
 * the pointer; readers keep the snapshot they started with. That avoids a
 * lock on every read of a hot value (message.max.bytes on each produce).
 */
#ifndef ODRADEK_BROKER_CONFIG_H
#define ODRADEK_BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_value.h"
#include "properties.h"

/* Kafka's dynamic update mode; anything but READ_ONLY can be changed by
 * AlterConfigs, and DescribeConfigs' read-only flag is mode == READ_ONLY. */
typedef enum od_update_mode {
    OD_UPDATE_READ_ONLY = 0,
    OD_UPDATE_PER_BROKER,
    OD_UPDATE_CLUSTER_WIDE,
} od_update_mode;

enum {
    /* Odradek acts on the value. Without it the key is accepted and
     * described, and setting it produces an "ignored" warning. */
    OD_CONFIG_HONOURED = 1u << 0,
    /* Not in Kafka's broker ConfigDef (the StandardAuthorizer reads it from
     * the raw properties), so Kafka describes it only when set, with type
     * UNKNOWN and as sensitive. */
    OD_CONFIG_OUTSIDE_KAFKA_DEF = 1u << 1,
    /* Defined as internal in Kafka's ConfigDef: DescribeConfigs lists it
     * only when it is set. */
    OD_CONFIG_INTERNAL = 1u << 2,
};

#define OD_CONFIG_NO_FIELD ((size_t)-1)

typedef struct od_broker_config_entry {
    const char *name;
    od_config_type type;
    const char *default_value; /* Kafka's default in DescribeConfigs form; NULL = null */
    od_config_validator validator;
    od_update_mode update_mode;
    unsigned flags;
    size_t field; /* offsetof in od_broker_config, or OD_CONFIG_NO_FIELD */
} od_broker_config_entry;

/* Sorted by name. */
extern const od_broker_config_entry od_broker_config_table[];
extern const size_t od_broker_config_table_len;

/* Returns the entry for a Kafka key, or NULL. */
const od_broker_config_entry *od_broker_config_entry_find(const char *name);

typedef enum od_security_protocol {
    OD_SECURITY_PLAINTEXT = 0,
    OD_SECURITY_SSL,
    OD_SECURITY_SASL_PLAINTEXT,
    OD_SECURITY_SASL_SSL,
} od_security_protocol;

typedef struct od_listener {
    const char *name; /* upper-cased, as Kafka normalises listener names */
    const char *host; /* "" binds every interface */
    int port;
    od_security_protocol protocol;
} od_listener;

typedef struct od_quorum_voter {
    int32_t id;
    const char *host;
    int port;
} od_quorum_voter;

typedef struct od_broker_config_state od_broker_config_state;

typedef struct od_broker_config {
    /* One field per honoured key, named after it, holding the effective
     * value. A key whose Kafka default is null and that is unset reads as
     * NULL (strings) or 0 (numbers); use od_broker_config_source() or the
     * resolved values below instead of guessing. */
    const char *advertised_listeners;
    const char *authorizer_class_name;
    bool auto_create_topics_enable;
    bool auto_leader_rebalance_enable;
    int32_t background_threads;
    int32_t broker_heartbeat_interval_ms;
    int32_t broker_id;
    const char *broker_rack;
    int32_t broker_session_timeout_ms;
    int32_t compression_gzip_level;
    int32_t compression_lz4_level;
    const char *compression_type;
    int32_t compression_zstd_level;
    int64_t connections_max_idle_ms;
    bool controlled_shutdown_enable;
    const char *controller_listener_names;
    int32_t controller_quorum_append_linger_ms;
    od_config_list controller_quorum_bootstrap_servers;
    int32_t controller_quorum_election_backoff_max_ms;
    int32_t controller_quorum_election_timeout_ms;
    int32_t controller_quorum_fetch_timeout_ms;
    int32_t controller_quorum_request_timeout_ms;
    int32_t controller_quorum_retry_backoff_ms;
    od_config_list controller_quorum_voters;
    int32_t default_replication_factor;
    bool delete_topic_enable;
    int32_t fetch_max_bytes;
    od_config_list group_consumer_assignors;
    int32_t group_consumer_heartbeat_interval_ms;
    int32_t group_consumer_max_heartbeat_interval_ms;
    int32_t group_consumer_max_session_timeout_ms;
    int32_t group_consumer_max_size;
    const char *group_consumer_migration_policy;
    int32_t group_consumer_min_heartbeat_interval_ms;
    int32_t group_consumer_min_session_timeout_ms;
    int32_t group_consumer_session_timeout_ms;
    od_config_list group_coordinator_rebalance_protocols;
    int32_t group_initial_rebalance_delay_ms;
    int32_t group_max_session_timeout_ms;
    int32_t group_max_size;
    int32_t group_min_session_timeout_ms;
    int32_t initial_broker_registration_timeout_ms;
    const char *inter_broker_listener_name;
    int64_t leader_imbalance_check_interval_seconds;
    int32_t leader_imbalance_per_broker_percentage;
    const char *listener_security_protocol_map;
    const char *listeners;
    int64_t log_cleaner_backoff_ms;
    int64_t log_cleaner_dedupe_buffer_size;
    int64_t log_cleaner_delete_retention_ms;
    bool log_cleaner_enable;
    double log_cleaner_io_buffer_load_factor;
    int32_t log_cleaner_io_buffer_size;
    double log_cleaner_io_max_bytes_per_second;
    int64_t log_cleaner_max_compaction_lag_ms;
    double log_cleaner_min_cleanable_ratio;
    int64_t log_cleaner_min_compaction_lag_ms;
    int32_t log_cleaner_threads;
    od_config_list log_cleanup_policy;
    const char *log_dir;
    const char *log_dirs;
    int64_t log_flush_interval_messages;
    int64_t log_flush_interval_ms;
    int32_t log_flush_offset_checkpoint_interval_ms;
    int64_t log_flush_scheduler_interval_ms;
    int32_t log_flush_start_offset_checkpoint_interval_ms;
    int32_t log_index_interval_bytes;
    int32_t log_index_size_max_bytes;
    int64_t log_initial_task_delay_ms;
    int64_t log_message_timestamp_after_max_ms;
    int64_t log_message_timestamp_before_max_ms;
    int64_t log_message_timestamp_difference_max_ms;
    const char *log_message_timestamp_type;
    bool log_preallocate;
    int64_t log_retention_bytes;
    int64_t log_retention_check_interval_ms;
    int32_t log_retention_hours;
    int32_t log_retention_minutes;
    int64_t log_retention_ms;
    int32_t log_roll_hours;
    int32_t log_roll_jitter_hours;
    int64_t log_roll_jitter_ms;
    int64_t log_roll_ms;
    int32_t log_segment_bytes;
    int64_t log_segment_delete_delay_ms;
    int32_t max_connections;
    int32_t max_connections_per_ip;
    int32_t max_incremental_fetch_session_cache_slots;
    int32_t message_max_bytes;
    const char *metadata_log_dir;
    int64_t metadata_log_max_record_bytes_between_snapshots;
    int64_t metadata_log_max_snapshot_interval_ms;
    int32_t metadata_log_segment_bytes;
    int32_t metadata_log_segment_min_bytes;
    int64_t metadata_log_segment_ms;
    int32_t metadata_max_idle_interval_ms;
    int64_t metadata_max_retention_bytes;
    int64_t metadata_max_retention_ms;
    int32_t min_insync_replicas;
    int32_t node_id;
    int32_t num_io_threads;
    int32_t num_network_threads;
    int32_t num_partitions;
    int32_t num_recovery_threads_per_data_dir;
    int32_t num_replica_fetchers;
    int32_t offset_metadata_max_bytes;
    int32_t offsets_commit_timeout_ms;
    int32_t offsets_load_buffer_size;
    int64_t offsets_retention_check_interval_ms;
    int32_t offsets_retention_minutes;
    int32_t offsets_topic_compression_codec;
    int32_t offsets_topic_num_partitions;
    int16_t offsets_topic_replication_factor;
    int32_t offsets_topic_segment_bytes;
    od_config_list process_roles;
    int32_t producer_id_expiration_check_interval_ms;
    int32_t producer_id_expiration_ms;
    int64_t queued_max_request_bytes;
    int32_t queued_max_requests;
    int32_t replica_fetch_backoff_ms;
    int32_t replica_fetch_max_bytes;
    int32_t replica_fetch_min_bytes;
    int32_t replica_fetch_response_max_bytes;
    int32_t replica_fetch_wait_max_ms;
    int64_t replica_high_watermark_checkpoint_interval_ms;
    int64_t replica_lag_time_max_ms;
    int32_t replica_socket_receive_buffer_bytes;
    int32_t replica_socket_timeout_ms;
    int32_t request_timeout_ms;
    od_config_list sasl_enabled_mechanisms;
    const char *sasl_jaas_config;
    const char *sasl_mechanism_controller_protocol;
    const char *sasl_mechanism_inter_broker_protocol;
    const char *security_inter_broker_protocol;
    int32_t socket_listen_backlog_size;
    int32_t socket_receive_buffer_bytes;
    int32_t socket_request_max_bytes;
    int32_t socket_send_buffer_bytes;
    od_config_list ssl_cipher_suites;
    const char *ssl_client_auth;
    od_config_list ssl_enabled_protocols;
    const char *ssl_key_password;
    const char *ssl_keystore_location;
    const char *ssl_keystore_password;
    const char *ssl_keystore_type;
    const char *ssl_protocol;
    const char *ssl_truststore_location;
    const char *ssl_truststore_password;
    const char *ssl_truststore_type;
    int32_t transaction_abort_timed_out_transaction_cleanup_interval_ms;
    int32_t transaction_max_timeout_ms;
    bool transaction_partition_verification_enable;
    int32_t transaction_remove_expired_transaction_cleanup_interval_ms;
    int32_t transaction_state_log_load_buffer_size;
    int32_t transaction_state_log_min_isr;
    int32_t transaction_state_log_num_partitions;
    int16_t transaction_state_log_replication_factor;
    int32_t transaction_state_log_segment_bytes;
    int32_t transactional_id_expiration_ms;
    bool unclean_leader_election_enable;
    /* Read by the authorizer, outside Kafka's broker ConfigDef. */
    bool allow_everyone_if_no_acl_found;
    const char *super_users;

    /* Values that depend on several keys, resolved with Kafka's rules. */
    struct {
        bool is_broker, is_controller;
        int32_t node_id;              /* node.id, or broker.id when only it is set */
        int64_t log_retention_ms;     /* ms > minutes > hours; negative means -1 */
        int64_t log_roll_ms;          /* ms > hours */
        int64_t log_roll_jitter_ms;   /* ms > hours */
        int64_t log_flush_interval_ms; /* log.flush.interval.ms, else the scheduler interval */
        od_config_list log_dirs;      /* log.dirs, else log.dir */
        const char *metadata_log_dir; /* metadata.log.dir, else the first log dir */
        od_listener *listeners;
        size_t listener_count;
        /* advertised.listeners (else listeners), minus controller listeners */
        od_listener *advertised_listeners;
        size_t advertised_listener_count;
        od_config_list controller_listener_names;
        const char *inter_broker_listener_name; /* explicit, or from security.inter.broker.protocol */
        od_quorum_voter *voters;
        size_t voter_count;
    } resolved;

    od_broker_config_state *state; /* layers and storage; private */
} od_broker_config;

/* The layers a snapshot is built from, lowest precedence first after the
 * defaults. Any may be NULL. */
typedef struct od_broker_config_layers {
    const od_properties *static_props;    /* server.properties */
    const od_properties *dynamic_default; /* cluster-wide dynamic values */
    const od_properties *dynamic_broker;  /* this broker's dynamic values */
    const char *static_source;            /* file name for messages; NULL = "server.properties" */
} od_broker_config_layers;

/* Builds a snapshot. Unknown and ignored keys add one warning each to
 * diag->warnings; every invalid value or broken cross-key rule adds one
 * error naming the key (all are reported, so a user fixes them in one go).
 * Returns OD_CONFIG_OK with *out set, OD_CONFIG_ERR_INVALID when any error
 * was added (*out is NULL), or OD_CONFIG_ERR_NOMEM. */
od_config_status od_broker_config_load(const od_broker_config_layers *layers,
                                       od_broker_config **out, od_config_diagnostics *diag);

/* Reads path as Java properties and loads it as the static layer. Syntax
 * and I/O errors land in diag->errors too. */
od_config_status od_broker_config_load_file(const char *path, od_broker_config **out,
                                            od_config_diagnostics *diag);

void od_broker_config_free(od_broker_config *c);

/* The static layer c was loaded from: every table key's text as written,
 * then the unknown keys, into *out (zeroed or freshly freed), so that a
 * snapshot with other dynamic layers can be built from it. Returns
 * OD_CONFIG_OK or OD_CONFIG_ERR_NOMEM. */
od_config_status od_broker_config_static_layer(const od_broker_config *c, od_properties *out);

/* Where the effective value of a table key came from: a dynamic layer,
 * STATIC_BROKER_CONFIG, or DEFAULT_CONFIG; UNKNOWN for keys not in the
 * table. */
od_config_source od_broker_config_source(const od_broker_config *c, const char *name);

/* The effective value of a table key in canonical form (what Kafka's
 * DescribeConfigs shows), or NULL when it is null. For unknown keys NULL. */
const char *od_broker_config_value(const od_broker_config *c, const char *name);

/* The text a layer holds for a key: dynamic and static layers give the
 * text as written (Kafka shows it so in synonyms), DEFAULT_CONFIG gives the
 * canonical default. NULL when that layer does not hold the key. */
const char *od_broker_config_layer_value(const od_broker_config *c, const char *name,
                                         od_config_source layer);

/* What a log, by default, inherits from the broker for a topic-level
 * setting: the value of the topic key's primary broker synonym, except the
 * keys Kafka derives (log.retention.ms, log.roll.ms, log.roll.jitter.ms,
 * log.flush.interval.ms, and log.message.timestamp.before/after.max.ms,
 * which fall back to the deprecated difference.max.ms), which come back
 * resolved. Canonical text. */
const char *od_broker_config_log_default(const od_broker_config *c, const char *broker_key);

/* One DescribeConfigs entry. Strings are owned by the description. */
#define OD_CONFIG_MAX_SYNONYMS 16
typedef struct od_config_synonym {
    const char *name;
    const char *value; /* NULL for null or sensitive */
    od_config_source source;
} od_config_synonym;

typedef struct od_config_description {
    const char *name;
    const char *value; /* NULL for null or sensitive */
    od_config_source source;
    bool read_only;
    bool sensitive;
    od_config_type type;
    od_config_synonym synonyms[OD_CONFIG_MAX_SYNONYMS];
    size_t synonym_count;
    char *owned[OD_CONFIG_MAX_SYNONYMS + 2];
    size_t owned_count;
} od_config_description;

void od_config_description_free(od_config_description *d);

/* Describes one broker key as Kafka 3.9 does for a broker resource: table
 * keys, plus any unknown key set in the static file (type UNKNOWN,
 * sensitive, read-only). Returns OD_CONFIG_ERR_UNKNOWN_KEY for anything
 * else. Synonyms are filled only when include_synonyms, but the source is
 * always the one Kafka derives from them. */
od_config_status od_broker_config_describe(const od_broker_config *c, const char *name,
                                           bool include_synonyms, od_config_description *out);

/* Lists, in order, the names a full broker DescribeConfigs returns. Returns
 * the total count; writes at most cap names. */
size_t od_broker_config_describable_names(const od_broker_config *c, const char **names, size_t cap);

/* Appends Kafka's synonym chain for names (primary first) to out: dynamic
 * per-broker values of every name, then dynamic defaults, then static
 * values, then non-null defaults, minus any leading entries not named
 * names[0]. Topic descriptions use it for their broker synonyms. */
void od_broker_config_append_synonyms(const od_broker_config *c, const char *const *names,
                                      size_t n, bool sensitive, od_config_description *out);

#endif
