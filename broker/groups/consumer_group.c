/*
 * The KIP-848 consumer-group coordinator: Kafka 3.9's consumerGroupHeartbeat
 * (GroupMetadataManager), the CurrentAssignmentBuilder reconciliation and
 * the server-side assignors, over the invariants and state machine drawn in
 * consumer_group.h (1-5 there).
 *
 * Internal invariants:
 *   6. Every operation works in three steps: compute (read the state, build
 *      the records in an arena), append (one batch), replay (the records,
 *      through replay_record, which load uses too). Nothing between compute
 *      and replay writes the state; timers, which Kafka does not persist,
 *      are armed only after the append succeeded.
 *   7. A partition set (tpset) is sorted by (topic id bytes, partition) and
 *      holds no duplicate, so equality is a memcmp and set operations are
 *      merges.
 *   8. Each timer is a deadline (-1 = disarmed) in its member; od_cg_tick
 *      fires the due ones; every deadline is armed through arm().
 *   9. A group is in the table from its first record (or first successful
 *      heartbeat) until its ConsumerGroupMetadata tombstone or its
 *      partition's unload.
 *  10. A member is classic (JoinGroup) iff its member record carries
 *      ClassicMemberMetadata; a ConsumerGroupHeartbeat rewrites the record
 *      without it, a JoinGroup with it. A classic member's generation is
 *      its member epoch and its session its JoinGroup's session timeout.
 *  11. A conversion is one batch: the old type's records tombstoned and the
 *      new type's written, then each coordinator's memory follows (replay
 *      here; od_gc_release_group / od_gc_adopt_group there), so a reload
 *      finds the group under exactly one type.
 *
 * Heartbeat flow (Kafka's consumerGroupHeartbeat):
 *   validate request -> find/create group -> find/create member (fencing
 *   checks) -> updated subscription (member record) -> subscription
 *   metadata and group epoch (bump) -> target assignment when
 *   group_epoch > assignment_epoch -> reconcile the member -> append ->
 *   replay -> session timer (and rebalance timer while revoking).
 */
#include "consumer_group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "group_records.h"
#include "group_util.h"
#include "od_regex.h"
#include "records/batch_builder.h"
#include "records/records.h"

enum { GROUP_BUCKETS = 256 };
enum { LOAD_DECOMPRESS_LIMIT = 64 * 1024 * 1024 };
/* A timer whose fencing append failed tries again after this long. */
enum { RETRY_MS = 1000 };

/* Record key versions of consumer groups (KIP-848). */
enum {
    KEY_GROUP_EPOCH = 3,
    KEY_PARTITION_METADATA = 4,
    KEY_MEMBER = 5,
    KEY_TARGET_METADATA = 6,
    KEY_TARGET_MEMBER = 7,
    KEY_CURRENT_ASSIGNMENT = 8,
};

/* Invariant 7. Owned (malloc) in the state, arena-backed in computations. */
typedef struct tpset {
    od_cg_tp *v;
    int32_t n;
} tpset;

/* One protocol a classic member supports (JoinGroup's name and metadata):
 * owned copies in a member, views in a subscription. */
typedef struct cproto {
    od_str name;
    od_bytes metadata;
} cproto;

typedef struct cmember {
    gbuf id;
    gbuf instance_id;
    gbuf rack_id;
    gbuf client_id;
    gbuf client_host;
    gbuf regex;
    gbuf assignor;
    gbuf *topics;
    int32_t topic_count;
    int32_t rebalance_timeout_ms;
    bool has_subscription;       /* a member record is in effect */
    int32_t epoch;
    int32_t prev_epoch;
    int8_t state;
    tpset assigned;
    tpset pending;               /* pending revocation */
    bool has_target;
    tpset target;
    int64_t session_deadline;    /* invariant 8 */
    int64_t rebalance_deadline;
    int32_t rebalance_epoch;     /* the epoch the rebalance timer was armed for */
    /* Kafka's ClassicMemberMetadata: set for a member that joined with
     * JoinGroup (invariant 10). */
    bool classic;
    int32_t classic_session_timeout_ms;
    cproto *protocols;
    int32_t protocol_count;
    /* Kafka's consumer-group sync and join timeouts of a classic member:
     * SyncGroup due after its JoinGroup, JoinGroup due after it was told
     * REBALANCE_IN_PROGRESS; the member is fenced when it passes. */
    int64_t classic_deadline;
} cmember;

typedef struct topicmeta {
    od_uuid id;
    gbuf name;
    int32_t partitions;
} topicmeta;

typedef struct cgroup {
    struct cgroup *next;
    gbuf id;
    int32_t partition;
    int32_t group_epoch;
    int32_t assignment_epoch;
    cmember **members;
    int32_t member_count, member_cap;
    topicmeta *meta;             /* subscription metadata, sorted by name */
    int32_t meta_count;
    bool refresh_metadata;
} cgroup;

typedef enum part_state {
    PART_NOT_OWNED,
    PART_LOADING,
    PART_ACTIVE,
} part_state;

/* Compiled SubscribedTopicRegex patterns (od_regex, RE2/J's syntax), by
 * pattern: a regex is compiled once, not per topic or per heartbeat. A
 * pattern od_regex refuses is kept with re == NULL and matches nothing
 * (one loaded from an older log). Owned by the od_cg's thread; reached
 * through a pointer so that const lookups may fill it. */
#define REGEX_CACHE_SIZE 16
typedef struct regex_cache {
    struct {
        char *pattern;
        int32_t len;
        od_regex *re;
    } slot[REGEX_CACHE_SIZE];
    int32_t next_victim;
} regex_cache;

struct od_cg {
    od_cg_config cfg;
    regex_cache *regexes;
    od_gc_env env;
    cgroup *buckets[GROUP_BUCKETS];
    part_state *parts;
    topicmeta *topics;           /* the cluster's topics, sorted by name */
    int32_t topic_count;
    bool topics_known;           /* od_cg_set_topics was called */
    uint64_t rng;
    group_wake wake;
    od_gc *classic;              /* for the conversions; NULL: none */
};

/* ---------------------------------------------------------------- small helpers */

static bool str_eq(od_str a, od_str b)
{
    if (a.len < 0 || b.len < 0)
        return a.len == b.len;
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

static od_str arena_str(od_arena *a, od_str s)
{
    if (s.len <= 0)
        return s;
    char *p = od_arena_alloc(a, (size_t)s.len);
    if (!p)
        return OD_STR_NULL;
    memcpy(p, s.ptr, (size_t)s.len);
    return (od_str){p, s.len};
}

static int64_t now(const od_cg *cg)
{
    return cg->env.now_ms(cg->env.ctx);
}

static int uuid_cmp(const od_uuid *a, const od_uuid *b)
{
    return memcmp(a->bytes, b->bytes, 16);
}

static int tp_cmp(const void *pa, const void *pb)
{
    const od_cg_tp *a = pa, *b = pb;
    int c = uuid_cmp(&a->topic_id, &b->topic_id);
    if (c)
        return c;
    return (a->partition > b->partition) - (a->partition < b->partition);
}

static bool tpset_eq(const tpset *a, const tpset *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, (size_t)a->n * sizeof *a->v) == 0);
}

static bool tpset_has(const tpset *s, const od_cg_tp *tp)
{
    int32_t lo = 0, hi = s->n - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = tp_cmp(&s->v[mid], tp);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return false;
}

/* Sorts and removes duplicates in place (invariant 7). */
static void tpset_normalize(tpset *s)
{
    if (s->n <= 1)
        return;
    qsort(s->v, (size_t)s->n, sizeof *s->v, tp_cmp);
    int32_t w = 1;
    for (int32_t i = 1; i < s->n; i++)
        if (tp_cmp(&s->v[i], &s->v[w - 1]) != 0)
            s->v[w++] = s->v[i];
    s->n = w;
}

static tpset tpset_arena(od_arena *a, int32_t cap)
{
    tpset s = {od_arena_alloc(a, (size_t)(cap > 0 ? cap : 1) * sizeof(od_cg_tp)), 0};
    return s;
}

/* a ∩ b (inter) or a − b (!inter), into arena. */
static tpset tpset_op(od_arena *a, const tpset *x, const tpset *y, bool inter)
{
    tpset out = tpset_arena(a, x->n);
    if (!out.v)
        return out;
    for (int32_t i = 0; i < x->n; i++)
        if (tpset_has(y, &x->v[i]) == inter)
            out.v[out.n++] = x->v[i];
    return out;
}

/* ---------------------------------------------------------------- config, table */

void od_cg_config_default(od_cg_config *c)
{
    memset(c, 0, sizeof *c);
    c->offsets_topic_num_partitions = 50;
    c->session_timeout_ms = 45000;
    c->heartbeat_interval_ms = 5000;
    c->max_size = INT32_MAX;
    c->assignors[0] = OD_CG_ASSIGNOR_UNIFORM;
    c->assignors[1] = OD_CG_ASSIGNOR_RANGE;
    c->assignor_count = 2;
    c->migration_policy = OD_CG_MIGRATION_DISABLED;
    c->classic_max_size = INT32_MAX;
}

static const char *assignor_name(od_cg_assignor a)
{
    return a == OD_CG_ASSIGNOR_RANGE ? "range" : "uniform";
}

static bool assignor_by_name(const od_cg *cg, od_str name, od_cg_assignor *out)
{
    for (int32_t i = 0; i < cg->cfg.assignor_count; i++) {
        const char *n = assignor_name(cg->cfg.assignors[i]);
        if (name.len == (int32_t)strlen(n) && memcmp(name.ptr, n, (size_t)name.len) == 0) {
            *out = cg->cfg.assignors[i];
            return true;
        }
    }
    return false;
}

static size_t bucket_of(od_str id)
{
    return (size_t)(group_id_hash(id) % GROUP_BUCKETS);
}

static cgroup *find_group(const od_cg *cg, od_str id)
{
    if (id.len < 0)
        return NULL;
    for (cgroup *g = cg->buckets[bucket_of(id)]; g; g = g->next)
        if (beq(&g->id, id))
            return g;
    return NULL;
}

static int32_t partition_for(const od_cg *cg, od_str group_id)
{
    int32_t h = od_java_string_hash(group_id);
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    return a % cg->cfg.offsets_topic_num_partitions;
}

static cgroup *create_group(od_cg *cg, od_str id)
{
    cgroup *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->id.len = -1;
    if (!bset_str(&g->id, id)) {
        free(g);
        return NULL;
    }
    g->partition = partition_for(cg, id);
    size_t b = bucket_of(id);
    g->next = cg->buckets[b];
    cg->buckets[b] = g;
    return g;
}

static void free_protocols(cproto *p, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        free((void *)p[i].name.ptr);
        free((void *)p[i].metadata.ptr);
    }
    free(p);
}

static void free_member(cmember *m)
{
    free_protocols(m->protocols, m->protocol_count);
    bfree(&m->id);
    bfree(&m->instance_id);
    bfree(&m->rack_id);
    bfree(&m->client_id);
    bfree(&m->client_host);
    bfree(&m->regex);
    bfree(&m->assignor);
    for (int32_t i = 0; i < m->topic_count; i++)
        bfree(&m->topics[i]);
    free(m->topics);
    free(m->assigned.v);
    free(m->pending.v);
    free(m->target.v);
    free(m);
}

static void free_meta(topicmeta *t, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        bfree(&t[i].name);
    free(t);
}

static void destroy_group(od_cg *cg, cgroup *g)
{
    size_t b = bucket_of(bstr(&g->id));
    for (cgroup **pp = &cg->buckets[b]; *pp; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
    for (int32_t i = 0; i < g->member_count; i++)
        free_member(g->members[i]);
    free(g->members);
    free_meta(g->meta, g->meta_count);
    bfree(&g->id);
    free(g);
}

static cmember *find_member(const cgroup *g, od_str id, int32_t *index)
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

static cmember *find_static(const cgroup *g, od_str instance_id)
{
    if (instance_id.len < 0)
        return NULL;
    for (int32_t i = 0; i < g->member_count; i++)
        if (beq(&g->members[i]->instance_id, instance_id))
            return g->members[i];
    return NULL;
}

static cmember *add_member(cgroup *g, od_str id)
{
    if (g->member_count == g->member_cap) {
        int32_t cap = g->member_cap ? g->member_cap * 2 : 4;
        cmember **p = realloc(g->members, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        g->members = p;
        g->member_cap = cap;
    }
    cmember *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    gbuf *strs[] = {&m->id, &m->instance_id, &m->rack_id, &m->client_id,
                    &m->client_host, &m->regex, &m->assignor};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        strs[i]->len = -1;
    if (!bset_str(&m->id, id)) {
        free(m);
        return NULL;
    }
    m->rebalance_timeout_ms = -1;
    m->prev_epoch = -1;
    m->session_deadline = -1;
    m->rebalance_deadline = -1;
    m->classic_deadline = -1;
    g->members[g->member_count++] = m;
    return m;
}

static void remove_member_at(cgroup *g, int32_t i)
{
    free_member(g->members[i]);
    memmove(&g->members[i], &g->members[i + 1],
            (size_t)(g->member_count - i - 1) * sizeof *g->members);
    g->member_count--;
}

static const char *group_state(const cgroup *g)
{
    if (g->member_count == 0)
        return "Empty";
    if (g->group_epoch > g->assignment_epoch)
        return "Assigning";
    for (int32_t i = 0; i < g->member_count; i++) {
        const cmember *m = g->members[i];
        if (m->epoch != g->assignment_epoch || m->state != OD_CG_MEMBER_STABLE)
            return "Reconciling";
    }
    return "Stable";
}

/* ---------------------------------------------------------------- timers */

static int64_t arm(od_cg *cg, int64_t at)
{
    return wake_arm(&cg->wake, at);
}

static void request_wake(od_cg *cg)
{
    wake_request(&cg->wake, &cg->env);
}

/* ---------------------------------------------------------------- records */

/* The records one operation writes (invariant 6), in arena memory. */
typedef struct reclist {
    od_arena *arena;
    od_bytes *keys;
    od_bytes *values;
    int32_t n, keys_cap, values_cap;
    bool failed;                 /* out of memory or an encode error */
} reclist;

static void rl_init(reclist *rl, od_arena *arena)
{
    memset(rl, 0, sizeof *rl);
    rl->arena = arena;
}

static od_bytes writer_to_arena(od_arena *a, const od_writer *w, bool *ok)
{
    uint8_t *p = od_arena_alloc(a, w->len ? w->len : 1);
    if (!p || w->err != OD_WIRE_OK) {
        *ok = false;
        return OD_BYTES_NULL;
    }
    memcpy(p, w->buf, w->len);
    return (od_bytes){p, (int32_t)w->len};
}

/* Adds the record whose key and value the writers hold (value NULL: a
 * tombstone) and frees the writers. */
static void rl_add(reclist *rl, od_writer *kw, od_writer *vw)
{
    bool ok = !rl->failed &&
              od_arena_grow(rl->arena, &rl->keys, &rl->keys_cap, rl->n + 1, sizeof *rl->keys) &&
              od_arena_grow(rl->arena, &rl->values, &rl->values_cap, rl->n + 1,
                            sizeof *rl->values);
    if (ok) {
        od_bytes key = writer_to_arena(rl->arena, kw, &ok);
        od_bytes value = vw ? writer_to_arena(rl->arena, vw, &ok) : OD_BYTES_NULL;
        if (ok) {
            rl->keys[rl->n] = key;
            rl->values[rl->n] = value;
            rl->n++;
        }
    }
    if (!ok)
        rl->failed = true;
    od_writer_free(kw);
    if (vw)
        od_writer_free(vw);
}

/* Gives up a record whose key and value are being built: the list fails
 * (out of memory) and the writers are freed. */
static void rl_drop(reclist *rl, od_writer *kw, od_writer *vw)
{
    rl->failed = true;
    od_writer_free(kw);
    od_writer_free(vw);
}

/* Encodes a key of generated type T with the given GroupId (and, for a
 * member's key, MemberId); the version prefix is written first. */
#define ENCODE_GROUP_KEY(T)                                                                    \
    do {                                                                                       \
        T k;                                                                                   \
        T##_init(&k);                                                                          \
        k.group_id = group;                                                                    \
        T##_encode(&k, w, version);                                                            \
    } while (0)
#define ENCODE_MEMBER_KEY(T)                                                                   \
    do {                                                                                       \
        T k;                                                                                   \
        T##_init(&k);                                                                          \
        k.group_id = group;                                                                    \
        k.member_id = member;                                                                  \
        T##_encode(&k, w, version);                                                            \
    } while (0)

static void key_group_only(od_writer *w, int16_t version, od_str group)
{
    od_write_i16(w, version);
    /* Keys of versions 3, 4 and 6 are one string, GroupId. */
    switch (version) {
    case KEY_GROUP_EPOCH:
        ENCODE_GROUP_KEY(od_consumer_group_metadata_key);
        break;
    case KEY_PARTITION_METADATA:
        ENCODE_GROUP_KEY(od_consumer_group_partition_metadata_key);
        break;
    default:
        ENCODE_GROUP_KEY(od_consumer_group_target_assignment_metadata_key);
        break;
    }
}

static void key_group_member(od_writer *w, int16_t version, od_str group, od_str member)
{
    od_write_i16(w, version);
    switch (version) {
    case KEY_MEMBER:
        ENCODE_MEMBER_KEY(od_consumer_group_member_metadata_key);
        break;
    case KEY_TARGET_MEMBER:
        ENCODE_MEMBER_KEY(od_consumer_group_target_assignment_member_key);
        break;
    default:
        ENCODE_MEMBER_KEY(od_consumer_group_current_member_assignment_key);
        break;
    }
}
#undef ENCODE_GROUP_KEY
#undef ENCODE_MEMBER_KEY

static void rec_tombstone(reclist *rl, int16_t version, od_str group, od_str member)
{
    od_writer kw;
    od_writer_init(&kw, 64);
    if (member.len >= 0)
        key_group_member(&kw, version, group, member);
    else
        key_group_only(&kw, version, group);
    rl_add(rl, &kw, NULL);
}

static void rec_group_epoch(reclist *rl, od_str group, int32_t epoch)
{
    od_writer kw, vw;
    od_writer_init(&kw, 64);
    od_writer_init(&vw, 16);
    key_group_only(&kw, KEY_GROUP_EPOCH, group);
    od_consumer_group_metadata_value v;
    od_consumer_group_metadata_value_init(&v);
    v.epoch = epoch;
    od_write_i16(&vw, 0);
    od_consumer_group_metadata_value_encode(&v, &vw, 0);
    rl_add(rl, &kw, &vw);
}

static void rec_target_epoch(reclist *rl, od_str group, int32_t epoch)
{
    od_writer kw, vw;
    od_writer_init(&kw, 64);
    od_writer_init(&vw, 16);
    key_group_only(&kw, KEY_TARGET_METADATA, group);
    od_consumer_group_target_assignment_metadata_value v;
    od_consumer_group_target_assignment_metadata_value_init(&v);
    v.assignment_epoch = epoch;
    od_write_i16(&vw, 0);
    od_consumer_group_target_assignment_metadata_value_encode(&v, &vw, 0);
    rl_add(rl, &kw, &vw);
}

/* The subscription metadata, as Kafka writes it (no rack information). */
typedef struct metaview {
    od_uuid id;
    od_str name;
    int32_t partitions;
} metaview;

static void rec_partition_metadata(reclist *rl, od_str group, const metaview *m, int32_t n)
{
    od_writer kw, vw;
    od_writer_init(&kw, 64);
    od_writer_init(&vw, 64);
    key_group_only(&kw, KEY_PARTITION_METADATA, group);
    od_consumer_group_partition_metadata_value v;
    od_consumer_group_partition_metadata_value_init(&v);
    v.topics.count = n;
    v.topics.items = od_arena_calloc(rl->arena, (size_t)(n ? n : 1), sizeof *v.topics.items);
    if (!v.topics.items) {
        rl_drop(rl, &kw, &vw);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        od_consumer_group_partition_metadata_value_topic_metadata *t = &v.topics.items[i];
        od_consumer_group_partition_metadata_value_topic_metadata_init(t);
        t->topic_id = m[i].id;
        t->topic_name = m[i].name;
        t->num_partitions = m[i].partitions;
    }
    od_write_i16(&vw, 0);
    od_consumer_group_partition_metadata_value_encode(&v, &vw, 0);
    rl_add(rl, &kw, &vw);
}

/* Groups a partition set by topic into the arrays the record values and
 * responses use: *topics gets (id, partitions) pairs. */
typedef struct topic_parts {
    od_uuid id;
    od_int32_array partitions;
} topic_parts;

static topic_parts *group_by_topic(od_arena *a, const tpset *s, int32_t *count)
{
    topic_parts *out = od_arena_calloc(a, (size_t)(s->n ? s->n : 1), sizeof *out);
    int32_t *parts = od_arena_alloc(a, (size_t)(s->n ? s->n : 1) * sizeof *parts);
    *count = 0;
    if (!out || !parts)
        return NULL;
    for (int32_t i = 0; i < s->n; i++) {
        if (*count == 0 || uuid_cmp(&out[*count - 1].id, &s->v[i].topic_id) != 0) {
            out[*count].id = s->v[i].topic_id;
            out[*count].partitions.items = &parts[i];
            out[*count].partitions.count = 0;
            (*count)++;
        }
        parts[i] = s->v[i].partition;
        out[*count - 1].partitions.count++;
    }
    return out;
}

static void rec_target_member(reclist *rl, od_str group, od_str member, const tpset *target)
{
    od_writer kw, vw;
    od_writer_init(&kw, 64);
    od_writer_init(&vw, 64);
    key_group_member(&kw, KEY_TARGET_MEMBER, group, member);
    od_consumer_group_target_assignment_member_value v;
    od_consumer_group_target_assignment_member_value_init(&v);
    int32_t n;
    topic_parts *tp = group_by_topic(rl->arena, target, &n);
    v.topic_partitions.items = od_arena_calloc(rl->arena, (size_t)(n ? n : 1),
                                               sizeof *v.topic_partitions.items);
    if (!tp || !v.topic_partitions.items) {
        rl_drop(rl, &kw, &vw);
        return;
    }
    v.topic_partitions.count = n;
    for (int32_t i = 0; i < n; i++) {
        od_consumer_group_target_assignment_member_value_topic_partition_init(
            &v.topic_partitions.items[i]);
        v.topic_partitions.items[i].topic_id = tp[i].id;
        v.topic_partitions.items[i].partitions = tp[i].partitions;
    }
    od_write_i16(&vw, 0);
    od_consumer_group_target_assignment_member_value_encode(&v, &vw, 0);
    rl_add(rl, &kw, &vw);
}

/* A member's current assignment (CurrentMemberAssignment value). */
typedef struct cur_assign {
    int32_t epoch;
    int32_t prev_epoch;
    int8_t state;
    tpset assigned;
    tpset pending;
} cur_assign;

static bool fill_cur_topics(od_arena *a, const tpset *s,
                            od_consumer_group_current_member_assignment_value_topic_partitions_array *arr)
{
    int32_t n;
    topic_parts *tp = group_by_topic(a, s, &n);
    arr->items = od_arena_calloc(a, (size_t)(n ? n : 1), sizeof *arr->items);
    if (!tp || !arr->items)
        return false;
    arr->count = n;
    for (int32_t i = 0; i < n; i++) {
        od_consumer_group_current_member_assignment_value_topic_partitions_init(&arr->items[i]);
        arr->items[i].topic_id = tp[i].id;
        arr->items[i].partitions = tp[i].partitions;
    }
    return true;
}

static void rec_current(reclist *rl, od_str group, od_str member, const cur_assign *c)
{
    od_writer kw, vw;
    od_writer_init(&kw, 64);
    od_writer_init(&vw, 64);
    key_group_member(&kw, KEY_CURRENT_ASSIGNMENT, group, member);
    od_consumer_group_current_member_assignment_value v;
    od_consumer_group_current_member_assignment_value_init(&v);
    v.member_epoch = c->epoch;
    v.previous_member_epoch = c->prev_epoch;
    v.state = c->state;
    if (!fill_cur_topics(rl->arena, &c->assigned, &v.assigned_partitions) ||
        !fill_cur_topics(rl->arena, &c->pending, &v.partitions_pending_revocation)) {
        rl_drop(rl, &kw, &vw);
        return;
    }
    od_write_i16(&vw, 0);
    od_consumer_group_current_member_assignment_value_encode(&v, &vw, 0);
    rl_add(rl, &kw, &vw);
}

/* A member's subscription as the member record stores it (views). */
typedef struct msub {
    od_str id;
    od_str instance_id;
    od_str rack_id;
    od_str client_id;
    od_str client_host;
    od_str regex;
    od_str assignor;
    const od_str *topics;
    int32_t topic_count;
    int32_t rebalance_timeout_ms;
    bool classic;                /* ClassicMemberMetadata present */
    int32_t classic_session_timeout_ms;
    const cproto *protocols;
    int32_t protocol_count;
} msub;

static void rec_member(reclist *rl, od_str group, const msub *s)
{
    od_writer kw, vw;
    od_writer_init(&kw, 64);
    od_writer_init(&vw, 128);
    key_group_member(&kw, KEY_MEMBER, group, s->id);
    od_consumer_group_member_metadata_value v;
    od_consumer_group_member_metadata_value_init(&v);
    v.instance_id = s->instance_id;
    v.rack_id = s->rack_id;
    v.client_id = s->client_id.len < 0 ? OD_STR_LIT("") : s->client_id;
    v.client_host = s->client_host.len < 0 ? OD_STR_LIT("") : s->client_host;
    v.subscribed_topic_names.count = s->topic_count;
    v.subscribed_topic_names.items = (od_str *)s->topics;
    v.subscribed_topic_regex = s->regex;
    v.rebalance_timeout_ms = s->rebalance_timeout_ms;
    v.server_assignor = s->assignor;
    od_consumer_group_member_metadata_value_classic_member_metadata classic;
    od_consumer_group_member_metadata_value_classic_member_metadata_init(&classic);
    if (s->classic) {
        int32_t n = s->protocol_count;
        od_consumer_group_member_metadata_value_classic_protocol *ps =
            od_arena_calloc(rl->arena, (size_t)(n ? n : 1), sizeof *ps);
        if (!ps) {
            rl_drop(rl, &kw, &vw);
            return;
        }
        for (int32_t i = 0; i < n; i++) {
            od_consumer_group_member_metadata_value_classic_protocol_init(&ps[i]);
            ps[i].name = s->protocols[i].name;
            ps[i].metadata = s->protocols[i].metadata;
        }
        classic.session_timeout_ms = s->classic_session_timeout_ms;
        classic.supported_protocols.count = n;
        classic.supported_protocols.items = ps;
        v.classic_member_metadata = &classic;
    }
    od_write_i16(&vw, 0);
    od_consumer_group_member_metadata_value_encode(&v, &vw, 0);
    rl_add(rl, &kw, &vw);
}

/* Kafka's removeMember records: current assignment, target assignment and
 * subscription tombstones, in that order. */
static void rec_remove_member(reclist *rl, od_str group, od_str member)
{
    rec_tombstone(rl, KEY_CURRENT_ASSIGNMENT, group, member);
    rec_tombstone(rl, KEY_TARGET_MEMBER, group, member);
    rec_tombstone(rl, KEY_MEMBER, group, member);
}

/* ---------------------------------------------------------------- replay (invariant 1) */

/* Replaces *out (owned) with the partitions of a decoded record's array of
 * {TopicId, Partitions}; false when out of memory, *out unchanged.
 * CurrentMemberAssignmentValue and TargetAssignmentMemberValue have that
 * array in two generated types of one shape: one body defines both. */
#define DEFINE_TPSET_FROM(name, array_type)                                                    \
    static bool name(const array_type *a, tpset *out)                                          \
    {                                                                                          \
        int32_t n = 0;                                                                         \
        for (int32_t i = 0; i < a->count; i++)                                                 \
            n += a->items[i].partitions.count;                                                 \
        tpset s = {n ? malloc((size_t)n * sizeof(od_cg_tp)) : NULL, 0};                        \
        if (n && !s.v)                                                                         \
            return false;                                                                      \
        for (int32_t i = 0; i < a->count; i++)                                                 \
            for (int32_t j = 0; j < a->items[i].partitions.count; j++)                         \
                s.v[s.n++] = (od_cg_tp){a->items[i].topic_id, a->items[i].partitions.items[j]}; \
        tpset_normalize(&s);                                                                   \
        free(out->v);                                                                          \
        *out = s;                                                                              \
        return true;                                                                           \
    }
DEFINE_TPSET_FROM(tpset_from_cur,
                  od_consumer_group_current_member_assignment_value_topic_partitions_array)
DEFINE_TPSET_FROM(tpset_from_target,
                  od_consumer_group_target_assignment_member_value_topic_partition_array)
#undef DEFINE_TPSET_FROM

static int meta_name_cmp(const void *pa, const void *pb)
{
    const topicmeta *a = pa, *b = pb;
    int32_t n = a->name.len < b->name.len ? a->name.len : b->name.len;
    int c = n > 0 ? memcmp(a->name.p, b->name.p, (size_t)n) : 0;
    if (c)
        return c;
    return (a->name.len > b->name.len) - (a->name.len < b->name.len);
}

static bool replay_member_value(cmember *m, const od_consumer_group_member_metadata_value *v)
{
    gbuf *topics = NULL;
    int32_t n = v->subscribed_topic_names.count > 0 ? v->subscribed_topic_names.count : 0;
    if (n) {
        topics = calloc((size_t)n, sizeof *topics);
        if (!topics)
            return false;
        for (int32_t i = 0; i < n; i++) {
            topics[i].len = -1;
            if (!bset_str(&topics[i], v->subscribed_topic_names.items[i])) {
                for (int32_t j = 0; j < i; j++)
                    bfree(&topics[j]);
                free(topics);
                return false;
            }
        }
    }
    for (int32_t i = 0; i < m->topic_count; i++)
        bfree(&m->topics[i]);
    free(m->topics);
    m->topics = topics;
    m->topic_count = n;
    m->rebalance_timeout_ms = v->rebalance_timeout_ms;
    m->has_subscription = true;
    free_protocols(m->protocols, m->protocol_count);
    m->protocols = NULL;
    m->protocol_count = 0;
    /* An absent tag leaves the decoder's default object in place (Kafka's
     * null); only a record that carried the tag makes a classic member. */
    od_consumer_group_member_metadata_value absent;
    od_consumer_group_member_metadata_value_init(&absent);
    m->classic = v->classic_member_metadata != NULL &&
                 v->classic_member_metadata != absent.classic_member_metadata;
    if (m->classic) {
        const od_consumer_group_member_metadata_value_classic_member_metadata *c =
            v->classic_member_metadata;
        int32_t np = c->supported_protocols.count > 0 ? c->supported_protocols.count : 0;
        m->classic_session_timeout_ms = c->session_timeout_ms;
        m->protocols = calloc((size_t)(np ? np : 1), sizeof *m->protocols);
        if (!m->protocols)
            return false;
        for (int32_t i = 0; i < np; i++) {
            od_str nm = c->supported_protocols.items[i].name;
            od_bytes md = c->supported_protocols.items[i].metadata;
            int32_t nl = nm.len > 0 ? nm.len : 0, ml = md.len > 0 ? md.len : 0;
            char *pn = malloc((size_t)nl + 1);
            uint8_t *pm = malloc((size_t)ml + 1);
            if (!pn || !pm) {
                free(pn);
                free(pm);
                return false;
            }
            if (nl)
                memcpy(pn, nm.ptr, (size_t)nl);
            if (ml)
                memcpy(pm, md.ptr, (size_t)ml);
            m->protocols[i] = (cproto){{pn, nl}, {pm, ml}};
            m->protocol_count = i + 1;
        }
    }
    return bset_str(&m->instance_id, v->instance_id) && bset_str(&m->rack_id, v->rack_id) &&
           bset_str(&m->client_id, v->client_id) && bset_str(&m->client_host, v->client_host) &&
           bset_str(&m->regex, v->subscribed_topic_regex) && bset_str(&m->assignor, v->server_assignor);
}

/* Applies one record (load or live, invariant 1). Returns 0, or
 * OD_GC_UNKNOWN_SERVER_ERROR for an undecodable record or out of memory. */
static int replay_record(od_cg *cg, od_bytes key, od_bytes value, od_arena *arena)
{
    enum { ERR = OD_GC_UNKNOWN_SERVER_ERROR };
    if (key.len < 2)
        return ERR;
    od_reader kr;
    od_reader_init(&kr, key.ptr, (size_t)key.len, arena);
    int16_t kv = od_read_i16(&kr);
    if (kv < KEY_GROUP_EPOCH || kv > KEY_CURRENT_ASSIGNMENT)
        return 0; /* classic or share-group records: not ours */
    od_str group = OD_STR_NULL, member = OD_STR_NULL;
    od_wire_err e;
    /* Decodes the key as generated type T and takes its GroupId (a group's
     * record) or its GroupId and MemberId (a member's record). */
#define DECODE_GROUP_KEY(T)                                                                    \
    do {                                                                                       \
        T k;                                                                                   \
        e = T##_decode(&k, &kr, kv);                                                           \
        group = k.group_id;                                                                    \
    } while (0)
#define DECODE_MEMBER_KEY(T)                                                                   \
    do {                                                                                       \
        T k;                                                                                   \
        e = T##_decode(&k, &kr, kv);                                                           \
        group = k.group_id;                                                                    \
        member = k.member_id;                                                                  \
    } while (0)
    switch (kv) {
    case KEY_GROUP_EPOCH:
        DECODE_GROUP_KEY(od_consumer_group_metadata_key);
        break;
    case KEY_PARTITION_METADATA:
        DECODE_GROUP_KEY(od_consumer_group_partition_metadata_key);
        break;
    case KEY_TARGET_METADATA:
        DECODE_GROUP_KEY(od_consumer_group_target_assignment_metadata_key);
        break;
    case KEY_MEMBER:
        DECODE_MEMBER_KEY(od_consumer_group_member_metadata_key);
        break;
    case KEY_TARGET_MEMBER:
        DECODE_MEMBER_KEY(od_consumer_group_target_assignment_member_key);
        break;
    default:
        DECODE_MEMBER_KEY(od_consumer_group_current_member_assignment_key);
        break;
    }
#undef DECODE_GROUP_KEY
#undef DECODE_MEMBER_KEY
    if (e != OD_WIRE_OK || group.len < 0)
        return ERR;
    cgroup *g = find_group(cg, group);
    if (value.len < 0) {
        /* Tombstones. */
        if (!g)
            return 0;
        int32_t idx;
        cmember *m = member.len >= 0 ? find_member(g, member, &idx) : NULL;
        switch (kv) {
        case KEY_GROUP_EPOCH:
            destroy_group(cg, g);
            break;
        case KEY_PARTITION_METADATA:
            free_meta(g->meta, g->meta_count);
            g->meta = NULL;
            g->meta_count = 0;
            break;
        case KEY_TARGET_METADATA:
            g->assignment_epoch = 0;
            break;
        case KEY_MEMBER:
            if (m)
                remove_member_at(g, idx);
            break;
        case KEY_TARGET_MEMBER:
            if (m) {
                free(m->target.v);
                m->target = (tpset){NULL, 0};
                m->has_target = false;
            }
            break;
        default:
            if (m) {
                m->epoch = OD_CG_LEAVE_EPOCH;
                m->prev_epoch = OD_CG_LEAVE_EPOCH;
                free(m->assigned.v);
                free(m->pending.v);
                m->assigned = m->pending = (tpset){NULL, 0};
            }
            break;
        }
        return 0;
    }
    if (!g && !(g = create_group(cg, group)))
        return ERR;
    cmember *m = NULL;
    if (member.len >= 0 && !(m = find_member(g, member, NULL)) && !(m = add_member(g, member)))
        return ERR;
    od_reader vr;
    od_reader_init(&vr, value.ptr, (size_t)value.len, arena);
    int16_t vv = od_read_i16(&vr);
    if (vr.err || vv < 0)
        return ERR;
    vv = 0; /* every value has one version; later ones only add tagged fields */
    switch (kv) {
    case KEY_GROUP_EPOCH: {
        od_consumer_group_metadata_value v;
        if (od_consumer_group_metadata_value_decode(&v, &vr, vv) != OD_WIRE_OK)
            return ERR;
        g->group_epoch = v.epoch;
        return 0;
    }
    case KEY_PARTITION_METADATA: {
        od_consumer_group_partition_metadata_value v;
        if (od_consumer_group_partition_metadata_value_decode(&v, &vr, vv) != OD_WIRE_OK)
            return ERR;
        int32_t n = v.topics.count > 0 ? v.topics.count : 0;
        topicmeta *t = calloc((size_t)(n ? n : 1), sizeof *t);
        if (!t)
            return ERR;
        for (int32_t i = 0; i < n; i++) {
            t[i].name.len = -1;
            t[i].id = v.topics.items[i].topic_id;
            t[i].partitions = v.topics.items[i].num_partitions;
            if (!bset_str(&t[i].name, v.topics.items[i].topic_name)) {
                free_meta(t, i);
                return ERR;
            }
        }
        qsort(t, (size_t)n, sizeof *t, meta_name_cmp);
        free_meta(g->meta, g->meta_count);
        g->meta = t;
        g->meta_count = n;
        return 0;
    }
    case KEY_TARGET_METADATA: {
        od_consumer_group_target_assignment_metadata_value v;
        if (od_consumer_group_target_assignment_metadata_value_decode(&v, &vr, vv) != OD_WIRE_OK)
            return ERR;
        g->assignment_epoch = v.assignment_epoch;
        return 0;
    }
    case KEY_MEMBER: {
        od_consumer_group_member_metadata_value v;
        if (od_consumer_group_member_metadata_value_decode(&v, &vr, vv) != OD_WIRE_OK)
            return ERR;
        return replay_member_value(m, &v) ? 0 : ERR;
    }
    case KEY_TARGET_MEMBER: {
        od_consumer_group_target_assignment_member_value v;
        if (od_consumer_group_target_assignment_member_value_decode(&v, &vr, vv) != OD_WIRE_OK)
            return ERR;
        if (!tpset_from_target(&v.topic_partitions, &m->target))
            return ERR;
        m->has_target = true;
        return 0;
    }
    default: {
        od_consumer_group_current_member_assignment_value v;
        if (od_consumer_group_current_member_assignment_value_decode(&v, &vr, vv) != OD_WIRE_OK)
            return ERR;
        if (!tpset_from_cur(&v.assigned_partitions, &m->assigned) ||
            !tpset_from_cur(&v.partitions_pending_revocation, &m->pending))
            return ERR;
        m->epoch = v.member_epoch;
        m->prev_epoch = v.previous_member_epoch;
        m->state = v.state;
        return 0;
    }
    }
}

static int16_t map_append_error(int16_t e)
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
    default: return OD_GC_UNKNOWN_SERVER_ERROR;
    }
}

/* Appends the records as one batch and, on success, replays them
 * (invariant 6). Returns the mapped error. */
static int16_t commit_records(od_cg *cg, int32_t partition, reclist *rl)
{
    if (rl->failed)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    if (rl->n == 0)
        return OD_GC_NONE;
    od_builder_record *recs = od_arena_calloc(rl->arena, (size_t)rl->n, sizeof *recs);
    if (!recs)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    int64_t ts = now(cg);
    for (int32_t i = 0; i < rl->n; i++) {
        recs[i].timestamp = ts;
        recs[i].key = rl->keys[i];
        recs[i].value = rl->values[i];
    }
    od_batch_params params = OD_BATCH_PARAMS_INIT;
    od_writer out;
    od_writer_init(&out, 512);
    od_batch_err be = od_batch_build(&params, recs, rl->n, &out);
    int16_t err = OD_GC_UNKNOWN_SERVER_ERROR;
    if (be == OD_BATCH_OK && out.err == OD_WIRE_OK)
        err = map_append_error(cg->env.append(cg->env.ctx, partition, out.buf, out.len));
    od_writer_free(&out);
    if (err != OD_GC_NONE)
        return err;
    for (int32_t i = 0; i < rl->n; i++)
        if (replay_record(cg, rl->keys[i], rl->values[i], rl->arena) != 0)
            return OD_GC_UNKNOWN_SERVER_ERROR; /* out of memory after a durable write */
    return OD_GC_NONE;
}

/* ---------------------------------------------------------------- subscriptions */

static const topicmeta *cluster_topic_by_id(const od_cg *cg, const od_uuid *id)
{
    for (int32_t i = 0; i < cg->topic_count; i++)
        if (od_uuid_eq(&cg->topics[i].id, id))
            return &cg->topics[i];
    return NULL;
}

/* The compiled form of pattern (NULL when od_regex refuses it or memory
 * runs out: it then matches nothing). */
static od_regex *cached_regex(const od_cg *cg, od_str pattern)
{
    regex_cache *c = cg->regexes;
    if (!c || pattern.len <= 0)
        return NULL;
    for (int32_t i = 0; i < REGEX_CACHE_SIZE; i++)
        if (c->slot[i].pattern && c->slot[i].len == pattern.len &&
            memcmp(c->slot[i].pattern, pattern.ptr, (size_t)pattern.len) == 0)
            return c->slot[i].re;
    char *copy = malloc((size_t)pattern.len);
    if (!copy)
        return NULL;
    memcpy(copy, pattern.ptr, (size_t)pattern.len);
    od_regex *re = NULL;
    if (od_regex_compile(pattern.ptr, (size_t)pattern.len, &re, NULL) != OD_REGEX_OK)
        re = NULL;
    int32_t v = c->next_victim;
    c->next_victim = (v + 1) % REGEX_CACHE_SIZE;
    free(c->slot[v].pattern);
    od_regex_free(c->slot[v].re);
    c->slot[v].pattern = copy;
    c->slot[v].len = pattern.len;
    c->slot[v].re = re;
    return re;
}

static void regex_cache_free(regex_cache *c)
{
    if (!c)
        return;
    for (int32_t i = 0; i < REGEX_CACHE_SIZE; i++) {
        free(c->slot[i].pattern);
        od_regex_free(c->slot[i].re);
    }
    free(c);
}

/* Kafka's regex resolution: RE2/J's matches() over the whole topic name,
 * every topic of the metadata image included (internal ones too: Kafka
 * filters only by DESCRIBE ACLs). */
static bool regex_matches(const od_cg *cg, od_str pattern, const topicmeta *t)
{
    od_regex *re = cached_regex(cg, pattern);
    return re && od_regex_full_match(re, t->name.p, (size_t)t->name.len);
}

/* The cluster topics one subscription resolves to: *out gets pointers into
 * cg->topics (arena array); sorted by position, so by the cluster order. */
static int32_t resolve_subscription(const od_cg *cg, const msub *s, od_arena *a,
                                    const topicmeta ***out)
{
    const topicmeta **r = od_arena_alloc(a, (size_t)(cg->topic_count ? cg->topic_count : 1) *
                                                sizeof *r);
    *out = r;
    if (!r)
        return 0;
    bool has_re = s->regex.len > 0;
    int32_t n = 0;
    for (int32_t i = 0; i < cg->topic_count; i++) {
        const topicmeta *t = &cg->topics[i];
        bool in = false;
        for (int32_t j = 0; j < s->topic_count && !in; j++)
            in = beq(&t->name, s->topics[j]);
        if (!in && has_re)
            in = regex_matches(cg, s->regex, t);
        if (in)
            r[n++] = t;
    }
    return n;
}

static msub member_sub(const cmember *m)
{
    msub s = {
        .id = bstr(&m->id),
        .instance_id = bstr(&m->instance_id),
        .rack_id = bstr(&m->rack_id),
        .client_id = bstr(&m->client_id),
        .client_host = bstr(&m->client_host),
        .regex = bstr(&m->regex),
        .assignor = bstr(&m->assignor),
        .topics = NULL,
        .topic_count = m->topic_count,
        .rebalance_timeout_ms = m->rebalance_timeout_ms,
        .classic = m->classic,
        .classic_session_timeout_ms = m->classic_session_timeout_ms,
        .protocols = m->protocols,
        .protocol_count = m->protocol_count,
    };
    return s;
}

/* The member list an operation computes with: the group's members, with
 * one replaced (or removed, sub NULL) and possibly one added. */
typedef struct view_member {
    msub sub;
    const cmember *m;            /* NULL: a member that does not exist yet */
    tpset cur_target;            /* what the assignor starts from */
    const topicmeta **topics;    /* resolved subscription */
    int32_t topic_count;
} view_member;

static od_str *member_topic_views(od_arena *a, const cmember *m)
{
    od_str *v = od_arena_alloc(a, (size_t)(m->topic_count ? m->topic_count : 1) * sizeof *v);
    if (v)
        for (int32_t i = 0; i < m->topic_count; i++)
            v[i] = bstr(&m->topics[i]);
    return v;
}

/* Builds the view: every member but `skip` (the old self, when replaced or
 * removed), then `self` when non-NULL. Returns the count, -1 on OOM. */
static int32_t build_view(const od_cg *cg, const cgroup *g, const cmember *skip,
                          const msub *self, const cmember *self_m, tpset self_cur_target,
                          od_arena *a, view_member **out)
{
    view_member *v = od_arena_calloc(a, (size_t)g->member_count + 1, sizeof *v);
    *out = v;
    if (!v)
        return -1;
    int32_t n = 0;
    for (int32_t i = 0; i < g->member_count; i++) {
        const cmember *m = g->members[i];
        if (m == skip)
            continue;
        v[n].sub = member_sub(m);
        v[n].sub.topics = member_topic_views(a, m);
        if (!v[n].sub.topics)
            return -1;
        v[n].m = m;
        v[n].cur_target = m->target;
        n++;
    }
    if (self) {
        v[n].sub = *self;
        v[n].m = self_m;
        v[n].cur_target = self_cur_target;
        n++;
    }
    for (int32_t i = 0; i < n; i++)
        v[i].topic_count = resolve_subscription(cg, &v[i].sub, a, &v[i].topics);
    return n;
}

/* The union of the view's resolved subscriptions, sorted by name, as the
 * PartitionMetadata record stores it. */
static int32_t compute_metadata(const od_cg *cg, const view_member *v, int32_t n, od_arena *a,
                                metaview **out)
{
    metaview *m = od_arena_alloc(a, (size_t)(cg->topic_count ? cg->topic_count : 1) * sizeof *m);
    *out = m;
    if (!m)
        return 0;
    int32_t count = 0;
    for (int32_t i = 0; i < cg->topic_count; i++) {
        const topicmeta *t = &cg->topics[i];
        bool used = false;
        for (int32_t j = 0; j < n && !used; j++)
            for (int32_t k = 0; k < v[j].topic_count && !used; k++)
                used = v[j].topics[k] == t;
        if (used)
            m[count++] = (metaview){t->id, bstr(&t->name), t->partitions};
    }
    /* cluster topics are kept sorted by name (od_cg_set_topics) */
    return count;
}

static bool metadata_equal(const cgroup *g, const metaview *m, int32_t n)
{
    if (g->meta_count != n)
        return false;
    for (int32_t i = 0; i < n; i++)
        if (!od_uuid_eq(&g->meta[i].id, &m[i].id) || !beq(&g->meta[i].name, m[i].name) ||
            g->meta[i].partitions != m[i].partitions)
            return false;
    return true;
}

/* ---------------------------------------------------------------- Java iteration order */

/* Kafka's assignors iterate HashMaps and HashSets; their order decides which
 * member gets which partition, so it is reproduced: buckets of
 * (h ^ h >>> 16) & (capacity - 1), ties in insertion order. */
static uint32_t java_spread(int32_t h)
{
    uint32_t u = (uint32_t)h;
    return u ^ (u >> 16);
}

/* Capacity of a HashMap filled by n puts from the default constructor. */
static uint32_t cap_for_puts(int32_t n)
{
    uint32_t cap = 16;
    while ((uint32_t)n > cap / 4 * 3)
        cap *= 2;
    return cap;
}

/* Capacity of new HashSet<>(collection of n). */
static uint32_t cap_for_copy(int32_t n)
{
    uint32_t want = (uint32_t)((float)n / 0.75f) + 1;
    if (want < 16)
        want = 16;
    uint32_t cap = 1;
    while (cap < want)
        cap *= 2;
    return cap;
}

static int32_t java_uuid_hash(const od_uuid *u)
{
    uint64_t msb = 0, lsb = 0;
    for (int i = 0; i < 8; i++) {
        msb = msb << 8 | u->bytes[i];
        lsb = lsb << 8 | u->bytes[8 + i];
    }
    uint64_t h = msb ^ lsb;
    return (int32_t)((uint32_t)(h >> 32) ^ (uint32_t)h);
}

typedef struct order_key {
    uint32_t bucket;
    int32_t index;
} order_key;

static int order_cmp(const void *pa, const void *pb)
{
    const order_key *a = pa, *b = pb;
    if (a->bucket != b->bucket)
        return a->bucket < b->bucket ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* Fills order[] with 0..n-1 in Java iteration order of keys with the given
 * hashes, inserted in index order into a table of capacity cap. */
static bool java_order(const int32_t *hashes, int32_t n, uint32_t cap, int32_t *order)
{
    order_key *k = malloc((size_t)(n ? n : 1) * sizeof *k);
    if (!k)
        return false;
    for (int32_t i = 0; i < n; i++)
        k[i] = (order_key){java_spread(hashes[i]) & (cap - 1), i};
    qsort(k, (size_t)n, sizeof *k, order_cmp);
    for (int32_t i = 0; i < n; i++)
        order[i] = k[i].index;
    free(k);
    return true;
}

/* ---------------------------------------------------------------- assignors */

typedef struct amember {
    od_str id;
    od_str instance_id;          /* len -1: dynamic */
    const od_uuid **topics;      /* subscribed topic ids that exist */
    int32_t topic_count;
    tpset cur;                   /* current target */
    od_cg_tp *out;               /* new target (arena, capacity total) */
    int32_t out_n;
} amember;

typedef struct atopic {
    od_uuid id;
    int32_t partitions;
} atopic;

static bool subscribes(const amember *m, const od_uuid *t)
{
    for (int32_t i = 0; i < m->topic_count; i++)
        if (od_uuid_eq(m->topics[i], t))
            return true;
    return false;
}

static void give(amember *m, const od_uuid *t, int32_t p)
{
    m->out[m->out_n++] = (od_cg_tp){*t, p};
}

static const atopic *find_atopic(const atopic *t, int32_t n, const od_uuid *id)
{
    for (int32_t i = 0; i < n; i++)
        if (od_uuid_eq(&t[i].id, id))
            return &t[i];
    return NULL;
}

/* The partitions of topic t in a member's current target, in the order of
 * the HashSet Kafka's Assignment.fromRecord copies them into (for small
 * partition numbers: ascending). */
static int32_t cur_partitions_java(const amember *m, const od_uuid *t, int32_t num_partitions,
                                   int32_t *out)
{
    int32_t n = 0;
    for (int32_t i = 0; i < m->cur.n; i++)
        if (od_uuid_eq(&m->cur.v[i].topic_id, t) && m->cur.v[i].partition >= 0 &&
            m->cur.v[i].partition < num_partitions)
            out[n++] = m->cur.v[i].partition;
    int32_t *hashes = malloc((size_t)(n ? n : 1) * sizeof *hashes);
    int32_t *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    int32_t *copy = malloc((size_t)(n ? n : 1) * sizeof *copy);
    if (hashes && order && copy) {
        for (int32_t i = 0; i < n; i++)
            hashes[i] = out[i];
        if (java_order(hashes, n, cap_for_copy(n), order)) {
            memcpy(copy, out, (size_t)n * sizeof *copy);
            for (int32_t i = 0; i < n; i++)
                out[i] = copy[order[i]];
        }
    }
    free(hashes);
    free(order);
    free(copy);
    return n;
}

/* Kafka's UniformHomogeneousAssignmentBuilder: keep what fits the quota,
 * hand the rest out in order. mo is the member iteration order. */
static void uniform_homogeneous(amember *ms, int32_t nm, const int32_t *mo, const atopic *ts,
                                int32_t nt, od_arena *a)
{
    const amember *first = &ms[mo[0]];
    if (first->topic_count == 0)
        return;
    /* the subscribed topic ids, in HashSet order */
    int32_t ns = first->topic_count;
    int32_t *hashes = od_arena_alloc(a, (size_t)ns * sizeof *hashes);
    int32_t *torder = od_arena_alloc(a, (size_t)ns * sizeof *torder);
    if (!hashes || !torder)
        return;
    int32_t total = 0;
    for (int32_t i = 0; i < ns; i++) {
        hashes[i] = java_uuid_hash(first->topics[i]);
        const atopic *t = find_atopic(ts, nt, first->topics[i]);
        total += t ? t->partitions : 0;
    }
    java_order(hashes, ns, cap_for_copy(ns), torder);
    /* every partition once, plus what members give back (also from total) */
    od_cg_tp *unassigned = od_arena_alloc(a, (size_t)(2 * total + 1) * sizeof *unassigned);
    int32_t *remaining = od_arena_calloc(a, (size_t)nm, sizeof *remaining);
    int32_t *parts = od_arena_alloc(a, (size_t)(total ? total : 1) * sizeof *parts);
    if (!unassigned || !remaining || !parts)
        return;
    int32_t nu = 0;
    for (int32_t i = 0; i < ns; i++) {
        const atopic *t = find_atopic(ts, nt, first->topics[torder[i]]);
        if (!t)
            continue;
        for (int32_t p = 0; p < t->partitions; p++) {
            od_cg_tp tp = {t->id, p};
            bool assigned = false;
            for (int32_t j = 0; j < nm && !assigned; j++)
                assigned = tpset_has(&ms[j].cur, &tp);
            if (!assigned)
                unassigned[nu++] = tp;
        }
    }
    int32_t min_quota = total / nm, extra = total % nm;
    for (int32_t oi = 0; oi < nm; oi++) {
        amember *m = &ms[mo[oi]];
        int32_t quota = min_quota;
        if (extra > 0) {
            quota++;
            extra--;
        }
        /* the member's current topics, in HashMap order */
        od_uuid *ctopics = od_arena_alloc(a, (size_t)(m->cur.n ? m->cur.n : 1) * sizeof *ctopics);
        int32_t nct = 0;
        for (int32_t i = 0; i < m->cur.n; i++)
            if (nct == 0 || !od_uuid_eq(&ctopics[nct - 1], &m->cur.v[i].topic_id))
                ctopics[nct++] = m->cur.v[i].topic_id;
        int32_t *ch = od_arena_alloc(a, (size_t)(nct ? nct : 1) * sizeof *ch);
        int32_t *co = od_arena_alloc(a, (size_t)(nct ? nct : 1) * sizeof *co);
        for (int32_t i = 0; i < nct; i++)
            ch[i] = java_uuid_hash(&ctopics[i]);
        java_order(ch, nct, cap_for_puts(nct), co);
        for (int32_t ti = 0; ti < nct; ti++) {
            const od_uuid *t = &ctopics[co[ti]];
            bool sub = false;
            for (int32_t i = 0; i < ns && !sub; i++)
                sub = od_uuid_eq(first->topics[i], t);
            const atopic *at = find_atopic(ts, nt, t);
            if (!sub || !at)
                continue;
            int32_t np = cur_partitions_java(m, t, at->partitions, parts);
            if (np <= quota) {
                quota -= np;
                for (int32_t i = 0; i < np; i++)
                    give(m, t, parts[i]);
            } else {
                for (int32_t i = 0; i < np; i++) {
                    if (quota > 0) {
                        quota--;
                        give(m, t, parts[i]);
                    } else {
                        unassigned[nu++] = (od_cg_tp){*t, parts[i]};
                    }
                }
            }
        }
        remaining[mo[oi]] = quota;
    }
    int32_t next = 0;
    for (int32_t oi = 0; oi < nm; oi++) {
        amember *m = &ms[mo[oi]];
        for (int32_t i = 0; i < remaining[mo[oi]] && next < nu; i++, next++)
            give(m, &unassigned[next].topic_id, unassigned[next].partition);
    }
}

/* Heterogeneous subscriptions where Kafka 3.9's builder fails (see the
 * header): keep each member's current partitions of topics it still
 * subscribes to, give every other partition to the least loaded subscriber
 * (topics with fewest subscribers first), then move partitions from the
 * most to the least loaded subscriber while they differ by more than one. */
static void uniform_heterogeneous_fallback(amember *ms, int32_t nm, const int32_t *mo,
                                           const atopic *ts, int32_t nt, od_arena *a)
{
    int32_t *subs = od_arena_calloc(a, (size_t)(nt ? nt : 1), sizeof *subs);
    int32_t *torder = od_arena_alloc(a, (size_t)(nt ? nt : 1) * sizeof *torder);
    for (int32_t t = 0; t < nt; t++) {
        torder[t] = t;
        for (int32_t i = 0; i < nm; i++)
            subs[t] += subscribes(&ms[i], &ts[t].id);
    }
    for (int32_t i = 1; i < nt; i++) /* insertion sort: fewest subscribers first, stable */
        for (int32_t j = i; j > 0 && subs[torder[j]] < subs[torder[j - 1]]; j--) {
            int32_t x = torder[j];
            torder[j] = torder[j - 1];
            torder[j - 1] = x;
        }
    for (int32_t i = 0; i < nm; i++)
        for (int32_t k = 0; k < ms[i].cur.n; k++) {
            const od_cg_tp *tp = &ms[i].cur.v[k];
            const atopic *t = find_atopic(ts, nt, &tp->topic_id);
            if (t && tp->partition >= 0 && tp->partition < t->partitions &&
                subscribes(&ms[i], &t->id))
                give(&ms[i], &t->id, tp->partition);
        }
    for (int32_t ti = 0; ti < nt; ti++) {
        const atopic *t = &ts[torder[ti]];
        if (subs[torder[ti]] == 0)
            continue;
        for (int32_t p = 0; p < t->partitions; p++) {
            od_cg_tp tp = {t->id, p};
            bool held = false;
            for (int32_t i = 0; i < nm && !held; i++)
                for (int32_t k = 0; k < ms[i].out_n && !held; k++)
                    held = tp_cmp(&ms[i].out[k], &tp) == 0;
            if (held)
                continue;
            amember *best = NULL;
            for (int32_t oi = 0; oi < nm; oi++) {
                amember *m = &ms[mo[oi]];
                if (subscribes(m, &t->id) && (!best || m->out_n < best->out_n))
                    best = m;
            }
            give(best, &t->id, p);
        }
    }
    /* balance */
    for (int32_t guard = 0; guard < 100000; guard++) {
        bool moved = false;
        for (int32_t oi = 0; oi < nm && !moved; oi++) {
            amember *hi = &ms[mo[oi]];
            for (int32_t k = hi->out_n - 1; k >= 0 && !moved; k--) {
                amember *lo = NULL;
                for (int32_t oj = 0; oj < nm; oj++) {
                    amember *m = &ms[mo[oj]];
                    if (m != hi && subscribes(m, &hi->out[k].topic_id) &&
                        m->out_n + 1 < hi->out_n && (!lo || m->out_n < lo->out_n))
                        lo = m;
                }
                if (lo) {
                    give(lo, &hi->out[k].topic_id, hi->out[k].partition);
                    hi->out[k] = hi->out[--hi->out_n];
                    moved = true;
                }
            }
        }
        if (!moved)
            break;
    }
}

/* Java's String.compareTo for ids (byte order; equal to UTF-16 order but
 * for supplementary characters against U+E000..U+FFFF). */
static int id_cmp(od_str a, od_str b)
{
    int32_t n = a.len < b.len ? a.len : b.len;
    int c = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;
    if (c)
        return c;
    return (a.len > b.len) - (a.len < b.len);
}

/* RangeAssignor.sortMemberIds: static members first by instance id, then
 * the others by member id. */
static int range_member_cmp(const amember *a, const amember *b)
{
    bool sa = a->instance_id.len >= 0, sb = b->instance_id.len >= 0;
    if (sa && sb)
        return id_cmp(a->instance_id, b->instance_id);
    if (sa != sb)
        return sa ? -1 : 1;
    return id_cmp(a->id, b->id);
}

/* Kafka 3.9's RangeAssignor: members in sorted order, each takes the next
 * contiguous range of every topic it subscribes to (quota, plus one while
 * extra partitions remain), so equal-sized topics are co-partitioned. No
 * stickiness: the order decides. */
static void range_assign(amember *ms, int32_t nm, const atopic *ts, int32_t nt, od_arena *a)
{
    int32_t *sorted = od_arena_alloc(a, (size_t)nm * sizeof *sorted);
    int32_t *next = od_arena_calloc(a, (size_t)(nt ? nt : 1), sizeof *next);
    int32_t *extra = od_arena_alloc(a, (size_t)(nt ? nt : 1) * sizeof *extra);
    int32_t *quota = od_arena_alloc(a, (size_t)(nt ? nt : 1) * sizeof *quota);
    if (!sorted || !next || !extra || !quota)
        return;
    for (int32_t i = 0; i < nm; i++) {
        int32_t j = i;
        for (; j > 0 && range_member_cmp(&ms[sorted[j - 1]], &ms[i]) > 0; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = i;
    }
    for (int32_t t = 0; t < nt; t++) {
        int32_t subscribers = 0;
        for (int32_t i = 0; i < nm; i++)
            subscribers += subscribes(&ms[i], &ts[t].id);
        quota[t] = subscribers ? ts[t].partitions / subscribers : 0;
        extra[t] = subscribers ? ts[t].partitions % subscribers : 0;
    }
    for (int32_t k = 0; k < nm; k++) {
        amember *m = &ms[sorted[k]];
        for (int32_t t = 0; t < nt; t++) {
            if (!subscribes(m, &ts[t].id))
                continue;
            int32_t q = quota[t];
            if (extra[t] > 0) {
                q++;
                extra[t]--;
            }
            int32_t end = next[t] + q < ts[t].partitions ? next[t] + q : ts[t].partitions;
            for (int32_t p = next[t]; p < end; p++)
                give(m, &ts[t].id, p);
            next[t] = end;
        }
    }
}

/* Kafka 3.9's UniformHeterogeneousAssignmentBuilder, for members with
 * differing subscriptions, reproduced step by step (its order of iteration
 * included) so the targets are Kafka's own:
 *   1. keep each member's current partitions of topics it still subscribes to;
 *   2. hand out the rest, partitions sorted by partitions per subscriber
 *      (descending), then subscribers, then partition number (a stable sort
 *      of the HashSet order of the remaining partitions), each to the
 *      subscriber with the fewest partitions (then the smallest id) that
 *      can still take one;
 *   3. balance: walk the partitions of topics with two or more subscribers
 *      in the same order, moving one from its owner to the least loaded
 *      subscriber while the owner holds two more than some subscriber,
 *      until no move helps; a move may be swapped for one that undoes an
 *      earlier move of the topic (its PartitionMovements).
 * "sorted" is Kafka's sortedMembersByAssignmentSize: members below their
 * maximum, ordered by (target size, member id), which a member leaves and
 * rejoins on every change of its size. Kafka's builder throws on some
 * inputs (a partition moved twice); then this returns false. */

typedef struct uh_moveset {
    int32_t topic, src, dst;     /* a MemberPair's moves within one topic */
    int32_t *tps;                /* partitions, in insertion order */
    int32_t n, cap;
    int32_t max_n;               /* the HashSet's capacity follows its largest size */
} uh_moveset;

typedef struct uh {
    amember *ms;
    int32_t nm;
    const atopic *ts;
    int32_t nt;
    od_arena *a;
    bool *sub;                   /* nm x nt: member m subscribes to topic t */
    int32_t *subscribers;        /* per topic */
    int32_t *base;               /* per topic: its first partition's index, -1 unsubscribed */
    int32_t np;                  /* partitions of subscribed topics */
    int32_t *tp_topic, *tp_part; /* per partition index */
    int32_t *tp_hash_order;      /* partition indexes in unassignedPartitions' HashSet order */
    int32_t *owner;              /* per partition: member or -1 */
    int32_t *size, *max;         /* per member */
    bool *sorted;                /* in sortedMembersByAssignmentSize */
    bool *unassigned;            /* in unassignedPartitions */
    int32_t *mv_src, *mv_dst;    /* partitionMovementsByPartition; mv_src -1: none */
    uh_moveset *sets;
    int32_t nsets, capsets;
    bool failed;
} uh;

static int32_t uh_tp_hash(const uh *u, int32_t tp)
{
    /* TopicIdPartition.hashCode: Objects.hash(topicId, partitionId) */
    uint32_t h = 31u * (31u + (uint32_t)java_uuid_hash(&u->ts[u->tp_topic[tp]].id)) +
                 (uint32_t)u->tp_part[tp];
    return (int32_t)h;
}

/* Whether member a comes before member b in "sorted". */
static bool uh_before(const uh *u, int32_t a, int32_t b)
{
    if (u->size[a] != u->size[b])
        return u->size[a] < u->size[b];
    return id_cmp(u->ms[a].id, u->ms[b].id) < 0;
}

/* The first member of "sorted" that passes the filter (topic >= 0: it
 * subscribes to that topic), or -1. */
static int32_t uh_first_sorted(const uh *u, int32_t topic)
{
    int32_t best = -1;
    for (int32_t m = 0; m < u->nm; m++)
        if (u->sorted[m] && (topic < 0 || u->sub[m * u->nt + topic]) &&
            (best < 0 || uh_before(u, m, best)))
            best = m;
    return best;
}

static void uh_add(uh *u, int32_t tp, int32_t m)
{
    u->owner[tp] = m;
    u->size[m]++;
    u->sorted[m] = u->size[m] < u->max[m];
    u->unassigned[tp] = false;
}

static void uh_remove(uh *u, int32_t tp, int32_t m)
{
    if (u->owner[tp] == m)
        u->owner[tp] = -1;
    if (u->size[m] > 0)
        u->size[m]--;
    u->sorted[m] = u->size[m] < u->max[m];
}

/* Stable sort of partition indexes by Kafka's sortTopicIdPartitions key. */
static bool uh_tp_less(const uh *u, int32_t x, int32_t y)
{
    int32_t tx = u->tp_topic[x], ty = u->tp_topic[y];
    int64_t rx = (int64_t)u->ts[tx].partitions * u->subscribers[ty];
    int64_t ry = (int64_t)u->ts[ty].partitions * u->subscribers[tx];
    if (rx != ry)
        return rx > ry; /* more partitions per subscriber first */
    if (u->subscribers[tx] != u->subscribers[ty])
        return u->subscribers[tx] < u->subscribers[ty];
    return u->tp_part[x] < u->tp_part[y];
}

static void uh_merge_sort(const uh *u, int32_t *v, int32_t *tmp, int32_t n)
{
    if (n < 2)
        return;
    int32_t h = n / 2;
    uh_merge_sort(u, v, tmp, h);
    uh_merge_sort(u, v + h, tmp, n - h);
    int32_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = uh_tp_less(u, v[j], v[i]) ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, (size_t)n * sizeof *v);
}

/* The unassigned partitions in HashSet order, sorted; count in *n. */
static int32_t *uh_sorted_unassigned(uh *u, int32_t *n)
{
    int32_t *v = od_arena_alloc(u->a, (size_t)(u->np ? u->np : 1) * sizeof *v);
    int32_t *tmp = od_arena_alloc(u->a, (size_t)(u->np ? u->np : 1) * sizeof *tmp);
    *n = 0;
    if (!v || !tmp) {
        u->failed = true;
        return NULL;
    }
    for (int32_t i = 0; i < u->np; i++)
        if (u->unassigned[u->tp_hash_order[i]])
            v[(*n)++] = u->tp_hash_order[i];
    uh_merge_sort(u, v, tmp, *n);
    return v;
}

static uh_moveset *uh_find_set(uh *u, int32_t topic, int32_t src, int32_t dst)
{
    for (int32_t i = 0; i < u->nsets; i++) {
        uh_moveset *s = &u->sets[i];
        if (s->n > 0 && s->topic == topic && s->src == src && s->dst == dst)
            return s;
    }
    return NULL;
}

static bool uh_topic_has_moves(const uh *u, int32_t topic)
{
    for (int32_t i = 0; i < u->nsets; i++)
        if (u->sets[i].n > 0 && u->sets[i].topic == topic)
            return true;
    return false;
}

static void uh_record_move(uh *u, int32_t tp, int32_t src, int32_t dst)
{
    u->mv_src[tp] = src;
    u->mv_dst[tp] = dst;
    uh_moveset *s = uh_find_set(u, u->tp_topic[tp], src, dst);
    if (!s) {
        if (!od_arena_grow(u->a, &u->sets, &u->capsets, u->nsets + 1, sizeof *u->sets)) {
            u->failed = true;
            return;
        }
        s = &u->sets[u->nsets++];
        *s = (uh_moveset){u->tp_topic[tp], src, dst, NULL, 0, 0, 0};
    }
    if (!od_arena_grow(u->a, &s->tps, &s->cap, s->n + 1, sizeof *s->tps)) {
        u->failed = true;
        return;
    }
    s->tps[s->n++] = tp;
    if (s->n > s->max_n)
        s->max_n = s->n;
}

static void uh_forget_move(uh *u, int32_t tp)
{
    uh_moveset *s = uh_find_set(u, u->tp_topic[tp], u->mv_src[tp], u->mv_dst[tp]);
    u->mv_src[tp] = u->mv_dst[tp] = -1;
    if (!s)
        return;
    for (int32_t i = 0; i < s->n; i++)
        if (s->tps[i] == tp) {
            memmove(&s->tps[i], &s->tps[i + 1], (size_t)(s->n - i - 1) * sizeof *s->tps);
            s->n--;
            break;
        }
    if (s->n == 0)
        s->max_n = 0; /* the set is dropped; a new one starts small */
}

/* The first partition of a moveset in its HashSet's iteration order. */
static int32_t uh_set_first(const uh *u, const uh_moveset *s)
{
    uint32_t cap = cap_for_puts(s->max_n);
    int32_t best = -1;
    uint32_t best_bucket = 0;
    for (int32_t i = 0; i < s->n; i++) {
        uint32_t b = java_spread(uh_tp_hash(u, s->tps[i])) & (cap - 1);
        if (best < 0 || b < best_bucket) {
            best = s->tps[i];
            best_bucket = b;
        }
    }
    return best;
}

/* PartitionMovements.computeActualPartitionToBeMoved */
static int32_t uh_actual_to_move(uh *u, int32_t tp, int32_t old_owner, int32_t new_owner)
{
    int32_t topic = u->tp_topic[tp];
    if (!uh_topic_has_moves(u, topic))
        return tp;
    if (u->mv_src[tp] >= 0) {
        if (u->mv_dst[tp] != old_owner) {
            u->failed = true;
            return tp;
        }
        old_owner = u->mv_src[tp];
    }
    const uh_moveset *reverse = uh_find_set(u, topic, new_owner, old_owner);
    return reverse ? uh_set_first(u, reverse) : tp;
}

/* PartitionMovements.movePartition, then the owner change. */
static void uh_move(uh *u, int32_t tp, int32_t new_owner)
{
    int32_t old_owner = u->owner[tp];
    if (u->mv_src[tp] >= 0) {
        int32_t src = u->mv_src[tp], dst = u->mv_dst[tp];
        uh_forget_move(u, tp);
        /* Kafka 3.9.2 throws here whenever the partition moved before
         * (its recorded destination is always the current owner). */
        if (dst == old_owner) {
            u->failed = true;
            return;
        }
        if (src != new_owner)
            uh_record_move(u, tp, src, new_owner);
    } else {
        uh_record_move(u, tp, old_owner, new_owner);
    }
    if (old_owner >= 0)
        uh_remove(u, tp, old_owner);
    uh_add(u, tp, new_owner);
}

static bool uh_owns_topic(const uh *u, int32_t m, int32_t t)
{
    for (int32_t p = 0; p < u->ts[t].partitions; p++)
        if (u->owner[u->base[t] + p] == m)
            return true;
    return false;
}

/* isBalanced */
static bool uh_balanced(const uh *u)
{
    int32_t lo = -1, hi = -1;
    for (int32_t m = 0; m < u->nm; m++) {
        if (!u->sorted[m])
            continue;
        if (lo < 0 || uh_before(u, m, lo))
            lo = m;
        if (hi < 0 || uh_before(u, hi, m))
            hi = m;
    }
    if (lo < 0 || u->size[lo] >= u->size[hi] - 1)
        return true;
    for (int32_t m = 0; m < u->nm; m++) {
        if (!u->sorted[m] || u->size[m] == u->max[m])
            continue;
        for (int32_t t = 0; t < u->nt; t++) {
            if (!u->sub[m * u->nt + t])
                continue;
            for (int32_t p = 0; p < u->ts[t].partitions; p++) {
                int32_t other = u->owner[u->base[t] + p];
                if (other != m && u->size[m] + 1 < (other >= 0 ? u->size[other] : 0))
                    return false;
            }
        }
    }
    return true;
}

static void uh_perform_reassignments(uh *u)
{
    bool modified;
    do {
        modified = false;
        bool occurred = false;
        int32_t n;
        int32_t *list = uh_sorted_unassigned(u, &n);
        for (int32_t i = 0; i < n && !u->failed; i++) {
            if (occurred && uh_balanced(u))
                return;
            occurred = false;
            int32_t tp = list[i], t = u->tp_topic[tp], owner = u->owner[tp];
            if (owner < 0) {
                u->failed = true;
                return;
            }
            bool move = false;
            for (int32_t m = 0; m < u->nm && !move; m++)
                move = u->sub[m * u->nt + t] && u->size[owner] > u->size[m] + 1;
            if (!move)
                continue;
            int32_t new_owner = uh_first_sorted(u, t);
            if (new_owner < 0) {
                u->failed = true;
                return;
            }
            uh_move(u, uh_actual_to_move(u, tp, owner, new_owner), new_owner);
            modified = occurred = true;
        }
    } while (modified && !u->failed);
}

static bool uniform_heterogeneous_kafka(amember *ms, int32_t nm, const int32_t *mo, const atopic *ts,
                                        int32_t nt, od_arena *a)
{
    uh u = {.ms = ms, .nm = nm, .ts = ts, .nt = nt, .a = a};
    u.sub = od_arena_calloc(a, (size_t)nm * (size_t)(nt ? nt : 1), sizeof *u.sub);
    u.subscribers = od_arena_calloc(a, (size_t)(nt ? nt : 1), sizeof *u.subscribers);
    u.base = od_arena_alloc(a, (size_t)(nt ? nt : 1) * sizeof *u.base);
    u.size = od_arena_calloc(a, (size_t)nm, sizeof *u.size);
    u.max = od_arena_calloc(a, (size_t)nm, sizeof *u.max);
    u.sorted = od_arena_calloc(a, (size_t)nm, sizeof *u.sorted);
    int32_t *topic_order = od_arena_alloc(a, (size_t)(nt ? nt : 1) * sizeof *topic_order);
    int32_t *hashes = od_arena_alloc(a, (size_t)(nt ? nt : 1) * sizeof *hashes);
    int32_t *iter = od_arena_alloc(a, (size_t)(nt ? nt : 1) * sizeof *iter);
    if (!u.sub || !u.subscribers || !u.base || !u.size || !u.max || !u.sorted || !topic_order ||
        !hashes || !iter)
        return false;

    /* subscribedTopicIds: a HashSet filled member by member (GroupSpec's
     * HashMap order), each member's topics in its own HashSet's order. */
    int32_t nsub = 0;
    for (int32_t oi = 0; oi < nm; oi++) {
        int32_t m = mo[oi];
        int32_t k = ms[m].topic_count;
        int32_t *mt = od_arena_alloc(a, (size_t)(k ? k : 1) * sizeof *mt);
        int32_t *mh = od_arena_alloc(a, (size_t)(k ? k : 1) * sizeof *mh);
        int32_t *mord = od_arena_alloc(a, (size_t)(k ? k : 1) * sizeof *mord);
        if (!mt || !mh || !mord)
            return false;
        for (int32_t i = 0; i < k; i++) {
            const atopic *t = find_atopic(ts, nt, ms[m].topics[i]);
            mt[i] = t ? (int32_t)(t - ts) : -1;
            mh[i] = java_uuid_hash(ms[m].topics[i]);
        }
        if (!java_order(mh, k, cap_for_puts(k), mord))
            return false;
        for (int32_t i = 0; i < k; i++) {
            int32_t t = mt[mord[i]];
            if (t < 0 || u.sub[m * nt + t])
                continue;
            u.sub[m * nt + t] = true;
            u.max[m] += ts[t].partitions;
            if (u.subscribers[t]++ == 0) {
                topic_order[nsub] = t;
                hashes[nsub++] = java_uuid_hash(&ts[t].id);
            }
        }
    }
    if (nsub == 0)
        return true;
    if (!java_order(hashes, nsub, cap_for_puts(nsub), iter))
        return false;

    /* Partition indexes: topics in that HashSet's order, partitions
     * ascending, which is also the insertion order of unassignedPartitions. */
    for (int32_t t = 0; t < nt; t++)
        u.base[t] = -1;
    for (int32_t i = 0; i < nsub; i++) {
        int32_t t = topic_order[iter[i]];
        u.base[t] = u.np;
        u.np += ts[t].partitions;
    }
    int32_t np = u.np ? u.np : 1;
    u.tp_topic = od_arena_alloc(a, (size_t)np * sizeof *u.tp_topic);
    u.tp_part = od_arena_alloc(a, (size_t)np * sizeof *u.tp_part);
    u.tp_hash_order = od_arena_alloc(a, (size_t)np * sizeof *u.tp_hash_order);
    u.owner = od_arena_alloc(a, (size_t)np * sizeof *u.owner);
    u.unassigned = od_arena_alloc(a, (size_t)np * sizeof *u.unassigned);
    u.mv_src = od_arena_alloc(a, (size_t)np * sizeof *u.mv_src);
    u.mv_dst = od_arena_alloc(a, (size_t)np * sizeof *u.mv_dst);
    int32_t *tp_hashes = od_arena_alloc(a, (size_t)np * sizeof *tp_hashes);
    if (!u.tp_topic || !u.tp_part || !u.tp_hash_order || !u.owner || !u.unassigned || !u.mv_src ||
        !u.mv_dst || !tp_hashes)
        return false;
    for (int32_t t = 0; t < nt; t++)
        for (int32_t p = 0; u.base[t] >= 0 && p < ts[t].partitions; p++) {
            int32_t tp = u.base[t] + p;
            u.tp_topic[tp] = t;
            u.tp_part[tp] = p;
        }
    for (int32_t tp = 0; tp < u.np; tp++) {
        tp_hashes[tp] = uh_tp_hash(&u, tp);
        u.owner[tp] = u.mv_src[tp] = u.mv_dst[tp] = -1;
        u.unassigned[tp] = true;
    }
    if (!java_order(tp_hashes, u.np, cap_for_puts(u.np), u.tp_hash_order))
        return false;
    for (int32_t m = 0; m < nm; m++)
        u.sorted[m] = u.max[m] > 0;

    /* 1. sticky partitions */
    for (int32_t m = 0; m < nm; m++)
        for (int32_t k = 0; k < ms[m].cur.n; k++) {
            const od_cg_tp *c = &ms[m].cur.v[k];
            const atopic *t = find_atopic(ts, nt, &c->topic_id);
            if (!t || !u.sub[m * nt + (t - ts)] || c->partition < 0 || c->partition >= t->partitions)
                continue;
            int32_t tp = u.base[t - ts] + c->partition;
            if (u.owner[tp] < 0)
                uh_add(&u, tp, m);
        }

    /* 2. the rest, each to the least loaded subscriber with room */
    int32_t n;
    int32_t *list = uh_sorted_unassigned(&u, &n);
    for (int32_t i = 0; i < n; i++) {
        int32_t tp = list[i], best = -1;
        for (int32_t m = 0; m < nm; m++)
            if (u.sub[m * nt + u.tp_topic[tp]] && u.size[m] < u.max[m] &&
                (best < 0 || uh_before(&u, m, best)))
                best = m;
        if (best >= 0)
            uh_add(&u, tp, best);
    }

    /* 3. balance, over partitions of topics with two or more subscribers
     * and members that could still change */
    for (int32_t tp = 0; tp < u.np; tp++) {
        if (u.unassigned[tp])
            return false; /* Kafka: "Some partitions were left unassigned" */
        u.unassigned[tp] = u.subscribers[u.tp_topic[tp]] >= 2;
    }
    bool any = false;
    for (int32_t tp = 0; tp < u.np; tp++)
        any = any || u.unassigned[tp];
    for (int32_t m = 0; m < nm; m++) {
        bool participates = u.size[m] < u.max[m];
        for (int32_t t = 0; t < nt && !participates; t++)
            participates = u.base[t] >= 0 && u.subscribers[t] >= 2 && uh_owns_topic(&u, m, t);
        if (!participates)
            u.sorted[m] = false;
    }
    if (any)
        uh_perform_reassignments(&u);
    if (u.failed)
        return false;
    for (int32_t tp = 0; tp < u.np; tp++)
        if (u.owner[tp] >= 0)
            give(&ms[u.owner[tp]], &ts[u.tp_topic[tp]].id, u.tp_part[tp]);
    return true;
}

/* Returns false when Kafka's heterogeneous builder fails on this input (the
 * targets then come from the fallback). */
static bool run_assignor(od_cg_assignor which, amember *ms, int32_t n, const atopic *ts,
                         int32_t nt, bool homogeneous, od_arena *a, int32_t *mo)
{
    int32_t *hashes = od_arena_alloc(a, (size_t)n * sizeof *hashes);
    if (!hashes)
        return true;
    for (int32_t i = 0; i < n; i++)
        hashes[i] = od_java_string_hash(ms[i].id);
    if (!java_order(hashes, n, cap_for_puts(n), mo))
        return true;
    if (which == OD_CG_ASSIGNOR_RANGE) {
        range_assign(ms, n, ts, nt, a);
    } else if (homogeneous) {
        uniform_homogeneous(ms, n, mo, ts, nt, a);
    } else if (!uniform_heterogeneous_kafka(ms, n, mo, ts, nt, a)) {
        for (int32_t i = 0; i < n; i++)
            ms[i].out_n = 0;
        uniform_heterogeneous_fallback(ms, n, mo, ts, nt, a);
        return false;
    }
    return true;
}

static bool names_within(const msub *a, const msub *b)
{
    for (int32_t i = 0; i < a->topic_count; i++) {
        bool found = false;
        for (int32_t k = 0; k < b->topic_count && !found; k++)
            found = str_eq(a->topics[i], b->topics[k]);
        if (!found)
            return false;
    }
    return true;
}

/* Kafka's ConsumerGroup.subscriptionType: without regexes, homogeneous
 * when every member subscribes to every topic name any member names,
 * whether the topic exists or not (so [a, missing] and [a] are
 * heterogeneous); with one, homogeneous only when every member has that
 * same regex and no member names topics. */
static bool same_subscription(const view_member *x, const view_member *y)
{
    if (x->sub.regex.len > 0 || y->sub.regex.len > 0)
        return str_eq(x->sub.regex, y->sub.regex) && x->sub.topic_count == 0 &&
               y->sub.topic_count == 0;
    return names_within(&x->sub, &y->sub) && names_within(&y->sub, &x->sub);
}

/* Runs the assignor over the view; targets[i] gets view member i's new
 * target (arena). Returns false on OOM. */
static bool assign(od_cg_assignor which, const view_member *v, int32_t n, const metaview *meta,
                   int32_t nmeta, od_arena *a, tpset *targets)
{
    if (n == 0)
        return true;
    int32_t total = 0;
    atopic *ts = od_arena_alloc(a, (size_t)(nmeta ? nmeta : 1) * sizeof *ts);
    amember *ms = od_arena_calloc(a, (size_t)n, sizeof *ms);
    int32_t *mo = od_arena_alloc(a, (size_t)n * sizeof *mo);
    if (!ts || !ms || !mo)
        return false;
    for (int32_t i = 0; i < nmeta; i++) {
        ts[i] = (atopic){meta[i].id, meta[i].partitions};
        total += meta[i].partitions;
    }
    bool homogeneous = true;
    for (int32_t i = 0; i < n; i++) {
        ms[i].id = v[i].sub.id;
        ms[i].instance_id = v[i].sub.instance_id;
        ms[i].cur = v[i].cur_target;
        ms[i].topics = od_arena_alloc(a, (size_t)(v[i].topic_count ? v[i].topic_count : 1) *
                                             sizeof *ms[i].topics);
        ms[i].out = od_arena_alloc(a, (size_t)(total ? total : 1) * sizeof *ms[i].out);
        if (!ms[i].topics || !ms[i].out)
            return false;
        for (int32_t k = 0; k < v[i].topic_count; k++)
            ms[i].topics[ms[i].topic_count++] = &v[i].topics[k]->id;
        homogeneous = homogeneous && same_subscription(&v[i], &v[0]);
    }
    (void)run_assignor(which, ms, n, ts, nmeta, homogeneous, a, mo);
    for (int32_t i = 0; i < n; i++) {
        targets[i] = (tpset){ms[i].out, ms[i].out_n};
        tpset_normalize(&targets[i]);
    }
    return true;
}

static bool ids_within(const od_cg_assignor_member *a, const od_cg_assignor_member *b)
{
    for (int32_t i = 0; i < a->topic_count; i++) {
        bool found = false;
        for (int32_t k = 0; k < b->topic_count && !found; k++)
            found = od_uuid_eq(&a->topics[i], &b->topics[k]);
        if (!found)
            return false;
    }
    return true;
}

int od_cg_run_assignor(od_cg_assignor which, od_cg_assignor_member *members, int32_t n,
                       const od_cg_topic *topics, int32_t topic_count, od_arena *a)
{
    if (n <= 0)
        return 0;
    int32_t total = 0;
    atopic *ts = od_arena_alloc(a, (size_t)(topic_count ? topic_count : 1) * sizeof *ts);
    amember *ms = od_arena_calloc(a, (size_t)n, sizeof *ms);
    int32_t *mo = od_arena_alloc(a, (size_t)n * sizeof *mo);
    if (!ts || !ms || !mo)
        return -1;
    for (int32_t i = 0; i < topic_count; i++) {
        ts[i] = (atopic){topics[i].id, topics[i].partitions};
        total += topics[i].partitions;
    }
    bool homogeneous = true;
    for (int32_t i = 0; i < n; i++) {
        od_cg_assignor_member *m = &members[i];
        ms[i].id = m->member_id;
        ms[i].instance_id = m->instance_id;
        ms[i].topics = od_arena_alloc(a, (size_t)(m->topic_count ? m->topic_count : 1) *
                                             sizeof *ms[i].topics);
        ms[i].out = od_arena_alloc(a, (size_t)(total ? total : 1) * sizeof *ms[i].out);
        tpset cur = tpset_arena(a, m->current_count);
        if (!ms[i].topics || !ms[i].out || !cur.v)
            return -1;
        for (int32_t k = 0; k < m->topic_count; k++)
            if (find_atopic(ts, topic_count, &m->topics[k]))
                ms[i].topics[ms[i].topic_count++] = &m->topics[k];
        if (m->current_count)
            memcpy(cur.v, m->current, (size_t)m->current_count * sizeof *cur.v);
        cur.n = m->current_count;
        tpset_normalize(&cur);
        ms[i].cur = cur;
        /* as Kafka decides it, on the subscriptions as given, topics that
         * do not exist included (same_subscription) */
        homogeneous = homogeneous && ids_within(m, &members[0]) && ids_within(&members[0], m);
    }
    bool as_kafka = run_assignor(which, ms, n, ts, topic_count, homogeneous, a, mo);
    for (int32_t i = 0; i < n; i++) {
        tpset out = {ms[i].out, ms[i].out_n};
        tpset_normalize(&out);
        members[i].result = out.v;
        members[i].result_count = out.n;
    }
    return as_kafka ? 0 : 1;
}

/* The group's assignor: the one most members name, else the default. */
static od_cg_assignor preferred_assignor(const od_cg *cg, const view_member *v, int32_t n)
{
    int32_t counts[2] = {0, 0};
    for (int32_t i = 0; i < n; i++) {
        od_cg_assignor x;
        if (v[i].sub.assignor.len > 0 && assignor_by_name(cg, v[i].sub.assignor, &x))
            counts[x]++;
    }
    od_cg_assignor best = cg->cfg.assignors[0];
    for (int32_t i = 0; i < cg->cfg.assignor_count; i++) {
        od_cg_assignor x = cg->cfg.assignors[i];
        if (counts[x] > counts[best])
            best = x;
    }
    return best;
}

/* Computes a new target assignment for the view and adds the target
 * records of members whose target changed, then the assignment epoch.
 * self_target gets view member self_index's target. */
static bool update_target(const od_cg *cg, const cgroup *g, const view_member *v, int32_t n,
                          const metaview *meta, int32_t nmeta, int32_t epoch, reclist *rl,
                          int32_t self_index, tpset *self_target)
{
    tpset *targets = od_arena_calloc(rl->arena, (size_t)(n ? n : 1), sizeof *targets);
    if (!targets ||
        !assign(preferred_assignor(cg, v, n), v, n, meta, nmeta, rl->arena, targets))
        return false;
    od_str gid = bstr(&g->id);
    for (int32_t i = 0; i < n; i++) {
        const cmember *m = v[i].m;
        if (!m || !m->has_target || !tpset_eq(&m->target, &targets[i]))
            rec_target_member(rl, gid, v[i].sub.id, &targets[i]);
        if (i == self_index)
            *self_target = targets[i];
    }
    rec_target_epoch(rl, gid, epoch);
    return true;
}

/* ---------------------------------------------------------------- reconciliation */

/* Kafka's currentPartitionEpoch over the group, with `self` (its old
 * holdings) skipped and its in-flight pending set counted instead: true
 * when someone holds tp. */
static bool partition_held(const cgroup *g, const cmember *skip, const cmember *also_skip,
                           const tpset *self_pending, const od_cg_tp *tp)
{
    if (tpset_has(self_pending, tp))
        return true;
    for (int32_t i = 0; i < g->member_count; i++) {
        const cmember *m = g->members[i];
        if (m == skip || m == also_skip)
            continue;
        if (tpset_has(&m->assigned, tp) || tpset_has(&m->pending, tp))
            return true;
    }
    return false;
}

/* Whether the member still owns one of the partitions (owned NULL: Kafka
 * assumes it does). */
static bool owns_any(const tpset *owned, const tpset *revoking)
{
    if (!owned)
        return true;
    for (int32_t i = 0; i < revoking->n; i++)
        if (tpset_has(owned, &revoking->v[i]))
            return true;
    return false;
}

static cur_assign next_assignment(const cgroup *g, const cmember *skip, const cmember *skip2,
                                  const cur_assign *c, int32_t member_epoch,
                                  int32_t target_epoch, const tpset *target, const tpset *owned,
                                  od_arena *a)
{
    tpset keep = tpset_op(a, &c->assigned, target, true);
    tpset revoke = tpset_op(a, &c->assigned, target, false);
    tpset want = tpset_op(a, target, &c->assigned, false);
    bool unreleased = false;
    tpset assigned = tpset_arena(a, keep.n + want.n);
    for (int32_t i = 0; i < keep.n; i++)
        assigned.v[assigned.n++] = keep.v[i];
    cur_assign r = {.prev_epoch = c->epoch, .assigned = assigned, .pending = {NULL, 0}};
    if (revoke.n > 0 && owns_any(owned, &revoke)) {
        /* Revoke first; nothing new until the member has acknowledged. */
        r.state = OD_CG_MEMBER_UNREVOKED_PARTITIONS;
        r.epoch = member_epoch;
        r.pending = revoke;
        return r;
    }
    for (int32_t i = 0; i < want.n; i++) {
        if (partition_held(g, skip, skip2, &c->pending, &want.v[i]))
            unreleased = true;
        else
            assigned.v[assigned.n++] = want.v[i];
    }
    tpset_normalize(&assigned);
    r.assigned = assigned;
    {
        r.state = unreleased ? OD_CG_MEMBER_UNRELEASED_PARTITIONS : OD_CG_MEMBER_STABLE;
        r.epoch = target_epoch;
    }
    return r; /* updateMemberEpoch: previous = the epoch before, always */
}

/* Kafka's CurrentAssignmentBuilder.build. */
static cur_assign reconcile(const cgroup *g, const cmember *skip, const cmember *skip2,
                            const cur_assign *c, int32_t target_epoch, const tpset *target,
                            const tpset *owned, od_arena *a)
{
    switch (c->state) {
    case OD_CG_MEMBER_STABLE:
        if (c->epoch != target_epoch)
            return next_assignment(g, skip, skip2, c, c->epoch, target_epoch, target, owned, a);
        return *c;
    case OD_CG_MEMBER_UNREVOKED_PARTITIONS:
        if (owns_any(owned, &c->pending))
            return *c;
        {
            int32_t e = c->epoch + 1 < target_epoch ? c->epoch + 1 : target_epoch;
            cur_assign cc = *c;
            cc.pending = (tpset){NULL, 0};
            return next_assignment(g, skip, skip2, &cc, e, target_epoch, target, owned, a);
        }
    default:
        return next_assignment(g, skip, skip2, c, c->epoch, target_epoch, target, owned, a);
    }
}

static bool cur_eq(const cur_assign *a, const cur_assign *b)
{
    return a->epoch == b->epoch && a->prev_epoch == b->prev_epoch && a->state == b->state &&
           tpset_eq(&a->assigned, &b->assigned) && tpset_eq(&a->pending, &b->pending);
}

static cur_assign member_cur(const cmember *m)
{
    return (cur_assign){m->epoch, m->prev_epoch, m->state, m->assigned, m->pending};
}

/* ---------------------------------------------------------------- fencing */

/* Kafka's consumerGroupFenceMember: remove, refresh the subscription
 * metadata without the member, bump the group epoch. */
static bool fence_records(const od_cg *cg, const cgroup *g, const cmember *m, reclist *rl)
{
    od_str gid = bstr(&g->id);
    rec_remove_member(rl, gid, bstr(&m->id));
    view_member *v;
    int32_t n = build_view(cg, g, m, NULL, NULL, (tpset){NULL, 0}, rl->arena, &v);
    if (n < 0)
        return false;
    metaview *meta;
    int32_t nmeta = compute_metadata(cg, v, n, rl->arena, &meta);
    if (!metadata_equal(g, meta, nmeta))
        rec_partition_metadata(rl, gid, meta, nmeta);
    rec_group_epoch(rl, gid, g->group_epoch + 1);
    return true;
}

static bool downgrade_allowed(const od_cg *cg, const cgroup *g, const cmember *leaving);
static int16_t downgrade_to_classic(od_cg *cg, cgroup *g, const cmember *leaving, od_arena *a);

/* Kafka's consumerGroupFenceMember, which downgrades the group instead when
 * only classic members would remain and the policy allows it. */
static int16_t fence_member(od_cg *cg, cgroup *g, cmember *m, od_arena *arena)
{
    if (downgrade_allowed(cg, g, m))
        return downgrade_to_classic(cg, g, m, arena);
    reclist rl;
    rl_init(&rl, arena);
    if (!fence_records(cg, g, m, &rl))
        return OD_GC_UNKNOWN_SERVER_ERROR;
    return commit_records(cg, g->partition, &rl);
}

/* ---------------------------------------------------------------- heartbeat */

static void hb_error(od_consumer_group_heartbeat_response *resp, int16_t err, const char *msg)
{
    resp->error_code = err;
    resp->error_message = msg ? (od_str){msg, (int32_t)strlen(msg)} : OD_STR_NULL;
    resp->member_id = OD_STR_NULL;
    resp->member_epoch = 0;
    resp->heartbeat_interval_ms = 0;
    resp->assignment = NULL;
}

/* Kafka's throwIfRegularExpressionIsInvalid, for a regex a member brings
 * that no member of the group has yet: 0 when RE2/J's syntax accepts it,
 * else INVALID_REGULAR_EXPRESSION with Kafka's message (in arena). */
static int16_t check_new_regex(const cgroup *g, const cmember *base, od_str regex,
                               od_arena *arena, const char **msg)
{
    if (regex.len <= 0 || (base && beq(&base->regex, regex)))
        return OD_GC_NONE;
    for (int32_t i = 0; i < g->member_count; i++)
        if (beq(&g->members[i]->regex, regex))
            return OD_GC_NONE;
    od_regex *re = NULL;
    od_regex_error err = {0};
    od_regex_status st = od_regex_compile(regex.ptr, (size_t)regex.len, &re, &err);
    od_regex_free(re);
    if (st == OD_REGEX_OK)
        return OD_GC_NONE;
    if (st == OD_REGEX_NOMEM) {
        *msg = NULL;
        return OD_GC_UNKNOWN_SERVER_ERROR;
    }
    static const char fmt[] = "SubscribedTopicRegex `%.*s` is not a valid regular expression: %s.";
    size_t n = sizeof fmt + (size_t)regex.len + strlen(err.message);
    char *text = od_arena_alloc(arena, n);
    if (text)
        snprintf(text, n, fmt, (int)regex.len, regex.ptr, err.message);
    *msg = text ? text : "SubscribedTopicRegex is not a valid regular expression.";
    return OD_CG_INVALID_REGULAR_EXPRESSION;
}

/* Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid (the regex is
 * checked later, check_new_regex, where Kafka checks it). */
static int16_t validate_request(const od_cg *cg, const od_consumer_group_heartbeat_request *r,
                                od_str regex, const char **msg)
{
    if (r->group_id.len <= 0) {
        *msg = "GroupId can't be empty.";
        return OD_CG_INVALID_REQUEST;
    }
    if (r->instance_id.len == 0) {
        *msg = "InstanceId can't be empty.";
        return OD_CG_INVALID_REQUEST;
    }
    if (r->rack_id.len == 0) {
        *msg = "RackId can't be empty.";
        return OD_CG_INVALID_REQUEST;
    }
    if (r->member_epoch > 0 || r->member_epoch == OD_CG_LEAVE_EPOCH) {
        if (r->member_id.len <= 0) {
            *msg = "MemberId can't be empty.";
            return OD_CG_INVALID_REQUEST;
        }
    } else if (r->member_epoch == 0) {
        if (r->rebalance_timeout_ms == -1) {
            *msg = "RebalanceTimeoutMs must be provided in first request.";
            return OD_CG_INVALID_REQUEST;
        }
        if (r->topic_partitions.count != 0) {
            *msg = "TopicPartitions must be empty when (re-)joining.";
            return OD_CG_INVALID_REQUEST;
        }
        if (r->subscribed_topic_names.count < 0 && regex.len < 0) {
            *msg = "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.";
            return OD_CG_INVALID_REQUEST;
        }
    } else if (r->member_epoch == OD_CG_LEAVE_STATIC_EPOCH) {
        if (r->instance_id.len < 0) {
            *msg = "InstanceId can't be null.";
            return OD_CG_INVALID_REQUEST;
        }
    } else {
        *msg = "MemberEpoch is invalid.";
        return OD_CG_INVALID_REQUEST;
    }
    od_cg_assignor x;
    if (r->server_assignor.len >= 0 && !assignor_by_name(cg, r->server_assignor, &x)) {
        *msg = "ServerAssignor is not supported.";
        return OD_CG_UNSUPPORTED_ASSIGNOR;
    }
    return OD_GC_NONE;
}

static int16_t partition_status(const od_cg *cg, od_str group_id, int32_t *partition)
{
    *partition = partition_for(cg, group_id);
    switch (cg->parts[*partition]) {
    case PART_ACTIVE: return OD_GC_NONE;
    case PART_LOADING: return OD_GC_COORDINATOR_LOAD_IN_PROGRESS;
    default: return OD_GC_NOT_COORDINATOR;
    }
}

static bool owned_from_request(const od_consumer_group_heartbeat_request *r, od_arena *a,
                               tpset *out)
{
    int32_t n = 0;
    for (int32_t i = 0; i < r->topic_partitions.count; i++)
        n += r->topic_partitions.items[i].partitions.count > 0
                 ? r->topic_partitions.items[i].partitions.count
                 : 0;
    *out = tpset_arena(a, n);
    if (!out->v)
        return false;
    for (int32_t i = 0; i < r->topic_partitions.count; i++) {
        const od_consumer_group_heartbeat_request_topic_partitions *t =
            &r->topic_partitions.items[i];
        for (int32_t j = 0; j < t->partitions.count; j++)
            out->v[out->n++] = (od_cg_tp){t->topic_id, t->partitions.items[j]};
    }
    tpset_normalize(out);
    return true;
}

static bool is_subset(const tpset *a, const tpset *b)
{
    for (int32_t i = 0; i < a->n; i++)
        if (!tpset_has(b, &a->v[i]))
            return false;
    return true;
}

static bool topics_equal(const msub *a, const msub *b)
{
    if (a->topic_count != b->topic_count)
        return false;
    for (int32_t i = 0; i < a->topic_count; i++) {
        bool found = false;
        for (int32_t j = 0; j < b->topic_count && !found; j++)
            found = str_eq(a->topics[i], b->topics[j]);
        if (!found)
            return false;
    }
    return true;
}

static bool bytes_eq(od_bytes a, od_bytes b)
{
    int32_t al = a.len > 0 ? a.len : 0, bl = b.len > 0 ? b.len : 0;
    return al == bl && (al == 0 || memcmp(a.ptr, b.ptr, (size_t)al) == 0);
}

static bool protocols_equal(const msub *a, const msub *b)
{
    if (a->classic != b->classic)
        return false;
    if (!a->classic)
        return true;
    if (a->classic_session_timeout_ms != b->classic_session_timeout_ms ||
        a->protocol_count != b->protocol_count)
        return false;
    for (int32_t i = 0; i < a->protocol_count; i++)
        if (!str_eq(a->protocols[i].name, b->protocols[i].name) ||
            !bytes_eq(a->protocols[i].metadata, b->protocols[i].metadata))
            return false;
    return true;
}

static bool sub_equal(const msub *a, const msub *b)
{
    return str_eq(a->id, b->id) && str_eq(a->instance_id, b->instance_id) &&
           str_eq(a->rack_id, b->rack_id) && str_eq(a->client_id, b->client_id) &&
           str_eq(a->client_host, b->client_host) && str_eq(a->regex, b->regex) &&
           str_eq(a->assignor, b->assignor) && a->rebalance_timeout_ms == b->rebalance_timeout_ms &&
           topics_equal(a, b) && protocols_equal(a, b);
}

static od_consumer_group_heartbeat_response_assignment *
response_assignment(od_arena *a, const tpset *assigned)
{
    od_consumer_group_heartbeat_response_assignment *r = od_arena_calloc(a, 1, sizeof *r);
    int32_t n;
    topic_parts *tp = group_by_topic(a, assigned, &n);
    if (!r || !tp)
        return NULL;
    od_consumer_group_heartbeat_response_assignment_init(r);
    r->topic_partitions.items = od_arena_calloc(a, (size_t)(n ? n : 1),
                                                sizeof *r->topic_partitions.items);
    if (!r->topic_partitions.items)
        return NULL;
    r->topic_partitions.count = n;
    for (int32_t i = 0; i < n; i++) {
        od_consumer_group_heartbeat_response_topic_partitions_init(&r->topic_partitions.items[i]);
        r->topic_partitions.items[i].topic_id = tp[i].id;
        r->topic_partitions.items[i].partitions = tp[i].partitions;
    }
    return r;
}

static uint64_t next_random(od_cg *cg)
{
    return next_random_from(&cg->rng);
}

/* Kafka 3.9 names a new member Uuid.randomUuid().toString(): 22 characters
 * of URL-safe base64. */
static od_str new_member_id(od_cg *cg, od_arena *a)
{
    uint8_t u[16];
    uint64_t x = next_random(cg), y = next_random(cg);
    for (int i = 0; i < 8; i++) {
        u[i] = (uint8_t)(x >> (8 * i));
        u[8 + i] = (uint8_t)(y >> (8 * i));
    }
    u[6] = (uint8_t)((u[6] & 0x0F) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *p = od_arena_alloc(a, 22);
    if (!p)
        return OD_STR_NULL;
    uint32_t acc = 0;
    int bits = 0, k = 0;
    for (int i = 0; i < 16; i++) {
        acc = acc << 8 | u[i];
        bits += 8;
        while (bits >= 6) {
            p[k++] = b64[(acc >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    p[k++] = b64[(acc << (6 - bits)) & 63];
    return (od_str){p, k};
}

/* A classic member's session is its JoinGroup's session timeout, as
 * Kafka's classicProtocolSessionTimeout. */
static void arm_session(od_cg *cg, cmember *m)
{
    int32_t timeout = m->classic ? m->classic_session_timeout_ms : cg->cfg.session_timeout_ms;
    m->session_deadline = arm(cg, now(cg) + timeout);
}

/* Kafka's consumerGroupLeave. */
static void leave(od_cg *cg, cgroup *g, const od_consumer_group_heartbeat_request *r,
                  od_arena *arena, od_consumer_group_heartbeat_response *resp)
{
    cmember *m;
    if (r->instance_id.len < 0) {
        m = find_member(g, r->member_id, NULL);
        if (!m) {
            hb_error(resp, OD_GC_UNKNOWN_MEMBER_ID, NULL);
            return;
        }
    } else {
        m = find_static(g, r->instance_id);
        if (!m) {
            hb_error(resp, OD_GC_UNKNOWN_MEMBER_ID, "Instance id is unknown.");
            return;
        }
        if (!beq(&m->id, r->member_id)) {
            hb_error(resp, OD_GC_FENCED_INSTANCE_ID, "Instance id is owned by another member.");
            return;
        }
    }
    int16_t err;
    if (r->member_epoch == OD_CG_LEAVE_STATIC_EPOCH) {
        /* The member keeps its partitions under epoch -2 until it comes
         * back or its session expires. */
        reclist rl;
        rl_init(&rl, arena);
        cur_assign c = member_cur(m);
        c.epoch = OD_CG_LEAVE_STATIC_EPOCH;
        c.pending = (tpset){NULL, 0};
        rec_current(&rl, bstr(&g->id), bstr(&m->id), &c);
        err = commit_records(cg, g->partition, &rl);
        if (err == OD_GC_NONE)
            m->rebalance_deadline = -1;
    } else {
        err = fence_member(cg, g, m, arena);
    }
    if (err != OD_GC_NONE) {
        hb_error(resp, err, NULL);
        return;
    }
    resp->error_code = OD_GC_NONE;
    resp->member_id = arena_str(arena, r->member_id);
    resp->member_epoch = r->member_epoch;
    resp->heartbeat_interval_ms = 0;
    resp->assignment = NULL;
}

/* What a classic member's JoinGroup brings into the heartbeat flow (Kafka's
 * classicGroupJoinToConsumerGroup runs the same three steps with the
 * subscription from the embedded ConsumerProtocolSubscription). */
typedef struct classic_join {
    bool unknown_member;         /* joined without a member id: may replace a static member */
    int32_t session_timeout_ms;
    const cproto *protocols;
    int32_t protocol_count;
} classic_join;

static void heartbeat_flow(od_cg *cg, const od_consumer_group_heartbeat_request *r, od_str regex,
                           od_str client_id, od_str client_host, const classic_join *cj,
                           od_arena *arena, od_consumer_group_heartbeat_response *resp);
static int16_t upgrade_classic_group(od_cg *cg, od_str group_id, const od_gc_exported_group *x,
                                     int32_t partition, od_arena *a, const char **msg);

void od_cg_heartbeat(od_cg *cg, const od_consumer_group_heartbeat_request *r, od_str regex,
                     od_str client_id, od_str client_host, od_arena *arena,
                     od_consumer_group_heartbeat_response *resp)
{
    od_consumer_group_heartbeat_response_init(resp);
    const char *msg = NULL;
    int16_t err = validate_request(cg, r, regex, &msg);
    int32_t partition = 0;
    if (err == OD_GC_NONE)
        err = partition_status(cg, r->group_id, &partition);
    /* Without the cluster's topics every subscription would look empty. */
    if (err == OD_GC_NONE && !cg->topics_known)
        err = OD_GC_COORDINATOR_LOAD_IN_PROGRESS;
    if (err != OD_GC_NONE) {
        hb_error(resp, err, msg);
        return;
    }
    heartbeat_flow(cg, r, regex, client_id, client_host, NULL, arena, resp);
}

/* The heartbeat flow after validation; cj is set for a classic member's
 * JoinGroup (member_epoch 0 then means "no epoch check", as Kafka's -1). */
static void heartbeat_flow(od_cg *cg, const od_consumer_group_heartbeat_request *r, od_str regex,
                           od_str client_id, od_str client_host, const classic_join *cj,
                           od_arena *arena, od_consumer_group_heartbeat_response *resp)
{
    int16_t err = OD_GC_NONE;
    const char *msg = NULL;
    cgroup *g = find_group(cg, r->group_id);
    if (r->member_epoch < 0) {
        if (!g)
            hb_error(resp, OD_GC_GROUP_ID_NOT_FOUND, "Group not found.");
        else
            leave(cg, g, r, arena, resp);
        request_wake(cg);
        return;
    }
    bool created = false;
    if (!g && r->member_epoch == 0 && !cj && cg->classic) {
        /* A classic group of that id: converted (getOrMaybeCreateConsumerGroup
         * with validateOnlineUpgrade), or refused. */
        od_gc_exported_group x;
        if (od_gc_group_export(cg->classic, r->group_id, arena, &x) != 0) {
            hb_error(resp, OD_GC_UNKNOWN_SERVER_ERROR, NULL);
            return;
        }
        if (x.exists) {
            err = upgrade_classic_group(cg, r->group_id, &x, partition_for(cg, r->group_id), arena,
                                        &msg);
            if (err != OD_GC_NONE) {
                hb_error(resp, err, msg);
                request_wake(cg);
                return;
            }
            g = find_group(cg, r->group_id);
        }
    }
    if (!g) {
        if (r->member_epoch != 0) {
            hb_error(resp, OD_GC_GROUP_ID_NOT_FOUND, "Group not found.");
            return;
        }
        if (!(g = create_group(cg, r->group_id))) {
            hb_error(resp, OD_GC_UNKNOWN_SERVER_ERROR, NULL);
            return;
        }
        created = true;
    }

    /* 1. The member, and who it replaces. */
    od_str member_id = r->member_id;
    if (r->member_epoch == 0 && member_id.len <= 0)
        member_id = new_member_id(cg, arena);
    cmember *old = NULL;         /* the member as it is, when it exists */
    cmember *replaced = NULL;    /* a static member that left and is replaced */
    if (r->instance_id.len < 0) {
        old = find_member(g, member_id, NULL);
        if (!old && r->member_epoch != 0) {
            err = OD_GC_UNKNOWN_MEMBER_ID;
            msg = "Member is unknown.";
        }
    } else {
        cmember *st = find_static(g, r->instance_id);
        if (cj) {
            /* getOrMaybeSubscribeStaticConsumerGroupMember with the classic
             * protocol: a rejoin without member id takes the instance over,
             * released or not. */
            if (cj->unknown_member) {
                replaced = st;
                if (!st)
                    old = find_member(g, member_id, NULL);
            } else if (!st) {
                err = OD_GC_UNKNOWN_MEMBER_ID;
                msg = "Instance id is unknown.";
            } else if (!beq(&st->id, member_id)) {
                err = OD_GC_FENCED_INSTANCE_ID;
                msg = "Instance id is owned by another member.";
            } else {
                old = st;
            }
        } else if (r->member_epoch == 0) {
            if (st && beq(&st->id, member_id)) {
                old = st;
            } else if (st) {
                if (st->epoch != OD_CG_LEAVE_STATIC_EPOCH) {
                    err = OD_CG_UNRELEASED_INSTANCE_ID;
                    msg = "Static member with this instance id has not left the group.";
                } else {
                    replaced = st;
                }
            } else {
                old = find_member(g, member_id, NULL);
            }
        } else if (!st) {
            err = OD_GC_UNKNOWN_MEMBER_ID;
            msg = "Instance id is unknown.";
        } else if (!beq(&st->id, member_id)) {
            err = OD_GC_FENCED_INSTANCE_ID;
            msg = "Instance id is owned by another member.";
        } else {
            old = st;
        }
    }
    tpset owned_buf, *owned = NULL;
    if (r->topic_partitions.count >= 0) {
        if (!owned_from_request(r, arena, &owned_buf))
            err = OD_GC_UNKNOWN_SERVER_ERROR;
        owned = &owned_buf;
    }
    if (err == OD_GC_NONE && old && r->member_epoch != 0 && r->member_epoch != old->epoch) {
        /* throwIfMemberEpochIsInvalid: the previous epoch is accepted when
         * the member owns a subset of its assignment (a lost response). */
        if (r->member_epoch > old->epoch || r->member_epoch != old->prev_epoch || !owned ||
            !is_subset(owned, &old->assigned)) {
            err = OD_CG_FENCED_MEMBER_EPOCH;
            msg = "The consumer group member has a smaller or larger member epoch.";
        }
    }
    if (err == OD_GC_NONE && !old && !replaced && g->member_count >= cg->cfg.max_size) {
        err = OD_GC_GROUP_MAX_SIZE_REACHED;
        msg = "The consumer group has reached its maximum capacity.";
    }
    /* After the member checks, as Kafka's maybeUpdateRegularExpressions. */
    if (err == OD_GC_NONE)
        err = check_new_regex(g, old ? old : replaced, regex, arena, &msg);
    if (err != OD_GC_NONE) {
        if (created)
            destroy_group(cg, g);
        hb_error(resp, err, msg);
        return;
    }

    /* 2. The updated subscription (maybeUpdate*: null keeps the old value). */
    const cmember *base = old ? old : replaced;
    msub before = {.id = member_id,
                   .instance_id = OD_STR_NULL,
                   .rack_id = OD_STR_NULL,
                   .client_id = OD_STR_LIT(""),
                   .client_host = OD_STR_LIT(""),
                   .regex = OD_STR_NULL,
                   .assignor = OD_STR_NULL,
                   .topics = NULL,
                   .topic_count = 0,
                   .rebalance_timeout_ms = -1};
    if (base) {
        before = member_sub(base);
        before.id = member_id;
        before.topics = member_topic_views(arena, base);
    }
    msub after = before;
    after.client_id = client_id.len < 0 ? OD_STR_LIT("") : client_id;
    after.client_host = client_host.len < 0 ? OD_STR_LIT("") : client_host;
    if (r->instance_id.len >= 0)
        after.instance_id = r->instance_id;
    if (r->rack_id.len >= 0)
        after.rack_id = r->rack_id;
    if (r->rebalance_timeout_ms != -1)
        after.rebalance_timeout_ms = r->rebalance_timeout_ms;
    if (r->server_assignor.len >= 0)
        after.assignor = r->server_assignor;
    if (r->subscribed_topic_names.count >= 0) {
        after.topics = r->subscribed_topic_names.items;
        after.topic_count = r->subscribed_topic_names.count;
    }
    if (regex.len >= 0)
        after.regex = regex.len == 0 ? OD_STR_NULL : regex;
    /* A ConsumerGroupHeartbeat clears ClassicMemberMetadata; a JoinGroup sets it. */
    after.classic = cj != NULL;
    after.classic_session_timeout_ms = cj ? cj->session_timeout_ms : 0;
    after.protocols = cj ? cj->protocols : NULL;
    after.protocol_count = cj ? cj->protocol_count : 0;

    reclist rl;
    rl_init(&rl, arena);
    od_str gid = bstr(&g->id);
    if (replaced)
        rec_remove_member(&rl, gid, bstr(&replaced->id));
    bool bump = !topics_equal(&before, &after) || !str_eq(before.regex, after.regex);
    if (!old || !sub_equal(&before, &after))
        rec_member(&rl, gid, &after);

    /* 3. Subscription metadata and group epoch. */
    tpset base_target = base ? base->target : (tpset){NULL, 0};
    view_member *view = NULL;
    int32_t nview = 0;
    bool need_view = bump || g->refresh_metadata || created || g->group_epoch > g->assignment_epoch;
    if (need_view)
        nview = build_view(cg, g, old ? old : replaced, &after, old, base_target, arena, &view);
    if (nview < 0) {
        if (created)
            destroy_group(cg, g);
        hb_error(resp, OD_GC_UNKNOWN_SERVER_ERROR, NULL);
        return;
    }
    int32_t group_epoch = g->group_epoch;
    metaview *meta = NULL;
    int32_t nmeta = 0;
    bool refreshed = false;
    if (bump || g->refresh_metadata || created) {
        nmeta = compute_metadata(cg, view, nview, arena, &meta);
        if (!metadata_equal(g, meta, nmeta)) {
            rec_partition_metadata(&rl, gid, meta, nmeta);
            bump = true;
        }
        if (bump) {
            group_epoch++;
            rec_group_epoch(&rl, gid, group_epoch);
        }
        refreshed = true;
    } else {
        meta = od_arena_alloc(arena, (size_t)(g->meta_count ? g->meta_count : 1) * sizeof *meta);
        if (meta)
            for (int32_t i = 0; i < g->meta_count; i++)
                meta[i] = (metaview){g->meta[i].id, bstr(&g->meta[i].name), g->meta[i].partitions};
        nmeta = g->meta_count;
    }

    /* 4. Target assignment. */
    tpset target = base_target;
    int32_t target_epoch = g->assignment_epoch;
    if (group_epoch > g->assignment_epoch) {
        if (!update_target(cg, g, view, nview, meta, nmeta, group_epoch, &rl, nview - 1,
                           &target))
            rl.failed = true;
        target_epoch = group_epoch;
    } else if (replaced) {
        rec_target_member(&rl, gid, member_id, &target);
    }

    /* 5. Reconcile. */
    cur_assign cur = {0, -1, OD_CG_MEMBER_STABLE, {NULL, 0}, {NULL, 0}};
    if (old)
        cur = member_cur(old);
    else if (replaced)
        cur.assigned = replaced->assigned;
    cur_assign upd = cur;
    if (!(cur.state == OD_CG_MEMBER_STABLE && cur.epoch == target_epoch))
        upd = reconcile(g, old, replaced, &cur, target_epoch, &target, owned, arena);
    bool cur_changed = !old || !cur_eq(&cur, &upd);
    if (cur_changed)
        rec_current(&rl, gid, member_id, &upd);

    /* The replay below frees the member's old sets, which cur views. */
    bool assigned_changed = !tpset_eq(&cur.assigned, &upd.assigned);
    tpset response_set = tpset_arena(arena, upd.assigned.n);
    if (response_set.v && upd.assigned.n)
        memcpy(response_set.v, upd.assigned.v, (size_t)upd.assigned.n * sizeof *response_set.v);
    response_set.n = upd.assigned.n;
    err = commit_records(cg, g->partition, &rl);
    if (err != OD_GC_NONE) {
        if (created && g->member_count == 0)
            destroy_group(cg, g);
        hb_error(resp, err, NULL);
        request_wake(cg);
        return;
    }
    if (refreshed)
        g->refresh_metadata = false;
    cmember *self = find_member(g, member_id, NULL);
    if (self) {
        arm_session(cg, self);
        if (cur_changed) {
            if (upd.state == OD_CG_MEMBER_UNREVOKED_PARTITIONS) {
                self->rebalance_deadline =
                    arm(cg, now(cg) + (self->rebalance_timeout_ms > 0 ? self->rebalance_timeout_ms
                                                                       : 0));
                self->rebalance_epoch = upd.epoch;
            } else {
                self->rebalance_deadline = -1;
            }
        }
    }
    request_wake(cg);

    resp->error_code = OD_GC_NONE;
    resp->error_message = OD_STR_NULL;
    resp->member_id = arena_str(arena, member_id);
    resp->member_epoch = upd.epoch;
    resp->heartbeat_interval_ms = cg->cfg.heartbeat_interval_ms;
    bool full = r->member_epoch == 0 ||
                (r->rebalance_timeout_ms != -1 &&
                 (r->subscribed_topic_names.count >= 0 || regex.len >= 0) &&
                 r->topic_partitions.count >= 0);
    if (full || assigned_changed)
        resp->assignment = response_assignment(arena, &response_set);
}

/* ---------------------------------------------------------------- classic members (KIP-848 migration) */

static const od_str CONSUMER_PROTOCOL_TYPE = {"consumer", 8};

/* Kafka's ConsumerGroup.supportsClassicProtocols: protocol type "consumer",
 * at least one protocol, and one of them supported by every classic member
 * of a non-empty group. */
static bool supports_classic_protocols(const cgroup *g, od_str protocol_type,
                                       const od_gc_protocol *ps, int32_t n)
{
    if (n <= 0)
        return false;
    if (g->member_count == 0)
        return protocol_type.len > 0;
    if (!str_eq(protocol_type, CONSUMER_PROTOCOL_TYPE))
        return false;
    for (int32_t i = 0; i < n; i++) {
        bool all = true;
        for (int32_t k = 0; k < g->member_count && all; k++) {
            const cmember *m = g->members[k];
            if (!m->classic)
                continue;
            bool has = false;
            for (int32_t j = 0; j < m->protocol_count && !has; j++)
                has = str_eq(m->protocols[j].name, ps[i].name);
            all = has;
        }
        if (all)
            return true;
    }
    return false;
}

static const topicmeta *cluster_topic_by_name(const od_cg *cg, od_str name)
{
    for (int32_t i = 0; i < cg->topic_count; i++)
        if (beq(&cg->topics[i].name, name))
            return &cg->topics[i];
    return NULL;
}

/* Reads a ConsumerProtocolSubscription (version, then the body), as
 * Kafka's ConsumerProtocol.deserializeConsumerProtocolSubscription. */
static bool read_subscription(od_bytes md, od_arena *a, od_consumer_protocol_subscription *out,
                              int16_t *version)
{
    if (md.len < 2)
        return false;
    od_reader rd;
    od_reader_init(&rd, md.ptr, (size_t)md.len, a);
    int16_t v = od_read_i16(&rd);
    if (rd.err || v < 0)
        return false;
    *version = v;
    /* Later versions only add fields a reader of version 3 skips. */
    return od_consumer_protocol_subscription_decode(out, &rd, v > 3 ? 3 : v) == OD_WIRE_OK;
}

void od_cg_classic_join(od_cg *cg, const od_cg_classic_join_args *a, od_arena *arena,
                        od_cg_classic_join_result *out)
{
    *out = (od_cg_classic_join_result){.error = OD_GC_NONE, .member_id = a->member_id,
                                       .generation_id = -1, .protocol_name = OD_STR_NULL};
    int32_t partition;
    int16_t err = partition_status(cg, a->group_id, &partition);
    if (err == OD_GC_NONE && !cg->topics_known)
        err = OD_GC_COORDINATOR_LOAD_IN_PROGRESS;
    cgroup *g = err == OD_GC_NONE ? find_group(cg, a->group_id) : NULL;
    if (err == OD_GC_NONE && !g)
        err = OD_GC_UNKNOWN_MEMBER_ID;
    if (err != OD_GC_NONE) {
        out->error = err;
        return;
    }
    bool unknown = a->member_id.len <= 0;
    od_str member_id = unknown ? new_member_id(cg, arena) : a->member_id;
    if (member_id.len < 0) {
        out->error = OD_GC_UNKNOWN_SERVER_ERROR;
        return;
    }
    /* throwIfConsumerGroupIsFull, throwIfClassicProtocolIsNotSupported */
    if (g->member_count >= cg->cfg.max_size && (unknown || !find_member(g, member_id, NULL))) {
        out->error = OD_GC_GROUP_MAX_SIZE_REACHED;
        return;
    }
    if (!supports_classic_protocols(g, a->protocol_type, a->protocols, a->protocol_count)) {
        out->error = OD_GC_INCONSISTENT_GROUP_PROTOCOL;
        return;
    }
    /* KIP-394: a dynamic member without id gets one and comes back. */
    if (unknown && a->require_known_member_id && a->group_instance_id.len < 0) {
        out->error = OD_GC_MEMBER_ID_REQUIRED;
        out->member_id = arena_str(arena, member_id);
        return;
    }
    od_consumer_protocol_subscription sub;
    int16_t sub_version;
    if (!read_subscription(a->protocols[0].metadata, arena, &sub, &sub_version)) {
        /* Kafka fails the request on a malformed embedded protocol. */
        out->error = OD_GC_INCONSISTENT_GROUP_PROTOCOL;
        return;
    }
    cproto *ps = od_arena_calloc(arena, (size_t)a->protocol_count, sizeof *ps);
    int32_t owned_n = 0;
    for (int32_t i = 0; i < sub.owned_partitions.count; i++)
        owned_n++;
    od_consumer_group_heartbeat_request_topic_partitions *owned =
        od_arena_calloc(arena, (size_t)(owned_n ? owned_n : 1), sizeof *owned);
    if (!ps || !owned) {
        out->error = OD_GC_UNKNOWN_SERVER_ERROR;
        return;
    }
    for (int32_t i = 0; i < a->protocol_count; i++)
        ps[i] = (cproto){a->protocols[i].name, a->protocols[i].metadata};
    /* Owned partitions by name -> by id; unknown topics are not owned. */
    int32_t k = 0;
    for (int32_t i = 0; i < sub.owned_partitions.count; i++) {
        const topicmeta *t = cluster_topic_by_name(cg, sub.owned_partitions.items[i].topic);
        if (!t)
            continue;
        od_consumer_group_heartbeat_request_topic_partitions_init(&owned[k]);
        owned[k].topic_id = t->id;
        owned[k].partitions = sub.owned_partitions.items[i].partitions;
        if (owned[k].partitions.count < 0)
            owned[k].partitions.count = 0;
        k++;
    }
    od_consumer_group_heartbeat_request r;
    od_consumer_group_heartbeat_request_init(&r);
    r.group_id = a->group_id;
    r.member_id = member_id;
    r.member_epoch = 0;
    r.instance_id = a->group_instance_id;
    r.rack_id = sub_version >= 3 ? sub.rack_id : OD_STR_NULL;
    r.rebalance_timeout_ms = a->rebalance_timeout_ms;
    r.subscribed_topic_names = sub.topics.count >= 0 ? sub.topics : (od_str_array){0, NULL};
    r.server_assignor = OD_STR_NULL;
    r.topic_partitions.count = k;
    r.topic_partitions.items = owned;
    classic_join cj = {unknown, a->session_timeout_ms, ps, a->protocol_count};
    od_consumer_group_heartbeat_response resp;
    od_consumer_group_heartbeat_response_init(&resp);
    heartbeat_flow(cg, &r, OD_STR_NULL, a->client_id, a->client_host, &cj, arena, &resp);
    out->error = resp.error_code;
    if (resp.error_code != OD_GC_NONE)
        return;
    out->member_id = resp.member_id;
    out->generation_id = resp.member_epoch;
    out->protocol_name = arena_str(arena, a->protocols[0].name);
    /* scheduleConsumerGroupSyncTimeout (replaces a pending join timeout) */
    cmember *m = find_member(g, resp.member_id, NULL);
    if (m && m->classic) {
        m->classic_deadline = arm(cg, now(cg) + (m->rebalance_timeout_ms > 0 ? m->rebalance_timeout_ms : 0));
        request_wake(cg);
    }
}

/* scheduleConsumerGroupJoinTimeoutIfAbsent */
static void arm_join_timeout(od_cg *cg, cmember *m)
{
    if (m->classic_deadline < 0)
        m->classic_deadline =
            arm(cg, now(cg) + (m->rebalance_timeout_ms > 0 ? m->rebalance_timeout_ms : 0));
}

/* validateConsumerGroupMember + throwIfMemberDoesNotUseClassicProtocol. */
static int16_t classic_member(od_cg *cg, od_str group_id, od_str member_id, od_str instance_id,
                              cgroup **gp, cmember **mp)
{
    int32_t partition;
    int16_t err = partition_status(cg, group_id, &partition);
    if (err != OD_GC_NONE)
        return err;
    cgroup *g = find_group(cg, group_id);
    if (!g)
        return OD_GC_UNKNOWN_MEMBER_ID;
    cmember *m;
    if (instance_id.len < 0) {
        m = find_member(g, member_id, NULL);
    } else {
        m = find_static(g, instance_id);
        if (m && !beq(&m->id, member_id))
            return OD_GC_FENCED_INSTANCE_ID;
    }
    if (!m || !m->classic)
        return OD_GC_UNKNOWN_MEMBER_ID;
    *gp = g;
    *mp = m;
    return OD_GC_NONE;
}

/* Whether some partition the member waits for is still held by another
 * member (Kafka's ConsumerGroup.waitingOnUnreleasedPartition). */
static bool waiting_on_unreleased(const cgroup *g, const cmember *m)
{
    for (int32_t i = 0; i < m->target.n; i++) {
        const od_cg_tp *tp = &m->target.v[i];
        if (tpset_has(&m->assigned, tp))
            continue;
        if (partition_held(g, m, NULL, &(tpset){NULL, 0}, tp))
            return true;
    }
    return false;
}

/* The member's assignment as Kafka's ConsumerProtocol.serializeAssignment
 * writes it, at the version of the member's first protocol's subscription. */
static od_bytes serialize_assignment(const od_cg *cg, const cmember *m, od_arena *a)
{
    int16_t version = 0;
    if (m->protocol_count > 0 && m->protocols[0].metadata.len >= 2) {
        const uint8_t *p = m->protocols[0].metadata.ptr;
        version = (int16_t)((p[0] << 8) | p[1]);
    }
    if (version < 0)
        version = 0;
    int32_t n;
    topic_parts *tp = group_by_topic(a, &m->assigned, &n);
    od_consumer_protocol_assignment v;
    od_consumer_protocol_assignment_init(&v);
    v.assigned_partitions.items = od_arena_calloc(a, (size_t)(n ? n : 1),
                                                  sizeof *v.assigned_partitions.items);
    if (!tp || !v.assigned_partitions.items)
        return (od_bytes){NULL, -1};
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++) {
        const topicmeta *t = cluster_topic_by_id(cg, &tp[i].id);
        if (!t)
            continue;
        od_consumer_protocol_assignment_topic_partition *o = &v.assigned_partitions.items[k++];
        od_consumer_protocol_assignment_topic_partition_init(o);
        o->topic = arena_str(a, bstr(&t->name));
        o->partitions = tp[i].partitions;
    }
    v.assigned_partitions.count = k;
    od_writer w;
    od_writer_init(&w, 64);
    od_write_i16(&w, version);
    od_consumer_protocol_assignment_encode(&v, &w, version > 3 ? 3 : version);
    od_bytes out = {NULL, -1};
    bool ok = true;
    if (w.err == OD_WIRE_OK)
        out = writer_to_arena(a, &w, &ok);
    od_writer_free(&w);
    return ok ? out : (od_bytes){NULL, -1};
}

void od_cg_classic_sync(od_cg *cg, od_str group_id, od_str member_id, od_str instance_id,
                        int32_t generation_id, od_str protocol_type, od_str protocol_name,
                        od_arena *arena, od_cg_classic_sync_result *out)
{
    *out = (od_cg_classic_sync_result){OD_GC_NONE, OD_STR_NULL, OD_STR_NULL, {NULL, -1}};
    cgroup *g;
    cmember *m;
    int16_t err = classic_member(cg, group_id, member_id, instance_id, &g, &m);
    if (err == OD_GC_NONE && m->epoch != generation_id)
        err = OD_GC_ILLEGAL_GENERATION;
    if (err == OD_GC_NONE &&
        ((protocol_type.len >= 0 && !str_eq(protocol_type, CONSUMER_PROTOCOL_TYPE)) ||
         (protocol_name.len >= 0 &&
          (m->protocol_count == 0 || !str_eq(protocol_name, m->protocols[0].name)))))
        err = OD_GC_INCONSISTENT_GROUP_PROTOCOL;
    /* throwIfRebalanceInProgress: a member that is still revoking finishes
     * that first. */
    if (err == OD_GC_NONE && g->group_epoch > m->epoch &&
        m->state != OD_CG_MEMBER_UNREVOKED_PARTITIONS) {
        arm_join_timeout(cg, m);
        request_wake(cg);
        err = OD_GC_REBALANCE_IN_PROGRESS;
    }
    if (err != OD_GC_NONE) {
        out->error = err;
        return;
    }
    m->classic_deadline = -1; /* cancelConsumerGroupSyncTimeout */
    arm_session(cg, m);
    request_wake(cg);
    out->protocol_type = arena_str(arena, protocol_type);
    out->protocol_name = arena_str(arena, protocol_name);
    out->assignment = serialize_assignment(cg, m, arena);
    if (out->assignment.len < 0)
        out->error = OD_GC_UNKNOWN_SERVER_ERROR;
}

int16_t od_cg_classic_heartbeat(od_cg *cg, od_str group_id, od_str member_id, od_str instance_id,
                                int32_t generation_id)
{
    cgroup *g;
    cmember *m;
    int16_t err = classic_member(cg, group_id, member_id, instance_id, &g, &m);
    if (err != OD_GC_NONE)
        return err;
    if (m->epoch != generation_id)
        return OD_GC_ILLEGAL_GENERATION;
    arm_session(cg, m);
    request_wake(cg);
    /* The member rejoins to catch up with a new group epoch, to revoke, or
     * to collect partitions that became free. */
    if (m->epoch < g->group_epoch || m->state == OD_CG_MEMBER_UNREVOKED_PARTITIONS ||
        (m->state == OD_CG_MEMBER_UNRELEASED_PARTITIONS && !waiting_on_unreleased(g, m))) {
        arm_join_timeout(cg, m);
        request_wake(cg);
        return OD_GC_REBALANCE_IN_PROGRESS;
    }
    return OD_GC_NONE;
}

int16_t od_cg_classic_leave(od_cg *cg, od_str group_id, od_gc_leave_member *leavers, int32_t n,
                            od_arena *arena)
{
    int32_t partition;
    int16_t err = partition_status(cg, group_id, &partition);
    if (err != OD_GC_NONE)
        return err;
    cgroup *g = find_group(cg, group_id);
    if (!g)
        return OD_GC_UNKNOWN_MEMBER_ID;
    const cmember **gone = od_arena_calloc(arena, (size_t)(n ? n : 1), sizeof *gone);
    if (!gone)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    reclist rl;
    rl_init(&rl, arena);
    od_str gid = bstr(&g->id);
    int32_t ngone = 0;
    for (int32_t i = 0; i < n; i++) {
        od_gc_leave_member *l = &leavers[i];
        cmember *m = NULL;
        if (l->group_instance_id.len < 0) {
            m = find_member(g, l->member_id, NULL);
            l->error = m && m->classic ? OD_GC_NONE : OD_GC_UNKNOWN_MEMBER_ID;
        } else {
            m = find_static(g, l->group_instance_id);
            if (!m)
                l->error = OD_GC_UNKNOWN_MEMBER_ID;
            else if (l->member_id.len > 0 && !beq(&m->id, l->member_id))
                l->error = OD_GC_FENCED_INSTANCE_ID;
            else
                l->error = m->classic ? OD_GC_NONE : OD_GC_UNKNOWN_MEMBER_ID;
        }
        bool dup = false;
        for (int32_t k = 0; k < ngone && !dup; k++)
            dup = gone[k] == m;
        if (l->error != OD_GC_NONE || dup)
            continue;
        l->member_id = arena_str(arena, bstr(&m->id));
        gone[ngone++] = m;
        rec_remove_member(&rl, gid, bstr(&m->id));
    }
    if (ngone == 0)
        return OD_GC_NONE;
    view_member *v;
    int32_t nv = build_view(cg, g, NULL, NULL, NULL, (tpset){NULL, 0}, arena, &v);
    if (nv < 0)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    int32_t keep = 0;
    for (int32_t i = 0; i < nv; i++) {
        bool left = false;
        for (int32_t k = 0; k < ngone && !left; k++)
            left = v[i].m == gone[k];
        if (!left)
            v[keep++] = v[i];
    }
    metaview *meta;
    int32_t nmeta = compute_metadata(cg, v, keep, arena, &meta);
    if (!metadata_equal(g, meta, nmeta))
        rec_partition_metadata(&rl, gid, meta, nmeta);
    rec_group_epoch(&rl, gid, g->group_epoch + 1);
    err = commit_records(cg, g->partition, &rl);
    if (err != OD_GC_NONE)
        for (int32_t i = 0; i < n; i++)
            if (leavers[i].error == OD_GC_NONE)
                leavers[i].error = err;
    request_wake(cg);
    return OD_GC_NONE;
}

bool od_cg_member_is_classic(const od_cg *cg, od_str group_id, od_str member_id)
{
    const cgroup *g = find_group(cg, group_id);
    const cmember *m = g ? find_member(g, member_id, NULL) : NULL;
    return m && m->classic;
}


/* ---------------------------------------------------------------- online upgrade and downgrade */

void od_cg_set_classic(od_cg *cg, od_gc *gc)
{
    cg->classic = gc;
}

static bool upgrade_enabled(const od_cg *cg)
{
    return cg->cfg.migration_policy == OD_CG_MIGRATION_UPGRADE ||
           cg->cfg.migration_policy == OD_CG_MIGRATION_BIDIRECTIONAL;
}

static bool downgrade_enabled(const od_cg *cg)
{
    return cg->cfg.migration_policy == OD_CG_MIGRATION_DOWNGRADE ||
           cg->cfg.migration_policy == OD_CG_MIGRATION_BIDIRECTIONAL;
}

static void rec_classic_group_tombstone(reclist *rl, od_str group)
{
    od_writer kw;
    od_writer_init(&kw, 64);
    od_gc_write_group_key(&kw, group);
    rl_add(rl, &kw, NULL);
}

/* Reads a ConsumerProtocolAssignment (version prefix, then the body) into a
 * partition set of the cluster's topics (unknown topics are dropped, as
 * Kafka's toTopicPartitionMap does). Empty bytes: nothing assigned. */
static bool read_assignment(const od_cg *cg, od_bytes b, od_arena *a, tpset *out)
{
    *out = (tpset){NULL, 0};
    if (b.len <= 0)
        return true;
    od_reader rd;
    od_reader_init(&rd, b.ptr, (size_t)b.len, a);
    int16_t v = od_read_i16(&rd);
    od_consumer_protocol_assignment as;
    if (rd.err || v < 0 || od_consumer_protocol_assignment_decode(&as, &rd, v > 3 ? 3 : v) != OD_WIRE_OK)
        return false;
    int32_t n = 0;
    for (int32_t i = 0; i < as.assigned_partitions.count; i++)
        n += as.assigned_partitions.items[i].partitions.count > 0
                 ? as.assigned_partitions.items[i].partitions.count
                 : 0;
    *out = tpset_arena(a, n);
    if (!out->v)
        return false;
    for (int32_t i = 0; i < as.assigned_partitions.count; i++) {
        const topicmeta *t = cluster_topic_by_name(cg, as.assigned_partitions.items[i].topic);
        if (!t)
            continue;
        for (int32_t j = 0; j < as.assigned_partitions.items[i].partitions.count; j++)
            out->v[out->n++] = (od_cg_tp){t->id, as.assigned_partitions.items[i].partitions.items[j]};
    }
    tpset_normalize(out);
    return true;
}

/* Kafka's convertToConsumerGroup (ConsumerGroup.fromClassicGroup): every
 * classic member becomes a classic member of the consumer group, Stable at
 * the classic generation, its last assignment both current and target; the
 * classic group's GroupMetadata is tombstoned in the same batch. An empty
 * classic group is only tombstoned (the heartbeat then creates the group).
 * Returns NONE, or GROUP_ID_NOT_FOUND when the policy or the group does not
 * allow it (validateOnlineUpgrade), or a coordinator error. */
static int16_t upgrade_classic_group(od_cg *cg, od_str group_id, const od_gc_exported_group *x,
                                     int32_t partition, od_arena *a, const char **msg)
{
    reclist rl;
    rl_init(&rl, a);
    rec_classic_group_tombstone(&rl, group_id);
    if (x->member_count == 0) {
        int16_t err = commit_records(cg, partition, &rl);
        if (err == OD_GC_NONE)
            od_gc_release_group(cg->classic, group_id);
        return err;
    }
    if (!upgrade_enabled(cg) || !str_eq(x->protocol_type, CONSUMER_PROTOCOL_TYPE) ||
        x->member_count > cg->cfg.max_size) {
        *msg = "The group is a classic group that cannot be upgraded to a consumer group.";
        return OD_GC_GROUP_ID_NOT_FOUND;
    }
    /* throwIfConsumerGroupIsFull for the joining member: Kafka throws after
     * the conversion was computed, so nothing of it is written. */
    if (x->member_count >= cg->cfg.max_size) {
        *msg = "The consumer group has reached its maximum capacity.";
        return OD_GC_GROUP_MAX_SIZE_REACHED;
    }
    int32_t n = x->member_count;
    view_member *v = od_arena_calloc(a, (size_t)n, sizeof *v);
    tpset *assigned = od_arena_calloc(a, (size_t)n, sizeof *assigned);
    if (!v || !assigned)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    for (int32_t i = 0; i < n; i++) {
        const od_gc_exported_member *m = &x->members[i];
        od_bytes md = {NULL, -1};
        for (int32_t p = 0; p < m->protocol_count && md.len < 0; p++)
            if (str_eq(m->protocols[p].name, x->protocol_name))
                md = m->protocols[p].metadata;
        if (md.len < 0 && m->protocol_count > 0)
            md = m->protocols[0].metadata;
        od_consumer_protocol_subscription sub;
        int16_t sv;
        cproto *ps = od_arena_calloc(a, (size_t)(m->protocol_count ? m->protocol_count : 1), sizeof *ps);
        if (!ps)
            return OD_GC_UNKNOWN_SERVER_ERROR;
        if (!read_subscription(md, a, &sub, &sv) || !read_assignment(cg, m->assignment, a, &assigned[i])) {
            *msg = "Cannot upgrade the classic group: the embedded consumer protocol is malformed.";
            return OD_GC_GROUP_ID_NOT_FOUND;
        }
        for (int32_t p = 0; p < m->protocol_count; p++)
            ps[p] = (cproto){m->protocols[p].name, m->protocols[p].metadata};
        v[i].sub = (msub){
            .id = m->member_id,
            .instance_id = m->group_instance_id,
            .rack_id = sv >= 3 ? sub.rack_id : OD_STR_NULL,
            .client_id = m->client_id,
            .client_host = m->client_host,
            .regex = OD_STR_NULL,
            .assignor = OD_STR_NULL,
            .topics = sub.topics.count > 0 ? sub.topics.items : NULL,
            .topic_count = sub.topics.count > 0 ? sub.topics.count : 0,
            .rebalance_timeout_ms = m->rebalance_timeout_ms,
            .classic = true,
            .classic_session_timeout_ms = m->session_timeout_ms,
            .protocols = ps,
            .protocol_count = m->protocol_count,
        };
        v[i].topic_count = resolve_subscription(cg, &v[i].sub, a, &v[i].topics);
    }
    /* createConsumerGroupRecords order */
    for (int32_t i = 0; i < n; i++)
        rec_member(&rl, group_id, &v[i].sub);
    rec_group_epoch(&rl, group_id, x->generation);
    metaview *meta;
    int32_t nmeta = compute_metadata(cg, v, n, a, &meta);
    rec_partition_metadata(&rl, group_id, meta, nmeta);
    for (int32_t i = 0; i < n; i++)
        rec_target_member(&rl, group_id, v[i].sub.id, &assigned[i]);
    rec_target_epoch(&rl, group_id, x->generation);
    for (int32_t i = 0; i < n; i++) {
        cur_assign c = {x->generation, x->generation, OD_CG_MEMBER_STABLE, assigned[i], {NULL, 0}};
        rec_current(&rl, group_id, v[i].sub.id, &c);
    }
    int16_t err = commit_records(cg, partition, &rl);
    if (err != OD_GC_NONE)
        return err;
    od_gc_release_group(cg->classic, group_id);
    cgroup *g = find_group(cg, group_id);
    for (int32_t i = 0; g && i < g->member_count; i++)
        arm_session(cg, g->members[i]);
    return OD_GC_NONE;
}

/* Kafka's validateOnlineDowngradeWithFencedMember. */
static bool downgrade_allowed(const od_cg *cg, const cgroup *g, const cmember *leaving)
{
    if (!cg->classic || g->member_count <= 1 || !downgrade_enabled(cg) ||
        g->member_count - 1 > cg->cfg.classic_max_size)
        return false;
    for (int32_t i = 0; i < g->member_count; i++)
        if (g->members[i] != leaving && !g->members[i]->classic)
            return false;
    return true;
}

/* ClassicGroup.selectProtocol over the remaining members: each votes for
 * its first protocol every member supports; the most votes wins. */
static od_str select_classic_protocol(const cgroup *g, const cmember *leaving)
{
    od_str best = OD_STR_NULL;
    int32_t best_votes = 0;
    for (int32_t i = 0; i < g->member_count; i++) {
        const cmember *m = g->members[i];
        if (m == leaving)
            continue;
        for (int32_t p = 0; p < m->protocol_count; p++) {
            od_str name = m->protocols[p].name;
            bool everyone = true;
            for (int32_t k = 0; k < g->member_count && everyone; k++) {
                const cmember *o = g->members[k];
                if (o == leaving)
                    continue;
                bool has = false;
                for (int32_t q = 0; q < o->protocol_count && !has; q++)
                    has = str_eq(o->protocols[q].name, name);
                everyone = has;
            }
            if (!everyone)
                continue;
            int32_t votes = 0;
            for (int32_t k = 0; k < g->member_count; k++) {
                const cmember *o = g->members[k];
                if (o == leaving)
                    continue;
                for (int32_t q = 0; q < o->protocol_count; q++) {
                    bool common = true;
                    for (int32_t r = 0; r < g->member_count && common; r++) {
                        const cmember *w = g->members[r];
                        if (w == leaving)
                            continue;
                        bool has = false;
                        for (int32_t s = 0; s < w->protocol_count && !has; s++)
                            has = str_eq(w->protocols[s].name, o->protocols[q].name);
                        common = has;
                    }
                    if (common) {
                        votes += str_eq(o->protocols[q].name, name);
                        break;
                    }
                }
            }
            if (votes > best_votes) {
                best = name;
                best_votes = votes;
            }
            break;
        }
    }
    return best;
}

/* Kafka's convertToClassicGroup (ClassicGroup.fromConsumerGroup): the
 * consumer group's records are tombstoned and one GroupMetadata record
 * describes the classic group (generation = group epoch, the remaining
 * members with the metadata of the selected protocol and their target
 * assignment), in one batch; the classic coordinator then takes the group
 * over and prepares a rebalance. */
static int16_t downgrade_to_classic(od_cg *cg, cgroup *g, const cmember *leaving, od_arena *a)
{
    od_str gid = bstr(&g->id);
    od_str protocol = select_classic_protocol(g, leaving);
    if (protocol.len < 0)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    reclist rl;
    rl_init(&rl, a);
    for (int32_t i = 0; i < g->member_count; i++)
        rec_tombstone(&rl, KEY_CURRENT_ASSIGNMENT, gid, bstr(&g->members[i]->id));
    for (int32_t i = 0; i < g->member_count; i++)
        rec_tombstone(&rl, KEY_TARGET_MEMBER, gid, bstr(&g->members[i]->id));
    rec_tombstone(&rl, KEY_TARGET_METADATA, gid, OD_STR_NULL);
    for (int32_t i = 0; i < g->member_count; i++)
        rec_tombstone(&rl, KEY_MEMBER, gid, bstr(&g->members[i]->id));
    rec_tombstone(&rl, KEY_PARTITION_METADATA, gid, OD_STR_NULL);
    rec_tombstone(&rl, KEY_GROUP_EPOCH, gid, OD_STR_NULL);

    od_group_metadata_value v;
    od_group_metadata_value_init(&v);
    v.protocol_type = CONSUMER_PROTOCOL_TYPE;
    v.generation = g->group_epoch;
    v.protocol = protocol;
    v.current_state_timestamp = now(cg);
    int32_t n = 0;
    od_group_metadata_value_member_metadata *ms =
        od_arena_calloc(a, (size_t)g->member_count, sizeof *ms);
    if (!ms)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    for (int32_t i = 0; i < g->member_count; i++) {
        const cmember *m = g->members[i];
        if (m == leaving)
            continue;
        od_group_metadata_value_member_metadata *o = &ms[n++];
        od_group_metadata_value_member_metadata_init(o);
        o->member_id = arena_str(a, bstr(&m->id));
        o->group_instance_id = arena_str(a, bstr(&m->instance_id));
        o->client_id = arena_str(a, bstr(&m->client_id));
        o->client_host = arena_str(a, bstr(&m->client_host));
        o->rebalance_timeout = m->rebalance_timeout_ms;
        o->session_timeout = m->classic_session_timeout_ms;
        o->subscription = (od_bytes){(const uint8_t *)"", 0};
        for (int32_t p = 0; p < m->protocol_count; p++)
            if (str_eq(m->protocols[p].name, protocol))
                o->subscription = m->protocols[p].metadata;
        /* the target assignment, at the subscription's version */
        cmember tmp = *m;
        tmp.assigned = m->target;
        tmp.protocols = &(cproto){protocol, o->subscription};
        tmp.protocol_count = 1;
        o->assignment = serialize_assignment(cg, &tmp, a);
        if (o->assignment.len < 0)
            return OD_GC_UNKNOWN_SERVER_ERROR;
    }
    v.members.count = n;
    v.members.items = ms;
    v.leader = n ? ms[0].member_id : OD_STR_NULL;
    od_writer kw, vw;
    od_writer_init(&kw, 64);
    od_writer_init(&vw, 256);
    od_gc_write_group_key(&kw, gid);
    od_gc_write_group_value(&vw, &v);
    bool ok = true;
    od_bytes value = writer_to_arena(a, &vw, &ok);
    rl_add(&rl, &kw, &vw);
    if (!ok)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    /* The group's id outlives the replay that frees the group. */
    od_str id = arena_str(a, gid);
    int16_t err = commit_records(cg, g->partition, &rl);
    if (err != OD_GC_NONE)
        return err;
    return od_gc_adopt_group(cg->classic, id, value) == 0 ? OD_GC_NONE : OD_GC_UNKNOWN_SERVER_ERROR;
}

/* ---------------------------------------------------------------- describe, list, validation */

static bool fill_described_assignment(const od_cg *cg, od_arena *a, const tpset *s,
                                      od_consumer_group_describe_response_assignment *out)
{
    od_consumer_group_describe_response_assignment_init(out);
    int32_t n;
    topic_parts *tp = group_by_topic(a, s, &n);
    out->topic_partitions.items = od_arena_calloc(a, (size_t)(n ? n : 1),
                                                  sizeof *out->topic_partitions.items);
    if (!tp || !out->topic_partitions.items)
        return false;
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++) {
        const topicmeta *t = cluster_topic_by_id(cg, &tp[i].id);
        if (!t)
            continue; /* a deleted topic is not described, as Kafka skips it */
        od_consumer_group_describe_response_topic_partitions *o = &out->topic_partitions.items[k++];
        od_consumer_group_describe_response_topic_partitions_init(o);
        o->topic_id = tp[i].id;
        o->topic_name = arena_str(a, bstr(&t->name));
        o->partitions = tp[i].partitions;
    }
    out->topic_partitions.count = k;
    return true;
}

int od_cg_describe(od_cg *cg, od_str group_id, od_arena *arena,
                   od_consumer_group_describe_response_described_group *out)
{
    od_consumer_group_describe_response_described_group_init(out);
    out->group_id = arena_str(arena, group_id);
    out->group_state = OD_STR_LIT("");
    out->assignor_name = OD_STR_LIT("");
    int32_t partition;
    int16_t err = partition_status(cg, group_id, &partition);
    cgroup *g = err == OD_GC_NONE ? find_group(cg, group_id) : NULL;
    if (err == OD_GC_NONE && !g)
        err = OD_GC_GROUP_ID_NOT_FOUND;
    if (err != OD_GC_NONE) {
        out->error_code = err;
        if (err == OD_GC_GROUP_ID_NOT_FOUND) {
            /* Kafka's "Group %s not found." */
            int32_t gl = group_id.len > 0 ? group_id.len : 0;
            char *m = od_arena_alloc(arena, (size_t)gl + 18);
            if (!m)
                return -1;
            memcpy(m, "Group ", 6);
            if (gl)
                memcpy(m + 6, group_id.ptr, (size_t)gl);
            memcpy(m + 6 + gl, " not found.", 11);
            out->error_message = (od_str){m, gl + 17};
        }
        return 0;
    }
    const char *st = group_state(g);
    out->group_state = (od_str){st, (int32_t)strlen(st)};
    out->group_epoch = g->group_epoch;
    out->assignment_epoch = g->assignment_epoch;
    view_member *v;
    int32_t nv = build_view(cg, g, NULL, NULL, NULL, (tpset){NULL, 0}, arena, &v);
    if (nv < 0)
        return -1;
    const char *an = assignor_name(preferred_assignor(cg, v, nv));
    out->assignor_name = (od_str){an, (int32_t)strlen(an)};
    out->members.count = g->member_count;
    out->members.items = od_arena_calloc(arena, (size_t)(g->member_count ? g->member_count : 1),
                                         sizeof *out->members.items);
    if (!out->members.items)
        return -1;
    for (int32_t i = 0; i < g->member_count; i++) {
        const cmember *m = g->members[i];
        od_consumer_group_describe_response_member *o = &out->members.items[i];
        od_consumer_group_describe_response_member_init(o);
        o->member_id = arena_str(arena, bstr(&m->id));
        o->instance_id = arena_str(arena, bstr(&m->instance_id));
        o->rack_id = arena_str(arena, bstr(&m->rack_id));
        o->member_epoch = m->epoch;
        o->client_id = arena_str(arena, bstr(&m->client_id));
        o->client_host = arena_str(arena, bstr(&m->client_host));
        o->subscribed_topic_names.count = m->topic_count;
        o->subscribed_topic_names.items =
            od_arena_alloc(arena, (size_t)(m->topic_count ? m->topic_count : 1) * sizeof(od_str));
        if (!o->subscribed_topic_names.items)
            return -1;
        for (int32_t k = 0; k < m->topic_count; k++)
            o->subscribed_topic_names.items[k] = arena_str(arena, bstr(&m->topics[k]));
        o->subscribed_topic_regex = arena_str(arena, bstr(&m->regex));
        o->member_type = m->classic ? OD_CG_MEMBER_TYPE_CLASSIC : OD_CG_MEMBER_TYPE_CONSUMER;
        if (!fill_described_assignment(cg, arena, &m->assigned, &o->assignment) ||
            !fill_described_assignment(cg, arena, &m->target, &o->target_assignment))
            return -1;
    }
    return 0;
}

bool od_cg_has_group(const od_cg *cg, od_str group_id)
{
    int32_t p = partition_for(cg, group_id);
    return cg->parts[p] == PART_ACTIVE && find_group(cg, group_id) != NULL;
}

int od_cg_list(const od_cg *cg, od_arena *arena, od_cg_listed_group **groups, int32_t *count)
{
    int32_t n = 0;
    for (size_t b = 0; b < GROUP_BUCKETS; b++)
        for (const cgroup *g = cg->buckets[b]; g; g = g->next)
            n++;
    od_cg_listed_group *out = od_arena_calloc(arena, (size_t)(n ? n : 1), sizeof *out);
    if (!out)
        return -1;
    int32_t k = 0;
    for (size_t b = 0; b < GROUP_BUCKETS; b++)
        for (const cgroup *g = cg->buckets[b]; g; g = g->next) {
            if (cg->parts[g->partition] != PART_ACTIVE)
                continue;
            const char *st = group_state(g);
            out[k].group_id = arena_str(arena, bstr(&g->id));
            out[k].state = (od_str){st, (int32_t)strlen(st)};
            k++;
        }
    *groups = out;
    *count = k;
    return 0;
}

/* ---------------------------------------------------------------- offsets
 *
 * Who may touch a consumer group's offsets: Kafka 3.9's ConsumerGroup
 * validateOffsetCommit, validateOffsetFetch, isSubscribedToTopic (for
 * OffsetDelete) and validateDeleteGroup, with the mapping
 * OffsetMetadataManager adds for TxnOffsetCommit. Every offsets handler
 * goes through these (broker/handlers/consumer_group_util.h), so a new kind
 * of member changes them here only. */

/* A member's epoch as an offsets request states it (validateMemberEpoch).
 * Any difference, older or newer, is STALE_MEMBER_EPOCH in Kafka 3.9. A
 * member speaking the classic protocol inside a consumer group (its
 * generation id is its member epoch) gets ILLEGAL_GENERATION there instead. */
static int16_t offset_member_epoch_error(const cmember *m, int32_t received_epoch)
{
    if (received_epoch == m->epoch)
        return OD_GC_NONE;
    return m->classic ? OD_GC_ILLEGAL_GENERATION : OD_CG_STALE_MEMBER_EPOCH;
}

/* validateOffsetCommit(memberId, instanceId, epoch, isTransactional,
 * apiVersion): a commit with no epoch is an admin's (or a consumer's without
 * group management) and is taken while the group has no members; otherwise
 * the member must exist, use OffsetCommit v9+ unless the commit is
 * transactional, and state its current epoch. */
static int16_t validate_commit(const od_cg *cg, od_str group_id, od_str member_id,
                               int32_t member_epoch, bool transactional, int16_t api_version)
{
    const cgroup *g = od_cg_has_group(cg, group_id) ? find_group(cg, group_id) : NULL;
    if (!g)
        return OD_GC_GROUP_ID_NOT_FOUND;
    if (member_epoch < 0 && g->member_count == 0)
        return OD_GC_NONE;
    const cmember *m = find_member(g, member_id, NULL);
    if (!m)
        return OD_GC_UNKNOWN_MEMBER_ID;
    /* Kafka exempts members speaking the classic protocol inside a consumer
     * group (member.useClassicProtocol()): they commit with v8 and below,
     * their generation being their epoch (offset_member_epoch_error). */
    if (!m->classic && !transactional && api_version < 9)
        return OD_CG_UNSUPPORTED_VERSION;
    return offset_member_epoch_error(m, member_epoch);
}

int16_t od_cg_validate_offset_commit(const od_cg *cg, od_str group_id, od_str member_id,
                                     int32_t member_epoch, int16_t api_version)
{
    return validate_commit(cg, group_id, member_id, member_epoch, false, api_version);
}

int16_t od_cg_validate_txn_offset_commit(const od_cg *cg, od_str group_id, od_str member_id,
                                         int32_t member_epoch)
{
    int16_t err = validate_commit(cg, group_id, member_id, member_epoch, true, 0);
    /* OffsetMetadataManager.validateTransactionalOffsetCommit: producers
     * know generations, not member epochs. */
    return err == OD_CG_STALE_MEMBER_EPOCH ? OD_GC_ILLEGAL_GENERATION : err;
}

int16_t od_cg_validate_offset_fetch(const od_cg *cg, od_str group_id, od_str member_id,
                                    int32_t member_epoch)
{
    const cgroup *g = od_cg_has_group(cg, group_id) ? find_group(cg, group_id) : NULL;
    if (!g)
        return OD_GC_GROUP_ID_NOT_FOUND;
    /* Only a null member id (OffsetFetch before v9, or an admin) with no
     * epoch is anonymous; an empty string is a member id nobody has. */
    if (member_id.len < 0 && member_epoch < 0)
        return OD_GC_NONE;
    const cmember *m = find_member(g, member_id, NULL);
    if (!m)
        return OD_GC_UNKNOWN_MEMBER_ID;
    return offset_member_epoch_error(m, member_epoch);
}

int16_t od_cg_validate_offset_delete(const od_cg *cg, od_str group_id, od_str topic)
{
    const cgroup *g = od_cg_has_group(cg, group_id) ? find_group(cg, group_id) : NULL;
    if (!g)
        return OD_GC_GROUP_ID_NOT_FOUND;
    /* isSubscribedToTopic: the names the members subscribe to, whether or
     * not the topic exists (and, Odradek's extension, what their regex
     * matches among the cluster's topics). */
    const topicmeta *t = NULL;
    for (int32_t i = 0; i < cg->topic_count && !t; i++)
        if (beq(&cg->topics[i].name, topic))
            t = &cg->topics[i];
    for (int32_t i = 0; i < g->member_count; i++) {
        const cmember *m = g->members[i];
        for (int32_t k = 0; k < m->topic_count; k++)
            if (beq(&m->topics[k], topic))
                return OD_GC_GROUP_SUBSCRIBED_TO_TOPIC;
        if (t && m->regex.len > 0 && regex_matches(cg, bstr(&m->regex), t))
            return OD_GC_GROUP_SUBSCRIBED_TO_TOPIC;
    }
    return OD_GC_NONE;
}

int16_t od_cg_delete_group(od_cg *cg, od_str group_id)
{
    int32_t partition;
    int16_t err = partition_status(cg, group_id, &partition);
    if (err != OD_GC_NONE)
        return err;
    cgroup *g = find_group(cg, group_id);
    if (!g)
        return OD_GC_GROUP_ID_NOT_FOUND;
    if (g->member_count > 0)
        return OD_GC_NON_EMPTY_GROUP;
    od_arena arena;
    od_arena_init(&arena);
    reclist rl;
    rl_init(&rl, &arena);
    od_str gid = bstr(&g->id);
    /* Kafka's createGroupTombstoneRecords order */
    rec_tombstone(&rl, KEY_TARGET_METADATA, gid, OD_STR_NULL);
    rec_tombstone(&rl, KEY_PARTITION_METADATA, gid, OD_STR_NULL);
    rec_tombstone(&rl, KEY_GROUP_EPOCH, gid, OD_STR_NULL);
    err = commit_records(cg, partition, &rl);
    od_arena_release(&arena);
    return err;
}

bool od_cg_group_info_get(const od_cg *cg, od_str group_id, od_cg_group_info *out)
{
    const cgroup *g = find_group(cg, group_id);
    if (!g)
        return false;
    out->group_epoch = g->group_epoch;
    out->assignment_epoch = g->assignment_epoch;
    out->member_count = g->member_count;
    out->state = group_state(g);
    return true;
}

bool od_cg_member_get(const od_cg *cg, od_str group_id, od_str member_id, int which,
                      od_arena *arena, int32_t *epoch, int8_t *state, od_cg_tp **tps,
                      int32_t *count)
{
    const cgroup *g = find_group(cg, group_id);
    const cmember *m = g ? find_member(g, member_id, NULL) : NULL;
    if (!m)
        return false;
    const tpset *s = which == 0 ? &m->assigned : which == 1 ? &m->pending : &m->target;
    *epoch = m->epoch;
    *state = m->state;
    *tps = od_arena_alloc(arena, (size_t)(s->n ? s->n : 1) * sizeof **tps);
    if (!*tps)
        return false;
    if (s->n)
        memcpy(*tps, s->v, (size_t)s->n * sizeof **tps);
    *count = s->n;
    return true;
}

/* ---------------------------------------------------------------- metadata */

static bool subscribes_to_name(const od_cg *cg, const cgroup *g, const topicmeta *t)
{
    for (int32_t i = 0; i < g->meta_count; i++)
        if (beq(&g->meta[i].name, bstr(&t->name)))
            return true;
    for (int32_t i = 0; i < g->member_count; i++) {
        const cmember *m = g->members[i];
        for (int32_t k = 0; k < m->topic_count; k++)
            if (beq(&m->topics[k], bstr(&t->name)))
                return true;
        if (m->regex.len > 0 && regex_matches(cg, bstr(&m->regex), t))
            return true;
    }
    return false;
}

int od_cg_set_topics(od_cg *cg, const od_cg_topic *topics, int32_t count)
{
    topicmeta *t = calloc((size_t)(count ? count : 1), sizeof *t);
    if (!t)
        return -1;
    for (int32_t i = 0; i < count; i++) {
        t[i].name.len = -1;
        t[i].id = topics[i].id;
        t[i].partitions = topics[i].partitions;
        if (!bset_str(&t[i].name, topics[i].name)) {
            free_meta(t, i);
            return -1;
        }
    }
    qsort(t, (size_t)count, sizeof *t, meta_name_cmp);
    /* Topics that changed: in one view and not identically in the other. */
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        for (cgroup *g = cg->buckets[b]; g; g = g->next) {
            if (g->refresh_metadata)
                continue;
            for (int32_t pass = 0; pass < 2 && !g->refresh_metadata; pass++) {
                const topicmeta *from = pass == 0 ? t : cg->topics;
                int32_t nfrom = pass == 0 ? count : cg->topic_count;
                const topicmeta *to = pass == 0 ? cg->topics : t;
                int32_t nto = pass == 0 ? cg->topic_count : count;
                for (int32_t i = 0; i < nfrom && !g->refresh_metadata; i++) {
                    bool same = false;
                    for (int32_t j = 0; j < nto && !same; j++)
                        same = beq(&to[j].name, bstr(&from[i].name)) &&
                               od_uuid_eq(&to[j].id, &from[i].id) &&
                               to[j].partitions == from[i].partitions;
                    if (!same && subscribes_to_name(cg, g, &from[i]))
                        g->refresh_metadata = true;
                }
            }
        }
    }
    free_meta(cg->topics, cg->topic_count);
    cg->topics = t;
    cg->topic_count = count;
    cg->topics_known = true;
    return 0;
}

/* ---------------------------------------------------------------- timers */

/* Fires one due timer; returns true when it did (the group may be changed,
 * so the caller rescans). */
static bool fire_one(od_cg *cg, int64_t t)
{
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        for (cgroup *g = cg->buckets[b]; g; g = g->next) {
            if (cg->parts[g->partition] != PART_ACTIVE)
                continue;
            for (int32_t i = 0; i < g->member_count; i++) {
                cmember *m = g->members[i];
                bool session = m->session_deadline >= 0 && m->session_deadline <= t;
                bool rebalance = m->rebalance_deadline >= 0 && m->rebalance_deadline <= t;
                /* a classic member's join or sync timeout fences like a session */
                session = session || (m->classic_deadline >= 0 && m->classic_deadline <= t);
                if (!session && !rebalance)
                    continue;
                if (rebalance && !session &&
                    !(m->state == OD_CG_MEMBER_UNREVOKED_PARTITIONS &&
                      m->epoch == m->rebalance_epoch)) {
                    m->rebalance_deadline = -1;
                    return true;
                }
                od_arena arena;
                od_arena_init(&arena);
                int16_t err = fence_member(cg, g, m, &arena);
                od_arena_release(&arena);
                if (err != OD_GC_NONE) {
                    /* still here: try again later */
                    int64_t retry = arm(cg, t + RETRY_MS);
                    if (session) {
                        m->session_deadline = retry;
                        if (m->classic_deadline >= 0)
                            m->classic_deadline = retry;
                    }
                    if (rebalance)
                        m->rebalance_deadline = retry;
                    continue;
                }
                return true;
            }
        }
    }
    return false;
}

void od_cg_tick(od_cg *cg)
{
    int64_t t = now(cg);
    cg->wake.requested_wake = -1;
    for (int guard = 0; guard < 1000000 && fire_one(cg, t); guard++)
        ;
    int64_t d = -1;
    for (size_t b = 0; b < GROUP_BUCKETS; b++)
        for (const cgroup *g = cg->buckets[b]; g; g = g->next)
            for (int32_t i = 0; i < g->member_count; i++) {
                d = min_deadline(d, g->members[i]->session_deadline);
                d = min_deadline(d, g->members[i]->rebalance_deadline);
                d = min_deadline(d, g->members[i]->classic_deadline);
            }
    cg->wake.armed_min = -1;
    if (d >= 0)
        arm(cg, d);
    request_wake(cg);
}

/* ---------------------------------------------------------------- lifecycle, loading */

od_cg *od_cg_create(const od_cg_config *config, const od_gc_env *env)
{
    if (config->offsets_topic_num_partitions <= 0 || config->assignor_count < 1 ||
        config->assignor_count > 2)
        return NULL;
    od_cg *cg = calloc(1, sizeof *cg);
    if (!cg)
        return NULL;
    cg->cfg = *config;
    cg->env = *env;
    cg->parts = calloc((size_t)config->offsets_topic_num_partitions, sizeof *cg->parts);
    cg->regexes = calloc(1, sizeof *cg->regexes);
    if (!cg->parts || !cg->regexes) {
        free(cg->parts);
        free(cg->regexes);
        free(cg);
        return NULL;
    }
    cg->rng = random_seed(config->member_id_seed, cg);
    cg->wake = (group_wake){-1, -1};
    return cg;
}

void od_cg_unload(od_cg *cg, int32_t partition)
{
    if (partition < 0 || partition >= cg->cfg.offsets_topic_num_partitions)
        return;
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        cgroup *g = cg->buckets[b];
        while (g) {
            cgroup *next = g->next;
            if (g->partition == partition)
                destroy_group(cg, g);
            g = next;
        }
    }
    cg->parts[partition] = PART_NOT_OWNED;
}

void od_cg_destroy(od_cg *cg)
{
    if (!cg)
        return;
    for (int32_t p = 0; p < cg->cfg.offsets_topic_num_partitions; p++)
        od_cg_unload(cg, p);
    free_meta(cg->topics, cg->topic_count);
    regex_cache_free(cg->regexes);
    free(cg->parts);
    free(cg);
}

int od_cg_load_begin(od_cg *cg, int32_t partition)
{
    if (partition < 0 || partition >= cg->cfg.offsets_topic_num_partitions)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    od_cg_unload(cg, partition);
    cg->parts[partition] = PART_LOADING;
    return 0;
}

int od_cg_load_batch(od_cg *cg, int32_t partition, const uint8_t *batch, size_t len)
{
    if (partition < 0 || partition >= cg->cfg.offsets_topic_num_partitions ||
        cg->parts[partition] != PART_LOADING)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    od_record_iter it;
    if (od_record_iter_init(&it, batch, len, LOAD_DECOMPRESS_LIMIT) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return OD_GC_UNKNOWN_SERVER_ERROR;
    }
    if (it.header.attributes & (OD_BATCH_ATTR_CONTROL | OD_BATCH_ATTR_TRANSACTIONAL)) {
        od_record_iter_finish(&it);
        return 0;
    }
    od_arena arena;
    od_arena_init(&arena);
    int rc = 0;
    od_record rec;
    while (rc == 0 && od_record_iter_next(&it, &rec))
        rc = replay_record(cg, rec.key, rec.value, &arena);
    if (rc == 0 && it.err != OD_BATCH_OK)
        rc = OD_GC_UNKNOWN_SERVER_ERROR;
    od_record_iter_finish(&it);
    od_arena_release(&arena);
    return rc;
}

int od_cg_load_record(od_cg *cg, int32_t partition, od_bytes key, od_bytes value)
{
    if (partition < 0 || partition >= cg->cfg.offsets_topic_num_partitions)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    if (cg->parts[partition] != PART_LOADING)
        od_cg_load_begin(cg, partition);
    od_arena arena;
    od_arena_init(&arena);
    int rc = replay_record(cg, key, value, &arena);
    od_arena_release(&arena);
    return rc;
}

void od_cg_activate_all(od_cg *cg)
{
    for (int32_t p = 0; p < cg->cfg.offsets_topic_num_partitions; p++) {
        if (cg->parts[p] == PART_ACTIVE)
            continue;
        if (cg->parts[p] == PART_NOT_OWNED)
            cg->parts[p] = PART_LOADING;
        od_cg_load_finish(cg, p);
    }
}

int od_cg_load_finish(od_cg *cg, int32_t partition)
{
    if (partition < 0 || partition >= cg->cfg.offsets_topic_num_partitions ||
        cg->parts[partition] != PART_LOADING)
        return OD_GC_UNKNOWN_SERVER_ERROR;
    for (size_t b = 0; b < GROUP_BUCKETS; b++) {
        for (cgroup *g = cg->buckets[b]; g; g = g->next) {
            if (g->partition != partition)
                continue;
            /* Members only target or assignment records mention (their
             * subscription was deleted) are gone, as in Kafka. */
            for (int32_t i = g->member_count - 1; i >= 0; i--)
                if (!g->members[i]->has_subscription)
                    remove_member_at(g, i);
            /* Loaded members get a full session to come back (Kafka
             * schedules every loaded member's session timeout), and the
             * metadata is checked against the current topics. */
            g->refresh_metadata = true;
            for (int32_t i = 0; i < g->member_count; i++) {
                cmember *m = g->members[i];
                arm_session(cg, m);
                if (m->state == OD_CG_MEMBER_UNREVOKED_PARTITIONS) {
                    m->rebalance_deadline =
                        arm(cg, now(cg) + (m->rebalance_timeout_ms > 0 ? m->rebalance_timeout_ms : 0));
                    m->rebalance_epoch = m->epoch;
                }
            }
        }
    }
    cg->parts[partition] = PART_ACTIVE;
    request_wake(cg);
    return 0;
}
