/*
 * Topic-level configuration: Kafka 3.9's topic config keys, how each
 * inherits from the broker, and the DescribeConfigs answer for a topic.
 *
 * Owns: the table of topic keys (type, Kafka 3.9 default, validator, the
 * broker keys it inherits from in Kafka's synonym order, whether Odradek
 * honours it); resolving a topic's overrides plus the broker snapshot into
 * a typed od_topic_config; validating overrides for CreateTopics and
 * AlterConfigs with Kafka's error wording; and describing one key with
 * value, source, synonyms, read-only and sensitive flags exactly as Kafka's
 * broker does (including its quirk that a value inherited through a derived
 * key such as log.retention.hours shows source DEFAULT_CONFIG and no
 * synonyms, because the primary log.retention.ms is unset).
 *
 * Thread-safety: the functions read the broker snapshot and the caller's
 * overrides and write only caller-owned output; an od_topic_config is a
 * plain value that the log owning it replaces wholesale on AlterConfigs.
 */
#ifndef ODRADEK_TOPIC_CONFIG_H
#define ODRADEK_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "broker_config.h"
#include "config_value.h"
#include "properties.h"

typedef enum od_compression_type {
    OD_COMPRESSION_UNCOMPRESSED = 0,
    OD_COMPRESSION_ZSTD,
    OD_COMPRESSION_LZ4,
    OD_COMPRESSION_SNAPPY,
    OD_COMPRESSION_GZIP,
    OD_COMPRESSION_PRODUCER, /* keep whatever codec the producer used */
} od_compression_type;

typedef enum od_timestamp_type {
    OD_TIMESTAMP_CREATE_TIME = 0,
    OD_TIMESTAMP_LOG_APPEND_TIME,
} od_timestamp_type;

enum { OD_CLEANUP_DELETE = 1u << 0, OD_CLEANUP_COMPACT = 1u << 1 };

/* Effective settings of one topic; names follow the Kafka keys. The two
 * timestamp bounds are the ones appends are checked against: like Kafka's
 * LogConfig, an unlimited before/after bound takes the deprecated
 * message.timestamp.difference.max.ms (DescribeConfigs does not show that). */
typedef struct od_topic_config {
    unsigned cleanup_policy; /* OD_CLEANUP_* bits; 0 when the list is empty */
    od_compression_type compression_type;
    od_timestamp_type message_timestamp_type;
    int32_t compression_gzip_level;
    int32_t compression_lz4_level;
    int32_t compression_zstd_level;
    int64_t delete_retention_ms;
    int64_t file_delete_delay_ms;
    int64_t flush_messages;
    int64_t flush_ms;
    int32_t index_interval_bytes;
    int64_t local_retention_bytes;
    int64_t local_retention_ms;
    int64_t max_compaction_lag_ms;
    int32_t max_message_bytes;
    bool message_downconversion_enable;
    int64_t message_timestamp_after_max_ms;
    int64_t message_timestamp_before_max_ms;
    int64_t message_timestamp_difference_max_ms;
    double min_cleanable_dirty_ratio;
    int64_t min_compaction_lag_ms;
    int32_t min_insync_replicas;
    bool preallocate;
    bool remote_log_copy_disable;
    bool remote_log_delete_on_disable;
    bool remote_storage_enable;
    int64_t retention_bytes;
    int64_t retention_ms;
    int32_t segment_bytes;
    int32_t segment_index_bytes;
    int64_t segment_jitter_ms;
    int64_t segment_ms;
    bool unclean_leader_election_enable;
} od_topic_config;

struct od_topic_config_entry;
typedef void (*od_topic_apply_fn)(od_topic_config *t, const char *canonical);

#define OD_TOPIC_MAX_SYNONYMS 3

typedef struct od_topic_config_entry {
    const char *name;
    od_config_type type;
    const char *default_value; /* used only when no broker key backs it */
    od_config_validator validator;
    /* Broker keys in Kafka's order; the first is the one whose effective
     * value a topic inherits. NULL-terminated when shorter. */
    const char *synonyms[OD_TOPIC_MAX_SYNONYMS];
    unsigned flags;      /* OD_CONFIG_HONOURED */
    size_t field;        /* offsetof in od_topic_config, or OD_CONFIG_NO_FIELD */
    od_topic_apply_fn apply; /* for values that become enums or bit sets */
} od_topic_config_entry;

/* Sorted by name. */
extern const od_topic_config_entry od_topic_config_table[];
extern const size_t od_topic_config_table_len;

const od_topic_config_entry *od_topic_config_entry_find(const char *name);

/* Checks a topic's overrides as CreateTopics and AlterConfigs must. broker
 * may be NULL (Kafka defaults). Returns OD_CONFIG_OK,
 * OD_CONFIG_ERR_UNKNOWN_KEY ("Unknown topic config name: x") or
 * OD_CONFIG_ERR_INVALID with Kafka's message in err; both map to Kafka's
 * INVALID_CONFIG error code on the wire. */
od_config_status od_topic_config_validate(const od_properties *overrides, const od_broker_config *broker,
                                          char *err, size_t err_len);

/* Validates, then fills *out with each key's effective value: the topic's
 * override, else what the broker's log defaults give, else Kafka's default.
 * overrides may be NULL (no overrides). */
od_config_status od_topic_config_resolve(const od_properties *overrides, const od_broker_config *broker,
                                         od_topic_config *out, char *err, size_t err_len);

/* Describes one topic key as Kafka's DescribeConfigs does. overrides must
 * already be valid. Returns OD_CONFIG_ERR_UNKNOWN_KEY for names not in the
 * table. Free out with od_config_description_free(). */
od_config_status od_topic_config_describe(const od_properties *overrides, const od_broker_config *broker,
                                          const char *name, bool include_synonyms,
                                          od_config_description *out);

#endif
