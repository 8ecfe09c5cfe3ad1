/*
 * Topic and broker configs for handlers: describe, validate, alter. A
 * topic's overrides live in the metadata image (ConfigRecords); Kafka's
 * rules come from the config module through config_bridge.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config_bridge.h"
#include "dispatch.h"
#include "metadata_record.h"

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

static const char *kv_get(const kv_list *l, const char *key)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

/* The topic's overrides from the image. */
static int topic_overrides(od_broker *b, const char *topic, kv_list *out)
{
    memset(out, 0, sizeof *out);
    const od_mi_config_resource *res = od_mimage_configs(b->image, OD_CONFIG_RESOURCE_TOPIC, topic);
    for (int32_t i = 0; res != NULL && i < res->count; i++)
        if (kv_set(out, res->entries[i].name, res->entries[i].value) != 0)
            return -1;
    return 0;
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
            rc = od_cfgb_describe_topic(b->config, overrides.items, overrides.count, arena,
                                        keys, key_count, include_synonyms, out, count);
        free(overrides.items);
        return rc == 0 ? OD_ERR_NONE : OD_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (resource_type == OD_CONFIG_RESOURCE_BROKER) {
        /* "" names the cluster-wide dynamic defaults: none are set here. */
        if (name[0] == '\0')
            return OD_ERR_NONE;
        char self[16];
        snprintf(self, sizeof self, "%d", b->settings.node_id);
        if (strcmp(name, self) != 0) {
            *message = "Unexpected broker id";
            return OD_ERR_INVALID_REQUEST;
        }
        return od_cfgb_describe_broker(b->config, arena, keys, key_count, include_synonyms, out, count) == 0
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
    if (result == OD_ERR_NONE && od_cfgb_validate_topic(b->config, props.items, props.count, err, sizeof err) != 0) {
        *message = arena ? od_cfgb_arena_cstr(arena, err) : err;
        result = OD_ERR_INVALID_CONFIG;
    }
    free(props.items);
    free(text);
    return result;
}

void od_broker_topic_log_config(od_broker *b, const char *topic, od_log_config *out)
{
    *out = b->settings.log_defaults;
    kv_list overrides;
    od_cfgb_log_settings ls;
    if (topic_overrides(b, topic, &overrides) == 0 &&
        od_cfgb_resolve_topic(b->config, overrides.items, overrides.count, &ls) == 0) {
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
    }
    free(overrides.items);
}

int16_t od_broker_alter_topic_configs(od_broker *b, od_arena *arena, od_str topic,
                                      const od_config_change *changes, int32_t count,
                                      bool replace_all, bool validate_only, const char **message)
{
    *message = NULL;
    char *name = od_cfgb_cstr_of(arena, topic);
    if (name == NULL || od_mimage_topic_by_name(b->image, name, strlen(name)) == NULL) {
        *message = "Topic does not exist";
        return OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    kv_list current, next = {0};
    if (topic_overrides(b, name, &current) != 0) {
        free(current.items);
        return OD_ERR_UNKNOWN_SERVER_ERROR;
    }
    /* The overrides after the change, validated as a whole. */
    for (size_t i = 0; !replace_all && i < current.count; i++)
        kv_set(&next, current.items[i].key, current.items[i].value);
    int16_t result = OD_ERR_NONE;
    for (int32_t i = 0; i < count; i++) {
        char *key = od_cfgb_cstr_of(arena, changes[i].name);
        if (key == NULL || key[0] == '\0') {
            *message = "Null or empty config name.";
            result = OD_ERR_INVALID_CONFIG;
            break;
        }
        if (changes[i].value.len >= 0)
            kv_set(&next, key, od_cfgb_cstr_of(arena, changes[i].value));
        else
            kv_remove(&next, key);
    }
    char err[512];
    if (result == OD_ERR_NONE && od_cfgb_validate_topic(b->config, next.items, next.count, err, sizeof err) != 0) {
        *message = od_cfgb_arena_cstr(arena, err);
        result = OD_ERR_INVALID_CONFIG;
    }
    if (result != OD_ERR_NONE || validate_only)
        goto done;

    /* One record per key that changes: new or different values, and keys
     * that disappear (null value deletes). */
    size_t cap = next.count + current.count + 1;
    od_mrec *recs = od_arena_calloc(arena, cap, sizeof *recs);
    od_config_record *crs = od_arena_calloc(arena, cap, sizeof *crs);
    int32_t n = 0;
    if (recs == NULL || crs == NULL) {
        result = OD_ERR_UNKNOWN_SERVER_ERROR;
        goto done;
    }
    for (size_t i = 0; i < next.count; i++) {
        const char *old = kv_get(&current, next.items[i].key);
        if (old != NULL && strcmp(old, next.items[i].value) == 0)
            continue;
        od_config_record_init(&crs[n]);
        crs[n].resource_type = OD_CONFIG_RESOURCE_TOPIC;
        crs[n].resource_name = od_str_from_cstr(name);
        crs[n].name = od_str_from_cstr(next.items[i].key);
        crs[n].value = od_str_from_cstr(next.items[i].value);
        recs[n] = (od_mrec){OD_MREC_CONFIG, 0, &crs[n]};
        n++;
    }
    for (size_t i = 0; i < current.count; i++) {
        if (kv_get(&next, current.items[i].key) != NULL)
            continue;
        od_config_record_init(&crs[n]);
        crs[n].resource_type = OD_CONFIG_RESOURCE_TOPIC;
        crs[n].resource_name = od_str_from_cstr(name);
        crs[n].name = od_str_from_cstr(current.items[i].key);
        crs[n].value = OD_STR_NULL;
        recs[n] = (od_mrec){OD_MREC_CONFIG, 0, &crs[n]};
        n++;
    }
    if (n > 0 && od_broker_commit_metadata(b, recs, n) != 0) {
        result = OD_ERR_KAFKA_STORAGE_ERROR;
        goto done;
    }
    od_broker_topic *t = od_broker_topic_by_name(b, topic);
    if (t != NULL) {
        od_log_config cfg;
        od_broker_topic_log_config(b, name, &cfg);
        for (int32_t p = 0; p < t->partition_count; p++)
            if (t->partitions[p] != NULL && t->partitions[p]->log != NULL)
                od_log_set_config(t->partitions[p]->log, &cfg);
    }
done:
    free(current.items);
    free(next.items);
    return result;
}
