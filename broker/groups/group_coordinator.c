/*
 * The classic group coordinator: Kafka 3.9's GroupCoordinator and
 * GroupMetadataManager rules, over the state machine drawn in
 * group_coordinator.h (invariants 1-5 there).
 *
 * Internal invariants:
 *   6. A member awaits a join iff join_done is set; g->awaiting_join counts
 *      them. It awaits a sync iff sync_done is set.
 *   7. proto_counts[name] is the number of (member, listed protocol) pairs
 *      naming it over current members; a protocol every member supports
 *      has count == member_count. Pending (KIP-394) members are not members.
 *   8. g->leader is NULL iff the group has no members.
 *   9. Each timer is a deadline (-1 = disarmed) in the object it concerns:
 *      member heartbeat, pending member, group join (regular or initial
 *      delay), group sync, coordinator retention check. od_gc_tick fires the
 *      due ones in deadline order; next_deadline() is the minimum of all.
 *  10. A group lives in the table from creation until it is Dead; it is
 *      freed only when no member awaits a join or a sync (Dead groups are
 *      Empty except on unload, which answers every waiter first).
 *  11. Completion callbacks are cleared before they are invoked, so a
 *      waiter is answered at most once (invariant 4).
 *
 * Per-group rebalance flow (who arms what):
 *   join -> add/update member -> maybe_prepare_rebalance -> join timer
 *   join timer fires or everyone joined -> complete_join -> heartbeats armed,
 *     sync timer armed for members that must still SyncGroup
 *   leader SyncGroup -> store_group (append) -> Stable, assignments answered
 *   heartbeat expiry / sync expiry -> member removed -> rebalance again
 */
#include "group_coordinator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "group_records.h"
#include "group_util.h"
#include "od_messages.h"
#include "records/batch_builder.h"
#include "records/records.h"

/* Kafka's GroupCoordinator.NewMemberJoinTimeoutMs: a new member that never
 * completes its first join is dropped after this long. */
enum { NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000 };
enum { GROUP_BUCKETS = 1024 };
/* Records built for one append are never decompressed by us; this bounds
 * a replayed batch's decompressed size like the fetch path's limit. */
enum { LOAD_DECOMPRESS_LIMIT = 64 * 1024 * 1024 };

typedef struct gprotocol {
    gbuf name;
    gbuf metadata;
} gprotocol;

typedef struct gmember {
    gbuf id;
    gbuf instance_id;            /* len -1: dynamic */
    gbuf client_id;
    gbuf client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    gprotocol *protocols;
    int32_t protocol_count;
    gbuf assignment;
    od_gc_join_fn *join_done;    /* invariant 6 */
    void *join_ctx;
    od_gc_sync_fn *sync_done;
    void *sync_ctx;
    bool is_new;                 /* joined but no generation yet: 5-minute timeout */
    bool is_leaving;
    bool pending_sync;           /* must SyncGroup before the sync timer fires */
    int64_t hb_deadline;         /* invariant 9 */
} gmember;

typedef struct gpending {
    gbuf id;
    int64_t deadline;
} gpending;

typedef struct gcount {
    gbuf name;
    int32_t count;
} gcount;

typedef struct goffset {
    gbuf topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    gbuf metadata;
    int64_t commit_ts;
    int64_t expire_ts;           /* -1: none (retention from commit or Empty time) */
} goffset;

/* An offset committed inside a producer's transaction: not visible until
 * the transaction's COMMIT marker reaches the group's partition
 * (od_gc_complete_txn), dropped on ABORT (Kafka's
 * pendingTransactionalOffsetCommits). */
typedef struct gtxn_offset {
    int64_t producer_id;
    goffset o;
} gtxn_offset;

typedef enum join_timer_kind {
    JOIN_NONE,
    JOIN_REGULAR,                /* Kafka's DelayedJoin: completes early when all joined */
    JOIN_INITIAL,                /* InitialDelayedJoin: never early; may extend itself */
} join_timer_kind;

typedef struct ggroup {
    struct ggroup *next;         /* hash chain */
    gbuf id;
    int32_t partition;
    od_gc_group_kind kind;
    od_gc_state state;
    int64_t state_ts;            /* currentStateTimestamp; -1 when unknown (old records) */
    int32_t generation;
    gbuf protocol_type;          /* len -1: None */
    gbuf protocol_name;          /* len -1: None */
    gmember **members;           /* join order */
    int32_t member_count, member_cap;
    gmember *leader;             /* invariant 8 */
    int32_t awaiting_join;
    gpending *pending;
    int32_t pending_count, pending_cap;
    gcount *counts;              /* invariant 7 */
    int32_t count_n, count_cap;
    bool new_member_added;
    join_timer_kind join_kind;
    int64_t join_deadline;
    int32_t initial_configured_delay;
    int32_t initial_remaining;
    int32_t initial_delay;
    int64_t sync_deadline;
    int32_t sync_generation;
    int32_t pending_sync_count;
    bool subscribed_known;       /* false: Kafka's None (treat every topic as subscribed) */
    gbuf *subscribed;
    int32_t subscribed_count;
    goffset *offsets;
    int32_t offset_count, offset_cap;
    struct gtxn_offset *txn_offsets; /* TxnOffsetCommit, pending until the marker */
    int32_t txn_offset_count, txn_offset_cap;
    bool loaded_metadata;        /* replay: a GroupMetadata record is in effect */
} ggroup;

typedef enum part_state {
    PART_NOT_OWNED,
    PART_LOADING,
    PART_ACTIVE,
} part_state;

struct od_gc {
    od_gc_config cfg;
    od_gc_env env;
    ggroup *buckets[GROUP_BUCKETS];
    size_t group_count;
    part_state *parts;
    uint64_t rng;
    int64_t retention_deadline;
    group_wake wake;
};

/* ---------------------------------------------------------------- small helpers */


static bool grow(void **items, int32_t *cap, int32_t need, size_t size)
{
    if (need <= *cap)
        return true;
    int32_t n = *cap ? *cap * 2 : 4;
    while (n < need)
        n *= 2;
    void *p = realloc(*items, (size_t)n * size);
    if (!p)
        return false;
    *items = p;
    *cap = n;
    return true;
}

/* Array sizes for calloc: at least one element, never a negative count. */
static size_t count_or_one(int32_t n)
{
    return n > 0 ? (size_t)n : 1;
}

static int64_t now(const od_gc *gc)
{
    return gc->env.now_ms(gc->env.ctx);
}

const char *od_gc_state_name(od_gc_state s)
{
    switch (s) {
    case OD_GC_EMPTY: return "Empty";
    case OD_GC_PREPARING_REBALANCE: return "PreparingRebalance";
    case OD_GC_COMPLETING_REBALANCE: return "CompletingRebalance";
    case OD_GC_STABLE: return "Stable";
    case OD_GC_DEAD: return "Dead";
    }
    return "Unknown";
}

void od_gc_config_default(od_gc_config *c)
{
    c->offsets_topic_num_partitions = 50;
    c->group_min_session_timeout_ms = 6000;
    c->group_max_session_timeout_ms = 1800000;
    c->group_initial_rebalance_delay_ms = 3000;
    c->group_max_size = INT32_MAX;
    c->offset_metadata_max_bytes = 4096;
    c->offsets_retention_ms = 10080LL * 60 * 1000;
    c->offsets_retention_check_interval_ms = 600000;
    c->offsets_topic_compression_codec = 0;
    c->member_id_seed = 0;
}

int32_t od_gc_partition_for(const od_gc *gc, od_str group_id)
{
    int32_t h = od_java_string_hash(group_id);
    /* Kafka's Utils.abs maps Integer.MIN_VALUE to 0. */
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    return a % gc->cfg.offsets_topic_num_partitions;
}

/* ---------------------------------------------------------------- member ids */

static uint64_t next_random(od_gc *gc)
{
    return next_random_from(&gc->rng);
}

/* Kafka names a member "<client id or instance id>-<random UUID>". */
static bool make_member_id(od_gc *gc, od_str prefix, gbuf *out)
{
    uint8_t u[16];
    uint64_t a = next_random(gc), b = next_random(gc);
    for (int i = 0; i < 8; i++) {
        u[i] = (uint8_t)(a >> (8 * i));
        u[8 + i] = (uint8_t)(b >> (8 * i));
    }
    u[6] = (uint8_t)((u[6] & 0x0F) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80); /* IETF variant */
    char uuid[37];
    static const char hex[] = "0123456789abcdef";
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            uuid[k++] = '-';
        uuid[k++] = hex[u[i] >> 4];
        uuid[k++] = hex[u[i] & 15];
    }
    uuid[k] = 0;
    int32_t plen = prefix.len > 0 ? prefix.len : 0;
    char *buf = malloc((size_t)plen + 38);
    if (!buf)
        return false;
    if (plen)
        memcpy(buf, prefix.ptr, (size_t)plen);
    buf[plen] = '-';
    memcpy(buf + plen + 1, uuid, 37);
    free(out->p);
    out->p = buf;
    out->len = plen + 37;
    return true;
}

/* ---------------------------------------------------------------- group table */

static size_t bucket_of(od_str id)
{
    return (size_t)(group_id_hash(id) % GROUP_BUCKETS);
}

static ggroup *find_group(const od_gc *gc, od_str id)
{
    if (id.len < 0)
        return NULL;
    for (ggroup *g = gc->buckets[bucket_of(id)]; g; g = g->next)
        if (beq(&g->id, id))
            return g;
    return NULL;
}

static ggroup *create_group(od_gc *gc, od_str id)
{
    ggroup *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->id.len = -1;
    if (!bset_str(&g->id, id)) {
        free(g);
        return NULL;
    }
    g->partition = od_gc_partition_for(gc, id);
    g->kind = OD_GC_KIND_CLASSIC;
    g->state = OD_GC_EMPTY;
    g->state_ts = now(gc);
    g->protocol_type.len = -1;
    g->protocol_name.len = -1;
    g->join_deadline = -1;
    g->sync_deadline = -1;
    size_t b = bucket_of(id);
    g->next = gc->buckets[b];
    gc->buckets[b] = g;
    gc->group_count++;
    return g;
}

static void free_member(gmember *m)
{
    bfree(&m->id);
    bfree(&m->instance_id);
    bfree(&m->client_id);
    bfree(&m->client_host);
    for (int32_t i = 0; i < m->protocol_count; i++) {
        bfree(&m->protocols[i].name);
        bfree(&m->protocols[i].metadata);
    }
    free(m->protocols);
    bfree(&m->assignment);
    free(m);
}

static void clear_subscribed(ggroup *g)
{
    for (int32_t i = 0; i < g->subscribed_count; i++)
        bfree(&g->subscribed[i]);
    free(g->subscribed);
    g->subscribed = NULL;
    g->subscribed_count = 0;
    g->subscribed_known = false;
}

static void free_offset(goffset *o)
{
    bfree(&o->topic);
    bfree(&o->metadata);
}

/* Unlinks and frees a group nobody waits on (invariant 10). */
static void destroy_group(od_gc *gc, ggroup *g)
{
    size_t b = bucket_of(bstr(&g->id));
    for (ggroup **pp = &gc->buckets[b]; *pp; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
    gc->group_count--;
    for (int32_t i = 0; i < g->member_count; i++)
        free_member(g->members[i]);
    free(g->members);
    for (int32_t i = 0; i < g->pending_count; i++)
        bfree(&g->pending[i].id);
    free(g->pending);
    for (int32_t i = 0; i < g->count_n; i++)
        bfree(&g->counts[i].name);
    free(g->counts);
    clear_subscribed(g);
    for (int32_t i = 0; i < g->offset_count; i++)
        free_offset(&g->offsets[i]);
    free(g->offsets);
    for (int32_t i = 0; i < g->txn_offset_count; i++)
        free_offset(&g->txn_offsets[i].o);
    free(g->txn_offsets);
    bfree(&g->id);
    bfree(&g->protocol_type);
    bfree(&g->protocol_name);
    free(g);
}

/* Invariant 1: the one place a state changes. */
static void set_state(od_gc *gc, ggroup *g, od_gc_state s)
{
    g->state = s;
    g->state_ts = now(gc);
}

/* ---------------------------------------------------------------- members and protocols */

static gmember *find_member(const ggroup *g, od_str id, int32_t *index)
{
    for (int32_t i = 0; i < g->member_count; i++) {
        if (beq(&g->members[i]->id, id)) {
            if (index)
                *index = i;
            return g->members[i];
        }
    }
    return NULL;
}

static int32_t find_pending(const ggroup *g, od_str id)
{
    for (int32_t i = 0; i < g->pending_count; i++)
        if (beq(&g->pending[i].id, id))
            return i;
    return -1;
}

/* The member id mapped to an instance id, or NULL. */
static gmember *static_member(const ggroup *g, od_str instance_id)
{
    if (instance_id.len < 0)
        return NULL;
    for (int32_t i = 0; i < g->member_count; i++)
        if (g->members[i]->instance_id.len >= 0 && beq(&g->members[i]->instance_id, instance_id))
            return g->members[i];
    return NULL;
}

static gcount *count_of(ggroup *g, od_str name)
{
    for (int32_t i = 0; i < g->count_n; i++)
        if (beq(&g->counts[i].name, name))
            return &g->counts[i];
    return NULL;
}

static bool count_protocols(ggroup *g, const gmember *m, int32_t delta)
{
    for (int32_t i = 0; i < m->protocol_count; i++) {
        od_str name = bstr(&m->protocols[i].name);
        gcount *c = count_of(g, name);
        if (!c) {
            if (!grow((void **)&g->counts, &g->count_cap, g->count_n + 1, sizeof *g->counts))
                return false;
            c = &g->counts[g->count_n++];
            c->name.p = NULL;
            c->name.len = -1;
            c->count = 0;
            if (!bset_str(&c->name, name)) {
                g->count_n--;
                return false;
            }
        }
        c->count += delta;
    }
    return true;
}

/* Kafka's supportsProtocols: an Empty group takes any non-empty type with at
 * least one protocol; otherwise the type must match and one of the listed
 * protocols must be supported by every current member. */
static bool supports_protocols(ggroup *g, od_str type, const od_gc_protocol *ps, int32_t n)
{
    if (g->state == OD_GC_EMPTY)
        return type.len > 0 && n > 0;
    if (!beq(&g->protocol_type, type))
        return false;
    for (int32_t i = 0; i < n; i++) {
        gcount *c = count_of(g, ps[i].name);
        if (c && c->count == g->member_count)
            return true;
    }
    return false;
}

static bool set_protocols(gmember *m, const od_gc_protocol *ps, int32_t n)
{
    gprotocol *copy = calloc(count_or_one(n), sizeof *copy);
    if (!copy)
        return false;
    for (int32_t i = 0; i < n; i++) {
        copy[i].name.len = copy[i].metadata.len = -1;
        if (!bset_str(&copy[i].name, ps[i].name) ||
            !bset(&copy[i].metadata, ps[i].metadata.ptr, ps[i].metadata.len < 0 ? 0 : ps[i].metadata.len)) {
            for (int32_t k = 0; k <= i; k++) {
                bfree(&copy[k].name);
                bfree(&copy[k].metadata);
            }
            free(copy);
            return false;
        }
    }
    for (int32_t i = 0; i < m->protocol_count; i++) {
        bfree(&m->protocols[i].name);
        bfree(&m->protocols[i].metadata);
    }
    free(m->protocols);
    m->protocols = copy;
    m->protocol_count = n;
    return true;
}

/* Kafka's MemberMetadata.matches: same protocols, same order, same bytes. */
static bool protocols_match(const gmember *m, const od_gc_protocol *ps, int32_t n)
{
    if (m->protocol_count != n)
        return false;
    for (int32_t i = 0; i < n; i++) {
        od_bytes md = ps[i].metadata.len < 0 ? (od_bytes){NULL, 0} : ps[i].metadata;
        if (!beq(&m->protocols[i].name, ps[i].name) || m->protocols[i].metadata.len != md.len ||
            (md.len && memcmp(m->protocols[i].metadata.p, md.ptr, (size_t)md.len) != 0))
            return false;
    }
    return true;
}

static const gbuf *member_metadata(const gmember *m, const gbuf *protocol)
{
    for (int32_t i = 0; i < m->protocol_count; i++)
        if (beq(&m->protocols[i].name, bstr(protocol)))
            return &m->protocols[i].metadata;
    return NULL;
}

static int32_t group_rebalance_timeout(const ggroup *g)
{
    int32_t t = 0;
    for (int32_t i = 0; i < g->member_count; i++)
        if (g->members[i]->rebalance_timeout_ms > t)
            t = g->members[i]->rebalance_timeout_ms;
    return t;
}

static bool all_joined(const ggroup *g)
{
    return g->awaiting_join == g->member_count && g->pending_count == 0;
}

static void set_join_callback(ggroup *g, gmember *m, od_gc_join_fn *fn, void *ctx)
{
    if (fn && !m->join_done)
        g->awaiting_join++;
    else if (!fn && m->join_done)
        g->awaiting_join--;
    m->join_done = fn;
    m->join_ctx = ctx;
}

/* Answers a waiting JoinGroup (invariant 11). Returns whether one waited. */
static bool invoke_join(ggroup *g, gmember *m, const od_gc_join_result *res)
{
    if (!m->join_done)
        return false;
    od_gc_join_fn *fn = m->join_done;
    void *ctx = m->join_ctx;
    set_join_callback(g, m, NULL, NULL);
    fn(ctx, res);
    return true;
}

static bool invoke_sync(gmember *m, const od_gc_sync_result *res)
{
    if (!m->sync_done)
        return false;
    od_gc_sync_fn *fn = m->sync_done;
    void *ctx = m->sync_ctx;
    m->sync_done = NULL;
    m->sync_ctx = NULL;
    fn(ctx, res);
    return true;
}

static void join_error(const od_gc_join_args *a, od_str member_id, int16_t error)
{
    od_gc_join_result r = {
        .error = error,
        .generation_id = -1,
        .protocol_type = OD_STR_NULL,
        .protocol_name = OD_STR_NULL,
        .leader = OD_STR_LIT(""),
        .member_id = member_id,
    };
    a->done(a->done_ctx, &r);
}

static void join_error_member(ggroup *g, gmember *m, int16_t error, od_str member_id)
{
    od_gc_join_result r = {
        .error = error,
        .generation_id = -1,
        .protocol_type = OD_STR_NULL,
        .protocol_name = OD_STR_NULL,
        .leader = OD_STR_LIT(""),
        .member_id = member_id,
    };
    invoke_join(g, m, &r);
}

static void sync_error_member(gmember *m, int16_t error)
{
    od_gc_sync_result r = {error, OD_STR_NULL, OD_STR_NULL, {NULL, 0}};
    invoke_sync(m, &r);
}

/* Removes a member (Kafka's GroupMetadata.remove). Kafka would leave a
 * removed member's waiting request unanswered until the client times out;
 * we answer it UNKNOWN_MEMBER_ID so a pipelined connection never stalls
 * (invariant 4). */
static void remove_member(ggroup *g, gmember *m)
{
    if (m->join_done)
        join_error_member(g, m, OD_GC_UNKNOWN_MEMBER_ID, OD_STR_LIT(""));
    if (m->sync_done)
        sync_error_member(m, OD_GC_UNKNOWN_MEMBER_ID);
    /* By identity, not id: the array must never keep a freed member. */
    int32_t idx = 0;
    while (idx < g->member_count && g->members[idx] != m)
        idx++;
    if (idx == g->member_count)
        return; /* not ours: nothing to unlink, and freeing it would be wrong */
    count_protocols(g, m, -1);
    if (m->join_done)
        g->awaiting_join--;
    if (m->pending_sync) {
        m->pending_sync = false;
        g->pending_sync_count--;
    }
    memmove(&g->members[idx], &g->members[idx + 1],
            (size_t)(g->member_count - idx - 1) * sizeof *g->members);
    g->member_count--;
    if (g->leader == m)
        g->leader = g->member_count ? g->members[0] : NULL;
    free_member(m);
}

static void remove_pending(ggroup *g, int32_t i)
{
    bfree(&g->pending[i].id);
    memmove(&g->pending[i], &g->pending[i + 1],
            (size_t)(g->pending_count - i - 1) * sizeof *g->pending);
    g->pending_count--;
}

static void clear_pending_sync(ggroup *g)
{
    for (int32_t i = 0; i < g->member_count; i++)
        g->members[i]->pending_sync = false;
    g->pending_sync_count = 0;
    g->sync_deadline = -1;
}

/* ---------------------------------------------------------------- subscriptions */

/* Kafka reads each member's consumer-protocol metadata at version 0 (the
 * prefix every version shares) to learn the union of subscribed topics; any
 * unreadable member makes the set unknown. Only "consumer" groups. */
static void compute_subscribed(ggroup *g)
{
    clear_subscribed(g);
    if (!beq(&g->protocol_type, OD_STR_LIT("consumer")) || g->member_count == 0 ||
        g->protocol_name.len < 0)
        return;
    od_arena arena;
    od_arena_init(&arena);
    bool ok = true;
    for (int32_t i = 0; i < g->member_count && ok; i++) {
        const gbuf *md = member_metadata(g->members[i], &g->protocol_name);
        if (!md) {
            ok = false;
            break;
        }
        od_reader r;
        od_reader_init(&r, md->p, (size_t)(md->len < 0 ? 0 : md->len), &arena);
        int16_t version = od_read_i16(&r);
        od_consumer_protocol_subscription sub;
        od_consumer_protocol_subscription_init(&sub);
        if (r.err || version < 0 || od_consumer_protocol_subscription_decode(&sub, &r, 0)) {
            ok = false;
            break;
        }
        for (int32_t t = 0; t < sub.topics.count && ok; t++) {
            bool seen = false;
            for (int32_t k = 0; k < g->subscribed_count && !seen; k++)
                seen = beq(&g->subscribed[k], sub.topics.items[t]);
            if (seen)
                continue;
            int32_t cap = g->subscribed_count; /* exact-size growth keeps this simple */
            gbuf *n = realloc(g->subscribed, (size_t)(cap + 1) * sizeof *n);
            if (!n) {
                ok = false;
                break;
            }
            g->subscribed = n;
            n[cap].p = NULL;
            n[cap].len = -1;
            if (!bset_str(&n[cap], sub.topics.items[t])) {
                ok = false;
                break;
            }
            g->subscribed_count++;
        }
    }
    od_arena_release(&arena);
    if (!ok)
        clear_subscribed(g);
    else
        g->subscribed_known = true;
}

static bool is_subscribed(const ggroup *g, od_str topic)
{
    if (!g->subscribed_known)
        return true;
    for (int32_t i = 0; i < g->subscribed_count; i++)
        if (beq(&g->subscribed[i], topic))
            return true;
    return false;
}

/* ---------------------------------------------------------------- appends */

/* Kafka maps the log append error of a group metadata write to what the
 * client understands (GroupMetadataManager.storeGroup). */
static int16_t map_group_append_error(int16_t e)
{
    switch (e) {
    case OD_GC_NONE: return OD_GC_NONE;
    case OD_GC_UNKNOWN_TOPIC_OR_PARTITION:
    case OD_GC_NOT_ENOUGH_REPLICAS:
    case OD_GC_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case OD_GC_REQUEST_TIMED_OUT:
        return OD_GC_COORDINATOR_NOT_AVAILABLE;
    case OD_GC_NOT_LEADER_OR_FOLLOWER:
    case OD_GC_KAFKA_STORAGE_ERROR:
        return OD_GC_NOT_COORDINATOR;
    case OD_GC_UNKNOWN_SERVER_ERROR:
    case OD_GC_MESSAGE_TOO_LARGE:
    case OD_GC_RECORD_LIST_TOO_LARGE:
    case OD_GC_INVALID_FETCH_SIZE:
        return OD_GC_UNKNOWN_SERVER_ERROR;
    default: return e;
    }
}

/* The same for offset commits (GroupMetadataManager.storeOffsets). */
static int16_t map_offset_append_error(int16_t e)
{
    switch (e) {
    case OD_GC_UNKNOWN_TOPIC_OR_PARTITION:
    case OD_GC_NOT_ENOUGH_REPLICAS:
    case OD_GC_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        return OD_GC_COORDINATOR_NOT_AVAILABLE;
    case OD_GC_NOT_LEADER_OR_FOLLOWER:
    case OD_GC_KAFKA_STORAGE_ERROR:
        return OD_GC_NOT_COORDINATOR;
    case OD_GC_MESSAGE_TOO_LARGE:
    case OD_GC_RECORD_LIST_TOO_LARGE:
    case OD_GC_INVALID_FETCH_SIZE:
        return OD_GC_INVALID_COMMIT_OFFSET_SIZE;
    default: return e;
    }
}

/* Builds one batch of `n` key/value records (values len -1: tombstones)
 * stamped now, as Kafka's coordinator does (CreateTime, no producer,
 * offsets.topic.compression.codec), and appends it. Returns the raw append error. */
static int16_t append_batch(od_gc *gc, int32_t partition, const od_bytes *keys,
                            const od_bytes *values, int32_t n, const od_batch_params *params);

static int16_t append_records(od_gc *gc, int32_t partition, const od_bytes *keys,
                              const od_bytes *values, int32_t n)
{
    od_batch_params params = OD_BATCH_PARAMS_INIT;
    return append_batch(gc, partition, keys, values, n, &params);
}

/* Builds and appends one batch with the given header fields. */
static int16_t append_batch(od_gc *gc, int32_t partition, const od_bytes *keys,
                            const od_bytes *values, int32_t n, const od_batch_params *params)
{
    if (n == 0)
        return OD_GC_NONE;
    od_builder_record *recs = calloc((size_t)n, sizeof *recs);
    if (!recs)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    int64_t ts = now(gc);
    for (int32_t i = 0; i < n; i++) {
        recs[i].timestamp = ts;
        recs[i].key = keys[i];
        recs[i].value = values[i];
    }
    od_batch_params compressed = *params;
    compressed.compression = (od_compression)gc->cfg.offsets_topic_compression_codec;
    od_writer out;
    od_writer_init(&out, 256);
    od_batch_err be = od_batch_build(&compressed, recs, n, &out);
    free(recs);
    int16_t err = OD_GC_UNKNOWN_SERVER_ERROR;
    if (be == OD_BATCH_OK && out.err == OD_WIRE_OK)
        err = gc->env.append(gc->env.ctx, partition, out.buf, out.len);
    od_writer_free(&out);
    return err;
}

/* Writes the group's metadata record (Kafka's storeGroup). assignments[i]
 * is member i's assignment to store; NULL stores each member's current one.
 * Returns the mapped error (invariant 2). */
static int16_t store_group(od_gc *gc, ggroup *g, const od_bytes *assignments)
{
    od_arena arena;
    od_arena_init(&arena);
    od_group_metadata_value v;
    od_group_metadata_value_init(&v);
    v.protocol_type = g->protocol_type.len < 0 ? OD_STR_LIT("") : bstr(&g->protocol_type);
    v.generation = g->generation;
    v.protocol = bstr(&g->protocol_name);
    v.leader = g->leader ? bstr(&g->leader->id) : OD_STR_NULL;
    v.current_state_timestamp = g->state_ts;
    v.members.count = g->member_count;
    v.members.items = od_arena_calloc(&arena, count_or_one(g->member_count),
                                      sizeof *v.members.items);
    int16_t err = OD_GC_UNKNOWN_SERVER_ERROR;
    if (!v.members.items)
        goto out;
    for (int32_t i = 0; i < g->member_count; i++) {
        const gmember *m = g->members[i];
        od_group_metadata_value_member_metadata *mm = &v.members.items[i];
        od_group_metadata_value_member_metadata_init(mm);
        mm->member_id = bstr(&m->id);
        mm->group_instance_id = bstr(&m->instance_id);
        mm->client_id = bstr(&m->client_id);
        mm->client_host = bstr(&m->client_host);
        mm->rebalance_timeout = m->rebalance_timeout_ms;
        mm->session_timeout = m->session_timeout_ms;
        const gbuf *md = member_metadata(m, &g->protocol_name);
        mm->subscription = md ? bbytes(md) : (od_bytes){(const uint8_t *)"", 0};
        mm->assignment = assignments ? assignments[i] : bbytes(&m->assignment);
        if (mm->assignment.len < 0)
            mm->assignment = (od_bytes){(const uint8_t *)"", 0};
    }
    od_writer kw, vw;
    od_writer_init(&kw, 64);
    od_writer_init(&vw, 256);
    od_gc_write_group_key(&kw, bstr(&g->id));
    od_gc_write_group_value(&vw, &v);
    if (kw.err == OD_WIRE_OK && vw.err == OD_WIRE_OK) {
        od_bytes key = {kw.buf, (int32_t)kw.len}, value = {vw.buf, (int32_t)vw.len};
        err = map_group_append_error(append_records(gc, g->partition, &key, &value, 1));
    }
    od_writer_free(&kw);
    od_writer_free(&vw);
out:
    od_arena_release(&arena);
    return err;
}

/* ---------------------------------------------------------------- timers */

/* Invariant 9: every deadline is armed through here (group_util.h). */
static int64_t arm(od_gc *gc, int64_t at)
{
    return wake_arm(&gc->wake, at);
}

static void arm_heartbeat(od_gc *gc, gmember *m, int64_t at)
{
    m->hb_deadline = arm(gc, at);
}

/* Kafka's completeAndScheduleNextHeartbeatExpiration. */
static void schedule_heartbeat(od_gc *gc, gmember *m)
{
    arm_heartbeat(gc, m, now(gc) + m->session_timeout_ms);
}

static int64_t next_deadline(const od_gc *gc)
{
    int64_t d = gc->retention_deadline;
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        for (const ggroup *g = gc->buckets[b]; g; g = g->next) {
            d = min_deadline(d, g->join_deadline);
            d = min_deadline(d, g->sync_deadline);
            for (int32_t i = 0; i < g->member_count; i++)
                d = min_deadline(d, g->members[i]->hb_deadline);
            for (int32_t i = 0; i < g->pending_count; i++)
                d = min_deadline(d, g->pending[i].deadline);
        }
    }
    return d;
}

static void request_wake(od_gc *gc)
{
    wake_request(&gc->wake, &gc->env);
}

/* ---------------------------------------------------------------- rebalance */

static void propagate_assignment(od_gc *gc, ggroup *g, int16_t error);

static void reset_and_propagate_error(od_gc *gc, ggroup *g, int16_t error)
{
    for (int32_t i = 0; i < g->member_count; i++)
        bset(&g->members[i]->assignment, "", 0);
    propagate_assignment(gc, g, error);
}

/* Kafka's prepareRebalance: abandons a sync in progress, then waits for
 * members to rejoin; an Empty group waits the initial delay first. */
static void prepare_rebalance(od_gc *gc, ggroup *g)
{
    if (g->state == OD_GC_COMPLETING_REBALANCE)
        reset_and_propagate_error(gc, g, OD_GC_REBALANCE_IN_PROGRESS);
    clear_pending_sync(g);
    int32_t rebalance_timeout = group_rebalance_timeout(g);
    if (g->state == OD_GC_EMPTY) {
        int32_t d = gc->cfg.group_initial_rebalance_delay_ms;
        g->join_kind = JOIN_INITIAL;
        g->initial_configured_delay = d;
        g->initial_delay = d;
        g->initial_remaining = rebalance_timeout - d > 0 ? rebalance_timeout - d : 0;
        g->join_deadline = arm(gc, now(gc) + d);
    } else {
        g->join_kind = JOIN_REGULAR;
        g->join_deadline = arm(gc, now(gc) + rebalance_timeout);
    }
    set_state(gc, g, OD_GC_PREPARING_REBALANCE);
}

static bool can_rebalance(const ggroup *g)
{
    return g->state == OD_GC_STABLE || g->state == OD_GC_COMPLETING_REBALANCE ||
           g->state == OD_GC_EMPTY;
}

static void complete_join(od_gc *gc, ggroup *g);

static void maybe_complete_join(od_gc *gc, ggroup *g)
{
    if (g->state == OD_GC_PREPARING_REBALANCE && g->join_kind == JOIN_REGULAR && all_joined(g))
        complete_join(gc, g);
}

static void maybe_prepare_rebalance(od_gc *gc, ggroup *g)
{
    if (can_rebalance(g)) {
        prepare_rebalance(gc, g);
        /* Kafka's tryCompleteElseWatch: a regular join may be complete at once. */
        maybe_complete_join(gc, g);
    }
}

/* Kafka's selectProtocol: among protocols every member supports, each
 * member votes for the first of its own list; most votes wins. Kafka breaks
 * ties by hash-map order; we break them by the earliest-joined member's vote,
 * which is deterministic and one of the choices Kafka could make. */
static const gbuf *select_protocol(ggroup *g)
{
    const gbuf *best = NULL;
    int32_t best_votes = 0;
    for (int32_t i = 0; i < g->member_count; i++) {
        const gbuf *vote_i = NULL;
        const gmember *mi = g->members[i];
        for (int32_t p = 0; p < mi->protocol_count && !vote_i; p++) {
            gcount *c = count_of(g, bstr(&mi->protocols[p].name));
            if (c && c->count == g->member_count)
                vote_i = &mi->protocols[p].name;
        }
        if (!vote_i)
            continue;
        int32_t votes = 0;
        for (int32_t j = 0; j < g->member_count; j++) {
            const gmember *mj = g->members[j];
            for (int32_t p = 0; p < mj->protocol_count; p++) {
                gcount *c = count_of(g, bstr(&mj->protocols[p].name));
                if (c && c->count == g->member_count) {
                    if (beq(&mj->protocols[p].name, bstr(vote_i)))
                        votes++;
                    break;
                }
            }
        }
        if (votes > best_votes) {
            best = vote_i;
            best_votes = votes;
        }
    }
    return best;
}

/* Kafka's maybeElectNewJoinedLeader: a leader that did not rejoin hands over
 * to any member that did. Returns false when nobody rejoined. */
static bool elect_joined_leader(ggroup *g)
{
    if (!g->leader)
        return false;
    if (g->leader->join_done)
        return true;
    for (int32_t i = 0; i < g->member_count; i++) {
        if (g->members[i]->join_done) {
            g->leader = g->members[i];
            return true;
        }
    }
    return false;
}

static void answer_joined_members(od_gc *gc, ggroup *g)
{
    od_gc_join_member *all = calloc(count_or_one(g->member_count), sizeof *all);
    for (int32_t i = 0; all && i < g->member_count; i++) {
        const gmember *m = g->members[i];
        const gbuf *md = member_metadata(m, &g->protocol_name);
        all[i].member_id = bstr(&m->id);
        all[i].group_instance_id = bstr(&m->instance_id);
        all[i].metadata = md ? bbytes(md) : (od_bytes){NULL, 0};
    }
    /* Callbacks may not re-enter (header), so the member list is stable. */
    for (int32_t i = 0; i < g->member_count; i++) {
        gmember *m = g->members[i];
        bool is_leader = m == g->leader;
        od_gc_join_result r = {
            .error = all ? OD_GC_NONE : OD_GC_UNKNOWN_SERVER_ERROR,
            .generation_id = g->generation,
            .protocol_type = bstr(&g->protocol_type),
            .protocol_name = bstr(&g->protocol_name),
            .leader = bstr(&g->leader->id),
            .member_id = bstr(&m->id),
            .members = is_leader ? all : NULL,
            .member_count = is_leader && all ? g->member_count : 0,
        };
        invoke_join(g, m, &r);
        schedule_heartbeat(gc, m);
        m->is_new = false;
        m->pending_sync = true;
    }
    g->pending_sync_count = g->member_count;
    free(all);
}

/* Kafka's onCompleteJoin. */
static void complete_join(od_gc *gc, ggroup *g)
{
    g->join_kind = JOIN_NONE;
    g->join_deadline = -1;
    /* Dynamic members that did not rejoin in time are dropped; static ones
     * keep their place until their session expires. */
    for (int32_t i = 0; i < g->member_count;) {
        gmember *m = g->members[i];
        if (!m->join_done && m->instance_id.len < 0)
            remove_member(g, m);
        else
            i++;
    }
    if (!elect_joined_leader(g) && g->member_count > 0) {
        /* Nobody rejoined: wait another rebalance timeout. */
        g->join_kind = JOIN_REGULAR;
        g->join_deadline = arm(gc, now(gc) + group_rebalance_timeout(g));
        maybe_complete_join(gc, g);
        return;
    }
    /* Kafka's initNextGeneration. */
    g->generation++;
    bfree(&g->protocol_name);
    if (g->member_count > 0) {
        const gbuf *p = select_protocol(g);
        if (p)
            bset(&g->protocol_name, p->p, p->len);
        set_state(gc, g, OD_GC_COMPLETING_REBALANCE);
    } else {
        set_state(gc, g, OD_GC_EMPTY);
    }
    compute_subscribed(g);
    clear_pending_sync(g);
    if (g->state == OD_GC_EMPTY) {
        /* A failed write is only logged by Kafka: an empty generation has
         * nobody to tell. */
        (void)store_group(gc, g, NULL);
        return;
    }
    answer_joined_members(gc, g);
    g->sync_generation = g->generation;
    g->sync_deadline = arm(gc, now(gc) + group_rebalance_timeout(g));
}

/* Kafka's removeMemberAndUpdateGroup. */
static void remove_member_and_update(od_gc *gc, ggroup *g, gmember *m)
{
    /* A new member may still wait on its first join: tell it to start over. */
    join_error_member(g, m, OD_GC_UNKNOWN_MEMBER_ID, OD_STR_LIT(""));
    remove_member(g, m);
    switch (g->state) {
    case OD_GC_STABLE:
    case OD_GC_COMPLETING_REBALANCE:
        maybe_prepare_rebalance(gc, g);
        break;
    case OD_GC_PREPARING_REBALANCE:
        maybe_complete_join(gc, g);
        break;
    default:
        break;
    }
}

static void propagate_assignment(od_gc *gc, ggroup *g, int16_t error)
{
    for (int32_t i = 0; i < g->member_count; i++) {
        gmember *m = g->members[i];
        od_gc_sync_result r = {
            .error = error,
            .protocol_type = error ? OD_STR_NULL : bstr(&g->protocol_type),
            .protocol_name = error ? OD_STR_NULL : bstr(&g->protocol_name),
            .assignment = m->assignment.len < 0 ? (od_bytes){NULL, 0} : bbytes(&m->assignment),
        };
        /* Kafka restarts the session clock of every member it answers. */
        if (invoke_sync(m, &r))
            schedule_heartbeat(gc, m);
    }
}

/* ---------------------------------------------------------------- coordinator status */

/* Kafka's validateGroupStatus. Join/sync/heartbeat/leave refuse an empty
 * group id; the others only a null one. */
static int16_t group_status(const od_gc *gc, od_str group_id, bool empty_is_invalid)
{
    if (group_id.len < 0 || (empty_is_invalid && group_id.len == 0))
        return OD_GC_INVALID_GROUP_ID;
    int32_t p = od_gc_partition_for(gc, group_id);
    if (gc->parts[p] == PART_LOADING)
        return OD_GC_COORDINATOR_LOAD_IN_PROGRESS;
    if (gc->parts[p] != PART_ACTIVE)
        return OD_GC_NOT_COORDINATOR;
    return OD_GC_NONE;
}

/* Kafka's validateCurrentMember: an instance id must map to this member id
 * (else FENCED_INSTANCE_ID, or UNKNOWN_MEMBER_ID if unmapped), and the member
 * id must be in the group. */
static int16_t validate_current_member(const ggroup *g, od_str member_id, od_str instance_id)
{
    if (instance_id.len >= 0) {
        const gmember *s = static_member(g, instance_id);
        if (!s)
            return OD_GC_UNKNOWN_MEMBER_ID;
        if (!beq(&s->id, member_id))
            return OD_GC_FENCED_INSTANCE_ID;
    }
    if (!find_member(g, member_id, NULL))
        return OD_GC_UNKNOWN_MEMBER_ID;
    return OD_GC_NONE;
}

/* ---------------------------------------------------------------- JoinGroup */

static bool accept_joining_member(const od_gc *gc, const ggroup *g, od_str member_id)
{
    const gmember *m = find_member(g, member_id, NULL);
    switch (g->state) {
    case OD_GC_EMPTY:
    case OD_GC_DEAD:
        return true;
    case OD_GC_PREPARING_REBALANCE:
        return (m && m->join_done) || g->awaiting_join < gc->cfg.group_max_size;
    default:
        return m || g->member_count < gc->cfg.group_max_size;
    }
}

static gmember *new_member(const od_gc_join_args *a, const gbuf *id)
{
    gmember *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->id.len = m->instance_id.len = m->client_id.len = m->client_host.len = m->assignment.len = -1;
    m->hb_deadline = -1;
    if (!bset(&m->id, id->p, id->len) || !bset_str(&m->instance_id, a->group_instance_id) ||
        !bset_str(&m->client_id, a->client_id.len < 0 ? OD_STR_LIT("") : a->client_id) ||
        !bset_str(&m->client_host, a->client_host.len < 0 ? OD_STR_LIT("") : a->client_host) ||
        !bset(&m->assignment, "", 0) || !set_protocols(m, a->protocols, a->protocol_count)) {
        free_member(m);
        return NULL;
    }
    m->session_timeout_ms = a->session_timeout_ms;
    m->rebalance_timeout_ms = a->rebalance_timeout_ms;
    return m;
}

/* Kafka's addMemberAndRebalance. */
static void add_member_and_rebalance(od_gc *gc, ggroup *g, const od_gc_join_args *a,
                                     const gbuf *id)
{
    gmember *m = new_member(a, id);
    if (!m || !grow((void **)&g->members, &g->member_cap, g->member_count + 1, sizeof *g->members) ||
        !count_protocols(g, m, +1)) {
        if (m)
            free_member(m);
        join_error(a, bstr(id), OD_GC_UNKNOWN_SERVER_ERROR);
        return;
    }
    m->is_new = true;
    if (g->state == OD_GC_PREPARING_REBALANCE && g->generation == 0)
        g->new_member_added = true;
    if (g->member_count == 0)
        bset_str(&g->protocol_type, a->protocol_type);
    if (!g->leader)
        g->leader = m;
    g->members[g->member_count++] = m;
    set_join_callback(g, m, a->done, a->done_ctx);
    int32_t p = find_pending(g, bstr(id));
    if (p >= 0)
        remove_pending(g, p);
    /* New members cannot heartbeat yet; bound how long they may sit in a
     * rebalance so abandoned joins do not pile up. */
    arm_heartbeat(gc, m, now(gc) + NEW_MEMBER_JOIN_TIMEOUT_MS);
    maybe_prepare_rebalance(gc, g);
}

/* Kafka's updateMember + maybePrepareRebalance. A JoinGroup that supersedes
 * one still waiting answers the older one first (invariant 4); Kafka lets
 * that request time out instead, which would stall a pipelined connection. */
static void update_member_and_rebalance(od_gc *gc, ggroup *g, gmember *m,
                                        const od_gc_join_args *a)
{
    if (m->join_done)
        join_error_member(g, m, OD_GC_REBALANCE_IN_PROGRESS, bstr(&m->id));
    count_protocols(g, m, -1);
    bool ok = set_protocols(m, a->protocols, a->protocol_count);
    count_protocols(g, m, +1);
    if (!ok) {
        join_error(a, bstr(&m->id), OD_GC_UNKNOWN_SERVER_ERROR);
        return;
    }
    m->rebalance_timeout_ms = a->rebalance_timeout_ms;
    m->session_timeout_ms = a->session_timeout_ms;
    set_join_callback(g, m, a->done, a->done_ctx);
    maybe_prepare_rebalance(gc, g);
}

static void current_generation_answer(ggroup *g, gmember *m, const od_gc_join_args *a,
                                      bool with_members, od_str leader, bool skip)
{
    od_gc_join_member *all = NULL;
    int32_t n = 0;
    if (with_members) {
        all = calloc(count_or_one(g->member_count), sizeof *all);
        for (int32_t i = 0; all && i < g->member_count; i++) {
            const gbuf *md = member_metadata(g->members[i], &g->protocol_name);
            all[i].member_id = bstr(&g->members[i]->id);
            all[i].group_instance_id = bstr(&g->members[i]->instance_id);
            all[i].metadata = md ? bbytes(md) : (od_bytes){NULL, 0};
        }
        n = all ? g->member_count : 0;
    }
    od_gc_join_result r = {
        .error = with_members && !all ? OD_GC_UNKNOWN_SERVER_ERROR : OD_GC_NONE,
        .generation_id = g->generation,
        .protocol_type = bstr(&g->protocol_type),
        .protocol_name = bstr(&g->protocol_name),
        .leader = leader,
        .skip_assignment = skip,
        .member_id = bstr(&m->id),
        .members = all,
        .member_count = n,
    };
    a->done(a->done_ctx, &r);
    free(all);
}

/* Kafka's replaceStaticMember: the new member id takes over the old one's
 * place (and leadership); anything the old id still waits on is fenced. */
static bool replace_static_member(ggroup *g, gmember *m, const gbuf *new_id)
{
    gbuf copy = {NULL, -1};
    if (!bset(&copy, new_id->p, new_id->len))
        return false;
    join_error_member(g, m, OD_GC_FENCED_INSTANCE_ID, bstr(&m->id));
    sync_error_member(m, OD_GC_FENCED_INSTANCE_ID);
    bfree(&m->id);
    m->id = copy;
    return true;
}

/* Kafka's updateStaticMemberAndRebalance. */
static void update_static_member(od_gc *gc, ggroup *g, gmember *m, const od_gc_join_args *a,
                                 const gbuf *new_id)
{
    gbuf old_id = {NULL, -1};
    if (!bset(&old_id, m->id.p, m->id.len) || !replace_static_member(g, m, new_id)) {
        bfree(&old_id);
        join_error(a, OD_STR_LIT(""), OD_GC_UNKNOWN_SERVER_ERROR);
        return;
    }
    gbuf current_leader = {NULL, -1};
    bset(&current_leader, g->leader->id.p, g->leader->id.len);
    if (g->leader == m) {
        /* The leader pointer follows the member; the old leader id is what
         * Kafka reports to pre-v9 clients below. */
        bfree(&current_leader);
        bset(&current_leader, old_id.p, old_id.len);
    }
    schedule_heartbeat(gc, m);
    /* Keep the old protocols and timeouts to undo a failed write. */
    gprotocol *old_protocols = m->protocols;
    int32_t old_count = m->protocol_count;
    int32_t old_rebalance = m->rebalance_timeout_ms, old_session = m->session_timeout_ms;
    m->protocols = NULL;
    m->protocol_count = 0;
    count_protocols(g, &(gmember){.protocols = old_protocols, .protocol_count = old_count}, -1);
    if (!set_protocols(m, a->protocols, a->protocol_count)) {
        m->protocols = old_protocols;
        m->protocol_count = old_count;
        count_protocols(g, m, +1);
        join_error(a, OD_STR_LIT(""), OD_GC_UNKNOWN_SERVER_ERROR);
        goto out;
    }
    count_protocols(g, m, +1);
    m->rebalance_timeout_ms = a->rebalance_timeout_ms;
    m->session_timeout_ms = a->session_timeout_ms;
    set_join_callback(g, m, a->done, a->done_ctx);

    switch (g->state) {
    case OD_GC_STABLE: {
        const gbuf *next = select_protocol(g);
        if (next && beq(&g->protocol_name, bstr(next))) {
            /* Same protocol next generation: persist the new member id and
             * keep the current assignment, no rebalance. */
            int16_t err = store_group(gc, g, NULL);
            if (err) {
                /* Undo, as Kafka does, and report the write error. */
                set_join_callback(g, m, NULL, NULL);
                count_protocols(g, m, -1);
                for (int32_t i = 0; i < m->protocol_count; i++) {
                    bfree(&m->protocols[i].name);
                    bfree(&m->protocols[i].metadata);
                }
                free(m->protocols);
                m->protocols = old_protocols;
                m->protocol_count = old_count;
                old_protocols = NULL;
                count_protocols(g, m, +1);
                m->rebalance_timeout_ms = old_rebalance;
                m->session_timeout_ms = old_session;
                bfree(&m->id);
                m->id = old_id;
                old_id = (gbuf){NULL, -1};
                schedule_heartbeat(gc, m);
                od_gc_join_result r = {
                    .error = err,
                    .generation_id = g->generation,
                    .protocol_type = bstr(&g->protocol_type),
                    .protocol_name = bstr(&g->protocol_name),
                    .leader = bstr(&current_leader),
                    .member_id = OD_STR_LIT(""),
                };
                a->done(a->done_ctx, &r);
                goto out;
            }
            set_join_callback(g, m, NULL, NULL);
            if (a->supports_skip_assignment) {
                /* v9+: the leader learns it leads but skips the assignor. */
                bool is_leader = g->leader == m;
                current_generation_answer(g, m, a, is_leader, bstr(&g->leader->id), is_leader);
            } else {
                /* Before v9 the old leader id keeps a returning leader from
                 * running a pointless assignment. */
                current_generation_answer(g, m, a, false, bstr(&current_leader), false);
            }
        } else {
            maybe_prepare_rebalance(gc, g);
        }
        break;
    }
    case OD_GC_COMPLETING_REBALANCE:
        /* The leader may already hold the old member id in its assignment:
         * start over so the new id gets one. */
        prepare_rebalance(gc, g);
        break;
    default:
        /* PreparingRebalance: the join completes with everyone else. */
        break;
    }
out:
    if (old_protocols) {
        for (int32_t i = 0; i < old_count; i++) {
            bfree(&old_protocols[i].name);
            bfree(&old_protocols[i].metadata);
        }
        free(old_protocols);
    }
    bfree(&old_id);
    bfree(&current_leader);
}

/* Answers a JoinGroup the group cannot take from anyone: it is dead, or it
 * does not support the member's protocols. Returns true when it answered. */
static bool join_refused(ggroup *g, const od_gc_join_args *a)
{
    if (g->state == OD_GC_DEAD) {
        join_error(a, a->member_id, OD_GC_COORDINATOR_NOT_AVAILABLE);
        return true;
    }
    if (!supports_protocols(g, a->protocol_type, a->protocols, a->protocol_count)) {
        join_error(a, a->member_id, OD_GC_INCONSISTENT_GROUP_PROTOCOL);
        return true;
    }
    return false;
}

static void join_new_member(od_gc *gc, ggroup *g, const od_gc_join_args *a)
{
    if (join_refused(g, a))
        return;
    gbuf id = {NULL, -1};
    od_str prefix = a->group_instance_id.len >= 0 ? a->group_instance_id : a->client_id;
    if (!make_member_id(gc, prefix, &id)) {
        join_error(a, a->member_id, OD_GC_UNKNOWN_SERVER_ERROR);
        return;
    }
    if (a->group_instance_id.len >= 0) {
        gmember *old = static_member(g, a->group_instance_id);
        if (old)
            update_static_member(gc, g, old, a, &id);
        else
            add_member_and_rebalance(gc, g, a, &id);
    } else if (a->require_known_member_id) {
        /* KIP-394: hand out the id and wait for the member to come back
         * with it; an id never used expires after the session timeout. */
        if (!grow((void **)&g->pending, &g->pending_cap, g->pending_count + 1, sizeof *g->pending)) {
            join_error(a, a->member_id, OD_GC_UNKNOWN_SERVER_ERROR);
        } else {
            g->pending[g->pending_count].id = id;
            g->pending[g->pending_count].deadline = arm(gc, now(gc) + a->session_timeout_ms);
            g->pending_count++;
            id = (gbuf){NULL, -1};
            join_error(a, bstr(&g->pending[g->pending_count - 1].id), OD_GC_MEMBER_ID_REQUIRED);
        }
    } else {
        add_member_and_rebalance(gc, g, a, &id);
    }
    bfree(&id);
}

static void join_current_member(od_gc *gc, ggroup *g, const od_gc_join_args *a)
{
    if (join_refused(g, a))
        return;
    if (find_pending(g, a->member_id) >= 0) {
        /* A pending member is always dynamic: it got its id from KIP-394. */
        gbuf id = {NULL, -1};
        if (!bset_str(&id, a->member_id)) {
            join_error(a, a->member_id, OD_GC_UNKNOWN_SERVER_ERROR);
            return;
        }
        add_member_and_rebalance(gc, g, a, &id);
        bfree(&id);
        return;
    }
    int16_t err = validate_current_member(g, a->member_id, a->group_instance_id);
    if (err) {
        join_error(a, a->member_id, err);
        return;
    }
    gmember *m = find_member(g, a->member_id, NULL);
    switch (g->state) {
    case OD_GC_PREPARING_REBALANCE:
        update_member_and_rebalance(gc, g, m, a);
        break;
    case OD_GC_COMPLETING_REBALANCE:
        if (protocols_match(m, a->protocols, a->protocol_count)) {
            /* Lost its JoinGroup response: answer again for this generation. */
            current_generation_answer(g, m, a, g->leader == m, bstr(&g->leader->id), false);
        } else {
            update_member_and_rebalance(gc, g, m, a);
        }
        break;
    case OD_GC_STABLE:
        if (g->leader == m || !protocols_match(m, a->protocols, a->protocol_count)) {
            /* A leader rejoins to force a rebalance (e.g. topic metadata
             * changed); anyone with new metadata does too. */
            update_member_and_rebalance(gc, g, m, a);
        } else {
            current_generation_answer(g, m, a, false, bstr(&g->leader->id), false);
        }
        break;
    default:
        /* Empty or Dead with this member: make it reset and rejoin. */
        join_error(a, a->member_id, OD_GC_UNKNOWN_MEMBER_ID);
        break;
    }
}

void od_gc_join(od_gc *gc, const od_gc_join_args *a)
{
    int16_t err = group_status(gc, a->group_id, true);
    if (err) {
        join_error(a, a->member_id, err);
        return;
    }
    if (a->session_timeout_ms < gc->cfg.group_min_session_timeout_ms ||
        a->session_timeout_ms > gc->cfg.group_max_session_timeout_ms) {
        join_error(a, a->member_id, OD_GC_INVALID_SESSION_TIMEOUT);
        return;
    }
    bool unknown_member = a->member_id.len <= 0;
    ggroup *g = find_group(gc, a->group_id);
    if (!g) {
        if (!unknown_member) {
            join_error(a, a->member_id, OD_GC_UNKNOWN_MEMBER_ID);
            return;
        }
        g = create_group(gc, a->group_id);
        if (!g) {
            join_error(a, a->member_id, OD_GC_UNKNOWN_SERVER_ERROR);
            return;
        }
    }
    if (!accept_joining_member(gc, g, a->member_id)) {
        gmember *m = find_member(g, a->member_id, NULL);
        if (m) {
            join_error_member(g, m, OD_GC_GROUP_MAX_SIZE_REACHED, OD_STR_LIT(""));
            remove_member(g, m);
        }
        join_error(a, OD_STR_LIT(""), OD_GC_GROUP_MAX_SIZE_REACHED);
    } else if (unknown_member) {
        join_new_member(gc, g, a);
    } else {
        join_current_member(gc, g, a);
    }
    maybe_complete_join(gc, g);
    request_wake(gc);
}

/* ---------------------------------------------------------------- SyncGroup */

static void sync_error(const od_gc_sync_args *a, int16_t error)
{
    od_gc_sync_result r = {error, OD_STR_NULL, OD_STR_NULL, {NULL, 0}};
    a->done(a->done_ctx, &r);
}

static void leader_sync(od_gc *gc, ggroup *g, const od_gc_sync_args *a)
{
    /* Members the leader left out get an empty assignment; ids it names
     * that are not members are ignored. */
    od_bytes *staged = calloc(count_or_one(g->member_count), sizeof *staged);
    if (!staged) {
        reset_and_propagate_error(gc, g, OD_GC_UNKNOWN_SERVER_ERROR);
        maybe_prepare_rebalance(gc, g);
        return;
    }
    for (int32_t i = 0; i < g->member_count; i++) {
        staged[i] = (od_bytes){(const uint8_t *)"", 0};
        for (int32_t k = 0; k < a->assignment_count; k++) {
            if (beq(&g->members[i]->id, a->assignments[k].member_id)) {
                od_bytes as = a->assignments[k].assignment;
                staged[i] = as.len < 0 ? (od_bytes){(const uint8_t *)"", 0} : as;
            }
        }
    }
    int16_t err = store_group(gc, g, staged);
    if (err) {
        free(staged);
        reset_and_propagate_error(gc, g, err);
        maybe_prepare_rebalance(gc, g);
        return;
    }
    bool ok = true;
    for (int32_t i = 0; i < g->member_count; i++)
        ok = bset(&g->members[i]->assignment, staged[i].ptr, staged[i].len) && ok;
    free(staged);
    if (!ok) {
        reset_and_propagate_error(gc, g, OD_GC_UNKNOWN_SERVER_ERROR);
        maybe_prepare_rebalance(gc, g);
        return;
    }
    propagate_assignment(gc, g, OD_GC_NONE);
    set_state(gc, g, OD_GC_STABLE);
}

static void remove_pending_sync(ggroup *g, gmember *m)
{
    if (m->pending_sync) {
        m->pending_sync = false;
        g->pending_sync_count--;
    }
    if (g->pending_sync_count == 0)
        g->sync_deadline = -1;
}

void od_gc_sync(od_gc *gc, const od_gc_sync_args *a)
{
    int16_t err = group_status(gc, a->group_id, true);
    if (err == OD_GC_COORDINATOR_LOAD_IN_PROGRESS) {
        /* The rebalance in flight was lost with the old coordinator; old
         * clients only understand "rejoin" here. */
        sync_error(a, OD_GC_REBALANCE_IN_PROGRESS);
        return;
    }
    if (err) {
        sync_error(a, err);
        return;
    }
    ggroup *g = find_group(gc, a->group_id);
    if (!g) {
        sync_error(a, OD_GC_UNKNOWN_MEMBER_ID);
        return;
    }
    if (g->state == OD_GC_DEAD) {
        sync_error(a, OD_GC_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    err = validate_current_member(g, a->member_id, a->group_instance_id);
    if (!err && a->generation_id != g->generation)
        err = OD_GC_ILLEGAL_GENERATION;
    if (!err && a->protocol_type.len >= 0 && !beq(&g->protocol_type, a->protocol_type))
        err = OD_GC_INCONSISTENT_GROUP_PROTOCOL;
    if (!err && a->protocol_name.len >= 0 && !beq(&g->protocol_name, a->protocol_name))
        err = OD_GC_INCONSISTENT_GROUP_PROTOCOL;
    if (err) {
        sync_error(a, err);
        return;
    }
    gmember *m = find_member(g, a->member_id, NULL);
    switch (g->state) {
    case OD_GC_EMPTY:
        sync_error(a, OD_GC_UNKNOWN_MEMBER_ID);
        break;
    case OD_GC_PREPARING_REBALANCE:
        sync_error(a, OD_GC_REBALANCE_IN_PROGRESS);
        break;
    case OD_GC_COMPLETING_REBALANCE:
        if (m->sync_done)
            sync_error_member(m, OD_GC_REBALANCE_IN_PROGRESS); /* superseded (invariant 4) */
        m->sync_done = a->done;
        m->sync_ctx = a->done_ctx;
        remove_pending_sync(g, m);
        if (g->leader == m)
            leader_sync(gc, g, a);
        break;
    case OD_GC_STABLE: {
        remove_pending_sync(g, m);
        od_gc_sync_result r = {OD_GC_NONE, bstr(&g->protocol_type), bstr(&g->protocol_name),
                               bbytes(&m->assignment)};
        a->done(a->done_ctx, &r);
        schedule_heartbeat(gc, m);
        break;
    }
    default:
        sync_error(a, OD_GC_COORDINATOR_NOT_AVAILABLE);
        break;
    }
    request_wake(gc);
}

/* ---------------------------------------------------------------- Heartbeat, LeaveGroup */

int16_t od_gc_heartbeat(od_gc *gc, od_str group_id, od_str member_id, od_str group_instance_id,
                        int32_t generation_id)
{
    int16_t err = group_status(gc, group_id, true);
    if (err == OD_GC_COORDINATOR_LOAD_IN_PROGRESS)
        return OD_GC_NONE; /* Kafka answers blindly while loading */
    if (err)
        return err;
    ggroup *g = find_group(gc, group_id);
    if (!g)
        return OD_GC_UNKNOWN_MEMBER_ID;
    if (g->state == OD_GC_DEAD)
        return OD_GC_COORDINATOR_NOT_AVAILABLE;
    err = validate_current_member(g, member_id, group_instance_id);
    if (err)
        return err;
    if (generation_id != g->generation)
        return OD_GC_ILLEGAL_GENERATION;
    gmember *m = find_member(g, member_id, NULL);
    switch (g->state) {
    case OD_GC_EMPTY:
        return OD_GC_UNKNOWN_MEMBER_ID;
    case OD_GC_COMPLETING_REBALANCE:
    case OD_GC_STABLE:
        schedule_heartbeat(gc, m);
        request_wake(gc);
        return OD_GC_NONE;
    case OD_GC_PREPARING_REBALANCE:
        schedule_heartbeat(gc, m);
        request_wake(gc);
        return OD_GC_REBALANCE_IN_PROGRESS;
    default:
        return OD_GC_COORDINATOR_NOT_AVAILABLE;
    }
}

static void leave_current_member(od_gc *gc, ggroup *g, gmember *m)
{
    m->is_leaving = true;
    remove_member_and_update(gc, g, m);
}

int16_t od_gc_leave(od_gc *gc, od_str group_id, od_gc_leave_member *members, int32_t count)
{
    int16_t err = group_status(gc, group_id, true);
    if (err)
        return err;
    ggroup *g = find_group(gc, group_id);
    if (!g) {
        for (int32_t i = 0; i < count; i++)
            members[i].error = OD_GC_UNKNOWN_MEMBER_ID;
        return OD_GC_NONE;
    }
    if (g->state == OD_GC_DEAD)
        return OD_GC_COORDINATOR_NOT_AVAILABLE;
    for (int32_t i = 0; i < count; i++) {
        od_gc_leave_member *lm = &members[i];
        if (lm->member_id.len <= 0) {
            /* Admin removal by instance id (KIP-345). */
            gmember *s = static_member(g, lm->group_instance_id);
            if (s) {
                leave_current_member(gc, g, s);
                lm->error = OD_GC_NONE;
            } else {
                lm->error = OD_GC_UNKNOWN_MEMBER_ID;
            }
            continue;
        }
        int32_t p = find_pending(g, lm->member_id);
        if (p >= 0) {
            remove_pending(g, p);
            maybe_complete_join(gc, g);
            lm->error = OD_GC_NONE;
            continue;
        }
        lm->error = validate_current_member(g, lm->member_id, lm->group_instance_id);
        if (lm->error == OD_GC_NONE)
            leave_current_member(gc, g, find_member(g, lm->member_id, NULL));
    }
    request_wake(gc);
    return OD_GC_NONE;
}

/* ---------------------------------------------------------------- Describe, List, Delete */

static od_str arena_str(od_arena *arena, od_str s, bool *ok)
{
    if (s.len <= 0)
        return s.len < 0 ? OD_STR_NULL : OD_STR_LIT("");
    char *p = od_arena_alloc(arena, (size_t)s.len);
    if (!p) {
        *ok = false;
        return OD_STR_LIT("");
    }
    memcpy(p, s.ptr, (size_t)s.len);
    return (od_str){p, s.len};
}

static od_bytes arena_bytes(od_arena *arena, od_bytes b, bool *ok)
{
    od_str s = arena_str(arena, (od_str){(const char *)b.ptr, b.len}, ok);
    return (od_bytes){(const uint8_t *)s.ptr, s.len};
}

int od_gc_describe(od_gc *gc, od_str group_id, od_arena *arena, od_gc_group_summary *out)
{
    memset(out, 0, sizeof *out);
    out->protocol_type = OD_STR_LIT("");
    out->protocol_data = OD_STR_LIT("");
    out->error = group_status(gc, group_id, false);
    if (out->error) {
        out->state = OD_STR_LIT("");
        return 0;
    }
    const ggroup *g = find_group(gc, group_id);
    if (!g) {
        out->state = OD_STR_LIT("Dead");
        return 0;
    }
    bool ok = true;
    out->state = od_str_from_cstr(od_gc_state_name(g->state));
    if (g->protocol_type.len >= 0)
        out->protocol_type = arena_str(arena, bstr(&g->protocol_type), &ok);
    bool stable = g->state == OD_GC_STABLE;
    if (stable && g->protocol_name.len >= 0)
        out->protocol_data = arena_str(arena, bstr(&g->protocol_name), &ok);
    out->members = od_arena_calloc(arena, count_or_one(g->member_count),
                                   sizeof *out->members);
    if (!out->members)
        return -1;
    out->member_count = g->member_count;
    for (int32_t i = 0; i < g->member_count; i++) {
        const gmember *m = g->members[i];
        od_gc_member_summary *s = &out->members[i];
        s->member_id = arena_str(arena, bstr(&m->id), &ok);
        s->group_instance_id = arena_str(arena, bstr(&m->instance_id), &ok);
        s->client_id = arena_str(arena, bstr(&m->client_id), &ok);
        s->client_host = arena_str(arena, bstr(&m->client_host), &ok);
        s->metadata = (od_bytes){(const uint8_t *)"", 0};
        s->assignment = (od_bytes){(const uint8_t *)"", 0};
        if (stable) {
            const gbuf *md = member_metadata(m, &g->protocol_name);
            if (md)
                s->metadata = arena_bytes(arena, bbytes(md), &ok);
            if (m->assignment.len > 0)
                s->assignment = arena_bytes(arena, bbytes(&m->assignment), &ok);
        }
    }
    return ok ? 0 : -1;
}

static bool str_ieq(od_str a, const char *b)
{
    size_t n = strlen(b);
    if (a.len < 0 || (size_t)a.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = a.ptr[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

const od_str *od_gc_trim_state_filters(const od_str *states, int32_t count, od_arena *arena)
{
    if (count <= 0)
        return states;
    od_str *out = od_arena_calloc(arena, (size_t)count, sizeof *out);
    if (out == NULL)
        return NULL;
    for (int32_t i = 0; i < count; i++) {
        const char *p = states[i].ptr;
        int32_t len = states[i].len > 0 ? states[i].len : 0;
        while (len > 0 && (unsigned char)p[0] <= ' ') {
            p++;
            len--;
        }
        while (len > 0 && (unsigned char)p[len - 1] <= ' ')
            len--;
        out[i] = states[i].len < 0 ? states[i] : (od_str){p, len};
    }
    return out;
}

int od_gc_list(od_gc *gc, const od_str *states, int32_t state_count, const od_str *types,
               int32_t type_count, od_arena *arena, int16_t *error, od_gc_listed_group **groups,
               int32_t *group_count)
{
    *error = OD_GC_NONE;
    for (int32_t p = 0; p < gc->cfg.offsets_topic_num_partitions; p++)
        if (gc->parts[p] == PART_LOADING)
            *error = OD_GC_COORDINATOR_LOAD_IN_PROGRESS;
    bool type_ok = type_count == 0;
    for (int32_t i = 0; i < type_count; i++)
        type_ok = type_ok || str_ieq(types[i], "classic");
    *groups = NULL;
    *group_count = 0;
    if (!type_ok || gc->group_count == 0)
        return 0;
    od_gc_listed_group *out = od_arena_calloc(arena, gc->group_count, sizeof *out);
    if (!out)
        return -1;
    bool ok = true;
    int32_t n = 0;
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        for (const ggroup *g = gc->buckets[b]; g; g = g->next) {
            if (gc->parts[g->partition] != PART_ACTIVE || g->state == OD_GC_DEAD)
                continue;
            const char *name = od_gc_state_name(g->state);
            bool match = state_count == 0;
            for (int32_t i = 0; i < state_count && !match; i++)
                match = str_ieq(states[i], name); /* Kafka lower-cases both sides */
            if (!match)
                continue;
            out[n].group_id = arena_str(arena, bstr(&g->id), &ok);
            out[n].protocol_type =
                g->protocol_type.len < 0 ? OD_STR_LIT("") : arena_str(arena, bstr(&g->protocol_type), &ok);
            out[n].state = od_str_from_cstr(name);
            out[n].group_type = OD_STR_LIT("classic");
            n++;
        }
    }
    *groups = out;
    *group_count = n;
    return ok ? 0 : -1;
}

/* Kafka's cleanupGroupMetadata for the offsets removed[0..n) of g: one batch
 * of offset tombstones, plus the group's own tombstone when it just died
 * (skipped for generation 0, which never wrote group metadata). */
static int16_t write_tombstones(od_gc *gc, ggroup *g, const goffset *removed, int32_t n,
                                bool group_tombstone)
{
    int32_t total = n + (group_tombstone ? 1 : 0);
    if (total == 0)
        return OD_GC_NONE;
    od_writer *ws = calloc((size_t)total, sizeof *ws);
    od_bytes *keys = calloc((size_t)total, sizeof *keys);
    od_bytes *values = calloc((size_t)total, sizeof *values);
    int16_t err = OD_GC_UNKNOWN_SERVER_ERROR;
    if (ws && keys && values) {
        bool ok = true;
        for (int32_t i = 0; i < total; i++) {
            od_writer_init(&ws[i], 64);
            if (i < n)
                od_gc_write_offset_key(&ws[i], bstr(&g->id), bstr(&removed[i].topic),
                                       removed[i].partition);
            else
                od_gc_write_group_key(&ws[i], bstr(&g->id));
            ok = ok && ws[i].err == OD_WIRE_OK;
            keys[i] = (od_bytes){ws[i].buf, (int32_t)ws[i].len};
            values[i] = OD_BYTES_NULL;
        }
        if (ok)
            err = append_records(gc, g->partition, keys, values, total);
        for (int32_t i = 0; i < total; i++)
            od_writer_free(&ws[i]);
    }
    free(ws);
    free(keys);
    free(values);
    return err;
}

int16_t od_gc_delete_group(od_gc *gc, od_str group_id)
{
    int16_t err = group_status(gc, group_id, false);
    if (err)
        return err;
    ggroup *g = find_group(gc, group_id);
    if (!g || g->state == OD_GC_DEAD)
        return OD_GC_GROUP_ID_NOT_FOUND;
    if (g->state != OD_GC_EMPTY)
        return OD_GC_NON_EMPTY_GROUP;
    set_state(gc, g, OD_GC_DEAD);
    /* Kafka removes the group from memory whether or not the tombstones
     * land (they are cleaned up eventually) and answers NONE. */
    (void)write_tombstones(gc, g, g->offsets, g->offset_count, g->generation > 0);
    destroy_group(gc, g);
    request_wake(gc);
    return OD_GC_NONE;
}

/* ---------------------------------------------------------------- offsets */

static goffset *find_offset(const ggroup *g, od_str topic, int32_t partition, int32_t *index)
{
    for (int32_t i = 0; i < g->offset_count; i++) {
        if (g->offsets[i].partition == partition && beq(&g->offsets[i].topic, topic)) {
            if (index)
                *index = i;
            return &g->offsets[i];
        }
    }
    return NULL;
}

static void remove_offset_at(ggroup *g, int32_t i)
{
    free_offset(&g->offsets[i]);
    memmove(&g->offsets[i], &g->offsets[i + 1],
            (size_t)(g->offset_count - i - 1) * sizeof *g->offsets);
    g->offset_count--;
}

static bool put_offset(ggroup *g, od_str topic, int32_t partition, int64_t offset, int32_t epoch,
                       od_str metadata, int64_t commit_ts, int64_t expire_ts)
{
    goffset *o = find_offset(g, topic, partition, NULL);
    if (!o) {
        if (!grow((void **)&g->offsets, &g->offset_cap, g->offset_count + 1, sizeof *g->offsets))
            return false;
        o = &g->offsets[g->offset_count];
        memset(o, 0, sizeof *o);
        o->topic.len = o->metadata.len = -1;
        if (!bset_str(&o->topic, topic))
            return false;
        g->offset_count++;
    }
    if (!bset_str(&o->metadata, metadata.len < 0 ? OD_STR_LIT("") : metadata))
        return false;
    o->partition = partition;
    o->offset = offset;
    o->leader_epoch = epoch;
    o->commit_ts = commit_ts;
    o->expire_ts = expire_ts;
    return true;
}

/* Kafka's validateOffsetCommit. */
static int16_t validate_commit(const ggroup *g, od_str member_id, od_str instance_id,
                               int32_t generation)
{
    if (g->state == OD_GC_DEAD)
        return OD_GC_COORDINATOR_NOT_AVAILABLE;
    if (generation >= 0 || member_id.len > 0 || instance_id.len >= 0) {
        int16_t err = validate_current_member(g, member_id, instance_id);
        if (err)
            return err;
        if (generation != g->generation)
            return OD_GC_ILLEGAL_GENERATION;
        return OD_GC_NONE;
    }
    /* A "simple" commit (no generation, no member) is only for groups
     * nobody has joined. */
    if (g->state != OD_GC_EMPTY)
        return OD_GC_UNKNOWN_MEMBER_ID;
    return OD_GC_NONE;
}

static void set_all(od_gc_offset_commit *c, int32_t n, int16_t err)
{
    for (int32_t i = 0; i < n; i++)
        c[i].error = err;
}

static bool put_txn_offset(ggroup *g, int64_t producer_id, od_str topic, int32_t partition,
                           int64_t offset, int32_t epoch, od_str metadata, int64_t commit_ts);

/* Kafka's storeOffsets: over-long metadata is refused per partition, the
 * rest is written in one batch and applied when the write succeeds. With
 * producer_id >= 0 (TxnOffsetCommit) the batch is the producer's
 * transactional batch and the offsets stay pending until its marker. */
static void store_offsets_as(od_gc *gc, ggroup *g, int64_t retention_ms, od_gc_offset_commit *c,
                             int32_t n, int64_t producer_id, int16_t producer_epoch)
{
    int64_t t = now(gc);
    int32_t valid = 0;
    for (int32_t i = 0; i < n; i++) {
        c[i].error = OD_GC_NONE;
        if (c[i].metadata.len >= 0 &&
            od_java_utf16_length(c[i].metadata) > gc->cfg.offset_metadata_max_bytes)
            c[i].error = OD_GC_OFFSET_METADATA_TOO_LARGE;
        else
            valid++;
    }
    if (valid == 0)
        return;
    int64_t expire = retention_ms >= 0 ? t + retention_ms : -1;
    od_writer *ws = calloc((size_t)valid * 2, sizeof *ws);
    od_bytes *keys = calloc((size_t)valid, sizeof *keys);
    od_bytes *values = calloc((size_t)valid, sizeof *values);
    int16_t err = OD_GC_UNKNOWN_SERVER_ERROR;
    if (ws && keys && values) {
        bool ok = true;
        int32_t k = 0;
        for (int32_t i = 0; i < n; i++) {
            if (c[i].error)
                continue;
            int64_t ts = c[i].commit_timestamp == -1 ? t : c[i].commit_timestamp;
            od_writer_init(&ws[2 * k], 64);
            od_writer_init(&ws[2 * k + 1], 64);
            od_gc_write_offset_key(&ws[2 * k], bstr(&g->id), c[i].topic, c[i].partition);
            od_gc_write_offset_value(&ws[2 * k + 1], c[i].offset, c[i].leader_epoch, c[i].metadata,
                                     ts, expire);
            ok = ok && ws[2 * k].err == OD_WIRE_OK && ws[2 * k + 1].err == OD_WIRE_OK;
            keys[k] = (od_bytes){ws[2 * k].buf, (int32_t)ws[2 * k].len};
            values[k] = (od_bytes){ws[2 * k + 1].buf, (int32_t)ws[2 * k + 1].len};
            k++;
        }
        od_batch_params params = OD_BATCH_PARAMS_INIT;
        if (producer_id >= 0) {
            /* Kafka's coordinator appends skip sequence checks; the batch
             * carries no sequence (-1) so storage checks only the epoch. */
            params.producer_id = producer_id;
            params.producer_epoch = producer_epoch;
            params.transactional = true;
        }
        if (ok)
            err = map_offset_append_error(append_batch(gc, g->partition, keys, values, valid, &params));
        for (int32_t i = 0; i < 2 * valid; i++)
            od_writer_free(&ws[i]);
    }
    free(ws);
    free(keys);
    free(values);
    for (int32_t i = 0; i < n; i++) {
        if (c[i].error)
            continue;
        if (err == OD_GC_NONE && g->state != OD_GC_DEAD) {
            int64_t ts = c[i].commit_timestamp == -1 ? t : c[i].commit_timestamp;
            bool put = producer_id >= 0
                           ? put_txn_offset(g, producer_id, c[i].topic, c[i].partition, c[i].offset,
                                            c[i].leader_epoch, c[i].metadata, ts)
                           : put_offset(g, c[i].topic, c[i].partition, c[i].offset, c[i].leader_epoch,
                                        c[i].metadata, ts, expire);
            if (!put)
                c[i].error = OD_GC_UNKNOWN_SERVER_ERROR;
        } else {
            c[i].error = err;
        }
    }
}

static void store_offsets(od_gc *gc, ggroup *g, int64_t retention_ms, od_gc_offset_commit *c,
                          int32_t n)
{
    store_offsets_as(gc, g, retention_ms, c, n, -1, -1);
}

int od_gc_commit_offsets(od_gc *gc, od_str group_id, od_str member_id, od_str group_instance_id,
                         int32_t generation_id, int64_t retention_ms, od_gc_offset_commit *commits,
                         int32_t count)
{
    int16_t err = group_status(gc, group_id, false);
    if (err) {
        set_all(commits, count, err);
        return 0;
    }
    ggroup *g = find_group(gc, group_id);
    if (!g) {
        if (generation_id >= 0) {
            /* A generation from a coordinator that no longer knows the group. */
            set_all(commits, count, OD_GC_ILLEGAL_GENERATION);
            return 0;
        }
        g = create_group(gc, group_id);
        if (!g) {
            set_all(commits, count, OD_GC_UNKNOWN_SERVER_ERROR);
            return 0;
        }
    }
    err = validate_commit(g, member_id, group_instance_id, generation_id);
    if (err) {
        set_all(commits, count, err);
        return 0;
    }
    switch (g->state) {
    case OD_GC_EMPTY:
        store_offsets(gc, g, retention_ms, commits, count);
        break;
    case OD_GC_STABLE:
    case OD_GC_PREPARING_REBALANCE:
        /* A commit during PreparingRebalance is allowed: the heartbeat
         * tells the member about the rebalance. It also counts as one. */
        schedule_heartbeat(gc, find_member(g, member_id, NULL));
        store_offsets(gc, g, retention_ms, commits, count);
        break;
    default:
        set_all(commits, count, OD_GC_REBALANCE_IN_PROGRESS);
        break;
    }
    request_wake(gc);
    return 0;
}

/* ---------------------------------------------------------------- transactional offsets */

static gtxn_offset *find_txn_offset(const ggroup *g, int64_t producer_id, od_str topic,
                                    int32_t partition)
{
    for (int32_t i = 0; i < g->txn_offset_count; i++) {
        gtxn_offset *t = &g->txn_offsets[i];
        if (t->producer_id == producer_id && t->o.partition == partition && beq(&t->o.topic, topic))
            return t;
    }
    return NULL;
}

static bool put_txn_offset(ggroup *g, int64_t producer_id, od_str topic, int32_t partition,
                           int64_t offset, int32_t epoch, od_str metadata, int64_t commit_ts)
{
    gtxn_offset *t = find_txn_offset(g, producer_id, topic, partition);
    if (!t) {
        if (!grow((void **)&g->txn_offsets, &g->txn_offset_cap, g->txn_offset_count + 1,
                  sizeof *g->txn_offsets))
            return false;
        t = &g->txn_offsets[g->txn_offset_count];
        memset(t, 0, sizeof *t);
        t->producer_id = producer_id;
        t->o.topic.len = t->o.metadata.len = -1;
        if (!bset_str(&t->o.topic, topic))
            return false;
        g->txn_offset_count++;
    }
    if (!bset_str(&t->o.metadata, metadata.len < 0 ? OD_STR_LIT("") : metadata))
        return false;
    t->o.partition = partition;
    t->o.offset = offset;
    t->o.leader_epoch = epoch;
    t->o.commit_ts = commit_ts;
    t->o.expire_ts = -1;
    return true;
}

static bool has_pending_txn_offset(const ggroup *g, od_str topic, int32_t partition)
{
    for (int32_t i = 0; i < g->txn_offset_count; i++)
        if (g->txn_offsets[i].o.partition == partition && beq(&g->txn_offsets[i].o.topic, topic))
            return true;
    return false;
}

int od_gc_txn_commit_offsets(od_gc *gc, od_str group_id, int64_t producer_id,
                             int16_t producer_epoch, od_str member_id, od_str group_instance_id,
                             int32_t generation_id, od_gc_offset_commit *commits, int32_t count)
{
    int16_t err = group_status(gc, group_id, false);
    if (err) {
        set_all(commits, count, err);
        return 0;
    }
    ggroup *g = find_group(gc, group_id);
    if (!g && !(g = create_group(gc, group_id))) {
        set_all(commits, count, OD_GC_UNKNOWN_SERVER_ERROR);
        return 0;
    }
    /* Kafka's doTxnCommitOffsets checks. */
    if (g->state == OD_GC_DEAD)
        err = OD_GC_COORDINATOR_NOT_AVAILABLE;
    else if (group_instance_id.len >= 0 && static_member(g, group_instance_id) &&
             !beq(&static_member(g, group_instance_id)->id, member_id))
        err = OD_GC_FENCED_INSTANCE_ID;
    else if (member_id.len > 0 && !find_member(g, member_id, NULL))
        err = OD_GC_UNKNOWN_MEMBER_ID;
    else if (generation_id >= 0 && generation_id != g->generation)
        err = OD_GC_ILLEGAL_GENERATION;
    if (err) {
        set_all(commits, count, err);
        return 0;
    }
    store_offsets_as(gc, g, -1, commits, count, producer_id, producer_epoch);
    request_wake(gc);
    return 0;
}

/* Moves (commit) or drops (abort) the producer's pending offsets of one
 * group. */
static bool complete_group_txn(ggroup *g, int64_t producer_id, bool commit)
{
    bool ok = true;
    int32_t w = 0;
    for (int32_t i = 0; i < g->txn_offset_count; i++) {
        gtxn_offset *t = &g->txn_offsets[i];
        if (t->producer_id != producer_id) {
            g->txn_offsets[w++] = *t;
            continue;
        }
        if (commit)
            ok = put_offset(g, bstr(&t->o.topic), t->o.partition, t->o.offset, t->o.leader_epoch,
                            bstr(&t->o.metadata), t->o.commit_ts, -1) && ok;
        free_offset(&t->o);
    }
    g->txn_offset_count = w;
    return ok;
}

void od_gc_complete_txn(od_gc *gc, int32_t partition, int64_t producer_id, bool commit)
{
    for (size_t b = 0; b < GROUP_BUCKETS; b++)
        for (ggroup *g = gc->buckets[b]; g; g = g->next)
            if (g->partition == partition && g->txn_offset_count > 0)
                complete_group_txn(g, producer_id, commit);
}

static void fetch_one(const ggroup *g, od_gc_offset_fetch *f)
{
    f->offset = -1;
    f->leader_epoch = -1;
    f->metadata = OD_STR_LIT("");
    f->error = OD_GC_NONE;
    if (!g || g->state == OD_GC_DEAD)
        return;
    const goffset *o = find_offset(g, f->topic, f->partition, NULL);
    if (!o)
        return;
    f->offset = o->offset;
    f->leader_epoch = o->leader_epoch;
    f->metadata = bstr(&o->metadata);
}

int16_t od_gc_fetch_offsets(od_gc *gc, od_str group_id, bool require_stable,
                            od_gc_offset_fetch *parts, int32_t count, bool all, od_arena *arena,
                            od_gc_offset_fetch **all_out, int32_t *all_count)
{
    int16_t err = group_status(gc, group_id, false);
    if (all) {
        *all_out = NULL;
        *all_count = 0;
    }
    if (err)
        return err;
    const ggroup *g = find_group(gc, group_id);
    if (!all) {
        for (int32_t i = 0; i < count; i++) {
            fetch_one(g, &parts[i]);
            /* KIP-447: a partition with a transactional commit in flight
             * has no stable offset yet. */
            if (require_stable && g && has_pending_txn_offset(g, parts[i].topic, parts[i].partition)) {
                parts[i].offset = -1;
                parts[i].error = OD_GC_UNSTABLE_OFFSET_COMMIT;
            }
            bool ok = true;
            parts[i].metadata = arena_str(arena, parts[i].metadata, &ok);
            if (!ok)
                return OD_GC_UNKNOWN_SERVER_ERROR;
        }
        return OD_GC_NONE;
    }
    if (!g || g->state == OD_GC_DEAD || g->offset_count == 0)
        return OD_GC_NONE;
    od_gc_offset_fetch *out = od_arena_calloc(arena, (size_t)g->offset_count, sizeof *out);
    if (!out)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    bool ok = true;
    for (int32_t i = 0; i < g->offset_count; i++) {
        const goffset *o = &g->offsets[i];
        out[i].topic = arena_str(arena, bstr(&o->topic), &ok);
        out[i].partition = o->partition;
        out[i].offset = o->offset;
        out[i].leader_epoch = o->leader_epoch;
        out[i].metadata = arena_str(arena, bstr(&o->metadata), &ok);
        out[i].error = OD_GC_NONE;
    }
    *all_out = out;
    *all_count = g->offset_count;
    return ok ? OD_GC_NONE : OD_GC_UNKNOWN_SERVER_ERROR;
}

int16_t od_gc_delete_offsets(od_gc *gc, od_str group_id, od_gc_offset_delete *parts,
                             int32_t count)
{
    int16_t err = group_status(gc, group_id, false);
    if (err)
        return err;
    ggroup *g = find_group(gc, group_id);
    if (!g || g->state == OD_GC_DEAD)
        return OD_GC_GROUP_ID_NOT_FOUND;
    bool consumer = beq(&g->protocol_type, OD_STR_LIT("consumer"));
    if (g->state != OD_GC_EMPTY && !consumer)
        return OD_GC_NON_EMPTY_GROUP;
    goffset *removed = calloc(count_or_one(count), sizeof *removed);
    if (!removed)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    int32_t n = 0;
    for (int32_t i = 0; i < count; i++) {
        if (g->state != OD_GC_EMPTY && is_subscribed(g, parts[i].topic)) {
            parts[i].error = OD_GC_GROUP_SUBSCRIBED_TO_TOPIC;
            continue;
        }
        parts[i].error = OD_GC_NONE;
        int32_t idx;
        if (find_offset(g, parts[i].topic, parts[i].partition, &idx)) {
            removed[n++] = g->offsets[idx]; /* takes the strings */
            memmove(&g->offsets[idx], &g->offsets[idx + 1],
                    (size_t)(g->offset_count - idx - 1) * sizeof *g->offsets);
            g->offset_count--;
        }
    }
    (void)write_tombstones(gc, g, removed, n, false);
    for (int32_t i = 0; i < n; i++)
        free_offset(&removed[i]);
    free(removed);
    return OD_GC_NONE;
}

/* ---------------------------------------------------------------- expiry */

/* Kafka's removeExpiredOffsets: which clock an offset's age is measured
 * from depends on the group (see the cases). */
static void expire_offsets(od_gc *gc, ggroup *g, int64_t t)
{
    int mode; /* 0 none, 1 empty group, 2 stable consumer, 3 simple */
    if (g->protocol_type.len >= 0 && g->state == OD_GC_EMPTY)
        mode = 1; /* since the group emptied (or the commit, for old records) */
    else if (beq(&g->protocol_type, OD_STR_LIT("consumer")) && g->subscribed_known &&
             g->state == OD_GC_STABLE)
        mode = 2; /* unsubscribed topics, since their commit */
    else if (g->protocol_type.len < 0)
        mode = 3; /* offsets-only group, since the commit */
    else
        mode = 0;
    goffset *removed = NULL;
    int32_t n = 0;
    if (mode) {
        removed = calloc(count_or_one(g->offset_count), sizeof *removed);
        if (!removed)
            return;
        for (int32_t i = 0; i < g->offset_count;) {
            goffset *o = &g->offsets[i];
            bool expired;
            if (mode == 2 && is_subscribed(g, bstr(&o->topic)))
                expired = false;
            else if (o->expire_ts >= 0)
                expired = t >= o->expire_ts;
            else {
                int64_t base = mode == 1 && g->state_ts >= 0 ? g->state_ts : o->commit_ts;
                expired = t - base >= gc->cfg.offsets_retention_ms;
            }
            if (expired) {
                removed[n++] = *o;
                memmove(&g->offsets[i], &g->offsets[i + 1],
                        (size_t)(g->offset_count - i - 1) * sizeof *g->offsets);
                g->offset_count--;
            } else {
                i++;
            }
        }
    }
    bool dies = g->state == OD_GC_EMPTY && g->offset_count == 0;
    if (dies)
        set_state(gc, g, OD_GC_DEAD);
    (void)write_tombstones(gc, g, removed, n, dies && g->generation > 0);
    for (int32_t i = 0; i < n; i++)
        free_offset(&removed[i]);
    free(removed);
    if (dies)
        destroy_group(gc, g);
}

static void expire_all_offsets(od_gc *gc, int64_t t)
{
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        ggroup *g = gc->buckets[b];
        while (g) {
            ggroup *next = g->next;
            if (gc->parts[g->partition] == PART_ACTIVE)
                expire_offsets(gc, g, t);
            g = next;
        }
    }
}

/* Kafka's onExpireHeartbeat for a member. */
static void heartbeat_expired(od_gc *gc, ggroup *g, gmember *m)
{
    m->hb_deadline = -1;
    /* A member in a rebalance (other than a brand-new one) is covered by the
     * rebalance; a leaving member is already gone. */
    bool satisfied = m->is_leaving || (!m->is_new && (m->join_done || m->sync_done));
    if (!satisfied)
        remove_member_and_update(gc, g, m);
}

/* Kafka's InitialDelayedJoin / DelayedJoin expiry. */
static void join_timer_fired(od_gc *gc, ggroup *g)
{
    if (g->join_kind == JOIN_INITIAL && g->new_member_added && g->initial_remaining != 0) {
        g->new_member_added = false;
        int32_t delay = g->initial_configured_delay < g->initial_remaining
                            ? g->initial_configured_delay
                            : g->initial_remaining;
        int32_t remaining = g->initial_remaining - g->initial_delay;
        g->initial_delay = delay;
        g->initial_remaining = remaining > 0 ? remaining : 0;
        g->join_deadline = arm(gc, now(gc) + delay);
        return;
    }
    complete_join(gc, g);
}

/* Kafka's onExpirePendingSync: members that never sent SyncGroup are
 * dropped and the group rebalances without them. */
static void sync_timer_fired(od_gc *gc, ggroup *g)
{
    g->sync_deadline = -1;
    if (g->sync_generation != g->generation ||
        (g->state != OD_GC_COMPLETING_REBALANCE && g->state != OD_GC_STABLE) ||
        g->pending_sync_count == 0)
        return;
    for (int32_t i = 0; i < g->member_count;) {
        gmember *m = g->members[i];
        if (m->pending_sync) {
            join_error_member(g, m, OD_GC_UNKNOWN_MEMBER_ID, OD_STR_LIT(""));
            remove_member(g, m);
        } else {
            i++;
        }
    }
    maybe_prepare_rebalance(gc, g);
}

/* Fires the earliest due timer of one group; returns whether one fired. */
static bool fire_one(od_gc *gc, ggroup *g, int64_t t)
{
    int64_t best = -1;
    int kind = 0;
    gmember *bm = NULL;
    int32_t bp = -1;
    if (g->join_deadline >= 0 && g->join_deadline <= t) {
        best = g->join_deadline;
        kind = 1;
    }
    if (g->sync_deadline >= 0 && g->sync_deadline <= t && (best < 0 || g->sync_deadline < best)) {
        best = g->sync_deadline;
        kind = 2;
    }
    for (int32_t i = 0; i < g->member_count; i++) {
        int64_t d = g->members[i]->hb_deadline;
        if (d >= 0 && d <= t && (best < 0 || d < best)) {
            best = d;
            kind = 3;
            bm = g->members[i];
        }
    }
    for (int32_t i = 0; i < g->pending_count; i++) {
        int64_t d = g->pending[i].deadline;
        if (d >= 0 && d <= t && (best < 0 || d < best)) {
            best = d;
            kind = 4;
            bp = i;
        }
    }
    switch (kind) {
    case 1:
        g->join_deadline = -1;
        join_timer_fired(gc, g);
        return true;
    case 2:
        sync_timer_fired(gc, g);
        return true;
    case 3:
        heartbeat_expired(gc, g, bm);
        return true;
    case 4:
        /* Kafka's removePendingMemberAndUpdateGroup. */
        remove_pending(g, bp);
        maybe_complete_join(gc, g);
        return true;
    default:
        return false;
    }
}

void od_gc_tick(od_gc *gc)
{
    int64_t t = now(gc);
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        for (ggroup *g = gc->buckets[b]; g; g = g->next) {
            /* A timer re-armed at "now" (a zero delay or timeout) waits for
             * the next tick, so one tick always ends (as od_loop's timers). */
            int32_t budget = 2 * (g->member_count + g->pending_count) + 4;
            while (budget-- > 0 && gc->parts[g->partition] == PART_ACTIVE && fire_one(gc, g, t)) {
            }
        }
    }
    if (gc->retention_deadline >= 0 && gc->retention_deadline <= t) {
        expire_all_offsets(gc, t);
        gc->retention_deadline = arm(gc, t + gc->cfg.offsets_retention_check_interval_ms);
    }
    /* The one full scan: whatever the broker was asked for has now passed. */
    gc->wake.requested_wake = -1;
    gc->wake.armed_min = next_deadline(gc);
    request_wake(gc);
}

/* ---------------------------------------------------------------- lifecycle and loading */

od_gc *od_gc_create(const od_gc_config *config, const od_gc_env *env)
{
    if (config->offsets_topic_num_partitions <= 0)
        return NULL;
    od_gc *gc = calloc(1, sizeof *gc);
    if (!gc)
        return NULL;
    gc->cfg = *config;
    gc->env = *env;
    gc->parts = calloc((size_t)config->offsets_topic_num_partitions, sizeof *gc->parts);
    if (!gc->parts) {
        free(gc);
        return NULL;
    }
    gc->rng = random_seed(config->member_id_seed, gc);
    gc->retention_deadline = -1;
    gc->wake = (group_wake){-1, -1};
    return gc;
}

void od_gc_unload(od_gc *gc, int32_t partition)
{
    if (partition < 0 || partition >= gc->cfg.offsets_topic_num_partitions)
        return;
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        ggroup *g = gc->buckets[b];
        while (g) {
            ggroup *next = g->next;
            if (g->partition == partition) {
                /* Kafka's onGroupUnloaded: waiters go find the new coordinator. */
                set_state(gc, g, OD_GC_DEAD);
                for (int32_t i = 0; i < g->member_count; i++) {
                    join_error_member(g, g->members[i], OD_GC_NOT_COORDINATOR,
                                      bstr(&g->members[i]->id));
                    sync_error_member(g->members[i], OD_GC_NOT_COORDINATOR);
                }
                destroy_group(gc, g);
            }
            g = next;
        }
    }
    gc->parts[partition] = PART_NOT_OWNED;
}

void od_gc_destroy(od_gc *gc)
{
    if (!gc)
        return;
    for (int32_t p = 0; p < gc->cfg.offsets_topic_num_partitions; p++)
        od_gc_unload(gc, p);
    free(gc->parts);
    free(gc);
}

int od_gc_load_begin(od_gc *gc, int32_t partition)
{
    if (partition < 0 || partition >= gc->cfg.offsets_topic_num_partitions)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    od_gc_unload(gc, partition);
    gc->parts[partition] = PART_LOADING;
    return 0;
}

static ggroup *loading_group(od_gc *gc, od_str id)
{
    ggroup *g = find_group(gc, id);
    return g ? g : create_group(gc, id);
}

/* Drops the group's members and metadata (a tombstone, or before a newer
 * GroupMetadata record replaces them); offsets stay. */
static void clear_group_metadata(ggroup *g)
{
    while (g->member_count)
        remove_member(g, g->members[g->member_count - 1]);
    g->generation = 0;
    bfree(&g->protocol_type);
    bfree(&g->protocol_name);
    g->state_ts = -1;
    g->loaded_metadata = false;
}

static bool load_group_value(od_gc *gc, ggroup *g, const od_group_metadata_value *v)
{
    clear_group_metadata(g);
    g->loaded_metadata = true;
    g->generation = v->generation;
    g->state_ts = v->current_state_timestamp;
    if (!bset_str(&g->protocol_type, v->protocol_type) || !bset_str(&g->protocol_name, v->protocol))
        return false;
    for (int32_t i = 0; i < v->members.count; i++) {
        const od_group_metadata_value_member_metadata *mm = &v->members.items[i];
        /* A loaded member supports exactly the group's protocol, with the
         * subscription it was admitted with. */
        od_gc_protocol p = {v->protocol.len < 0 ? OD_STR_LIT("") : v->protocol, mm->subscription};
        od_gc_join_args a = {
            .group_instance_id = mm->group_instance_id,
            .protocols = &p,
            .protocol_count = 1,
            .session_timeout_ms = mm->session_timeout,
            /* Records older than v1 have no rebalance timeout: Kafka uses the
             * session timeout. */
            .rebalance_timeout_ms = mm->rebalance_timeout >= 0 ? mm->rebalance_timeout : mm->session_timeout,
            .client_id = mm->client_id,
            .client_host = mm->client_host,
        };
        gbuf id = {(char *)mm->member_id.ptr, mm->member_id.len};
        gmember *m = new_member(&a, &id);
        if (!m)
            return false;
        if (!bset(&m->assignment, mm->assignment.ptr, mm->assignment.len < 0 ? 0 : mm->assignment.len) ||
            !grow((void **)&g->members, &g->member_cap, g->member_count + 1, sizeof *g->members) ||
            !count_protocols(g, m, +1)) {
            free_member(m);
            return false;
        }
        /* Kafka keeps members in a map by id: a repeated id replaces the
         * earlier entry. */
        int32_t dup;
        gmember *earlier = find_member(g, bstr(&m->id), &dup);
        if (earlier) {
            count_protocols(g, earlier, -1);
            memmove(&g->members[dup], &g->members[dup + 1],
                    (size_t)(g->member_count - dup - 1) * sizeof *g->members);
            g->member_count--;
            if (g->leader == earlier)
                g->leader = NULL;
            free_member(earlier);
        }
        g->members[g->member_count++] = m;
        if (v->leader.len >= 0 && beq(&m->id, v->leader))
            g->leader = m;
    }
    if (!g->leader && g->member_count)
        g->leader = g->members[0];
    (void)gc;
    return true;
}

static int load_record(od_gc *gc, const od_record *rec, od_arena *arena)
{
    od_gc_record_key key;
    if (rec->key.len < 0 || od_gc_read_key(rec->key, arena, &key) != OD_WIRE_OK)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    if (key.kind == OD_GC_KEY_OTHER)
        return 0;
    od_str group = key.kind == OD_GC_KEY_OFFSET ? key.offset.group : key.group.group;
    if (key.kind == OD_GC_KEY_OFFSET) {
        ggroup *g = find_group(gc, group);
        if (rec->value.len < 0) {
            int32_t idx;
            if (g && find_offset(g, key.offset.topic, key.offset.partition, &idx))
                remove_offset_at(g, idx);
            return 0;
        }
        od_offset_commit_value v;
        int16_t version;
        if (od_gc_read_offset_value(rec->value, arena, &v, &version) != OD_WIRE_OK)
            return OD_GC_UNKNOWN_SERVER_ERROR;
        if (!g && !(g = loading_group(gc, group)))
            return OD_GC_UNKNOWN_SERVER_ERROR;
        int64_t expire = version == 1 ? v.expire_timestamp : -1;
        return put_offset(g, key.offset.topic, key.offset.partition, v.offset, v.leader_epoch,
                          v.metadata, v.commit_timestamp, expire)
                   ? 0
                   : OD_GC_UNKNOWN_SERVER_ERROR;
    }
    ggroup *g = find_group(gc, group);
    if (rec->value.len < 0) {
        if (g)
            clear_group_metadata(g);
        return 0;
    }
    od_group_metadata_value v;
    int16_t version;
    if (od_gc_read_group_value(rec->value, arena, &v, &version) != OD_WIRE_OK)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    if (!g && !(g = loading_group(gc, group)))
        return OD_GC_UNKNOWN_SERVER_ERROR;
    return load_group_value(gc, g, &v) ? 0 : OD_GC_UNKNOWN_SERVER_ERROR;
}

/* A record of a transactional offset commit: pending under its producer. */
static int load_txn_record(od_gc *gc, int64_t producer_id, const od_record *rec, od_arena *arena)
{
    od_gc_record_key key;
    if (rec->key.len < 0 || od_gc_read_key(rec->key, arena, &key) != OD_WIRE_OK)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    if (key.kind != OD_GC_KEY_OFFSET || rec->value.len < 0)
        return 0;
    od_offset_commit_value v;
    int16_t version;
    if (od_gc_read_offset_value(rec->value, arena, &v, &version) != OD_WIRE_OK)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    ggroup *g = loading_group(gc, key.offset.group);
    if (!g)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    return put_txn_offset(g, producer_id, key.offset.topic, key.offset.partition, v.offset,
                          v.leader_epoch, v.metadata, v.commit_timestamp)
               ? 0
               : OD_GC_UNKNOWN_SERVER_ERROR;
}

int od_gc_load_batch(od_gc *gc, int32_t partition, const uint8_t *batch, size_t len)
{
    if (partition < 0 || partition >= gc->cfg.offsets_topic_num_partitions ||
        gc->parts[partition] != PART_LOADING)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    od_record_iter it;
    if (od_record_iter_init(&it, batch, len, LOAD_DECOMPRESS_LIMIT) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return OD_GC_UNKNOWN_SERVER_ERROR;
    }
    od_arena arena;
    od_arena_init(&arena);
    int rc = 0;
    od_record rec;
    if (it.header.attributes & OD_BATCH_ATTR_CONTROL) {
        /* A transaction marker: the producer's pending offsets in this
         * partition commit or go. */
        od_control_record cr;
        if (od_record_iter_next(&it, &rec) && od_control_record_parse(&rec, &cr) == OD_BATCH_OK &&
            (cr.type == OD_CONTROL_COMMIT || cr.type == OD_CONTROL_ABORT))
            od_gc_complete_txn(gc, partition, it.header.producer_id, cr.type == OD_CONTROL_COMMIT);
    } else if (it.header.attributes & OD_BATCH_ATTR_TRANSACTIONAL) {
        while (rc == 0 && od_record_iter_next(&it, &rec))
            rc = load_txn_record(gc, it.header.producer_id, &rec, &arena);
    } else {
        while (rc == 0 && od_record_iter_next(&it, &rec))
            rc = load_record(gc, &rec, &arena);
    }
    if (rc == 0 && it.err != OD_BATCH_OK)
        rc = OD_GC_UNKNOWN_SERVER_ERROR;
    od_record_iter_finish(&it);
    od_arena_release(&arena);
    return rc;
}

int od_gc_load_finish(od_gc *gc, int32_t partition)
{
    if (partition < 0 || partition >= gc->cfg.offsets_topic_num_partitions ||
        gc->parts[partition] != PART_LOADING)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        ggroup *g = gc->buckets[b];
        while (g) {
            ggroup *next = g->next;
            if (g->partition == partition) {
                if (!g->loaded_metadata && g->offset_count == 0) {
                    destroy_group(gc, g);
                } else {
                    if (!g->loaded_metadata)
                        g->state_ts = now(gc); /* an offsets-only group is new here */
                    /* Kafka's loadGroup: members mean Stable, none Empty. */
                    g->state = g->member_count ? OD_GC_STABLE : OD_GC_EMPTY;
                    compute_subscribed(g);
                    /* Kafka's onGroupLoaded: every member gets a session. */
                    for (int32_t i = 0; i < g->member_count; i++)
                        schedule_heartbeat(gc, g->members[i]);
                    if (g->member_count > gc->cfg.group_max_size)
                        prepare_rebalance(gc, g);
                }
            }
            g = next;
        }
    }
    gc->parts[partition] = PART_ACTIVE;
    if (gc->retention_deadline < 0)
        gc->retention_deadline = arm(gc, now(gc) + gc->cfg.offsets_retention_check_interval_ms);
    request_wake(gc);
    return 0;
}

/* ---------------------------------------------------------------- inspection */

bool od_gc_group_info(const od_gc *gc, od_str group_id, od_gc_state *state, int32_t *generation,
                      od_str *leader, int32_t *member_count)
{
    const ggroup *g = find_group(gc, group_id);
    if (!g)
        return false;
    if (state)
        *state = g->state;
    if (generation)
        *generation = g->generation;
    if (leader)
        *leader = g->leader ? bstr(&g->leader->id) : OD_STR_NULL;
    if (member_count)
        *member_count = g->member_count;
    return true;
}

size_t od_gc_group_count(const od_gc *gc)
{
    return gc->group_count;
}

/* ---------------------------------------------------------------- KIP-848 migration */

int od_gc_group_export(const od_gc *gc, od_str group_id, od_arena *arena, od_gc_exported_group *out)
{
    const ggroup *g = find_group(gc, group_id);
    memset(out, 0, sizeof *out);
    if (!g)
        return 0;
    out->exists = true;
    out->state = g->state;
    out->generation = g->generation;
    bool ok = true;
    out->protocol_type = arena_str(arena, bstr(&g->protocol_type), &ok);
    out->protocol_name = arena_str(arena, bstr(&g->protocol_name), &ok);
    out->member_count = g->member_count;
    out->members = od_arena_calloc(arena, count_or_one(g->member_count), sizeof *out->members);
    if (!out->members)
        return -1;
    for (int32_t i = 0; i < g->member_count; i++) {
        const gmember *m = g->members[i];
        od_gc_exported_member *x = &out->members[i];
        x->member_id = arena_str(arena, bstr(&m->id), &ok);
        x->group_instance_id = arena_str(arena, bstr(&m->instance_id), &ok);
        x->client_id = arena_str(arena, bstr(&m->client_id), &ok);
        x->client_host = arena_str(arena, bstr(&m->client_host), &ok);
        x->session_timeout_ms = m->session_timeout_ms;
        x->rebalance_timeout_ms = m->rebalance_timeout_ms;
        x->assignment = arena_bytes(arena, bbytes(&m->assignment), &ok);
        x->protocol_count = m->protocol_count;
        x->protocols = od_arena_calloc(arena, count_or_one(m->protocol_count), sizeof *x->protocols);
        if (!x->protocols)
            return -1;
        for (int32_t p = 0; p < m->protocol_count; p++)
            x->protocols[p] = (od_gc_protocol){arena_str(arena, bstr(&m->protocols[p].name), &ok),
                                               arena_bytes(arena, bbytes(&m->protocols[p].metadata), &ok)};
    }
    return ok ? 0 : -1;
}

void od_gc_release_group(od_gc *gc, od_str group_id)
{
    ggroup *g = find_group(gc, group_id);
    if (!g)
        return;
    /* Kafka's convertToConsumerGroup: whoever waits in a JoinGroup or a
     * SyncGroup rejoins, now into the consumer group. */
    for (int32_t i = 0; i < g->member_count; i++) {
        gmember *m = g->members[i];
        if (m->join_done)
            join_error_member(g, m, OD_GC_REBALANCE_IN_PROGRESS, bstr(&m->id));
        if (m->sync_done)
            sync_error_member(m, OD_GC_REBALANCE_IN_PROGRESS);
    }
    clear_pending_sync(g);
    while (g->pending_count)
        remove_pending(g, g->pending_count - 1);
    clear_group_metadata(g);
    g->join_kind = JOIN_NONE;
    g->join_deadline = -1;
    set_state(gc, g, OD_GC_EMPTY);
    clear_subscribed(g);
    if (g->offset_count == 0 && g->txn_offset_count == 0)
        destroy_group(gc, g);
}

int od_gc_adopt_group(od_gc *gc, od_str group_id, od_bytes value)
{
    int32_t p = od_gc_partition_for(gc, group_id);
    if (gc->parts[p] != PART_ACTIVE)
        return OD_GC_NOT_COORDINATOR;
    od_arena arena;
    od_arena_init(&arena);
    od_group_metadata_value v;
    int16_t version;
    int rc = OD_GC_UNKNOWN_SERVER_ERROR;
    ggroup *g = NULL;
    if (od_gc_read_group_value(value, &arena, &v, &version) == OD_WIRE_OK &&
        (g = loading_group(gc, group_id)) != NULL && load_group_value(gc, g, &v)) {
        /* As a loaded group (Stable, every member a session), then Kafka's
         * prepareRebalance after a downgrade: every member rejoins. */
        set_state(gc, g, g->member_count ? OD_GC_STABLE : OD_GC_EMPTY);
        compute_subscribed(g);
        for (int32_t i = 0; i < g->member_count; i++)
            schedule_heartbeat(gc, g->members[i]);
        if (g->member_count)
            prepare_rebalance(gc, g);
        rc = 0;
    }
    od_arena_release(&arena);
    request_wake(gc);
    return rc;
}
