/*
 * Topic configs: validation wording, resolution against the broker, and
 * DescribeConfigs answers compared line by line with Kafka 3.9.2's.
 */
#include "config_test_util.h"
#include "od_test.h"
#include "topic_config.h"

static od_properties overrides_of(const char *const *kv)
{
    od_properties p = {0};
    for (size_t i = 0; kv[i]; i += 2)
        od_properties_set(&p, kv[i], kv[i + 1], 0);
    return p;
}

static void table_is_sorted_and_self_consistent(void)
{
    CHECK_EQ_INT(od_topic_config_table_len, 36); /* LogConfig.configKeys() of 3.9.2 */
    for (size_t i = 0; i < od_topic_config_table_len; i++) {
        const od_topic_config_entry *e = &od_topic_config_table[i];
        if (i > 0)
            CHECKF(strcmp(od_topic_config_table[i - 1].name, e->name) < 0, "order at %s", e->name);
        CHECK(od_topic_config_entry_find(e->name) == e);
        char err[512];
        CHECKF(od_config_check_value(e->name, e->type, &e->validator, e->default_value, err, sizeof err),
               "default of %s: %s", e->name, err);
        /* Every broker synonym exists in the broker table with the same
         * type family, so inheritance can never read a missing key. */
        for (size_t k = 0; k < OD_TOPIC_MAX_SYNONYMS && e->synonyms[k]; k++)
            CHECKF(od_broker_config_entry_find(e->synonyms[k]) != NULL, "%s -> %s", e->name, e->synonyms[k]);
    }
}

typedef struct topic_bad {
    const char *key, *value, *message;
    od_config_status status;
} topic_bad;

/* Messages are Kafka 3.9.2's for the same input. */
static void validation_matches_kafka(void)
{
    static const topic_bad cases[] = {
        {"foo.bar", "1", "Unknown topic config name: foo.bar", OD_CONFIG_ERR_UNKNOWN_KEY},
        {"segment.bytes", "abc", "Invalid value abc for configuration segment.bytes: Not a number of type INT",
         OD_CONFIG_ERR_INVALID},
        {"segment.bytes", "10", "Invalid value 10 for configuration segment.bytes: Value must be at least 14",
         OD_CONFIG_ERR_INVALID},
        {"segment.bytes", "0x100000",
         "Invalid value 0x100000 for configuration segment.bytes: Not a number of type INT", OD_CONFIG_ERR_INVALID},
        {"cleanup.policy", "delete,foo",
         "Invalid value foo for configuration cleanup.policy: String must be one of: compact, delete",
         OD_CONFIG_ERR_INVALID},
        {"cleanup.policy", "compact,",
         "Invalid value  for configuration cleanup.policy: String must be one of: compact, delete",
         OD_CONFIG_ERR_INVALID},
        {"min.cleanable.dirty.ratio", "2",
         "Invalid value 2.0 for configuration min.cleanable.dirty.ratio: Value must be no more than 1",
         OD_CONFIG_ERR_INVALID},
        {"preallocate", "maybe",
         "Invalid value maybe for configuration preallocate: Expected value to be either true or false",
         OD_CONFIG_ERR_INVALID},
        {"message.timestamp.type", "createtime",
         "Invalid value createtime for configuration message.timestamp.type: String must be one of: CreateTime, "
         "LogAppendTime",
         OD_CONFIG_ERR_INVALID},
        {"compression.type", "ZSTD",
         "Invalid value ZSTD for configuration compression.type: String must be one of: uncompressed, zstd, lz4, "
         "snappy, gzip, producer",
         OD_CONFIG_ERR_INVALID},
        {"retention.ms", "99999999999999999999",
         "Invalid value 99999999999999999999 for configuration retention.ms: Not a number of type LONG",
         OD_CONFIG_ERR_INVALID},
        {"retention.ms", "-2", "Invalid value -2 for configuration retention.ms: Value must be at least -1",
         OD_CONFIG_ERR_INVALID},
        {"compression.gzip.level", "0",
         "Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1",
         OD_CONFIG_ERR_INVALID},
        {"compression.zstd.level", "23",
         "Invalid value 23 for configuration compression.zstd.level: Value must be no more than 22",
         OD_CONFIG_ERR_INVALID},
        {"leader.replication.throttled.replicas", "0:1,x", NULL, OD_CONFIG_ERR_INVALID},
        {"message.format.version", "banana",
         "Invalid value banana for configuration message.format.version: Version banana is not a valid version",
         OD_CONFIG_ERR_INVALID},
        {"message.format.version", "4.0",
         "Invalid value 4.0 for configuration message.format.version: Version 4.0 is not a valid version",
         OD_CONFIG_ERR_INVALID},
        {"message.format.version", "3.9-IV9", NULL, OD_CONFIG_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        od_properties p = overrides_of((const char *const[]){cases[i].key, cases[i].value, NULL});
        char err[512] = "";
        od_config_status st = od_topic_config_validate(&p, NULL, err, sizeof err);
        CHECKF(st == cases[i].status, "%s=%s: status %d", cases[i].key, cases[i].value, (int)st);
        if (cases[i].message)
            CHECKF(strcmp(err, cases[i].message) == 0, "\n got: %s\nwant: %s", err, cases[i].message);
        else
            CHECKF(strstr(err, cases[i].key) != NULL, "message names the key: %s", err);
        od_properties_free(&p);
    }
    static const char *const accepted[][2] = {
        {"cleanup.policy", ""},          {"cleanup.policy", " compact , delete "},
        {"cleanup.policy", "delete,delete"}, {"segment.ms", " 100 "},
        {"min.cleanable.dirty.ratio", "0.5d"}, {"segment.bytes", "+100000"},
        {"preallocate", "TRUE"},         {"message.timestamp.type", " LogAppendTime "},
        {"leader.replication.throttled.replicas", "*"}, {"follower.replication.throttled.replicas", "0:1,1:2"},
        {"message.format.version", "2.8-IV1"}, {"retention.bytes", "-5"},
        {"message.format.version", "3.9.1"}, {"message.format.version", "0.10.0"},
        {"message.format.version", "0.8.2"}, {"message.format.version", "4.0-IV1"},
    };
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        od_properties p = overrides_of((const char *const[]){accepted[i][0], accepted[i][1], NULL});
        char err[512] = "";
        CHECKF(od_topic_config_validate(&p, NULL, err, sizeof err) == OD_CONFIG_OK, "%s=[%s]: %s", accepted[i][0],
               accepted[i][1], err);
        od_properties_free(&p);
    }
}

static void cross_key_rules(void)
{
    char err[512];
    od_properties p = overrides_of(
        (const char *const[]){"min.compaction.lag.ms", "100", "max.compaction.lag.ms", "10", NULL});
    CHECK_EQ_INT(od_topic_config_validate(&p, NULL, err, sizeof err), OD_CONFIG_ERR_INVALID);
    CHECKF(strcmp(err, "conflict topic config setting min.compaction.lag.ms (100) > max.compaction.lag.ms (10)") == 0,
           "got %s", err);
    od_properties_free(&p);

    /* The broker's max lag takes part when the topic sets only the min. */
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK(KRAFT_BASE "log.cleaner.max.compaction.lag.ms=50\n", &c, &d);
    p = overrides_of((const char *const[]){"min.compaction.lag.ms", "60", NULL});
    CHECK_EQ_INT(od_topic_config_validate(&p, c, err, sizeof err), OD_CONFIG_ERR_INVALID);
    CHECKF(strstr(err, "(60) > max.compaction.lag.ms (50)") != NULL, "got %s", err);
    od_properties_free(&p);

    p = overrides_of((const char *const[]){"remote.storage.enable", "true", NULL});
    CHECK_EQ_INT(od_topic_config_validate(&p, c, err, sizeof err), OD_CONFIG_ERR_INVALID);
    CHECKF(strstr(err, "Tiered Storage") != NULL, "got %s", err);
    od_properties_free(&p);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

static void resolve_typed_values(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK(KRAFT_BASE "log.retention.hours=2\nlog.roll.hours=3\nlog.flush.interval.ms=777\n"
                       "log.cleanup.policy=compact,delete\ncompression.type=lz4\nmessage.max.bytes=2000\n"
                       "log.message.timestamp.type=LogAppendTime\n",
            &c, &d);
    od_properties p = overrides_of((const char *const[]){"segment.bytes", "4096", "preallocate", "true",
                                                         "min.cleanable.dirty.ratio", "0.25", NULL});
    od_topic_config t;
    char err[512];
    od_config_status st = od_topic_config_resolve(&p, c, &t, err, sizeof err);
    REQUIRE(st == OD_CONFIG_OK);
    CHECK_EQ_INT(t.retention_ms, 2 * 3600000LL);
    CHECK_EQ_INT(t.segment_ms, 3 * 3600000LL);
    CHECK_EQ_INT(t.flush_ms, 777);
    CHECK_EQ_INT(t.cleanup_policy, OD_CLEANUP_COMPACT | OD_CLEANUP_DELETE);
    CHECK_EQ_INT(t.compression_type, OD_COMPRESSION_LZ4);
    CHECK_EQ_INT(t.message_timestamp_type, OD_TIMESTAMP_LOG_APPEND_TIME);
    CHECK_EQ_INT(t.max_message_bytes, 2000);
    CHECK_EQ_INT(t.segment_bytes, 4096);
    CHECK(t.preallocate);
    CHECK(t.min_cleanable_dirty_ratio == 0.25);
    CHECK_EQ_INT(t.segment_index_bytes, 10485760);
    CHECK_EQ_INT(t.min_insync_replicas, 1);
    CHECK_EQ_INT(t.local_retention_ms, -2);
    CHECK(!t.remote_storage_enable);
    CHECK(t.message_downconversion_enable);
    od_properties_free(&p);

    /* Without a broker snapshot, Kafka's own defaults apply. */
    st = od_topic_config_resolve(NULL, NULL, &t, err, sizeof err);
    REQUIRE(st == OD_CONFIG_OK);
    CHECK_EQ_INT(t.retention_ms, 604800000);
    CHECK_EQ_INT(t.cleanup_policy, OD_CLEANUP_DELETE);
    CHECK_EQ_INT(t.compression_type, OD_COMPRESSION_PRODUCER);
    CHECK_EQ_INT(t.max_message_bytes, 1048588);
    CHECK_EQ_INT(t.flush_messages, INT64_MAX);

    /* The deprecated difference bound fills an unlimited direction, as in
     * Kafka's LogConfig (500/500, then 300/500). */
    p = overrides_of((const char *const[]){"message.timestamp.difference.max.ms", "500", NULL});
    st = od_topic_config_resolve(&p, NULL, &t, err, sizeof err);
    REQUIRE(st == OD_CONFIG_OK);
    CHECK_EQ_INT(t.message_timestamp_before_max_ms, 500);
    CHECK_EQ_INT(t.message_timestamp_after_max_ms, 500);
    od_properties_set(&p, "message.timestamp.before.max.ms", "300", 0);
    st = od_topic_config_resolve(&p, NULL, &t, err, sizeof err);
    REQUIRE(st == OD_CONFIG_OK);
    CHECK_EQ_INT(t.message_timestamp_before_max_ms, 300);
    CHECK_EQ_INT(t.message_timestamp_after_max_ms, 500);
    od_properties_free(&p);

    /* Invalid overrides are refused by resolve too. */
    p = overrides_of((const char *const[]){"segment.bytes", "1", NULL});
    CHECK_EQ_INT(od_topic_config_resolve(&p, c, &t, err, sizeof err), OD_CONFIG_ERR_INVALID);
    od_properties_free(&p);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

static void check_topic_describe(const od_properties *o, const od_broker_config *c, const char *name, bool flags,
                                 const char *want)
{
    od_config_description d;
    od_config_status st = od_topic_config_describe(o, c, name, true, &d);
    CHECKF(st == OD_CONFIG_OK, "describe %s", name);
    if (st != OD_CONFIG_OK)
        return;
    char got[2048];
    describe_line(&d, flags, got, sizeof got);
    CHECKF(strcmp(got, want) == 0, "\n got: %s\nwant: %s", got, want);
    od_config_description_free(&d);
}

/* Every topic key, as Kafka 3.9.2 described it for this broker and topic. */
static void describe_matches_kafka(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK(KRAFT_BASE "log.retention.hours=100\nlog.retention.minutes=30\nlog.segment.bytes=2000000\n"
                       "log.roll.hours=5\nlog.flush.interval.ms=777\nlog.cleanup.policy=compact,delete\n"
                       "ssl.keystore.password=secret\n",
            &c, &d);
    od_properties o = overrides_of((const char *const[]){"retention.ms", "1000", "max.message.bytes", "5000",
                                                         "cleanup.policy", "compact", NULL});
    static const char *const kafka[] = {
        "cleanup.policy=compact src1 ro=false sens=false type=7 [cleanup.policy=compact src1] [log.cleanup.policy=compact,delete src4] [log.cleanup.policy=delete src5]",
        "compression.gzip.level=-1 src5 ro=false sens=false type=3 [compression.gzip.level=-1 src5]",
        "compression.lz4.level=9 src5 ro=false sens=false type=3 [compression.lz4.level=9 src5]",
        "compression.type=producer src5 ro=false sens=false type=2 [compression.type=producer src5]",
        "compression.zstd.level=3 src5 ro=false sens=false type=3 [compression.zstd.level=3 src5]",
        "delete.retention.ms=86400000 src5 ro=false sens=false type=5 [log.cleaner.delete.retention.ms=86400000 src5]",
        "file.delete.delay.ms=60000 src5 ro=false sens=false type=5 [log.segment.delete.delay.ms=60000 src5]",
        "flush.messages=9223372036854775807 src5 ro=false sens=false type=5 [log.flush.interval.messages=9223372036854775807 src5]",
        "flush.ms=777 src4 ro=false sens=false type=5 [log.flush.interval.ms=777 src4] [log.flush.scheduler.interval.ms=9223372036854775807 src5]",
        "follower.replication.throttled.replicas= src5 ro=false sens=false type=7",
        "index.interval.bytes=4096 src5 ro=false sens=false type=3 [log.index.interval.bytes=4096 src5]",
        "leader.replication.throttled.replicas= src5 ro=false sens=false type=7",
        "local.retention.bytes=-2 src5 ro=false sens=false type=5 [log.local.retention.bytes=-2 src5]",
        "local.retention.ms=-2 src5 ro=false sens=false type=5 [log.local.retention.ms=-2 src5]",
        "max.compaction.lag.ms=9223372036854775807 src5 ro=false sens=false type=5 [log.cleaner.max.compaction.lag.ms=9223372036854775807 src5]",
        "max.message.bytes=5000 src1 ro=false sens=false type=3 [max.message.bytes=5000 src1] [message.max.bytes=1048588 src5]",
        "message.downconversion.enable=true src5 ro=false sens=false type=1 [log.message.downconversion.enable=true src5]",
        "message.format.version=3.0-IV1 src5 ro=false sens=false type=2 [log.message.format.version=3.0-IV1 src5]",
        "message.timestamp.after.max.ms=9223372036854775807 src5 ro=false sens=false type=5 [log.message.timestamp.after.max.ms=9223372036854775807 src5]",
        "message.timestamp.before.max.ms=9223372036854775807 src5 ro=false sens=false type=5 [log.message.timestamp.before.max.ms=9223372036854775807 src5]",
        "message.timestamp.difference.max.ms=9223372036854775807 src5 ro=false sens=false type=5 [log.message.timestamp.difference.max.ms=9223372036854775807 src5]",
        "message.timestamp.type=CreateTime src5 ro=false sens=false type=2 [log.message.timestamp.type=CreateTime src5]",
        "min.cleanable.dirty.ratio=0.5 src5 ro=false sens=false type=6 [log.cleaner.min.cleanable.ratio=0.5 src5]",
        "min.compaction.lag.ms=0 src5 ro=false sens=false type=5 [log.cleaner.min.compaction.lag.ms=0 src5]",
        "min.insync.replicas=1 src5 ro=false sens=false type=3 [min.insync.replicas=1 src5]",
        "preallocate=false src5 ro=false sens=false type=1 [log.preallocate=false src5]",
        "remote.log.copy.disable=false src5 ro=false sens=false type=1",
        "remote.log.delete.on.disable=false src5 ro=false sens=false type=1",
        "remote.storage.enable=false src5 ro=false sens=false type=1",
        "retention.bytes=-1 src5 ro=false sens=false type=5 [log.retention.bytes=-1 src5]",
        "retention.ms=1000 src1 ro=false sens=false type=5 [retention.ms=1000 src1]",
        "segment.bytes=2000000 src4 ro=false sens=false type=3 [log.segment.bytes=2000000 src4] [log.segment.bytes=1073741824 src5]",
        "segment.index.bytes=10485760 src5 ro=false sens=false type=3 [log.index.size.max.bytes=10485760 src5]",
        "segment.jitter.ms=0 src5 ro=false sens=false type=5",
        "segment.ms=18000000 src5 ro=false sens=false type=5",
        "unclean.leader.election.enable=false src5 ro=false sens=false type=1 [unclean.leader.election.enable=false src5]",
    };
    REQUIRE(sizeof kafka / sizeof kafka[0] == od_topic_config_table_len);
    for (size_t i = 0; i < od_topic_config_table_len; i++)
        check_topic_describe(&o, c, od_topic_config_table[i].name, true, kafka[i]);
    /* retention.ms without an override: 30 minutes from the broker, yet
     * source DEFAULT_CONFIG and no synonyms, as Kafka answers. */
    check_topic_describe(NULL, c, "retention.ms", true, "retention.ms=1800000 src5 ro=false sens=false type=5");
    od_config_description dd;
    CHECK_EQ_INT(od_topic_config_describe(&o, c, "nope", true, &dd), OD_CONFIG_ERR_UNKNOWN_KEY);
    CHECK_EQ_INT(od_topic_config_describe(&o, c, "cleanup.policy", false, &dd), OD_CONFIG_OK);
    CHECK_EQ_INT(dd.synonym_count, 0);
    CHECK_EQ_INT(dd.source, OD_CONFIG_SOURCE_TOPIC_CONFIG);
    od_config_description_free(&dd);
    od_properties_free(&o);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

/* Canonical values, raw static synonyms, negative retention: Kafka's
 * answers for the same input (a trailing space survives the file). */
static void describe_canonical_and_raw_forms(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK(KRAFT_BASE "log.retention.hours=-1\nlog.cleanup.policy=compact, delete\n"
                       "log.cleaner.min.cleanable.ratio=0.50\nlog.preallocate=TRUE\nnum.io.threads= 8\n"
                       "log.roll.jitter.hours=2\nlog.segment.bytes= 2000000 \n",
            &c, &d);
    od_properties o = overrides_of((const char *const[]){"min.compaction.lag.ms", " 100 ", "message.timestamp.type",
                                                         "LogAppendTime", "compression.type", "zstd",
                                                         "min.cleanable.dirty.ratio", "0.25", NULL});
    static const char *const kafka[][2] = {
        {"retention.ms", "retention.ms=-1 src5"},
        {"cleanup.policy", "cleanup.policy=compact,delete src4 [log.cleanup.policy=compact, delete src4] [log.cleanup.policy=delete src5]"},
        {"min.cleanable.dirty.ratio", "min.cleanable.dirty.ratio=0.25 src1 [min.cleanable.dirty.ratio=0.25 src1] [log.cleaner.min.cleanable.ratio=0.50 src4] [log.cleaner.min.cleanable.ratio=0.5 src5]"},
        {"preallocate", "preallocate=true src4 [log.preallocate=TRUE src4] [log.preallocate=false src5]"},
        {"segment.jitter.ms", "segment.jitter.ms=7200000 src5"},
        {"segment.bytes", "segment.bytes=2000000 src4 [log.segment.bytes=2000000  src4] [log.segment.bytes=1073741824 src5]"},
        {"min.compaction.lag.ms", "min.compaction.lag.ms=100 src1 [min.compaction.lag.ms=100 src1] [log.cleaner.min.compaction.lag.ms=0 src5]"},
        {"message.timestamp.type", "message.timestamp.type=LogAppendTime src1 [message.timestamp.type=LogAppendTime src1] [log.message.timestamp.type=CreateTime src5]"},
        {"compression.type", "compression.type=zstd src1 [compression.type=zstd src1] [compression.type=producer src5]"},
    };
    for (size_t i = 0; i < sizeof kafka / sizeof kafka[0]; i++)
        check_topic_describe(&o, c, kafka[i][0], false, kafka[i][1]);
    od_properties_free(&o);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

static void java_double_rendering(void)
{
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        {0.5, "0.5"}, {1, "1.0"}, {2, "2.0"}, {0.001, "0.001"}, {0.0001, "1.0E-4"}, {1e7, "1.0E7"},
        {9999999, "9999999.0"}, {123.456, "123.456"}, {1.7976931348623157E308, "1.7976931348623157E308"},
        {-0.25, "-0.25"}, {0, "0.0"}, {0.1, "0.1"}, {1e-5, "1.0E-5"}, {12345678.9, "1.23456789E7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        od_config_format_double(cases[i].d, buf, sizeof buf);
        CHECKF(strcmp(buf, cases[i].want) == 0, "got %s want %s", buf, cases[i].want);
    }
}

OD_TEST_MAIN(OD_CASE(table_is_sorted_and_self_consistent), OD_CASE(validation_matches_kafka),
             OD_CASE(cross_key_rules), OD_CASE(resolve_typed_values), OD_CASE(describe_matches_kafka),
             OD_CASE(describe_canonical_and_raw_forms), OD_CASE(java_double_rendering))
