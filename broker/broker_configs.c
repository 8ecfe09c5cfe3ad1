/*
 * Topic and broker configs for handlers: describe, validate, alter. A
 * topic's overrides and the dynamic broker configs (this broker's id and
 * "" for cluster-wide defaults) live in the metadata image (ConfigRecords,
 * written by the controller); Kafka's rules come from the config module
 * through config_bridge.h. The broker config in force is the static one
 * under the dynamic layers, rebuilt whenever a BROKER ConfigRecord commits,
 * and every log's inherited settings are refreshed from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config_bridge.h"
#include "dispatch.h"
#include "metadata_record.h"

/* DescribeConfigs' source id of a cluster-wide dynamic broker config. */
enum { SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG = 3 };

/* A small growable key/value list; values point into the image or the arena. */
typedef struct kv_list {
    od_config_kv *items;
    size_t count, cap;
} kv_list;

static int kv_set(kv_list *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].key, key) == 0) {
            l->items[i].value = value;
            return 0;
        }
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        od_config_kv *grown = realloc(l->items, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = (od_config_kv){key, value};
    return 0;
}

static void kv_remove(kv_list *l, const char *key)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].key, key) == 0) {
            l->items[i] = l->items[--l->count];
            return;
        }
}

/* The broker config in force: the static one under the dynamic layers, once
 * a dynamic broker config exists. */
static const struct od_broker_config *current_config(const od_broker *b)
{
    return b->dynamic_config != NULL ? b->dynamic_config : b->config;
}

/* A resource's entries from the image. */
static int resource_entries(od_broker *b, int8_t type, const char *name, kv_list *out)
{
    memset(out, 0, sizeof *out);
    const od_mi_config_resource *res = od_mimage_configs(b->image, type, name);
    for (int32_t i = 0; res != NULL && i < res->count; i++)
        if (kv_set(out, res->entries[i].name, res->entries[i].value) != 0)
            return -1;
    return 0;
}

/* A snapshot of the static config under the image's dynamic broker configs
 * (cluster-wide "" and this broker's), with `key` set to `value` (or
 * removed, value NULL) on resource `changed` when key is not NULL. Returns
 * 0 with *out (NULL when no dynamic config exists), or -1 with Kafka's
 * message in err. */
static int build_dynamic(od_broker *b, const char *changed, const char *key, const char *value,
                         struct od_broker_config **out, char *err, size_t err_len)
{
    char self[16];
    snprintf(self, sizeof self, "%d", b->settings.node_id);
    kv_list def, mine;
    int rc = resource_entries(b, OD_CONFIG_RESOURCE_BROKER, "", &def) |
             resource_entries(b, OD_CONFIG_RESOURCE_BROKER, self, &mine);
    if (rc == 0 && key != NULL && changed != NULL) {
        kv_list *l = changed[0] == '\0' ? &def : strcmp(changed, self) == 0 ? &mine : NULL;
        if (l != NULL && value != NULL)
            rc = kv_set(l, key, value);
        else if (l != NULL)
            kv_remove(l, key);
    }
    *out = NULL;
    if (rc != 0)
        snprintf(err, err_len, "out of memory");
    else if (def.count + mine.count > 0)
        rc = od_cfgb_with_dynamic(b->config, def.items, def.count, mine.items, mine.count, out, err, err_len);
    free(def.items);
    free(mine.items);
    return rc;
}

int od_broker_refresh_dynamic_config(od_broker *b)
{
    char err[512];
    struct od_broker_config *next;
    if (build_dynamic(b, NULL, NULL, NULL, &next, err, sizeof err) != 0) {
        fprintf(stderr, "odradek: dynamic broker configs not applied: %s\n", err);
        return -1;
    }
    od_cfgb_free(b->dynamic_config);
    b->dynamic_config = next;
    return 0;
}

/* Kafka's rule text for a set of keys, as Scala prints a Set. */
static void key_refusal(char *msg, size_t cap, const char *why, const char *key)
{
    snprintf(msg, cap, "%s: Set(%s)", why, key);
}

/* The checks Kafka 3.9's controller makes on a dynamic broker config
 * (DynamicBrokerConfig.validateConfigs), then the value against the whole
 * config it would give. Controller thread. */
static int16_t validate_broker_value(od_broker *b, const char *resource, const char *key,
                                     const char *value, char *msg, size_t msg_cap)
{
    int mode = od_cfgb_broker_update_mode(key);
    if (mode == 0) {
        key_refusal(msg, msg_cap, "Cannot update these configs dynamically", key);
        return OD_ERR_INVALID_REQUEST;
    }
    if (mode == 1 && resource[0] == '\0') {
        key_refusal(msg, msg_cap,
                    "Cannot update these configs at default cluster level, broker id must be specified", key);
        return OD_ERR_INVALID_REQUEST;
    }
    if (mode < 0 || value == NULL)
        return OD_ERR_NONE; /* Kafka keeps keys it does not know; deleting is always allowed */
    struct od_broker_config *trial = NULL;
    od_broker_lock(b);
    int rc = build_dynamic(b, resource, key, value, &trial, msg, msg_cap);
    od_broker_unlock(b);
    od_cfgb_free(trial);
    /* Kafka's controller turns a broker config's ConfigException into
     * INVALID_REQUEST (a topic's is INVALID_CONFIG). */
    return rc == 0 ? OD_ERR_NONE : OD_ERR_INVALID_REQUEST;
}

/* The cluster-wide dynamic defaults, as Kafka describes the "" broker
 * resource: only the keys set there, each its own one synonym. */
static int describe_cluster_defaults(od_broker *b, od_arena *arena, const od_str *keys, int32_t key_count,
                                     bool include_synonyms, od_described_config **out, int32_t *count)
{
    const od_mi_config_resource *res = od_mimage_configs(b->image, OD_CONFIG_RESOURCE_BROKER, "");
    int32_t n = res ? res->count : 0;
    od_described_config *items = od_arena_calloc(arena, (size_t)n + 1, sizeof *items);
    if (items == NULL)
        return -1;
    int32_t got = 0;
    for (int32_t i = 0; i < n; i++) {
        const char *name = res->entries[i].name;
        bool wanted = keys == NULL;
        for (int32_t k = 0; !wanted && k < key_count; k++)
            wanted = od_str_eq_cstr(keys[k], name);
        if (!wanted)
            continue;
        od_described_config *d = &items[got];
        od_str key = od_str_from_cstr(name);
        od_described_config *full = NULL;
        int32_t nfull = 0;
        /* Type and flags as for the broker's own view of the key. */
        if (od_cfgb_describe_broker(current_config(b), arena, &key, 1, false, &full, &nfull) == 0 && nfull == 1)
            *d = full[0];
        d->name = od_cfgb_arena_cstr(arena, name);
        d->value = d->sensitive ? NULL : od_cfgb_arena_cstr(arena, res->entries[i].value);
        d->source = SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG;
        d->synonyms = od_arena_calloc(arena, 1, sizeof *d->synonyms);
        d->synonym_count = 0;
        if (d->synonyms != NULL && include_synonyms) {
            d->synonyms[0] = (od_config_synonym_view){d->name, d->value, SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG};
            d->synonym_count = 1;
        }
        got++;
    }
    *out = items;
    *count = got;
    return 0;
}

/* The topic's overrides from the image. */
static int overrides_in(const od_mimage *img, const char *topic, kv_list *out)
{
    memset(out, 0, sizeof *out);
    const od_mi_config_resource *res = od_mimage_configs(img, OD_CONFIG_RESOURCE_TOPIC, topic);
    for (int32_t i = 0; res != NULL && i < res->count; i++)
        if (kv_set(out, res->entries[i].name, res->entries[i].value) != 0)
            return -1;
    return 0;
}

static int topic_overrides(od_broker *b, const char *topic, kv_list *out)
{
    return overrides_in(b->image, topic, out);
}

int16_t od_broker_describe_configs(od_broker *b, od_arena *arena, int8_t resource_type,
                                   od_str resource_name, const od_str *keys, int32_t key_count,
                                   bool include_synonyms, od_described_config **out,
                                   int32_t *count, const char **message)
{
    *out = NULL;
    *count = 0;
    *message = NULL;
    char *name = od_cfgb_cstr_of(arena, resource_name);
    if (name == NULL)
        return OD_ERR_INVALID_REQUEST;
    if (resource_type == OD_CONFIG_RESOURCE_TOPIC) {
        if (od_mimage_topic_by_name(b->image, name, strlen(name)) == NULL) {
            *message = "Topic does not exist";
            return OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        kv_list overrides;
        int rc = topic_overrides(b, name, &overrides);
        if (rc == 0)
            rc = od_cfgb_describe_topic(current_config(b), overrides.items, overrides.count, arena,
                                        keys, key_count, include_synonyms, out, count);
        free(overrides.items);
        return rc == 0 ? OD_ERR_NONE : OD_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (resource_type == OD_CONFIG_RESOURCE_BROKER) {
        if (name[0] == '\0')
            return describe_cluster_defaults(b, arena, keys, key_count, include_synonyms, out, count) == 0
                       ? OD_ERR_NONE
                       : OD_ERR_UNKNOWN_SERVER_ERROR;
        char self[16];
        snprintf(self, sizeof self, "%d", b->settings.node_id);
        if (strcmp(name, self) != 0) {
            *message = "Unexpected broker id";
            return OD_ERR_INVALID_REQUEST;
        }
        return od_cfgb_describe_broker(current_config(b), arena, keys, key_count, include_synonyms, out, count) == 0
                   ? OD_ERR_NONE
                   : OD_ERR_UNKNOWN_SERVER_ERROR;
    }
    *message = "Unsupported resource type";
    return OD_ERR_INVALID_REQUEST;
}

int16_t od_broker_validate_topic_configs(od_broker *b, od_arena *arena,
                                         const od_topic_config_kv *configs, int32_t count,
                                         const char **message)
{
    static _Thread_local char err[512];
    kv_list props = {0};
    char *text = NULL;
    size_t text_len = 0;
    for (int32_t i = 0; i < count; i++)
        text_len += (size_t)(configs[i].name.len > 0 ? configs[i].name.len : 0) +
                    (size_t)(configs[i].value.len > 0 ? configs[i].value.len : 0) + 2;
    text = malloc(text_len + 1);
    int16_t result = text ? OD_ERR_NONE : OD_ERR_UNKNOWN_SERVER_ERROR;
    char *at = text;
    for (int32_t i = 0; i < count && result == OD_ERR_NONE; i++) {
        if (configs[i].name.len <= 0) {
            *message = "Null or empty config name.";
            result = OD_ERR_INVALID_CONFIG;
            break;
        }
        if (configs[i].value.len < 0) {
            snprintf(err, sizeof err, "Null value not supported for topic configs: %.*s",
                     configs[i].name.len, configs[i].name.ptr);
            *message = err;
            result = OD_ERR_INVALID_REQUEST;
            break;
        }
        char *key = at;
        memcpy(at, configs[i].name.ptr, (size_t)configs[i].name.len);
        at += configs[i].name.len;
        *at++ = '\0';
        char *value = at;
        memcpy(at, configs[i].value.ptr, (size_t)configs[i].value.len);
        at += configs[i].value.len;
        *at++ = '\0';
        if (kv_set(&props, key, value) != 0)
            result = OD_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (result == OD_ERR_NONE && od_cfgb_validate_topic(current_config(b), props.items, props.count, err, sizeof err) != 0) {
        *message = arena ? od_cfgb_arena_cstr(arena, err) : err;
        result = OD_ERR_INVALID_CONFIG;
    }
    free(props.items);
    free(text);
    return result;
}

void od_broker_topic_log_config(od_broker *b, const char *topic, od_log_config *out)
{
    od_broker_topic_log_config_in(b, b->image, topic, out);
}

void od_broker_topic_log_config_in(od_broker *b, const od_mimage *img, const char *topic,
                                   od_log_config *out)
{
    *out = b->settings.log_defaults;
    kv_list overrides;
    od_cfgb_log_settings ls;
    if (overrides_in(img, topic, &overrides) == 0 &&
        od_cfgb_resolve_topic(current_config(b), overrides.items, overrides.count, &ls) == 0) {
        out->segment_bytes = ls.segment_bytes;
        out->segment_ms = ls.segment_ms;
        out->segment_jitter_ms = ls.segment_jitter_ms;
        out->segment_index_bytes = ls.segment_index_bytes;
        out->index_interval_bytes = ls.index_interval_bytes;
        out->max_message_bytes = ls.max_message_bytes;
        out->retention_ms = ls.retention_ms;
        out->retention_bytes = ls.retention_bytes;
        out->log_append_time = ls.log_append_time;
        out->flush_messages = ls.flush_messages;
        out->flush_ms = ls.flush_ms;
        out->message_timestamp_before_max_ms = ls.message_timestamp_before_max_ms;
        out->message_timestamp_after_max_ms = ls.message_timestamp_after_max_ms;
        out->cleanup_delete = ls.cleanup_delete;
        out->cleanup_compact = ls.cleanup_compact;
        out->delete_retention_ms = ls.delete_retention_ms;
        out->min_compaction_lag_ms = ls.min_compaction_lag_ms;
        out->max_compaction_lag_ms = ls.max_compaction_lag_ms;
        out->min_cleanable_dirty_ratio = ls.min_cleanable_dirty_ratio;
    }
    free(overrides.items);
}

int16_t od_broker_validate_config_value(void *ctx, int8_t resource_type, const char *resource,
                                        const char *key, const char *value, char *msg,
                                        size_t msg_cap)
{
    od_broker *b = ctx;
    if (key == NULL || key[0] == '\0') {
        snprintf(msg, msg_cap, "Null or empty config name.");
        return OD_ERR_INVALID_CONFIG;
    }
    if (resource_type == OD_CONFIG_RESOURCE_BROKER)
        return validate_broker_value(b, resource, key, value, msg, msg_cap);
    if (resource_type != OD_CONFIG_RESOURCE_TOPIC) {
        snprintf(msg, msg_cap, "Only topic and broker configs can be altered on this broker");
        return OD_ERR_INVALID_REQUEST;
    }
    /* The topic's overrides with this one change, checked as a whole, so
     * rules between keys (min/max pairs) see the values they will meet.
     * This runs on the controller thread, the only writer of the image, so
     * the views into it stay valid after the unlock. */
    kv_list next;
    od_broker_lock(b);
    int rc = topic_overrides(b, resource, &next);
    od_broker_unlock(b);
    int16_t result = OD_ERR_NONE;
    if (rc != 0 || (value != NULL && kv_set(&next, key, value) != 0)) {
        result = OD_ERR_UNKNOWN_SERVER_ERROR;
    } else {
        if (value == NULL)
            kv_remove(&next, key);
        if (od_cfgb_validate_topic(current_config(b), next.items, next.count, msg, msg_cap) != 0)
            result = OD_ERR_INVALID_CONFIG;
    }
    free(next.items);
    return result;
}
