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
 * (cluster-wide "" and this broker's), the entries of resource `changed`
 * replaced by `replacement` when both are not NULL. Returns 0 with *out
 * (NULL when no dynamic config exists), or -1 with Kafka's message in err. */
static int build_dynamic(od_broker *b, const char *changed, const kv_list *replacement,
                         struct od_broker_config **out, char *err, size_t err_len)
{
    char self[16];
    snprintf(self, sizeof self, "%d", b->settings.node_id);
    kv_list def, mine;
    int rc = resource_entries(b, OD_CONFIG_RESOURCE_BROKER, "", &def) |
             resource_entries(b, OD_CONFIG_RESOURCE_BROKER, self, &mine);
    const kv_list *use_def = &def, *use_mine = &mine;
    if (replacement != NULL && changed != NULL) {
        if (changed[0] == '\0')
            use_def = replacement;
        else if (strcmp(changed, self) == 0)
            use_mine = replacement;
    }
    *out = NULL;
    if (rc != 0)
        snprintf(err, err_len, "out of memory");
    else if (use_def->count + use_mine->count > 0)
        rc = od_cfgb_with_dynamic(b->config, use_def->items, use_def->count, use_mine->items, use_mine->count,
                                  out, err, err_len);
    free(def.items);
    free(mine.items);
    return rc;
}

int od_broker_refresh_dynamic_config(od_broker *b)
{
    char err[512];
    struct od_broker_config *next;
    if (build_dynamic(b, NULL, NULL, &next, err, sizeof err) != 0) {
        fprintf(stderr, "odradek: dynamic broker configs not applied: %s\n", err);
        return -1;
    }
    od_cfgb_free(b->dynamic_config);
    b->dynamic_config = next;
    return 0;
}

/* Java's String.hashCode (the keys are ASCII, so bytes are UTF-16 units). */
static uint32_t java_string_hash(const char *s)
{
    uint32_t h = 0;
    for (; *s; s++)
        h = 31u * h + (uint32_t)(unsigned char)*s;
    return h;
}

/* The bucket of a key in the ConcurrentHashMap behind a java.util.Properties
 * of `size` entries (16 buckets, doubled at 3/4 full): the keys' iteration
 * order is by bucket, then by insertion. */
static uint32_t properties_bucket(const char *key, size_t size)
{
    uint32_t buckets = 16;
    while (size >= buckets - buckets / 4)
        buckets *= 2;
    uint32_t h = java_string_hash(key);
    return ((h ^ (h >> 16)) & 0x7fffffffu) & (buckets - 1);
}

/* Scala 2.13's immutable HashSet hash (Hashing.improve of the hashCode). */
static uint32_t scala_improved_hash(const char *key)
{
    uint32_t h = java_string_hash(key);
    h = h + ~(h << 9);
    h ^= h >> 14;
    h = h + (h << 4);
    return h ^ (h >> 10);
}

/* Appends keys[0..n) in Scala's HashSet iteration order: at each trie level
 * the keys alone in their 5-bit slot first, then the shared slots' subtries,
 * both by slot. */
static void champ_order(const char **keys, size_t n, unsigned shift, const char **out, size_t *at)
{
    if (shift >= 35) {
        for (size_t i = 0; i < n; i++)
            out[(*at)++] = keys[i];
        return;
    }
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t slot = 0; slot < 32; slot++) {
            size_t in_slot = 0;
            for (size_t i = 0; i < n; i++)
                in_slot += ((scala_improved_hash(keys[i]) >> shift) & 31u) == slot;
            if (in_slot == 0 || (pass == 0) != (in_slot == 1))
                continue;
            if (pass == 0) {
                for (size_t i = 0; i < n; i++)
                    if (((scala_improved_hash(keys[i]) >> shift) & 31u) == slot)
                        out[(*at)++] = keys[i];
                continue;
            }
            const char **sub = malloc(in_slot * sizeof *sub);
            if (sub == NULL)
                continue;
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (((scala_improved_hash(keys[i]) >> shift) & 31u) == slot)
                    sub[k++] = keys[i];
            champ_order(sub, k, shift + 5, out, at);
            free(sub);
        }
}

/* "why: Set(a, b)" as Kafka's Scala code prints a set built from keys in
 * this order: up to four keep it, more become a HashSet in hash order
 * (always, when `hash_set`: a filtered HashSet stays one). */
static void key_set_refusal(char *msg, size_t cap, const char *why, const char **keys, size_t n, bool hash_set)
{
    const char **ordered = keys;
    size_t at = 0;
    hash_set |= n > 4;
    if (hash_set && (ordered = malloc(n * sizeof *ordered)) != NULL)
        champ_order(keys, n, 0, ordered, &at);
    if (ordered == NULL || at < n) {
        free(ordered == keys ? NULL : ordered);
        ordered = keys;
    }
    size_t len = (size_t)snprintf(msg, cap, "%s: %s(", why, hash_set ? "HashSet" : "Set");
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(msg + len, cap - len, "%s%s", i ? ", " : "", ordered[i]);
    if (len < cap)
        snprintf(msg + len, cap - len, ")");
    if (ordered != keys)
        free(ordered);
}

/* The keys of props that `pick` selects, in the Properties' iteration order. */
static size_t pick_keys(const kv_list *props, bool (*pick)(const char *key), const char **out)
{
    size_t n = 0;
    for (uint32_t bucket = 0; n < props->count && bucket < 1u << 30; bucket++) {
        bool beyond = true;
        for (size_t i = 0; i < props->count; i++) {
            uint32_t kb = properties_bucket(props->items[i].key, props->count);
            beyond &= kb < bucket;
            if (kb == bucket && pick(props->items[i].key))
                out[n++] = props->items[i].key;
        }
        if (beyond)
            break;
    }
    return n;
}

static bool is_read_only_key(const char *key)
{
    return od_cfgb_broker_update_mode(key) == 0;
}

static bool is_per_broker_key(const char *key)
{
    return od_cfgb_broker_update_mode(key) == 1;
}

/* Kafka's reconfigurable SSL keys, which change only under a listener
 * prefix (SslConfigs.RECONFIGURABLE_CONFIGS). */
static bool is_unprefixed_security_key(const char *key)
{
    static const char *const keys[] = {"ssl.keystore.type",   "ssl.keystore.location",   "ssl.keystore.password",
                                       "ssl.key.password",    "ssl.truststore.type",     "ssl.truststore.location",
                                       "ssl.truststore.password", "ssl.keystore.certificate.chain",
                                       "ssl.keystore.key",    "ssl.truststore.certificates"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

/* Kafka's listener.name.<listener>.<config> keys are per-broker, but for the
 * few listener settings that are cluster-wide. */
static bool is_per_broker_listener_key(const char *key)
{
    static const char prefix[] = "listener.name.";
    if (strncmp(key, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *dot = strchr(key + sizeof prefix - 1, '.');
    if (dot == NULL)
        return false;
    const char *base = dot + 1;
    return strcmp(base, "max.connections") != 0 && strcmp(base, "max.connection.creation.rate") != 0 &&
           strcmp(base, "num.network.threads") != 0;
}

/* The resource's dynamic entries with the changes applied, in the order a
 * Properties built from them is filled: existing keys, then new ones. */
static int changed_props(od_broker *b, const char *resource, const char *const *keys,
                         const char *const *values, int32_t n, kv_list *props)
{
    od_broker_lock(b);
    int rc = resource_entries(b, OD_CONFIG_RESOURCE_BROKER, resource, props);
    od_broker_unlock(b);
    for (int32_t i = 0; rc == 0 && i < n; i++) {
        if (values[i] != NULL) {
            rc = kv_set(props, keys[i], values[i]);
            continue;
        }
        for (size_t k = 0; k < props->count; k++)
            if (strcmp(props->items[k].key, keys[i]) == 0) {
                memmove(&props->items[k], &props->items[k + 1], (props->count - k - 1) * sizeof *props->items);
                props->count--;
                break;
            }
    }
    return rc;
}

/* The checks Kafka 3.9 makes on a dynamic broker config as a whole
 * (DynamicBrokerConfig.validateConfigs), in its order: keys that cannot
 * change at all, SSL keys without a listener prefix, every value against the config it would give, then keys
 * that need a broker id. Each refusal names all keys it applies to.
 * Controller thread. */
static int16_t validate_broker_changes(od_broker *b, const char *resource, const char *const *keys,
                                       const char *const *values, int32_t n, char *msg, size_t msg_cap)
{
    kv_list props;
    if (changed_props(b, resource, keys, values, n, &props) != 0) {
        free(props.items);
        snprintf(msg, msg_cap, "out of memory");
        return OD_ERR_UNKNOWN_SERVER_ERROR;
    }
    int16_t result = OD_ERR_NONE;
    const char **picked = malloc((props.count + 1) * 2 * sizeof *picked);
    size_t count = picked ? pick_keys(&props, is_read_only_key, picked) : 0;
    if (picked == NULL) {
        snprintf(msg, msg_cap, "out of memory");
        result = OD_ERR_UNKNOWN_SERVER_ERROR;
    } else if (count > 0) {
        key_set_refusal(msg, msg_cap, "Cannot update these configs dynamically", picked, count, false);
        result = OD_ERR_INVALID_REQUEST;
    }
    if (result == OD_ERR_NONE && (count = pick_keys(&props, is_unprefixed_security_key, picked)) > 0) {
        key_set_refusal(msg, msg_cap,
                        "These security configs can be dynamically updated only per-listener using the listener prefix",
                        picked, count, true);
        result = OD_ERR_INVALID_REQUEST;
    }
    if (result == OD_ERR_NONE) {
        struct od_broker_config *trial = NULL;
        od_broker_lock(b);
        int rc = build_dynamic(b, resource, &props, &trial, msg, msg_cap);
        od_broker_unlock(b);
        od_cfgb_free(trial);
        /* Kafka's controller turns a broker config's ConfigException into
         * INVALID_REQUEST (a topic's is INVALID_CONFIG). */
        if (rc != 0)
            result = OD_ERR_INVALID_REQUEST;
    }
    if (result == OD_ERR_NONE && resource[0] == '\0') {
        count = pick_keys(&props, is_per_broker_key, picked);
        count += pick_keys(&props, is_per_broker_listener_key, picked + count);
        if (count > 0) {
            key_set_refusal(msg, msg_cap,
                            "Cannot update these configs at default cluster level, broker id must be specified",
                            picked, count, false);
            result = OD_ERR_INVALID_REQUEST;
        }
    }
    free(picked);
    free(props.items);
    return result;
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
        int16_t refused = od_broker_check_config_node(b, arena, resource_name, true, message);
        if (refused != OD_ERR_NONE)
            return refused;
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

int64_t od_broker_producer_id_expiration_ms(const od_broker *b)
{
    const struct od_broker_config *c = current_config(b);
    return c != NULL ? od_cfgb_producer_id_expiration_ms(c) : b->settings.producer_id_expiration_ms;
}

void od_broker_topic_log_config(od_broker *b, const char *topic, od_log_config *out)
{
    od_broker_topic_log_config_in(b, b->image, topic, out);
}

void od_broker_topic_log_config_in(od_broker *b, const od_mimage *img, const char *topic,
                                   od_log_config *out)
{
    *out = b->settings.log_defaults;
    int64_t expiration_ms = od_broker_producer_id_expiration_ms(b);
    if (expiration_ms > 0)
        out->producer_id_expiration_ms = expiration_ms;
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

int16_t od_broker_validate_config_resource(void *ctx, int8_t resource_type, const char *resource,
                                           const char *const *keys, const char *const *values,
                                           int32_t count, char *msg, size_t msg_cap)
{
    for (int32_t i = 0; i < count; i++)
        if (keys[i] == NULL || keys[i][0] == '\0') {
            snprintf(msg, msg_cap, "Null or empty config name.");
            return OD_ERR_INVALID_CONFIG;
        }
    if (resource_type == OD_CONFIG_RESOURCE_BROKER)
        return validate_broker_changes(ctx, resource, keys, values, count, msg, msg_cap);
    for (int32_t i = 0; i < count; i++) {
        int16_t code = od_broker_validate_config_value(ctx, resource_type, resource, keys[i], values[i], msg,
                                                       msg_cap);
        if (code != OD_ERR_NONE)
            return code;
    }
    return OD_ERR_NONE;
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
        return validate_broker_changes(b, resource, &key, &value, 1, msg, msg_cap);
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

/* Java's Integer.parseInt: an optional sign, then decimal digits, in range. */
static bool parse_java_int(od_str s, int32_t *out)
{
    int32_t i = 0;
    bool negative = false;
    if (s.len > 0 && (s.ptr[0] == '-' || s.ptr[0] == '+')) {
        negative = s.ptr[0] == '-';
        i = 1;
    }
    if (i >= s.len)
        return false;
    int64_t v = 0;
    for (; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
        v = v * 10 + (s.ptr[i] - '0');
        if (v > (int64_t)INT32_MAX + 1)
            return false;
    }
    if (negative)
        v = -v;
    if (v > INT32_MAX || v < INT32_MIN)
        return false;
    *out = (int32_t)v;
    return true;
}

int16_t od_broker_check_config_node(const od_broker *b, od_arena *arena, od_str name, bool describe,
                                    const char **message)
{
    *message = NULL;
    if (name.len <= 0)
        return OD_ERR_NONE;
    int32_t id;
    int len = (int)name.len;
    char text[600];
    if (!parse_java_int(name, &id))
        snprintf(text, sizeof text, "%s id must be an integer, but it is: %.*s", describe ? "Broker" : "Node",
                 len > 500 ? 500 : len, name.ptr);
    else if (id == b->settings.node_id)
        return OD_ERR_NONE;
    else
        snprintf(text, sizeof text, "Unexpected broker id, expected %d%s, but received %.*s", b->settings.node_id,
                 describe ? " or empty string" : "", len > 500 ? 500 : len, name.ptr);
    *message = od_cfgb_arena_cstr(arena, text);
    return OD_ERR_INVALID_REQUEST;
}
