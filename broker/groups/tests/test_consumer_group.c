/*
 * KIP-848 consumer-group coordinator in virtual time: joins, epochs,
 * reconciliation (revocation before reassignment), fencing, leaving, static
 * members, timeouts, metadata changes, assignors, replay of the records it
 * writes, and a randomized churn test that checks that no partition is ever
 * owned by two clients and that every partition ends up assigned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include "consumer_group.h"
#include "gc_harness.h"
#include "records/records.h"

/* The fuzz target, so the kept corpus is replayed here (principle 15). */
#define LLVMFuzzerTestOneInput fuzz_consumer_group_load_one
#include "../fuzz/fuzz_consumer_group_load.c"

/* ---------------------------------------------------------------- harness */

static od_uuid topic_uuid(int k)
{
    od_uuid u;
    for (int i = 0; i < 16; i++)
        u.bytes[i] = (uint8_t)(k * 37 + i * 11 + 1);
    return u;
}

typedef struct t_topic {
    const char *name;
    int id;
    int32_t partitions;
} t_topic;

static void set_topics(od_cg *cg, const t_topic *ts, int n)
{
    od_cg_topic t[16];
    for (int i = 0; i < n; i++)
        t[i] = (od_cg_topic){{ts[i].name, (int32_t)strlen(ts[i].name)}, topic_uuid(ts[i].id),
                             ts[i].partitions};
    CHECK_EQ_INT(od_cg_set_topics(cg, t, n), 0);
}

enum { MEMBER_ID_SEED = 7 };

/* A coordinator on a fresh log (e); cfg_in NULL: the defaults. */
static od_cg *t_create(h_env *e, const od_cg_config *cfg_in)
{
    h_env_init(e);
    return h_cg_create(e, cfg_in, MEMBER_ID_SEED);
}

/* A client's view: member id, epoch, the partitions it owns. */
typedef struct t_client {
    char id[64];
    int32_t epoch;
    od_cg_tp owned[256];
    int32_t owned_n;
    bool alive;
    bool owned_changed;          /* the Java client sends its owned set after a change */
    const char *instance;
} t_client;

typedef struct t_hb {
    int16_t error;
    int32_t epoch;
    bool has_assignment;
    int32_t interval;
} t_hb;

static od_str S(const char *s)
{
    return s ? (od_str){s, (int32_t)strlen(s)} : OD_STR_NULL;
}

/* Sends one heartbeat. topics NULL: not sent (a partial request);
 * send_owned false: owned partitions not sent. */
static t_hb heartbeat_ex(od_cg *cg, const char *group, t_client *c, const char **topics,
                         int ntopics, bool send_owned, const char *assignor, int32_t rebalance_ms)
{
    od_arena arena;
    od_arena_init(&arena);
    od_consumer_group_heartbeat_request r;
    od_consumer_group_heartbeat_request_init(&r);
    r.group_id = S(group);
    r.member_id = S(c->id);
    r.member_epoch = c->epoch;
    r.instance_id = S(c->instance);
    r.rebalance_timeout_ms = rebalance_ms;
    od_str names[16];
    if (topics) {
        for (int i = 0; i < ntopics; i++)
            names[i] = S(topics[i]);
        r.subscribed_topic_names.items = names;
        r.subscribed_topic_names.count = ntopics;
    } else {
        r.subscribed_topic_names.count = -1;
    }
    r.server_assignor = S(assignor);
    od_consumer_group_heartbeat_request_topic_partitions tps[64];
    int32_t parts[256];
    r.topic_partitions.count = -1;
    if (send_owned) {
        int nt = 0, np = 0;
        for (int i = 0; i < c->owned_n; i++) {
            if (nt == 0 || !od_uuid_eq(&tps[nt - 1].topic_id, &c->owned[i].topic_id)) {
                od_consumer_group_heartbeat_request_topic_partitions_init(&tps[nt]);
                tps[nt].topic_id = c->owned[i].topic_id;
                tps[nt].partitions.items = &parts[np];
                tps[nt].partitions.count = 0;
                nt++;
            }
            parts[np++] = c->owned[i].partition;
            tps[nt - 1].partitions.count++;
        }
        r.topic_partitions.items = tps;
        r.topic_partitions.count = nt;
    }
    if (send_owned)
        c->owned_changed = false;
    od_consumer_group_heartbeat_response resp;
    od_cg_heartbeat(cg, &r, OD_STR_NULL, S("client"), S("/127.0.0.1"), &arena, &resp);
    t_hb out = {resp.error_code, resp.member_epoch, resp.assignment != NULL,
                resp.heartbeat_interval_ms};
    if (resp.error_code == 0) {
        if (resp.member_id.len > 0 && resp.member_id.len < 64) {
            memcpy(c->id, resp.member_id.ptr, (size_t)resp.member_id.len);
            c->id[resp.member_id.len] = 0;
        }
        c->epoch = resp.member_epoch;
        if (resp.assignment) {
            c->owned_changed = true;
            c->owned_n = 0;
            for (int32_t i = 0; i < resp.assignment->topic_partitions.count; i++) {
                const od_consumer_group_heartbeat_response_topic_partitions *t =
                    &resp.assignment->topic_partitions.items[i];
                for (int32_t j = 0; j < t->partitions.count; j++)
                    c->owned[c->owned_n++] = (od_cg_tp){t->topic_id, t->partitions.items[j]};
            }
        }
    }
    od_arena_release(&arena);
    return out;
}

static const char *T1[] = {"t1"};

static t_hb heartbeat(od_cg *cg, const char *group, t_client *c)
{
    return heartbeat_ex(cg, group, c, T1, 1, true, NULL, 30000);
}

static int owned_count_topic(const t_client *c, int topic)
{
    od_uuid u = topic_uuid(topic);
    int n = 0;
    for (int i = 0; i < c->owned_n; i++)
        n += od_uuid_eq(&c->owned[i].topic_id, &u);
    return n;
}

static bool owns(const t_client *c, int topic, int32_t p)
{
    od_uuid u = topic_uuid(topic);
    for (int i = 0; i < c->owned_n; i++)
        if (od_uuid_eq(&c->owned[i].topic_id, &u) && c->owned[i].partition == p)
            return true;
    return false;
}

/* Clients whose member the coordinator removed (a zombie that did not
 * heartbeat within its session or rebalance timeout) learn it on their next
 * heartbeat; until then their ownership is void, as with Kafka. */
static od_cg *check_cg;

static bool is_member(const t_client *c)
{
    if (!check_cg)
        return true;
    od_arena a;
    od_arena_init(&a);
    int32_t ep, n;
    int8_t st;
    od_cg_tp *tp;
    bool ok = od_cg_member_get(check_cg, (od_str){"g", 1}, (od_str){c->id, (int32_t)strlen(c->id)}, 0,
                               &a, &ep, &st, &tp, &n);
    od_arena_release(&a);
    return ok;
}

static void check_disjoint(t_client *cs, int n)
{
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            if (is_member(&cs[a]) && is_member(&cs[b]))
            for (int i = 0; i < cs[a].owned_n; i++)
                for (int j = 0; j < cs[b].owned_n; j++)
                    CHECKF(!(od_uuid_eq(&cs[a].owned[i].topic_id, &cs[b].owned[j].topic_id) &&
                             cs[a].owned[i].partition == cs[b].owned[j].partition),
                           "partition %d owned by clients %d and %d", cs[a].owned[i].partition,
                           a, b);
}

static od_cg_group_info info(od_cg *cg, const char *group)
{
    od_cg_group_info gi = {-1, -1, -1, "none"};
    od_cg_group_info_get(cg, S(group), &gi);
    return gi;
}

/* ---------------------------------------------------------------- tests */

static void test_first_member_gets_everything(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 3}}, 1);
    t_client c = {0};
    t_hb r = heartbeat(cg, "g", &c);
    CHECK_EQ_INT(r.error, 0);
    CHECK_EQ_INT(r.epoch, 1);
    CHECK_EQ_INT(r.interval, 5000);
    CHECK(r.has_assignment);
    CHECK_EQ_INT(c.owned_n, 3);
    CHECK_EQ_INT((int)strlen(c.id), 22); /* a Uuid in URL-safe base64 */
    od_cg_group_info gi = info(cg, "g");
    CHECK_EQ_INT(gi.group_epoch, 1);
    CHECK_EQ_INT(gi.assignment_epoch, 1);
    CHECK(strcmp(gi.state, "Stable") == 0);
    /* a steady heartbeat writes nothing and carries no assignment */
    int32_t batches = e.n_batches;
    r = heartbeat_ex(cg, "g", &c, NULL, 0, false, NULL, -1);
    CHECK_EQ_INT(r.error, 0);
    CHECK(!r.has_assignment);
    CHECK_EQ_INT(e.n_batches, batches);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_second_member_waits_for_revocation(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 4}}, 1);
    t_client a = {0}, b = {0};
    heartbeat(cg, "g", &a);
    CHECK_EQ_INT(a.owned_n, 4);
    t_hb rb = heartbeat(cg, "g", &b);
    CHECK_EQ_INT(rb.error, 0);
    /* b is at epoch 2 but every partition is still a's: it gets nothing yet */
    CHECK_EQ_INT(rb.epoch, 2);
    CHECK_EQ_INT(b.owned_n, 0);
    CHECK(strcmp(info(cg, "g").state, "Reconciling") == 0);
    /* a is told to give up two partitions, staying at epoch 1 */
    t_hb ra = heartbeat(cg, "g", &a);
    CHECK_EQ_INT(ra.epoch, 1);
    CHECK_EQ_INT(a.owned_n, 2);
    check_disjoint((t_client[]){a, b}, 2);
    od_arena arena;
    od_arena_init(&arena);
    int32_t ep;
    int8_t st;
    od_cg_tp *tps;
    int32_t n;
    CHECK(od_cg_member_get(cg, S("g"), S(a.id), 1, &arena, &ep, &st, &tps, &n));
    CHECK_EQ_INT(st, OD_CG_MEMBER_UNREVOKED_PARTITIONS);
    CHECK_EQ_INT(n, 2);
    /* b asks again: the partitions are not released yet */
    heartbeat(cg, "g", &b);
    CHECK_EQ_INT(b.owned_n, 0);
    /* a acknowledges (its owned set no longer has them): epoch 2 */
    ra = heartbeat(cg, "g", &a);
    CHECK_EQ_INT(ra.epoch, 2);
    heartbeat(cg, "g", &b);
    CHECK_EQ_INT(b.owned_n, 2);
    check_disjoint((t_client[]){a, b}, 2);
    CHECK(strcmp(info(cg, "g").state, "Stable") == 0);
    od_arena_release(&arena);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_request_errors(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    t_client early = {0};
    CHECK_EQ_INT(heartbeat(cg, "g", &early).error, OD_GC_COORDINATOR_LOAD_IN_PROGRESS);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    t_client a = {0};
    /* no rebalance timeout on the first request */
    CHECK_EQ_INT(heartbeat_ex(cg, "g", &a, T1, 1, true, NULL, -1).error, OD_CG_INVALID_REQUEST);
    /* empty group id */
    CHECK_EQ_INT(heartbeat(cg, "", &a).error, OD_CG_INVALID_REQUEST);
    /* no subscription on the first request */
    CHECK_EQ_INT(heartbeat_ex(cg, "g", &a, NULL, 0, true, NULL, 1000).error,
                 OD_CG_INVALID_REQUEST);
    /* owned partitions on a join */
    t_client x = {.owned_n = 1};
    x.owned[0] = (od_cg_tp){topic_uuid(1), 0};
    CHECK_EQ_INT(heartbeat(cg, "g", &x).error, OD_CG_INVALID_REQUEST);
    CHECK_EQ_INT(heartbeat_ex(cg, "g", &a, T1, 1, true, "sticky", 1000).error,
                 OD_CG_UNSUPPORTED_ASSIGNOR);
    /* unknown group with an epoch */
    t_client ghost = {.epoch = 3};
    strcpy(ghost.id, "ghost");
    CHECK_EQ_INT(heartbeat(cg, "nope", &ghost).error, OD_GC_GROUP_ID_NOT_FOUND);
    CHECK(!od_cg_has_group(cg, S("nope")));
    CHECK_EQ_INT(heartbeat(cg, "g", &a).error, 0);
    CHECK_EQ_INT(heartbeat(cg, "g", &ghost).error, OD_GC_UNKNOWN_MEMBER_ID);
    /* an epoch from the future, and a stale one */
    t_client wrong = a;
    wrong.epoch = a.epoch + 1;
    CHECK_EQ_INT(heartbeat(cg, "g", &wrong).error, OD_CG_FENCED_MEMBER_EPOCH);
    t_client b = {0};
    heartbeat(cg, "g", &b);
    heartbeat(cg, "g", &a); /* revoking */
    heartbeat(cg, "g", &a); /* acked: epoch 2 */
    CHECK_EQ_INT(a.epoch, 2);
    wrong = a;
    wrong.epoch = 0 + 1;
    /* the previous epoch is accepted with a subset of the assignment */
    CHECK_EQ_INT(heartbeat(cg, "g", &wrong).error, 0);
    wrong = a;
    wrong.epoch = 1;
    wrong.owned_n = 2;
    wrong.owned[0] = (od_cg_tp){topic_uuid(1), 0};
    wrong.owned[1] = (od_cg_tp){topic_uuid(1), 1};
    CHECK_EQ_INT(heartbeat(cg, "g", &wrong).error, OD_CG_FENCED_MEMBER_EPOCH);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_leave_gives_partitions_to_others(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 4}}, 1);
    t_client a = {0}, b = {0};
    heartbeat(cg, "g", &a);
    heartbeat(cg, "g", &b);
    heartbeat(cg, "g", &a);
    heartbeat(cg, "g", &a);
    heartbeat(cg, "g", &b);
    CHECK_EQ_INT(a.owned_n + b.owned_n, 4);
    int32_t epoch = info(cg, "g").group_epoch;
    t_client leaving = a;
    leaving.epoch = OD_CG_LEAVE_EPOCH;
    t_hb r = heartbeat(cg, "g", &leaving);
    CHECK_EQ_INT(r.error, 0);
    CHECK_EQ_INT(r.epoch, -1);
    CHECK_EQ_INT(info(cg, "g").member_count, 1);
    CHECK_EQ_INT(info(cg, "g").group_epoch, epoch + 1);
    CHECK(strcmp(info(cg, "g").state, "Assigning") == 0);
    heartbeat(cg, "g", &b);
    CHECK_EQ_INT(b.owned_n, 4);
    CHECK(strcmp(info(cg, "g").state, "Stable") == 0);
    /* the left member is unknown now */
    CHECK_EQ_INT(heartbeat(cg, "g", &a).error, OD_GC_UNKNOWN_MEMBER_ID);
    /* the last member leaves: the group stays, Empty */
    b.epoch = -1;
    heartbeat(cg, "g", &b);
    CHECK(strcmp(info(cg, "g").state, "Empty") == 0);
    CHECK_EQ_INT(od_cg_delete_group(cg, S("g")), 0);
    CHECK(!od_cg_has_group(cg, S("g")));
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_static_member_leaves_and_returns(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 4}}, 1);
    t_client a = {.instance = "ia"}, b = {.instance = "ib"};
    heartbeat(cg, "g", &a);
    heartbeat(cg, "g", &b);
    heartbeat(cg, "g", &a);
    heartbeat(cg, "g", &a);
    heartbeat(cg, "g", &b);
    CHECK_EQ_INT(a.owned_n, 2);
    CHECK_EQ_INT(b.owned_n, 2);
    t_client a_before = a;
    /* another process with the same instance id cannot join */
    t_client intruder = {.instance = "ia"};
    CHECK_EQ_INT(heartbeat(cg, "g", &intruder).error, OD_CG_UNRELEASED_INSTANCE_ID);
    /* a heartbeat under the instance id with another member id is fenced */
    t_client impostor = a;
    strcpy(impostor.id, "someone-else");
    CHECK_EQ_INT(heartbeat(cg, "g", &impostor).error, OD_GC_FENCED_INSTANCE_ID);
    t_client leaving = a;
    leaving.epoch = OD_CG_LEAVE_STATIC_EPOCH;
    t_hb r = heartbeat(cg, "g", &leaving);
    CHECK_EQ_INT(r.error, 0);
    CHECK_EQ_INT(r.epoch, -2);
    int32_t epoch = info(cg, "g").group_epoch;
    /* b does not get a's partitions while a is away */
    heartbeat(cg, "g", &b);
    CHECK_EQ_INT(b.owned_n, 2);
    /* a restarts: new member id, same instance, same partitions, no new epoch */
    t_client a2 = {.instance = "ia"};
    r = heartbeat(cg, "g", &a2);
    CHECK_EQ_INT(r.error, 0);
    CHECK(strcmp(a2.id, a_before.id) != 0);
    CHECK_EQ_INT(a2.owned_n, 2);
    for (int i = 0; i < a_before.owned_n; i++)
        CHECK(owns(&a2, 1, a_before.owned[i].partition));
    CHECK_EQ_INT(info(cg, "g").group_epoch, epoch);
    CHECK_EQ_INT(info(cg, "g").member_count, 2);
    check_disjoint((t_client[]){a2, b}, 2);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_session_timeout_removes_member(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    t_client a = {0}, b = {0};
    heartbeat(cg, "g", &a);
    heartbeat(cg, "g", &b);
    heartbeat(cg, "g", &a);
    heartbeat(cg, "g", &a);
    heartbeat(cg, "g", &b);
    /* b keeps heartbeating, a goes silent */
    for (int i = 0; i < 8; i++) {
        h_cg_advance(cg, &e, 5000);
        heartbeat(cg, "g", &b);
    }
    CHECK_EQ_INT(info(cg, "g").member_count, 2);
    for (int i = 0; i < 2; i++) {
        h_cg_advance(cg, &e, 5000);
        heartbeat(cg, "g", &b);
    }
    CHECK_EQ_INT(info(cg, "g").member_count, 1);
    CHECK_EQ_INT(b.owned_n, 2);
    CHECK_EQ_INT(heartbeat(cg, "g", &a).error, OD_GC_UNKNOWN_MEMBER_ID);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_rebalance_timeout_fences_slow_revoker(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    t_client a = {0}, b = {0};
    heartbeat_ex(cg, "g", &a, T1, 1, true, NULL, 10000);
    heartbeat(cg, "g", &b);
    heartbeat_ex(cg, "g", &a, T1, 1, true, NULL, 10000); /* told to revoke */
    /* a keeps heartbeating but never gives the partition up */
    t_client stubborn = a;
    stubborn.owned_n = 2;
    stubborn.owned[0] = (od_cg_tp){topic_uuid(1), 0};
    stubborn.owned[1] = (od_cg_tp){topic_uuid(1), 1};
    for (int i = 0; i < 3; i++) {
        h_cg_advance(cg, &e, 3000);
        t_client s = stubborn;
        CHECK_EQ_INT(heartbeat(cg, "g", &s).error, 0);
        heartbeat(cg, "g", &b);
    }
    h_cg_advance(cg, &e, 2000);
    t_client s = stubborn;
    CHECK_EQ_INT(heartbeat(cg, "g", &s).error, OD_GC_UNKNOWN_MEMBER_ID);
    heartbeat(cg, "g", &b);
    CHECK_EQ_INT(b.owned_n, 2);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_max_size(void)
{
    h_env e;
    od_cg_config cfg;
    od_cg_config_default(&cfg);
    cfg.max_size = 2;
    od_cg *cg = t_create(&e, &cfg);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    t_client a = {0}, b = {0}, c = {0};
    CHECK_EQ_INT(heartbeat(cg, "g", &a).error, 0);
    CHECK_EQ_INT(heartbeat(cg, "g", &b).error, 0);
    CHECK_EQ_INT(heartbeat(cg, "g", &c).error, OD_GC_GROUP_MAX_SIZE_REACHED);
    CHECK_EQ_INT(heartbeat(cg, "g", &a).error, 0);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_metadata_changes_move_the_target(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    const char *both[] = {"t1", "t2"};
    t_client a = {0};
    heartbeat_ex(cg, "g", &a, both, 2, true, NULL, 1000);
    CHECK_EQ_INT(a.owned_n, 2);
    int32_t epoch = info(cg, "g").group_epoch;
    /* partitions added to t1, t2 created */
    set_topics(cg, (t_topic[]){{"t1", 1, 3}, {"t2", 2, 2}}, 2);
    heartbeat_ex(cg, "g", &a, NULL, 0, true, NULL, -1);
    CHECK_EQ_INT(info(cg, "g").group_epoch, epoch + 1);
    CHECK_EQ_INT(owned_count_topic(&a, 1), 3);
    CHECK_EQ_INT(owned_count_topic(&a, 2), 2);
    /* an unrelated topic changes nothing */
    set_topics(cg, (t_topic[]){{"t1", 1, 3}, {"t2", 2, 2}, {"other", 3, 5}}, 3);
    heartbeat_ex(cg, "g", &a, NULL, 0, true, NULL, -1);
    CHECK_EQ_INT(info(cg, "g").group_epoch, epoch + 1);
    /* t1 deleted: its partitions are revoked */
    set_topics(cg, (t_topic[]){{"t2", 2, 2}, {"other", 3, 5}}, 2);
    heartbeat_ex(cg, "g", &a, NULL, 0, true, NULL, -1);
    heartbeat_ex(cg, "g", &a, NULL, 0, true, NULL, -1);
    CHECK_EQ_INT(owned_count_topic(&a, 1), 0);
    CHECK_EQ_INT(owned_count_topic(&a, 2), 2);
    CHECK_EQ_INT(info(cg, "g").group_epoch, epoch + 2);
    CHECK(strcmp(info(cg, "g").state, "Stable") == 0);
    od_cg_destroy(cg);
    h_env_free(&e);
}

/* One ConsumerGroupHeartbeat with a SubscribedTopicRegex and no names. */
static void regex_heartbeat(od_cg *cg, const char *group, const char *member, int32_t epoch,
                            const char *regex, od_arena *arena,
                            od_consumer_group_heartbeat_response *resp)
{
    od_consumer_group_heartbeat_request r;
    od_consumer_group_heartbeat_request_init(&r);
    r.group_id = S(group);
    r.member_id = S(member);
    r.member_epoch = epoch;
    r.rebalance_timeout_ms = epoch == 0 ? 1000 : -1;
    r.subscribed_topic_names.count = -1;
    r.topic_partitions.count = epoch == 0 ? 0 : -1;
    od_cg_heartbeat(cg, &r, S(regex), S("c"), S("h"), arena, resp);
}

static int assigned_partitions(const od_consumer_group_heartbeat_response *resp, int topic)
{
    int n = 0;
    od_uuid u = topic_uuid(topic);
    for (int32_t i = 0; resp->assignment && i < resp->assignment->topic_partitions.count; i++)
        if (topic < 0 || od_uuid_eq(&resp->assignment->topic_partitions.items[i].topic_id, &u))
            n += resp->assignment->topic_partitions.items[i].partitions.count;
    return n;
}

/* Kafka 4.4's regex subscriptions: RE2/J syntax and whole-name matches,
 * internal topics included, INVALID_REGULAR_EXPRESSION after the member
 * checks, new matching topics picked up, the regex kept across a reload. */
static void test_regex_subscription(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"orders-eu", 1, 2}, {"orders-us", 2, 2}, {"payments", 3, 2},
                               {"__consumer_offsets", 4, 2}},
               4);
    od_arena arena;
    od_arena_init(&arena);
    od_consumer_group_heartbeat_response resp;
    regex_heartbeat(cg, "g", "m1", 0, "orders-.*", &arena, &resp);
    CHECK_EQ_INT(resp.error_code, 0);
    CHECK_EQ_INT(assigned_partitions(&resp, 1), 2);
    CHECK_EQ_INT(assigned_partitions(&resp, 2), 2);
    CHECK_EQ_INT(assigned_partitions(&resp, -1), 4);
    int32_t epoch = resp.member_epoch;

    /* A partial match is no match (matches(), not find()). */
    regex_heartbeat(cg, "g2", "m1", 0, "orders", &arena, &resp);
    CHECK_EQ_INT(resp.error_code, 0);
    CHECK_EQ_INT(assigned_partitions(&resp, -1), 0);
    /* Kafka does not skip internal topics when it resolves a regex. */
    regex_heartbeat(cg, "g3", "m1", 0, ".*", &arena, &resp);
    CHECK_EQ_INT(assigned_partitions(&resp, -1), 8);
    CHECK_EQ_INT(assigned_partitions(&resp, 4), 2);
    /* RE2 syntax POSIX does not have: \w, (?i), lazy repeats. */
    regex_heartbeat(cg, "g4", "m1", 0, "(?i)ORDERS-\\w+?", &arena, &resp);
    CHECK_EQ_INT(assigned_partitions(&resp, -1), 4);

    /* Invalid for RE2/J: Kafka's error and message. */
    regex_heartbeat(cg, "g5", "m1", 0, "orders-(eu", &arena, &resp);
    CHECK_EQ_INT(resp.error_code, OD_CG_INVALID_REGULAR_EXPRESSION);
    REQUIRE(resp.error_message.len > 0);
    const char *want = "SubscribedTopicRegex `orders-(eu` is not a valid regular expression: "
                       "missing closing ).";
    CHECKF(resp.error_message.len == (int32_t)strlen(want) &&
               memcmp(resp.error_message.ptr, want, strlen(want)) == 0,
           "message %.*s", (int)resp.error_message.len, resp.error_message.ptr);
    CHECK(!od_cg_has_group(cg, S("g5"))); /* the refused join created nothing */
    /* valid POSIX, refused by RE2: a lookahead, \Z */
    regex_heartbeat(cg, "g5", "m1", 0, "(?=orders).*", &arena, &resp);
    CHECK_EQ_INT(resp.error_code, OD_CG_INVALID_REGULAR_EXPRESSION);
    regex_heartbeat(cg, "g5", "m1", 0, "orders-eu\\Z", &arena, &resp);
    CHECK_EQ_INT(resp.error_code, OD_CG_INVALID_REGULAR_EXPRESSION);
    /* An existing member switching to an invalid regex is refused too... */
    regex_heartbeat(cg, "g", "m1", epoch, "[z-a]", &arena, &resp);
    CHECK_EQ_INT(resp.error_code, OD_CG_INVALID_REGULAR_EXPRESSION);
    /* ...but the member checks come first, as in Kafka. */
    regex_heartbeat(cg, "g", "nobody", 3, "[z-a]", &arena, &resp);
    CHECK_EQ_INT(resp.error_code, OD_GC_UNKNOWN_MEMBER_ID);

    /* A topic created later that matches joins the subscription at the
     * next heartbeat; one that does not match is ignored. */
    set_topics(cg, (t_topic[]){{"orders-eu", 1, 2}, {"orders-us", 2, 2}, {"payments", 3, 2},
                               {"__consumer_offsets", 4, 2}, {"orders-apac", 5, 3},
                               {"payments-apac", 6, 3}},
               6);
    regex_heartbeat(cg, "g", "m1", epoch, NULL, &arena, &resp);
    CHECK_EQ_INT(resp.error_code, 0);
    CHECK(resp.member_epoch > epoch);
    CHECK_EQ_INT(assigned_partitions(&resp, 5), 3);
    CHECK_EQ_INT(assigned_partitions(&resp, 6), 0);
    CHECK_EQ_INT(assigned_partitions(&resp, -1), 7);

    /* ConsumerGroupDescribe shows the regex. */
    od_consumer_group_describe_response_described_group d;
    CHECK_EQ_INT(od_cg_describe(cg, S("g"), &arena, &d), 0);
    REQUIRE(d.members.count == 1);
    CHECK(d.members.items[0].subscribed_topic_regex.len == 9 &&
          memcmp(d.members.items[0].subscribed_topic_regex.ptr, "orders-.*", 9) == 0);

    /* A reload from the log keeps the regex and what it resolves to. */
    h_env e2;
    h_env_init(&e2);
    e2.now = e.now;
    od_cg *re = h_cg_new(&e2, NULL, 0);
    REQUIRE(re);
    set_topics(re, (t_topic[]){{"orders-eu", 1, 2}, {"orders-us", 2, 2}, {"payments", 3, 2},
                               {"__consumer_offsets", 4, 2}, {"orders-apac", 5, 3},
                               {"payments-apac", 6, 3}, {"orders-latam", 7, 1}},
               7);
    h_cg_load(re, &e);
    CHECK_EQ_INT(od_cg_describe(re, S("g"), &arena, &d), 0);
    REQUIRE(d.members.count == 1);
    CHECK(d.members.items[0].subscribed_topic_regex.len == 9 &&
          memcmp(d.members.items[0].subscribed_topic_regex.ptr, "orders-.*", 9) == 0);
    /* and it resolves again, against the topics of now (orders-latam is new) */
    regex_heartbeat(re, "g", "m1", resp.member_epoch, NULL, &arena, &resp);
    CHECK_EQ_INT(resp.error_code, 0);
    CHECK_EQ_INT(assigned_partitions(&resp, 7), 1);
    CHECK_EQ_INT(assigned_partitions(&resp, -1), 8);
    od_cg_destroy(re);
    h_env_free(&e2);

    od_arena_release(&arena);
    od_cg_destroy(cg);
    h_env_free(&e);
}

/* Members with different regexes (a heterogeneous group, as Kafka 4.4
 * decides for any mix of regexes): each partition goes only to members
 * whose regex matches its topic, and every matched partition is assigned. */
static void test_regex_subscription_type(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"a-1", 1, 3}, {"a-2", 2, 3}, {"b-1", 3, 3}}, 3);
    od_arena arena;
    od_arena_init(&arena);
    od_consumer_group_heartbeat_response r1, r2;
    regex_heartbeat(cg, "g", "m1", 0, "a-.*", &arena, &r1);
    CHECK_EQ_INT(r1.error_code, 0);
    regex_heartbeat(cg, "g", "m2", 0, "a-.*", &arena, &r2);
    CHECK_EQ_INT(r2.error_code, 0);
    CHECK_EQ_INT(assigned_partitions(&r1, 3), 0);
    CHECK_EQ_INT(assigned_partitions(&r2, 3), 0);
    regex_heartbeat(cg, "g", "m3", 0, "b-.*", &arena, &r1);
    CHECK_EQ_INT(r1.error_code, 0);
    CHECK_EQ_INT(assigned_partitions(&r1, 1) + assigned_partitions(&r1, 2), 0);
    CHECK_EQ_INT(assigned_partitions(&r1, 3), 3);
    od_arena_release(&arena);
    od_cg_destroy(cg);
    h_env_free(&e);
}

/* Range keeps co-partitioned topics together: each member gets the same
 * partition numbers of both topics, in contiguous ranges. */
static void test_range_assignor_co_partitions(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 5}, {"t2", 2, 5}}, 2);
    const char *both[] = {"t1", "t2"};
    t_client cs[3];
    memset(cs, 0, sizeof cs);
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < 3; i++)
            CHECK_EQ_INT(heartbeat_ex(cg, "g", &cs[i], both, 2, true, "range", 1000).error, 0);
    CHECK(strcmp(info(cg, "g").state, "Stable") == 0);
    int sizes[3];
    for (int i = 0; i < 3; i++) {
        sizes[i] = owned_count_topic(&cs[i], 1);
        CHECK_EQ_INT(owned_count_topic(&cs[i], 2), sizes[i]);
        int lo = 99, hi = -1;
        for (int32_t p = 0; p < 5; p++) {
            CHECK_EQ_INT(owns(&cs[i], 1, p), owns(&cs[i], 2, p));
            if (owns(&cs[i], 1, p)) {
                lo = p < lo ? p : lo;
                hi = p > hi ? p : hi;
            }
        }
        if (sizes[i])
            CHECK_EQ_INT(hi - lo + 1, sizes[i]);
    }
    CHECK_EQ_INT(sizes[0] + sizes[1] + sizes[2], 5);
    for (int i = 0; i < 3; i++)
        CHECK(sizes[i] == 1 || sizes[i] == 2);
    od_arena arena;
    od_arena_init(&arena);
    od_consumer_group_describe_response_described_group d;
    CHECK_EQ_INT(od_cg_describe(cg, S("g"), &arena, &d), 0);
    CHECK(d.assignor_name.len == 5 && memcmp(d.assignor_name.ptr, "range", 5) == 0);
    CHECK_EQ_INT(d.members.count, 3);
    od_cg_describe(cg, S("missing"), &arena, &d);
    CHECK_EQ_INT(d.error_code, OD_GC_GROUP_ID_NOT_FOUND);
    od_arena_release(&arena);
    od_cg_destroy(cg);
    h_env_free(&e);
}

/* Uniform with equal subscriptions: sizes differ by at most one, and a
 * member that stays keeps what it had when another joins (stickiness). */
static void test_uniform_is_balanced_and_sticky(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 7}, {"t2", 2, 4}}, 2);
    const char *both[] = {"t1", "t2"};
    t_client cs[4];
    memset(cs, 0, sizeof cs);
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < 3; i++)
            heartbeat_ex(cg, "g", &cs[i], both, 2, true, NULL, 1000);
    int total = 0;
    for (int i = 0; i < 3; i++) {
        CHECK(cs[i].owned_n == 3 || cs[i].owned_n == 4);
        total += cs[i].owned_n;
    }
    CHECK_EQ_INT(total, 11);
    t_client before[3] = {cs[0], cs[1], cs[2]};
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < 4; i++)
            heartbeat_ex(cg, "g", &cs[i], both, 2, true, NULL, 1000);
    total = 0;
    for (int i = 0; i < 4; i++) {
        CHECK(cs[i].owned_n == 2 || cs[i].owned_n == 3);
        total += cs[i].owned_n;
    }
    CHECK_EQ_INT(total, 11);
    for (int i = 0; i < 3; i++) /* everything kept was owned before */
        for (int k = 0; k < cs[i].owned_n; k++) {
            bool was = false;
            for (int j = 0; j < before[i].owned_n; j++)
                was = was || (od_uuid_eq(&before[i].owned[j].topic_id, &cs[i].owned[k].topic_id) &&
                              before[i].owned[j].partition == cs[i].owned[k].partition);
            CHECK(was);
        }
    check_disjoint(cs, 4);
    od_cg_destroy(cg);
    h_env_free(&e);
}

/* Replaying every batch into a fresh coordinator rebuilds the same groups
 * (epochs, members, assignments, targets). */
static void test_replay_rebuilds_state(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 5}}, 1);
    t_client cs[3];
    memset(cs, 0, sizeof cs);
    cs[2].instance = "static-1";
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 3; i++)
            heartbeat(cg, "g", &cs[i]);
    t_client leaving = cs[0];
    leaving.epoch = -1;
    heartbeat(cg, "g", &leaving);
    heartbeat(cg, "g", &cs[1]); /* new target, revocations in flight */

    h_env e2;
    h_env_init(&e2);
    e2.now = e.now;
    od_cg *re = h_cg_new(&e2, NULL, 0);
    set_topics(re, (t_topic[]){{"t1", 1, 5}}, 1);
    h_cg_load(re, &e);
    /* the same, record by record (as the broker's loader feeds them) */
    od_cg *re2 = h_cg_new(&e2, NULL, 0);
    set_topics(re2, (t_topic[]){{"t1", 1, 5}}, 1);
    for (int32_t i = 0; i < e.n_batches; i++) {
        od_record_iter it;
        REQUIRE(od_record_iter_init(&it, e.batches[i].bytes, e.batches[i].len, 1 << 20) ==
                OD_BATCH_OK);
        od_record rec;
        while (od_record_iter_next(&it, &rec))
            CHECK_EQ_INT(od_cg_load_record(re2, e.batches[i].partition, rec.key, rec.value), 0);
        od_record_iter_finish(&it);
    }
    od_cg_activate_all(re2);
    od_cg_group_info c = info(re2, "g");
    CHECK_EQ_INT(c.group_epoch, info(cg, "g").group_epoch);
    CHECK_EQ_INT(c.member_count, info(cg, "g").member_count);
    CHECK_EQ_INT(heartbeat(re2, "g", &cs[1]).error, 0);
    od_cg_destroy(re2);

    od_cg_group_info a = info(cg, "g"), b = info(re, "g");
    CHECK_EQ_INT(a.group_epoch, b.group_epoch);
    CHECK_EQ_INT(a.assignment_epoch, b.assignment_epoch);
    CHECK_EQ_INT(a.member_count, b.member_count);
    CHECK(strcmp(a.state, b.state) == 0);
    od_arena arena;
    od_arena_init(&arena);
    for (int i = 1; i < 3; i++) {
        for (int which = 0; which < 3; which++) {
            int32_t e1, e2x, n1 = -1, n2 = -2;
            int8_t s1, s2;
            od_cg_tp *t1, *t2;
            CHECK(od_cg_member_get(cg, S("g"), S(cs[i].id), which, &arena, &e1, &s1, &t1, &n1));
            CHECK(od_cg_member_get(re, S("g"), S(cs[i].id), which, &arena, &e2x, &s2, &t2, &n2));
            CHECK_EQ_INT(e1, e2x);
            CHECK_EQ_INT(s1, s2);
            REQUIRE(n1 == n2);
            CHECK(n1 == 0 || memcmp(t1, t2, (size_t)n1 * sizeof *t1) == 0);
        }
    }
    /* and the reloaded coordinator carries on: members heartbeat as before */
    for (int i = 1; i < 3; i++)
        CHECK_EQ_INT(heartbeat(re, "g", &cs[i]).error, 0);
    od_arena_release(&arena);
    od_cg_destroy(re);
    h_env_free(&e2);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_failed_append_changes_nothing(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    t_client a = {0}, b = {0};
    heartbeat(cg, "g", &a);
    e.fail_appends = OD_GC_NOT_ENOUGH_REPLICAS;
    CHECK_EQ_INT(heartbeat(cg, "g", &b).error, OD_GC_COORDINATOR_NOT_AVAILABLE);
    CHECK_EQ_INT(info(cg, "g").member_count, 1);
    CHECK_EQ_INT(info(cg, "g").group_epoch, 1);
    t_client n = {0};
    CHECK_EQ_INT(heartbeat(cg, "fresh", &n).error, OD_GC_COORDINATOR_NOT_AVAILABLE);
    CHECK(!od_cg_has_group(cg, S("fresh")));
    e.fail_appends = 0;
    CHECK_EQ_INT(heartbeat(cg, "g", &b).error, 0);
    CHECK_EQ_INT(info(cg, "g").member_count, 2);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_offset_commit_validation(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    t_client a = {0};
    heartbeat(cg, "g", &a);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(a.id), a.epoch, 9), 0);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(a.id), a.epoch - 1, 9),
                 OD_CG_STALE_MEMBER_EPOCH);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(a.id), a.epoch, 8),
                 OD_CG_UNSUPPORTED_VERSION);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S("x"), a.epoch, 9),
                 OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(""), -1, 9),
                 OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("h"), S(""), -1, 9),
                 OD_GC_GROUP_ID_NOT_FOUND);
    a.epoch = -1;
    heartbeat(cg, "g", &a);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(""), -1, 9), 0);
    od_cg_destroy(cg);
    h_env_free(&e);
}

/* Kafka 3.9: a newer epoch than the member's is as stale as an older one;
 * a member's own id with no epoch is stale too. */
static void test_offset_commit_epoch_newer_or_missing(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    t_client a = {0};
    heartbeat(cg, "g", &a);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(a.id), a.epoch + 1, 9),
                 OD_CG_STALE_MEMBER_EPOCH);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(a.id), -1, 9), OD_CG_STALE_MEMBER_EPOCH);
    /* below v9 the version is refused before the epoch is looked at */
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(a.id), a.epoch + 1, 7),
                 OD_CG_UNSUPPORTED_VERSION);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(""), -1, 7), OD_GC_UNKNOWN_MEMBER_ID);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_txn_offset_commit_validation(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    t_client a = {0};
    heartbeat(cg, "g", &a);
    CHECK_EQ_INT(od_cg_validate_txn_offset_commit(cg, S("g"), S(a.id), a.epoch), 0);
    CHECK_EQ_INT(od_cg_validate_txn_offset_commit(cg, S("g"), S(a.id), a.epoch - 1),
                 OD_GC_ILLEGAL_GENERATION);
    CHECK_EQ_INT(od_cg_validate_txn_offset_commit(cg, S("g"), S(a.id), a.epoch + 1),
                 OD_GC_ILLEGAL_GENERATION);
    CHECK_EQ_INT(od_cg_validate_txn_offset_commit(cg, S("g"), S("x"), a.epoch),
                 OD_GC_UNKNOWN_MEMBER_ID);
    /* TxnOffsetCommit v0-2: no member, no generation */
    CHECK_EQ_INT(od_cg_validate_txn_offset_commit(cg, S("g"), S(""), -1), OD_GC_UNKNOWN_MEMBER_ID);
    a.epoch = -1;
    heartbeat(cg, "g", &a);
    CHECK_EQ_INT(od_cg_validate_txn_offset_commit(cg, S("g"), S(""), -1), 0);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_offset_fetch_validation(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}}, 1);
    t_client a = {0};
    heartbeat(cg, "g", &a);
    CHECK_EQ_INT(od_cg_validate_offset_fetch(cg, S("g"), OD_STR_NULL, -1), 0);
    CHECK_EQ_INT(od_cg_validate_offset_fetch(cg, S("g"), S(a.id), a.epoch), 0);
    CHECK_EQ_INT(od_cg_validate_offset_fetch(cg, S("g"), S(a.id), a.epoch - 1),
                 OD_CG_STALE_MEMBER_EPOCH);
    CHECK_EQ_INT(od_cg_validate_offset_fetch(cg, S("g"), S(a.id), a.epoch + 1),
                 OD_CG_STALE_MEMBER_EPOCH);
    CHECK_EQ_INT(od_cg_validate_offset_fetch(cg, S("g"), S("x"), a.epoch), OD_GC_UNKNOWN_MEMBER_ID);
    /* an empty id is an id, not the anonymous null */
    CHECK_EQ_INT(od_cg_validate_offset_fetch(cg, S("g"), S(""), -1), OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(od_cg_validate_offset_fetch(cg, S("h"), OD_STR_NULL, -1), OD_GC_GROUP_ID_NOT_FOUND);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_offset_delete_validation(void)
{
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    set_topics(cg, (t_topic[]){{"t1", 1, 2}, {"t2", 2, 1}}, 2);
    t_client a = {0};
    heartbeat(cg, "g", &a);
    CHECK_EQ_INT(od_cg_validate_offset_delete(cg, S("g"), S("t1")), OD_GC_GROUP_SUBSCRIBED_TO_TOPIC);
    CHECK_EQ_INT(od_cg_validate_offset_delete(cg, S("g"), S("t2")), 0);
    CHECK_EQ_INT(od_cg_validate_offset_delete(cg, S("h"), S("t1")), OD_GC_GROUP_ID_NOT_FOUND);
    CHECK_EQ_INT(od_cg_delete_group(cg, S("g")), OD_GC_NON_EMPTY_GROUP);
    a.epoch = -1;
    heartbeat(cg, "g", &a);
    CHECK_EQ_INT(od_cg_validate_offset_delete(cg, S("g"), S("t1")), 0);
    CHECK_EQ_INT(od_cg_delete_group(cg, S("g")), 0);
    od_cg_destroy(cg);
    h_env_free(&e);
}

/* ---------------------------------------------------------------- randomized churn */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

/* Many clients join, heartbeat (sometimes partially, sometimes late, some
 * with a static id), leave, die (their session expires) and rejoin while
 * topics grow. After every step no partition is owned by two live
 * clients; once the churn stops, every partition is owned by exactly one
 * client and the group is Stable. */
/* mixed: every third client subscribes to t1 only, so the uniform assignor
 * takes its heterogeneous path (Kafka's UniformHeterogeneousAssignmentBuilder). */
static int run_churn_mixed(uint64_t seed, bool range, bool mixed)
{
    rng_state = seed;
    h_env e;
    od_cg *cg = t_create(&e, NULL);
    check_cg = cg;
    t_topic topics[2] = {{"t1", 1, range ? 24 : 6}, {"t2", 2, range ? 13 : 5}};
    set_topics(cg, topics, 2);
    const char *both[] = {"t1", "t2"};
#define SUBS(i) (mixed && (i) % 3 == 0 ? 1 : 2)
    const char *assignor = range ? "range" : NULL;
    enum { N = 12 };
    static const char *instances[N] = {NULL, NULL, NULL, "s3", NULL, NULL,
                                       "s6", NULL, NULL, NULL, "s10", NULL};
    t_client cs[N];
    memset(cs, 0, sizeof cs);
    for (int i = 0; i < N; i++)
        cs[i].instance = instances[i];
    int revocations = 0;
    for (int step = 0; step < 1500; step++) {
        int i = (int)rnd(N);
        t_client *c = &cs[i];
        uint32_t op = rnd(100);
        if (!c->alive) {
            if (op < 30) {
                c->epoch = 0;
                c->owned_n = 0;
                c->id[0] = 0;
                t_hb r = heartbeat_ex(cg, "g", c, both, SUBS(i), true, assignor, 20000);
                if (r.error == 0)
                    c->alive = true;
                else
                    CHECKF(r.error == OD_CG_UNRELEASED_INSTANCE_ID, "join error %d", r.error);
            }
        } else if (op < 3) {
            /* graceful leave (static members sometimes leave temporarily) */
            t_client l = *c;
            l.epoch = c->instance && rnd(2) ? OD_CG_LEAVE_STATIC_EPOCH : OD_CG_LEAVE_EPOCH;
            c->owned_n = 0;
            c->alive = false;
            CHECK_EQ_INT(heartbeat(cg, "g", &l).error, 0);
        } else if (op < 5) {
            /* the process dies: it owns nothing from now on */
            c->owned_n = 0;
            c->alive = false;
        } else {
            int32_t before_n = c->owned_n;
            bool full = rnd(4) == 0;
            t_hb r = full ? heartbeat_ex(cg, "g", c, both, SUBS(i), true, assignor, 20000)
                          : heartbeat_ex(cg, "g", c, NULL, 0, c->owned_changed || rnd(2) == 0,
                                         NULL, -1);
            if (r.error == OD_CG_FENCED_MEMBER_EPOCH || r.error == OD_GC_UNKNOWN_MEMBER_ID) {
                /* the client gives everything up and rejoins */
                c->owned_n = 0;
                c->epoch = 0;
                if (!c->instance)
                    c->id[0] = 0;
                t_hb j = heartbeat_ex(cg, "g", c, both, SUBS(i), true, assignor, 20000);
                c->alive = j.error == 0;
            } else {
                CHECKF(r.error == 0, "heartbeat error %d at step %d", r.error, step);
                if (r.has_assignment && c->owned_n < before_n)
                    revocations++;
            }
        }
        if (rnd(40) == 0)
            h_cg_advance(cg, &e, 1000 + rnd(8000));
        if (rnd(300) == 0 && topics[0].partitions < 30) {
            topics[rnd(2)].partitions++;
            set_topics(cg, topics, 2);
        }
        check_disjoint(cs, N);
        if (od_test_failures)
            break;
    }
    /* quiesce: every live client heartbeats until nothing moves */
    for (int round = 0; round < 25; round++) { /* > a session timeout: the dead expire */
        for (int i = 0; i < N; i++)
            if (cs[i].alive) {
                t_hb r = heartbeat_ex(cg, "g", &cs[i], both, SUBS(i), true, assignor, 20000);
                if (r.error) {
                    cs[i].owned_n = 0;
                    cs[i].alive = false;
                }
            }
        check_disjoint(cs, N);
        h_cg_advance(cg, &e, 3000);
    }
    /* the sticky heterogeneous builder moves less: the caller sums those */
    CHECKF(mixed || revocations > 10,
           "only %d revocations: the churn did not exercise reconciliation", revocations);
    int live = 0, total = 0, t2_readers = 0;
    for (int i = 0; i < N; i++)
        if (cs[i].alive) {
            live++;
            total += cs[i].owned_n;
            t2_readers += SUBS(i) == 2;
        }
    od_cg_group_info gi = info(cg, "g");
    CHECKF(live == 0 || strcmp(gi.state, "Stable") == 0, "state %s", gi.state);
    CHECK_EQ_INT(gi.member_count, live);
    if (live > 0)
        CHECK_EQ_INT(total, topics[0].partitions + (t2_readers ? topics[1].partitions : 0));
    for (int t = 0; t < 2 && live > 0; t++)
        for (int32_t p = 0; p < topics[t].partitions; p++) {
            int owners = 0;
            for (int i = 0; i < N; i++)
                owners += cs[i].alive && owns(&cs[i], topics[t].id, p);
            int want = t == 1 && t2_readers == 0 ? 0 : 1;
            CHECKF(owners == want, "seed %llu topic %d partition %d has %d owners",
                   (unsigned long long)seed, t, p, owners);
        }
#undef SUBS
    check_cg = NULL;
    od_cg_destroy(cg);
    h_env_free(&e);
    return revocations;
}

static void run_churn(uint64_t seed, bool range)
{
    (void)run_churn_mixed(seed, range, false);
}

static void test_churn_uniform_heterogeneous(void)
{
    int revocations = 0;
    for (uint64_t seed = 200; seed <= 208 && !od_test_failures; seed++)
        revocations += run_churn_mixed(seed, false, true);
    CHECKF(revocations > 30, "only %d revocations in all: the churn did not exercise reconciliation",
           revocations);
}

/* od_cg_run_assignor with random differing subscriptions and random
 * current targets: every subscribed partition goes to exactly one of its
 * subscribers, whether Kafka's builder ran (0) or its fallback (1). */
static void test_uniform_heterogeneous_valid(void)
{
    od_cg_topic topics[6];
    od_uuid ids[6];
    for (int t = 0; t < 6; t++) {
        memset(&ids[t], 0, sizeof ids[t]);
        ids[t].bytes[0] = (uint8_t)(t + 1);
        ids[t].bytes[15] = (uint8_t)(37 * t + 11);
    }
    rng_state = 4242;
    int fallbacks = 0;
    for (int round = 0; round < 300 && !od_test_failures; round++) {
        int nt = 1 + (int)rnd(6), nm = 1 + (int)rnd(9);
        for (int t = 0; t < nt; t++)
            topics[t] = (od_cg_topic){S("t"), ids[t], 1 + (int32_t)rnd(20)};
        od_cg_assignor_member ms[9];
        char names[9][16];
        od_uuid subs[9][6];
        od_cg_tp cur[9][120];
        bool taken[6][20];
        memset(taken, 0, sizeof taken);
        for (int m = 0; m < nm; m++) {
            snprintf(names[m], sizeof names[m], "m%d-%u", m, rnd(1000));
            int k = 0;
            for (int t = 0; t < nt; t++)
                if (rnd(2))
                    subs[m][k++] = ids[t];
            if (k == 0)
                subs[m][k++] = ids[rnd((uint32_t)nt)];
            int c = 0;
            for (int t = 0; t < nt; t++)
                for (int32_t p = 0; p < topics[t].partitions; p++)
                    if (!taken[t][p] && rnd(4) == 0) {
                        taken[t][p] = true;
                        cur[m][c++] = (od_cg_tp){ids[t], p};
                    }
            ms[m] = (od_cg_assignor_member){S(names[m]), OD_STR_NULL, subs[m], k, cur[m], c, NULL, 0};
        }
        od_arena arena;
        od_arena_init(&arena);
        int rc = od_cg_run_assignor(OD_CG_ASSIGNOR_UNIFORM, ms, nm, topics, nt, &arena);
        CHECKF(rc == 0 || rc == 1, "round %d: rc %d", round, rc);
        fallbacks += rc == 1;
        for (int t = 0; t < nt; t++) {
            bool subscribed = false;
            for (int m = 0; m < nm; m++)
                for (int k = 0; k < ms[m].topic_count; k++)
                    subscribed = subscribed || od_uuid_eq(&ms[m].topics[k], &ids[t]);
            for (int32_t p = 0; p < topics[t].partitions; p++) {
                int owners = 0;
                for (int m = 0; m < nm; m++)
                    for (int32_t r = 0; r < ms[m].result_count; r++)
                        if (od_uuid_eq(&ms[m].result[r].topic_id, &ids[t]) &&
                            ms[m].result[r].partition == p) {
                            bool sub = false;
                            for (int k = 0; k < ms[m].topic_count; k++)
                                sub = sub || od_uuid_eq(&ms[m].topics[k], &ids[t]);
                            CHECKF(sub, "round %d: partition to a member not subscribed", round);
                            owners++;
                        }
                CHECKF(owners == (subscribed ? 1 : 0), "round %d: topic %d partition %d: %d owners",
                       round, t, p, owners);
            }
        }
        od_arena_release(&arena);
    }
    (void)fallbacks;
}

static void test_churn_uniform(void)
{
    for (uint64_t seed = 1; seed <= 12 && !od_test_failures; seed++)
        run_churn(seed, false);
}

static void test_churn_range(void)
{
    for (uint64_t seed = 100; seed <= 106 && !od_test_failures; seed++)
        run_churn(seed, true);
}

static void test_kept_corpus(void)
{
    DIR *d = opendir(OD_CG_CORPUS_DIR);
    REQUIRE(d);
    int files = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", OD_CG_CORPUS_DIR, ent->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t buf[65536];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        CHECK_EQ_INT(fuzz_consumer_group_load_one(buf, n), 0);
        files++;
    }
    closedir(d);
    CHECK(files >= 3);
}

OD_TEST_MAIN({"first_member_gets_everything", test_first_member_gets_everything},
             {"second_member_waits_for_revocation", test_second_member_waits_for_revocation},
             {"request_errors", test_request_errors},
             {"leave_gives_partitions_to_others", test_leave_gives_partitions_to_others},
             {"static_member_leaves_and_returns", test_static_member_leaves_and_returns},
             {"session_timeout_removes_member", test_session_timeout_removes_member},
             {"rebalance_timeout_fences_slow_revoker", test_rebalance_timeout_fences_slow_revoker},
             {"max_size", test_max_size},
             {"metadata_changes_move_the_target", test_metadata_changes_move_the_target},
             {"regex_subscription", test_regex_subscription},
             {"regex_subscription_type", test_regex_subscription_type},
             {"range_assignor_co_partitions", test_range_assignor_co_partitions},
             {"uniform_is_balanced_and_sticky", test_uniform_is_balanced_and_sticky},
             {"replay_rebuilds_state", test_replay_rebuilds_state},
             {"failed_append_changes_nothing", test_failed_append_changes_nothing},
             {"offset_commit_validation", test_offset_commit_validation},
             {"offset_commit_epoch_newer_or_missing", test_offset_commit_epoch_newer_or_missing},
             {"txn_offset_commit_validation", test_txn_offset_commit_validation},
             {"offset_fetch_validation", test_offset_fetch_validation},
             {"offset_delete_validation", test_offset_delete_validation},
             {"churn_uniform", test_churn_uniform},
             {"churn_uniform_heterogeneous", test_churn_uniform_heterogeneous},
             {"uniform_heterogeneous_valid", test_uniform_heterogeneous_valid},
             {"churn_range", test_churn_range},
             {"kept_corpus", test_kept_corpus})
