/*
 * The group service against a real broker on a temp dir: a group's records
 * go to the partition Kafka's partitionFor names, and a reopened broker
 * loads them back (groups and offsets survive a restart).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "checkpoint.h"
#include "dispatch.h"
#include "fileio.h"
#include "group_service.h"
#include "od_test.h"

/* java.lang.String.hashCode of each id, printed by a JVM (the facts this
 * mapping must reproduce), and Utils.abs(hash) % 50. */
static const struct {
    const char *group;
    int32_t java_hash;
    int32_t partition;
} java_facts[] = {
    {"polygenelubricants", INT32_MIN, 0}, /* Utils.abs(MIN_VALUE) is 0 */
    {"hello", 99162322, 22},
    {"pg1", 110874, 24},
    {"group-n\xc3\xa9gatif", 124966606, 6},
    {"grp-\xf0\x9f\x98\x80", -1235730613, 13}, /* a surrogate pair in UTF-16 */
    {"zzzzzzzzzzzzzz", -1886561600, 0},
};

static void test_partition_matches_java(void)
{
    for (size_t i = 0; i < sizeof java_facts / sizeof java_facts[0]; i++) {
        od_str id = od_str_from_cstr(java_facts[i].group);
        CHECK_EQ_INT(od_java_string_hash(id), java_facts[i].java_hash);
        CHECK_EQ_INT(od_group_partition_for(id, 50), java_facts[i].partition);
    }
}

static char root[256];

static void settings_for(od_broker_settings *s)
{
    memset(s, 0, sizeof *s);
    s->node_id = 1;
    s->num_partitions = 1;
    s->default_replication_factor = 1;
    s->network_threads = 1;
    od_log_config_default(&s->log_defaults);
    s->log_dir = strdup(root);
    s->metadata_log_dir = strdup(root);
    s->advertised = calloc(1, sizeof *s->advertised);
    s->advertised[0] = (od_broker_endpoint){strdup("PLAINTEXT"), strdup("127.0.0.1"), 9092};
    s->advertised_count = 1;
    od_tc_config_default(&s->txn);
    s->groups = (od_broker_group_settings){
        .offsets_topic_num_partitions = 50,
        .offsets_topic_replication_factor = 1,
        .offsets_topic_segment_bytes = 100 << 20,
        .offsets_retention_minutes = 10080,
        .offsets_retention_check_interval_ms = 600000,
        .offset_metadata_max_bytes = 4096,
        .group_min_session_timeout_ms = 6000,
        .group_max_session_timeout_ms = 1800000,
        .group_initial_rebalance_delay_ms = 0,
        .group_max_size = INT32_MAX,
    };
}

static od_broker *open_broker(void)
{
    od_broker_settings s;
    settings_for(&s);
    char err[256] = "";
    od_broker *b = od_broker_open(&s, NULL, err, sizeof err);
    CHECKF(b != NULL, "open: %s", err);
    return b;
}

static int64_t log_end_of(od_broker *b, int32_t partition)
{
    od_broker_lock(b);
    od_broker_topic *t = od_broker_topic_by_name(b, OD_STR_LIT(OD_GROUP_OFFSETS_TOPIC));
    od_broker_partition *p = od_broker_partition_of(t, partition);
    int64_t end = p && p->log ? od_log_end_offset(p->log) : -1;
    od_broker_unlock(b);
    return end;
}

static int16_t commit(od_broker *b, const char *group, const char *topic, int32_t partition,
                      int64_t offset)
{
    od_gc_offset_commit c = {.topic = od_str_from_cstr(topic), .partition = partition,
                             .offset = offset, .leader_epoch = -1,
                             .metadata = OD_STR_LIT("m"), .commit_timestamp = -1};
    od_gc *gc = od_group_service_lock(b->groups);
    od_gc_commit_offsets(gc, od_str_from_cstr(group), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &c, 1);
    od_group_service_unlock(b->groups);
    return c.error;
}

static int64_t fetch(od_broker *b, const char *group, const char *topic, int32_t partition)
{
    od_gc_offset_fetch f = {.topic = od_str_from_cstr(topic), .partition = partition};
    od_arena arena;
    od_arena_init(&arena);
    od_gc *gc = od_group_service_lock(b->groups);
    int16_t err = od_gc_fetch_offsets(gc, od_str_from_cstr(group), false, &f, 1, false, &arena,
                                      NULL, NULL);
    od_group_service_unlock(b->groups);
    od_arena_release(&arena);
    return err == 0 && f.error == 0 ? f.offset : -2;
}

static void format_root(void)
{
    snprintf(root, sizeof root, "/tmp/od-test-groups-XXXXXX");
    REQUIRE(mkdtemp(root) != NULL);
    od_meta_properties mp = {.version = 1, .node_id = 1};
    snprintf(mp.cluster_id, sizeof mp.cluster_id, "%s", "AAAAAAAAAAAAAAAAAAAAAA");
    REQUIRE(od_meta_properties_write(od_fio_posix(), root, &mp) == OD_ST_OK);
}

static void remove_root(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
}

static void test_records_land_in_hashed_partition_and_reload(void)
{
    format_root();
    od_broker *b = open_broker();
    REQUIRE(b != NULL);
    /* No topic yet: nothing is coordinated, as Kafka before FindCoordinator. */
    CHECK_EQ_INT(commit(b, "hello", "t", 0, 5), OD_GC_NOT_COORDINATOR);
    /* As Kafka: the first look-up asks the controller for the topic and is
     * told to retry; the topic is loaded once the creation commits. */
    CHECK_EQ_INT(od_group_service_ensure_topic(b->groups), OD_GC_COORDINATOR_NOT_AVAILABLE);
    int16_t found = OD_GC_COORDINATOR_NOT_AVAILABLE;
    for (int i = 0; i < 1000 && found != 0; i++) {
        usleep(10 * 1000);
        found = od_group_service_ensure_topic(b->groups);
    }
    CHECK_EQ_INT(found, 0);
    CHECK_EQ_INT(od_group_service_partitions(b->groups), 50);
    for (size_t i = 0; i < sizeof java_facts / sizeof java_facts[0]; i++)
        CHECK_EQ_INT(commit(b, java_facts[i].group, "t", (int32_t)i, 100 + (int64_t)i), 0);
    /* Each commit is one record in its group's partition; others hold none
     * ("polygenelubricants" and "zzz..." share partition 0). */
    for (int32_t p = 0; p < 50; p++) {
        int64_t expected = 0;
        for (size_t i = 0; i < sizeof java_facts / sizeof java_facts[0]; i++)
            expected += java_facts[i].partition == p;
        CHECK_EQ_INT(log_end_of(b, p), expected);
    }
    CHECK_EQ_INT(od_broker_close(b), 0);

    b = open_broker();
    REQUIRE(b != NULL);
    for (size_t i = 0; i < sizeof java_facts / sizeof java_facts[0]; i++)
        CHECK_EQ_INT(fetch(b, java_facts[i].group, "t", (int32_t)i), 100 + (int64_t)i);
    /* A later commit wins after the next reload too. */
    CHECK_EQ_INT(commit(b, "hello", "t", 1, 7), 0);
    CHECK_EQ_INT(od_broker_close(b), 0);
    b = open_broker();
    REQUIRE(b != NULL);
    CHECK_EQ_INT(fetch(b, "hello", "t", 1), 7);
    CHECK_EQ_INT(fetch(b, "nobody", "t", 1), -1);
    CHECK_EQ_INT(od_broker_close(b), 0);
    remove_root();
}

/* A request frame for od_dispatch_request: header, then the body. */
static od_request *make_request(int16_t key, int16_t version, const void *body)
{
    const od_api_info *api = od_api_find(key);
    od_request *req = calloc(1, sizeof *req);
    od_arena_init(&req->arena);
    req->api_key = key;
    req->api_version = version;
    req->correlation_id = 7;
    od_request_header h;
    od_request_header_init(&h);
    h.request_api_key = key;
    h.request_api_version = version;
    h.correlation_id = 7;
    h.client_id = OD_STR_LIT("group-service-test");
    od_writer w;
    od_writer_init(&w, 256);
    od_request_header_encode(&h, &w, (int16_t)od_request_header_version(key, version));
    api->request->encode(body, &w, version);
    uint8_t *frame = od_arena_alloc(&req->arena, w.len);
    memcpy(frame, w.buf, w.len);
    req->frame = frame;
    req->frame_len = w.len;
    od_writer_free(&w);
    od_chain_init(&req->response);
    return req;
}

/* Decodes the (single memory link) response after its header. */
static bool decode_response(od_request *req, int16_t key, int16_t version, void *out, od_arena *arena)
{
    const od_link *l = req->response.head;
    if (l == NULL || l->kind != OD_LINK_MEMORY)
        return false;
    od_reader r;
    od_reader_init(&r, l->memory, l->len, arena);
    od_response_header rh;
    od_response_header_decode(&rh, &r, (int16_t)od_response_header_version(key, version));
    od_api_find(key)->response->decode(out, &r, version);
    return r.err == OD_WIRE_OK && rh.correlation_id == 7;
}

/* Bug: OffsetFetch for all of a group's offsets (null topics) with a
 * group-level error (here NOT_COORDINATOR: __consumer_offsets does not exist
 * yet) sized an allocation from an uninitialised topic count. */
static void test_offset_fetch_all_with_group_error_bug(void)
{
    format_root();
    od_broker *b = open_broker();
    REQUIRE(b != NULL);
    od_dispatch table;
    od_dispatch_init(&table, b);
    for (int16_t version = 2; version <= 9; version++) {
        od_offset_fetch_request body;
        od_offset_fetch_request_init(&body);
        od_offset_fetch_request_offset_fetch_request_group group;
        od_offset_fetch_request_offset_fetch_request_group_init(&group);
        group.group_id = OD_STR_LIT("g");
        group.topics = (od_offset_fetch_request_offset_fetch_request_topics_array){-1, NULL};
        bool batched = version >= 8;
        if (batched)
            body.groups = (od_offset_fetch_request_offset_fetch_request_group_array){1, &group};
        else
            body.group_id = OD_STR_LIT("g"), body.topics.count = -1;
        od_request *req = make_request(9, version, &body);
        CHECK_EQ_INT(od_dispatch_request(&table, req), OD_HANDLE_DONE);
        od_arena arena;
        od_arena_init(&arena);
        od_offset_fetch_response resp;
        CHECKF(decode_response(req, 9, version, &resp, &arena), "v%d", version);
        if (batched) {
            CHECK_EQ_INT(resp.groups.count, 1);
            if (resp.groups.count == 1) {
                CHECK_EQ_INT(resp.groups.items[0].error_code, OD_GC_NOT_COORDINATOR);
                CHECK_EQ_INT(resp.groups.items[0].topics.count, 0);
            }
        } else {
            CHECK_EQ_INT(resp.error_code, OD_GC_NOT_COORDINATOR);
            CHECK_EQ_INT(resp.topics.count, 0);
        }
        od_arena_release(&arena);
        od_chain_discard(&req->response);
        od_arena_release(&req->arena);
        free(req);
    }
    CHECK_EQ_INT(od_broker_close(b), 0);
    remove_root();
}

OD_TEST_MAIN(OD_CASE(test_partition_matches_java),
             OD_CASE(test_records_land_in_hashed_partition_and_reload),
             OD_CASE(test_offset_fetch_all_with_group_error_bug))
