/*
 * The broker config table and the snapshot builder.
 *
 * Loading runs in four steps, each over the whole table so that every
 * problem is reported at once:
 *   1. record each layer's text per key (unknown and ignored keys warn;
 *      invalid values are errors naming file, line, key, value and rule);
 *   2. mirror node.id and broker.id, as Kafka does in KRaft mode;
 *   3. pick each key's effective text (dynamic broker > dynamic default >
 *      static > Kafka default) and store it, typed, in its field;
 *   4. resolve values that span keys and apply Kafka's start-up checks.
 */
#include "broker_config.h"
#include "config_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ssl_client_auth_values[] = {"required", "requested", "none", NULL};
static const char *const rebalance_protocols[] = {"consumer", "classic", "share", "unknown", NULL};
static const char *const process_roles_values[] = {"broker", "controller", NULL};
static const char *const security_protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL", NULL};
static const char *const migration_policies[] = {"disabled", "downgrade", "upgrade", "bidirectional", NULL};

/* ---- syntax checks for keys whose value is a small language ---- */

static bool parse_port(const char *s, size_t len, int *port)
{
    if (len == 0 || len > 5)
        return false;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = v;
    return true;
}

static bool host_char_ok(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '%' || c == '.' || c == '_' || c == ':';
}

/* "host:port" or "[v6]:port"; host may be empty. Fills host span and port. */
static bool parse_host_port(const char *s, size_t len, size_t *host_off, size_t *host_len, int *port)
{
    size_t colon;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close || (size_t)(close - s) + 1 >= len || close[1] != ':')
            return false;
        *host_off = 1;
        *host_len = (size_t)(close - s) - 1;
        colon = (size_t)(close - s) + 1;
    } else {
        colon = len;
        while (colon > 0 && s[colon - 1] != ':')
            colon--;
        if (colon == 0)
            return false;
        colon--;
        *host_off = 0;
        *host_len = colon;
    }
    for (size_t i = 0; i < *host_len; i++)
        if (!host_char_ok(s[*host_off + i]))
            return false;
    return parse_port(s + colon + 1, len - colon - 1, port);
}

/* Calls fn on each comma-separated, trimmed item; stops at the first false. */
static bool for_each_item(const char *text, bool (*fn)(const char *, size_t, void *), void *ctx)
{
    char **items;
    long n = od_config_split_list(text, &items);
    if (n < 0)
        return false;
    bool ok = true;
    for (long i = 0; i < n && ok; i++)
        ok = fn(items[i], strlen(items[i]), ctx);
    free(items);
    return ok;
}

static bool listener_syntax_ok(const char *s, size_t len, void *ctx)
{
    (void)ctx;
    const char *sep = strstr(s, "://");
    if (!sep || sep == s)
        return false;
    size_t off = (size_t)(sep - s) + 3, ho, hl;
    int port;
    return parse_host_port(s + off, len - off, &ho, &hl, &port);
}

static const char *check_listeners(const char *value)
{
    if (for_each_item(value, listener_syntax_ok, NULL))
        return NULL;
    return "Each entry must look like NAME://host:port (host may be empty)";
}

static bool protocol_map_entry_ok(const char *s, size_t len, void *ctx)
{
    (void)ctx;
    const char *colon = memchr(s, ':', len);
    return colon && colon != s && colon + 1 < s + len;
}

static const char *check_protocol_map(const char *value)
{
    if (for_each_item(value, protocol_map_entry_ok, NULL))
        return NULL;
    return "Each entry must look like LISTENER_NAME:SECURITY_PROTOCOL";
}

static bool voter_ok(const char *s, size_t len, void *ctx)
{
    (void)ctx;
    const char *at = memchr(s, '@', len);
    if (!at || at == s)
        return false;
    for (const char *p = s; p < at; p++)
        if (*p < '0' || *p > '9')
            return false;
    if (at - s > 9)
        return false;
    size_t off = (size_t)(at - s) + 1, ho, hl;
    int port;
    return parse_host_port(s + off, len - off, &ho, &hl, &port) && hl > 0;
}

static const char *check_voters(const char *value)
{
    if (for_each_item(value, voter_ok, NULL))
        return NULL;
    return "Each entry should be in the form `{id}@{host}:{port}`";
}

static bool bootstrap_ok(const char *s, size_t len, void *ctx)
{
    (void)ctx;
    size_t ho, hl;
    int port;
    return parse_host_port(s, len, &ho, &hl, &port) && hl > 0;
}

static const char *check_bootstrap_servers(const char *value)
{
    if (for_each_item(value, bootstrap_ok, NULL))
        return NULL;
    return "Each entry should be in the form `{host}:{port}`";
}

/* Kafka's remote log pool sizes: -1 means "use the main pool size". */
static const char *check_pool_size(const char *value)
{
    od_config_parsed p;
    if (od_config_parse_scalar(OD_CONFIG_TYPE_INT, value, &p) || p.i == -1 || p.i >= 1)
        return NULL;
    return "Value can be -1 or greater than 0";
}

#define ASSIGNOR_PACKAGE "org.apache.kafka.coordinator.group.assignor."

static bool assignor_ok(const char *s, size_t len, void *ctx)
{
    (void)ctx;
    (void)len;
    return strcmp(s, ASSIGNOR_PACKAGE "UniformAssignor") == 0 || strcmp(s, ASSIGNOR_PACKAGE "RangeAssignor") == 0;
}

/* Kafka 3.9 loads these as classes and refuses a name it cannot find;
 * Odradek implements the two built-in assignors natively. */
static const char *check_assignors(const char *value)
{
    if (for_each_item(value, assignor_ok, NULL))
        return NULL;
    return "Odradek provides only " ASSIGNOR_PACKAGE "UniformAssignor and " ASSIGNOR_PACKAGE "RangeAssignor";
}

#define STANDARD_AUTHORIZER "org.apache.kafka.metadata.authorizer.StandardAuthorizer"

/* Odradek cannot load Java classes; it implements the KRaft authorizer's
 * behaviour natively. Any other class would silently weaken security if
 * accepted, so it is refused rather than warned about. */
static const char *check_authorizer(const char *value)
{
    if (value[0] == '\0' || strcmp(value, STANDARD_AUTHORIZER) == 0)
        return NULL;
    return "Odradek provides only " STANDARD_AUTHORIZER " (or none)";
}

/* ---- the table ---- */

#define INTERNAL OD_CONFIG_INTERNAL
#define RO OD_UPDATE_READ_ONLY
#define PER_BROKER OD_UPDATE_PER_BROKER
#define CLUSTER OD_UPDATE_CLUSTER_WIDE
#define F(field) offsetof(od_broker_config, field)
#define E(name, type, dflt, validator, mode, flags, field) \
    {name, OD_CONFIG_TYPE_##type, dflt, validator, mode, flags, field}

/* Defaults, types, validators and update modes are Kafka 3.9.2's, read
 * from KafkaConfig.configDef() and DynamicBrokerConfig (3.9.1 is identical
 * but for alter.config.policy.kraft.compatibility.enable, new in 3.9.2).
 * Sorted by name (strcmp order) for bsearch; a test checks the order. */
const od_broker_config_entry od_broker_config_table[] = {
    E("advertised.listeners", STRING, NULL, V_CUSTOM(check_listeners), PER_BROKER, HONOURED, F(advertised_listeners)),
    E("allow.everyone.if.no.acl.found", BOOLEAN, NULL, V_NONE, RO, HONOURED | OD_CONFIG_OUTSIDE_KAFKA_DEF, F(allow_everyone_if_no_acl_found)),
    E("alter.config.policy.class.name", CLASS, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("alter.config.policy.kraft.compatibility.enable", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("alter.log.dirs.replication.quota.window.num", INT, "11", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("alter.log.dirs.replication.quota.window.size.seconds", INT, "1", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("authorizer.class.name", STRING, "", V_CUSTOM(check_authorizer), RO, HONOURED, F(authorizer_class_name)),
    E("auto.create.topics.enable", BOOLEAN, "true", V_NONE, RO, HONOURED, F(auto_create_topics_enable)),
    E("auto.include.jmx.reporter", BOOLEAN, "true", V_NONE, RO, IGNORED, NO_FIELD),
    E("auto.leader.rebalance.enable", BOOLEAN, "true", V_NONE, RO, HONOURED, F(auto_leader_rebalance_enable)),
    E("background.threads", INT, "10", V_MIN(1), CLUSTER, HONOURED, F(background_threads)),
    E("broker.heartbeat.interval.ms", INT, "2000", V_NONE, RO, HONOURED, F(broker_heartbeat_interval_ms)),
    E("broker.id", INT, "-1", V_NONE, RO, HONOURED, F(broker_id)),
    E("broker.id.generation.enable", BOOLEAN, "true", V_NONE, RO, IGNORED, NO_FIELD),
    E("broker.rack", STRING, NULL, V_NONE, RO, HONOURED, F(broker_rack)),
    E("broker.session.timeout.ms", INT, "9000", V_NONE, RO, HONOURED, F(broker_session_timeout_ms)),
    E("client.quota.callback.class", CLASS, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("compression.gzip.level", INT, "-1", V_GZIP_LEVEL, CLUSTER, HONOURED, F(compression_gzip_level)),
    E("compression.lz4.level", INT, "9", V_RANGE(1, 17), CLUSTER, HONOURED, F(compression_lz4_level)),
    E("compression.type", STRING, "producer", V_ENUM(compression_types), CLUSTER, HONOURED, F(compression_type)),
    E("compression.zstd.level", INT, "3", V_RANGE(-131072, 22), CLUSTER, HONOURED, F(compression_zstd_level)),
    E("connection.failed.authentication.delay.ms", INT, "100", V_MIN(0), RO, IGNORED, NO_FIELD),
    E("connections.max.idle.ms", LONG, "600000", V_NONE, RO, HONOURED, F(connections_max_idle_ms)),
    E("connections.max.reauth.ms", LONG, "0", V_NONE, RO, IGNORED, NO_FIELD),
    E("control.plane.listener.name", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("controlled.shutdown.enable", BOOLEAN, "true", V_NONE, RO, HONOURED, F(controlled_shutdown_enable)),
    E("controlled.shutdown.max.retries", INT, "3", V_NONE, RO, IGNORED, NO_FIELD),
    E("controlled.shutdown.retry.backoff.ms", LONG, "5000", V_NONE, RO, IGNORED, NO_FIELD),
    E("controller.listener.names", STRING, NULL, V_NONE, RO, HONOURED, F(controller_listener_names)),
    E("controller.quorum.append.linger.ms", INT, "25", V_NONE, RO, HONOURED, F(controller_quorum_append_linger_ms)),
    E("controller.quorum.bootstrap.servers", LIST, "", V_CUSTOM(check_bootstrap_servers), RO, HONOURED, F(controller_quorum_bootstrap_servers)),
    E("controller.quorum.election.backoff.max.ms", INT, "1000", V_NONE, RO, HONOURED, F(controller_quorum_election_backoff_max_ms)),
    E("controller.quorum.election.timeout.ms", INT, "1000", V_NONE, RO, HONOURED, F(controller_quorum_election_timeout_ms)),
    E("controller.quorum.fetch.timeout.ms", INT, "2000", V_NONE, RO, HONOURED, F(controller_quorum_fetch_timeout_ms)),
    E("controller.quorum.request.timeout.ms", INT, "2000", V_NONE, RO, HONOURED, F(controller_quorum_request_timeout_ms)),
    E("controller.quorum.retry.backoff.ms", INT, "20", V_NONE, RO, HONOURED, F(controller_quorum_retry_backoff_ms)),
    E("controller.quorum.voters", LIST, "", V_CUSTOM(check_voters), RO, HONOURED, F(controller_quorum_voters)),
    E("controller.quota.window.num", INT, "11", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("controller.quota.window.size.seconds", INT, "1", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("controller.socket.timeout.ms", INT, "30000", V_NONE, RO, IGNORED, NO_FIELD),
    E("create.topic.policy.class.name", CLASS, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("default.replication.factor", INT, "1", V_NONE, RO, HONOURED, F(default_replication_factor)),
    E("delegation.token.expiry.check.interval.ms", LONG, "3600000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("delegation.token.expiry.time.ms", LONG, "86400000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("delegation.token.master.key", PASSWORD, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("delegation.token.max.lifetime.ms", LONG, "604800000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("delegation.token.secret.key", PASSWORD, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("delete.records.purgatory.purge.interval.requests", INT, "1", V_NONE, RO, IGNORED, NO_FIELD),
    E("delete.topic.enable", BOOLEAN, "true", V_NONE, RO, HONOURED, F(delete_topic_enable)),
    E("early.start.listeners", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("eligible.leader.replicas.enable", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("fetch.max.bytes", INT, "57671680", V_MIN(1024), RO, HONOURED, F(fetch_max_bytes)),
    E("fetch.purgatory.purge.interval.requests", INT, "1000", V_NONE, RO, IGNORED, NO_FIELD),
    E("group.consumer.assignors", LIST, "org.apache.kafka.coordinator.group.assignor.UniformAssignor,org.apache.kafka.coordinator.group.assignor.RangeAssignor", V_CUSTOM(check_assignors), RO, HONOURED, F(group_consumer_assignors)),
    E("group.consumer.heartbeat.interval.ms", INT, "5000", V_MIN(1), RO, HONOURED, F(group_consumer_heartbeat_interval_ms)),
    E("group.consumer.max.heartbeat.interval.ms", INT, "15000", V_MIN(1), RO, HONOURED, F(group_consumer_max_heartbeat_interval_ms)),
    E("group.consumer.max.session.timeout.ms", INT, "60000", V_MIN(1), RO, HONOURED, F(group_consumer_max_session_timeout_ms)),
    E("group.consumer.max.size", INT, "2147483647", V_MIN(1), RO, HONOURED, F(group_consumer_max_size)),
    E("group.consumer.migration.policy", STRING, "disabled", V_ENUM_CI(migration_policies), RO, HONOURED | INTERNAL, F(group_consumer_migration_policy)),
    E("group.consumer.min.heartbeat.interval.ms", INT, "5000", V_MIN(1), RO, HONOURED, F(group_consumer_min_heartbeat_interval_ms)),
    E("group.consumer.min.session.timeout.ms", INT, "45000", V_MIN(1), RO, HONOURED, F(group_consumer_min_session_timeout_ms)),
    E("group.consumer.session.timeout.ms", INT, "45000", V_MIN(1), RO, HONOURED, F(group_consumer_session_timeout_ms)),
    E("group.coordinator.append.linger.ms", INT, "10", V_MIN(0), RO, IGNORED, NO_FIELD),
    E("group.coordinator.new.enable", BOOLEAN, "false", V_NONE, RO, IGNORED | INTERNAL, NO_FIELD),
    E("group.coordinator.rebalance.protocols", LIST, "classic", V_ENUM_LIST(rebalance_protocols), RO, HONOURED, F(group_coordinator_rebalance_protocols)),
    E("group.coordinator.threads", INT, "1", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("group.initial.rebalance.delay.ms", INT, "3000", V_NONE, RO, HONOURED, F(group_initial_rebalance_delay_ms)),
    E("group.max.session.timeout.ms", INT, "1800000", V_NONE, RO, HONOURED, F(group_max_session_timeout_ms)),
    E("group.max.size", INT, "2147483647", V_MIN(1), RO, HONOURED, F(group_max_size)),
    E("group.min.session.timeout.ms", INT, "6000", V_NONE, RO, HONOURED, F(group_min_session_timeout_ms)),
    E("group.share.delivery.count.limit", INT, "5", V_RANGE(2, 10), RO, IGNORED, NO_FIELD),
    E("group.share.enable", BOOLEAN, "false", V_NONE, RO, IGNORED | INTERNAL, NO_FIELD),
    E("group.share.heartbeat.interval.ms", INT, "5000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("group.share.max.groups", SHORT, "10", V_RANGE(1, 100), RO, IGNORED, NO_FIELD),
    E("group.share.max.heartbeat.interval.ms", INT, "15000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("group.share.max.record.lock.duration.ms", INT, "60000", V_RANGE(30000, 3600000), RO, IGNORED, NO_FIELD),
    E("group.share.max.session.timeout.ms", INT, "60000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("group.share.max.size", SHORT, "200", V_RANGE(10, 1000), RO, IGNORED, NO_FIELD),
    E("group.share.min.heartbeat.interval.ms", INT, "5000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("group.share.min.record.lock.duration.ms", INT, "15000", V_RANGE(1000, 30000), RO, IGNORED, NO_FIELD),
    E("group.share.min.session.timeout.ms", INT, "45000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("group.share.partition.max.record.locks", INT, "200", V_RANGE(100, 10000), RO, IGNORED, NO_FIELD),
    E("group.share.record.lock.duration.ms", INT, "30000", V_RANGE(1000, 60000), RO, IGNORED, NO_FIELD),
    E("group.share.session.timeout.ms", INT, "45000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("initial.broker.registration.timeout.ms", INT, "60000", V_NONE, RO, HONOURED, F(initial_broker_registration_timeout_ms)),
    E("inter.broker.listener.name", STRING, NULL, V_NONE, RO, HONOURED, F(inter_broker_listener_name)),
    E("inter.broker.protocol.version", STRING, "3.9-IV0", V_METADATA_VERSION, RO, IGNORED, NO_FIELD),
    E("kafka.metrics.polling.interval.secs", INT, "10", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("kafka.metrics.reporters", LIST, "", V_NONE, RO, IGNORED, NO_FIELD),
    E("leader.imbalance.check.interval.seconds", LONG, "300", V_MIN(1), RO, HONOURED, F(leader_imbalance_check_interval_seconds)),
    E("leader.imbalance.per.broker.percentage", INT, "10", V_NONE, RO, HONOURED, F(leader_imbalance_per_broker_percentage)),
    E("listener.security.protocol.map", STRING, "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT", V_CUSTOM(check_protocol_map), PER_BROKER, HONOURED, F(listener_security_protocol_map)),
    E("listeners", STRING, "PLAINTEXT://:9092", V_CUSTOM(check_listeners), PER_BROKER, HONOURED, F(listeners)),
    E("log.cleaner.backoff.ms", LONG, "15000", V_MIN(0), CLUSTER, HONOURED, F(log_cleaner_backoff_ms)),
    E("log.cleaner.dedupe.buffer.size", LONG, "134217728", V_NONE, CLUSTER, HONOURED, F(log_cleaner_dedupe_buffer_size)),
    E("log.cleaner.delete.retention.ms", LONG, "86400000", V_MIN(0), CLUSTER, HONOURED, F(log_cleaner_delete_retention_ms)),
    E("log.cleaner.enable", BOOLEAN, "true", V_NONE, RO, HONOURED, F(log_cleaner_enable)),
    E("log.cleaner.io.buffer.load.factor", DOUBLE, "0.9", V_NONE, CLUSTER, HONOURED, F(log_cleaner_io_buffer_load_factor)),
    E("log.cleaner.io.buffer.size", INT, "524288", V_MIN(0), CLUSTER, HONOURED, F(log_cleaner_io_buffer_size)),
    E("log.cleaner.io.max.bytes.per.second", DOUBLE, "1.7976931348623157E308", V_NONE, CLUSTER, HONOURED, F(log_cleaner_io_max_bytes_per_second)),
    E("log.cleaner.max.compaction.lag.ms", LONG, "9223372036854775807", V_MIN(1), CLUSTER, HONOURED, F(log_cleaner_max_compaction_lag_ms)),
    E("log.cleaner.min.cleanable.ratio", DOUBLE, "0.5", V_RANGE(0, 1), CLUSTER, HONOURED, F(log_cleaner_min_cleanable_ratio)),
    E("log.cleaner.min.compaction.lag.ms", LONG, "0", V_MIN(0), CLUSTER, HONOURED, F(log_cleaner_min_compaction_lag_ms)),
    E("log.cleaner.threads", INT, "1", V_MIN(0), CLUSTER, HONOURED, F(log_cleaner_threads)),
    E("log.cleanup.policy", LIST, "delete", V_ENUM_LIST(cleanup_policies), CLUSTER, HONOURED, F(log_cleanup_policy)),
    E("log.dir", STRING, "/tmp/kafka-logs", V_NONE, RO, HONOURED, F(log_dir)),
    E("log.dir.failure.timeout.ms", LONG, "30000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("log.dirs", STRING, NULL, V_NONE, RO, HONOURED, F(log_dirs)),
    E("log.flush.interval.messages", LONG, "9223372036854775807", V_MIN(1), CLUSTER, HONOURED, F(log_flush_interval_messages)),
    E("log.flush.interval.ms", LONG, NULL, V_NONE, CLUSTER, HONOURED, F(log_flush_interval_ms)),
    E("log.flush.offset.checkpoint.interval.ms", INT, "60000", V_MIN(0), RO, HONOURED, F(log_flush_offset_checkpoint_interval_ms)),
    E("log.flush.scheduler.interval.ms", LONG, "9223372036854775807", V_NONE, RO, HONOURED, F(log_flush_scheduler_interval_ms)),
    E("log.flush.start.offset.checkpoint.interval.ms", INT, "60000", V_MIN(0), RO, HONOURED, F(log_flush_start_offset_checkpoint_interval_ms)),
    E("log.index.interval.bytes", INT, "4096", V_MIN(0), CLUSTER, HONOURED, F(log_index_interval_bytes)),
    E("log.index.size.max.bytes", INT, "10485760", V_MIN(4), CLUSTER, HONOURED, F(log_index_size_max_bytes)),
    E("log.initial.task.delay.ms", LONG, "30000", V_MIN(0), RO, HONOURED | INTERNAL, F(log_initial_task_delay_ms)),
    E("log.local.retention.bytes", LONG, "-2", V_MIN(-2), CLUSTER, IGNORED, NO_FIELD),
    E("log.local.retention.ms", LONG, "-2", V_MIN(-2), CLUSTER, IGNORED, NO_FIELD),
    E("log.message.downconversion.enable", BOOLEAN, "true", V_NONE, CLUSTER, IGNORED, NO_FIELD),
    E("log.message.format.version", STRING, "3.0-IV1", V_METADATA_VERSION, RO, IGNORED, NO_FIELD),
    E("log.message.timestamp.after.max.ms", LONG, "9223372036854775807", V_MIN(0), CLUSTER, HONOURED, F(log_message_timestamp_after_max_ms)),
    E("log.message.timestamp.before.max.ms", LONG, "9223372036854775807", V_MIN(0), CLUSTER, HONOURED, F(log_message_timestamp_before_max_ms)),
    E("log.message.timestamp.difference.max.ms", LONG, "9223372036854775807", V_MIN(0), CLUSTER, HONOURED, F(log_message_timestamp_difference_max_ms)),
    E("log.message.timestamp.type", STRING, "CreateTime", V_ENUM(timestamp_types), CLUSTER, HONOURED, F(log_message_timestamp_type)),
    E("log.preallocate", BOOLEAN, "false", V_NONE, CLUSTER, HONOURED, F(log_preallocate)),
    E("log.retention.bytes", LONG, "-1", V_NONE, CLUSTER, HONOURED, F(log_retention_bytes)),
    E("log.retention.check.interval.ms", LONG, "300000", V_MIN(1), RO, HONOURED, F(log_retention_check_interval_ms)),
    E("log.retention.hours", INT, "168", V_NONE, RO, HONOURED, F(log_retention_hours)),
    E("log.retention.minutes", INT, NULL, V_NONE, RO, HONOURED, F(log_retention_minutes)),
    E("log.retention.ms", LONG, NULL, V_NONE, CLUSTER, HONOURED, F(log_retention_ms)),
    E("log.roll.hours", INT, "168", V_MIN(1), RO, HONOURED, F(log_roll_hours)),
    E("log.roll.jitter.hours", INT, "0", V_MIN(0), RO, HONOURED, F(log_roll_jitter_hours)),
    E("log.roll.jitter.ms", LONG, NULL, V_NONE, CLUSTER, HONOURED, F(log_roll_jitter_ms)),
    E("log.roll.ms", LONG, NULL, V_NONE, CLUSTER, HONOURED, F(log_roll_ms)),
    E("log.segment.bytes", INT, "1073741824", V_MIN(14), CLUSTER, HONOURED, F(log_segment_bytes)),
    E("log.segment.delete.delay.ms", LONG, "60000", V_MIN(0), CLUSTER, HONOURED, F(log_segment_delete_delay_ms)),
    E("max.connection.creation.rate", INT, "2147483647", V_MIN(0), CLUSTER, IGNORED, NO_FIELD),
    E("max.connections", INT, "2147483647", V_MIN(0), CLUSTER, HONOURED, F(max_connections)),
    E("max.connections.per.ip", INT, "2147483647", V_MIN(0), CLUSTER, HONOURED, F(max_connections_per_ip)),
    E("max.connections.per.ip.overrides", STRING, "", V_NONE, CLUSTER, IGNORED, NO_FIELD),
    E("max.incremental.fetch.session.cache.slots", INT, "1000", V_MIN(0), RO, HONOURED, F(max_incremental_fetch_session_cache_slots)),
    E("max.request.partition.size.limit", INT, "2000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("message.max.bytes", INT, "1048588", V_MIN(0), CLUSTER, HONOURED, F(message_max_bytes)),
    E("metadata.log.dir", STRING, NULL, V_NONE, RO, HONOURED, F(metadata_log_dir)),
    E("metadata.log.max.record.bytes.between.snapshots", LONG, "20971520", V_MIN(1), RO, HONOURED, F(metadata_log_max_record_bytes_between_snapshots)),
    E("metadata.log.max.snapshot.interval.ms", LONG, "3600000", V_MIN(0), RO, HONOURED, F(metadata_log_max_snapshot_interval_ms)),
    E("metadata.log.segment.bytes", INT, "1073741824", V_MIN(12), RO, HONOURED, F(metadata_log_segment_bytes)),
    E("metadata.log.segment.min.bytes", INT, "8388608", V_MIN(12), RO, HONOURED | INTERNAL, F(metadata_log_segment_min_bytes)),
    E("metadata.log.segment.ms", LONG, "604800000", V_NONE, RO, HONOURED, F(metadata_log_segment_ms)),
    E("metadata.max.idle.interval.ms", INT, "500", V_MIN(0), RO, HONOURED, F(metadata_max_idle_interval_ms)),
    E("metadata.max.retention.bytes", LONG, "104857600", V_NONE, RO, HONOURED, F(metadata_max_retention_bytes)),
    E("metadata.max.retention.ms", LONG, "604800000", V_NONE, RO, HONOURED, F(metadata_max_retention_ms)),
    E("metric.reporters", LIST, "", V_NONE, CLUSTER, IGNORED, NO_FIELD),
    E("metrics.num.samples", INT, "2", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("metrics.recording.level", STRING, "INFO", V_NONE, RO, IGNORED, NO_FIELD),
    E("metrics.sample.window.ms", LONG, "30000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("min.insync.replicas", INT, "1", V_MIN(1), CLUSTER, HONOURED, F(min_insync_replicas)),
    E("node.id", INT, "-1", V_NONE, RO, HONOURED, F(node_id)),
    E("num.io.threads", INT, "8", V_MIN(1), CLUSTER, HONOURED, F(num_io_threads)),
    E("num.network.threads", INT, "3", V_MIN(1), CLUSTER, HONOURED, F(num_network_threads)),
    E("num.partitions", INT, "1", V_MIN(1), RO, HONOURED, F(num_partitions)),
    E("num.recovery.threads.per.data.dir", INT, "1", V_MIN(1), CLUSTER, HONOURED, F(num_recovery_threads_per_data_dir)),
    E("num.replica.alter.log.dirs.threads", INT, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("num.replica.fetchers", INT, "1", V_NONE, CLUSTER, HONOURED, F(num_replica_fetchers)),
    E("offset.metadata.max.bytes", INT, "4096", V_NONE, RO, HONOURED, F(offset_metadata_max_bytes)),
    E("offsets.commit.required.acks", SHORT, "-1", V_NONE, RO, IGNORED, NO_FIELD),
    E("offsets.commit.timeout.ms", INT, "5000", V_MIN(1), RO, HONOURED, F(offsets_commit_timeout_ms)),
    E("offsets.load.buffer.size", INT, "5242880", V_MIN(1), RO, HONOURED, F(offsets_load_buffer_size)),
    E("offsets.retention.check.interval.ms", LONG, "600000", V_MIN(1), RO, HONOURED, F(offsets_retention_check_interval_ms)),
    E("offsets.retention.minutes", INT, "10080", V_MIN(1), RO, HONOURED, F(offsets_retention_minutes)),
    E("offsets.topic.compression.codec", INT, "0", V_RANGE(0, 4), RO, HONOURED, F(offsets_topic_compression_codec)),
    E("offsets.topic.num.partitions", INT, "50", V_MIN(1), RO, HONOURED, F(offsets_topic_num_partitions)),
    E("offsets.topic.replication.factor", SHORT, "3", V_MIN(1), RO, HONOURED, F(offsets_topic_replication_factor)),
    E("offsets.topic.segment.bytes", INT, "104857600", V_MIN(1), RO, HONOURED, F(offsets_topic_segment_bytes)),
    E("password.encoder.cipher.algorithm", STRING, "AES/CBC/PKCS5Padding", V_NONE, RO, IGNORED, NO_FIELD),
    E("password.encoder.iterations", INT, "4096", V_MIN(1024), RO, IGNORED, NO_FIELD),
    E("password.encoder.key.length", INT, "128", V_MIN(8), RO, IGNORED, NO_FIELD),
    E("password.encoder.keyfactory.algorithm", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("password.encoder.old.secret", PASSWORD, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("password.encoder.secret", PASSWORD, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("principal.builder.class", CLASS, "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("process.roles", LIST, "", V_ENUM_LIST(process_roles_values), RO, HONOURED, F(process_roles)),
    E("producer.id.expiration.check.interval.ms", INT, "600000", V_MIN(1), RO, HONOURED | INTERNAL, F(producer_id_expiration_check_interval_ms)),
    E("producer.id.expiration.ms", INT, "86400000", V_MIN(1), CLUSTER, HONOURED, F(producer_id_expiration_ms)),
    E("producer.purgatory.purge.interval.requests", INT, "1000", V_NONE, RO, IGNORED, NO_FIELD),
    E("queued.max.request.bytes", LONG, "-1", V_NONE, RO, HONOURED, F(queued_max_request_bytes)),
    E("queued.max.requests", INT, "500", V_MIN(1), RO, HONOURED, F(queued_max_requests)),
    E("quota.window.num", INT, "11", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("quota.window.size.seconds", INT, "1", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("remote.fetch.max.wait.ms", INT, "500", V_MIN(1), CLUSTER, IGNORED, NO_FIELD),
    E("remote.log.index.file.cache.total.size.bytes", LONG, "1073741824", V_MIN(1), CLUSTER, IGNORED, NO_FIELD),
    E("remote.log.manager.copier.thread.pool.size", INT, "-1", V_CUSTOM(check_pool_size), RO, IGNORED, NO_FIELD),
    E("remote.log.manager.copy.max.bytes.per.second", LONG, "9223372036854775807", V_MIN(1), CLUSTER, IGNORED, NO_FIELD),
    E("remote.log.manager.copy.quota.window.num", INT, "11", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("remote.log.manager.copy.quota.window.size.seconds", INT, "1", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("remote.log.manager.expiration.thread.pool.size", INT, "-1", V_CUSTOM(check_pool_size), RO, IGNORED, NO_FIELD),
    E("remote.log.manager.fetch.max.bytes.per.second", LONG, "9223372036854775807", V_MIN(1), CLUSTER, IGNORED, NO_FIELD),
    E("remote.log.manager.fetch.quota.window.num", INT, "11", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("remote.log.manager.fetch.quota.window.size.seconds", INT, "1", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("remote.log.manager.task.interval.ms", LONG, "30000", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("remote.log.manager.task.retry.backoff.max.ms", LONG, "30000", V_MIN(1), RO, IGNORED | INTERNAL, NO_FIELD),
    E("remote.log.manager.task.retry.backoff.ms", LONG, "500", V_MIN(1), RO, IGNORED | INTERNAL, NO_FIELD),
    E("remote.log.manager.task.retry.jitter", DOUBLE, "0.2", V_DRANGE(0, 0.5), RO, IGNORED | INTERNAL, NO_FIELD),
    E("remote.log.manager.thread.pool.size", INT, "10", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("remote.log.metadata.custom.metadata.max.bytes", INT, "128", V_MIN(0), RO, IGNORED, NO_FIELD),
    E("remote.log.metadata.manager.class.name", STRING, "org.apache.kafka.server.log.remote.metadata.storage.TopicBasedRemoteLogMetadataManager", V_NONEMPTY_STRING, RO, IGNORED, NO_FIELD),
    E("remote.log.metadata.manager.class.path", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("remote.log.metadata.manager.impl.prefix", STRING, "rlmm.config.", V_NONEMPTY_STRING, RO, IGNORED, NO_FIELD),
    E("remote.log.metadata.manager.listener.name", STRING, NULL, V_NONEMPTY_STRING, RO, IGNORED, NO_FIELD),
    E("remote.log.reader.max.pending.tasks", INT, "100", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("remote.log.reader.threads", INT, "10", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("remote.log.storage.manager.class.name", STRING, NULL, V_NONEMPTY_STRING, RO, IGNORED, NO_FIELD),
    E("remote.log.storage.manager.class.path", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("remote.log.storage.manager.impl.prefix", STRING, "rsm.config.", V_NONEMPTY_STRING, RO, IGNORED, NO_FIELD),
    E("remote.log.storage.system.enable", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("replica.fetch.backoff.ms", INT, "1000", V_MIN(0), RO, HONOURED, F(replica_fetch_backoff_ms)),
    E("replica.fetch.max.bytes", INT, "1048576", V_MIN(0), RO, HONOURED, F(replica_fetch_max_bytes)),
    E("replica.fetch.min.bytes", INT, "1", V_NONE, RO, HONOURED, F(replica_fetch_min_bytes)),
    E("replica.fetch.response.max.bytes", INT, "10485760", V_MIN(0), RO, HONOURED, F(replica_fetch_response_max_bytes)),
    E("replica.fetch.wait.max.ms", INT, "500", V_NONE, RO, HONOURED, F(replica_fetch_wait_max_ms)),
    E("replica.high.watermark.checkpoint.interval.ms", LONG, "5000", V_NONE, RO, HONOURED, F(replica_high_watermark_checkpoint_interval_ms)),
    E("replica.lag.time.max.ms", LONG, "30000", V_NONE, RO, HONOURED, F(replica_lag_time_max_ms)),
    E("replica.selector.class", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("replica.socket.receive.buffer.bytes", INT, "65536", V_NONE, RO, HONOURED, F(replica_socket_receive_buffer_bytes)),
    E("replica.socket.timeout.ms", INT, "30000", V_NONE, RO, HONOURED, F(replica_socket_timeout_ms)),
    E("replication.quota.window.num", INT, "11", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("replication.quota.window.size.seconds", INT, "1", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("request.timeout.ms", INT, "30000", V_NONE, RO, HONOURED, F(request_timeout_ms)),
    E("reserved.broker.max.id", INT, "1000", V_MIN(0), RO, IGNORED, NO_FIELD),
    E("sasl.client.callback.handler.class", CLASS, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.enabled.mechanisms", LIST, "GSSAPI", V_NONE, PER_BROKER, HONOURED, F(sasl_enabled_mechanisms)),
    E("sasl.jaas.config", PASSWORD, NULL, V_NONE, PER_BROKER, HONOURED, F(sasl_jaas_config)),
    E("sasl.kerberos.kinit.cmd", STRING, "/usr/bin/kinit", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.kerberos.min.time.before.relogin", LONG, "60000", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.kerberos.principal.to.local.rules", LIST, "DEFAULT", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.kerberos.service.name", STRING, NULL, V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.kerberos.ticket.renew.jitter", DOUBLE, "0.05", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.kerberos.ticket.renew.window.factor", DOUBLE, "0.8", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.login.callback.handler.class", CLASS, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.login.class", CLASS, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.login.connect.timeout.ms", INT, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.login.read.timeout.ms", INT, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.login.refresh.buffer.seconds", SHORT, "300", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.login.refresh.min.period.seconds", SHORT, "60", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.login.refresh.window.factor", DOUBLE, "0.8", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.login.refresh.window.jitter", DOUBLE, "0.05", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("sasl.login.retry.backoff.max.ms", LONG, "10000", V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.login.retry.backoff.ms", LONG, "100", V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.mechanism.controller.protocol", STRING, "GSSAPI", V_NONE, RO, HONOURED, F(sasl_mechanism_controller_protocol)),
    E("sasl.mechanism.inter.broker.protocol", STRING, "GSSAPI", V_NONE, PER_BROKER, HONOURED, F(sasl_mechanism_inter_broker_protocol)),
    E("sasl.oauthbearer.clock.skew.seconds", INT, "30", V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.oauthbearer.expected.audience", LIST, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.oauthbearer.expected.issuer", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.oauthbearer.jwks.endpoint.refresh.ms", LONG, "3600000", V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", LONG, "10000", V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", LONG, "100", V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.oauthbearer.jwks.endpoint.url", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.oauthbearer.scope.claim.name", STRING, "scope", V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.oauthbearer.sub.claim.name", STRING, "sub", V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.oauthbearer.token.endpoint.url", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.server.callback.handler.class", CLASS, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("sasl.server.max.receive.size", INT, "524288", V_NONE, RO, IGNORED, NO_FIELD),
    E("security.inter.broker.protocol", STRING, "PLAINTEXT", V_ENUM(security_protocols), RO, HONOURED, F(security_inter_broker_protocol)),
    E("security.providers", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("server.max.startup.time.ms", LONG, "9223372036854775807", V_MIN(0), RO, IGNORED | INTERNAL, NO_FIELD),
    E("socket.connection.setup.timeout.max.ms", LONG, "30000", V_NONE, RO, IGNORED, NO_FIELD),
    E("socket.connection.setup.timeout.ms", LONG, "10000", V_NONE, RO, IGNORED, NO_FIELD),
    E("socket.listen.backlog.size", INT, "50", V_MIN(1), RO, HONOURED, F(socket_listen_backlog_size)),
    E("socket.receive.buffer.bytes", INT, "102400", V_NONE, RO, HONOURED, F(socket_receive_buffer_bytes)),
    E("socket.request.max.bytes", INT, "104857600", V_MIN(1), RO, HONOURED, F(socket_request_max_bytes)),
    E("socket.send.buffer.bytes", INT, "102400", V_NONE, RO, HONOURED, F(socket_send_buffer_bytes)),
    E("ssl.allow.dn.changes", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("ssl.allow.san.changes", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("ssl.cipher.suites", LIST, "", V_NONE, PER_BROKER, HONOURED, F(ssl_cipher_suites)),
    E("ssl.client.auth", STRING, "none", V_ENUM(ssl_client_auth_values), PER_BROKER, HONOURED, F(ssl_client_auth)),
    E("ssl.enabled.protocols", LIST, "TLSv1.2,TLSv1.3", V_NONE, PER_BROKER, HONOURED, F(ssl_enabled_protocols)),
    E("ssl.endpoint.identification.algorithm", STRING, "https", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("ssl.engine.factory.class", CLASS, NULL, V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("ssl.key.password", PASSWORD, NULL, V_NONE, PER_BROKER, HONOURED, F(ssl_key_password)),
    E("ssl.keymanager.algorithm", STRING, "SunX509", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("ssl.keystore.certificate.chain", PASSWORD, NULL, V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("ssl.keystore.key", PASSWORD, NULL, V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("ssl.keystore.location", STRING, NULL, V_NONE, PER_BROKER, HONOURED, F(ssl_keystore_location)),
    E("ssl.keystore.password", PASSWORD, NULL, V_NONE, PER_BROKER, HONOURED, F(ssl_keystore_password)),
    E("ssl.keystore.type", STRING, "JKS", V_NONE, PER_BROKER, HONOURED, F(ssl_keystore_type)),
    E("ssl.principal.mapping.rules", STRING, "DEFAULT", V_NONE, RO, IGNORED, NO_FIELD),
    E("ssl.protocol", STRING, "TLSv1.3", V_NONE, PER_BROKER, HONOURED, F(ssl_protocol)),
    E("ssl.provider", STRING, NULL, V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("ssl.secure.random.implementation", STRING, NULL, V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("ssl.trustmanager.algorithm", STRING, "PKIX", V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("ssl.truststore.certificates", PASSWORD, NULL, V_NONE, PER_BROKER, IGNORED, NO_FIELD),
    E("ssl.truststore.location", STRING, NULL, V_NONE, PER_BROKER, HONOURED, F(ssl_truststore_location)),
    E("ssl.truststore.password", PASSWORD, NULL, V_NONE, PER_BROKER, HONOURED, F(ssl_truststore_password)),
    E("ssl.truststore.type", STRING, "JKS", V_NONE, PER_BROKER, HONOURED, F(ssl_truststore_type)),
    E("super.users", STRING, NULL, V_NONE, RO, HONOURED | OD_CONFIG_OUTSIDE_KAFKA_DEF, F(super_users)),
    E("telemetry.max.bytes", INT, "1048576", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("transaction.abort.timed.out.transaction.cleanup.interval.ms", INT, "10000", V_MIN(1), RO, HONOURED, F(transaction_abort_timed_out_transaction_cleanup_interval_ms)),
    E("transaction.max.timeout.ms", INT, "900000", V_MIN(1), RO, HONOURED, F(transaction_max_timeout_ms)),
    E("transaction.partition.verification.enable", BOOLEAN, "true", V_NONE, CLUSTER, HONOURED, F(transaction_partition_verification_enable)),
    E("transaction.remove.expired.transaction.cleanup.interval.ms", INT, "3600000", V_MIN(1), RO, HONOURED, F(transaction_remove_expired_transaction_cleanup_interval_ms)),
    E("transaction.state.log.load.buffer.size", INT, "5242880", V_MIN(1), RO, HONOURED, F(transaction_state_log_load_buffer_size)),
    E("transaction.state.log.min.isr", INT, "2", V_MIN(1), RO, HONOURED, F(transaction_state_log_min_isr)),
    E("transaction.state.log.num.partitions", INT, "50", V_MIN(1), RO, HONOURED, F(transaction_state_log_num_partitions)),
    E("transaction.state.log.replication.factor", SHORT, "3", V_MIN(1), RO, HONOURED, F(transaction_state_log_replication_factor)),
    E("transaction.state.log.segment.bytes", INT, "104857600", V_MIN(1), RO, HONOURED, F(transaction_state_log_segment_bytes)),
    E("transactional.id.expiration.ms", INT, "604800000", V_MIN(1), RO, HONOURED, F(transactional_id_expiration_ms)),
    E("unclean.leader.election.enable", BOOLEAN, "false", V_NONE, CLUSTER, HONOURED, F(unclean_leader_election_enable)),
    E("unclean.leader.election.interval.ms", LONG, "300000", V_MIN(1), RO, IGNORED | INTERNAL, NO_FIELD),
    E("unstable.api.versions.enable", BOOLEAN, "false", V_NONE, RO, IGNORED | INTERNAL, NO_FIELD),
    E("unstable.feature.versions.enable", BOOLEAN, "false", V_NONE, RO, IGNORED | INTERNAL, NO_FIELD),
    E("zookeeper.clientCnxnSocket", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.connect", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.connection.timeout.ms", INT, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.max.in.flight.requests", INT, "10", V_MIN(1), RO, IGNORED, NO_FIELD),
    E("zookeeper.metadata.migration.enable", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.metadata.migration.min.batch.size", INT, "200", V_MIN(1), RO, IGNORED | INTERNAL, NO_FIELD),
    E("zookeeper.session.timeout.ms", INT, "18000", V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.set.acl", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.cipher.suites", LIST, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.client.enable", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.crl.enable", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.enabled.protocols", LIST, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.endpoint.identification.algorithm", STRING, "HTTPS", V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.keystore.location", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.keystore.password", PASSWORD, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.keystore.type", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.ocsp.enable", BOOLEAN, "false", V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.protocol", STRING, "TLSv1.2", V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.truststore.location", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.truststore.password", PASSWORD, NULL, V_NONE, RO, IGNORED, NO_FIELD),
    E("zookeeper.ssl.truststore.type", STRING, NULL, V_NONE, RO, IGNORED, NO_FIELD),
};
const size_t od_broker_config_table_len = sizeof od_broker_config_table / sizeof od_broker_config_table[0];

static int entry_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const od_broker_config_entry *)elem)->name);
}

const od_broker_config_entry *od_broker_config_entry_find(const char *name)
{
    return bsearch(name, od_broker_config_table, od_broker_config_table_len,
                   sizeof od_broker_config_table[0], entry_cmp);
}

static size_t entry_index(const od_broker_config_entry *e)
{
    return (size_t)(e - od_broker_config_table);
}

/* ---- snapshot state ---- */

enum { LAYER_STATIC, LAYER_DYNAMIC_DEFAULT, LAYER_DYNAMIC_BROKER, LAYER_COUNT };

/* Broker keys whose value a log inherits is computed from several keys. */
enum { OD_DERIVED_LOG_KEYS = 6 };
static const char *const derived_log_keys[OD_DERIVED_LOG_KEYS] = {
    "log.retention.ms", "log.roll.ms", "log.roll.jitter.ms", "log.flush.interval.ms",
    "log.message.timestamp.before.max.ms", "log.message.timestamp.after.max.ms"};

struct od_broker_config_state {
    /* Per table entry: the text each layer holds (as written), NULL if none. */
    const char **layer_text[LAYER_COUNT];
    /* Per table entry: canonical effective text, NULL when null. */
    const char **effective;
    od_config_source *source;
    /* Static keys the table does not know; Kafka still describes them. */
    od_properties unknown;
    /* Text of the derived log values (see od_broker_config_log_default),
     * formatted at load so readers never write to a shared snapshot. */
    const char *derived_text[OD_DERIVED_LOG_KEYS];
    /* Every allocation the snapshot owns, freed together. */
    void **pool;
    size_t pool_count, pool_cap;
};

static void *pool_keep(od_broker_config_state *st, void *p)
{
    if (!p)
        return NULL;
    if (st->pool_count == st->pool_cap) {
        size_t cap = st->pool_cap ? st->pool_cap * 2 : 256;
        void **pool = realloc(st->pool, cap * sizeof *pool);
        if (!pool) {
            free(p);
            return NULL;
        }
        st->pool = pool;
        st->pool_cap = cap;
    }
    st->pool[st->pool_count++] = p;
    return p;
}

static char *pool_strdup(od_broker_config_state *st, const char *s)
{
    return s ? pool_keep(st, strdup(s)) : NULL;
}

static char *pool_strndup(od_broker_config_state *st, const char *s, size_t n)
{
    return pool_keep(st, strndup(s, n));
}

void od_broker_config_free(od_broker_config *c)
{
    if (!c)
        return;
    od_broker_config_state *st = c->state;
    if (st) {
        for (size_t i = 0; i < st->pool_count; i++)
            free(st->pool[i]);
        free(st->pool);
        for (int l = 0; l < LAYER_COUNT; l++)
            free(st->layer_text[l]);
        free(st->effective);
        free(st->source);
        od_properties_free(&st->unknown);
        free(st);
    }
    free(c);
}

/* Splits text into a list whose storage the snapshot owns. */
static bool make_list(od_broker_config_state *st, const char *text, od_config_list *out)
{
    char **items;
    long n = od_config_split_list(text ? text : "", &items);
    if (n < 0 || !pool_keep(st, items))
        return false;
    out->items = (const char **)items;
    out->count = (size_t)n;
    return true;
}

static bool store_field(od_broker_config *c, const od_broker_config_entry *e, const char *text)
{
    if (e->field == OD_CONFIG_NO_FIELD)
        return true;
    char *base = (char *)c + e->field;
    od_config_parsed p;
    od_config_parse_scalar(e->type, text, &p);
    switch (e->type) {
    case OD_CONFIG_TYPE_BOOLEAN: *(bool *)base = p.b; break;
    case OD_CONFIG_TYPE_INT: *(int32_t *)base = (int32_t)p.i; break;
    case OD_CONFIG_TYPE_SHORT: *(int16_t *)base = (int16_t)p.i; break;
    case OD_CONFIG_TYPE_LONG: *(int64_t *)base = p.i; break;
    case OD_CONFIG_TYPE_DOUBLE: *(double *)base = p.d; break;
    case OD_CONFIG_TYPE_LIST: return make_list(c->state, text, (od_config_list *)base);
    default: *(const char **)base = text; break; /* already snapshot-owned */
    }
    return true;
}

/* ---- loading ---- */

typedef struct loader {
    od_broker_config *c;
    od_config_diagnostics *diag;
    const char *static_source;
    bool oom;
} loader;

#define ERR(ld, ...)                                                    \
    do {                                                                \
        if (!od_config_messages_add(&(ld)->diag->errors, __VA_ARGS__)) \
            (ld)->oom = true;                                           \
    } while (0)
#define WARN(ld, ...)                                                     \
    do {                                                                  \
        if (!od_config_messages_add(&(ld)->diag->warnings, __VA_ARGS__)) \
            (ld)->oom = true;                                             \
    } while (0)

/* Kafka lets any listener-scoped setting be overridden per listener as
 * listener.name.<listener>.<key>, and SASL settings per mechanism as
 * listener.name.<listener>.<mechanism>.<key>. Returns the entry of <key>,
 * or NULL when name is not such an override. */
static const od_broker_config_entry *listener_override_base(const char *name)
{
    static const char prefix[] = "listener.name.";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return NULL;
    const char *rest = strchr(name + sizeof prefix - 1, '.');
    for (int skip = 0; rest && skip < 2; skip++) {
        const od_broker_config_entry *e = od_broker_config_entry_find(rest + 1);
        if (e)
            return e;
        rest = strchr(rest + 1, '.');
    }
    return NULL;
}

static const char *layer_label(int layer)
{
    return layer == LAYER_DYNAMIC_BROKER ? "dynamic broker config" : "dynamic default broker config";
}

static void read_layer(loader *ld, const od_properties *props, int layer)
{
    od_broker_config_state *st = ld->c->state;
    for (size_t i = 0; props && i < props->count; i++) {
        const od_property *p = &props->items[i];
        char where[512];
        if (layer == LAYER_STATIC)
            snprintf(where, sizeof where, "%s:%d", ld->static_source, p->line);
        else
            snprintf(where, sizeof where, "%s", layer_label(layer));
        const od_broker_config_entry *e = od_broker_config_entry_find(p->key);
        if (!e) {
            const od_broker_config_entry *base = listener_override_base(p->key);
            char err[1024];
            if (base && !od_config_check_value(p->key, base->type, &base->validator, p->value, err, sizeof err)) {
                ERR(ld, "%s: %s", where, err);
                continue;
            }
            if (base)
                WARN(ld, "%s: %s overrides %s for one listener; Odradek does not support per-listener "
                         "overrides yet, so it is ignored", where, p->key, base->name);
            else
                WARN(ld, "%s: unknown configuration '%s' ignored", where, p->key);
            if (layer == LAYER_STATIC && od_properties_set(&st->unknown, p->key, p->value, p->line))
                ld->oom = true;
            continue;
        }
        if (layer != LAYER_STATIC && e->update_mode == OD_UPDATE_READ_ONLY) {
            ERR(ld, "%s: %s cannot be updated dynamically (it is read-only)", where, p->key);
            continue;
        }
        char err[1024];
        if (!od_config_check_value(p->key, e->type, &e->validator, p->value, err, sizeof err)) {
            ERR(ld, "%s: %s", where, err);
            continue;
        }
        if (!(e->flags & OD_CONFIG_HONOURED))
            WARN(ld, "%s: %s is a Kafka setting Odradek does not use; ignored", where, p->key);
        const char *copy = pool_strdup(st, p->value);
        if (!copy)
            ld->oom = true;
        st->layer_text[layer][entry_index(e)] = copy;
    }
}

static size_t idx_of(const char *name)
{
    const od_broker_config_entry *e = od_broker_config_entry_find(name);
    return e ? entry_index(e) : OD_CONFIG_NO_FIELD;
}

/* Kafka treats node.id and broker.id as one setting in KRaft mode: when
 * only one is set the other takes its value (and DescribeConfigs shows both
 * as static). Disagreement is checked later. */
static void mirror_node_id(loader *ld)
{
    const char **s = ld->c->state->layer_text[LAYER_STATIC];
    size_t node = idx_of("node.id"), broker = idx_of("broker.id");
    if (s[node] && !s[broker])
        s[broker] = s[node];
    else if (s[broker] && !s[node])
        s[node] = s[broker];
}

static void pick_effective(loader *ld)
{
    od_broker_config *c = ld->c;
    od_broker_config_state *st = c->state;
    static const struct {
        int layer;
        od_config_source source;
    } order[] = {
        {LAYER_DYNAMIC_BROKER, OD_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG},
        {LAYER_DYNAMIC_DEFAULT, OD_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG},
        {LAYER_STATIC, OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG},
    };
    for (size_t i = 0; i < od_broker_config_table_len; i++) {
        const od_broker_config_entry *e = &od_broker_config_table[i];
        const char *text = e->default_value;
        od_config_source source = OD_CONFIG_SOURCE_DEFAULT_CONFIG;
        for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
            if (st->layer_text[order[k].layer][i]) {
                text = st->layer_text[order[k].layer][i];
                source = order[k].source;
                break;
            }
        }
        st->source[i] = source;
        const char *canonical = NULL;
        if (text) {
            canonical = pool_keep(st, od_config_canonical(e->type, text));
            if (!canonical) {
                ld->oom = true;
                continue;
            }
        }
        st->effective[i] = canonical;
        if (!store_field(c, e, canonical))
            ld->oom = true;
    }
}

static bool is_set(const od_broker_config *c, const char *name)
{
    return c->state->effective[idx_of(name)] != NULL;
}

static bool security_protocol_from_name(const char *s, od_security_protocol *out)
{
    for (int i = 0; security_protocols[i]; i++)
        if (strcmp(security_protocols[i], s) == 0) {
            *out = (od_security_protocol)i;
            return true;
        }
    return false;
}

static char *upper_dup(od_broker_config_state *st, const char *s, size_t n)
{
    char *u = pool_strndup(st, s, n);
    for (char *p = u; p && *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return u;
}

static bool in_list(const char *const *names, const char *s)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return true;
    return false;
}

typedef struct protocol_map {
    const char **names;
    od_security_protocol *protocols;
    size_t count;
} protocol_map;

static bool map_lookup(const protocol_map *m, const char *name, od_security_protocol *out)
{
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(m->names[i], name) == 0) {
            if (out)
                *out = m->protocols[i];
            return true;
        }
    return false;
}

static bool list_contains(const od_config_list *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

/* Builds the effective listener.security.protocol.map. When the key is not
 * set Kafka uses its default and, in KRaft mode, adds NAME:PLAINTEXT for
 * each controller listener name the default lacks. */
static bool build_protocol_map(loader *ld, protocol_map *m)
{
    od_broker_config *c = ld->c;
    od_broker_config_state *st = c->state;
    const od_config_list *cln = &c->resolved.controller_listener_names;
    char **items;
    long n = od_config_split_list(c->listener_security_protocol_map, &items);
    if (n < 0 || !pool_keep(st, items))
        return false;
    size_t cap = (size_t)n + cln->count;
    m->names = pool_keep(st, calloc(cap + 1, sizeof *m->names));
    m->protocols = pool_keep(st, calloc(cap + 1, sizeof *m->protocols));
    if (!m->names || !m->protocols)
        return false;
    m->count = 0;
    for (long i = 0; i < n; i++) {
        const char *colon = strchr(items[i], ':');
        const char *name = upper_dup(st, items[i], (size_t)(colon - items[i]));
        if (!name)
            return false;
        od_security_protocol proto;
        const char *proto_name = upper_dup(st, colon + 1, strlen(colon + 1)); /* Kafka ignores case here */
        if (!proto_name)
            return false;
        if (!security_protocol_from_name(proto_name, &proto)) {
            ERR(ld, "Invalid security protocol `%s` defined in listener.security.protocol.map", colon + 1);
            continue;
        }
        if (map_lookup(m, name, NULL)) {
            ERR(ld, "listener.security.protocol.map: listener name %s is mapped more than once", name);
            continue;
        }
        m->names[m->count] = name;
        m->protocols[m->count++] = proto;
    }
    if (c->state->source[idx_of("listener.security.protocol.map")] != OD_CONFIG_SOURCE_DEFAULT_CONFIG)
        return true;
    /* Kafka adds the PLAINTEXT mappings only while nothing named SSL or
     * SASL_* is in use, compared as written (not upper-cased). */
    static const char *const secured[] = {"SSL", "SASL_PLAINTEXT", "SASL_SSL", NULL};
    for (size_t i = 0; i < cln->count; i++)
        if (in_list(secured, cln->items[i]))
            return true;
    char **listeners;
    long nl = od_config_split_list(c->listeners, &listeners);
    if (nl < 0 || !pool_keep(st, listeners))
        return false;
    for (long i = 0; i < nl; i++) {
        char *sep = strstr(listeners[i], "://");
        if (sep)
            *sep = '\0';
        if (in_list(secured, listeners[i]))
            return true;
    }
    for (size_t i = 0; i < cln->count; i++) {
        if (strcmp(cln->items[i], "PLAINTEXT") != 0 && !map_lookup(m, cln->items[i], NULL)) {
            m->names[m->count] = cln->items[i];
            m->protocols[m->count++] = OD_SECURITY_PLAINTEXT;
        }
    }
    return true;
}

/* Parses a listeners-style value. key names the setting in messages. */
static bool parse_listeners(loader *ld, const char *key, const char *text, const protocol_map *m,
                            od_listener **out, size_t *out_count)
{
    od_broker_config_state *st = ld->c->state;
    char **items;
    long n = od_config_split_list(text ? text : "", &items);
    if (n < 0 || !pool_keep(st, items))
        return false;
    od_listener *ls = pool_keep(st, calloc((size_t)n + 1, sizeof *ls));
    if (!ls)
        return false;
    size_t count = 0;
    for (long i = 0; i < n; i++) {
        const char *s = items[i];
        const char *sep = strstr(s, "://");
        if (!sep)
            continue; /* the value validator has already reported it */
        size_t off = (size_t)(sep - s) + 3, ho, hl;
        int port;
        if (!parse_host_port(s + off, strlen(s + off), &ho, &hl, &port))
            continue; /* the value validator has already reported it */
        od_listener l = {0};
        l.name = upper_dup(st, s, (size_t)(sep - s));
        l.host = pool_strndup(st, s + off + ho, hl);
        if (!l.name || !l.host)
            return false;
        l.port = port;
        if (!map_lookup(m, l.name, &l.protocol))
            ERR(ld, "%s: no security protocol defined for listener %s; add it to listener.security.protocol.map",
                key, l.name);
        for (size_t k = 0; k < count; k++) {
            if (strcmp(ls[k].name, l.name) == 0)
                ERR(ld, "%s: each listener must have a different name, but %s appears twice (%s)", key,
                    l.name, text);
            else if (ls[k].port == l.port && l.port != 0 && strcmp(key, "listeners") == 0)
                ERR(ld, "%s: each listener must have a different port, but %d appears twice (%s)", key,
                    l.port, text);
        }
        ls[count++] = l;
    }
    *out = ls;
    *out_count = count;
    return true;
}

static bool has_listener(const od_listener *ls, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ls[i].name, name) == 0)
            return true;
    return false;
}

static void resolve_roles_and_ids(loader *ld)
{
    od_broker_config *c = ld->c;
    const od_config_list *roles = &c->process_roles;
    for (size_t i = 0; i < roles->count; i++) {
        bool broker = strcmp(roles->items[i], "broker") == 0;
        if ((broker && c->resolved.is_broker) || (!broker && c->resolved.is_controller))
            ERR(ld, "Duplicate role names found in `process.roles`: %s", roles->items[i]);
        if (broker)
            c->resolved.is_broker = true;
        else
            c->resolved.is_controller = true;
    }
    if (roles->count == 0)
        ERR(ld, "process.roles must be set to broker, controller or broker,controller: Odradek runs only "
                "in KRaft mode (without it Kafka would start in ZooKeeper mode)");

    c->resolved.node_id = c->node_id;
    if (c->node_id != c->broker_id)
        ERR(ld, "You must set `node.id` to the same value as `broker.id` (node.id=%" PRId32
                ", broker.id=%" PRId32 ")", c->node_id, c->broker_id);
    if (roles->count > 0 && c->node_id < 0)
        ERR(ld, "Missing configuration `node.id` which is required when `process.roles` is defined "
                "(i.e. when running in KRaft mode)");
}

static bool resolve_quorum(loader *ld)
{
    od_broker_config *c = ld->c;
    od_broker_config_state *st = c->state;
    const od_config_list *v = &c->controller_quorum_voters;
    if (c->process_roles.count > 0 && v->count == 0 && c->controller_quorum_bootstrap_servers.count == 0)
        ERR(ld, "If using process.roles, either controller.quorum.bootstrap.servers must contain the set "
                "of bootstrap controllers or controller.quorum.voters must contain a parseable set of "
                "controllers");
    od_quorum_voter *voters = pool_keep(st, calloc(v->count + 1, sizeof *voters));
    if (!voters)
        return false;
    size_t n = 0;
    bool self = false;
    for (size_t i = 0; i < v->count; i++) {
        const char *s = v->items[i];
        const char *at = strchr(s, '@');
        size_t ho, hl;
        int port;
        if (!at || !parse_host_port(at + 1, strlen(at + 1), &ho, &hl, &port))
            continue; /* reported by the value validator */
        od_quorum_voter q = {(int32_t)strtol(s, NULL, 10), pool_strndup(st, at + 1 + ho, hl), port};
        if (!q.host)
            return false;
        self |= q.id == c->resolved.node_id;
        voters[n++] = q;
    }
    c->resolved.voters = voters;
    c->resolved.voter_count = n;
    if (c->resolved.is_broker && !c->resolved.is_controller && self)
        ERR(ld, "If process.roles contains just the 'broker' role, the node id %" PRId32
                " must not be included in the set of voters controller.quorum.voters=%s",
            c->resolved.node_id, od_broker_config_value(c, "controller.quorum.voters"));
    if (c->resolved.is_controller && n > 0 && !self && c->resolved.node_id >= 0)
        ERR(ld, "If process.roles contains the 'controller' role, the node id %" PRId32
                " must be included in the set of voters controller.quorum.voters=%s",
            c->resolved.node_id, od_broker_config_value(c, "controller.quorum.voters"));
    return true;
}

static bool resolve_listeners(loader *ld)
{
    od_broker_config *c = ld->c;
    od_broker_config_state *st = c->state;
    /* Kafka upper-cases the names in listeners, advertised.listeners,
     * inter.broker.listener.name and the protocol map, but compares
     * controller.listener.names as written: "controller" does not match a
     * listener written "controller://". */
    char **items;
    long n = od_config_split_list(c->controller_listener_names ? c->controller_listener_names : "", &items);
    if (n < 0 || !pool_keep(st, items))
        return false;
    c->resolved.controller_listener_names = (od_config_list){(const char **)items, (size_t)n};
    const od_config_list *cln = &c->resolved.controller_listener_names;

    protocol_map m;
    if (!build_protocol_map(ld, &m))
        return false;
    if (!parse_listeners(ld, "listeners", c->listeners, &m, &c->resolved.listeners, &c->resolved.listener_count))
        return false;
    const od_listener *ls = c->resolved.listeners;
    size_t nl = c->resolved.listener_count;

    size_t in_listeners = 0;
    for (size_t i = 0; i < cln->count; i++)
        in_listeners += has_listener(ls, nl, cln->items[i]);
    if (c->resolved.is_controller) {
        if (in_listeners == 0)
            ERR(ld, "controller.listener.names must contain at least one value appearing in the "
                    "'listeners' configuration when running the KRaft controller role");
        else if (in_listeners < cln->count)
            ERR(ld, "controller.listener.names must only contain values appearing in the 'listeners' "
                    "configuration when running the KRaft controller role");
        if (!c->resolved.is_broker)
            for (size_t i = 0; i < nl; i++)
                if (!list_contains(cln, ls[i].name))
                    ERR(ld, "The listeners config must only contain KRaft controller listeners from "
                            "controller.listener.names when process.roles=controller (%s is not one)",
                        ls[i].name);
    } else if (c->resolved.is_broker) {
        if (cln->count == 0)
            ERR(ld, "controller.listener.names must contain at least one value when running KRaft with "
                    "just the broker role");
        else if (in_listeners > 0)
            ERR(ld, "controller.listener.names must not contain a value appearing in the 'listeners' "
                    "configuration when running KRaft with just the broker role");
    }
    for (size_t i = 0; i < cln->count; i++) {
        const char *upper = upper_dup(st, cln->items[i], strlen(cln->items[i]));
        if (!upper)
            return false;
        if (!map_lookup(&m, upper, NULL))
            ERR(ld, "Controller listener with name %s defined in controller.listener.names not found in "
                    "listener.security.protocol.map",
                cln->items[i]);
    }

    /* advertised.listeners: explicit, or listeners minus controller ones. */
    if (is_set(c, "advertised.listeners")) {
        if (!parse_listeners(ld, "advertised.listeners", c->advertised_listeners, &m,
                             &c->resolved.advertised_listeners, &c->resolved.advertised_listener_count))
            return false;
        for (size_t i = 0; i < c->resolved.advertised_listener_count; i++) {
            const od_listener *a = &c->resolved.advertised_listeners[i];
            if (strcmp(a->host, "0.0.0.0") == 0)
                ERR(ld, "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a "
                        "routable IP address (listener %s)", a->name);
            if (c->resolved.is_broker && !list_contains(cln, a->name) && !has_listener(ls, nl, a->name))
                ERR(ld, "advertised.listeners listener names must be equal to or a subset of the ones "
                        "defined in listeners (%s is not in listeners)", a->name);
        }
        /* Clients and brokers are never sent to a controller listener, even
         * when advertised.listeners names one, as in Kafka. */
        size_t kept = 0;
        for (size_t i = 0; i < c->resolved.advertised_listener_count; i++)
            if (!list_contains(cln, c->resolved.advertised_listeners[i].name))
                c->resolved.advertised_listeners[kept++] = c->resolved.advertised_listeners[i];
        c->resolved.advertised_listener_count = kept;
    } else {
        od_listener *adv = pool_keep(st, calloc(nl + 1, sizeof *adv));
        if (!adv)
            return false;
        size_t k = 0;
        for (size_t i = 0; i < nl; i++)
            if (!list_contains(cln, ls[i].name))
                adv[k++] = ls[i];
        c->resolved.advertised_listeners = adv;
        c->resolved.advertised_listener_count = k;
    }

    /* inter.broker.listener.name, or the listener named after
     * security.inter.broker.protocol. */
    bool ibl_set = is_set(c, "inter.broker.listener.name");
    bool sibp_set = st->source[idx_of("security.inter.broker.protocol")] != OD_CONFIG_SOURCE_DEFAULT_CONFIG;
    if (ibl_set && sibp_set)
        ERR(ld, "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.");
    const char *ibl = ibl_set ? upper_dup(st, c->inter_broker_listener_name, strlen(c->inter_broker_listener_name))
                              : c->security_inter_broker_protocol;
    if (!ibl)
        return false;
    c->resolved.inter_broker_listener_name = ibl;
    if (c->resolved.is_broker) {
        if (ibl_set && !map_lookup(&m, ibl, NULL))
            ERR(ld, "Listener with name %s defined in inter.broker.listener.name not found in "
                    "listener.security.protocol.map.", ibl);
        else if (list_contains(cln, ibl))
            ERR(ld, "inter.broker.listener.name must not be a controller listener (%s is in "
                    "controller.listener.names)", ibl);
        else if (!has_listener(c->resolved.advertised_listeners, c->resolved.advertised_listener_count, ibl))
            ERR(ld, "inter.broker.listener.name must be a listener name defined in advertised.listeners "
                    "(%s is not; set inter.broker.listener.name or security.inter.broker.protocol)", ibl);
    }
    return true;
}

static void resolve_log_settings(loader *ld)
{
    od_broker_config *c = ld->c;
    const int64_t minute = 60 * 1000, hour = 60 * minute;
    const char *retention_key = "log.retention.hours";
    int64_t retention = c->log_retention_hours * hour;
    if (is_set(c, "log.retention.ms")) {
        retention = c->log_retention_ms;
        retention_key = "log.retention.ms";
    } else if (is_set(c, "log.retention.minutes")) {
        retention = c->log_retention_minutes * minute;
        retention_key = "log.retention.minutes";
    }
    if (retention < 0)
        retention = -1;
    if (retention == 0)
        ERR(ld, "%s must be unlimited (-1) or, greater than or equal to 1", retention_key);
    c->resolved.log_retention_ms = retention;
    c->resolved.log_roll_ms = is_set(c, "log.roll.ms") ? c->log_roll_ms : c->log_roll_hours * hour;
    c->resolved.log_roll_jitter_ms =
        is_set(c, "log.roll.jitter.ms") ? c->log_roll_jitter_ms : c->log_roll_jitter_hours * hour;
    c->resolved.log_flush_interval_ms =
        is_set(c, "log.flush.interval.ms") ? c->log_flush_interval_ms : c->log_flush_scheduler_interval_ms;

    const char *dirs_key = is_set(c, "log.dirs") ? "log.dirs" : "log.dir";
    const char *dirs = is_set(c, "log.dirs") ? c->log_dirs : c->log_dir;
    if (!make_list(c->state, dirs, &c->resolved.log_dirs)) {
        ld->oom = true;
        return;
    }
    if (c->resolved.log_dirs.count == 0)
        ERR(ld, "%s must name at least one directory", dirs_key);
    for (size_t i = 0; i < c->resolved.log_dirs.count; i++)
        if (c->resolved.log_dirs.items[i][0] == '\0')
            ERR(ld, "%s contains an empty directory name (%s)", dirs_key, dirs);
    /* The deprecated log.message.timestamp.difference.max.ms still bounds
     * both directions while before/after are left at their default. */
    int64_t before = c->log_message_timestamp_before_max_ms, after = c->log_message_timestamp_after_max_ms;
    const int64_t derived[OD_DERIVED_LOG_KEYS] = {
        c->resolved.log_retention_ms, c->resolved.log_roll_ms, c->resolved.log_roll_jitter_ms,
        c->resolved.log_flush_interval_ms,
        before != INT64_MAX ? before : c->log_message_timestamp_difference_max_ms,
        after != INT64_MAX ? after : c->log_message_timestamp_difference_max_ms};
    for (size_t k = 0; k < OD_DERIVED_LOG_KEYS; k++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRId64, derived[k]);
        if (!(c->state->derived_text[k] = pool_strdup(c->state, buf)))
            ld->oom = true;
    }
    c->resolved.metadata_log_dir = c->metadata_log_dir ? c->metadata_log_dir
                                   : c->resolved.log_dirs.count ? c->resolved.log_dirs.items[0]
                                                                : NULL;
}

static void check_bounds(loader *ld, const char *key, int64_t v, const char *min_key, int64_t min,
                         const char *max_key, int64_t max)
{
    if (v < min)
        ERR(ld, "%s must be greater than or equals to %s", key, min_key);
    if (v > max)
        ERR(ld, "%s must be less than or equals to %s", key, max_key);
}

static void check_groups_and_security(loader *ld)
{
    od_broker_config *c = ld->c;
    check_bounds(ld, "group.consumer.heartbeat.interval.ms", c->group_consumer_heartbeat_interval_ms,
                 "group.consumer.min.heartbeat.interval.ms", c->group_consumer_min_heartbeat_interval_ms,
                 "group.consumer.max.heartbeat.interval.ms", c->group_consumer_max_heartbeat_interval_ms);
    check_bounds(ld, "group.consumer.session.timeout.ms", c->group_consumer_session_timeout_ms,
                 "group.consumer.min.session.timeout.ms", c->group_consumer_min_session_timeout_ms,
                 "group.consumer.max.session.timeout.ms", c->group_consumer_max_session_timeout_ms);
    /* Kafka accepts group.min.session.timeout.ms > max and a heartbeat
     * equal to the session timeout, so a working Kafka file is not refused
     * here for them either. */
    if (!list_contains(&c->group_coordinator_rebalance_protocols, "classic"))
        ERR(ld, "group.coordinator.rebalance.protocols: Disabling the 'classic' protocol is not supported.");
    if (c->log_cleaner_dedupe_buffer_size < (int64_t)c->log_cleaner_threads * 1024 * 1024)
        ERR(ld, "log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread (log.cleaner.threads=%" PRId32 ")",
            c->log_cleaner_threads);
    /* Kafka's metadata log refuses to start on smaller segments (the floor is
     * internal, lowered only by tests). */
    if (c->metadata_log_segment_bytes < c->metadata_log_segment_min_bytes)
        ERR(ld, "metadata.log.segment.bytes (%" PRId32 ") must not be below metadata.log.segment.min.bytes (%" PRId32 ")",
            c->metadata_log_segment_bytes, c->metadata_log_segment_min_bytes);

    /* SASL between brokers needs its mechanism enabled. */
    od_security_protocol p = OD_SECURITY_PLAINTEXT;
    for (size_t i = 0; i < c->resolved.listener_count; i++)
        if (strcmp(c->resolved.listeners[i].name, c->resolved.inter_broker_listener_name) == 0)
            p = c->resolved.listeners[i].protocol;
    if (c->resolved.is_broker && (p == OD_SECURITY_SASL_PLAINTEXT || p == OD_SECURITY_SASL_SSL) &&
        !list_contains(&c->sasl_enabled_mechanisms, c->sasl_mechanism_inter_broker_protocol))
        ERR(ld, "sasl.mechanism.inter.broker.protocol must be included in sasl.enabled.mechanisms when "
                "SASL is used for inter-broker communication (%s is not)",
            c->sasl_mechanism_inter_broker_protocol);
}

od_config_status od_broker_config_load(const od_broker_config_layers *layers, od_broker_config **out,
                                       od_config_diagnostics *diag)
{
    *out = NULL;
    od_broker_config *c = calloc(1, sizeof *c);
    od_broker_config_state *st = calloc(1, sizeof *st);
    if (!c || !st) {
        free(c);
        free(st);
        return OD_CONFIG_ERR_NOMEM;
    }
    c->state = st;
    size_t n = od_broker_config_table_len;
    bool oom = false;
    for (int l = 0; l < LAYER_COUNT; l++)
        oom |= !(st->layer_text[l] = calloc(n, sizeof(char *)));
    oom |= !(st->effective = calloc(n, sizeof(char *)));
    oom |= !(st->source = calloc(n, sizeof *st->source));
    if (oom) {
        od_broker_config_free(c);
        return OD_CONFIG_ERR_NOMEM;
    }
    size_t errors_before = diag->errors.count;
    loader ld = {c, diag, layers->static_source ? layers->static_source : "server.properties", false};
    read_layer(&ld, layers->static_props, LAYER_STATIC);
    read_layer(&ld, layers->dynamic_default, LAYER_DYNAMIC_DEFAULT);
    read_layer(&ld, layers->dynamic_broker, LAYER_DYNAMIC_BROKER);
    mirror_node_id(&ld);
    pick_effective(&ld);
    /* Cross-key rules run only on values that parsed, so one bad value
     * yields one message rather than a cascade. */
    if (!ld.oom && diag->errors.count == errors_before) {
        resolve_roles_and_ids(&ld);
        if (!resolve_quorum(&ld) || !resolve_listeners(&ld))
            ld.oom = true;
        resolve_log_settings(&ld);
        if (!ld.oom)
            check_groups_and_security(&ld);
    }
    if (ld.oom) {
        od_broker_config_free(c);
        return OD_CONFIG_ERR_NOMEM;
    }
    if (diag->errors.count != errors_before) {
        od_broker_config_free(c);
        return OD_CONFIG_ERR_INVALID;
    }
    *out = c;
    return OD_CONFIG_OK;
}

od_config_status od_broker_config_static_layer(const od_broker_config *c, od_properties *out)
{
    const od_broker_config_state *st = c->state;
    for (size_t i = 0; i < od_broker_config_table_len; i++) {
        const char *text = st->layer_text[LAYER_STATIC][i];
        if (text != NULL && od_properties_set(out, od_broker_config_table[i].name, text, 0) != OD_CONFIG_OK)
            return OD_CONFIG_ERR_NOMEM;
    }
    for (size_t i = 0; i < st->unknown.count; i++)
        if (od_properties_set(out, st->unknown.items[i].key, st->unknown.items[i].value, 0) != OD_CONFIG_OK)
            return OD_CONFIG_ERR_NOMEM;
    return OD_CONFIG_OK;
}

od_config_status od_broker_config_load_file(const char *path, od_broker_config **out,
                                            od_config_diagnostics *diag)
{
    *out = NULL;
    od_properties props = {0};
    char err[1024];
    od_config_status st = od_properties_load_file(&props, path, err, sizeof err);
    if (st != OD_CONFIG_OK) {
        if (!od_config_messages_add(&diag->errors, "%s", err))
            return OD_CONFIG_ERR_NOMEM;
        return st;
    }
    od_broker_config_layers layers = {.static_props = &props, .static_source = path};
    st = od_broker_config_load(&layers, out, diag);
    od_properties_free(&props);
    return st;
}

/* ---- queries ---- */

od_config_source od_broker_config_source(const od_broker_config *c, const char *name)
{
    size_t i = idx_of(name);
    return i == OD_CONFIG_NO_FIELD ? OD_CONFIG_SOURCE_UNKNOWN : c->state->source[i];
}

const char *od_broker_config_value(const od_broker_config *c, const char *name)
{
    size_t i = idx_of(name);
    return i == OD_CONFIG_NO_FIELD ? NULL : c->state->effective[i];
}

const char *od_broker_config_layer_value(const od_broker_config *c, const char *name, od_config_source layer)
{
    size_t i = idx_of(name);
    if (i == OD_CONFIG_NO_FIELD)
        return layer == OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG ? od_properties_get(&c->state->unknown, name) : NULL;
    switch (layer) {
    case OD_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG: return c->state->layer_text[LAYER_DYNAMIC_BROKER][i];
    case OD_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG: return c->state->layer_text[LAYER_DYNAMIC_DEFAULT][i];
    case OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG: return c->state->layer_text[LAYER_STATIC][i];
    case OD_CONFIG_SOURCE_DEFAULT_CONFIG: return od_broker_config_table[i].default_value;
    default: return NULL;
    }
}

const char *od_broker_config_log_default(const od_broker_config *c, const char *broker_key)
{
    for (size_t k = 0; k < OD_DERIVED_LOG_KEYS; k++)
        if (strcmp(broker_key, derived_log_keys[k]) == 0)
            return c->state->derived_text[k];
    return od_broker_config_value(c, broker_key);
}

void od_config_description_free(od_config_description *d)
{
    for (size_t i = 0; i < d->owned_count; i++)
        free(d->owned[i]);
    memset(d, 0, sizeof *d);
}

static const char *desc_keep(od_config_description *d, char *s)
{
    if (!s || d->owned_count == sizeof d->owned / sizeof d->owned[0]) {
        free(s);
        return NULL;
    }
    d->owned[d->owned_count++] = s;
    return s;
}

/* Kafka's list of broker keys that share one value, primary first. */
static size_t broker_synonym_names(const char *name, const char **out)
{
    static const char *const chains[][3] = {
        {"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
        {"log.retention.minutes", "log.retention.hours", NULL},
        {"log.roll.ms", "log.roll.hours", NULL},
        {"log.roll.jitter.ms", "log.roll.jitter.hours", NULL},
        {"log.flush.interval.ms", "log.flush.scheduler.interval.ms", NULL},
    };
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        if (strcmp(chains[i][0], name) != 0)
            continue;
        size_t n = 0;
        while (n < 3 && chains[i][n]) {
            out[n] = chains[i][n];
            n++;
        }
        return n;
    }
    out[0] = name;
    return 1;
}

void od_broker_config_append_synonyms(const od_broker_config *c, const char *const *names, size_t n,
                                      bool sensitive, od_config_description *out)
{
    static const od_config_source layers[] = {
        OD_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG, OD_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG,
        OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG, OD_CONFIG_SOURCE_DEFAULT_CONFIG};
    bool seen_primary = false;
    for (size_t l = 0; l < 4; l++) {
        for (size_t k = 0; k < n; k++) {
            const char *v = od_broker_config_layer_value(c, names[k], layers[l]);
            if (!v)
                continue;
            /* Kafka drops the entries before the first one naming the
             * primary key; a derived key's value therefore never shows
             * synonyms when the primary is unset. */
            if (!seen_primary && strcmp(names[k], names[0]) != 0)
                continue;
            seen_primary = true;
            if (out->synonym_count == OD_CONFIG_MAX_SYNONYMS)
                return;
            out->synonyms[out->synonym_count++] =
                (od_config_synonym){names[k], sensitive ? NULL : v, layers[l]};
        }
    }
}

static bool is_describable(const od_broker_config_entry *e, const od_broker_config *c)
{
    return !(e->flags & (OD_CONFIG_OUTSIDE_KAFKA_DEF | OD_CONFIG_INTERNAL)) ||
           c->state->source[entry_index(e)] != OD_CONFIG_SOURCE_DEFAULT_CONFIG;
}

od_config_status od_broker_config_describe(const od_broker_config *c, const char *name,
                                           bool include_synonyms, od_config_description *out)
{
    memset(out, 0, sizeof *out);
    const od_broker_config_entry *e = od_broker_config_entry_find(name);
    if (!e || (e->flags & OD_CONFIG_OUTSIDE_KAFKA_DEF)) {
        /* Kafka describes raw keys outside its ConfigDef with an unknown
         * type, and treats an unknown type as sensitive to be safe. */
        const od_property *p = od_properties_find(&c->state->unknown, name);
        bool outside = e && is_describable(e, c);
        if (!p && !outside)
            return OD_CONFIG_ERR_UNKNOWN_KEY;
        out->name = e ? e->name : p->key;
        out->read_only = true;
        const od_broker_config_entry *base = e ? NULL : listener_override_base(name);
        if (base) {
            /* A listener override takes its base key's type, and the base
             * key's values follow it as synonyms. */
            out->type = base->type;
            out->sensitive = base->type == OD_CONFIG_TYPE_PASSWORD;
            if (!out->sensitive && !(out->value = desc_keep(out, strdup(p->value))))
                return OD_CONFIG_ERR_NOMEM;
            const char *names[2] = {out->name, base->name};
            od_broker_config_append_synonyms(c, names, 2, out->sensitive, out);
            out->source = OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG;
            if (!include_synonyms)
                out->synonym_count = 0;
            return OD_CONFIG_OK;
        }
        out->type = OD_CONFIG_TYPE_UNKNOWN;
        out->sensitive = true;
        out->source = outside ? c->state->source[entry_index(e)] : OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG;
        if (include_synonyms)
            out->synonyms[out->synonym_count++] = (od_config_synonym){out->name, NULL, out->source};
        return OD_CONFIG_OK;
    }
    if (!is_describable(e, c))
        return OD_CONFIG_ERR_UNKNOWN_KEY;
    out->name = e->name;
    out->type = e->type;
    out->sensitive = e->type == OD_CONFIG_TYPE_PASSWORD;
    out->read_only = e->update_mode == OD_UPDATE_READ_ONLY;
    const char *v = c->state->effective[entry_index(e)];
    if (e->flags & OD_CONFIG_INTERNAL) /* Kafka shows a set internal key as written */
        v = od_broker_config_layer_value(c, e->name, c->state->source[entry_index(e)]);
    out->value = out->sensitive || !v ? NULL : desc_keep(out, strdup(v));
    if (!out->sensitive && v && !out->value)
        return OD_CONFIG_ERR_NOMEM;
    const char *names[3];
    size_t n = broker_synonym_names(e->name, names);
    od_broker_config_append_synonyms(c, names, n, out->sensitive, out);
    out->source = out->synonym_count ? out->synonyms[0].source : OD_CONFIG_SOURCE_DEFAULT_CONFIG;
    if (!include_synonyms)
        out->synonym_count = 0;
    return OD_CONFIG_OK;
}

size_t od_broker_config_describable_names(const od_broker_config *c, const char **names, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < od_broker_config_table_len; i++) {
        if (!is_describable(&od_broker_config_table[i], c))
            continue;
        if (n < cap)
            names[n] = od_broker_config_table[i].name;
        n++;
    }
    for (size_t i = 0; i < c->state->unknown.count; i++) {
        if (n < cap)
            names[n] = c->state->unknown.items[i].key;
        n++;
    }
    return n;
}
