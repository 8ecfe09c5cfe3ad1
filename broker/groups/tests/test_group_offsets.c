/*
 * Offsets: commit and fetch rules, OffsetDelete, retention expiry, and the
 * durability round trip: every change goes to __consumer_offsets, and
 * replaying those batches into a fresh coordinator reproduces the state.
 */
#include "gc_harness.h"

#define G "g1"

static od_gc_offset_commit commit_of(const char *topic, int32_t partition, int64_t offset)
{
    return (od_gc_offset_commit){od_str_from_cstr(topic), partition, offset, -1, OD_STR_NULL, -1, -99};
}

static int64_t fetch_one(od_gc *gc, const char *group, const char *topic, int32_t partition,
                         int16_t *error)
{
    od_arena arena;
    od_arena_init(&arena);
    od_gc_offset_fetch f = {od_str_from_cstr(topic), partition, 0, 0, OD_STR_NULL, -99};
    int16_t top = od_gc_fetch_offsets(gc, od_str_from_cstr(group), false, &f, 1, false, &arena,
                                      NULL, NULL);
    if (error)
        *error = top ? top : f.error;
    od_arena_release(&arena);
    return f.offset;
}

/* Joins one member and completes its first generation; returns its id. */
static void one_member_group(od_gc *gc, h_env *e, const char *group, char *id,
                             const char *const *topics, int n_topics)
{
    uint8_t sub[256];
    od_bytes md = h_subscription(sub, sizeof sub, topics, n_topics);
    /* Subscription bytes contain zeros, so build the request by hand
     * rather than through h_join_req's C-string metadata. */
    od_gc_protocol p = {OD_STR_LIT("range"), md};
    h_join j = {0};
    od_gc_join_args a = {
        .group_id = od_str_from_cstr(group),
        .member_id = OD_STR_LIT(""),
        .group_instance_id = OD_STR_NULL,
        .protocol_type = OD_STR_LIT("consumer"),
        .protocols = &p,
        .protocol_count = 1,
        .session_timeout_ms = 10000,
        .rebalance_timeout_ms = 30000,
        .client_id = OD_STR_LIT("client"),
        .client_host = OD_STR_LIT("/127.0.0.1"),
        .done = h_join_cb,
        .done_ctx = &j,
    };
    od_gc_join(gc, &a);
    h_advance(gc, e, 3000);
    CHECK_EQ_INT(j.error, OD_GC_NONE);
    strcpy(id, j.member_id);
    od_gc_assignment as = {od_str_from_cstr(id), {(const uint8_t *)"asg", 3}};
    h_sync s = {0};
    h_sync_req(gc, group, id, j.generation, NULL, &as, 1, &s);
    CHECK_EQ_INT(s.error, OD_GC_NONE);
}

static void test_simple_consumer_commits(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    int16_t err;
    /* Unknown group: offset -1, no error. */
    CHECK_EQ_INT(fetch_one(gc, "nobody", "t", 0, &err), -1);
    CHECK_EQ_INT(err, OD_GC_NONE);
    /* Generation -1, no member: allowed, creates an Empty group. */
    od_gc_offset_commit c[2] = {commit_of("t", 0, 10), commit_of("t", 1, 20)};
    c[1].metadata = OD_STR_LIT("hello");
    c[1].leader_epoch = 4;
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT(""), OD_STR_NULL, -1, -1, c, 2);
    CHECK_EQ_INT(c[0].error, OD_GC_NONE);
    CHECK_EQ_INT(c[1].error, OD_GC_NONE);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_EMPTY);
    CHECK_EQ_INT(e.n_batches, 1); /* both partitions in one batch */
    CHECK_EQ_INT(fetch_one(gc, G, "t", 0, &err), 10);
    CHECK_EQ_INT(fetch_one(gc, G, "t", 1, NULL), 20);
    CHECK_EQ_INT(fetch_one(gc, G, "t", 2, &err), -1);
    CHECK_EQ_INT(err, OD_GC_NONE);
    od_arena arena;
    od_arena_init(&arena);
    od_gc_offset_fetch *all;
    int32_t n;
    CHECK_EQ_INT(od_gc_fetch_offsets(gc, OD_STR_LIT(G), false, NULL, 0, true, &arena, &all, &n),
                 OD_GC_NONE);
    CHECK_EQ_INT(n, 2);
    CHECK(n == 2 && all[1].offset == 20 && all[1].leader_epoch == 4 &&
          od_str_eq_cstr(all[1].metadata, "hello"));
    CHECK_EQ_INT(od_gc_fetch_offsets(gc, OD_STR_LIT("nobody"), false, NULL, 0, true, &arena, &all, &n),
                 OD_GC_NONE);
    CHECK_EQ_INT(n, 0);
    od_arena_release(&arena);

    /* A generation for a group the coordinator does not know is stale. */
    od_gc_offset_commit stale = commit_of("t", 0, 1);
    od_gc_commit_offsets(gc, OD_STR_LIT("other"), OD_STR_LIT("m"), OD_STR_NULL, 3, -1, &stale, 1);
    CHECK_EQ_INT(stale.error, OD_GC_ILLEGAL_GENERATION);
    /* A member id for an Empty group that has no such member. */
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT("m"), OD_STR_NULL, -1, -1, &stale, 1);
    CHECK_EQ_INT(stale.error, OD_GC_UNKNOWN_MEMBER_ID);
    /* offset.metadata.max.bytes counts UTF-16 units, per partition. */
    char big[4100];
    memset(big, 'x', sizeof big);
    od_gc_offset_commit mixed[2] = {commit_of("t", 0, 11), commit_of("t", 1, 21)};
    mixed[1].metadata = (od_str){big, 4097};
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT(""), OD_STR_NULL, -1, -1, mixed, 2);
    CHECK_EQ_INT(mixed[0].error, OD_GC_NONE);
    CHECK_EQ_INT(mixed[1].error, OD_GC_OFFSET_METADATA_TOO_LARGE);
    CHECK_EQ_INT(fetch_one(gc, G, "t", 1, NULL), 20);
    /* Append failures map to what clients understand. */
    e.fail_appends = OD_GC_NOT_LEADER_OR_FOLLOWER;
    od_gc_offset_commit f = commit_of("t", 0, 99);
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &f, 1);
    CHECK_EQ_INT(f.error, OD_GC_NOT_COORDINATOR);
    e.fail_appends = OD_GC_MESSAGE_TOO_LARGE;
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &f, 1);
    CHECK_EQ_INT(f.error, OD_GC_INVALID_COMMIT_OFFSET_SIZE);
    e.fail_appends = OD_GC_NOT_ENOUGH_REPLICAS;
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &f, 1);
    CHECK_EQ_INT(f.error, OD_GC_COORDINATOR_NOT_AVAILABLE);
    e.fail_appends = 0;
    CHECK_EQ_INT(fetch_one(gc, G, "t", 0, NULL), 11); /* nothing applied */
    /* Not the coordinator / still loading. */
    int32_t p = od_gc_partition_for(gc, OD_STR_LIT(G));
    od_gc_unload(gc, p);
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &f, 1);
    CHECK_EQ_INT(f.error, OD_GC_NOT_COORDINATOR);
    od_gc_load_begin(gc, p);
    fetch_one(gc, G, "t", 0, &err);
    CHECK_EQ_INT(err, OD_GC_COORDINATOR_LOAD_IN_PROGRESS);
    od_gc_destroy(gc);
    h_env_free(&e);
}

static void test_member_commits(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    char id[160];
    const char *topics[] = {"t1"};
    one_member_group(gc, &e, G, id, topics, 1);
    od_gc_offset_commit c = commit_of("t1", 0, 5);
    od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(id), OD_STR_NULL, 1, -1, &c, 1);
    CHECK_EQ_INT(c.error, OD_GC_NONE);
    od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(id), OD_STR_NULL, 0, -1, &c, 1);
    CHECK_EQ_INT(c.error, OD_GC_ILLEGAL_GENERATION);
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT("ghost"), OD_STR_NULL, 1, -1, &c, 1);
    CHECK_EQ_INT(c.error, OD_GC_UNKNOWN_MEMBER_ID);
    /* Only members commit to a non-empty group. */
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &c, 1);
    CHECK_EQ_INT(c.error, OD_GC_UNKNOWN_MEMBER_ID);
    od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(id), OD_STR_LIT("inst"), 1, -1, &c, 1);
    CHECK_EQ_INT(c.error, OD_GC_UNKNOWN_MEMBER_ID);
    /* A commit counts as a heartbeat: the member outlives its session. */
    for (int i = 0; i < 3; i++) {
        h_advance(gc, &e, 8000);
        od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(id), OD_STR_NULL, 1, -1, &c, 1);
        CHECK_EQ_INT(c.error, OD_GC_NONE);
    }
    CHECK_EQ_INT(h_members(gc, G), 1);

    /* OffsetDelete: subscribed topics are protected while the group is active. */
    od_gc_offset_commit t2 = commit_of("t2", 0, 7);
    od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(id), OD_STR_NULL, 1, -1, &t2, 1);
    od_gc_offset_delete d[2] = {{OD_STR_LIT("t1"), 0, -99}, {OD_STR_LIT("t2"), 0, -99}};
    int before = e.n_batches;
    CHECK_EQ_INT(od_gc_delete_offsets(gc, OD_STR_LIT(G), d, 2), OD_GC_NONE);
    CHECK_EQ_INT(d[0].error, OD_GC_GROUP_SUBSCRIBED_TO_TOPIC);
    CHECK_EQ_INT(d[1].error, OD_GC_NONE);
    CHECK_EQ_INT(e.n_batches, before + 1);
    CHECK_EQ_INT(fetch_one(gc, G, "t2", 0, NULL), -1);
    CHECK_EQ_INT(fetch_one(gc, G, "t1", 0, NULL), 5);
    CHECK_EQ_INT(od_gc_delete_offsets(gc, OD_STR_LIT("nobody"), d, 2), OD_GC_GROUP_ID_NOT_FOUND);
    /* Once Empty, anything may be deleted. */
    od_gc_leave_member lm = {od_str_from_cstr(id), OD_STR_NULL, OD_STR_NULL, -99};
    od_gc_leave(gc, OD_STR_LIT(G), &lm, 1);
    CHECK_EQ_INT(od_gc_delete_offsets(gc, OD_STR_LIT(G), d, 1), OD_GC_NONE);
    CHECK_EQ_INT(d[0].error, OD_GC_NONE);
    CHECK_EQ_INT(fetch_one(gc, G, "t1", 0, NULL), -1);

    /* A non-consumer group with members refuses OffsetDelete. */
    h_member_spec connect = {.protocol_type = "connect"};
    h_join j = {0};
    h_join_req(gc, "cg", "", &connect, &j);
    h_advance(gc, &e, 3000);
    CHECK_EQ_INT(od_gc_delete_offsets(gc, OD_STR_LIT("cg"), d, 1), OD_GC_NON_EMPTY_GROUP);
    od_gc_destroy(gc);
    h_env_free(&e);
}

static void test_offset_retention(void)
{
    h_env e;
    od_gc_config cfg;
    od_gc_config_default(&cfg);
    cfg.offsets_retention_ms = 60000;
    cfg.offsets_retention_check_interval_ms = 10000;
    od_gc *gc = h_create(&e, &cfg);
    REQUIRE(gc);
    /* Simple group: each offset ages from its own commit. */
    od_gc_offset_commit a = commit_of("t", 0, 1);
    od_gc_commit_offsets(gc, OD_STR_LIT("simple"), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &a, 1);
    h_advance(gc, &e, 30000);
    od_gc_offset_commit b = commit_of("t", 1, 2);
    od_gc_commit_offsets(gc, OD_STR_LIT("simple"), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &b, 1);
    /* Explicit retention (OffsetCommit v2-4) sets its own expiry. */
    od_gc_offset_commit r = commit_of("t", 2, 3);
    od_gc_commit_offsets(gc, OD_STR_LIT("simple"), OD_STR_LIT(""), OD_STR_NULL, -1, 5000, &r, 1);
    h_advance(gc, &e, 10000);
    CHECK_EQ_INT(fetch_one(gc, "simple", "t", 2, NULL), -1);
    CHECK_EQ_INT(fetch_one(gc, "simple", "t", 0, NULL), 1);
    h_advance(gc, &e, 20000);
    CHECK_EQ_INT(fetch_one(gc, "simple", "t", 0, NULL), -1);
    CHECK_EQ_INT(fetch_one(gc, "simple", "t", 1, NULL), 2);
    int before = e.n_batches;
    h_advance(gc, &e, 30000);
    CHECK_EQ_INT(fetch_one(gc, "simple", "t", 1, NULL), -1);
    /* The last offset gone from an Empty group: the group is gone too, and
     * since it never had a generation only offset tombstones are written. */
    CHECK(!od_gc_group_info(gc, OD_STR_LIT("simple"), NULL, NULL, NULL, NULL));
    CHECK_EQ_INT(e.n_batches, before + 1);

    /* A consumer group that became Empty: offsets age from that moment. */
    char id[160];
    const char *topics[] = {"t"};
    one_member_group(gc, &e, G, id, topics, 1);
    od_gc_offset_commit c = commit_of("t", 0, 9);
    od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(id), OD_STR_NULL, 1, -1, &c, 1);
    /* While Stable and subscribed, offsets never expire. */
    for (int i = 0; i < 10; i++) {
        h_advance(gc, &e, 9000);
        CHECK_EQ_INT(h_heartbeat(gc, G, id, NULL, 1), OD_GC_NONE);
    }
    CHECK_EQ_INT(fetch_one(gc, G, "t", 0, NULL), 9);
    od_gc_leave_member lm = {od_str_from_cstr(id), OD_STR_NULL, OD_STR_NULL, -99};
    od_gc_leave(gc, OD_STR_LIT(G), &lm, 1);
    h_advance(gc, &e, 50000);
    CHECK_EQ_INT(fetch_one(gc, G, "t", 0, NULL), 9);
    h_advance(gc, &e, 20000);
    CHECK_EQ_INT(fetch_one(gc, G, "t", 0, NULL), -1);
    CHECK(!od_gc_group_info(gc, OD_STR_LIT(G), NULL, NULL, NULL, NULL));
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* A coordinator with no partition loaded yet, sharing e's clock. */
static od_gc *fresh_coordinator(h_env *e2, const h_env *from)
{
    memset(e2, 0, sizeof *e2);
    e2->now = from->now;
    e2->wake = -1;
    od_gc_config cfg;
    od_gc_config_default(&cfg);
    cfg.member_id_seed = 7;
    od_gc_env env = {e2, h_now, h_wake, h_append};
    return od_gc_create(&cfg, &env);
}

static void replay(od_gc *gc, const h_env *from, int32_t partitions)
{
    for (int32_t p = 0; p < partitions; p++) {
        CHECK_EQ_INT(od_gc_load_begin(gc, p), 0);
        for (int i = 0; i < from->n_batches; i++)
            if (from->batches[i].partition == p)
                CHECK_EQ_INT(od_gc_load_batch(gc, p, from->batches[i].bytes, from->batches[i].len), 0);
        CHECK_EQ_INT(od_gc_load_finish(gc, p), 0);
    }
}

static void test_replay_reproduces_state(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    char id[160];
    const char *topics[] = {"orders", "payments"};
    one_member_group(gc, &e, G, id, topics, 2);
    od_gc_offset_commit c[3] = {commit_of("orders", 0, 100), commit_of("orders", 1, 200),
                                commit_of("payments", 0, 300)};
    c[0].metadata = OD_STR_LIT("m0");
    c[0].leader_epoch = 3;
    od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(id), OD_STR_NULL, 1, -1, c, 3);
    c[1].offset = 250; /* last writer wins */
    od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(id), OD_STR_NULL, 1, -1, &c[1], 1);
    od_gc_offset_commit s = commit_of("x", 0, 1);
    od_gc_commit_offsets(gc, OD_STR_LIT("simple"), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &s, 1);
    od_gc_offset_commit dead = commit_of("x", 0, 1);
    od_gc_commit_offsets(gc, OD_STR_LIT("gone"), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &dead, 1);
    CHECK_EQ_INT(od_gc_delete_group(gc, OD_STR_LIT("gone")), OD_GC_NONE);
    /* An empty generation: joined and left. */
    h_join j = {0};
    h_join_req(gc, "left", "", NULL, &j);
    h_advance(gc, &e, 3000);
    od_gc_leave_member lm = {od_str_from_cstr(j.member_id), OD_STR_NULL, OD_STR_NULL, -99};
    od_gc_leave(gc, OD_STR_LIT("left"), &lm, 1);
    CHECK_EQ_INT(h_generation(gc, "left"), 2);
    od_gc_offset_commit lo = commit_of("y", 0, 5);
    od_gc_commit_offsets(gc, OD_STR_LIT("left"), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &lo, 1);

    h_env e2;
    od_gc *gc2 = fresh_coordinator(&e2, &e);
    REQUIRE(gc2);
    /* Before loading, the coordinator does not own the groups. */
    CHECK_EQ_INT(h_heartbeat(gc2, G, id, NULL, 1), OD_GC_NOT_COORDINATOR);
    replay(gc2, &e, 50);
    CHECK_EQ_INT(h_state(gc2, G), OD_GC_STABLE);
    CHECK_EQ_INT(h_generation(gc2, G), 1);
    CHECK_EQ_INT(h_members(gc2, G), 1);
    od_str leader;
    od_gc_group_info(gc2, OD_STR_LIT(G), NULL, NULL, &leader, NULL);
    CHECK(od_str_eq_cstr(leader, id));
    CHECK_EQ_INT(h_heartbeat(gc2, G, id, NULL, 1), OD_GC_NONE);
    h_sync sy = {0};
    h_sync_req(gc2, G, id, 1, NULL, NULL, 0, &sy);
    CHECK_EQ_INT(sy.error, OD_GC_NONE);
    CHECK(strcmp(sy.assignment, "asg") == 0);
    CHECK(strcmp(sy.protocol, "range") == 0);
    CHECK_EQ_INT(fetch_one(gc2, G, "orders", 0, NULL), 100);
    CHECK_EQ_INT(fetch_one(gc2, G, "orders", 1, NULL), 250);
    CHECK_EQ_INT(fetch_one(gc2, G, "payments", 0, NULL), 300);
    od_arena arena;
    od_arena_init(&arena);
    od_gc_offset_fetch f = {OD_STR_LIT("orders"), 0, 0, 0, OD_STR_NULL, 0};
    od_gc_fetch_offsets(gc2, OD_STR_LIT(G), false, &f, 1, false, &arena, NULL, NULL);
    CHECK(f.leader_epoch == 3 && od_str_eq_cstr(f.metadata, "m0"));
    /* Subscriptions came back too: OffsetDelete still protects them. */
    od_gc_offset_delete d = {OD_STR_LIT("payments"), 0, -99};
    od_gc_delete_offsets(gc2, OD_STR_LIT(G), &d, 1);
    CHECK_EQ_INT(d.error, OD_GC_GROUP_SUBSCRIBED_TO_TOPIC);
    od_gc_group_summary sum;
    od_gc_describe(gc2, OD_STR_LIT(G), &arena, &sum);
    CHECK(sum.member_count == 1 && od_str_eq_cstr(sum.members[0].client_id, "client"));
    od_arena_release(&arena);
    CHECK_EQ_INT(h_state(gc2, "simple"), OD_GC_EMPTY);
    CHECK_EQ_INT(fetch_one(gc2, "simple", "x", 0, NULL), 1);
    CHECK(!od_gc_group_info(gc2, OD_STR_LIT("gone"), NULL, NULL, NULL, NULL));
    CHECK_EQ_INT(h_state(gc2, "left"), OD_GC_EMPTY);
    CHECK_EQ_INT(h_generation(gc2, "left"), 2);
    CHECK_EQ_INT(fetch_one(gc2, "left", "y", 0, NULL), 5);
    CHECK_EQ_INT(od_gc_group_count(gc2), 3);
    /* The restored member's session runs from the load: it expires. */
    h_advance(gc2, &e2, 10000);
    CHECK_EQ_INT(h_members(gc2, G), 0);
    od_gc_destroy(gc2);
    h_env_free(&e2);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* A static member restored from the log keeps its instance id. */
static void test_replay_static_member(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    h_member_spec st = {.instance = "inst-1"};
    h_join j = {0};
    h_join_req(gc, G, "", &st, &j);
    h_advance(gc, &e, 3000);
    od_gc_assignment as = {od_str_from_cstr(j.member_id), {(const uint8_t *)"z", 1}};
    h_sync s = {0};
    h_sync_req(gc, G, j.member_id, 1, "inst-1", &as, 1, &s);
    CHECK_EQ_INT(s.error, OD_GC_NONE);
    h_env e2;
    od_gc *gc2 = fresh_coordinator(&e2, &e);
    replay(gc2, &e, 50);
    CHECK_EQ_INT(h_heartbeat(gc2, G, j.member_id, "inst-1", 1), OD_GC_NONE);
    CHECK_EQ_INT(h_heartbeat(gc2, G, "other", "inst-1", 1), OD_GC_FENCED_INSTANCE_ID);
    od_gc_destroy(gc2);
    h_env_free(&e2);
    od_gc_destroy(gc);
    h_env_free(&e);
}

OD_TEST_MAIN(OD_CASE(test_simple_consumer_commits), OD_CASE(test_member_commits),
             OD_CASE(test_offset_retention), OD_CASE(test_replay_reproduces_state),
             OD_CASE(test_replay_static_member))
