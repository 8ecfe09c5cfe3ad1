/*
 * The config module seen through plain types. broker_config.h and
 * topic_config.h name enums that other headers name too (the listener
 * security protocol of server.h, the codec ids of record_batch.h), so no
 * translation unit can include both sides; config_bridge.c is the only one
 * that includes the config headers, and everything crosses as strings.
 */
#ifndef ODRADEK_BROKER_CONFIG_BRIDGE_H
#define ODRADEK_BROKER_CONFIG_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "wire.h"

struct od_broker_config;

typedef struct od_config_kv {
    const char *key;
    const char *value;
} od_config_kv;

/* Kafka's DescribeConfigs numbering for source and type ids. */
typedef struct od_config_synonym_view {
    const char *name;
    const char *value;          /* NULL: null or sensitive */
    int8_t source;
} od_config_synonym_view;

typedef struct od_described_config {
    const char *name;
    const char *value;          /* NULL: null or sensitive */
    int8_t source;
    int8_t type;
    bool read_only;
    bool sensitive;
    int32_t synonym_count;
    od_config_synonym_view *synonyms;
} od_described_config;

/* A copy of s in arena memory (NULL when s is NULL or allocation fails);
 * s itself when arena is NULL. */
const char *od_cfgb_arena_cstr(od_arena *arena, const char *s);

/* A NUL-terminated arena copy of s; NULL when s is null (len -1) or
 * allocation fails. */
char *od_cfgb_cstr_of(od_arena *arena, od_str s);

/* Describes topic keys (all when keys is NULL) given the topic's overrides;
 * unknown keys are left out, as Kafka does. Arena memory. Returns 0 or -1
 * (out of memory). */
int od_cfgb_describe_topic(const struct od_broker_config *bc, const od_config_kv *overrides,
                           size_t override_count, od_arena *arena, const od_str *keys,
                           int32_t key_count, bool include_synonyms, od_described_config **out,
                           int32_t *count);

/* Same for the broker's own keys. */
int od_cfgb_describe_broker(const struct od_broker_config *bc, od_arena *arena, const od_str *keys,
                            int32_t key_count, bool include_synonyms, od_described_config **out,
                            int32_t *count);

/* Kafka's checks on a topic's overrides. Returns 0, or -1 with Kafka's
 * message in err. */
int od_cfgb_validate_topic(const struct od_broker_config *bc, const od_config_kv *props, size_t n,
                           char *err, size_t err_len);

/* A topic's effective log settings from its overrides and the broker. */
typedef struct od_cfgb_log_settings {
    int32_t segment_bytes;
    int64_t segment_ms;
    int64_t segment_jitter_ms;
    int32_t segment_index_bytes;
    int32_t index_interval_bytes;
    int32_t max_message_bytes;
    int64_t retention_ms;
    int64_t retention_bytes;
    bool log_append_time;
    int64_t flush_messages;
    int64_t flush_ms;
    int32_t min_insync_replicas;
    int64_t message_timestamp_before_max_ms; /* after the difference.max.ms fallback */
    int64_t message_timestamp_after_max_ms;
    bool cleanup_delete;                     /* cleanup.policy */
    bool cleanup_compact;
    int64_t delete_retention_ms;
    int64_t min_compaction_lag_ms;
    int64_t max_compaction_lag_ms;
    double min_cleanable_dirty_ratio;
} od_cfgb_log_settings;

/* Kafka's dynamic update mode of a broker key: -1 when the table does not
 * know it, 0 read-only, 1 per broker only, 2 per broker or cluster-wide. */
int od_cfgb_broker_update_mode(const char *key);

/* A snapshot with base's static layer under the given dynamic layers
 * (cluster-wide defaults, then this broker's). Returns 0 with *out (free
 * with od_cfgb_free), or -1 with the first error in err. */
int od_cfgb_with_dynamic(const struct od_broker_config *base, const od_config_kv *cluster_default,
                         size_t default_count, const od_config_kv *per_broker, size_t broker_count,
                         struct od_broker_config **out, char *err, size_t err_len);

void od_cfgb_free(struct od_broker_config *c);

/* producer.id.expiration.ms of a broker config. */
int64_t od_cfgb_producer_id_expiration_ms(const struct od_broker_config *bc);

/* Returns 0, or -1 when the overrides do not resolve (out untouched). */
int od_cfgb_resolve_topic(const struct od_broker_config *bc, const od_config_kv *overrides, size_t n,
                          od_cfgb_log_settings *out);

#endif
