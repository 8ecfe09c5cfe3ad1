/*
 * The topic config table and its resolver.
 */
#include "topic_config.h"

#include "config_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void apply_cleanup_policy(od_topic_config *t, const char *canonical)
{
    char **items;
    long n = od_config_split_list(canonical, &items);
    t->cleanup_policy = 0;
    for (long i = 0; i < n; i++)
        t->cleanup_policy |= strcmp(items[i], "compact") == 0 ? OD_CLEANUP_COMPACT : OD_CLEANUP_DELETE;
    if (n >= 0)
        free(items);
}

static void apply_compression_type(od_topic_config *t, const char *canonical)
{
    for (int i = 0; compression_types[i]; i++)
        if (strcmp(compression_types[i], canonical) == 0)
            t->compression_type = (od_compression_type)i;
}

static void apply_timestamp_type(od_topic_config *t, const char *canonical)
{
    t->message_timestamp_type =
        strcmp(canonical, "LogAppendTime") == 0 ? OD_TIMESTAMP_LOG_APPEND_TIME : OD_TIMESTAMP_CREATE_TIME;
}

static bool replica_ok(const char *s, size_t len, void *ctx)
{
    (void)ctx;
    const char *colon = memchr(s, ':', len);
    if (!colon || colon == s || colon + 1 == s + len)
        return false;
    for (const char *p = s; p < s + len; p++)
        if (p != colon && (*p < '0' || *p > '9'))
            return false;
    return true;
}

/* Kafka accepts "*" (every replica) or partition:broker pairs. */
static const char *check_throttled_replicas(const char *value)
{
    if (strcmp(value, "*") == 0)
        return NULL;
    char **items;
    long n = od_config_split_list(value, &items);
    if (n < 0)
        return "out of memory";
    bool ok = true;
    for (long i = 0; i < n && ok; i++)
        ok = replica_ok(items[i], strlen(items[i]), NULL);
    free(items);
    return ok ? NULL
              : "must be the literal '*' or a list of replicas in the form "
                "[partitionId]:[brokerId],[partitionId]:[brokerId],...";
}

#define F(field) offsetof(od_topic_config, field)
#define SYN(...) {__VA_ARGS__}
#define T(name, type, dflt, validator, synonyms, flags, field, apply) \
    {name, OD_CONFIG_TYPE_##type, dflt, validator, synonyms, flags, field, apply}

/* Types, defaults, validators and synonym chains are Kafka 3.9.2's
 * (LogConfig and ServerTopicConfigSynonyms). Sorted by name. */
const od_topic_config_entry od_topic_config_table[] = {
    T("cleanup.policy", LIST, "delete", V_ENUM_LIST(cleanup_policies), SYN("log.cleanup.policy"), HONOURED, NO_FIELD, apply_cleanup_policy),
    T("compression.gzip.level", INT, "-1", V_GZIP_LEVEL, SYN("compression.gzip.level"), HONOURED, F(compression_gzip_level), NULL),
    T("compression.lz4.level", INT, "9", V_RANGE(1, 17), SYN("compression.lz4.level"), HONOURED, F(compression_lz4_level), NULL),
    T("compression.type", STRING, "producer", V_ENUM(compression_types), SYN("compression.type"), HONOURED, NO_FIELD, apply_compression_type),
    T("compression.zstd.level", INT, "3", V_RANGE(-131072, 22), SYN("compression.zstd.level"), HONOURED, F(compression_zstd_level), NULL),
    T("delete.retention.ms", LONG, "86400000", V_MIN(0), SYN("log.cleaner.delete.retention.ms"), HONOURED, F(delete_retention_ms), NULL),
    T("file.delete.delay.ms", LONG, "60000", V_MIN(0), SYN("log.segment.delete.delay.ms"), HONOURED, F(file_delete_delay_ms), NULL),
    T("flush.messages", LONG, "9223372036854775807", V_MIN(1), SYN("log.flush.interval.messages"), HONOURED, F(flush_messages), NULL),
    T("flush.ms", LONG, "9223372036854775807", V_MIN(0), SYN("log.flush.interval.ms", "log.flush.scheduler.interval.ms"), HONOURED, F(flush_ms), NULL),
    T("follower.replication.throttled.replicas", LIST, "", V_CUSTOM(check_throttled_replicas), SYN(NULL), IGNORED, NO_FIELD, NULL),
    T("index.interval.bytes", INT, "4096", V_MIN(0), SYN("log.index.interval.bytes"), HONOURED, F(index_interval_bytes), NULL),
    T("leader.replication.throttled.replicas", LIST, "", V_CUSTOM(check_throttled_replicas), SYN(NULL), IGNORED, NO_FIELD, NULL),
    T("local.retention.bytes", LONG, "-2", V_MIN(-2), SYN("log.local.retention.bytes"), IGNORED, F(local_retention_bytes), NULL),
    T("local.retention.ms", LONG, "-2", V_MIN(-2), SYN("log.local.retention.ms"), IGNORED, F(local_retention_ms), NULL),
    T("max.compaction.lag.ms", LONG, "9223372036854775807", V_MIN(1), SYN("log.cleaner.max.compaction.lag.ms"), HONOURED, F(max_compaction_lag_ms), NULL),
    T("max.message.bytes", INT, "1048588", V_MIN(0), SYN("message.max.bytes"), HONOURED, F(max_message_bytes), NULL),
    T("message.downconversion.enable", BOOLEAN, "true", V_NONE, SYN("log.message.downconversion.enable"), IGNORED, F(message_downconversion_enable), NULL),
    T("message.format.version", STRING, "3.0-IV1", V_METADATA_VERSION, SYN("log.message.format.version"), IGNORED, NO_FIELD, NULL),
    T("message.timestamp.after.max.ms", LONG, "9223372036854775807", V_MIN(0), SYN("log.message.timestamp.after.max.ms"), HONOURED, F(message_timestamp_after_max_ms), NULL),
    T("message.timestamp.before.max.ms", LONG, "9223372036854775807", V_MIN(0), SYN("log.message.timestamp.before.max.ms"), HONOURED, F(message_timestamp_before_max_ms), NULL),
    T("message.timestamp.difference.max.ms", LONG, "9223372036854775807", V_MIN(0), SYN("log.message.timestamp.difference.max.ms"), HONOURED, F(message_timestamp_difference_max_ms), NULL),
    T("message.timestamp.type", STRING, "CreateTime", V_ENUM(timestamp_types), SYN("log.message.timestamp.type"), HONOURED, NO_FIELD, apply_timestamp_type),
    T("min.cleanable.dirty.ratio", DOUBLE, "0.5", V_RANGE(0, 1), SYN("log.cleaner.min.cleanable.ratio"), HONOURED, F(min_cleanable_dirty_ratio), NULL),
    T("min.compaction.lag.ms", LONG, "0", V_MIN(0), SYN("log.cleaner.min.compaction.lag.ms"), HONOURED, F(min_compaction_lag_ms), NULL),
    T("min.insync.replicas", INT, "1", V_MIN(1), SYN("min.insync.replicas"), HONOURED, F(min_insync_replicas), NULL),
    T("preallocate", BOOLEAN, "false", V_NONE, SYN("log.preallocate"), HONOURED, F(preallocate), NULL),
    T("remote.log.copy.disable", BOOLEAN, "false", V_NONE, SYN(NULL), IGNORED, F(remote_log_copy_disable), NULL),
    T("remote.log.delete.on.disable", BOOLEAN, "false", V_NONE, SYN(NULL), IGNORED, F(remote_log_delete_on_disable), NULL),
    T("remote.storage.enable", BOOLEAN, "false", V_NONE, SYN(NULL), IGNORED, F(remote_storage_enable), NULL),
    T("retention.bytes", LONG, "-1", V_NONE, SYN("log.retention.bytes"), HONOURED, F(retention_bytes), NULL),
    T("retention.ms", LONG, "604800000", V_MIN(-1), SYN("log.retention.ms", "log.retention.minutes", "log.retention.hours"), HONOURED, F(retention_ms), NULL),
    T("segment.bytes", INT, "1073741824", V_MIN(14), SYN("log.segment.bytes"), HONOURED, F(segment_bytes), NULL),
    T("segment.index.bytes", INT, "10485760", V_MIN(4), SYN("log.index.size.max.bytes"), HONOURED, F(segment_index_bytes), NULL),
    T("segment.jitter.ms", LONG, "0", V_MIN(0), SYN("log.roll.jitter.ms", "log.roll.jitter.hours"), HONOURED, F(segment_jitter_ms), NULL),
    T("segment.ms", LONG, "604800000", V_MIN(1), SYN("log.roll.ms", "log.roll.hours"), HONOURED, F(segment_ms), NULL),
    T("unclean.leader.election.enable", BOOLEAN, "false", V_NONE, SYN("unclean.leader.election.enable"), HONOURED, F(unclean_leader_election_enable), NULL),
};
const size_t od_topic_config_table_len = sizeof od_topic_config_table / sizeof od_topic_config_table[0];

static int entry_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const od_topic_config_entry *)elem)->name);
}

const od_topic_config_entry *od_topic_config_entry_find(const char *name)
{
    return bsearch(name, od_topic_config_table, od_topic_config_table_len, sizeof od_topic_config_table[0],
                   entry_cmp);
}

static size_t synonym_count(const od_topic_config_entry *e)
{
    size_t n = 0;
    while (n < OD_TOPIC_MAX_SYNONYMS && e->synonyms[n])
        n++;
    return n;
}

/* The inherited value, canonical: the broker's log default for the primary
 * synonym, else Kafka's topic default. Topic keys without broker synonyms
 * (remote storage, throttled replicas) always start from Kafka's default. */
static const char *inherited(const od_topic_config_entry *e, const od_broker_config *broker)
{
    if (broker && e->synonyms[0]) {
        const char *v = od_broker_config_log_default(broker, e->synonyms[0]);
        if (v)
            return v;
    }
    return e->default_value;
}

static int64_t effective_long(const od_properties *overrides, const od_broker_config *broker, const char *name)
{
    const od_topic_config_entry *e = od_topic_config_entry_find(name);
    const char *v = overrides ? od_properties_get(overrides, name) : NULL;
    od_config_parsed p;
    od_config_parse_scalar(e->type, v ? v : inherited(e, broker), &p);
    return p.i;
}

static bool effective_bool(const od_properties *overrides, const od_broker_config *broker, const char *name)
{
    const od_topic_config_entry *e = od_topic_config_entry_find(name);
    const char *v = overrides ? od_properties_get(overrides, name) : NULL;
    od_config_parsed p;
    od_config_parse_scalar(e->type, v ? v : inherited(e, broker), &p);
    return p.b;
}

od_config_status od_topic_config_validate(const od_properties *overrides, const od_broker_config *broker,
                                          char *err, size_t err_len)
{
    for (size_t i = 0; overrides && i < overrides->count; i++) {
        const od_property *p = &overrides->items[i];
        const od_topic_config_entry *e = od_topic_config_entry_find(p->key);
        if (!e) {
            snprintf(err, err_len, "Unknown topic config name: %s", p->key);
            return OD_CONFIG_ERR_UNKNOWN_KEY;
        }
        if (!od_config_check_value(e->name, e->type, &e->validator, p->value, err, err_len))
            return OD_CONFIG_ERR_INVALID;
    }
    /* Rules across keys use the effective values, as Kafka merges the
     * broker's defaults before checking. */
    int64_t min_lag = effective_long(overrides, broker, "min.compaction.lag.ms");
    int64_t max_lag = effective_long(overrides, broker, "max.compaction.lag.ms");
    if (min_lag > max_lag) {
        snprintf(err, err_len,
                 "conflict topic config setting min.compaction.lag.ms (%" PRId64 ") > max.compaction.lag.ms (%" PRId64 ")",
                 min_lag, max_lag);
        return OD_CONFIG_ERR_INVALID;
    }
    bool system_remote = false;
    if (broker) {
        od_config_parsed p;
        od_config_parse_scalar(OD_CONFIG_TYPE_BOOLEAN,
                               od_broker_config_value(broker, "remote.log.storage.system.enable"), &p);
        system_remote = p.b;
    }
    if (effective_bool(overrides, broker, "remote.storage.enable") && !system_remote) {
        snprintf(err, err_len, "Tiered Storage functionality is disabled in the broker. Topic cannot be "
                               "configured with remote log storage.");
        return OD_CONFIG_ERR_INVALID;
    }
    return OD_CONFIG_OK;
}

od_config_status od_topic_config_resolve(const od_properties *overrides, const od_broker_config *broker,
                                         od_topic_config *out, char *err, size_t err_len)
{
    od_config_status st = od_topic_config_validate(overrides, broker, err, err_len);
    if (st != OD_CONFIG_OK)
        return st;
    od_topic_config t;
    memset(&t, 0, sizeof t);
    for (size_t i = 0; i < od_topic_config_table_len; i++) {
        const od_topic_config_entry *e = &od_topic_config_table[i];
        const char *v = overrides ? od_properties_get(overrides, e->name) : NULL;
        char *canonical = od_config_canonical(e->type, v ? v : inherited(e, broker));
        if (!canonical) {
            snprintf(err, err_len, "out of memory");
            return OD_CONFIG_ERR_NOMEM;
        }
        if (e->apply)
            e->apply(&t, canonical);
        if (e->field != OD_CONFIG_NO_FIELD) {
            char *base = (char *)&t + e->field;
            od_config_parsed p;
            od_config_parse_scalar(e->type, canonical, &p);
            switch (e->type) {
            case OD_CONFIG_TYPE_BOOLEAN: *(bool *)base = p.b; break;
            case OD_CONFIG_TYPE_INT: *(int32_t *)base = (int32_t)p.i; break;
            case OD_CONFIG_TYPE_LONG: *(int64_t *)base = p.i; break;
            case OD_CONFIG_TYPE_DOUBLE: *(double *)base = p.d; break;
            default: break; /* no other field types in the table */
            }
        }
        free(canonical);
    }
    /* What appends are checked against: the deprecated difference bound
     * still applies in a direction whose own bound is left unlimited. */
    if (t.message_timestamp_before_max_ms == INT64_MAX)
        t.message_timestamp_before_max_ms = t.message_timestamp_difference_max_ms;
    if (t.message_timestamp_after_max_ms == INT64_MAX)
        t.message_timestamp_after_max_ms = t.message_timestamp_difference_max_ms;
    *out = t;
    return OD_CONFIG_OK;
}

od_config_status od_topic_config_describe(const od_properties *overrides, const od_broker_config *broker,
                                          const char *name, bool include_synonyms,
                                          od_config_description *out)
{
    memset(out, 0, sizeof *out);
    const od_topic_config_entry *e = od_topic_config_entry_find(name);
    if (!e)
        return OD_CONFIG_ERR_UNKNOWN_KEY;
    out->name = e->name;
    out->type = e->type;
    out->read_only = false; /* every topic key can be altered */
    out->sensitive = false; /* no topic key is a password */
    const char *v = overrides ? od_properties_get(overrides, e->name) : NULL;
    char *value = od_config_canonical(e->type, v ? v : inherited(e, broker));
    if (!value)
        return OD_CONFIG_ERR_NOMEM;
    out->owned[out->owned_count++] = value;
    out->value = value;
    if (v)
        out->synonyms[out->synonym_count++] = (od_config_synonym){e->name, value, OD_CONFIG_SOURCE_TOPIC_CONFIG};
    if (broker && e->synonyms[0])
        od_broker_config_append_synonyms(broker, e->synonyms, synonym_count(e), false, out);
    else if (e->synonyms[0]) {
        /* No broker snapshot: only Kafka's default backs the value. */
        out->synonyms[out->synonym_count++] =
            (od_config_synonym){e->synonyms[0], e->default_value, OD_CONFIG_SOURCE_DEFAULT_CONFIG};
    }
    out->source = out->synonym_count ? out->synonyms[0].source : OD_CONFIG_SOURCE_DEFAULT_CONFIG;
    if (!include_synonyms)
        out->synonym_count = 0;
    return OD_CONFIG_OK;
}
