/*
 * The broker config table, Kafka's precedence and start-up rules, and the
 * broker side of DescribeConfigs compared with Kafka 3.9.2's answers.
 */
#include "broker_config.h"
#include "config_test_util.h"
#include "od_test.h"

static void table_is_sorted_and_self_consistent(void)
{
    size_t in_kafka_def = 0;
    for (size_t i = 0; i < od_broker_config_table_len; i++) {
        const od_broker_config_entry *e = &od_broker_config_table[i];
        if (i > 0)
            CHECKF(strcmp(od_broker_config_table[i - 1].name, e->name) < 0, "order at %s", e->name);
        CHECKF(od_broker_config_entry_find(e->name) == e, "lookup %s", e->name);
        char err[512];
        if (e->default_value)
            CHECKF(od_config_check_value(e->name, e->type, &e->validator, e->default_value, err, sizeof err),
                   "default of %s fails its own rule: %s", e->name, err);
        bool honoured = e->flags & OD_CONFIG_HONOURED;
        CHECKF(honoured == (e->field != OD_CONFIG_NO_FIELD), "%s: honoured keys and only they have fields",
               e->name);
        in_kafka_def += !(e->flags & OD_CONFIG_OUTSIDE_KAFKA_DEF);
    }
    CHECK_EQ_INT(in_kafka_def, 329); /* KafkaConfig.configDef() of 3.9.2 */
    CHECK(od_broker_config_entry_find("no.such.key") == NULL);
}

static void shipped_kraft_file_loads_cleanly(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    od_config_status st = od_broker_config_load_file("fixtures/kraft_server.properties", &c, &d);
    dump_messages("error", &d.errors);
    dump_messages("warning", &d.warnings);
    REQUIRE(st == OD_CONFIG_OK);
    CHECK_EQ_INT(d.errors.count, 0);
    CHECK_EQ_INT(d.warnings.count, 0);
    CHECK(c->resolved.is_broker && c->resolved.is_controller);
    CHECK_EQ_INT(c->resolved.node_id, 1);
    CHECK_EQ_INT(c->broker_id, 1);
    REQUIRE(c->resolved.listener_count == 2);
    CHECK(strcmp(c->resolved.listeners[0].name, "PLAINTEXT") == 0);
    CHECK(strcmp(c->resolved.listeners[0].host, "") == 0);
    CHECK_EQ_INT(c->resolved.listeners[0].port, 9092);
    CHECK_EQ_INT(c->resolved.listeners[1].port, 9093);
    REQUIRE(c->resolved.advertised_listener_count == 1);
    CHECK(strcmp(c->resolved.advertised_listeners[0].host, "localhost") == 0);
    CHECK(strcmp(c->resolved.inter_broker_listener_name, "PLAINTEXT") == 0);
    REQUIRE(c->resolved.voter_count == 1);
    CHECK_EQ_INT(c->resolved.voters[0].id, 1);
    CHECK(strcmp(c->resolved.voters[0].host, "localhost") == 0);
    CHECK_EQ_INT(c->resolved.voters[0].port, 9093);
    REQUIRE(c->resolved.log_dirs.count == 1);
    CHECK(strcmp(c->resolved.log_dirs.items[0], "/tmp/kraft-combined-logs") == 0);
    CHECK(strcmp(c->resolved.metadata_log_dir, "/tmp/kraft-combined-logs") == 0);
    CHECK_EQ_INT(c->resolved.log_retention_ms, 168LL * 3600 * 1000);
    CHECK_EQ_INT(c->offsets_topic_replication_factor, 1);
    CHECK_EQ_INT(c->transaction_state_log_min_isr, 1);
    CHECK_EQ_INT(c->socket_request_max_bytes, 104857600);
    CHECK_EQ_INT(od_broker_config_source(c, "num.io.threads"), OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG);
    CHECK_EQ_INT(od_broker_config_source(c, "message.max.bytes"), OD_CONFIG_SOURCE_DEFAULT_CONFIG);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

static void kafka_defaults(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK(KRAFT_BASE, &c, &d);
    CHECK_EQ_INT(c->num_partitions, 1);
    CHECK_EQ_INT(c->default_replication_factor, 1);
    CHECK_EQ_INT(c->min_insync_replicas, 1);
    CHECK(c->auto_create_topics_enable && c->delete_topic_enable);
    CHECK_EQ_INT(c->message_max_bytes, 1048588);
    CHECK_EQ_INT(c->replica_fetch_max_bytes, 1048576);
    CHECK_EQ_INT(c->log_segment_bytes, 1073741824);
    CHECK_EQ_INT(c->log_retention_bytes, -1);
    CHECK_EQ_INT(c->log_retention_check_interval_ms, 300000);
    CHECK_EQ_INT(c->log_segment_delete_delay_ms, 60000);
    CHECK_EQ_INT(c->resolved.log_roll_ms, 168LL * 3600 * 1000);
    CHECK_EQ_INT(c->resolved.log_roll_jitter_ms, 0);
    CHECK_EQ_INT(c->resolved.log_flush_interval_ms, INT64_MAX);
    CHECK_EQ_INT(c->log_flush_interval_messages, INT64_MAX);
    CHECK_EQ_INT(c->log_flush_offset_checkpoint_interval_ms, 60000);
    CHECK(c->log_cleaner_enable);
    CHECK_EQ_INT(c->log_cleaner_threads, 1);
    CHECK(c->log_cleaner_min_cleanable_ratio == 0.5);
    CHECK_EQ_INT(c->log_cleaner_dedupe_buffer_size, 134217728);
    CHECK_EQ_INT(c->log_cleaner_io_buffer_size, 524288);
    CHECK_EQ_INT(c->log_cleaner_backoff_ms, 15000);
    CHECK_EQ_INT(c->log_cleaner_delete_retention_ms, 86400000);
    CHECK_EQ_INT(c->log_index_size_max_bytes, 10485760);
    CHECK_EQ_INT(c->log_index_interval_bytes, 4096);
    CHECK(strcmp(c->log_message_timestamp_type, "CreateTime") == 0);
    CHECK(strcmp(c->compression_type, "producer") == 0);
    CHECK_EQ_INT(c->offsets_topic_num_partitions, 50);
    CHECK_EQ_INT(c->offsets_topic_replication_factor, 3);
    CHECK_EQ_INT(c->offsets_topic_segment_bytes, 104857600);
    CHECK_EQ_INT(c->offsets_retention_minutes, 10080);
    CHECK_EQ_INT(c->transaction_state_log_min_isr, 2);
    CHECK_EQ_INT(c->transaction_max_timeout_ms, 900000);
    CHECK_EQ_INT(c->transactional_id_expiration_ms, 604800000);
    CHECK_EQ_INT(c->producer_id_expiration_ms, 86400000);
    CHECK_EQ_INT(c->group_initial_rebalance_delay_ms, 3000);
    CHECK_EQ_INT(c->group_min_session_timeout_ms, 6000);
    CHECK_EQ_INT(c->group_max_session_timeout_ms, 1800000);
    CHECK_EQ_INT(c->group_consumer_session_timeout_ms, 45000);
    CHECK_EQ_INT(c->group_consumer_heartbeat_interval_ms, 5000);
    REQUIRE(c->group_consumer_assignors.count == 2);
    CHECK(strcmp(c->group_consumer_assignors.items[0], "org.apache.kafka.coordinator.group.assignor.UniformAssignor") == 0);
    REQUIRE(c->group_coordinator_rebalance_protocols.count == 1);
    CHECK(strcmp(c->group_coordinator_rebalance_protocols.items[0], "classic") == 0);
    REQUIRE(c->sasl_enabled_mechanisms.count == 1);
    CHECK(strcmp(c->sasl_enabled_mechanisms.items[0], "GSSAPI") == 0);
    CHECK(strcmp(c->ssl_client_auth, "none") == 0);
    CHECK(strcmp(c->ssl_keystore_type, "JKS") == 0);
    CHECK_EQ_INT(c->request_timeout_ms, 30000);
    CHECK_EQ_INT(c->connections_max_idle_ms, 600000);
    CHECK_EQ_INT(c->queued_max_requests, 500);
    CHECK_EQ_INT(c->max_connections, INT32_MAX);
    CHECK_EQ_INT(c->metadata_max_retention_ms, 604800000);
    CHECK(!c->unclean_leader_election_enable);
    CHECK(!c->allow_everyone_if_no_acl_found);
    CHECK(c->super_users == NULL && c->broker_rack == NULL);
    CHECK(strcmp(c->resolved.inter_broker_listener_name, "PLAINTEXT") == 0);
    /* advertised.listeners defaults to listeners minus the controller's. */
    REQUIRE(c->resolved.advertised_listener_count == 1);
    CHECK(strcmp(c->resolved.advertised_listeners[0].name, "PLAINTEXT") == 0);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

static int64_t retention_for(const char *extra)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", KRAFT_BASE, extra);
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    int64_t v = INT64_MIN;
    if (load_text(text, &c, &d) == OD_CONFIG_OK)
        v = c->resolved.log_retention_ms;
    dump_messages("error", &d.errors);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
    return v;
}

static void retention_precedence(void)
{
    CHECK_EQ_INT(retention_for(""), 604800000);
    CHECK_EQ_INT(retention_for("log.retention.hours=2\n"), 7200000);
    CHECK_EQ_INT(retention_for("log.retention.hours=2\nlog.retention.minutes=3\n"), 180000);
    CHECK_EQ_INT(retention_for("log.retention.hours=2\nlog.retention.minutes=3\nlog.retention.ms=4\n"), 4);
    CHECK_EQ_INT(retention_for("log.retention.ms=-1\n"), -1);
    CHECK_EQ_INT(retention_for("log.retention.hours=-5\n"), -1); /* any negative is unlimited */
    CHECK_EQ_INT(retention_for("log.retention.ms=-2\n"), -1);
}

static void roll_flush_and_dirs_precedence(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK("process.roles=broker,controller\nnode.id=1\n"
                      "controller.quorum.voters=1@localhost:9093\n"
                      "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n"
                      "log.dir=/data/one\n"
                      "log.roll.hours=2\nlog.roll.jitter.hours=1\nlog.flush.scheduler.interval.ms=500\n",
                      &c, &d);
    CHECK_EQ_INT(c->resolved.log_roll_ms, 7200000);
    CHECK_EQ_INT(c->resolved.log_roll_jitter_ms, 3600000);
    CHECK_EQ_INT(c->resolved.log_flush_interval_ms, 500);
    REQUIRE(c->resolved.log_dirs.count == 1);
    CHECK(strcmp(c->resolved.log_dirs.items[0], "/data/one") == 0);
    /* Unset listener.security.protocol.map: the controller listener is
     * mapped to PLAINTEXT, as Kafka does in KRaft mode. */
    CHECK_EQ_INT(c->resolved.listeners[1].protocol, OD_SECURITY_PLAINTEXT);
    od_broker_config_free(c);

    LOAD_OK(KRAFT_BASE "log.dir=/ignored\nlog.dirs=/a, /b\nlog.roll.hours=2\nlog.roll.ms=99\n"
                                 "log.roll.jitter.hours=1\nlog.roll.jitter.ms=7\nlog.flush.interval.ms=5\n"
                                 "metadata.log.dir=/meta\n",
                      &c, &d);
    CHECK_EQ_INT(c->resolved.log_roll_ms, 99);
    CHECK_EQ_INT(c->resolved.log_roll_jitter_ms, 7);
    CHECK_EQ_INT(c->resolved.log_flush_interval_ms, 5);
    REQUIRE(c->resolved.log_dirs.count == 2);
    CHECK(strcmp(c->resolved.log_dirs.items[1], "/b") == 0);
    CHECK(strcmp(c->resolved.metadata_log_dir, "/meta") == 0);
    od_broker_config_free(c);

    /* An advertised controller listener is dropped from what brokers and
     * clients are told. */
    LOAD_OK(KRAFT_BASE "advertised.listeners=PLAINTEXT://h:9092,CONTROLLER://h:9093\n", &c, &d);
    REQUIRE(c->resolved.advertised_listener_count == 1);
    CHECK(strcmp(c->resolved.advertised_listeners[0].name, "PLAINTEXT") == 0);
    CHECK(strcmp(c->resolved.advertised_listeners[0].host, "h") == 0);
    od_broker_config_free(c);

    /* Neither set: Kafka's log.dir default. */
    LOAD_OK("process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@h:9093\n"
                      "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n",
                      &c, &d);
    CHECK(strcmp(c->resolved.log_dirs.items[0], "/tmp/kafka-logs") == 0);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

static void node_id_and_broker_id(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK("process.roles=broker,controller\nbroker.id=7\ncontroller.quorum.voters=7@h:9093\n"
                      "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n",
                      &c, &d);
    CHECK_EQ_INT(c->resolved.node_id, 7);
    CHECK_EQ_INT(c->node_id, 7);
    CHECK_EQ_INT(od_broker_config_source(c, "node.id"), OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG);
    od_broker_config_free(c);
    LOAD_OK(KRAFT_BASE "broker.id=1\n", &c, &d);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

typedef struct bad_case {
    const char *text;
    const char *fragments[4];
} bad_case;

/* Each broken configuration must fail and name the key(s) at fault. */
static void validation_errors_name_their_key(void)
{
    static const bad_case cases[] = {
        {"node.id=1\ncontroller.quorum.voters=1@h:1\n", {"process.roles", NULL}},
        {"process.roles=broker,controller\ncontroller.quorum.voters=1@h:9093\n"
         "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n",
         {"Missing configuration `node.id`", "process.roles", NULL}},
        {KRAFT_BASE "broker.id=2\n", {"node.id", "broker.id", NULL}},
        {"process.roles=broker,controller\nnode.id=1\nlisteners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
         "controller.listener.names=CONTROLLER\n",
         {"controller.quorum.bootstrap.servers", "controller.quorum.voters", NULL}},
        {KRAFT_BASE "controller.quorum.voters=localhost:9093\n",
         {"test.properties:8:", "controller.quorum.voters", "{id}@{host}:{port}", NULL}},
        {KRAFT_BASE "controller.quorum.voters=2@localhost:9093\n",
         {"node id 1", "controller.quorum.voters", NULL}},
        {"process.roles=broker\nnode.id=1\ncontroller.quorum.voters=1@h:9093\nlisteners=PLAINTEXT://:9092\n"
         "controller.listener.names=CONTROLLER\n",
         {"node id 1 must not be included", "controller.quorum.voters", NULL}},
        {KRAFT_BASE "controller.quorum.bootstrap.servers=nohostport\n",
         {"controller.quorum.bootstrap.servers", NULL}},
        {"process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@h:9093\n"
         "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n",
         {"controller.listener.names", "listeners", NULL}},
        {KRAFT_BASE "listeners=PLAINTEXT://:9092\n", {"controller.listener.names", "controller role", NULL}},
        {KRAFT_BASE "controller.listener.names=controller\n", {"controller.listener.names", "controller role", NULL}},
        {KRAFT_BASE "controller.listener.names=CONTROLLER,OTHER\n",
         {"controller.listener.names must only contain", NULL}},
        {"process.roles=broker\nnode.id=2\ncontroller.quorum.voters=1@h:9093\nlisteners=PLAINTEXT://:9092\n",
         {"controller.listener.names", "broker role", NULL}},
        {"process.roles=broker\nnode.id=2\ncontroller.quorum.voters=1@h:9093\n"
         "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n",
         {"controller.listener.names must not contain", NULL}},
        {"process.roles=controller\nnode.id=1\ncontroller.quorum.voters=1@h:9093\n"
         "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n",
         {"listeners", "process.roles=controller", "PLAINTEXT", NULL}},
        {KRAFT_BASE "listeners=PLAINTEXT://:9092,CONTROLLER://:9093,FOO://:9094\n",
         {"listeners", "FOO", "listener.security.protocol.map", NULL}},
        {KRAFT_BASE "listeners=PLAINTEXT:9092,CONTROLLER://:9093\n", {"listeners", "PLAINTEXT:9092", NULL}},
        {KRAFT_BASE "listeners=PLAINTEXT://:9092,PLAINTEXT://:9094,CONTROLLER://:9093\n",
         {"listeners", "different name", NULL}},
        {KRAFT_BASE "listeners=PLAINTEXT://:9092,CONTROLLER://:9092\n", {"listeners", "different port", NULL}},
        {KRAFT_BASE "listener.security.protocol.map=CONTROLLER:PLAINTEX,PLAINTEXT:PLAINTEXT\n",
         {"PLAINTEX", "listener.security.protocol.map", NULL}},
        /* With the map unset and an SSL listener, Kafka adds no PLAINTEXT
         * mapping for the controller listener. */
        {"process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@h:9093\n"
         "listeners=PLAINTEXT://:9092,CONTROLLER://:9093,SSL://:9094\ncontroller.listener.names=CONTROLLER\n",
         {"listeners", "CONTROLLER", "listener.security.protocol.map", NULL}},
        {KRAFT_BASE "listener.security.protocol.map=CONTROLLER\n", {"listener.security.protocol.map", NULL}},
        {KRAFT_BASE "inter.broker.listener.name=FOO\n", {"inter.broker.listener.name", "FOO", NULL}},
        {KRAFT_BASE "inter.broker.listener.name=PLAINTEXT\nsecurity.inter.broker.protocol=PLAINTEXT\n",
         {"inter.broker.listener.name", "security.inter.broker.protocol", NULL}},
        {KRAFT_BASE "inter.broker.listener.name=CONTROLLER\n", {"inter.broker.listener.name", "controller", NULL}},
        {KRAFT_BASE "advertised.listeners=PLAINTEXT://0.0.0.0:9092\n", {"advertised.listeners", "0.0.0.0", NULL}},
        {KRAFT_BASE "advertised.listeners=OTHER://h:9092\nlistener.security.protocol.map=CONTROLLER:PLAINTEXT,"
                    "PLAINTEXT:PLAINTEXT,OTHER:SSL\n",
         {"advertised.listeners", "OTHER", NULL}},
        {KRAFT_BASE "num.partitions=abc\n",
         {"test.properties:8:", "Invalid value abc for configuration num.partitions: Not a number of type INT", NULL}},
        {KRAFT_BASE "num.partitions=0\n",
         {"Invalid value 0 for configuration num.partitions: Value must be at least 1", NULL}},
        {KRAFT_BASE "auto.create.topics.enable=yes\n",
         {"auto.create.topics.enable", "Expected value to be either true or false", NULL}},
        {KRAFT_BASE "compression.type=brotli\n",
         {"Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, "
          "lz4, snappy, gzip, producer", NULL}},
        {KRAFT_BASE "log.cleanup.policy=delete,foo\n",
         {"Invalid value foo for configuration log.cleanup.policy: String must be one of: compact, delete", NULL}},
        {KRAFT_BASE "log.cleaner.min.cleanable.ratio=1.5\n",
         {"Invalid value 1.5 for configuration log.cleaner.min.cleanable.ratio: Value must be no more than 1", NULL}},
        {KRAFT_BASE "log.message.timestamp.type=createtime\n", {"log.message.timestamp.type", NULL}},
        {KRAFT_BASE "process.roles=broker,foo\n",
         {"Invalid value foo for configuration process.roles: String must be one of: broker, controller", NULL}},
        {KRAFT_BASE "compression.gzip.level=0\n",
         {"compression.gzip.level", "Value must be between 1 and 9 or equal to -1", NULL}},
        {KRAFT_BASE "offsets.topic.replication.factor=40000\n",
         {"offsets.topic.replication.factor", "Not a number of type SHORT", NULL}},
        {KRAFT_BASE "remote.log.manager.copier.thread.pool.size=0\n",
         {"remote.log.manager.copier.thread.pool.size", "Value can be -1 or greater than 0", NULL}},
        {KRAFT_BASE "remote.log.manager.task.retry.jitter=-1\n",
         {"Invalid value -1.0 for configuration remote.log.manager.task.retry.jitter: Value must be at least 0", NULL}},
        {KRAFT_BASE "log.retention.ms=0\n", {"log.retention.ms must be unlimited (-1)", NULL}},
        {KRAFT_BASE "log.retention.minutes=0\n", {"log.retention.minutes must be unlimited (-1)", NULL}},
        {KRAFT_BASE "log.dirs=\n", {"log.dirs", NULL}},
        {KRAFT_BASE "group.consumer.heartbeat.interval.ms=50000\n",
         {"group.consumer.heartbeat.interval.ms", "group.consumer.max.heartbeat.interval.ms", NULL}},
        {KRAFT_BASE "group.coordinator.rebalance.protocols=consumer\n",
         {"group.coordinator.rebalance.protocols", "classic", NULL}},
        {KRAFT_BASE "log.cleaner.dedupe.buffer.size=1000\n", {"log.cleaner.dedupe.buffer.size", NULL}},
        {KRAFT_BASE "process.roles=broker,broker,controller\n", {"Duplicate role names", "process.roles", NULL}},
        {KRAFT_BASE "node.id=-5\n", {"Missing configuration `node.id`", NULL}},
        {KRAFT_BASE "authorizer.class.name=kafka.security.authorizer.AclAuthorizer\n",
         {"authorizer.class.name", "StandardAuthorizer", NULL}},
        {KRAFT_BASE "listeners=PLAINTEXT://:9092,CONTROLLER://:9093,SASL_PLAINTEXT://:9094\n"
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT\n"
                    "inter.broker.listener.name=SASL_PLAINTEXT\nsasl.enabled.mechanisms=PLAIN\n",
         {"sasl.mechanism.inter.broker.protocol", "sasl.enabled.mechanisms", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        od_broker_config *c = NULL;
        od_config_diagnostics d = {0};
        od_config_status st = load_text(cases[i].text, &c, &d);
        CHECKF(st == OD_CONFIG_ERR_INVALID, "case %zu (%s) loaded", i, cases[i].fragments[0]);
        CHECK(c == NULL);
        bool named = messages_have(&d.errors, cases[i].fragments);
        CHECKF(named, "case %zu: no error mentions %s", i, cases[i].fragments[0]);
        if (!named)
            dump_messages("got", &d.errors);
        od_config_diagnostics_free(&d);
    }
}

/* Combinations Kafka 3.9.2 starts with, so Odradek must too. */
static void kafka_lenient_combinations_load(void)
{
    static const char *const extras[] = {
        "group.min.session.timeout.ms=90000\ngroup.max.session.timeout.ms=80000\n",
        "group.consumer.session.timeout.ms=46000\ngroup.consumer.heartbeat.interval.ms=46000\n"
        "group.consumer.max.heartbeat.interval.ms=60000\ngroup.consumer.min.session.timeout.ms=1000\n",
        "default.replication.factor=0\n",
        "transaction.state.log.min.isr=5\n",
        "controller.quorum.voters=1@localhost:9093,1@localhost:9094\n",
        "message.max.bytes=2000000\n",
        "controller.quorum.voters=\ncontroller.quorum.bootstrap.servers=localhost:9093\n",
        "listeners=plaintext://:9092,CONTROLLER://:9093\n",
        "advertised.listeners=PLAINTEXT://h:9092,CONTROLLER://h:9093\n",
        /* protocol names in the map are case-insensitive */
        "listener.security.protocol.map=controller:plaintext,plaintext:plaintext\n",
    };
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text, "%s%s", KRAFT_BASE, extras[i]);
        od_broker_config *c = NULL;
        od_config_diagnostics d = {0};
        od_config_status st = load_text(text, &c, &d);
        CHECKF(st == OD_CONFIG_OK, "case %zu refused", i);
        if (st != OD_CONFIG_OK)
            dump_messages("error", &d.errors);
        od_broker_config_free(c);
        od_config_diagnostics_free(&d);
    }
}

static void warnings_for_unknown_and_ignored_keys(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK(KRAFT_BASE "no.such.setting=1\nzookeeper.connect=localhost:2181\n"
                                 "super.users=User:admin\nallow.everyone.if.no.acl.found=true\n",
                      &c, &d);
    CHECK_EQ_INT(d.warnings.count, 2);
    if (d.warnings.count != 2)
        dump_messages("warning", &d.warnings);
    CHECK(messages_have(&d.warnings, (const char *const[]){"test.properties:8:", "no.such.setting", NULL}));
    CHECK(messages_have(&d.warnings, (const char *const[]){"test.properties:9:", "zookeeper.connect", "ignored", NULL}));
    CHECK(c->allow_everyone_if_no_acl_found);
    CHECK(strcmp(c->super_users, "User:admin") == 0);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

static void check_describe(const od_broker_config *c, const char *name, const char *want);

static void listener_overrides_are_recognised(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK(KRAFT_BASE "listener.name.plaintext.ssl.keystore.type=PKCS12\n"
                       "listener.name.plaintext.plain.sasl.jaas.config=secret stuff\n",
            &c, &d);
    CHECK_EQ_INT(d.warnings.count, 2);
    CHECK(messages_have(&d.warnings, (const char *const[]){"listener.name.plaintext.ssl.keystore.type",
                                                           "ssl.keystore.type", "per-listener", NULL}));
    check_describe(c, "listener.name.plaintext.ssl.keystore.type",
                   "listener.name.plaintext.ssl.keystore.type=PKCS12 src4 ro=true sens=false type=2 "
                   "[listener.name.plaintext.ssl.keystore.type=PKCS12 src4] [ssl.keystore.type=JKS src5]");
    check_describe(c, "listener.name.plaintext.plain.sasl.jaas.config",
                   "listener.name.plaintext.plain.sasl.jaas.config=null src4 ro=true sens=true type=9 "
                   "[listener.name.plaintext.plain.sasl.jaas.config=null src4]");
    od_broker_config_free(c);

    /* An override's value obeys its base key's rule. */
    CHECK_EQ_INT(load_text(KRAFT_BASE "listener.name.plaintext.ssl.client.auth=sometimes\n", &c, &d),
                 OD_CONFIG_ERR_INVALID);
    CHECK(messages_have(&d.errors, (const char *const[]){"listener.name.plaintext.ssl.client.auth", "sometimes", NULL}));
    od_config_diagnostics_free(&d);
}

/* Role-specific files shaped like Kafka's kraft/broker.properties and
 * kraft/controller.properties, with IPv6 and bootstrap-server forms. */
static void broker_only_and_controller_only_nodes(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK("process.roles=broker\nnode.id=2\ncontroller.quorum.bootstrap.servers=localhost:9093,[::1]:9093\n"
            "listeners=PLAINTEXT://[::1]:9092\ninter.broker.listener.name=PLAINTEXT\n"
            "advertised.listeners=PLAINTEXT://localhost:9092\ncontroller.listener.names=CONTROLLER\n"
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\nlog.dirs=/tmp/b\n",
            &c, &d);
    CHECK(c->resolved.is_broker && !c->resolved.is_controller);
    CHECK(strcmp(c->resolved.listeners[0].host, "::1") == 0);
    CHECK_EQ_INT(c->controller_quorum_bootstrap_servers.count, 2);
    CHECK_EQ_INT(c->resolved.voter_count, 0);
    od_broker_config_free(c);

    /* controller.listener.names is matched to listeners as written but
     * looked up in the protocol map upper-cased, as Kafka does. */
    LOAD_OK("process.roles=broker\nnode.id=1\ncontroller.quorum.voters=2@h:9093\n"
            "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=controller\n"
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n",
            &c, &d);
    od_broker_config_free(c);

    LOAD_OK("process.roles=controller\nnode.id=1\ncontroller.quorum.voters=1@[::1]:9093\n"
            "listeners=CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\nlog.dirs=/tmp/c\n",
            &c, &d);
    CHECK(!c->resolved.is_broker && c->resolved.is_controller);
    CHECK(strcmp(c->resolved.voters[0].host, "::1") == 0);
    CHECK_EQ_INT(c->resolved.advertised_listener_count, 0);
    od_broker_config_free(c);
    CHECK_EQ_INT(d.errors.count, 0);
    CHECK_EQ_INT(d.warnings.count, 0);
    od_config_diagnostics_free(&d);
}

static void check_describe(const od_broker_config *c, const char *name, const char *want)
{
    od_config_description d;
    od_config_status st = od_broker_config_describe(c, name, true, &d);
    CHECKF(st == OD_CONFIG_OK, "describe %s", name);
    if (st != OD_CONFIG_OK)
        return;
    char got[2048];
    describe_line(&d, true, got, sizeof got);
    CHECKF(strcmp(got, want) == 0, "\n got: %s\nwant: %s", got, want);
    od_config_description_free(&d);
}

/* Expected lines are what Kafka 3.9.2 answered for the same settings. */
static void describe_matches_kafka(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK(KRAFT_BASE "log.retention.hours=100\nlog.retention.minutes=30\nlog.segment.bytes=2000000\n"
                                 "log.roll.hours=5\nlog.flush.interval.ms=777\nlog.cleanup.policy=compact,delete\n"
                                 "ssl.keystore.password=secret\n",
                      &c, &d);
    check_describe(c, "log.retention.ms", "log.retention.ms=null src5 ro=false sens=false type=5");
    check_describe(c, "log.retention.hours",
                   "log.retention.hours=100 src4 ro=true sens=false type=3 [log.retention.hours=100 src4] "
                   "[log.retention.hours=168 src5]");
    check_describe(c, "log.retention.minutes",
                   "log.retention.minutes=30 src4 ro=true sens=false type=3 [log.retention.minutes=30 src4] "
                   "[log.retention.hours=100 src4] [log.retention.hours=168 src5]");
    check_describe(c, "log.roll.ms", "log.roll.ms=null src5 ro=false sens=false type=5");
    check_describe(c, "log.roll.hours",
                   "log.roll.hours=5 src4 ro=true sens=false type=3 [log.roll.hours=5 src4] [log.roll.hours=168 src5]");
    check_describe(c, "log.segment.bytes",
                   "log.segment.bytes=2000000 src4 ro=false sens=false type=3 [log.segment.bytes=2000000 src4] "
                   "[log.segment.bytes=1073741824 src5]");
    check_describe(c, "log.flush.interval.ms",
                   "log.flush.interval.ms=777 src4 ro=false sens=false type=5 [log.flush.interval.ms=777 src4] "
                   "[log.flush.scheduler.interval.ms=9223372036854775807 src5]");
    check_describe(c, "log.cleanup.policy",
                   "log.cleanup.policy=compact,delete src4 ro=false sens=false type=7 "
                   "[log.cleanup.policy=compact,delete src4] [log.cleanup.policy=delete src5]");
    check_describe(c, "ssl.keystore.password",
                   "ssl.keystore.password=null src4 ro=false sens=true type=9 [ssl.keystore.password=null src4]");
    check_describe(c, "listeners",
                   "listeners=PLAINTEXT://:9092,CONTROLLER://:9093 src4 ro=false sens=false type=2 "
                   "[listeners=PLAINTEXT://:9092,CONTROLLER://:9093 src4] [listeners=PLAINTEXT://:9092 src5]");
    check_describe(c, "advertised.listeners", "advertised.listeners=null src5 ro=false sens=false type=2");
    check_describe(c, "node.id", "node.id=1 src4 ro=true sens=false type=3 [node.id=1 src4] [node.id=-1 src5]");
    check_describe(c, "broker.id", "broker.id=1 src4 ro=true sens=false type=3 [broker.id=1 src4] [broker.id=-1 src5]");
    check_describe(c, "log.dirs", "log.dirs=/tmp/x src4 ro=true sens=false type=2 [log.dirs=/tmp/x src4]");
    check_describe(c, "log.dir",
                   "log.dir=/tmp/kafka-logs src5 ro=true sens=false type=2 [log.dir=/tmp/kafka-logs src5]");
    check_describe(c, "process.roles",
                   "process.roles=broker,controller src4 ro=true sens=false type=7 "
                   "[process.roles=broker,controller src4] [process.roles= src5]");
    check_describe(c, "num.io.threads", "num.io.threads=8 src5 ro=false sens=false type=3 [num.io.threads=8 src5]");
    check_describe(c, "compression.type",
                   "compression.type=producer src5 ro=false sens=false type=2 [compression.type=producer src5]");
    check_describe(c, "controller.quorum.voters",
                   "controller.quorum.voters=1@localhost:9093 src4 ro=true sens=false type=7 "
                   "[controller.quorum.voters=1@localhost:9093 src4] [controller.quorum.voters= src5]");
    check_describe(c, "sasl.enabled.mechanisms",
                   "sasl.enabled.mechanisms=GSSAPI src5 ro=false sens=false type=7 [sasl.enabled.mechanisms=GSSAPI src5]");
    check_describe(c, "authorizer.class.name",
                   "authorizer.class.name= src5 ro=true sens=false type=2 [authorizer.class.name= src5]");
    check_describe(c, "principal.builder.class",
                   "principal.builder.class=org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder "
                   "src5 ro=false sens=false type=8 [principal.builder.class=org.apache.kafka.common.security."
                   "authenticator.DefaultKafkaPrincipalBuilder src5]");
    check_describe(c, "group.consumer.assignors",
                   "group.consumer.assignors=org.apache.kafka.coordinator.group.assignor.UniformAssignor,"
                   "org.apache.kafka.coordinator.group.assignor.RangeAssignor src5 ro=true sens=false type=7 "
                   "[group.consumer.assignors=org.apache.kafka.coordinator.group.assignor.UniformAssignor,"
                   "org.apache.kafka.coordinator.group.assignor.RangeAssignor src5]");
    check_describe(c, "log.cleaner.io.max.bytes.per.second",
                   "log.cleaner.io.max.bytes.per.second=1.7976931348623157E308 src5 ro=false sens=false type=6 "
                   "[log.cleaner.io.max.bytes.per.second=1.7976931348623157E308 src5]");
    od_config_description dd;
    CHECK_EQ_INT(od_broker_config_describe(c, "no.such.key", true, &dd), OD_CONFIG_ERR_UNKNOWN_KEY);
    /* super.users is outside Kafka's ConfigDef: listed only when set. */
    CHECK_EQ_INT(od_broker_config_describe(c, "super.users", true, &dd), OD_CONFIG_ERR_UNKNOWN_KEY);
    size_t total = od_broker_config_describable_names(c, NULL, 0);
    CHECK_EQ_INT(total, 315); /* 329 keys minus the 14 Kafka marks internal */
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

/* Text is shown as written in static synonyms but canonical as the value. */
static void describe_keeps_raw_static_text(void)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    LOAD_OK(KRAFT_BASE "log.cleanup.policy=compact, delete\nlog.cleaner.min.cleanable.ratio=0.50\n"
                                 "log.segment.bytes= 2000000 \nlog.retention.hours=-1\nsuper.users=User:a\n"
                                 "custom.plugin.setting=x\n",
                      &c, &d);
    check_describe(c, "log.cleanup.policy",
                   "log.cleanup.policy=compact,delete src4 ro=false sens=false type=7 "
                   "[log.cleanup.policy=compact, delete src4] [log.cleanup.policy=delete src5]");
    check_describe(c, "log.cleaner.min.cleanable.ratio",
                   "log.cleaner.min.cleanable.ratio=0.5 src4 ro=false sens=false type=6 "
                   "[log.cleaner.min.cleanable.ratio=0.50 src4] [log.cleaner.min.cleanable.ratio=0.5 src5]");
    check_describe(c, "log.segment.bytes",
                   "log.segment.bytes=2000000 src4 ro=false sens=false type=3 [log.segment.bytes=2000000  src4] "
                   "[log.segment.bytes=1073741824 src5]");
    check_describe(c, "log.retention.hours",
                   "log.retention.hours=-1 src4 ro=true sens=false type=3 [log.retention.hours=-1 src4] "
                   "[log.retention.hours=168 src5]");
    /* Keys outside Kafka's ConfigDef: unknown type, so sensitive. */
    check_describe(c, "super.users", "super.users=null src4 ro=true sens=true type=0 [super.users=null src4]");
    check_describe(c, "custom.plugin.setting",
                   "custom.plugin.setting=null src4 ro=true sens=true type=0 [custom.plugin.setting=null src4]");
    CHECK_EQ_INT(od_broker_config_describable_names(c, NULL, 0), 317);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

static void dynamic_layers_override_static(void)
{
    od_properties stat = {0}, dyn_default = {0}, dyn_broker = {0};
    char err[256];
    const char *s = KRAFT_BASE "log.segment.bytes=2000000\nnum.io.threads=4\n";
    od_config_status st = od_properties_parse(&stat, s, strlen(s), "static", err, sizeof err);
    REQUIRE(st == OD_CONFIG_OK);
    od_properties_set(&dyn_default, "log.segment.bytes", "3000000", 0);
    od_properties_set(&dyn_default, "num.io.threads", "6", 0);
    od_properties_set(&dyn_broker, "num.io.threads", "7", 0);
    od_broker_config_layers layers = {&stat, &dyn_default, &dyn_broker, "static"};
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    st = od_broker_config_load(&layers, &c, &d);
    REQUIRE(st == OD_CONFIG_OK);
    CHECK_EQ_INT(c->log_segment_bytes, 3000000);
    CHECK_EQ_INT(c->num_io_threads, 7);
    check_describe(c, "num.io.threads",
                   "num.io.threads=7 src2 ro=false sens=false type=3 [num.io.threads=7 src2] "
                   "[num.io.threads=6 src3] [num.io.threads=4 src4] [num.io.threads=8 src5]");
    od_broker_config_free(c);

    /* A read-only key cannot come from a dynamic layer. */
    od_properties_set(&dyn_broker, "node.id", "5", 0);
    CHECK_EQ_INT(od_broker_config_load(&layers, &c, &d), OD_CONFIG_ERR_INVALID);
    CHECK(messages_have(&d.errors, (const char *const[]){"node.id", "read-only", NULL}));
    od_properties_free(&stat);
    od_properties_free(&dyn_default);
    od_properties_free(&dyn_broker);
    od_config_diagnostics_free(&d);
}

/* The static layer read back from a snapshot rebuilds the same static
 * values (unknown keys too) under new dynamic layers: what the broker does
 * when a dynamic broker config is committed. */
static void static_layer_rebuilds_under_dynamic_layers(void)
{
    od_properties stat = {0}, back = {0}, dyn_broker = {0};
    char err[256];
    const char *s = KRAFT_BASE "log.segment.bytes=2000000\nnum.io.threads=4\ncustom.plugin.setting=x\n";
    REQUIRE(od_properties_parse(&stat, s, strlen(s), "static", err, sizeof err) == OD_CONFIG_OK);
    od_broker_config_layers layers = {.static_props = &stat, .static_source = "static"};
    od_broker_config *c = NULL, *again = NULL;
    od_config_diagnostics d = {0};
    REQUIRE(od_broker_config_load(&layers, &c, &d) == OD_CONFIG_OK);
    REQUIRE(od_broker_config_static_layer(c, &back) == OD_CONFIG_OK);
    CHECK(od_properties_get(&back, "log.segment.bytes") && strcmp(od_properties_get(&back, "log.segment.bytes"), "2000000") == 0);
    CHECK(od_properties_get(&back, "custom.plugin.setting") != NULL);
    CHECK(od_properties_get(&back, "message.max.bytes") == NULL); /* defaults are not static */
    od_properties_set(&dyn_broker, "num.io.threads", "7", 0);
    od_broker_config_layers next = {.static_props = &back, .dynamic_broker = &dyn_broker};
    REQUIRE(od_broker_config_load(&next, &again, &d) == OD_CONFIG_OK);
    CHECK_EQ_INT(again->num_io_threads, 7);
    CHECK_EQ_INT(again->log_segment_bytes, 2000000);
    CHECK_EQ_INT(od_broker_config_source(again, "log.segment.bytes"), OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG);
    CHECK_EQ_INT(od_broker_config_source(again, "num.io.threads"), OD_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG);
    od_broker_config_free(c);
    od_broker_config_free(again);
    od_properties_free(&stat);
    od_properties_free(&back);
    od_properties_free(&dyn_broker);
    od_config_diagnostics_free(&d);
}

OD_TEST_MAIN(OD_CASE(table_is_sorted_and_self_consistent), OD_CASE(shipped_kraft_file_loads_cleanly),
             OD_CASE(kafka_defaults), OD_CASE(retention_precedence), OD_CASE(roll_flush_and_dirs_precedence),
             OD_CASE(node_id_and_broker_id), OD_CASE(validation_errors_name_their_key),
             OD_CASE(warnings_for_unknown_and_ignored_keys), OD_CASE(describe_matches_kafka),
             OD_CASE(describe_keeps_raw_static_text), OD_CASE(dynamic_layers_override_static),
             OD_CASE(listener_overrides_are_recognised), OD_CASE(kafka_lenient_combinations_load), OD_CASE(broker_only_and_controller_only_nodes),
             OD_CASE(static_layer_rebuilds_under_dynamic_layers))
