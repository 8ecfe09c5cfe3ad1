/*
 * See config_bridge.h: the config module's describe/validate/resolve with
 * plain inputs and arena outputs.
 */
#include "config_bridge.h"

#include <stdio.h>
#include <string.h>

#include "broker_config.h"
#include "properties.h"
#include "topic_config.h"

const char *od_cfgb_arena_cstr(od_arena *arena, const char *s)
{
    if (s == NULL || arena == NULL)
        return s;
    size_t n = strlen(s) + 1;
    char *copy = od_arena_alloc(arena, n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

char *od_cfgb_cstr_of(od_arena *arena, od_str s)
{
    if (s.len < 0)
        return NULL;
    char *c = od_arena_alloc(arena, (size_t)s.len + 1);
    if (c) {
        memcpy(c, s.ptr, (size_t)s.len);
        c[s.len] = '\0';
    }
    return c;
}

static int to_properties(const od_config_kv *kv, size_t n, od_properties *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        if (od_properties_set(out, kv[i].key, kv[i].value, 0) != OD_CONFIG_OK)
            return -1;
    return 0;
}

static void copy_description(od_arena *arena, const od_config_description *d, od_described_config *out)
{
    out->name = od_cfgb_arena_cstr(arena, d->name);
    out->value = od_cfgb_arena_cstr(arena, d->value);
    out->source = (int8_t)d->source;
    out->type = (int8_t)d->type;
    out->read_only = d->read_only;
    out->sensitive = d->sensitive;
    out->synonym_count = 0;
    out->synonyms = od_arena_calloc(arena, d->synonym_count + 1, sizeof *out->synonyms);
    for (size_t i = 0; out->synonyms && i < d->synonym_count; i++) {
        out->synonyms[i].name = od_cfgb_arena_cstr(arena, d->synonyms[i].name);
        out->synonyms[i].value = od_cfgb_arena_cstr(arena, d->synonyms[i].value);
        out->synonyms[i].source = (int8_t)d->synonyms[i].source;
        out->synonym_count++;
    }
}

int od_cfgb_broker_update_mode(const char *key)
{
    const od_broker_config_entry *e = od_broker_config_entry_find(key);
    if (e == NULL)
        return -1;
    return e->update_mode == OD_UPDATE_READ_ONLY ? 0 : e->update_mode == OD_UPDATE_PER_BROKER ? 1 : 2;
}

int od_cfgb_with_dynamic(const struct od_broker_config *base, const od_config_kv *cluster_default,
                         size_t default_count, const od_config_kv *per_broker, size_t broker_count,
                         struct od_broker_config **out, char *err, size_t err_len)
{
    od_properties stat = {0}, dyn_default = {0}, dyn_broker = {0};
    od_config_diagnostics diag = {0};
    int rc = -1;
    snprintf(err, err_len, "out of memory");
    if (od_broker_config_static_layer(base, &stat) == OD_CONFIG_OK &&
        to_properties(cluster_default, default_count, &dyn_default) == 0 &&
        to_properties(per_broker, broker_count, &dyn_broker) == 0) {
        od_broker_config_layers layers = {.static_props = &stat, .dynamic_default = &dyn_default,
                                          .dynamic_broker = &dyn_broker};
        od_config_status st = od_broker_config_load(&layers, out, &diag);
        if (st == OD_CONFIG_OK)
            rc = 0;
        else if (diag.errors.count > 0) {
            /* The loader names the layer ("dynamic broker config: ..."); a
             * client gets Kafka's message alone. */
            const char *m = diag.errors.items[0];
            const char *colon = strncmp(m, "dynamic ", 8) == 0 ? strstr(m, ": ") : NULL;
            snprintf(err, err_len, "%s", colon ? colon + 2 : m);
        }
    }
    od_properties_free(&stat);
    od_properties_free(&dyn_default);
    od_properties_free(&dyn_broker);
    od_config_diagnostics_free(&diag);
    return rc;
}

void od_cfgb_free(struct od_broker_config *c)
{
    od_broker_config_free(c);
}

int od_cfgb_describe_topic(const struct od_broker_config *bc, const od_config_kv *overrides,
                           size_t override_count, od_arena *arena, const od_str *keys,
                           int32_t key_count, bool include_synonyms, od_described_config **out,
                           int32_t *count)
{
    od_properties props;
    int rc = to_properties(overrides, override_count, &props);
    size_t n = keys ? (size_t)key_count : od_topic_config_table_len;
    od_described_config *items = od_arena_calloc(arena, n + 1, sizeof *items);
    int32_t got = 0;
    for (size_t i = 0; rc == 0 && items && i < n; i++) {
        const char *key = keys ? od_cfgb_cstr_of(arena, keys[i]) : od_topic_config_table[i].name;
        od_config_description d;
        memset(&d, 0, sizeof d);
        if (key == NULL || od_topic_config_describe(&props, bc, key, include_synonyms, &d) != OD_CONFIG_OK) {
            od_config_description_free(&d);
            continue;
        }
        copy_description(arena, &d, &items[got++]);
        od_config_description_free(&d);
    }
    od_properties_free(&props);
    *out = items;
    *count = got;
    return rc == 0 && items ? 0 : -1;
}

int od_cfgb_describe_broker(const struct od_broker_config *bc, od_arena *arena, const od_str *keys,
                            int32_t key_count, bool include_synonyms, od_described_config **out,
                            int32_t *count)
{
    size_t total = keys ? (size_t)key_count : od_broker_config_describable_names(bc, NULL, 0);
    const char **names = od_arena_calloc(arena, total + 1, sizeof *names);
    od_described_config *items = od_arena_calloc(arena, total + 1, sizeof *items);
    if (names == NULL || items == NULL)
        return -1;
    if (keys)
        for (size_t i = 0; i < total; i++)
            names[i] = od_cfgb_cstr_of(arena, keys[i]);
    else
        od_broker_config_describable_names(bc, names, total);
    int32_t got = 0;
    for (size_t i = 0; i < total; i++) {
        od_config_description d;
        memset(&d, 0, sizeof d);
        if (names[i] == NULL || od_broker_config_describe(bc, names[i], include_synonyms, &d) != OD_CONFIG_OK) {
            od_config_description_free(&d);
            continue;
        }
        copy_description(arena, &d, &items[got++]);
        od_config_description_free(&d);
    }
    *out = items;
    *count = got;
    return 0;
}

int od_cfgb_validate_topic(const struct od_broker_config *bc, const od_config_kv *kv, size_t n,
                           char *err, size_t err_len)
{
    od_properties props;
    if (to_properties(kv, n, &props) != 0) {
        od_properties_free(&props);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    od_config_status st = od_topic_config_validate(&props, bc, err, err_len);
    od_properties_free(&props);
    return st == OD_CONFIG_OK ? 0 : -1;
}

int od_cfgb_resolve_topic(const struct od_broker_config *bc, const od_config_kv *overrides, size_t n,
                          od_cfgb_log_settings *out)
{
    od_properties props;
    od_topic_config tc;
    char err[256];
    int rc = to_properties(overrides, n, &props) == 0 &&
                     od_topic_config_resolve(&props, bc, &tc, err, sizeof err) == OD_CONFIG_OK
                 ? 0
                 : -1;
    od_properties_free(&props);
    if (rc != 0)
        return -1;
    out->segment_bytes = tc.segment_bytes;
    out->segment_ms = tc.segment_ms;
    out->segment_jitter_ms = tc.segment_jitter_ms;
    out->segment_index_bytes = tc.segment_index_bytes;
    out->index_interval_bytes = tc.index_interval_bytes;
    out->max_message_bytes = tc.max_message_bytes;
    out->retention_ms = tc.retention_ms;
    out->retention_bytes = tc.retention_bytes;
    out->log_append_time = tc.message_timestamp_type == OD_TIMESTAMP_LOG_APPEND_TIME;
    out->flush_messages = tc.flush_messages;
    out->flush_ms = tc.flush_ms;
    out->min_insync_replicas = tc.min_insync_replicas;
    out->message_timestamp_before_max_ms = tc.message_timestamp_before_max_ms;
    out->message_timestamp_after_max_ms = tc.message_timestamp_after_max_ms;
    out->cleanup_delete = (tc.cleanup_policy & OD_CLEANUP_DELETE) != 0;
    out->cleanup_compact = (tc.cleanup_policy & OD_CLEANUP_COMPACT) != 0;
    out->delete_retention_ms = tc.delete_retention_ms;
    out->min_compaction_lag_ms = tc.min_compaction_lag_ms;
    out->max_compaction_lag_ms = tc.max_compaction_lag_ms;
    out->min_cleanable_dirty_ratio = tc.min_cleanable_dirty_ratio;
    return 0;
}

int64_t od_cfgb_producer_id_expiration_ms(const struct od_broker_config *bc)
{
    return bc->producer_id_expiration_ms;
}
