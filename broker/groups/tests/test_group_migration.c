/*
 * KIP-848 migration in virtual time: classic (JoinGroup/SyncGroup/Heartbeat/
 * LeaveGroup) members inside a consumer group, their errors, sessions and
 * offsets checks; online upgrade (a ConsumerGroupHeartbeat joining a classic
 * group) and downgrade (the last consumer-protocol member leaving), each per
 * policy; and the replay of what they persisted into fresh coordinators, as
 * a restart does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_group.h"
#include "gc_harness.h"
#include "records/records.h"

static od_str S(const char *s)
{
    return s ? od_str_from_cstr(s) : OD_STR_NULL;
}

static od_uuid topic_uuid(int k)
{
    od_uuid u;
    for (int i = 0; i < 16; i++)
        u.bytes[i] = (uint8_t)(k * 41 + i * 7 + 3);
    return u;
}

static void set_topic(od_cg *cg, const char *name, int id, int32_t partitions)
{
    od_cg_topic t = {S(name), topic_uuid(id), partitions};
    CHECK_EQ_INT(od_cg_set_topics(cg, &t, 1), 0);
}

enum { MEMBER_ID_SEED = 11 };

/* A consumer group coordinator on a fresh log (e). */
static od_cg *cg_create(h_env *e)
{
    h_env_init(e);
    return h_cg_create(e, NULL, MEMBER_ID_SEED);
}

/* ---------------------------------------------------------------- consumer-protocol member */

typedef struct k_member {
    char id[64];
    int32_t epoch;
    int32_t owned[64];
    int owned_n;
} k_member;

static int16_t k_heartbeat(od_cg *cg, k_member *m, int32_t epoch_override)
{
    od_arena a;
    od_arena_init(&a);
    od_consumer_group_heartbeat_request r;
    od_consumer_group_heartbeat_request_init(&r);
    r.group_id = S("g");
    r.member_id = S(m->id);
    r.member_epoch = epoch_override != 0 ? epoch_override : m->epoch;
    r.rebalance_timeout_ms = 30000;
    od_str topic = S("t");
    r.subscribed_topic_names = (od_str_array){1, &topic};
    od_consumer_group_heartbeat_request_topic_partitions tp;
    od_consumer_group_heartbeat_request_topic_partitions_init(&tp);
    tp.topic_id = topic_uuid(1);
    tp.partitions = (od_int32_array){m->owned_n, m->owned};
    r.topic_partitions = (od_consumer_group_heartbeat_request_topic_partitions_array){
        m->epoch == 0 ? 0 : 1, &tp};
    od_consumer_group_heartbeat_response resp;
    od_cg_heartbeat(cg, &r, OD_STR_NULL, S("k"), S("/10.0.0.1"), &a, &resp);
    if (resp.error_code == 0) {
        h_copy(m->id, sizeof m->id, resp.member_id);
        m->epoch = resp.member_epoch;
        if (resp.assignment) {
            m->owned_n = 0;
            for (int32_t i = 0; i < resp.assignment->topic_partitions.count; i++)
                for (int32_t j = 0; j < resp.assignment->topic_partitions.items[i].partitions.count; j++)
                    m->owned[m->owned_n++] = resp.assignment->topic_partitions.items[i].partitions.items[j];
        }
    }
    int16_t err = resp.error_code;
    od_arena_release(&a);
    return err;
}

/* ---------------------------------------------------------------- classic member */

typedef struct c_member {
    char id[64];
    const char *instance;
    int32_t generation;
    int32_t owned[64];           /* partitions of "t" */
    int owned_n;
    int32_t session_ms;
} c_member;

/* w's bytes, copied into the arena; frees w. */
static od_bytes arena_bytes(od_arena *a, od_writer *w)
{
    uint8_t *p = od_arena_alloc(a, w->len);
    memcpy(p, w->buf, w->len);
    od_bytes out = {p, (int32_t)w->len};
    od_writer_free(w);
    return out;
}

/* ConsumerProtocolSubscription v1 (topics and owned partitions). */
static od_bytes c_subscription(od_arena *a, const c_member *m)
{
    od_consumer_protocol_subscription s;
    od_consumer_protocol_subscription_init(&s);
    od_str *topic = od_arena_alloc(a, sizeof *topic);
    *topic = S("t");
    s.topics = (od_str_array){1, topic};
    od_consumer_protocol_subscription_topic_partition *tp = od_arena_alloc(a, sizeof *tp);
    od_consumer_protocol_subscription_topic_partition_init(tp);
    tp->topic = S("t");
    tp->partitions = (od_int32_array){m->owned_n, (int32_t *)m->owned};
    s.owned_partitions = (od_consumer_protocol_subscription_topic_partition_array){1, tp};
    od_writer w;
    od_writer_init(&w, 64);
    od_write_i16(&w, 1);
    od_consumer_protocol_subscription_encode(&s, &w, 1);
    return arena_bytes(a, &w);
}

static int16_t c_join_ex(od_cg *cg, c_member *m, const char *protocol_type, bool require_known)
{
    od_arena a;
    od_arena_init(&a);
    od_gc_protocol ps[2] = {{S("cooperative-sticky"), c_subscription(&a, m)},
                            {S("range"), c_subscription(&a, m)}};
    od_cg_classic_join_args args = {
        .group_id = S("g"),
        .member_id = S(m->id),
        .group_instance_id = S(m->instance),
        .protocol_type = S(protocol_type),
        .protocols = ps,
        .protocol_count = 2,
        .session_timeout_ms = m->session_ms ? m->session_ms : 10000,
        .rebalance_timeout_ms = 30000,
        .client_id = S("c"),
        .client_host = S("/10.0.0.2"),
        .require_known_member_id = require_known,
    };
    od_cg_classic_join_result r;
    od_cg_classic_join(cg, &args, &a, &r);
    if (r.member_id.len > 0)
        h_copy(m->id, sizeof m->id, r.member_id);
    if (r.error == 0) {
        m->generation = r.generation_id;
        CHECK(r.protocol_name.len == 18 && !memcmp(r.protocol_name.ptr, "cooperative-sticky", 18));
    }
    od_arena_release(&a);
    return r.error;
}

static int16_t c_join(od_cg *cg, c_member *m)
{
    return c_join_ex(cg, m, "consumer", true);
}

/* SyncGroup; on success the member owns what the assignment says. */
static int16_t c_sync_ex(od_cg *cg, c_member *m, int32_t generation, const char *name)
{
    od_arena a;
    od_arena_init(&a);
    od_cg_classic_sync_result r;
    od_cg_classic_sync(cg, S("g"), S(m->id), S(m->instance), generation, S("consumer"), S(name),
                       &a, &r);
    if (r.error == 0) {
        od_reader rd;
        od_reader_init(&rd, r.assignment.ptr, (size_t)r.assignment.len, &a);
        int16_t v = od_read_i16(&rd);
        CHECK_EQ_INT(v, 1); /* the subscription's version */
        od_consumer_protocol_assignment as;
        CHECK_EQ_INT(od_consumer_protocol_assignment_decode(&as, &rd, v), OD_WIRE_OK);
        m->owned_n = 0;
        for (int32_t i = 0; i < as.assigned_partitions.count; i++) {
            CHECK(as.assigned_partitions.items[i].topic.len == 1);
            for (int32_t j = 0; j < as.assigned_partitions.items[i].partitions.count; j++)
                m->owned[m->owned_n++] = as.assigned_partitions.items[i].partitions.items[j];
        }
    }
    od_arena_release(&a);
    return r.error;
}

static int16_t c_sync(od_cg *cg, c_member *m)
{
    return c_sync_ex(cg, m, m->generation, "cooperative-sticky");
}

static int16_t c_heartbeat(od_cg *cg, const c_member *m)
{
    return od_cg_classic_heartbeat(cg, S("g"), S(m->id), S(m->instance), m->generation);
}

/* The classic client's loop: heartbeat; on REBALANCE_IN_PROGRESS rejoin and
 * sync (a rejoin drops what a cooperative member gave up). */
static void c_poll(od_cg *cg, c_member *m)
{
    if (c_heartbeat(cg, m) != OD_GC_REBALANCE_IN_PROGRESS)
        return;
    CHECK_EQ_INT(c_join(cg, m), 0);
    int16_t err = c_sync(cg, m);
    CHECK(err == 0 || err == OD_GC_REBALANCE_IN_PROGRESS);
}

static bool overlap(const int32_t *a, int an, const int32_t *b, int bn)
{
    for (int i = 0; i < an; i++)
        for (int j = 0; j < bn; j++)
            if (a[i] == b[j])
                return true;
    return false;
}

static od_cg_group_info info(od_cg *cg)
{
    od_cg_group_info gi = {-1, -1, -1, "none"};
    od_cg_group_info_get(cg, S("g"), &gi);
    return gi;
}

/* ---------------------------------------------------------------- tests */

/* ConsumerGroupDescribe v1's MemberType of one member of group "g"; -2 when
 * it is not there. */
static int described_member_type(od_cg *cg, const char *id)
{
    od_arena a;
    od_arena_init(&a);
    od_consumer_group_describe_response_described_group d;
    int type = -2;
    if (od_cg_describe(cg, S("g"), &a, &d) == 0)
        for (int32_t i = 0; i < d.members.count; i++)
            if (d.members.items[i].member_id.len == (int32_t)strlen(id) &&
                memcmp(d.members.items[i].member_id.ptr, id, strlen(id)) == 0)
                type = d.members.items[i].member_type;
    od_arena_release(&a);
    return type;
}

static void test_classic_member_joins_and_reconciles(void)
{
    h_env e;
    od_cg *cg = cg_create(&e);
    set_topic(cg, "t", 1, 4);
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
    CHECK_EQ_INT(k.owned_n, 4);

    c_member c = {0};
    /* KIP-394 first */
    CHECK_EQ_INT(c_join(cg, &c), OD_GC_MEMBER_ID_REQUIRED);
    CHECK_EQ_INT((int)strlen(c.id), 22);
    CHECK_EQ_INT(info(cg).member_count, 1);
    CHECK_EQ_INT(c_join(cg, &c), 0);
    CHECK_EQ_INT(info(cg).member_count, 2);
    CHECK_EQ_INT(info(cg).group_epoch, 2);
    CHECK(od_cg_member_is_classic(cg, S("g"), S(c.id)));
    CHECK(!od_cg_member_is_classic(cg, S("g"), S(k.id)));
    CHECK_EQ_INT(described_member_type(cg, c.id), OD_CG_MEMBER_TYPE_CLASSIC);
    CHECK_EQ_INT(described_member_type(cg, k.id), OD_CG_MEMBER_TYPE_CONSUMER);
    /* its partitions are still k's: it syncs with nothing and waits */
    CHECK_EQ_INT(c_sync(cg, &c), 0);
    CHECK_EQ_INT(c.owned_n, 0);
    CHECK_EQ_INT(c_heartbeat(cg, &c), 0);
    /* k revokes two partitions (two heartbeats: learn, then acknowledge) */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
        CHECK(!overlap(k.owned, k.owned_n, c.owned, c.owned_n));
    }
    CHECK_EQ_INT(k.owned_n, 2);
    /* the partitions are free: the classic member is told to rejoin */
    CHECK_EQ_INT(c_heartbeat(cg, &c), OD_GC_REBALANCE_IN_PROGRESS);
    c_poll(cg, &c);
    CHECK_EQ_INT(c.owned_n, 2);
    CHECK(!overlap(k.owned, k.owned_n, c.owned, c.owned_n));
    CHECK_EQ_INT(c_heartbeat(cg, &c), 0);
    CHECK(strcmp(info(cg).state, "Stable") == 0);
    CHECK_EQ_INT(c.generation, info(cg).group_epoch);

    /* a second classic member: the first must give up a partition; it
     * learns from its heartbeat, rejoins owning its reduced set */
    c_member d = {0};
    CHECK_EQ_INT(c_join_ex(cg, &d, "consumer", false), 0);
    for (int round = 0; round < 6; round++) {
        c_poll(cg, &c);
        c_poll(cg, &d);
        CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
        CHECK(!overlap(k.owned, k.owned_n, c.owned, c.owned_n));
        CHECK(!overlap(k.owned, k.owned_n, d.owned, d.owned_n));
        CHECK(!overlap(c.owned, c.owned_n, d.owned, d.owned_n));
    }
    CHECK_EQ_INT(k.owned_n + c.owned_n + d.owned_n, 4);
    CHECK(k.owned_n >= 1 && c.owned_n >= 1 && d.owned_n >= 1);
    CHECK(strcmp(info(cg).state, "Stable") == 0);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_classic_member_errors(void)
{
    h_env e;
    od_cg *cg = cg_create(&e);
    set_topic(cg, "t", 1, 2);
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
    c_member c = {0};
    CHECK_EQ_INT(c_join_ex(cg, &c, "connect", false), OD_GC_INCONSISTENT_GROUP_PROTOCOL);
    CHECK_EQ_INT(info(cg).member_count, 1);
    CHECK_EQ_INT(c_join_ex(cg, &c, "consumer", false), 0);
    CHECK_EQ_INT(c_sync_ex(cg, &c, c.generation + 1, "cooperative-sticky"),
                 OD_GC_ILLEGAL_GENERATION);
    CHECK_EQ_INT(c_sync_ex(cg, &c, c.generation, "range"), OD_GC_INCONSISTENT_GROUP_PROTOCOL);
    CHECK_EQ_INT(od_cg_classic_heartbeat(cg, S("g"), S(c.id), OD_STR_NULL, c.generation - 1),
                 OD_GC_ILLEGAL_GENERATION);
    /* a consumer-protocol member is not a classic one */
    CHECK_EQ_INT(od_cg_classic_heartbeat(cg, S("g"), S(k.id), OD_STR_NULL, k.epoch),
                 OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(od_cg_classic_heartbeat(cg, S("g"), S("ghost"), OD_STR_NULL, 1),
                 OD_GC_UNKNOWN_MEMBER_ID);
    /* offsets: a classic member commits with its generation */
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(c.id), c.generation, 8), OD_GC_NONE);
    CHECK_EQ_INT(od_cg_validate_offset_commit(cg, S("g"), S(c.id), c.generation - 1, 8),
                 OD_GC_ILLEGAL_GENERATION);
    /* a new group epoch sends the classic member back to JoinGroup */
    k_member k2 = {0};
    CHECK_EQ_INT(k_heartbeat(cg, &k2, 0), 0);
    CHECK(info(cg).group_epoch > c.generation);
    CHECK_EQ_INT(c_heartbeat(cg, &c), OD_GC_REBALANCE_IN_PROGRESS);
    CHECK_EQ_INT(c_sync(cg, &c), OD_GC_REBALANCE_IN_PROGRESS);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_classic_session_and_leave(void)
{
    h_env e;
    od_cg *cg = cg_create(&e);
    set_topic(cg, "t", 1, 2);
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
    c_member c = {.session_ms = 6000}, d = {.session_ms = 20000};
    CHECK_EQ_INT(c_join_ex(cg, &c, "consumer", false), 0);
    CHECK_EQ_INT(c_join_ex(cg, &d, "consumer", false), 0);
    CHECK_EQ_INT(info(cg).member_count, 3);
    /* the classic session is the JoinGroup's, not group.consumer.session.timeout.ms */
    h_cg_advance(cg, &e, 5000);
    CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
    CHECK_EQ_INT(info(cg).member_count, 3);
    h_cg_advance(cg, &e, 1500);
    CHECK_EQ_INT(info(cg).member_count, 2);
    CHECK(!od_cg_member_is_classic(cg, S("g"), S(c.id)));
    CHECK_EQ_INT(c_heartbeat(cg, &c), OD_GC_UNKNOWN_MEMBER_ID);
    /* LeaveGroup: the classic member goes, the others' errors are per member */
    int32_t epoch = info(cg).group_epoch;
    od_arena a;
    od_arena_init(&a);
    od_gc_leave_member ls[3] = {{S(d.id), OD_STR_NULL, OD_STR_NULL, -1},
                                {S(k.id), OD_STR_NULL, OD_STR_NULL, -1},
                                {S("ghost"), OD_STR_NULL, OD_STR_NULL, -1}};
    CHECK_EQ_INT(od_cg_classic_leave(cg, S("g"), ls, 3, &a), 0);
    CHECK_EQ_INT(ls[0].error, 0);
    CHECK_EQ_INT(ls[1].error, OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(ls[2].error, OD_GC_UNKNOWN_MEMBER_ID);
    od_arena_release(&a);
    CHECK_EQ_INT(info(cg).member_count, 1);
    CHECK_EQ_INT(info(cg).group_epoch, epoch + 1);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_classic_join_and_sync_timeouts(void)
{
    h_env e;
    od_cg *cg = cg_create(&e);
    set_topic(cg, "t", 1, 2);
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
    /* joins, heartbeats (so its session lives) but never syncs: fenced
     * when its rebalance timeout (30 s) passes */
    c_member c = {.session_ms = 20000};
    CHECK_EQ_INT(c_join_ex(cg, &c, "consumer", false), 0);
    for (int i = 0; i < 5; i++) {
        h_cg_advance(cg, &e, 5000);
        CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
        CHECK(c_heartbeat(cg, &c) != OD_GC_UNKNOWN_MEMBER_ID);
    }
    CHECK_EQ_INT(info(cg).member_count, 2);
    h_cg_advance(cg, &e, 5001);
    CHECK_EQ_INT(info(cg).member_count, 1);
    CHECK_EQ_INT(c_heartbeat(cg, &c), OD_GC_UNKNOWN_MEMBER_ID);

    /* a member that syncs stays; told to rejoin, it must within 30 s */
    c_member d = {.session_ms = 20000};
    CHECK_EQ_INT(c_join_ex(cg, &d, "consumer", false), 0);
    CHECK_EQ_INT(c_sync(cg, &d), 0);
    h_cg_advance(cg, &e, 31000 / 2);
    CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
    CHECK_EQ_INT(c_heartbeat(cg, &d), 0);
    h_cg_advance(cg, &e, 31000 / 2);
    CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
    CHECK_EQ_INT(c_heartbeat(cg, &d), 0);
    CHECK_EQ_INT(info(cg).member_count, 2);
    k_member k2 = {0};
    CHECK_EQ_INT(k_heartbeat(cg, &k2, 0), 0); /* a new group epoch */
    CHECK_EQ_INT(c_heartbeat(cg, &d), OD_GC_REBALANCE_IN_PROGRESS);
    for (int i = 0; i < 5; i++) {
        h_cg_advance(cg, &e, 5000);
        CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
        CHECK_EQ_INT(k_heartbeat(cg, &k2, 0), 0);
        CHECK_EQ_INT(c_heartbeat(cg, &d), OD_GC_REBALANCE_IN_PROGRESS);
    }
    h_cg_advance(cg, &e, 5001);
    CHECK_EQ_INT(c_heartbeat(cg, &d), OD_GC_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(info(cg).member_count, 2);
    od_cg_destroy(cg);
    h_env_free(&e);
}

static void test_classic_member_replays(void)
{
    h_env e;
    od_cg *cg = cg_create(&e);
    set_topic(cg, "t", 1, 3);
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
    c_member c = {.instance = "static-c", .session_ms = 7000};
    CHECK_EQ_INT(c_join_ex(cg, &c, "consumer", true), 0); /* static: no MEMBER_ID_REQUIRED */
    for (int round = 0; round < 4; round++) {
        CHECK_EQ_INT(k_heartbeat(cg, &k, 0), 0);
        c_poll(cg, &c);
    }
    CHECK_EQ_INT(c_sync(cg, &c), 0);
    CHECK(c.owned_n >= 1);

    h_env e2;
    h_env_init(&e2);
    e2.now = e.now;
    od_cg *re = h_cg_new(&e2, NULL, 0);
    set_topic(re, "t", 1, 3);
    h_cg_load(re, &e);
    CHECK(od_cg_member_is_classic(re, S("g"), S(c.id)));
    CHECK(!od_cg_member_is_classic(re, S("g"), S(k.id)));
    CHECK_EQ_INT(info(re).group_epoch, info(cg).group_epoch);
    /* the reloaded member syncs and heartbeats with the same generation and
     * gets the same partitions */
    c_member again = c;
    CHECK_EQ_INT(c_sync(re, &again), 0);
    CHECK_EQ_INT(again.owned_n, c.owned_n);
    CHECK(overlap(again.owned, again.owned_n, c.owned, c.owned_n));
    CHECK_EQ_INT(c_heartbeat(re, &again), 0);
    /* its session (7 s, from ClassicMemberMetadata) runs in the new coordinator */
    h_cg_advance(re, &e2, 7001);
    CHECK(!od_cg_member_is_classic(re, S("g"), S(c.id)));
    od_cg_destroy(re);
    h_env_free(&e2);
    od_cg_destroy(cg);
    h_env_free(&e);
}

/* ---------------------------------------------------------------- conversions */

/* Both coordinators on one clock and one log, as the group service runs them. */
typedef struct both {
    h_env e;
    od_gc *gc;
    od_cg *cg;
} both;

static void both_create_sized(both *b, od_cg_migration_policy policy, int32_t consumer_max,
                              int32_t classic_max);

static void both_create(both *b, od_cg_migration_policy policy)
{
    both_create_sized(b, policy, INT32_MAX, INT32_MAX);
}

static void both_create_sized(both *b, od_cg_migration_policy policy, int32_t consumer_max,
                              int32_t classic_max)
{
    od_gc_config gcfg;
    od_gc_config_default(&gcfg);
    gcfg.offsets_topic_num_partitions = 4;
    gcfg.group_initial_rebalance_delay_ms = 0;
    b->gc = h_create(&b->e, &gcfg);
    od_cg_config cfg;
    od_cg_config_default(&cfg);
    cfg.migration_policy = policy;
    cfg.max_size = consumer_max;
    cfg.classic_max_size = classic_max;
    b->cg = h_cg_create(&b->e, &cfg, MEMBER_ID_SEED);
    set_topic(b->cg, "t", 1, 4);
    od_cg_set_classic(b->cg, b->gc);
}

/* A fresh pair that loads everything the first one appended (a restart). */
static void both_reload(const both *from, both *to, od_cg_migration_policy policy)
{
    memset(to, 0, sizeof *to);
    h_env_init(&to->e);
    to->e.now = from->e.now;
    od_gc_config gcfg;
    od_gc_config_default(&gcfg);
    gcfg.offsets_topic_num_partitions = H_CG_PARTITIONS;
    gcfg.group_initial_rebalance_delay_ms = 0;
    od_gc_env env = h_gc_env(&to->e);
    to->gc = od_gc_create(&gcfg, &env);
    od_cg_config cfg;
    od_cg_config_default(&cfg);
    cfg.migration_policy = policy;
    to->cg = h_cg_new(&to->e, &cfg, 0);
    set_topic(to->cg, "t", 1, 4);
    od_cg_set_classic(to->cg, to->gc);
    for (int32_t p = 0; p < 4; p++) {
        CHECK_EQ_INT(od_gc_load_begin(to->gc, p), 0);
        CHECK_EQ_INT(od_cg_load_begin(to->cg, p), 0);
        for (int i = 0; i < from->e.n_batches; i++) {
            if (from->e.batches[i].partition != p)
                continue;
            CHECK_EQ_INT(od_gc_load_batch(to->gc, p, from->e.batches[i].bytes, from->e.batches[i].len), 0);
            CHECK_EQ_INT(od_cg_load_batch(to->cg, p, from->e.batches[i].bytes, from->e.batches[i].len), 0);
        }
        CHECK_EQ_INT(od_gc_load_finish(to->gc, p), 0);
        CHECK_EQ_INT(od_cg_load_finish(to->cg, p), 0);
    }
}

static void both_free(both *b)
{
    od_cg_destroy(b->cg);
    od_gc_destroy(b->gc);
    h_env_free(&b->e);
}

static void both_advance(both *b, int64_t ms)
{
    int64_t target = b->e.now + ms;
    while (b->e.now < target) {
        int64_t step = target - b->e.now < 100 ? target - b->e.now : 100;
        b->e.now += step;
        b->e.wake = -1;
        od_gc_tick(b->gc);
        od_cg_tick(b->cg);
    }
}

/* A classic member's JoinGroup to the classic coordinator. */
static void g_join(both *b, c_member *m, h_join *out)
{
    od_arena a;
    od_arena_init(&a);
    od_gc_protocol ps[2] = {{S("cooperative-sticky"), c_subscription(&a, m)},
                            {S("range"), c_subscription(&a, m)}};
    od_gc_join_args args = {
        .group_id = S("g"),
        .member_id = S(m->id),
        .group_instance_id = S(m->instance),
        .protocol_type = S("consumer"),
        .protocols = ps,
        .protocol_count = 2,
        .session_timeout_ms = m->session_ms ? m->session_ms : 10000,
        .rebalance_timeout_ms = 30000,
        .client_id = S("c"),
        .client_host = S("/10.0.0.2"),
        .reason = S("test"),
        .done = h_join_cb,
        .done_ctx = out,
    };
    memset(out, 0, sizeof *out);
    od_gc_join(b->gc, &args);
    od_arena_release(&a);
}

/* ConsumerProtocolAssignment v1 of partitions of "t". */
static od_bytes g_assignment(od_arena *a, const int32_t *ps, int n)
{
    od_consumer_protocol_assignment v;
    od_consumer_protocol_assignment_init(&v);
    od_consumer_protocol_assignment_topic_partition *tp = od_arena_alloc(a, sizeof *tp);
    od_consumer_protocol_assignment_topic_partition_init(tp);
    tp->topic = S("t");
    tp->partitions = (od_int32_array){n, (int32_t *)ps};
    v.assigned_partitions = (od_consumer_protocol_assignment_topic_partition_array){1, tp};
    od_writer w;
    od_writer_init(&w, 64);
    od_write_i16(&w, 1);
    od_consumer_protocol_assignment_encode(&v, &w, 1);
    return arena_bytes(a, &w);
}

/* Two classic members in a Stable classic group, {0,1} and {2,3} of "t",
 * and a committed offset. */
static void classic_group_of_two(both *b, c_member *c1, c_member *c2)
{
    h_join j1, j2;
    g_join(b, c1, &j1);
    g_join(b, c2, &j2);
    both_advance(b, 10);
    REQUIRE(j1.calls == 1 && j2.calls == 1);
    h_copy(c1->id, sizeof c1->id, S(j1.member_id));
    h_copy(c2->id, sizeof c2->id, S(j2.member_id));
    c1->generation = c2->generation = j1.generation;
    od_arena a;
    od_arena_init(&a);
    static const int32_t p01[] = {0, 1}, p23[] = {2, 3};
    od_gc_assignment as[2] = {{S(c1->id), g_assignment(&a, p01, 2)},
                              {S(c2->id), g_assignment(&a, p23, 2)}};
    h_sync s1, s2;
    memset(&s1, 0, sizeof s1);
    memset(&s2, 0, sizeof s2);
    const char *leader = strcmp(j1.leader, c1->id) == 0 ? c1->id : c2->id;
    h_sync_req(b->gc, "g", leader == c1->id ? c2->id : c1->id, j1.generation, NULL, NULL, 0,
               leader == c1->id ? &s2 : &s1);
    h_sync_req(b->gc, "g", leader, j1.generation, NULL, as, 2, leader == c1->id ? &s1 : &s2);
    CHECK_EQ_INT(s1.error, 0);
    CHECK_EQ_INT(s2.error, 0);
    CHECK_EQ_INT(h_state(b->gc, "g"), OD_GC_STABLE);
    memcpy(c1->owned, p01, sizeof p01);
    c1->owned_n = 2;
    memcpy(c2->owned, p23, sizeof p23);
    c2->owned_n = 2;
    od_gc_offset_commit oc = {S("t"), 0, 42, -1, S(""), -1, 0};
    CHECK_EQ_INT(od_gc_commit_offsets(b->gc, S("g"), S(c1->id), OD_STR_NULL, c1->generation, -1, &oc, 1), 0);
    CHECK_EQ_INT(oc.error, 0);
    od_arena_release(&a);
}

static int64_t committed(od_gc *gc)
{
    od_arena a;
    od_arena_init(&a);
    od_gc_offset_fetch f = {S("t"), 0, 0, 0, OD_STR_NULL, 0};
    int16_t err = od_gc_fetch_offsets(gc, S("g"), false, &f, 1, false, &a, NULL, NULL);
    od_arena_release(&a);
    return err == 0 && f.error == 0 ? f.offset : -2;
}

static void test_upgrade_answers_waiting_joins(void)
{
    both b;
    both_create(&b, OD_CG_MIGRATION_UPGRADE);
    c_member c1 = {0}, c2 = {0}, c3 = {0};
    classic_group_of_two(&b, &c1, &c2);
    /* a third member's JoinGroup waits for the others to rejoin */
    h_join j3;
    g_join(&b, &c3, &j3);
    CHECK_EQ_INT(j3.calls, 0);
    CHECK_EQ_INT(h_state(b.gc, "g"), OD_GC_PREPARING_REBALANCE);
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, 0), 0);
    /* convertToConsumerGroup: the waiting join is told to rejoin, now into
     * the consumer group, where it lands as a classic member */
    CHECK_EQ_INT(j3.calls, 1);
    CHECK_EQ_INT(j3.error, OD_GC_REBALANCE_IN_PROGRESS);
    CHECK_EQ_INT(info(b.cg).member_count, 4);
    h_copy(c3.id, sizeof c3.id, S(j3.member_id));
    c3.owned_n = 0;
    CHECK_EQ_INT(c_join_ex(b.cg, &c3, "consumer", true), 0);
    CHECK(od_cg_member_is_classic(b.cg, S("g"), S(c3.id)));
    CHECK_EQ_INT(info(b.cg).member_count, 4);
    both_free(&b);
}

static void test_upgrade_refused_when_disabled(void)
{
    both b;
    both_create(&b, OD_CG_MIGRATION_DOWNGRADE);
    c_member c1 = {0}, c2 = {0};
    classic_group_of_two(&b, &c1, &c2);
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, 0), OD_GC_GROUP_ID_NOT_FOUND);
    CHECK(!od_cg_has_group(b.cg, S("g")));
    CHECK_EQ_INT(h_members(b.gc, "g"), 2);
    CHECK_EQ_INT(h_state(b.gc, "g"), OD_GC_STABLE);
    both_free(&b);
}

static void test_upgrade_then_downgrade(void)
{
    both b;
    both_create(&b, OD_CG_MIGRATION_BIDIRECTIONAL);
    c_member c1 = {0}, c2 = {0};
    classic_group_of_two(&b, &c1, &c2);
    int32_t generation = c1.generation;

    /* upgrade: a consumer-protocol member joins the classic group */
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, 0), 0);
    CHECK(od_cg_has_group(b.cg, S("g")));
    CHECK_EQ_INT(h_members(b.gc, "g"), 0);
    CHECK_EQ_INT(committed(b.gc), 42);
    CHECK_EQ_INT(info(b.cg).member_count, 3);
    CHECK_EQ_INT(info(b.cg).group_epoch, generation + 1);
    CHECK(od_cg_member_is_classic(b.cg, S("g"), S(c1.id)));
    CHECK(od_cg_member_is_classic(b.cg, S("g"), S(c2.id)));
    /* the converted members kept their partitions at the old generation */
    od_arena a;
    od_arena_init(&a);
    int32_t ep, n;
    int8_t st;
    od_cg_tp *tps;
    CHECK(od_cg_member_get(b.cg, S("g"), S(c1.id), 0, &a, &ep, &st, &tps, &n));
    CHECK_EQ_INT(ep, generation);
    CHECK_EQ_INT(n, 2);
    od_arena_release(&a);
    CHECK_EQ_INT(k.owned_n, 0); /* everything is still owned by the classic members */

    /* the group reconciles: classic members rejoin into the consumer group */
    for (int round = 0; round < 6; round++) {
        c_poll(b.cg, &c1);
        c_poll(b.cg, &c2);
        CHECK_EQ_INT(k_heartbeat(b.cg, &k, 0), 0);
        CHECK(!overlap(k.owned, k.owned_n, c1.owned, c1.owned_n));
        CHECK(!overlap(k.owned, k.owned_n, c2.owned, c2.owned_n));
        CHECK(!overlap(c1.owned, c1.owned_n, c2.owned, c2.owned_n));
    }
    CHECK_EQ_INT(k.owned_n + c1.owned_n + c2.owned_n, 4);
    CHECK(k.owned_n >= 1);
    CHECK(strcmp(info(b.cg).state, "Stable") == 0);

    /* a restart here reloads a consumer group with two classic members */
    both r;
    both_reload(&b, &r, OD_CG_MIGRATION_BIDIRECTIONAL);
    CHECK(od_cg_has_group(r.cg, S("g")));
    CHECK_EQ_INT(info(r.cg).member_count, 3);
    CHECK(od_cg_member_is_classic(r.cg, S("g"), S(c2.id)));
    CHECK_EQ_INT(h_members(r.gc, "g"), 0);
    CHECK_EQ_INT(committed(r.gc), 42);
    both_free(&r);

    /* downgrade: the consumer-protocol member leaves */
    int32_t epoch = info(b.cg).group_epoch;
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, -1), 0);
    CHECK(!od_cg_has_group(b.cg, S("g")));
    CHECK_EQ_INT(h_members(b.gc, "g"), 2);
    CHECK_EQ_INT(h_generation(b.gc, "g"), epoch);
    CHECK_EQ_INT(h_state(b.gc, "g"), OD_GC_PREPARING_REBALANCE);
    CHECK_EQ_INT(committed(b.gc), 42);

    /* a restart right after the downgrade reloads a classic group */
    both_reload(&b, &r, OD_CG_MIGRATION_BIDIRECTIONAL);
    CHECK(!od_cg_has_group(r.cg, S("g")));
    CHECK_EQ_INT(h_members(r.gc, "g"), 2);
    CHECK_EQ_INT(h_generation(r.gc, "g"), epoch);
    CHECK_EQ_INT(committed(r.gc), 42);
    both_free(&r);

    /* the classic members rejoin the classic group and sync */
    h_join j1, j2;
    g_join(&b, &c1, &j1);
    g_join(&b, &c2, &j2);
    both_advance(&b, 10);
    CHECK_EQ_INT(j1.calls, 1);
    CHECK_EQ_INT(j1.error, 0);
    CHECK_EQ_INT(j2.error, 0);
    CHECK_EQ_INT(j1.generation, epoch + 1);
    CHECK_EQ_INT(h_state(b.gc, "g"), OD_GC_COMPLETING_REBALANCE);
    both_free(&b);
}

static void test_conversion_size_limits(void)
{
    /* more classic members than group.consumer.max.size: not upgraded */
    both b;
    both_create_sized(&b, OD_CG_MIGRATION_BIDIRECTIONAL, 1, INT32_MAX);
    c_member c1 = {0}, c2 = {0};
    classic_group_of_two(&b, &c1, &c2);
    int batches = b.e.n_batches;
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, 0), OD_GC_GROUP_ID_NOT_FOUND);
    CHECK_EQ_INT(b.e.n_batches, batches);
    both_free(&b);
    /* exactly as many: no room for the joining member, nothing written */
    both_create_sized(&b, OD_CG_MIGRATION_BIDIRECTIONAL, 2, INT32_MAX);
    memset(&c1, 0, sizeof c1);
    memset(&c2, 0, sizeof c2);
    classic_group_of_two(&b, &c1, &c2);
    batches = b.e.n_batches;
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, 0), OD_GC_GROUP_MAX_SIZE_REACHED);
    CHECK_EQ_INT(b.e.n_batches, batches);
    CHECK_EQ_INT(h_members(b.gc, "g"), 2);
    both_free(&b);
    /* more remaining classic members than group.max.size: no downgrade */
    both_create_sized(&b, OD_CG_MIGRATION_BIDIRECTIONAL, INT32_MAX, 1);
    memset(&c1, 0, sizeof c1);
    memset(&c2, 0, sizeof c2);
    classic_group_of_two(&b, &c1, &c2);
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, 0), 0);
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, -1), 0);
    CHECK(od_cg_has_group(b.cg, S("g")));
    CHECK_EQ_INT(info(b.cg).member_count, 2);
    both_free(&b);
}

static void test_no_downgrade_without_policy(void)
{
    both b;
    both_create(&b, OD_CG_MIGRATION_UPGRADE);
    c_member c1 = {0}, c2 = {0};
    classic_group_of_two(&b, &c1, &c2);
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, 0), 0);
    CHECK(od_cg_has_group(b.cg, S("g")));
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, -1), 0);
    /* the group stays a consumer group of classic members */
    CHECK(od_cg_has_group(b.cg, S("g")));
    CHECK_EQ_INT(info(b.cg).member_count, 2);
    CHECK_EQ_INT(h_members(b.gc, "g"), 0);
    c_poll(b.cg, &c1);
    CHECK_EQ_INT(c_heartbeat(b.cg, &c1), 0);
    both_free(&b);
}

static void test_empty_classic_group_becomes_consumer_group(void)
{
    both b;
    both_create(&b, OD_CG_MIGRATION_DISABLED);
    c_member c1 = {0}, c2 = {0};
    classic_group_of_two(&b, &c1, &c2);
    od_gc_leave_member ls[2] = {{S(c1.id), OD_STR_NULL, OD_STR_NULL, 0},
                                {S(c2.id), OD_STR_NULL, OD_STR_NULL, 0}};
    CHECK_EQ_INT(od_gc_leave(b.gc, S("g"), ls, 2), 0);
    CHECK_EQ_INT(h_members(b.gc, "g"), 0);
    /* no policy needed for an empty group: its metadata is tombstoned */
    k_member k = {0};
    CHECK_EQ_INT(k_heartbeat(b.cg, &k, 0), 0);
    CHECK_EQ_INT(k.owned_n, 4);
    CHECK_EQ_INT(committed(b.gc), 42);
    both r;
    both_reload(&b, &r, OD_CG_MIGRATION_DISABLED);
    CHECK(od_cg_has_group(r.cg, S("g")));
    od_gc_state state = OD_GC_DEAD;
    int32_t gen = -1;
    od_gc_group_info(r.gc, S("g"), &state, &gen, NULL, NULL);
    CHECK_EQ_INT(gen, 0); /* offsets only: the classic generation is gone */
    CHECK_EQ_INT(committed(r.gc), 42);
    both_free(&r);
    both_free(&b);
}

OD_TEST_MAIN({"classic_member_joins_and_reconciles", test_classic_member_joins_and_reconciles},
             {"classic_member_errors", test_classic_member_errors},
             {"classic_session_and_leave", test_classic_session_and_leave},
             {"classic_join_and_sync_timeouts", test_classic_join_and_sync_timeouts},
             {"classic_member_replays", test_classic_member_replays},
             {"upgrade_refused_when_disabled", test_upgrade_refused_when_disabled},
             {"upgrade_then_downgrade", test_upgrade_then_downgrade},
             {"upgrade_answers_waiting_joins", test_upgrade_answers_waiting_joins},
             {"no_downgrade_without_policy", test_no_downgrade_without_policy},
             {"conversion_size_limits", test_conversion_size_limits},
             {"empty_classic_group_becomes_consumer_group", test_empty_classic_group_becomes_consumer_group})
