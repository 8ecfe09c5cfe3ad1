/*
 * Test harness for the group coordinators (classic and KIP-848): a virtual
 * clock, a log of the batches a coordinator appends (so a test can replay
 * them into a fresh coordinator), and recorders for JoinGroup/SyncGroup
 * completions.
 */
#ifndef ODRADEK_GROUPS_TESTS_GC_HARNESS_H
#define ODRADEK_GROUPS_TESTS_GC_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_group.h"
#include "group_coordinator.h"
#include "group_records.h"
#include "od_messages.h"
#include "od_test.h"

typedef struct h_batch {
    int32_t partition;
    uint8_t *bytes;
    size_t len;
} h_batch;

typedef struct h_env {
    int64_t now;
    int64_t wake;            /* last wake_at request, -1 none */
    h_batch *batches;        /* every append, in order */
    int n_batches, cap;
    int16_t fail_appends;    /* non-zero: every append returns it */
} h_env;

/* An empty log at time 1000000 with no wake-up requested. */
static inline void h_env_init(h_env *e)
{
    memset(e, 0, sizeof *e);
    e->now = 1000000;
    e->wake = -1;
}

static inline int64_t h_now(void *ctx)
{
    return ((h_env *)ctx)->now;
}

static inline void h_wake(void *ctx, int64_t deadline)
{
    ((h_env *)ctx)->wake = deadline;
}

static inline int16_t h_append(void *ctx, int32_t partition, const uint8_t *b, size_t len)
{
    h_env *e = ctx;
    if (e->fail_appends)
        return e->fail_appends;
    if (e->n_batches == e->cap) {
        int cap = e->cap ? e->cap * 2 : 64;
        h_batch *grown = realloc(e->batches, (size_t)cap * sizeof *grown);
        if (!grown)
            return OD_GC_UNKNOWN_SERVER_ERROR;
        e->batches = grown;
        e->cap = cap;
    }
    h_batch *hb = &e->batches[e->n_batches++];
    hb->partition = partition;
    hb->bytes = malloc(len);
    memcpy(hb->bytes, b, len);
    hb->len = len;
    return OD_GC_NONE;
}

static inline void h_env_free(h_env *e)
{
    for (int i = 0; i < e->n_batches; i++)
        free(e->batches[i].bytes);
    free(e->batches);
    e->batches = NULL;
    e->n_batches = e->cap = 0;
}

static inline od_gc_env h_gc_env(h_env *e)
{
    return (od_gc_env){e, h_now, h_wake, h_append};
}

/* Moves virtual time forward by ms, calling tick(coordinator) at every
 * deadline it asks for. */
static inline void h_advance_ticking(h_env *e, int64_t ms, void (*tick)(void *), void *coordinator)
{
    int64_t target = e->now + ms;
    for (int guard = 0; guard < 100000; guard++) {
        int64_t next = target;
        if (e->wake >= 0 && e->wake < target)
            next = e->wake > e->now ? e->wake : e->now;
        e->now = next;
        e->wake = -1;
        tick(coordinator);
        if (e->now >= target && !(e->wake >= 0 && e->wake <= e->now))
            break;
    }
}

static inline void h_tick_gc(void *gc)
{
    od_gc_tick(gc);
}

static inline void h_tick_cg(void *cg)
{
    od_cg_tick(cg);
}

/* A coordinator with every partition loaded (empty) at time 0. */
static inline od_gc *h_create(h_env *e, const od_gc_config *cfg_in)
{
    h_env_init(e);
    od_gc_config cfg;
    if (cfg_in) {
        cfg = *cfg_in;
    } else {
        od_gc_config_default(&cfg);
    }
    if (!cfg.member_id_seed)
        cfg.member_id_seed = 42;
    od_gc_env env = h_gc_env(e);
    od_gc *gc = od_gc_create(&cfg, &env);
    for (int32_t p = 0; gc && p < cfg.offsets_topic_num_partitions; p++) {
        od_gc_load_begin(gc, p);
        od_gc_load_finish(gc, p);
    }
    return gc;
}

/* Moves virtual time forward by ms, firing timers at their deadlines. */
static inline void h_advance(od_gc *gc, h_env *e, int64_t ms)
{
    h_advance_ticking(e, ms, h_tick_gc, gc);
}

/* ---------------------------------------------------------------- KIP-848 coordinator */

enum { H_CG_PARTITIONS = 4 };

/* A KIP-848 coordinator on e's clock and log, over H_CG_PARTITIONS
 * partitions, none loaded yet. cfg_in NULL: the defaults. A zero
 * member_id_seed becomes default_seed (0: random). */
static inline od_cg *h_cg_new(h_env *e, const od_cg_config *cfg_in, uint64_t default_seed)
{
    od_cg_config cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        od_cg_config_default(&cfg);
    cfg.offsets_topic_num_partitions = H_CG_PARTITIONS;
    if (!cfg.member_id_seed)
        cfg.member_id_seed = default_seed;
    od_gc_env env = h_gc_env(e);
    return od_cg_create(&cfg, &env);
}

/* Loads every partition of cg: what `from` appended to it, as a restart
 * replays the log, or nothing (from NULL). */
static inline void h_cg_load(od_cg *cg, const h_env *from)
{
    for (int32_t p = 0; cg && p < H_CG_PARTITIONS; p++) {
        CHECK_EQ_INT(od_cg_load_begin(cg, p), 0);
        for (int i = 0; from && i < from->n_batches; i++)
            if (from->batches[i].partition == p)
                CHECK_EQ_INT(od_cg_load_batch(cg, p, from->batches[i].bytes, from->batches[i].len), 0);
        CHECK_EQ_INT(od_cg_load_finish(cg, p), 0);
    }
}

/* h_cg_new, with every partition loaded (empty). */
static inline od_cg *h_cg_create(h_env *e, const od_cg_config *cfg_in, uint64_t default_seed)
{
    od_cg *cg = h_cg_new(e, cfg_in, default_seed);
    h_cg_load(cg, NULL);
    return cg;
}

static inline void h_cg_advance(od_cg *cg, h_env *e, int64_t ms)
{
    h_advance_ticking(e, ms, h_tick_cg, cg);
}

/* ---------------------------------------------------------------- completions */

typedef struct h_join {
    int calls;
    int16_t error;
    int32_t generation;
    char member_id[160];
    char leader[160];
    char protocol[64];
    bool protocol_null;
    bool skip;
    int32_t member_count;
    char members[16][160];
} h_join;

static inline void h_copy(char *dst, size_t cap, od_str s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = 0;
}

static inline void h_join_cb(void *ctx, const od_gc_join_result *r)
{
    h_join *j = ctx;
    j->calls++;
    j->error = r->error;
    j->generation = r->generation_id;
    h_copy(j->member_id, sizeof j->member_id, r->member_id);
    h_copy(j->leader, sizeof j->leader, r->leader);
    h_copy(j->protocol, sizeof j->protocol, r->protocol_name);
    j->protocol_null = r->protocol_name.len < 0;
    j->skip = r->skip_assignment;
    j->member_count = r->member_count;
    for (int32_t i = 0; i < r->member_count && i < 16; i++)
        h_copy(j->members[i], sizeof j->members[i], r->members[i].member_id);
}

typedef struct h_sync {
    int calls;
    int16_t error;
    char assignment[128];
    char protocol[64];
} h_sync;

static inline void h_sync_cb(void *ctx, const od_gc_sync_result *r)
{
    h_sync *s = ctx;
    s->calls++;
    s->error = r->error;
    h_copy(s->assignment, sizeof s->assignment,
           (od_str){(const char *)r->assignment.ptr, r->assignment.len});
    h_copy(s->protocol, sizeof s->protocol, r->protocol_name);
}

/* Consumer-protocol subscription bytes (version 0 prefix + v0 struct). */
static inline od_bytes h_subscription(uint8_t *buf, size_t cap, const char *const *topics, int n)
{
    od_consumer_protocol_subscription s;
    od_consumer_protocol_subscription_init(&s);
    od_str ts[8];
    for (int i = 0; i < n; i++)
        ts[i] = od_str_from_cstr(topics[i]);
    s.topics.count = n;
    s.topics.items = ts;
    od_writer w;
    od_writer_init_fixed(&w, buf, cap);
    od_write_i16(&w, 0);
    od_consumer_protocol_subscription_encode(&s, &w, 0);
    return (od_bytes){buf, (int32_t)w.len};
}

typedef struct h_member_spec {
    const char *instance;        /* NULL: dynamic */
    const char *protocols[3];    /* NULL-terminated; default {"range"} */
    const char *metadata;        /* same metadata for every protocol; NULL: "m" */
    int32_t session_ms;          /* 0: 10000 */
    int32_t rebalance_ms;        /* 0: 30000 */
    bool require_known;
    bool skip_support;
    const char *protocol_type;   /* NULL: "consumer" */
} h_member_spec;

static inline void h_join_req(od_gc *gc, const char *group, const char *member_id,
                              const h_member_spec *spec, h_join *out)
{
    static const h_member_spec dflt = {0};
    if (!spec)
        spec = &dflt;
    od_gc_protocol ps[3];
    int n = 0;
    const char *md = spec->metadata ? spec->metadata : "m";
    if (!spec->protocols[0]) {
        ps[n++] = (od_gc_protocol){OD_STR_LIT("range"), {(const uint8_t *)md, (int32_t)strlen(md)}};
    } else {
        for (; n < 3 && spec->protocols[n]; n++)
            ps[n] = (od_gc_protocol){od_str_from_cstr(spec->protocols[n]),
                                     {(const uint8_t *)md, (int32_t)strlen(md)}};
        if (!strcmp(spec->protocols[0], "<none>"))
            n = 0;
    }
    od_gc_join_args a = {
        .group_id = od_str_from_cstr(group),
        .member_id = od_str_from_cstr(member_id ? member_id : ""),
        .group_instance_id = spec->instance ? od_str_from_cstr(spec->instance) : OD_STR_NULL,
        .protocol_type = od_str_from_cstr(spec->protocol_type ? spec->protocol_type : "consumer"),
        .protocols = ps,
        .protocol_count = n,
        .session_timeout_ms = spec->session_ms ? spec->session_ms : 10000,
        .rebalance_timeout_ms = spec->rebalance_ms ? spec->rebalance_ms : 30000,
        .client_id = OD_STR_LIT("client"),
        .client_host = OD_STR_LIT("/127.0.0.1"),
        .reason = OD_STR_LIT("test"),
        .require_known_member_id = spec->require_known,
        .supports_skip_assignment = spec->skip_support,
        .done = h_join_cb,
        .done_ctx = out,
    };
    od_gc_join(gc, &a);
}

static inline void h_sync_req(od_gc *gc, const char *group, const char *member_id,
                              int32_t generation, const char *instance,
                              const od_gc_assignment *as, int32_t n, h_sync *out)
{
    od_gc_sync_args a = {
        .group_id = od_str_from_cstr(group),
        .generation_id = generation,
        .member_id = od_str_from_cstr(member_id),
        .group_instance_id = instance ? od_str_from_cstr(instance) : OD_STR_NULL,
        .protocol_type = OD_STR_NULL,
        .protocol_name = OD_STR_NULL,
        .assignments = as,
        .assignment_count = n,
        .done = h_sync_cb,
        .done_ctx = out,
    };
    od_gc_sync(gc, &a);
}

static inline int16_t h_heartbeat(od_gc *gc, const char *group, const char *member,
                                  const char *instance, int32_t generation)
{
    return od_gc_heartbeat(gc, od_str_from_cstr(group), od_str_from_cstr(member),
                           instance ? od_str_from_cstr(instance) : OD_STR_NULL, generation);
}

static inline od_gc_state h_state(od_gc *gc, const char *group)
{
    od_gc_state s = OD_GC_DEAD;
    od_gc_group_info(gc, od_str_from_cstr(group), &s, NULL, NULL, NULL);
    return s;
}

static inline int32_t h_generation(od_gc *gc, const char *group)
{
    int32_t gen = -99;
    od_gc_group_info(gc, od_str_from_cstr(group), NULL, &gen, NULL, NULL);
    return gen;
}

static inline int32_t h_members(od_gc *gc, const char *group)
{
    int32_t n = -1;
    od_gc_group_info(gc, od_str_from_cstr(group), NULL, NULL, NULL, &n);
    return n;
}

#endif
