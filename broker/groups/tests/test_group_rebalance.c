/*
 * The classic group state machine in virtual time: every transition, the
 * error codes Kafka 3.9 returns, timeouts, static membership, protocol
 * selection and a 10-member rebalance.
 */
#include "gc_harness.h"

#define G "g1"

/* One dynamic member through the KIP-394 handshake, the initial delay,
 * SyncGroup, and out again through LeaveGroup. */
static void test_single_member_lifecycle(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    h_join j = {0};
    h_member_spec spec = {.require_known = true};
    h_join_req(gc, G, "", &spec, &j);
    CHECK_EQ_INT(j.calls, 1);
    CHECK_EQ_INT(j.error, OD_GC_MEMBER_ID_REQUIRED);
    CHECK(strncmp(j.member_id, "client-", 7) == 0 && strlen(j.member_id) == 7 + 36);
    CHECK_EQ_INT(j.generation, -1);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_EMPTY);
    char id[160];
    strcpy(id, j.member_id);

    h_join j2 = {0};
    h_join_req(gc, G, id, &spec, &j2);
    CHECK_EQ_INT(j2.calls, 0); /* waits for the initial delay */
    CHECK_EQ_INT(h_state(gc, G), OD_GC_PREPARING_REBALANCE);
    h_advance(gc, &e, 2999);
    CHECK_EQ_INT(j2.calls, 0);
    h_advance(gc, &e, 1);
    CHECK_EQ_INT(j2.calls, 1);
    CHECK_EQ_INT(j2.error, OD_GC_NONE);
    CHECK_EQ_INT(j2.generation, 1);
    CHECK(strcmp(j2.leader, id) == 0);
    CHECK(strcmp(j2.protocol, "range") == 0);
    CHECK_EQ_INT(j2.member_count, 1);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_COMPLETING_REBALANCE);

    /* Heartbeats are fine while the leader computes the assignment. */
    CHECK_EQ_INT(h_heartbeat(gc, G, id, NULL, 1), OD_GC_NONE);
    int before = e.n_batches;
    od_gc_assignment as = {od_str_from_cstr(id), {(const uint8_t *)"A1", 2}};
    h_sync s = {0};
    h_sync_req(gc, G, id, 1, NULL, &as, 1, &s);
    CHECK_EQ_INT(s.calls, 1);
    CHECK_EQ_INT(s.error, OD_GC_NONE);
    CHECK(strcmp(s.assignment, "A1") == 0);
    CHECK(strcmp(s.protocol, "range") == 0);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_STABLE);
    CHECK_EQ_INT(e.n_batches, before + 1); /* the generation's metadata record */

    CHECK_EQ_INT(h_heartbeat(gc, G, id, NULL, 1), OD_GC_NONE);
    CHECK_EQ_INT(h_heartbeat(gc, G, id, NULL, 0), OD_GC_ILLEGAL_GENERATION);
    CHECK_EQ_INT(h_heartbeat(gc, G, "nobody", NULL, 1), OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(h_heartbeat(gc, "other", id, NULL, 1), OD_GC_UNKNOWN_MEMBER_ID);
    /* A follower that lost its SyncGroup response asks again in Stable. */
    h_sync s2 = {0};
    h_sync_req(gc, G, id, 1, NULL, NULL, 0, &s2);
    CHECK_EQ_INT(s2.error, OD_GC_NONE);
    CHECK(strcmp(s2.assignment, "A1") == 0);

    od_gc_leave_member lm = {od_str_from_cstr(id), OD_STR_NULL, OD_STR_LIT("bye"), -99};
    CHECK_EQ_INT(od_gc_leave(gc, OD_STR_LIT(G), &lm, 1), OD_GC_NONE);
    CHECK_EQ_INT(lm.error, OD_GC_NONE);
    /* The last member leaving runs a rebalance with nobody: Empty, and the
     * generation still advances (Kafka writes that generation too). */
    CHECK_EQ_INT(h_state(gc, G), OD_GC_EMPTY);
    CHECK_EQ_INT(h_generation(gc, G), 2);
    CHECK_EQ_INT(h_heartbeat(gc, G, id, NULL, 2), OD_GC_UNKNOWN_MEMBER_ID);
    od_gc_leave_member again = {od_str_from_cstr(id), OD_STR_NULL, OD_STR_NULL, -99};
    od_gc_leave(gc, OD_STR_LIT(G), &again, 1);
    CHECK_EQ_INT(again.error, OD_GC_UNKNOWN_MEMBER_ID);
    od_gc_leave_member unknown_group = {OD_STR_LIT("x"), OD_STR_NULL, OD_STR_NULL, -99};
    CHECK_EQ_INT(od_gc_leave(gc, OD_STR_LIT("nogroup"), &unknown_group, 1), OD_GC_NONE);
    CHECK_EQ_INT(unknown_group.error, OD_GC_UNKNOWN_MEMBER_ID);
    od_gc_destroy(gc);
    h_env_free(&e);
}

static void test_coordinator_and_request_errors(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    h_join j = {0};
    h_join_req(gc, "", "", NULL, &j);
    CHECK_EQ_INT(j.error, OD_GC_INVALID_GROUP_ID);
    h_member_spec short_session = {.session_ms = 1000};
    h_join_req(gc, G, "", &short_session, &j);
    CHECK_EQ_INT(j.error, OD_GC_INVALID_SESSION_TIMEOUT);
    h_member_spec long_session = {.session_ms = 1800001};
    h_join_req(gc, G, "", &long_session, &j);
    CHECK_EQ_INT(j.error, OD_GC_INVALID_SESSION_TIMEOUT);
    /* A member id for a group that does not exist. */
    h_join_req(gc, "nogroup", "ghost", NULL, &j);
    CHECK_EQ_INT(j.error, OD_GC_UNKNOWN_MEMBER_ID);
    /* An Empty group takes no member without protocols. */
    h_member_spec none = {.protocols = {"<none>"}};
    h_join_req(gc, G, "", &none, &j);
    CHECK_EQ_INT(j.error, OD_GC_INCONSISTENT_GROUP_PROTOCOL);
    h_member_spec no_type = {.protocol_type = ""};
    h_join_req(gc, G, "", &no_type, &j);
    CHECK_EQ_INT(j.error, OD_GC_INCONSISTENT_GROUP_PROTOCOL);

    /* Partition ownership: not loaded -> NOT_COORDINATOR; loading -> LOAD_IN_PROGRESS. */
    int32_t p = od_gc_partition_for(gc, OD_STR_LIT(G));
    od_gc_unload(gc, p);
    h_join_req(gc, G, "", NULL, &j);
    CHECK_EQ_INT(j.error, OD_GC_NOT_COORDINATOR);
    CHECK_EQ_INT(h_heartbeat(gc, G, "m", NULL, 1), OD_GC_NOT_COORDINATOR);
    od_gc_load_begin(gc, p);
    h_join_req(gc, G, "", NULL, &j);
    CHECK_EQ_INT(j.error, OD_GC_COORDINATOR_LOAD_IN_PROGRESS);
    /* Heartbeats are answered blindly and syncs told to rejoin while loading. */
    CHECK_EQ_INT(h_heartbeat(gc, G, "m", NULL, 1), OD_GC_NONE);
    h_sync s = {0};
    h_sync_req(gc, G, "m", 1, NULL, NULL, 0, &s);
    CHECK_EQ_INT(s.error, OD_GC_REBALANCE_IN_PROGRESS);
    od_arena arena;
    od_arena_init(&arena);
    int16_t lerr;
    od_gc_listed_group *groups;
    int32_t n;
    CHECK_EQ_INT(od_gc_list(gc, NULL, 0, NULL, 0, &arena, &lerr, &groups, &n), 0);
    CHECK_EQ_INT(lerr, OD_GC_COORDINATOR_LOAD_IN_PROGRESS);
    od_gc_load_finish(gc, p);
    CHECK_EQ_INT(od_gc_list(gc, NULL, 0, NULL, 0, &arena, &lerr, &groups, &n), 0);
    CHECK_EQ_INT(lerr, OD_GC_NONE);
    od_arena_release(&arena);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* Joins `n` dynamic members (v3 style, no KIP-394) and completes the first
 * generation; fills ids[] (ids[0] is the leader). */
static void form_group(od_gc *gc, h_env *e, const char *group, int n, char ids[][160],
                       const h_member_spec *spec)
{
    h_join js[16];
    memset(js, 0, sizeof js);
    for (int i = 0; i < n; i++)
        h_join_req(gc, group, "", spec, &js[i]);
    /* Members after the first extend the initial delay once (no one joins
     * during the extension). */
    h_advance(gc, e, n > 1 ? 6000 : 3000);
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(js[i].calls, 1);
        CHECK_EQ_INT(js[i].error, OD_GC_NONE);
        strcpy(ids[i], js[i].member_id);
    }
    CHECK(strcmp(js[0].leader, ids[0]) == 0);
    od_gc_assignment as[16];
    char text[16][16];
    for (int i = 0; i < n; i++) {
        snprintf(text[i], sizeof text[i], "P%d", i);
        as[i] = (od_gc_assignment){od_str_from_cstr(ids[i]), {(const uint8_t *)text[i], (int32_t)strlen(text[i])}};
    }
    h_sync ss[16];
    memset(ss, 0, sizeof ss);
    int32_t gen = js[0].generation;
    for (int i = 1; i < n; i++)
        h_sync_req(gc, group, ids[i], gen, spec ? spec->instance : NULL, NULL, 0, &ss[i]);
    for (int i = 1; i < n; i++)
        CHECK_EQ_INT(ss[i].calls, 0); /* followers wait for the leader */
    h_sync_req(gc, group, ids[0], gen, NULL, as, n, &ss[0]);
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(ss[i].calls, 1);
        CHECK_EQ_INT(ss[i].error, OD_GC_NONE);
        CHECK(strcmp(ss[i].assignment, text[i]) == 0);
    }
    CHECK_EQ_INT(h_state(gc, group), OD_GC_STABLE);
}

static void test_ten_member_rebalance(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    char ids[16][160];
    form_group(gc, &e, G, 10, ids, NULL);
    CHECK_EQ_INT(h_members(gc, G), 10);
    CHECK_EQ_INT(h_generation(gc, G), 1);

    /* An eleventh member triggers a rebalance everyone must rejoin. */
    h_join newcomer = {0};
    h_join_req(gc, G, "", NULL, &newcomer);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_PREPARING_REBALANCE);
    CHECK_EQ_INT(h_heartbeat(gc, G, ids[3], NULL, 1), OD_GC_REBALANCE_IN_PROGRESS);
    h_sync early = {0};
    h_sync_req(gc, G, ids[3], 1, NULL, NULL, 0, &early);
    CHECK_EQ_INT(early.error, OD_GC_REBALANCE_IN_PROGRESS);
    /* Commits are still accepted while preparing (the heartbeat tells them). */
    od_gc_offset_commit c = {OD_STR_LIT("t"), 0, 5, -1, OD_STR_NULL, -1, -99};
    od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(ids[3]), OD_STR_NULL, 1, -1, &c, 1);
    CHECK_EQ_INT(c.error, OD_GC_NONE);
    h_join rj[10];
    memset(rj, 0, sizeof rj);
    for (int i = 0; i < 10; i++) {
        h_join_req(gc, G, ids[i], NULL, &rj[i]);
        CHECK_EQ_INT(rj[i].calls, i == 9 ? 1 : 0); /* completes when the last one is in */
    }
    CHECK_EQ_INT(newcomer.calls, 1);
    CHECK_EQ_INT(newcomer.generation, 2);
    CHECK_EQ_INT(rj[0].member_count, 11);
    CHECK(strcmp(rj[0].leader, ids[0]) == 0);
    for (int i = 1; i < 10; i++)
        CHECK_EQ_INT(rj[i].member_count, 0);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_COMPLETING_REBALANCE);
    /* A commit now is refused: the member must finish SyncGroup first. */
    od_gc_commit_offsets(gc, OD_STR_LIT(G), od_str_from_cstr(ids[3]), OD_STR_NULL, 2, -1, &c, 1);
    CHECK_EQ_INT(c.error, OD_GC_REBALANCE_IN_PROGRESS);
    /* Wrong generation and wrong protocol at sync. */
    h_sync bad = {0};
    h_sync_req(gc, G, ids[2], 1, NULL, NULL, 0, &bad);
    CHECK_EQ_INT(bad.error, OD_GC_ILLEGAL_GENERATION);
    od_gc_sync_args wrong_proto = {
        .group_id = OD_STR_LIT(G), .generation_id = 2, .member_id = od_str_from_cstr(ids[2]),
        .group_instance_id = OD_STR_NULL, .protocol_type = OD_STR_LIT("consumer"),
        .protocol_name = OD_STR_LIT("roundrobin"), .done = h_sync_cb, .done_ctx = &bad};
    od_gc_sync(gc, &wrong_proto);
    CHECK_EQ_INT(bad.error, OD_GC_INCONSISTENT_GROUP_PROTOCOL);
    /* A member that lost its JoinGroup response gets it again. */
    h_join again = {0};
    h_join_req(gc, G, ids[5], NULL, &again);
    CHECK_EQ_INT(again.calls, 1);
    CHECK_EQ_INT(again.generation, 2);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_COMPLETING_REBALANCE);
    od_gc_destroy(gc);
    h_env_free(&e);
}

static void test_protocol_selection(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    h_member_spec a = {.protocols = {"roundrobin", "range"}};
    h_member_spec c = {.protocols = {"range", "roundrobin"}};
    h_join ja = {0}, jb = {0}, jc = {0};
    h_join_req(gc, G, "", &a, &ja);
    h_join_req(gc, G, "", &a, &jb);
    h_join_req(gc, G, "", &c, &jc);
    h_advance(gc, &e, 6000);
    /* Both protocols are supported by all; roundrobin has two votes. */
    CHECK(strcmp(ja.protocol, "roundrobin") == 0);
    CHECK(strcmp(jc.protocol, "roundrobin") == 0);

    /* A protocol no current member supports is refused. */
    h_member_spec sticky = {.protocols = {"sticky"}};
    h_join jd = {0};
    h_join_req(gc, G, "", &sticky, &jd);
    CHECK_EQ_INT(jd.error, OD_GC_INCONSISTENT_GROUP_PROTOCOL);
    h_member_spec other_type = {.protocol_type = "connect"};
    h_join_req(gc, G, "", &other_type, &jd);
    CHECK_EQ_INT(jd.error, OD_GC_INCONSISTENT_GROUP_PROTOCOL);
    /* A member supporting only range can join: range is common to all. */
    h_member_spec only_range = {.protocols = {"range"}};
    h_join je = {0};
    h_join_req(gc, G, "", &only_range, &je);
    CHECK_EQ_INT(je.calls, 0);
    h_join ra = {0}, rb = {0}, rc = {0};
    h_join_req(gc, G, ja.member_id, &a, &ra);
    h_join_req(gc, G, jb.member_id, &a, &rb);
    h_join_req(gc, G, jc.member_id, &c, &rc);
    CHECK_EQ_INT(je.calls, 1);
    CHECK(strcmp(je.protocol, "range") == 0);
    CHECK_EQ_INT(je.generation, 2);
    od_gc_destroy(gc);
    h_env_free(&e);
}

static void test_group_max_size(void)
{
    h_env e;
    od_gc_config cfg;
    od_gc_config_default(&cfg);
    cfg.group_max_size = 2;
    od_gc *gc = h_create(&e, &cfg);
    REQUIRE(gc);
    char ids[16][160];
    form_group(gc, &e, G, 2, ids, NULL);
    h_join j = {0};
    h_join_req(gc, G, "", NULL, &j);
    CHECK_EQ_INT(j.error, OD_GC_GROUP_MAX_SIZE_REACHED);
    CHECK_EQ_INT(j.member_id[0], 0);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_STABLE);
    /* Existing members still rejoin. */
    h_join r = {0};
    h_join_req(gc, G, ids[0], NULL, &r);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_PREPARING_REBALANCE);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* A member that stops heartbeating is removed after its session timeout;
 * the survivors rebalance without it. */
static void test_session_expiry(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    char ids[16][160];
    form_group(gc, &e, G, 2, ids, NULL);
    for (int i = 0; i < 2; i++) {
        h_advance(gc, &e, 4000);
        CHECK_EQ_INT(h_heartbeat(gc, G, ids[0], NULL, 1), OD_GC_NONE);
        CHECK_EQ_INT(h_members(gc, G), 2);
    }
    h_advance(gc, &e, 4000);
    /* ids[1] last heard at sync time, 12 s ago: gone (session 10 s). */
    CHECK_EQ_INT(h_members(gc, G), 1);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_PREPARING_REBALANCE);
    CHECK_EQ_INT(h_heartbeat(gc, G, ids[1], NULL, 1), OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(h_heartbeat(gc, G, ids[0], NULL, 1), OD_GC_REBALANCE_IN_PROGRESS);
    h_join r = {0};
    h_join_req(gc, G, ids[0], NULL, &r);
    CHECK_EQ_INT(r.calls, 1);
    CHECK_EQ_INT(r.generation, 2);
    CHECK_EQ_INT(r.member_count, 1);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* A member that does not rejoin within the rebalance timeout is dropped
 * from the new generation; one that never sends SyncGroup is dropped after
 * another rebalance timeout. */
static void test_rebalance_timeout_kicks_slow_members(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    char ids[16][160];
    h_member_spec spec = {.session_ms = 60000, .rebalance_ms = 20000};
    form_group(gc, &e, G, 3, ids, &spec);
    h_join r0 = {0}, r1 = {0};
    h_join_req(gc, G, ids[0], &spec, &r0); /* leader forces a rebalance */
    CHECK_EQ_INT(h_state(gc, G), OD_GC_PREPARING_REBALANCE);
    h_join_req(gc, G, ids[1], &spec, &r1);
    h_advance(gc, &e, 19999);
    CHECK_EQ_INT(r0.calls, 0);
    h_advance(gc, &e, 1);
    CHECK_EQ_INT(r0.calls, 1);
    CHECK_EQ_INT(r0.member_count, 2);
    CHECK_EQ_INT(h_members(gc, G), 2);
    CHECK_EQ_INT(h_heartbeat(gc, G, ids[2], NULL, 2), OD_GC_UNKNOWN_MEMBER_ID);

    /* Generation 2: the leader syncs, ids[1] never does. */
    od_gc_assignment as[2] = {{od_str_from_cstr(ids[0]), {(const uint8_t *)"a", 1}},
                              {od_str_from_cstr(ids[1]), {(const uint8_t *)"b", 1}}};
    h_sync s0 = {0};
    h_sync_req(gc, G, ids[0], 2, NULL, as, 2, &s0);
    CHECK_EQ_INT(s0.error, OD_GC_NONE);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_STABLE);
    h_advance(gc, &e, 10000);
    CHECK_EQ_INT(h_heartbeat(gc, G, ids[0], NULL, 2), OD_GC_NONE);
    h_advance(gc, &e, 10000);
    CHECK_EQ_INT(h_members(gc, G), 1);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_PREPARING_REBALANCE);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* group.initial.rebalance.delay.ms: a new member arriving during the delay
 * extends it (by at most the delay, within the rebalance timeout). */
static void test_initial_delay_extends(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    h_member_spec spec = {.rebalance_ms = 10000};
    h_join a = {0}, b = {0};
    h_join_req(gc, G, "", &spec, &a);
    h_advance(gc, &e, 2000);
    h_join_req(gc, G, "", &spec, &b);
    h_advance(gc, &e, 1000); /* the first delay ends: extended by 3000 */
    CHECK_EQ_INT(a.calls, 0);
    h_advance(gc, &e, 2999);
    CHECK_EQ_INT(a.calls, 0);
    h_advance(gc, &e, 1);
    CHECK_EQ_INT(a.calls, 1);
    CHECK_EQ_INT(b.calls, 1);
    CHECK_EQ_INT(a.member_count, 2);

    /* Zero delay: the join completes at the next tick. */
    od_gc_config cfg;
    od_gc_config_default(&cfg);
    cfg.group_initial_rebalance_delay_ms = 0;
    h_env e2;
    od_gc *gc2 = h_create(&e2, &cfg);
    h_join c = {0};
    h_join_req(gc2, G, "", NULL, &c);
    h_advance(gc2, &e2, 0);
    CHECK_EQ_INT(c.calls, 1);
    CHECK_EQ_INT(c.generation, 1);
    od_gc_destroy(gc2);
    h_env_free(&e2);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* KIP-394: an id handed out but never used expires after the session
 * timeout; while pending it holds back the rebalance. */
static void test_pending_member(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    char ids[16][160];
    form_group(gc, &e, G, 1, ids, NULL);
    h_member_spec spec = {.require_known = true};
    h_join p = {0};
    h_join_req(gc, G, "", &spec, &p);
    CHECK_EQ_INT(p.error, OD_GC_MEMBER_ID_REQUIRED);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_STABLE);
    /* The leader rejoins: the pending member keeps the join open. */
    h_join r = {0};
    h_join_req(gc, G, ids[0], NULL, &r);
    CHECK_EQ_INT(r.calls, 0);
    h_advance(gc, &e, 10000); /* pending id expires; join completes */
    CHECK_EQ_INT(r.calls, 1);
    CHECK_EQ_INT(r.member_count, 1);
    h_join late = {0};
    h_join_req(gc, G, p.member_id, &spec, &late);
    CHECK_EQ_INT(late.error, OD_GC_UNKNOWN_MEMBER_ID);
    /* A pending member may also leave explicitly. */
    h_join q = {0};
    h_join_req(gc, G, "", &spec, &q);
    od_gc_leave_member lm = {od_str_from_cstr(q.member_id), OD_STR_NULL, OD_STR_NULL, -99};
    od_gc_leave(gc, OD_STR_LIT(G), &lm, 1);
    CHECK_EQ_INT(lm.error, OD_GC_NONE);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* KIP-345: a restarted static member takes its old place without a
 * rebalance; the old member id is fenced. */
static void test_static_member_replacement(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    h_member_spec s1 = {.instance = "i1"}, s2 = {.instance = "i2"};
    h_join a = {0}, b = {0};
    h_join_req(gc, G, "", &s1, &a);
    h_join_req(gc, G, "", &s2, &b);
    h_advance(gc, &e, 6000);
    CHECK(strncmp(a.member_id, "i1-", 3) == 0);
    CHECK_EQ_INT(a.error, OD_GC_NONE);
    od_gc_assignment as[2] = {{od_str_from_cstr(a.member_id), {(const uint8_t *)"x", 1}},
                              {od_str_from_cstr(b.member_id), {(const uint8_t *)"y", 1}}};
    h_sync sa = {0}, sb = {0};
    h_sync_req(gc, G, b.member_id, 1, "i2", NULL, 0, &sb);
    h_sync_req(gc, G, a.member_id, 1, "i1", as, 2, &sa);
    CHECK_EQ_INT(sb.error, OD_GC_NONE);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_STABLE);

    /* i2 restarts: new member id, same generation, old leader reported. */
    int before = e.n_batches;
    h_join b2 = {0};
    h_join_req(gc, G, "", &s2, &b2);
    CHECK_EQ_INT(b2.calls, 1);
    CHECK_EQ_INT(b2.error, OD_GC_NONE);
    CHECK(strcmp(b2.member_id, b.member_id) != 0);
    CHECK_EQ_INT(b2.generation, 1);
    CHECK(strcmp(b2.leader, a.member_id) == 0);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_STABLE);
    CHECK_EQ_INT(e.n_batches, before + 1); /* new member id persisted */
    CHECK_EQ_INT(h_heartbeat(gc, G, b.member_id, "i2", 1), OD_GC_FENCED_INSTANCE_ID);
    CHECK_EQ_INT(h_heartbeat(gc, G, b.member_id, NULL, 1), OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(h_heartbeat(gc, G, b2.member_id, "i2", 1), OD_GC_NONE);
    CHECK_EQ_INT(h_heartbeat(gc, G, b2.member_id, "i9", 1), OD_GC_UNKNOWN_MEMBER_ID);
    h_sync sb2 = {0};
    h_sync_req(gc, G, b2.member_id, 1, "i2", NULL, 0, &sb2);
    CHECK(strcmp(sb2.assignment, "y") == 0); /* kept its assignment */
    h_join old = {0};
    h_join_req(gc, G, b.member_id, &s2, &old);
    CHECK_EQ_INT(old.error, OD_GC_FENCED_INSTANCE_ID);

    /* The leader (i1) restarts with JoinGroup v9: told it leads, skips the
     * assignor. */
    h_member_spec s1v9 = {.instance = "i1", .skip_support = true};
    h_join a2 = {0};
    h_join_req(gc, G, "", &s1v9, &a2);
    CHECK_EQ_INT(a2.error, OD_GC_NONE);
    CHECK(a2.skip);
    CHECK(strcmp(a2.leader, a2.member_id) == 0);
    CHECK_EQ_INT(a2.member_count, 2);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_STABLE);

    /* A failed write undoes the replacement and reports the error. */
    e.fail_appends = OD_GC_NOT_LEADER_OR_FOLLOWER;
    h_join b3 = {0};
    h_join_req(gc, G, "", &s2, &b3);
    CHECK_EQ_INT(b3.error, OD_GC_NOT_COORDINATOR);
    CHECK_EQ_INT(b3.member_id[0], 0);
    e.fail_appends = 0;
    CHECK_EQ_INT(h_heartbeat(gc, G, b2.member_id, "i2", 1), OD_GC_NONE);

    /* Admin removal by instance id (LeaveGroup v3+ with no member id). */
    od_gc_leave_member lm[2] = {{OD_STR_LIT(""), OD_STR_LIT("i2"), OD_STR_NULL, -99},
                                {OD_STR_LIT(""), OD_STR_LIT("i7"), OD_STR_NULL, -99}};
    od_gc_leave(gc, OD_STR_LIT(G), lm, 2);
    CHECK_EQ_INT(lm[0].error, OD_GC_NONE);
    CHECK_EQ_INT(lm[1].error, OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(h_members(gc, G), 1);
    od_gc_leave_member fenced = {od_str_from_cstr(a.member_id), OD_STR_LIT("i1"), OD_STR_NULL, -99};
    od_gc_leave(gc, OD_STR_LIT(G), &fenced, 1);
    CHECK_EQ_INT(fenced.error, OD_GC_FENCED_INSTANCE_ID);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* A static member that rejoins while the group completes a rebalance forces
 * another one; a static member that does not rejoin stays until its
 * session expires. */
static void test_static_member_rebalances(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    h_member_spec s1 = {.instance = "i1", .session_ms = 30000};
    h_member_spec s2 = {.instance = "i2", .session_ms = 30000};
    h_join a = {0}, b = {0};
    h_join_req(gc, G, "", &s1, &a);
    h_join_req(gc, G, "", &s2, &b);
    h_advance(gc, &e, 6000);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_COMPLETING_REBALANCE);
    h_sync sb = {0};
    h_sync_req(gc, G, b.member_id, 1, "i2", NULL, 0, &sb);
    h_join b2 = {0};
    h_join_req(gc, G, "", &s2, &b2);
    CHECK_EQ_INT(sb.calls, 1);
    CHECK_EQ_INT(sb.error, OD_GC_FENCED_INSTANCE_ID);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_PREPARING_REBALANCE);
    /* The leader (i1) never rejoins; the rebalance completes without it
     * but keeps it as a static member. */
    h_advance(gc, &e, 30000);
    CHECK_EQ_INT(b2.calls, 1);
    CHECK_EQ_INT(b2.error, OD_GC_NONE);
    CHECK(strcmp(b2.leader, b2.member_id) == 0);
    CHECK_EQ_INT(h_members(gc, G), 2);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* Cooperative rebalancing (KIP-429) is repeated joins: the member that
 * revoked partitions rejoins with new metadata and a second generation
 * follows. */
static void test_cooperative_repeated_joins(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    char ids[16][160];
    h_member_spec coop = {.protocols = {"cooperative-sticky"}, .metadata = "owned:0,1"};
    form_group(gc, &e, G, 2, ids, &coop);
    /* Follower with unchanged metadata in Stable: same generation back. */
    h_join same = {0};
    h_join_req(gc, G, ids[1], &coop, &same);
    CHECK_EQ_INT(same.calls, 1);
    CHECK_EQ_INT(same.generation, 1);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_STABLE);
    for (int round = 0; round < 2; round++) {
        h_member_spec changed = coop;
        changed.metadata = round ? "owned:1" : "owned:0";
        h_join r1 = {0}, r0 = {0};
        h_join_req(gc, G, ids[1], &changed, &r1);
        CHECK_EQ_INT(h_state(gc, G), OD_GC_PREPARING_REBALANCE);
        h_join_req(gc, G, ids[0], &coop, &r0);
        CHECK_EQ_INT(r0.generation, 2 + round);
        CHECK_EQ_INT(r1.generation, 2 + round);
        od_gc_assignment as[2] = {{od_str_from_cstr(ids[0]), {(const uint8_t *)"a", 1}},
                                  {od_str_from_cstr(ids[1]), {(const uint8_t *)"b", 1}}};
        h_sync s0 = {0}, s1 = {0};
        h_sync_req(gc, G, ids[1], 2 + round, NULL, NULL, 0, &s1);
        h_sync_req(gc, G, ids[0], 2 + round, NULL, as, 2, &s0);
        CHECK_EQ_INT(s1.error, OD_GC_NONE);
        CHECK_EQ_INT(h_state(gc, G), OD_GC_STABLE);
    }
    /* A follower's second JoinGroup while one is waiting: the older one is
     * answered (never left hanging). */
    h_join w1 = {0}, w2 = {0};
    h_member_spec changed = coop;
    changed.metadata = "owned:";
    h_join_req(gc, G, ids[1], &changed, &w1);
    h_join_req(gc, G, ids[1], &changed, &w2);
    CHECK_EQ_INT(w1.calls, 1);
    CHECK_EQ_INT(w1.error, OD_GC_REBALANCE_IN_PROGRESS);
    CHECK_EQ_INT(w2.calls, 0);
    od_gc_destroy(gc);
    CHECK_EQ_INT(w2.calls, 1); /* answered NOT_COORDINATOR at shutdown */
    CHECK_EQ_INT(w2.error, OD_GC_NOT_COORDINATOR);
    h_env_free(&e);
}

static void test_describe_list_delete(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    char ids[16][160];
    form_group(gc, &e, G, 2, ids, NULL);
    od_arena arena;
    od_arena_init(&arena);
    od_gc_group_summary s;
    CHECK_EQ_INT(od_gc_describe(gc, OD_STR_LIT(G), &arena, &s), 0);
    CHECK_EQ_INT(s.error, OD_GC_NONE);
    CHECK(od_str_eq_cstr(s.state, "Stable"));
    CHECK(od_str_eq_cstr(s.protocol_type, "consumer"));
    CHECK(od_str_eq_cstr(s.protocol_data, "range"));
    CHECK_EQ_INT(s.member_count, 2);
    CHECK(od_str_eq_cstr(s.members[1].member_id, ids[1]));
    CHECK(od_str_eq_cstr(s.members[1].client_host, "/127.0.0.1"));
    CHECK(s.members[1].assignment.len == 2 && !memcmp(s.members[1].assignment.ptr, "P1", 2));
    CHECK_EQ_INT(od_gc_describe(gc, OD_STR_LIT("nope"), &arena, &s), 0);
    CHECK(od_str_eq_cstr(s.state, "Dead"));
    CHECK_EQ_INT(s.member_count, 0);

    /* A simple (offsets-only) group next to it. */
    od_gc_offset_commit c = {OD_STR_LIT("t"), 0, 1, -1, OD_STR_NULL, -1, -99};
    od_gc_commit_offsets(gc, OD_STR_LIT("simple"), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &c, 1);
    int16_t lerr;
    od_gc_listed_group *groups;
    int32_t n;
    od_gc_list(gc, NULL, 0, NULL, 0, &arena, &lerr, &groups, &n);
    CHECK_EQ_INT(n, 2);
    od_str stable = OD_STR_LIT("stable"), classic = OD_STR_LIT("Classic"),
           consumer = OD_STR_LIT("consumer");
    od_gc_list(gc, &stable, 1, NULL, 0, &arena, &lerr, &groups, &n);
    CHECK_EQ_INT(n, 1);
    CHECK(n == 1 && od_str_eq_cstr(groups[0].group_id, G));
    CHECK(n == 1 && od_str_eq_cstr(groups[0].group_type, "classic"));
    od_gc_list(gc, NULL, 0, &classic, 1, &arena, &lerr, &groups, &n);
    CHECK_EQ_INT(n, 2);
    od_gc_list(gc, NULL, 0, &consumer, 1, &arena, &lerr, &groups, &n);
    CHECK_EQ_INT(n, 0);
    /* Padded state filters: as sent they match nothing (Kafka's old
     * coordinator); trimmed (its new one) as "Stable" and "Empty" do. */
    od_str padded[2] = {OD_STR_LIT(" stable\t"), OD_STR_LIT("\n EMPTY ")};
    od_gc_list(gc, padded, 2, NULL, 0, &arena, &lerr, &groups, &n);
    CHECK_EQ_INT(n, 0);
    const od_str *trimmed = od_gc_trim_state_filters(padded, 2, &arena);
    CHECK(trimmed != NULL && od_str_eq_cstr(trimmed[0], "stable") && od_str_eq_cstr(trimmed[1], "EMPTY"));
    od_gc_list(gc, trimmed, 1, NULL, 0, &arena, &lerr, &groups, &n);
    CHECK(n == 1 && od_str_eq_cstr(groups[0].group_id, G));
    od_gc_list(gc, trimmed, 2, NULL, 0, &arena, &lerr, &groups, &n);
    CHECK_EQ_INT(n, 2);
    od_str blank = OD_STR_LIT(" \t ");
    const od_str *none = od_gc_trim_state_filters(&blank, 1, &arena);
    CHECK(none != NULL && none[0].len == 0);
    CHECK(od_gc_trim_state_filters(NULL, 0, &arena) == NULL);

    CHECK_EQ_INT(od_gc_delete_group(gc, OD_STR_LIT(G)), OD_GC_NON_EMPTY_GROUP);
    CHECK_EQ_INT(od_gc_delete_group(gc, OD_STR_LIT("nope")), OD_GC_GROUP_ID_NOT_FOUND);
    od_gc_leave_member lm[2] = {{od_str_from_cstr(ids[0]), OD_STR_NULL, OD_STR_NULL, -99},
                                {od_str_from_cstr(ids[1]), OD_STR_NULL, OD_STR_NULL, -99}};
    od_gc_leave(gc, OD_STR_LIT(G), lm, 2);
    CHECK_EQ_INT(h_state(gc, G), OD_GC_EMPTY);
    od_gc_describe(gc, OD_STR_LIT(G), &arena, &s);
    CHECK(od_str_eq_cstr(s.state, "Empty"));
    CHECK(od_str_eq_cstr(s.protocol_data, ""));
    int before = e.n_batches;
    CHECK_EQ_INT(od_gc_delete_group(gc, OD_STR_LIT(G)), OD_GC_NONE);
    CHECK_EQ_INT(e.n_batches, before + 1); /* the group's tombstone */
    CHECK_EQ_INT(od_gc_delete_group(gc, OD_STR_LIT(G)), OD_GC_GROUP_ID_NOT_FOUND);
    CHECK_EQ_INT(od_gc_describe(gc, OD_STR_LIT(G), &arena, &s), 0);
    CHECK(od_str_eq_cstr(s.state, "Dead"));
    CHECK_EQ_INT(od_gc_delete_group(gc, OD_STR_LIT("simple")), OD_GC_NONE);
    CHECK_EQ_INT(od_gc_group_count(gc), 0);
    od_arena_release(&arena);
    od_gc_destroy(gc);
    h_env_free(&e);
}

OD_TEST_MAIN(OD_CASE(test_single_member_lifecycle), OD_CASE(test_coordinator_and_request_errors),
             OD_CASE(test_ten_member_rebalance), OD_CASE(test_protocol_selection),
             OD_CASE(test_group_max_size), OD_CASE(test_session_expiry),
             OD_CASE(test_rebalance_timeout_kicks_slow_members),
             OD_CASE(test_initial_delay_extends), OD_CASE(test_pending_member),
             OD_CASE(test_static_member_replacement), OD_CASE(test_static_member_rebalances),
             OD_CASE(test_cooperative_repeated_joins), OD_CASE(test_describe_list_delete))
