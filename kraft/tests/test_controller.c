/* Controller operations: records, Kafka's error codes and messages, restart. */
#include "controller.h"
#include "kr_testutil.h"
#include "log_dir.h"
#include "od_test.h"

#include <time.h>

static const int32_t voters1[] = {1};
static uint64_t fake_random_state;

static uint64_t fake_random(void *ctx)
{
    (void)ctx;
    fake_random_state = fake_random_state * 6364136223846793005ull + 1442695040888963407ull;
    return fake_random_state ^ (fake_random_state >> 29);
}

/* A validator shaped like the broker's: retention.ms must be a number, and
 * names must be known. */
static int16_t validate(void *ctx, int8_t type, const char *resource, const char *key,
                        const char *value, char *msg, size_t cap)
{
    (void)ctx;
    (void)resource;
    if (type != OD_CONFIG_RESOURCE_TOPIC)
        return 0;
    static const char *known[] = {"retention.ms", "cleanup.policy", "segment.ms",
                                  "max.message.bytes"};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ok |= strcmp(key, known[i]) == 0;
    if (!ok) {
        snprintf(msg, cap, "Unknown topic config name: %s", key);
        return OD_KERR_INVALID_CONFIG;
    }
    if (value && strcmp(key, "retention.ms") == 0) {
        char *end;
        strtoll(value, &end, 10);
        if (*value == '\0' || *end != '\0') {
            snprintf(msg, cap, "Invalid value %s for configuration retention.ms: Not a number of type LONG", value);
            return OD_KERR_INVALID_CONFIG;
        }
    }
    return 0;
}

static bool is_list(void *ctx, int8_t type, const char *key)
{
    (void)ctx;
    (void)type;
    return strcmp(key, "cleanup.policy") == 0;
}

static od_controller_config config_for(const char *dir)
{
    return (od_controller_config){
        .io = od_fio_posix(),
        .metadata_log_dir = dir,
        .node_id = 1,
        .voters = voters1,
        .voter_count = 1,
        .cluster_id = "Vx4J-ZmPRga8Q0T8SdufJg",
        .default_num_partitions = 1,
        .default_replication_factor = 1,
        .validate_config = validate,
        .is_list_config = is_list,
        .random64 = fake_random,
    };
}

static const od_uuid broker_dir = {{0x36, 0x61, 0x6c, 0x9d, 0x92, 0xbe, 0xab, 0x10, 0xbc, 0x42,
                                    0x89, 0x8c, 0x20, 0x95, 0xda, 0x8f}};

/* Registers broker `id` with one log dir and unfences it. */
static int64_t register_broker(od_controller *c, int32_t id, bool unfence)
{
    od_broker_registration_request_listener l;
    od_broker_registration_request_listener_init(&l);
    l.name = OD_STR_LIT("PLAINTEXT");
    l.host = OD_STR_LIT("127.0.0.1");
    l.port = (uint16_t)(9092 + id);
    od_broker_registration_request_feature f;
    od_broker_registration_request_feature_init(&f);
    f.name = OD_STR_LIT("metadata.version");
    f.min_supported_version = 1;
    f.max_supported_version = 21;
    od_broker_registration_request req;
    od_broker_registration_request_init(&req);
    req.broker_id = id;
    req.cluster_id = OD_STR_LIT("Vx4J-ZmPRga8Q0T8SdufJg");
    req.incarnation_id.bytes[0] = (uint8_t)id;
    req.listeners = (od_broker_registration_request_listener_array){1, &l};
    req.features = (od_broker_registration_request_feature_array){1, &f};
    od_uuid dir = broker_dir;
    req.log_dirs = (od_uuid_array){1, &dir};
    od_arena a;
    od_arena_init(&a);
    od_ctl_status st;
    int64_t epoch = -1;
    if (od_controller_register_broker(c, &req, 1000, &a, &st, &epoch) != OD_KR_OK ||
        st.error_code != 0)
        epoch = -1;
    if (epoch >= 0 && unfence &&
        (od_controller_unfence_broker(c, id, epoch, 1000, &a, &st) != OD_KR_OK || st.error_code))
        epoch = -1;
    od_arena_release(&a);
    return epoch;
}

/* CreateTopics with one topic; returns its result (in `a`). */
static od_ctl_topic_result create1(od_controller *c, od_arena *a, const char *name,
                                   int32_t partitions, int16_t rf, bool validate_only,
                                   const od_create_topics_request_creatable_topic_config *configs,
                                   int32_t nconfigs)
{
    od_create_topics_request_creatable_topic t;
    od_create_topics_request_creatable_topic_init(&t);
    t.name = od_str_from_cstr(name);
    t.num_partitions = partitions;
    t.replication_factor = rf;
    t.configs = (od_create_topics_request_creatable_topic_config_array){
        nconfigs, (od_create_topics_request_creatable_topic_config *)configs};
    od_create_topics_request req;
    od_create_topics_request_init(&req);
    req.topics = (od_create_topics_request_creatable_topic_array){1, &t};
    req.validate_only = validate_only;
    od_ctl_topic_result *res = NULL;
    od_ctl_topic_result bad = {.status = {-99, "controller call failed"}};
    if (od_controller_create_topics(c, &req, 2000, a, &res) != OD_KR_OK)
        return bad;
    return res[0];
}

#define CHECK_STATUS(st, code, message)                                                         \
    do {                                                                                        \
        CHECKF((st).error_code == (code), "code %d, want %d (%s)", (st).error_code, (code),     \
               (st).error_message ? (st).error_message : "null");                               \
        if (message)                                                                            \
            CHECKF((st).error_message && strcmp((st).error_message, (message) ? (message) : "") == 0, \
                   "message \"%s\"", (st).error_message ? (st).error_message : "null");        \
    } while (0)

static void test_fresh_start_writes_bootstrap(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    const od_mimage *img = od_controller_image(c);
    CHECK_EQ_INT(od_mimage_feature_level(img, "metadata.version"), 21);
    /* LeaderChange (0), then Begin, FeatureLevel, ZkMigrationState, End (1-4), as Kafka. */
    CHECK_EQ_INT(od_quorum_end_offset(od_controller_quorum(c)), 5);
    CHECK_EQ_INT(od_mimage_last_offset(img), 4);
    CHECK_EQ_INT(od_quorum_epoch(od_controller_quorum(c)), 1);
    CHECK_EQ_INT(od_controller_close(c, true), OD_KR_OK);

    /* Reopen: no second bootstrap; a new epoch's LeaderChange only. */
    REQUIRE(od_controller_open(&cfg, 1100, &c) == OD_KR_OK);
    CHECK_EQ_INT(od_quorum_end_offset(od_controller_quorum(c)), 6);
    CHECK_EQ_INT(od_quorum_epoch(od_controller_quorum(c)), 2);
    CHECK_EQ_INT(od_mimage_feature_level(od_controller_image(c), "metadata.version"), 21);
    od_controller_close(c, true);
    kr_rmtree(dir);
}

static void test_bootstrap_checkpoint_is_used(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_feature_level_record mv;
    od_feature_level_record_init(&mv);
    mv.name = OD_STR_LIT("metadata.version");
    mv.feature_level = 12; /* 3.6-IV0: no metadata transactions yet */
    od_config_record cr;
    od_config_record_init(&cr);
    cr.resource_type = OD_CONFIG_RESOURCE_BROKER;
    cr.resource_name = OD_STR_LIT("");
    cr.name = OD_STR_LIT("log.cleaner.threads");
    cr.value = OD_STR_LIT("2");
    od_mrec recs[2] = {{OD_MREC_FEATURE_LEVEL, 0, &mv}, {OD_MREC_CONFIG, 0, &cr}};
    REQUIRE(od_bootstrap_write(od_fio_posix(), dir, recs, 2, 1) == OD_KR_OK);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    const od_mimage *img = od_controller_image(c);
    CHECK_EQ_INT(od_mimage_feature_level(img, "metadata.version"), 12);
    CHECK(od_mimage_config(img, OD_CONFIG_RESOURCE_BROKER, "", "log.cleaner.threads") != NULL);
    /* LeaderChange, FeatureLevel, Config, ZkMigrationState: no transaction markers at 12. */
    CHECK_EQ_INT(od_quorum_end_offset(od_controller_quorum(c)), 4);
    od_controller_close(c, true);
    kr_rmtree(dir);
}

static void test_broker_registration(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    int64_t epoch = register_broker(c, 1, false);
    CHECK_EQ_INT(epoch, 5); /* the record's offset, as Kafka */
    const od_mi_broker *b = od_mimage_broker(od_controller_image(c), 1);
    REQUIRE(b);
    CHECK(b->fenced);
    CHECK_EQ_INT(b->epoch, 5);
    CHECK_EQ_INT(b->endpoint_count, 1);
    CHECK_EQ_INT(b->log_dir_count, 1);

    od_arena a;
    od_arena_init(&a);
    od_ctl_status st;
    CHECK_EQ_INT(od_controller_unfence_broker(c, 1, 4, 1000, &a, &st), OD_KR_OK);
    CHECK_STATUS(st, OD_KERR_STALE_BROKER_EPOCH, "Expected broker epoch 5, but got broker epoch 4");
    CHECK_EQ_INT(od_controller_unfence_broker(c, 1, 5, 1000, &a, &st), OD_KR_OK);
    CHECK_EQ_INT(st.error_code, 0);
    CHECK(!od_mimage_broker(od_controller_image(c), 1)->fenced);

    /* Wrong cluster id, unsupported metadata.version. */
    od_broker_registration_request req;
    od_broker_registration_request_init(&req);
    req.broker_id = 2;
    req.cluster_id = OD_STR_LIT("other");
    int64_t e2 = -1;
    CHECK_EQ_INT(od_controller_register_broker(c, &req, 1000, &a, &st, &e2), OD_KR_OK);
    CHECK_STATUS(st, OD_KERR_INCONSISTENT_CLUSTER_ID,
                 "Expected cluster ID Vx4J-ZmPRga8Q0T8SdufJg, but got cluster ID other");
    req.cluster_id = OD_STR_LIT("Vx4J-ZmPRga8Q0T8SdufJg");
    CHECK_EQ_INT(od_controller_register_broker(c, &req, 1000, &a, &st, &e2), OD_KR_OK);
    CHECK_STATUS(st, OD_KERR_UNSUPPORTED_VERSION,
                 "Unable to register because the broker does not support version 21 of "
                 "metadata.version. It wants a version between 0 and 0, inclusive.");
    CHECK(od_mimage_broker(od_controller_image(c), 2) == NULL);

    /* Producer ids need the current broker epoch. */
    int64_t first = -1;
    int32_t count = 0;
    CHECK_EQ_INT(od_controller_allocate_producer_ids(c, 1, 5, 1000, &a, &st, &first, &count), OD_KR_OK);
    CHECK_EQ_INT(st.error_code, 0);
    CHECK_EQ_INT(first, 0);
    CHECK_EQ_INT(count, 1000);
    CHECK_EQ_INT(od_controller_allocate_producer_ids(c, 1, 5, 1000, &a, &st, &first, &count), OD_KR_OK);
    CHECK_EQ_INT(first, 1000);
    CHECK_EQ_INT(od_mimage_next_producer_id(od_controller_image(c)), 2000);
    CHECK_EQ_INT(od_controller_allocate_producer_ids(c, 7, 5, 1000, &a, &st, &first, &count), OD_KR_OK);
    CHECK_STATUS(st, OD_KERR_STALE_BROKER_EPOCH, "No broker registration found for broker 7");
    od_arena_release(&a);
    od_controller_close(c, true);
    kr_rmtree(dir);
}

typedef struct commits {
    int batches, records;
    int64_t last_first_offset;
    size_t topics_seen;
} commits;

static void on_commit(void *ctx, const od_mrec *recs, int32_t count, int64_t first_offset,
                      const od_mimage *img)
{
    commits *c = ctx;
    (void)recs;
    c->batches++;
    c->records += count;
    c->last_first_offset = first_offset;
    c->topics_seen = od_mimage_topic_count(img);
}

static void test_create_topic_records(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    commits seen = {0};
    cfg.on_commit = on_commit;
    cfg.commit_ctx = &seen;
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    REQUIRE(register_broker(c, 1, true) >= 0);
    od_arena a;
    od_arena_init(&a);
    od_create_topics_request_creatable_topic_config cfgs[2];
    od_create_topics_request_creatable_topic_config_init(&cfgs[0]);
    od_create_topics_request_creatable_topic_config_init(&cfgs[1]);
    cfgs[0].name = OD_STR_LIT("cleanup.policy");
    cfgs[0].value = OD_STR_LIT("compact");
    cfgs[1].name = OD_STR_LIT("retention.ms");
    cfgs[1].value = OD_STR_LIT("12345");
    int64_t end_before = od_quorum_end_offset(od_controller_quorum(c));
    od_ctl_topic_result r = create1(c, &a, "orders", 3, 1, false, cfgs, 2);
    CHECK_STATUS(r.status, 0, NULL);
    CHECK_EQ_INT(r.num_partitions, 3);
    CHECK_EQ_INT(r.replication_factor, 1);
    CHECK(!od_uuid_is_zero(&r.topic_id));
    CHECK_EQ_INT(r.topic_id.bytes[6] >> 4, 4); /* version 4 uuid */
    /* One batch: TopicRecord, two ConfigRecords, three PartitionRecords. */
    CHECK_EQ_INT(od_quorum_end_offset(od_controller_quorum(c)), end_before + 6);
    const od_mimage *img = od_controller_image(c);
    const od_mi_topic *t = od_mimage_topic_by_name(img, "orders", 6);
    REQUIRE(t);
    CHECK(od_uuid_eq(&t->id, &r.topic_id));
    CHECK_EQ_INT(t->partition_count, 3);
    for (int32_t p = 0; p < 3; p++) {
        const od_mi_partition *part = &t->partitions[p];
        CHECK_EQ_INT(part->leader, 1);
        CHECK_EQ_INT(part->replicas.count, 1);
        CHECK_EQ_INT(part->isr.count, 1);
        CHECK_EQ_INT(part->leader_epoch, 0);
        CHECK_EQ_INT(part->directory_count, 1); /* the broker's only log dir, as Kafka */
        CHECK(part->directory_count == 1 && od_uuid_eq(&part->directories[0], &broker_dir));
    }
    CHECK(strcmp(od_mimage_config(img, OD_CONFIG_RESOURCE_TOPIC, "orders", "retention.ms"), "12345") == 0);
    /* The listener saw the batch after it was applied. */
    CHECK_EQ_INT(seen.records >= 6, 1);
    CHECK_EQ_INT(seen.last_first_offset, end_before);
    CHECK_EQ_INT(seen.topics_seen, 1);

    /* Validate-only: a result, no records. */
    int64_t end = od_quorum_end_offset(od_controller_quorum(c));
    r = create1(c, &a, "vo", 2, 1, true, NULL, 0);
    CHECK_STATUS(r.status, 0, NULL);
    CHECK_EQ_INT(r.num_partitions, 2);
    CHECK_EQ_INT(od_quorum_end_offset(od_controller_quorum(c)), end);
    CHECK(od_mimage_topic_by_name(img, "vo", 2) == NULL);

    /* Defaults for -1. */
    r = create1(c, &a, "defaults", -1, -1, false, NULL, 0);
    CHECK_STATUS(r.status, 0, NULL);
    CHECK_EQ_INT(r.num_partitions, 1);
    CHECK_EQ_INT(r.replication_factor, 1);
    od_arena_release(&a);
    od_controller_close(c, true);
    kr_rmtree(dir);
}

/* Exact codes and messages, as Apache Kafka 3.9 answered the same requests. */
static void test_create_topic_validation(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    od_arena a;
    od_arena_init(&a);
    /* No broker yet: nothing can be placed. */
    od_ctl_topic_result r = create1(c, &a, "early", 1, 1, false, NULL, 0);
    CHECK_STATUS(r.status, OD_KERR_INVALID_REPLICATION_FACTOR,
                 "Unable to replicate the partition 1 time(s): All brokers are currently fenced.");
    REQUIRE(register_broker(c, 1, true) >= 0);
    REQUIRE(create1(c, &a, "orders", 3, 1, false, NULL, 0).status.error_code == 0);
    REQUIRE(create1(c, &a, "events.v1", 2, 1, false, NULL, 0).status.error_code == 0);

    char long_name[251];
    memset(long_name, 'a', 250);
    long_name[250] = '\0';
    char long_msg[400];
    snprintf(long_msg, sizeof long_msg,
             "Topic name is invalid: the length of '%s' is longer than the max allowed length 249",
             long_name);
    struct {
        const char *name;
        int32_t partitions;
        int16_t rf;
        int16_t code;
        const char *msg;
    } cases[] = {
        {".", 1, 1, OD_KERR_INVALID_TOPIC_EXCEPTION, "Topic name is invalid: '.' is not allowed"},
        {"..", 1, 1, OD_KERR_INVALID_TOPIC_EXCEPTION, "Topic name is invalid: '..' is not allowed"},
        {long_name, 1, 1, OD_KERR_INVALID_TOPIC_EXCEPTION, long_msg},
        {"bad!name", 1, 1, OD_KERR_INVALID_TOPIC_EXCEPTION,
         "Topic name is invalid: 'bad!name' contains one or more characters other than ASCII "
         "alphanumerics, '.', '_' and '-'"},
        {"bad name", 1, 1, OD_KERR_INVALID_TOPIC_EXCEPTION,
         "Topic name is invalid: 'bad name' contains one or more characters other than ASCII "
         "alphanumerics, '.', '_' and '-'"},
        {"events_v1", 1, 1, OD_KERR_INVALID_TOPIC_EXCEPTION,
         "Topic 'events_v1' collides with existing topic: events.v1"},
        {"orders", 1, 1, OD_KERR_TOPIC_ALREADY_EXISTS, "Topic 'orders' already exists."},
        {"events.v1", 1, 1, OD_KERR_TOPIC_ALREADY_EXISTS, "Topic 'events.v1' already exists."},
        {"p0", 0, 1, OD_KERR_INVALID_PARTITIONS,
         "Number of partitions was set to an invalid non-positive value."},
        {"pneg", -5, 1, OD_KERR_INVALID_PARTITIONS,
         "Number of partitions was set to an invalid non-positive value."},
        {"rf0", 1, 0, OD_KERR_INVALID_REPLICATION_FACTOR,
         "Replication factor must be larger than 0, or -1 to use the default value."},
        {"rfneg", 1, -3, OD_KERR_INVALID_REPLICATION_FACTOR,
         "Replication factor must be larger than 0, or -1 to use the default value."},
        {"rf3", 1, 3, OD_KERR_INVALID_REPLICATION_FACTOR,
         "Unable to replicate the partition 3 time(s): The target replication factor of 3 "
         "cannot be reached because only 1 broker(s) are registered."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = create1(c, &a, cases[i].name, cases[i].partitions, cases[i].rf, false, NULL, 0);
        CHECKF(r.status.error_code == cases[i].code, "%.20s: code %d", cases[i].name, r.status.error_code);
        CHECKF(r.status.error_message && strcmp(r.status.error_message, cases[i].msg) == 0,
               "%.20s: message %s", cases[i].name, r.status.error_message ? r.status.error_message : "null");
        CHECK_EQ_INT(r.num_partitions, -1);
    }
    memset(long_name, 'a', 249);
    long_name[249] = '\0';
    r = create1(c, &a, long_name, 1, 1, true, NULL, 0);
    CHECK_STATUS(r.status, 0, NULL);

    /* Configs go through the validator. */
    od_create_topics_request_creatable_topic_config bad;
    od_create_topics_request_creatable_topic_config_init(&bad);
    bad.name = OD_STR_LIT("retention.ms");
    bad.value = OD_STR_LIT("abc");
    r = create1(c, &a, "cfg_bad", 1, 1, false, &bad, 1);
    CHECK_STATUS(r.status, OD_KERR_INVALID_CONFIG,
                 "Invalid value abc for configuration retention.ms: Not a number of type LONG");
    bad.name = OD_STR_LIT("no.such.config");
    bad.value = OD_STR_LIT("1");
    r = create1(c, &a, "cfg_unknown", 1, 1, false, &bad, 1);
    CHECK_STATUS(r.status, OD_KERR_INVALID_CONFIG, "Unknown topic config name: no.such.config");
    CHECK(od_mimage_topic_by_name(od_controller_image(c), "cfg_unknown", 11) == NULL);

    /* Several topics in one request: duplicates, and a collision between two new ones. */
    od_create_topics_request_creatable_topic ts[4];
    const char *names[4] = {"dup", "dup", "new.one", "new_one"};
    for (int i = 0; i < 4; i++) {
        od_create_topics_request_creatable_topic_init(&ts[i]);
        ts[i].name = od_str_from_cstr(names[i]);
        ts[i].num_partitions = 1;
        ts[i].replication_factor = 1;
    }
    od_create_topics_request req;
    od_create_topics_request_init(&req);
    req.topics = (od_create_topics_request_creatable_topic_array){4, ts};
    od_ctl_topic_result *res;
    REQUIRE(od_controller_create_topics(c, &req, 2000, &a, &res) == OD_KR_OK);
    CHECK_STATUS(res[0].status, OD_KERR_INVALID_REQUEST, "Duplicate topic name.");
    CHECK_STATUS(res[1].status, OD_KERR_INVALID_REQUEST, "Duplicate topic name.");
    CHECK_STATUS(res[2].status, 0, NULL);
    CHECK_STATUS(res[3].status, OD_KERR_INVALID_TOPIC_EXCEPTION,
                 "Topic 'new_one' collides with existing topic: new.one");
    od_arena_release(&a);
    od_controller_close(c, true);
    kr_rmtree(dir);
}

static void test_manual_assignments(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    REQUIRE(register_broker(c, 1, true) >= 0);
    REQUIRE(register_broker(c, 2, true) >= 0);
    REQUIRE(register_broker(c, 3, false) >= 0); /* fenced */
    od_arena a;
    od_arena_init(&a);
    struct {
        const char *name;
        int32_t idx[3];
        int32_t n[3];
        int32_t ids[3][3];
        int parts;
        int16_t code;
        const char *msg;
    } cases[] = {
        {"asg_empty", {0}, {0}, {{0}}, 1, OD_KERR_INVALID_REPLICA_ASSIGNMENT,
         "The manual partition assignment includes an empty replica list."},
        {"asg_dup", {0}, {2}, {{1, 1}}, 1, OD_KERR_INVALID_REPLICA_ASSIGNMENT,
         "The manual partition assignment includes the broker 1 more than once."},
        {"asg_unknown", {0}, {1}, {{7}}, 1, OD_KERR_INVALID_REPLICA_ASSIGNMENT,
         "The manual partition assignment includes broker 7, but no such broker is registered."},
        {"asg_gap", {0, 2}, {1, 1}, {{1}, {1}}, 2, OD_KERR_INVALID_REPLICA_ASSIGNMENT,
         "partitions should be a consecutive 0-based integer sequence"},
        {"asg_neg", {-1}, {1}, {{1}}, 1, OD_KERR_INVALID_REPLICA_ASSIGNMENT,
         "partitions should be a consecutive 0-based integer sequence"},
        {"asg_rf", {0, 1}, {1, 2}, {{1}, {1, 2}}, 2, OD_KERR_INVALID_REPLICA_ASSIGNMENT,
         "The manual partition assignment includes a partition with 2 replica(s), but this is "
         "not consistent with previous partitions, which have 1 replica(s)."},
        {"asg_fenced", {0}, {1}, {{3}}, 1, OD_KERR_INVALID_REPLICA_ASSIGNMENT,
         "All brokers specified in the manual partition assignment for partition 0 are fenced "
         "or in controlled shutdown."},
        {"asg_ok", {1, 0}, {2, 2}, {{2, 3}, {3, 1}}, 2, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        od_create_topics_request_creatable_replica_assignment as[3];
        for (int p = 0; p < cases[i].parts; p++) {
            od_create_topics_request_creatable_replica_assignment_init(&as[p]);
            as[p].partition_index = cases[i].idx[p];
            as[p].broker_ids = (od_int32_array){cases[i].n[p], cases[i].ids[p]};
        }
        od_create_topics_request_creatable_topic t;
        od_create_topics_request_creatable_topic_init(&t);
        t.name = od_str_from_cstr(cases[i].name);
        t.num_partitions = -1;
        t.replication_factor = -1;
        t.assignments = (od_create_topics_request_creatable_replica_assignment_array){cases[i].parts, as};
        od_create_topics_request req;
        od_create_topics_request_init(&req);
        req.topics = (od_create_topics_request_creatable_topic_array){1, &t};
        od_ctl_topic_result *res;
        REQUIRE(od_controller_create_topics(c, &req, 2000, &a, &res) == OD_KR_OK);
        CHECKF(res[0].status.error_code == cases[i].code, "%s: %d", cases[i].name, res[0].status.error_code);
        if (cases[i].msg)
            CHECKF(res[0].status.error_message && strcmp(res[0].status.error_message, cases[i].msg) == 0,
                   "%s: %s", cases[i].name, res[0].status.error_message ? res[0].status.error_message : "null");
    }
    const od_mi_topic *t = od_mimage_topic_by_name(od_controller_image(c), "asg_ok", 6);
    REQUIRE(t);
    /* Partition 1 = [2, 3]: 3 is fenced, so ISR [2], leader 2. Partition 0 = [3, 1]: leader 1. */
    CHECK_EQ_INT(t->partitions[1].leader, 2);
    CHECK_EQ_INT(t->partitions[1].isr.count, 1);
    CHECK_EQ_INT(t->partitions[0].leader, 1);
    CHECK_EQ_INT(t->partitions[0].replicas.ids[0], 3);

    /* Assignment with numPartitions or replicationFactor set. */
    od_create_topics_request_creatable_replica_assignment as;
    od_create_topics_request_creatable_replica_assignment_init(&as);
    int32_t one[] = {1};
    as.partition_index = 0;
    as.broker_ids = (od_int32_array){1, one};
    od_create_topics_request_creatable_topic tt;
    od_create_topics_request_creatable_topic_init(&tt);
    tt.name = OD_STR_LIT("asg_rf_set");
    tt.num_partitions = -1;
    tt.replication_factor = 1;
    tt.assignments = (od_create_topics_request_creatable_replica_assignment_array){1, &as};
    od_create_topics_request req;
    od_create_topics_request_init(&req);
    req.topics = (od_create_topics_request_creatable_topic_array){1, &tt};
    od_ctl_topic_result *res;
    REQUIRE(od_controller_create_topics(c, &req, 2000, &a, &res) == OD_KR_OK);
    CHECK_STATUS(res[0].status, OD_KERR_INVALID_REQUEST,
                 "A manual partition assignment was specified, but replication factor was not set to -1.");

    /* Automatic placement over two active brokers with RF 2: every partition
     * has both, leaders alternate. */
    od_ctl_topic_result r = create1(c, &a, "spread", 4, 2, false, NULL, 0);
    CHECK_STATUS(r.status, 0, NULL);
    t = od_mimage_topic_by_name(od_controller_image(c), "spread", 6);
    REQUIRE(t);
    int leaders[4] = {0};
    for (int p = 0; p < 4; p++) {
        CHECK_EQ_INT(t->partitions[p].replicas.count, 2);
        CHECK(t->partitions[p].replicas.ids[0] != t->partitions[p].replicas.ids[1]);
        int l = t->partitions[p].leader;
        CHECK(l == 1 || l == 2);
        leaders[l]++;
    }
    CHECK_EQ_INT(leaders[1], 2);
    CHECK_EQ_INT(leaders[2], 2);
    od_arena_release(&a);
    od_controller_close(c, true);
    kr_rmtree(dir);
}

static void test_delete_and_create_partitions(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    REQUIRE(register_broker(c, 1, true) >= 0);
    od_arena a;
    od_arena_init(&a);
    od_create_topics_request_creatable_topic_config cf;
    od_create_topics_request_creatable_topic_config_init(&cf);
    cf.name = OD_STR_LIT("max.message.bytes");
    cf.value = OD_STR_LIT("2000");
    od_ctl_topic_result doomed = create1(c, &a, "doomed", 1, 1, false, &cf, 1);
    REQUIRE(doomed.status.error_code == 0);
    REQUIRE(create1(c, &a, "orders", 3, 1, false, NULL, 0).status.error_code == 0);
    REQUIRE(create1(c, &a, "byid", 1, 1, false, NULL, 0).status.error_code == 0);
    const od_mimage *img = od_controller_image(c);

    /* CreatePartitions. */
    od_create_partitions_request_create_partitions_topic cp[4];
    const char *names[4] = {"orders", "orders2", "nope", "byid"};
    int32_t counts[4] = {2, 0, 5, 3};
    for (int i = 0; i < 4; i++) {
        od_create_partitions_request_create_partitions_topic_init(&cp[i]);
        cp[i].name = od_str_from_cstr(names[i]);
        cp[i].count = counts[i];
        cp[i].assignments.count = -1; /* null: place automatically */
    }
    od_create_partitions_request preq;
    od_create_partitions_request_init(&preq);
    preq.topics = (od_create_partitions_request_create_partitions_topic_array){4, cp};
    od_ctl_topic_result *pres;
    REQUIRE(od_controller_create_partitions(c, &preq, 3000, &a, &pres) == OD_KR_OK);
    CHECK_STATUS(pres[0].status, OD_KERR_INVALID_PARTITIONS,
                 "The topic orders currently has 3 partition(s); 2 would not be an increase.");
    CHECK_EQ_INT(pres[1].status.error_code, OD_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    CHECK_EQ_INT(pres[2].status.error_code, OD_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    CHECK(pres[2].status.error_message == NULL);
    CHECK_STATUS(pres[3].status, 0, NULL);
    const od_mi_topic *bt = od_mimage_topic_by_name(img, "byid", 4);
    REQUIRE(bt);
    CHECK_EQ_INT(bt->partition_count, 3);
    CHECK(od_mi_topic_partition(bt, 2) != NULL);

    cp[0].count = 3;
    preq.topics.count = 1;
    REQUIRE(od_controller_create_partitions(c, &preq, 3000, &a, &pres) == OD_KR_OK);
    CHECK_STATUS(pres[0].status, OD_KERR_INVALID_PARTITIONS, "Topic already has 3 partition(s).");
    int32_t r1[] = {1}, r11[] = {1, 1};
    od_create_partitions_request_create_partitions_assignment asg[2];
    od_create_partitions_request_create_partitions_assignment_init(&asg[0]);
    od_create_partitions_request_create_partitions_assignment_init(&asg[1]);
    asg[0].broker_ids = (od_int32_array){1, r1};
    asg[1].broker_ids = (od_int32_array){2, r11};
    cp[0].count = 5;
    cp[0].assignments = (od_create_partitions_request_create_partitions_assignment_array){2, asg};
    REQUIRE(od_controller_create_partitions(c, &preq, 3000, &a, &pres) == OD_KR_OK);
    CHECK_STATUS(pres[0].status, OD_KERR_INVALID_REPLICA_ASSIGNMENT,
                 "The manual partition assignment includes the broker 1 more than once.");
    cp[0].assignments.count = 1;
    REQUIRE(od_controller_create_partitions(c, &preq, 3000, &a, &pres) == OD_KR_OK);
    CHECK_STATUS(pres[0].status, OD_KERR_INVALID_REPLICA_ASSIGNMENT,
                 "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.");
    cp[0].count = 4;
    REQUIRE(od_controller_create_partitions(c, &preq, 3000, &a, &pres) == OD_KR_OK);
    CHECK_STATUS(pres[0].status, 0, NULL);
    CHECK_EQ_INT(od_mimage_topic_by_name(img, "orders", 6)->partition_count, 4);

    /* DeleteTopics by name (old versions) and by name or id (v6+). */
    od_str del_names[2] = {OD_STR_LIT("doomed"), OD_STR_LIT("nope")};
    od_delete_topics_request_delete_topic_state states[3];
    for (int i = 0; i < 3; i++)
        od_delete_topics_request_delete_topic_state_init(&states[i]);
    states[0].name = OD_STR_NULL;
    states[0].topic_id = bt->id;
    od_uuid unknown = {{0x11, 0x22}};
    states[1].name = OD_STR_NULL;
    states[1].topic_id = unknown;
    states[2].name = OD_STR_LIT("orders");
    states[2].topic_id.bytes[3] = 9;
    od_delete_topics_request dreq;
    od_delete_topics_request_init(&dreq);
    dreq.topic_names = (od_str_array){2, del_names};
    dreq.topics = (od_delete_topics_request_delete_topic_state_array){3, states};
    od_ctl_topic_result *dres;
    int32_t dcount = 0;
    int64_t end_before = od_quorum_end_offset(od_controller_quorum(c));
    REQUIRE(od_controller_delete_topics(c, &dreq, 4000, &a, &dres, &dcount) == OD_KR_OK);
    CHECK_EQ_INT(dcount, 5);
    CHECK_STATUS(dres[0].status, 0, NULL);
    CHECK(od_uuid_eq(&dres[0].topic_id, &doomed.topic_id));
    CHECK_STATUS(dres[1].status, OD_KERR_UNKNOWN_TOPIC_OR_PARTITION,
                 "This server does not host this topic-partition.");
    CHECK_STATUS(dres[2].status, 0, NULL);
    CHECK(od_str_eq_cstr(dres[2].name, "byid"));
    CHECK_STATUS(dres[3].status, OD_KERR_UNKNOWN_TOPIC_ID, "This server does not host this topic ID.");
    CHECK_EQ_INT(dres[4].status.error_code, OD_KERR_INVALID_REQUEST);
    /* Two RemoveTopicRecords in one batch. */
    CHECK_EQ_INT(od_quorum_end_offset(od_controller_quorum(c)), end_before + 2);
    CHECK(od_mimage_topic_by_name(img, "doomed", 6) == NULL);
    CHECK(od_mimage_configs(img, OD_CONFIG_RESOURCE_TOPIC, "doomed") == NULL);
    CHECK(od_mimage_topic_by_name(img, "byid", 4) == NULL);
    CHECK(od_mimage_topic_by_name(img, "orders", 6) != NULL);
    od_arena_release(&a);
    od_controller_close(c, true);
    kr_rmtree(dir);
}

static od_ctl_resource_result iac1(od_controller *c, od_arena *a, int8_t type, const char *name,
                                   const char *key, int8_t op, const char *value)
{
    od_incremental_alter_configs_request_alterable_config cf;
    od_incremental_alter_configs_request_alterable_config_init(&cf);
    cf.name = od_str_from_cstr(key);
    cf.config_operation = op;
    cf.value = value ? od_str_from_cstr(value) : OD_STR_NULL;
    od_incremental_alter_configs_request_alter_configs_resource rs;
    od_incremental_alter_configs_request_alter_configs_resource_init(&rs);
    rs.resource_type = type;
    rs.resource_name = od_str_from_cstr(name);
    rs.configs = (od_incremental_alter_configs_request_alterable_config_array){1, &cf};
    od_incremental_alter_configs_request req;
    od_incremental_alter_configs_request_init(&req);
    req.resources = (od_incremental_alter_configs_request_alter_configs_resource_array){1, &rs};
    od_ctl_resource_result *res;
    od_ctl_resource_result bad = {.status = {-99, "call failed"}};
    if (od_controller_incremental_alter_configs(c, &req, 5000, a, &res) != OD_KR_OK)
        return bad;
    return res[0];
}

static void test_alter_configs(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    REQUIRE(register_broker(c, 1, true) >= 0);
    od_arena a;
    od_arena_init(&a);
    REQUIRE(create1(c, &a, "t", 1, 1, false, NULL, 0).status.error_code == 0);
    const od_mimage *img = od_controller_image(c);
    od_ctl_resource_result r;

    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "t", "retention.ms", OD_CONFIG_OP_SET, "1000");
    CHECK_STATUS(r.status, 0, NULL);
    CHECK(strcmp(od_mimage_config(img, OD_CONFIG_RESOURCE_TOPIC, "t", "retention.ms"), "1000") == 0);
    /* Setting the same value again writes nothing. */
    int64_t end = od_quorum_end_offset(od_controller_quorum(c));
    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "t", "retention.ms", OD_CONFIG_OP_SET, "1000");
    CHECK_STATUS(r.status, 0, NULL);
    CHECK_EQ_INT(od_quorum_end_offset(od_controller_quorum(c)), end);
    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "t", "retention.ms", OD_CONFIG_OP_SET, "abc");
    CHECK_STATUS(r.status, OD_KERR_INVALID_CONFIG,
                 "Invalid value abc for configuration retention.ms: Not a number of type LONG");
    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "nope", "retention.ms", OD_CONFIG_OP_SET, "1");
    CHECK_STATUS(r.status, OD_KERR_UNKNOWN_TOPIC_OR_PARTITION, "The topic 'nope' does not exist.");
    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "t", "cleanup.policy", OD_CONFIG_OP_APPEND, "delete");
    CHECK_STATUS(r.status, 0, NULL);
    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "t", "cleanup.policy", OD_CONFIG_OP_APPEND, "compact,delete");
    CHECK(strcmp(od_mimage_config(img, OD_CONFIG_RESOURCE_TOPIC, "t", "cleanup.policy"), "delete,compact") == 0);
    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "t", "cleanup.policy", OD_CONFIG_OP_SUBTRACT, "delete");
    CHECK(strcmp(od_mimage_config(img, OD_CONFIG_RESOURCE_TOPIC, "t", "cleanup.policy"), "compact") == 0);
    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "t", "retention.ms", OD_CONFIG_OP_APPEND, "5");
    CHECK_STATUS(r.status, OD_KERR_INVALID_CONFIG,
                 "Can't APPEND to key retention.ms because its type is not LIST.");
    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "t", "retention.ms", OD_CONFIG_OP_DELETE, NULL);
    CHECK_STATUS(r.status, 0, NULL);
    CHECK(od_mimage_config(img, OD_CONFIG_RESOURCE_TOPIC, "t", "retention.ms") == NULL);
    r = iac1(c, &a, OD_CONFIG_RESOURCE_BROKER, "", "log.cleaner.threads", OD_CONFIG_OP_SET, "2");
    CHECK_STATUS(r.status, 0, NULL);
    CHECK(strcmp(od_mimage_config(img, OD_CONFIG_RESOURCE_BROKER, "", "log.cleaner.threads"), "2") == 0);
    r = iac1(c, &a, OD_CONFIG_RESOURCE_BROKER, "x1", "log.cleaner.threads", OD_CONFIG_OP_SET, "2");
    CHECK_STATUS(r.status, OD_KERR_INVALID_REQUEST, "Illegal non-integral BROKER resource type name x1");
    r = iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "", "retention.ms", OD_CONFIG_OP_SET, "2");
    CHECK_STATUS(r.status, OD_KERR_INVALID_REQUEST, "Default topic resources are not allowed.");

    /* Legacy AlterConfigs replaces the whole set. */
    REQUIRE(iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, "t", "segment.ms", OD_CONFIG_OP_SET, "600000").status.error_code == 0);
    od_alter_configs_request_alterable_config ac;
    od_alter_configs_request_alterable_config_init(&ac);
    ac.name = OD_STR_LIT("retention.ms");
    ac.value = OD_STR_LIT("777");
    od_alter_configs_request_alter_configs_resource ars;
    od_alter_configs_request_alter_configs_resource_init(&ars);
    ars.resource_type = OD_CONFIG_RESOURCE_TOPIC;
    ars.resource_name = OD_STR_LIT("t");
    ars.configs = (od_alter_configs_request_alterable_config_array){1, &ac};
    od_alter_configs_request areq;
    od_alter_configs_request_init(&areq);
    areq.resources = (od_alter_configs_request_alter_configs_resource_array){1, &ars};
    od_ctl_resource_result *ares;
    REQUIRE(od_controller_alter_configs(c, &areq, 6000, &a, &ares) == OD_KR_OK);
    CHECK_STATUS(ares[0].status, 0, NULL);
    const od_mi_config_resource *cr = od_mimage_configs(img, OD_CONFIG_RESOURCE_TOPIC, "t");
    REQUIRE(cr);
    CHECK_EQ_INT(cr->count, 1);
    CHECK(strcmp(cr->entries[0].name, "retention.ms") == 0 && strcmp(cr->entries[0].value, "777") == 0);
    /* validate_only changes nothing. */
    areq.validate_only = true;
    ac.value = OD_STR_LIT("888");
    REQUIRE(od_controller_alter_configs(c, &areq, 6000, &a, &ares) == OD_KR_OK);
    CHECK(strcmp(od_mimage_config(img, OD_CONFIG_RESOURCE_TOPIC, "t", "retention.ms"), "777") == 0);

    /* Features. */
    od_ctl_status st;
    CHECK_EQ_INT(od_controller_update_feature(c, "metadata.version", 20, 7000, &a, &st), OD_KR_OK);
    CHECK_EQ_INT(st.error_code, OD_KERR_INVALID_UPDATE_VERSION);
    CHECK_EQ_INT(od_controller_update_feature(c, "metadata.version", 99, 7000, &a, &st), OD_KR_OK);
    CHECK_EQ_INT(st.error_code, OD_KERR_INVALID_UPDATE_VERSION);
    CHECK_EQ_INT(od_controller_update_feature(c, "group.version", 1, 7000, &a, &st), OD_KR_OK);
    CHECK_EQ_INT(st.error_code, 0);
    CHECK_EQ_INT(od_mimage_feature_level(img, "group.version"), 1);
    od_arena_release(&a);
    od_controller_close(c, true);
    kr_rmtree(dir);
}

/* Create topics and configs, close, reopen: the replayed image is identical. */
static void test_restart_replays_identical_image(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    REQUIRE(register_broker(c, 1, true) >= 0);
    od_arena a;
    od_arena_init(&a);
    char name[32];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "topic-%d", i);
        REQUIRE(create1(c, &a, name, 1 + i % 4, 1, false, NULL, 0).status.error_code == 0);
        REQUIRE(iac1(c, &a, OD_CONFIG_RESOURCE_TOPIC, name, "retention.ms", OD_CONFIG_OP_SET, "60000").status.error_code == 0);
    }
    od_ctl_status st;
    int64_t first;
    int32_t count;
    REQUIRE(od_controller_allocate_producer_ids(c, 1, 5, 1000, &a, &st, &first, &count) == OD_KR_OK);
    od_arena_release(&a);
    od_mimage *before = od_mimage_clone(od_controller_image(c));
    REQUIRE(before);
    CHECK_EQ_INT(od_controller_close(c, true), OD_KR_OK);

    REQUIRE(od_controller_open(&cfg, 9000, &c) == OD_KR_OK);
    CHECK(od_mimage_equal(before, od_controller_image(c)));
    CHECK_EQ_INT(od_mimage_topic_count(od_controller_image(c)), 20);
    CHECK_EQ_INT(od_controller_close(c, false), OD_KR_OK); /* an unclean close too */

    REQUIRE(od_controller_open(&cfg, 9500, &c) == OD_KR_OK);
    CHECK(od_mimage_equal(before, od_controller_image(c)));
    od_controller_close(c, true);

    /* The read-only replay of the directory yields the same image. */
    od_mimage *replayed = od_mimage_new();
    REQUIRE(replayed);
    CHECK_EQ_INT(od_metadata_replay_dir(od_fio_posix(), dir, 9900, replayed), OD_KR_OK);
    CHECK(od_mimage_equal(before, replayed));
    od_mimage_free(replayed);
    od_mimage_free(before);
    kr_rmtree(dir);
}

/* Creates `n` topics named <prefix>-<i>, then writes a snapshot. */
static od_snapshot_id topics_then_snapshot(od_controller *c, const char *prefix, int n)
{
    od_arena a;
    od_arena_init(&a);
    char name[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s-%d", prefix, i);
        CHECK_EQ_INT(create1(c, &a, name, 2, 1, false, NULL, 0).status.error_code, 0);
    }
    od_arena_release(&a);
    od_snapshot_id id = {0, 0};
    CHECK_EQ_INT(od_controller_snapshot(c, 2000, &id), OD_KR_OK);
    return id;
}

static size_t snapshot_count(const char *dir)
{
    char part[300];
    snprintf(part, sizeof part, "%s/" OD_METADATA_TOPIC "-0", dir);
    od_snapshot_file *files;
    size_t n = 0;
    CHECK_EQ_INT(od_snapshot_list(od_fio_posix(), part, &files, &n), OD_KR_OK);
    free(files);
    return n;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* metadata.max.retention.bytes / .ms (invariant 10): over a limit, the
 * oldest snapshots go with the segments below the next one; the latest
 * snapshot and the log after it stay and replay into the same image. */
static void test_clean_log_behind_snapshots(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    cfg.log.segment_bytes = 1024; /* a segment every few records */
    cfg.retention_bytes = -1;
    cfg.retention_ms = -1;
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    REQUIRE(register_broker(c, 1, true) >= 0);
    od_snapshot_id ids[3];
    ids[0] = topics_then_snapshot(c, "first", 10);
    ids[1] = topics_then_snapshot(c, "second", 10);
    ids[2] = topics_then_snapshot(c, "third", 10);
    int deleted = -1;
    /* No limit: everything stays. */
    CHECK_EQ_INT(od_controller_clean_log(c, wall_ms() + 1000, &deleted), OD_KR_OK);
    CHECK_EQ_INT(deleted, 0);
    CHECK_EQ_INT(snapshot_count(dir), 3);
    CHECK_EQ_INT(od_raft_log_start_offset(od_quorum_log(od_controller_quorum(c))), 0);
    od_mimage *before = od_mimage_clone(od_controller_image(c));
    REQUIRE(before);
    CHECK_EQ_INT(od_controller_close(c, true), OD_KR_OK);

    /* Over the size limit: all but the latest snapshot go, and the log up to
     * the segment holding the latest snapshot's end offset. */
    cfg.retention_bytes = 1;
    REQUIRE(od_controller_open(&cfg, 3000, &c) == OD_KR_OK);
    CHECK_EQ_INT(od_controller_clean_log(c, 3000, &deleted), OD_KR_OK);
    CHECK_EQ_INT(deleted, 2);
    CHECK_EQ_INT(snapshot_count(dir), 1);
    int64_t start = od_raft_log_start_offset(od_quorum_log(od_controller_quorum(c)));
    CHECKF(start > ids[1].end_offset && start <= ids[2].end_offset, "log start %lld", (long long)start);
    /* One snapshot left: nothing more can go, whatever the limit. */
    CHECK_EQ_INT(od_controller_clean_log(c, 3000, &deleted), OD_KR_OK);
    CHECK_EQ_INT(deleted, 0);
    CHECK_EQ_INT(od_controller_close(c, false), OD_KR_OK);

    /* Reopened (unclean, so the whole log is validated): the latest snapshot
     * and the log after it give the same image, also to the tools' replay. */
    REQUIRE(od_controller_open(&cfg, 4000, &c) == OD_KR_OK);
    CHECK(od_mimage_equal(before, od_controller_image(c)));
    od_mimage *replayed = od_mimage_new();
    REQUIRE(replayed);
    CHECK_EQ_INT(od_metadata_replay_dir(od_fio_posix(), dir, 4000, replayed), OD_KR_OK);
    CHECK(od_mimage_equal(before, replayed));
    od_mimage_free(replayed);

    /* By age: with retention_ms 0, any snapshot older than the latest goes. */
    CHECK_EQ_INT(od_controller_close(c, true), OD_KR_OK);
    cfg.retention_bytes = -1;
    cfg.retention_ms = 0;
    REQUIRE(od_controller_open(&cfg, 5000, &c) == OD_KR_OK);
    od_snapshot_id last = topics_then_snapshot(c, "fourth", 10);
    CHECK_EQ_INT(snapshot_count(dir), 2);
    CHECK_EQ_INT(od_controller_clean_log(c, wall_ms() + 1000, &deleted), OD_KR_OK);
    CHECK_EQ_INT(deleted, 1);
    CHECK_EQ_INT(snapshot_count(dir), 1);
    start = od_raft_log_start_offset(od_quorum_log(od_controller_quorum(c)));
    CHECKF(start > ids[2].end_offset && start <= last.end_offset, "log start %lld", (long long)start);
    od_mimage_free(before);
    before = od_mimage_clone(od_controller_image(c));
    REQUIRE(before);
    CHECK_EQ_INT(od_controller_close(c, true), OD_KR_OK);
    REQUIRE(od_controller_open(&cfg, 6000, &c) == OD_KR_OK);
    CHECK(od_mimage_equal(before, od_controller_image(c)));
    CHECK_EQ_INT(od_mimage_topic_count(od_controller_image(c)), 40);
    od_controller_close(c, true);
    od_mimage_free(before);
    kr_rmtree(dir);
}

/* Appends after a failed fsync are refused: the controller is Failed. */
static void test_storage_failure_is_sticky(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    od_controller_config cfg = config_for(dir);
    cfg.io = &f.io;
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    REQUIRE(register_broker(c, 1, true) >= 0);
    od_arena a;
    od_arena_init(&a);
    f.fail_ops = OD_FIO_OP_FSYNC;
    f.fail_errno = 5;
    f.fail_after = 0;
    od_ctl_topic_result r = create1(c, &a, "x", 1, 1, false, NULL, 0);
    CHECK_EQ_INT(r.status.error_code, -99); /* the call itself failed */
    CHECK(od_mimage_topic_by_name(od_controller_image(c), "x", 1) == NULL);
    od_fio_fault_clear(&f);
    r = create1(c, &a, "y", 1, 1, false, NULL, 0);
    CHECK_EQ_INT(r.status.error_code, -99);
    od_arena_release(&a);
    od_controller_close(c, false);
    kr_rmtree(dir);
}

static od_mrec topic_rec(od_topic_record *t, const char *name, uint8_t id)
{
    od_topic_record_init(t);
    t->name = od_str_from_cstr(name);
    t->topic_id.bytes[0] = id;
    return (od_mrec){OD_MREC_TOPIC, 0, t};
}

/* Transactions spanning batches: applied at End, dropped at Abort, and one
 * left open by a dead leader is aborted at the next start. */
static void test_metadata_transactions(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    od_controller_close(c, true);

    /* Write the transactions straight through a quorum, as another
     * controller would have. */
    od_quorum_config qc = {
        .io = od_fio_posix(), .metadata_log_dir = dir, .node_id = 1, .voters = voters1, .voter_count = 1};
    od_quorum *q;
    REQUIRE(od_quorum_open(&qc, 2000, &q) == OD_KR_OK);
    REQUIRE(od_quorum_poll(q, 2000) == OD_KR_OK);
    od_begin_transaction_record begin;
    od_begin_transaction_record_init(&begin);
    od_end_transaction_record end;
    od_end_transaction_record_init(&end);
    od_abort_transaction_record abort_rec;
    od_abort_transaction_record_init(&abort_rec);
    od_topic_record ta, tb, tc, td;
    od_mrec b1[2] = {{OD_MREC_BEGIN_TRANSACTION, 0, &begin}, topic_rec(&ta, "in-txn-a", 0xa1)};
    od_mrec b2[2] = {topic_rec(&tb, "in-txn-b", 0xb1), {OD_MREC_END_TRANSACTION, 0, &end}};
    od_mrec b3[2] = {{OD_MREC_BEGIN_TRANSACTION, 0, &begin}, topic_rec(&tc, "aborted", 0xc1)};
    od_mrec b4[1] = {{OD_MREC_ABORT_TRANSACTION, 0, &abort_rec}};
    od_mrec b5[2] = {{OD_MREC_BEGIN_TRANSACTION, 0, &begin}, topic_rec(&td, "left-open", 0xd1)};
    REQUIRE(od_quorum_append(q, b1, 2, 2001, NULL) == OD_KR_OK);
    REQUIRE(od_quorum_append(q, b2, 2, 2002, NULL) == OD_KR_OK);
    REQUIRE(od_quorum_append(q, b3, 2, 2003, NULL) == OD_KR_OK);
    REQUIRE(od_quorum_append(q, b4, 1, 2004, NULL) == OD_KR_OK);
    REQUIRE(od_quorum_append(q, b5, 2, 2005, NULL) == OD_KR_OK);
    od_quorum_close(q, true);

    od_mimage *img = od_mimage_new();
    REQUIRE(od_metadata_replay_dir(od_fio_posix(), dir, 3000, img) == OD_KR_OK);
    CHECK(od_mimage_topic_by_name(img, "in-txn-a", 8) != NULL);
    CHECK(od_mimage_topic_by_name(img, "in-txn-b", 8) != NULL);
    CHECK(od_mimage_topic_by_name(img, "aborted", 7) == NULL);
    CHECK(od_mimage_topic_by_name(img, "left-open", 9) == NULL);
    od_mimage_free(img);

    REQUIRE(od_controller_open(&cfg, 4000, &c) == OD_KR_OK);
    const od_mimage *ci = od_controller_image(c);
    CHECK_EQ_INT(od_mimage_topic_count(ci), 2);
    CHECK(od_mimage_topic_by_name(ci, "left-open", 9) == NULL);
    int64_t end_offset = od_quorum_end_offset(od_controller_quorum(c));
    CHECK_EQ_INT(od_mimage_last_offset(ci), end_offset - 1); /* the abort is the last record */
    od_controller_close(c, true);
    /* Once aborted, it stays aborted; nothing more is written. */
    REQUIRE(od_controller_open(&cfg, 5000, &c) == OD_KR_OK);
    CHECK_EQ_INT(od_mimage_topic_count(od_controller_image(c)), 2);
    CHECK_EQ_INT(od_quorum_end_offset(od_controller_quorum(c)), end_offset + 1); /* + LeaderChange */
    od_controller_close(c, true);
    kr_rmtree(dir);
}

/* ---------------------------------------------------------------- group commit */

/* Five CreateTopics operations in one group: each appends its own batch and
 * sees the earlier ones (a duplicate name is refused as one by one), but no
 * fsync, no high watermark and no on_commit until group_commit, which
 * syncs once and reports all the records at once. */
static void test_group_commit_shares_one_fsync(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    od_controller_config cfg = config_for(dir);
    cfg.io = &f.io;
    commits seen = {0};
    cfg.on_commit = on_commit;
    cfg.commit_ctx = &seen;
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    REQUIRE(register_broker(c, 1, true) >= 0);
    od_arena a;
    od_arena_init(&a);
    /* One by one, for comparison: every operation pays its own sync. */
    int64_t before = f.fsyncs;
    REQUIRE(create1(c, &a, "alone-1", 1, 1, false, NULL, 0).status.error_code == 0);
    REQUIRE(create1(c, &a, "alone-2", 1, 1, false, NULL, 0).status.error_code == 0);
    int64_t alone = f.fsyncs - before;
    CHECK(alone >= 2);

    od_quorum *q = od_controller_quorum(c);
    int64_t end_before = od_quorum_end_offset(q);
    int64_t hw_before = od_quorum_high_watermark(q);
    seen = (commits){0};
    before = f.fsyncs;
    od_controller_group_begin(c);
    const char *names[] = {"g-0", "g-1", "g-0", "g-2", "g-3"};
    od_ctl_topic_result r[5];
    for (int i = 0; i < 5; i++)
        r[i] = create1(c, &a, names[i], 2, 1, false, NULL, 0);
    CHECK_STATUS(r[0].status, 0, NULL);
    CHECK_STATUS(r[2].status, OD_KERR_TOPIC_ALREADY_EXISTS, "Topic 'g-0' already exists.");
    CHECK_STATUS(r[4].status, 0, NULL);
    CHECK_EQ_INT(f.fsyncs - before, 0);
    CHECK_EQ_INT(seen.batches, 0);
    CHECK_EQ_INT(od_quorum_high_watermark(q), hw_before);
    CHECK_EQ_INT(od_quorum_end_offset(q), end_before + 4 * 3); /* topic + 2 partitions each */
    CHECK_EQ_INT(od_controller_snapshot(c, 1000, NULL), OD_KR_INVALID); /* not mid-group */

    CHECK_EQ_INT(od_controller_group_commit(c, 3000), OD_KR_OK);
    CHECK(f.fsyncs - before > 0 && f.fsyncs - before <= alone / 2);
    CHECK_EQ_INT(seen.batches, 1);
    CHECK_EQ_INT(seen.records, 12);
    CHECK_EQ_INT(seen.last_first_offset, end_before);
    CHECK_EQ_INT(od_quorum_high_watermark(q), end_before + 12);
    CHECK_EQ_INT(od_mimage_topic_count(od_controller_image(c)), 6);
    /* An empty group costs nothing. */
    before = f.fsyncs;
    od_controller_group_begin(c);
    CHECK_STATUS(create1(c, &a, "g-1", 1, 1, false, NULL, 0).status, OD_KERR_TOPIC_ALREADY_EXISTS, NULL);
    CHECK_EQ_INT(od_controller_group_commit(c, 3000), OD_KR_OK);
    CHECK_EQ_INT(f.fsyncs - before, 0);
    od_arena_release(&a);
    od_mimage *img = od_mimage_clone(od_controller_image(c));
    REQUIRE(img);
    od_controller_close(c, false);
    cfg.io = od_fio_posix();
    cfg.on_commit = NULL;
    REQUIRE(od_controller_open(&cfg, 9000, &c) == OD_KR_OK);
    CHECK(od_mimage_equal(img, od_controller_image(c)));
    od_mimage_free(img);
    od_controller_close(c, true);
    kr_rmtree(dir);
}

/* A failed group fsync: group_commit says unknown (OD_KR_IO), on_commit
 * never runs, the controller is Failed. */
static void test_group_commit_fsync_failure(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    od_controller_config cfg = config_for(dir);
    cfg.io = &f.io;
    commits seen = {0};
    cfg.on_commit = on_commit;
    cfg.commit_ctx = &seen;
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    REQUIRE(register_broker(c, 1, true) >= 0);
    seen = (commits){0};
    od_arena a;
    od_arena_init(&a);
    od_controller_group_begin(c);
    CHECK_STATUS(create1(c, &a, "a", 1, 1, false, NULL, 0).status, 0, NULL);
    CHECK_STATUS(create1(c, &a, "b", 1, 1, false, NULL, 0).status, 0, NULL);
    f.fail_ops = OD_FIO_OP_FSYNC;
    f.fail_errno = 5;
    f.fail_after = 0;
    CHECK_EQ_INT(od_controller_group_commit(c, 2000), OD_KR_IO);
    CHECK_EQ_INT(seen.batches, 0);
    od_fio_fault_clear(&f);
    CHECK_EQ_INT(create1(c, &a, "c", 1, 1, false, NULL, 0).status.error_code, -99);
    od_arena_release(&a);
    od_controller_close(c, false);
    kr_rmtree(dir);
}

/* The broker's part of a commit, as broker.c does it: a log for every new
 * partition, in the log dir, through the same I/O table. */
typedef struct log_opener {
    od_logdir *d;
    od_fio *io;
    int failures;
} log_opener;

static void open_logs_on_commit(void *ctx, const od_mrec *recs, int32_t count, int64_t first,
                                const od_mimage *img)
{
    (void)first;
    log_opener *lo = ctx;
    for (int32_t i = 0; i < count; i++) {
        if (recs[i].type != OD_MREC_PARTITION)
            continue;
        const od_partition_record *p = recs[i].msg;
        const od_mi_topic *t = od_mimage_topic_by_id(img, &p->topic_id);
        od_log *log;
        if (t == NULL || od_logdir_open_log(lo->d, t->name, p->partition_id, NULL, 1000, &log, NULL) ||
            od_partition_metadata_ensure(lo->io, od_log_dir(log), &t->id))
            lo->failures++;
    }
}

/* One group of three CreateTopics (plus the logs on_commit opens), with the
 * process dying after `calls` mutating I/O calls (-1: never). Returns the
 * mutating calls made; *committed: group_commit said OK. */
static int64_t group_run(const char *dir, int64_t calls, bool *committed)
{
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    f.skip_fsync = true; /* the page cache outlives this crash; keep it fast */
    od_controller_config cfg = config_for(dir);
    cfg.io = &f.io;
    log_opener lo = {.io = &f.io};
    cfg.on_commit = open_logs_on_commit;
    cfg.commit_ctx = &lo;
    od_controller *c;
    *committed = false;
    if (od_controller_open(&cfg, 1000, &c) != OD_KR_OK ||
        od_logdir_open(&f.io, dir, 16, &lo.d) != OD_ST_OK || register_broker(c, 1, true) < 0)
        abort(); /* the setup itself does not crash */
    f.crash_after_calls = calls < 0 ? -1 : f.mutating_calls + calls;
    int64_t start = f.mutating_calls;
    od_arena a;
    od_arena_init(&a);
    od_controller_group_begin(c);
    create1(c, &a, "t-a", 2, 1, false, NULL, 0);
    create1(c, &a, "t-b", 1, 1, false, NULL, 0);
    create1(c, &a, "t-c", 3, 1, false, NULL, 0);
    *committed = od_controller_group_commit(c, 2000) == OD_KR_OK && !f.dead && lo.failures == 0;
    od_arena_release(&a);
    int64_t made = f.mutating_calls - start;
    od_logdir_abandon(lo.d);
    od_controller_close(c, false);
    return made;
}

/* A crash at every step of a group commit and the log creations after it:
 * on restart the metadata holds a prefix of the group's topics (all of
 * them when the group was acknowledged), and every partition of every topic
 * it holds opens, as the broker's start does, as a valid empty log. */
static void test_crash_points_in_group_commit(void)
{
    char dir[256];
    kr_tmpdir(dir);
    bool committed;
    int64_t total = group_run(dir, -1, &committed);
    kr_rmtree(dir);
    CHECK(committed);
    CHECK(total > 10);
    const char *names[] = {"t-a", "t-b", "t-c"};
    for (int64_t calls = 0; calls <= total; calls++) {
        kr_tmpdir(dir);
        group_run(dir, calls, &committed);
        od_controller_config cfg = config_for(dir);
        od_controller *c;
        od_kr_err err = od_controller_open(&cfg, 5000, &c);
        CHECKF(err == OD_KR_OK, "crash after %lld: reopen %d", (long long)calls, err);
        if (err != OD_KR_OK) {
            kr_rmtree(dir);
            continue;
        }
        const od_mimage *img = od_controller_image(c);
        int present = 0;
        bool prefix = true;
        for (int i = 0; i < 3; i++) {
            bool here = od_mimage_topic_by_name(img, names[i], 3) != NULL;
            prefix &= !here || present == i;
            present += here;
        }
        CHECKF(prefix, "crash after %lld: topics not a prefix of the group", (long long)calls);
        CHECKF(!committed || present == 3, "crash after %lld: acknowledged but %d topics",
               (long long)calls, present);
        od_logdir *d;
        REQUIRE(od_logdir_open(od_fio_posix(), dir, 16, &d) == OD_ST_OK);
        for (int i = 0; i < 3; i++) {
            const od_mi_topic *t = od_mimage_topic_by_name(img, names[i], 3);
            for (int32_t p = 0; t != NULL && p < t->partition_count; p++) {
                od_log *log;
                od_st_err st = od_logdir_open_log(d, t->name, p, NULL, 6000, &log, NULL);
                CHECKF(st == OD_ST_OK, "crash after %lld: %s-%d: %s", (long long)calls, t->name, p,
                       od_st_err_name(st));
                if (st != OD_ST_OK)
                    continue;
                CHECKF(od_log_end_offset(log) == 0, "crash after %lld: %s-%d not empty",
                       (long long)calls, t->name, p);
                CHECK(od_partition_metadata_ensure(od_fio_posix(), od_log_dir(log), &t->id) == OD_ST_OK);
            }
        }
        od_logdir_close(d, 1);
        od_controller_close(c, true);
        kr_rmtree(dir);
    }
}

OD_TEST_MAIN(OD_CASE(test_metadata_transactions), OD_CASE(test_fresh_start_writes_bootstrap), OD_CASE(test_bootstrap_checkpoint_is_used),
             OD_CASE(test_broker_registration), OD_CASE(test_create_topic_records),
             OD_CASE(test_create_topic_validation), OD_CASE(test_manual_assignments),
             OD_CASE(test_delete_and_create_partitions), OD_CASE(test_alter_configs),
             OD_CASE(test_restart_replays_identical_image), OD_CASE(test_storage_failure_is_sticky),
             OD_CASE(test_group_commit_shares_one_fsync), OD_CASE(test_group_commit_fsync_failure),
             OD_CASE(test_crash_points_in_group_commit), OD_CASE(test_clean_log_behind_snapshots))
