/*
 * The transaction coordinator. Invariants 1-5 and the state machine are in
 * transaction_coordinator.h. Internal invariants:
 *   6. A transaction lives in exactly one hash bucket, keyed by its id, and
 *      belongs to the __transaction_state partition its id hashes to.
 *   7. In PrepareCommit/PrepareAbort, parts[i].marked says which partitions
 *      already hold their marker; nothing else reads `marked`.
 *   8. last_producer_id/last_producer_epoch are memory only (version 0
 *      records have no room for them), so after a reload a retried KIP-360
 *      InitProducerId spanning the reload is fenced, as Kafka's is.
 */
#include "transaction_coordinator.h"

#include <stdlib.h>
#include <string.h>

#include "group_coordinator.h"
#include "records/batch_builder.h"
#include "records/records.h"
#include "txn_records.h"

enum { BUCKETS = 1024, NO_EPOCH = -1, LOAD_DECOMPRESS_LIMIT = 64 << 20 };

typedef enum { PART_NONE, PART_LOADING, PART_OWNED } part_status;

typedef struct txn_part {
    char *topic;
    int32_t topic_len;
    int32_t partition;
    bool marked;
} txn_part;

typedef struct txn {
    struct txn *next;
    char *id;
    int32_t id_len;
    int32_t partition;
    od_txn_state state;
    int64_t producer_id, last_producer_id;
    int16_t producer_epoch, last_producer_epoch;
    bool failed_epoch_fence;
    int32_t timeout_ms;
    int64_t start_ms, update_ms;
    txn_part *parts;
    int32_t nparts, cap;
    int64_t marker_retry_at; /* Prepare states: when to try the markers again */
} txn;

struct od_tc {
    od_tc_config cfg;
    od_tc_env env;
    txn *buckets[BUCKETS];
    size_t count;
    part_status *parts;
    int32_t *coordinator_epoch;
    int64_t next_abort_check, next_expiry_check;
    int64_t wake_requested;
};

static const char *const STATE_NAMES[] = {
    "Empty", "Ongoing", "PrepareCommit", "PrepareAbort",
    "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence",
};

const char *od_txn_state_name(od_txn_state s)
{
    return (unsigned)s < sizeof STATE_NAMES / sizeof *STATE_NAMES ? STATE_NAMES[s] : NULL;
}

bool od_txn_state_from_name(od_str name, od_txn_state *out)
{
    for (size_t i = 0; i < sizeof STATE_NAMES / sizeof *STATE_NAMES; i++) {
        if (od_str_eq_cstr(name, STATE_NAMES[i])) {
            *out = (od_txn_state)i;
            return true;
        }
    }
    return false;
}

void od_tc_config_default(od_tc_config *c)
{
    c->num_partitions = 50;
    c->max_timeout_ms = 900000;
    c->abort_check_interval_ms = 10000;
    c->id_expiration_ms = 604800000;
    c->remove_expired_interval_ms = 3600000;
    c->marker_retry_backoff_ms = 100;
}

static int64_t now(const od_tc *tc)
{
    return tc->env.now_ms(tc->env.ctx);
}

static void want_tick_at(od_tc *tc, int64_t deadline)
{
    if (tc->env.wake_at && deadline < tc->wake_requested) {
        tc->wake_requested = deadline;
        tc->env.wake_at(tc->env.ctx, deadline);
    }
}

od_tc *od_tc_create(const od_tc_config *config, const od_tc_env *env)
{
    if (config->num_partitions < 1)
        return NULL;
    od_tc *tc = calloc(1, sizeof *tc);
    if (!tc)
        return NULL;
    tc->cfg = *config;
    tc->env = *env;
    tc->parts = calloc((size_t)config->num_partitions, sizeof *tc->parts);
    tc->coordinator_epoch = calloc((size_t)config->num_partitions, sizeof *tc->coordinator_epoch);
    if (!tc->parts || !tc->coordinator_epoch) {
        od_tc_destroy(tc);
        return NULL;
    }
    int64_t t = now(tc);
    tc->next_abort_check = t + config->abort_check_interval_ms;
    tc->next_expiry_check = t + config->remove_expired_interval_ms;
    tc->wake_requested = INT64_MAX;
    return tc;
}

static void free_txn(txn *t)
{
    for (int32_t i = 0; i < t->nparts; i++)
        free(t->parts[i].topic);
    free(t->parts);
    free(t->id);
    free(t);
}

void od_tc_destroy(od_tc *tc)
{
    if (!tc)
        return;
    for (size_t b = 0; b < BUCKETS; b++) {
        txn *t = tc->buckets[b];
        while (t) {
            txn *next = t->next;
            free_txn(t);
            t = next;
        }
    }
    free(tc->parts);
    free(tc->coordinator_epoch);
    free(tc);
}

int32_t od_tc_partition_for(const od_tc *tc, od_str transactional_id)
{
    int32_t h = od_java_string_hash(transactional_id);
    /* Kafka's Utils.abs maps Integer.MIN_VALUE to 0. */
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    return a % tc->cfg.num_partitions;
}

size_t od_tc_count(const od_tc *tc)
{
    return tc->count;
}

/* ---------------------------------------------------------------- the table */

static size_t bucket_of(od_str id)
{
    uint32_t h = 2166136261u;
    for (int32_t i = 0; i < id.len; i++)
        h = (h ^ (uint8_t)id.ptr[i]) * 16777619u;
    return h % BUCKETS;
}

static txn *find_txn(const od_tc *tc, od_str id)
{
    for (txn *t = tc->buckets[bucket_of(id)]; t; t = t->next)
        if (t->id_len == id.len && memcmp(t->id, id.ptr, (size_t)id.len) == 0)
            return t;
    return NULL;
}

static txn *add_txn(od_tc *tc, od_str id, int32_t partition)
{
    txn *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->id = malloc((size_t)id.len + 1);
    if (!t->id) {
        free(t);
        return NULL;
    }
    memcpy(t->id, id.ptr, (size_t)id.len);
    t->id[id.len] = '\0';
    t->id_len = id.len;
    t->partition = partition;
    t->state = OD_TXN_EMPTY;
    t->producer_id = t->last_producer_id = -1;
    t->producer_epoch = t->last_producer_epoch = NO_EPOCH;
    t->start_ms = -1;
    size_t b = bucket_of(id);
    t->next = tc->buckets[b];
    tc->buckets[b] = t;
    tc->count++;
    return t;
}

static void remove_txn(od_tc *tc, txn *victim)
{
    txn **pp = &tc->buckets[bucket_of((od_str){victim->id, victim->id_len})];
    while (*pp && *pp != victim)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = victim->next;
        tc->count--;
        free_txn(victim);
    }
}

static od_str id_of(const txn *t)
{
    return (od_str){t->id, t->id_len};
}

static bool has_part(const txn *t, od_str topic, int32_t partition)
{
    for (int32_t i = 0; i < t->nparts; i++)
        if (t->parts[i].partition == partition && t->parts[i].topic_len == topic.len &&
            memcmp(t->parts[i].topic, topic.ptr, (size_t)topic.len) == 0)
            return true;
    return false;
}

static bool add_part(txn *t, od_str topic, int32_t partition)
{
    if (has_part(t, topic, partition))
        return true;
    if (t->nparts == t->cap) {
        int32_t cap = t->cap ? t->cap * 2 : 4;
        txn_part *grown = realloc(t->parts, (size_t)cap * sizeof *grown);
        if (!grown)
            return false;
        t->parts = grown;
        t->cap = cap;
    }
    char *copy = malloc((size_t)topic.len + 1);
    if (!copy)
        return false;
    memcpy(copy, topic.ptr, (size_t)topic.len);
    copy[topic.len] = '\0';
    t->parts[t->nparts++] = (txn_part){copy, topic.len, partition, false};
    return true;
}

static void clear_parts(txn *t)
{
    for (int32_t i = 0; i < t->nparts; i++)
        free(t->parts[i].topic);
    t->nparts = 0;
}

/* ---------------------------------------------------------------- transitions */

/* A prospective state (Kafka's TxnTransitMetadata). The partition set is
 * the transaction's own plus `added`, or none when clear_parts. */
typedef struct transit {
    od_txn_state state;
    int64_t producer_id;
    int16_t producer_epoch, last_producer_epoch;
    int32_t timeout_ms;
    int64_t start_ms, update_ms;
    bool clear_parts;
    const od_tc_topic_partition *added;
    int32_t added_count;
} transit;

static transit transit_of(const txn *t, od_txn_state state, int64_t update_ms)
{
    return (transit){state, t->producer_id, t->producer_epoch, t->last_producer_epoch,
                     t->timeout_ms, t->start_ms, update_ms, false, NULL, 0};
}

/* Kafka's appendTransactionToLog error mapping. */
static int16_t map_append_error(int16_t e)
{
    switch (e) {
    case OD_TC_UNKNOWN_TOPIC_OR_PARTITION:
    case OD_TC_NOT_ENOUGH_REPLICAS:
    case OD_TC_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case OD_TC_REQUEST_TIMED_OUT:
        return OD_TC_COORDINATOR_NOT_AVAILABLE;
    case OD_TC_NOT_LEADER_OR_FOLLOWER:
    case OD_TC_KAFKA_STORAGE_ERROR:
        return OD_TC_NOT_COORDINATOR;
    case OD_TC_MESSAGE_TOO_LARGE:
    case OD_TC_RECORD_LIST_TOO_LARGE:
        return OD_TC_UNKNOWN_SERVER_ERROR;
    default:
        return e;
    }
}

/* Groups the partition list by topic (topics in order of first appearance)
 * into v->transaction_partitions, from arena. Returns false when out of
 * memory. */
static bool group_partitions(od_arena *arena, const od_tc_topic_partition *all, int32_t n,
                             od_transaction_log_value *v)
{
    od_transaction_log_value_partitions_schema *topics =
        od_arena_alloc(arena, (size_t)(n ? n : 1) * sizeof *topics);
    int32_t *ids = od_arena_alloc(arena, (size_t)(n ? n : 1) * sizeof *ids);
    if (!topics || !ids)
        return false;
    int32_t ntopics = 0, used = 0;
    for (int32_t i = 0; i < n; i++) {
        bool seen = false;
        for (int32_t k = 0; k < i && !seen; k++)
            seen = od_str_eq(all[k].topic, all[i].topic);
        if (seen)
            continue;
        od_transaction_log_value_partitions_schema *s = &topics[ntopics++];
        od_transaction_log_value_partitions_schema_init(s);
        s->topic = all[i].topic;
        int32_t first = used;
        for (int32_t k = i; k < n; k++)
            if (od_str_eq(all[k].topic, all[i].topic))
                ids[used++] = all[k].partition;
        s->partition_ids = (od_int32_array){used - first, ids + first};
    }
    v->transaction_partitions =
        (od_transaction_log_value_partitions_schema_array){ntopics, topics};
    return true;
}

/* Persists `n` for `t` (invariant 1), then applies it to memory. Returns
 * the mapped append error. */
static int16_t transition(od_tc *tc, txn *t, const transit *n)
{
    od_arena arena;
    od_arena_init(&arena);
    int32_t total = n->clear_parts ? 0 : t->nparts + n->added_count;
    od_tc_topic_partition *all = od_arena_alloc(&arena, (size_t)(total ? total : 1) * sizeof *all);
    int16_t err = OD_TC_UNKNOWN_SERVER_ERROR;
    if (!all)
        goto out;
    int32_t m = 0;
    if (!n->clear_parts) {
        for (int32_t i = 0; i < t->nparts; i++)
            all[m++] = (od_tc_topic_partition){{t->parts[i].topic, t->parts[i].topic_len},
                                               t->parts[i].partition};
        for (int32_t i = 0; i < n->added_count; i++) {
            bool dup = false;
            for (int32_t k = 0; k < m && !dup; k++)
                dup = all[k].partition == n->added[i].partition &&
                      od_str_eq(all[k].topic, n->added[i].topic);
            if (!dup)
                all[m++] = n->added[i];
        }
    }
    od_transaction_log_value v;
    od_transaction_log_value_init(&v);
    v.producer_id = n->producer_id;
    v.producer_epoch = n->producer_epoch;
    v.transaction_timeout_ms = n->timeout_ms;
    v.transaction_status = (int8_t)n->state;
    v.transaction_last_update_timestamp_ms = n->update_ms;
    v.transaction_start_timestamp_ms = n->start_ms;
    if (n->state == OD_TXN_EMPTY)
        v.transaction_partitions = (od_transaction_log_value_partitions_schema_array){-1, NULL};
    else if (!group_partitions(&arena, all, m, &v))
        goto out;

    od_writer key, value;
    od_writer_init(&key, 64);
    od_writer_init(&value, 128);
    od_txn_write_key(&key, id_of(t));
    od_txn_write_value(&value, &v);
    od_builder_record rec = {.timestamp = now(tc),
                             .key = {key.buf, (int32_t)key.len},
                             .value = {value.buf, (int32_t)value.len}};
    od_batch_params params = OD_BATCH_PARAMS_INIT;
    od_writer batch;
    od_writer_init(&batch, 256);
    if (key.err == OD_WIRE_OK && value.err == OD_WIRE_OK &&
        od_batch_build(&params, &rec, 1, &batch) == OD_BATCH_OK && batch.err == OD_WIRE_OK)
        err = map_append_error(tc->env.append(tc->env.ctx, t->partition, batch.buf, batch.len));
    od_writer_free(&batch);
    od_writer_free(&key);
    od_writer_free(&value);
    if (err != OD_TC_NONE)
        goto out;

    /* Durable: memory follows (Kafka's completeTransitionTo). */
    if (n->producer_id != t->producer_id)
        t->last_producer_id = t->producer_id;
    t->producer_id = n->producer_id;
    t->producer_epoch = n->producer_epoch;
    t->last_producer_epoch = n->last_producer_epoch;
    t->timeout_ms = n->timeout_ms;
    t->start_ms = n->start_ms;
    t->update_ms = n->update_ms;
    t->state = n->state;
    if (n->clear_parts || n->state == OD_TXN_EMPTY) {
        clear_parts(t);
    } else {
        for (int32_t i = 0; i < n->added_count; i++)
            if (!add_part(t, n->added[i].topic, n->added[i].partition)) {
                /* The record holds the partition; memory cannot. Leaving it
                 * out would skip its marker, so fail loudly instead. */
                abort();
            }
    }
    for (int32_t i = 0; i < t->nparts; i++)
        t->parts[i].marked = false;
out:
    od_arena_release(&arena);
    return err;
}

/* Writes the markers still missing and, once all are there, the Complete
 * record (invariant 3). Returns true when the transaction completed. */
static bool complete_markers(od_tc *tc, txn *t)
{
    if (t->state != OD_TXN_PREPARE_COMMIT && t->state != OD_TXN_PREPARE_ABORT)
        return false;
    bool commit = t->state == OD_TXN_PREPARE_COMMIT;
    bool pending = false;
    for (int32_t i = 0; i < t->nparts; i++) {
        txn_part *p = &t->parts[i];
        if (p->marked)
            continue;
        int16_t e = tc->env.write_marker(tc->env.ctx, (od_str){p->topic, p->topic_len},
                                         p->partition, t->producer_id, t->producer_epoch,
                                         tc->coordinator_epoch[t->partition], commit);
        if (e == OD_TC_NONE || e == OD_TC_UNKNOWN_TOPIC_OR_PARTITION)
            p->marked = true;
        else
            pending = true;
    }
    if (!pending) {
        transit n = transit_of(t, commit ? OD_TXN_COMPLETE_COMMIT : OD_TXN_COMPLETE_ABORT, now(tc));
        n.clear_parts = true;
        if (transition(tc, t, &n) == OD_TC_NONE)
            return true;
    }
    t->marker_retry_at = now(tc) + tc->cfg.marker_retry_backoff_ms;
    want_tick_at(tc, t->marker_retry_at);
    return false;
}

/* ---------------------------------------------------------------- lookups */

/* The coordinator-level error for an id, or NONE when its partition is
 * owned. */
static int16_t ownership_error(const od_tc *tc, od_str id)
{
    switch (tc->parts[od_tc_partition_for(tc, id)]) {
    case PART_OWNED: return OD_TC_NONE;
    case PART_LOADING: return OD_TC_COORDINATOR_LOAD_IN_PROGRESS;
    default: return OD_TC_NOT_COORDINATOR;
    }
}

static bool epoch_exhausted(int16_t epoch)
{
    return epoch >= INT16_MAX - 1;
}

/* Kafka's prepareFenceProducerEpoch + endTransaction(ABORT, not from the
 * client): bumps the epoch (never persisted as PrepareEpochFence) and
 * aborts the open transaction with it. */
static int16_t fence_and_abort(od_tc *tc, txn *t)
{
    if (t->producer_epoch == INT16_MAX)
        return OD_TC_UNKNOWN_SERVER_ERROR;
    int16_t bumped = t->failed_epoch_fence ? t->producer_epoch : (int16_t)(t->producer_epoch + 1);
    transit n = transit_of(t, OD_TXN_PREPARE_ABORT, now(tc));
    n.producer_epoch = bumped;
    n.last_producer_epoch = NO_EPOCH;
    int16_t err = transition(tc, t, &n);
    if (err != OD_TC_NONE) {
        /* Kafka keeps the bumped epoch so the producer stays fenced, and
         * does not bump again on the next attempt. */
        t->producer_epoch = bumped;
        t->last_producer_epoch = NO_EPOCH;
        t->failed_epoch_fence = true;
        return err;
    }
    t->failed_epoch_fence = false;
    complete_markers(tc, t);
    return OD_TC_NONE;
}

/* ---------------------------------------------------------------- InitProducerId */

static bool valid_timeout(const od_tc *tc, int32_t timeout_ms)
{
    return timeout_ms > 0 && timeout_ms <= tc->cfg.max_timeout_ms;
}

od_tc_init_result od_tc_init_producer_id(od_tc *tc, od_str id, int32_t timeout_ms,
                                         int64_t expected_pid, int16_t expected_epoch)
{
    od_tc_init_result r = {OD_TC_NONE, -1, NO_EPOCH};
    if (id.len <= 0) {
        r.error = OD_TC_INVALID_REQUEST;
        return r;
    }
    if (!valid_timeout(tc, timeout_ms)) {
        r.error = OD_TC_INVALID_TRANSACTION_TIMEOUT;
        return r;
    }
    if ((r.error = ownership_error(tc, id)) != OD_TC_NONE)
        return r;
    bool expected = expected_pid >= 0 || expected_epoch >= 0;
    txn *t = find_txn(tc, id);
    if (!t) {
        int64_t pid;
        if ((r.error = tc->env.next_producer_id(tc->env.ctx, &pid)) != OD_TC_NONE)
            return r;
        if (!(t = add_txn(tc, id, od_tc_partition_for(tc, id)))) {
            r.error = OD_TC_UNKNOWN_SERVER_ERROR;
            return r;
        }
        t->producer_id = t->last_producer_id = pid;
        t->timeout_ms = timeout_ms;
        t->update_ms = now(tc);
    }
    /* Kafka's isValidProducerId. */
    if (expected && !(t->producer_epoch == NO_EPOCH || expected_pid == t->producer_id ||
                      (expected_pid == t->last_producer_id && epoch_exhausted(expected_epoch)))) {
        r.error = OD_TC_PRODUCER_FENCED;
        return r;
    }
    transit n;
    switch (t->state) {
    case OD_TXN_PREPARE_COMMIT:
    case OD_TXN_PREPARE_ABORT:
        r.error = OD_TC_CONCURRENT_TRANSACTIONS;
        return r;
    case OD_TXN_ONGOING:
        /* Abort the open transaction under a bumped epoch; the client
         * retries and its next call bumps again. */
        fence_and_abort(tc, t);
        r.error = OD_TC_CONCURRENT_TRANSACTIONS;
        return r;
    case OD_TXN_EMPTY:
    case OD_TXN_COMPLETE_COMMIT:
    case OD_TXN_COMPLETE_ABORT:
        n = transit_of(t, OD_TXN_EMPTY, now(tc));
        n.timeout_ms = timeout_ms;
        n.start_ms = -1;
        n.clear_parts = true;
        if (epoch_exhausted(t->producer_epoch) && (!expected || expected_epoch == t->producer_epoch)) {
            /* Kafka's prepareProducerIdRotation. */
            int64_t pid;
            if ((r.error = tc->env.next_producer_id(tc->env.ctx, &pid)) != OD_TC_NONE)
                return r;
            n.producer_id = pid;
            n.producer_epoch = 0;
            n.last_producer_epoch = expected ? t->producer_epoch : NO_EPOCH;
        } else if (!expected || t->producer_epoch == NO_EPOCH || expected_epoch == t->producer_epoch) {
            n.producer_epoch = (int16_t)(t->producer_epoch + 1);
            n.last_producer_epoch = expected ? t->producer_epoch : NO_EPOCH;
        } else if (expected_epoch == t->last_producer_epoch) {
            /* A retry of a bump whose answer was lost: same epoch again. */
            n.producer_epoch = t->producer_epoch;
        } else {
            r.error = OD_TC_PRODUCER_FENCED;
            return r;
        }
        if ((r.error = transition(tc, t, &n)) != OD_TC_NONE) {
            r.producer_id = -1;
            r.producer_epoch = NO_EPOCH;
            return r;
        }
        r.producer_id = t->producer_id;
        r.producer_epoch = t->producer_epoch;
        return r;
    case OD_TXN_DEAD:
    case OD_TXN_PREPARE_EPOCH_FENCE:
    default:
        /* Never a resting state (Kafka throws IllegalStateException). */
        r.error = OD_TC_UNKNOWN_SERVER_ERROR;
        return r;
    }
}

/* ---------------------------------------------------------------- AddPartitionsToTxn */

/* The checks Kafka makes before touching a transaction for a client. */
static int16_t client_checks(const od_tc *tc, od_str id, int64_t pid, int16_t epoch, txn **out)
{
    if (id.len <= 0)
        return OD_TC_INVALID_REQUEST;
    int16_t e = ownership_error(tc, id);
    if (e != OD_TC_NONE)
        return e;
    txn *t = find_txn(tc, id);
    if (!t || t->state == OD_TXN_DEAD)
        return OD_TC_INVALID_PRODUCER_ID_MAPPING;
    if (t->producer_id != pid)
        return OD_TC_INVALID_PRODUCER_ID_MAPPING;
    if (t->producer_epoch != epoch)
        return OD_TC_PRODUCER_FENCED;
    *out = t;
    return OD_TC_NONE;
}

int16_t od_tc_add_partitions(od_tc *tc, od_str id, int64_t pid, int16_t epoch,
                             const od_tc_topic_partition *parts, int32_t count)
{
    txn *t = NULL;
    int16_t e = client_checks(tc, id, pid, epoch, &t);
    if (e != OD_TC_NONE)
        return e;
    if (t->state == OD_TXN_PREPARE_COMMIT || t->state == OD_TXN_PREPARE_ABORT)
        return OD_TC_CONCURRENT_TRANSACTIONS;
    bool subset = true;
    for (int32_t i = 0; i < count && subset; i++)
        subset = has_part(t, parts[i].topic, parts[i].partition);
    if (t->state == OD_TXN_ONGOING && subset)
        return OD_TC_NONE;
    int64_t ts = now(tc);
    transit n = transit_of(t, OD_TXN_ONGOING, ts);
    if (t->state != OD_TXN_ONGOING)
        n.start_ms = ts;
    n.added = parts;
    n.added_count = count;
    return transition(tc, t, &n);
}

int16_t od_tc_verify_partitions(od_tc *tc, od_str id, int64_t pid, int16_t epoch,
                                const od_tc_topic_partition *parts, int32_t count, int16_t *errors)
{
    txn *t = NULL;
    int16_t e = client_checks(tc, id, pid, epoch, &t);
    if (e == OD_TC_NONE && (t->state == OD_TXN_PREPARE_COMMIT || t->state == OD_TXN_PREPARE_ABORT))
        e = OD_TC_CONCURRENT_TRANSACTIONS;
    for (int32_t i = 0; i < count; i++)
        errors[i] = e != OD_TC_NONE ? e
                    : has_part(t, parts[i].topic, parts[i].partition) ? OD_TC_NONE
                                                                       : OD_TC_INVALID_TXN_STATE;
    return e;
}

/* ---------------------------------------------------------------- EndTxn */

int16_t od_tc_end_txn(od_tc *tc, od_str id, int64_t pid, int16_t epoch, bool commit)
{
    txn *t = NULL;
    int16_t e = client_checks(tc, id, pid, epoch, &t);
    if (e != OD_TC_NONE)
        return e;
    switch (t->state) {
    case OD_TXN_ONGOING: {
        transit n = transit_of(t, commit ? OD_TXN_PREPARE_COMMIT : OD_TXN_PREPARE_ABORT, now(tc));
        if ((e = transition(tc, t, &n)) != OD_TC_NONE)
            return e;
        /* The client hears success once Prepare is durable, as from Kafka;
         * the markers follow (now, or from the tick). */
        complete_markers(tc, t);
        return OD_TC_NONE;
    }
    case OD_TXN_COMPLETE_COMMIT:
        return commit ? OD_TC_NONE : OD_TC_INVALID_TXN_STATE;
    case OD_TXN_COMPLETE_ABORT:
        return commit ? OD_TC_INVALID_TXN_STATE : OD_TC_NONE;
    case OD_TXN_PREPARE_COMMIT:
        return commit ? OD_TC_CONCURRENT_TRANSACTIONS : OD_TC_INVALID_TXN_STATE;
    case OD_TXN_PREPARE_ABORT:
        return commit ? OD_TC_INVALID_TXN_STATE : OD_TC_CONCURRENT_TRANSACTIONS;
    case OD_TXN_EMPTY:
        return OD_TC_INVALID_TXN_STATE;
    default:
        return OD_TC_UNKNOWN_SERVER_ERROR;
    }
}

/* ---------------------------------------------------------------- timers */

static void abort_timed_out(od_tc *tc, int64_t t_now)
{
    for (size_t b = 0; b < BUCKETS; b++) {
        for (txn *t = tc->buckets[b]; t; t = t->next) {
            if (tc->parts[t->partition] != PART_OWNED || t->state != OD_TXN_ONGOING)
                continue;
            if (t->start_ms + t->timeout_ms < t_now)
                fence_and_abort(tc, t);
        }
    }
}

static void expire_ids(od_tc *tc, int64_t t_now)
{
    for (size_t b = 0; b < BUCKETS; b++) {
        txn *t = tc->buckets[b];
        while (t) {
            txn *next = t->next;
            bool allowed = t->state == OD_TXN_EMPTY || t->state == OD_TXN_COMPLETE_COMMIT ||
                           t->state == OD_TXN_COMPLETE_ABORT;
            if (tc->parts[t->partition] == PART_OWNED && allowed &&
                t->update_ms <= t_now - tc->cfg.id_expiration_ms) {
                /* Dead: a tombstone, then the id is forgotten. */
                od_writer key;
                od_writer_init(&key, 64);
                od_txn_write_key(&key, id_of(t));
                od_builder_record rec = {.timestamp = t_now,
                                         .key = {key.buf, (int32_t)key.len},
                                         .value = {NULL, -1}};
                od_batch_params params = OD_BATCH_PARAMS_INIT;
                od_writer batch;
                od_writer_init(&batch, 128);
                int16_t err = OD_TC_UNKNOWN_SERVER_ERROR;
                if (key.err == OD_WIRE_OK && od_batch_build(&params, &rec, 1, &batch) == OD_BATCH_OK &&
                    batch.err == OD_WIRE_OK)
                    err = tc->env.append(tc->env.ctx, t->partition, batch.buf, batch.len);
                od_writer_free(&batch);
                od_writer_free(&key);
                if (err == OD_TC_NONE)
                    remove_txn(tc, t);
            }
            t = next;
        }
    }
}

void od_tc_tick(od_tc *tc)
{
    int64_t t_now = now(tc);
    tc->wake_requested = INT64_MAX;
    int64_t next = INT64_MAX;
    for (size_t b = 0; b < BUCKETS; b++) {
        for (txn *t = tc->buckets[b]; t; t = t->next) {
            if (tc->parts[t->partition] != PART_OWNED ||
                (t->state != OD_TXN_PREPARE_COMMIT && t->state != OD_TXN_PREPARE_ABORT))
                continue;
            if (t->marker_retry_at <= t_now)
                complete_markers(tc, t);
            if ((t->state == OD_TXN_PREPARE_COMMIT || t->state == OD_TXN_PREPARE_ABORT) &&
                t->marker_retry_at < next)
                next = t->marker_retry_at;
        }
    }
    if (t_now >= tc->next_abort_check) {
        abort_timed_out(tc, t_now);
        tc->next_abort_check = t_now + tc->cfg.abort_check_interval_ms;
    }
    if (t_now >= tc->next_expiry_check) {
        expire_ids(tc, t_now);
        tc->next_expiry_check = t_now + tc->cfg.remove_expired_interval_ms;
    }
    if (tc->next_abort_check < next)
        next = tc->next_abort_check;
    if (tc->next_expiry_check < next)
        next = tc->next_expiry_check;
    /* complete_markers may have asked for an earlier one already. */
    if (tc->env.wake_at && next < tc->wake_requested) {
        tc->wake_requested = next;
        tc->env.wake_at(tc->env.ctx, next);
    }
}

/* ---------------------------------------------------------------- loading */

static bool partition_ok(const od_tc *tc, int32_t partition)
{
    return partition >= 0 && partition < tc->cfg.num_partitions;
}

int od_tc_load_begin(od_tc *tc, int32_t partition, int32_t coordinator_epoch)
{
    if (!partition_ok(tc, partition))
        return OD_TC_UNKNOWN_SERVER_ERROR;
    od_tc_unload(tc, partition);
    tc->parts[partition] = PART_LOADING;
    tc->coordinator_epoch[partition] = coordinator_epoch;
    return 0;
}

static int load_record(od_tc *tc, int32_t partition, const od_record *rec, od_arena *arena)
{
    od_transaction_log_key k;
    od_transaction_log_key_init(&k);
    if (od_txn_read_key(rec->key, arena, &k) != OD_WIRE_OK || k.transactional_id.len < 0)
        return OD_TC_UNKNOWN_SERVER_ERROR;
    txn *t = find_txn(tc, k.transactional_id);
    if (rec->value.len < 0) {
        if (t)
            remove_txn(tc, t);
        return 0;
    }
    od_transaction_log_value v;
    od_transaction_log_value_init(&v);
    int16_t version;
    if (od_txn_read_value(rec->value, arena, &v, &version) != OD_WIRE_OK ||
        v.transaction_status < OD_TXN_EMPTY || v.transaction_status > OD_TXN_PREPARE_EPOCH_FENCE)
        return OD_TC_UNKNOWN_SERVER_ERROR;
    if (!t && !(t = add_txn(tc, k.transactional_id, partition)))
        return OD_TC_UNKNOWN_SERVER_ERROR;
    t->producer_id = t->last_producer_id = v.producer_id;
    t->producer_epoch = v.producer_epoch;
    t->last_producer_epoch = NO_EPOCH;
    t->timeout_ms = v.transaction_timeout_ms;
    t->state = (od_txn_state)v.transaction_status;
    t->start_ms = v.transaction_start_timestamp_ms;
    t->update_ms = v.transaction_last_update_timestamp_ms;
    clear_parts(t);
    for (int32_t i = 0; i < v.transaction_partitions.count; i++) {
        const od_transaction_log_value_partitions_schema *s = &v.transaction_partitions.items[i];
        for (int32_t j = 0; j < s->partition_ids.count; j++)
            if (!add_part(t, s->topic, s->partition_ids.items[j]))
                return OD_TC_UNKNOWN_SERVER_ERROR;
    }
    return 0;
}

int od_tc_load_batch(od_tc *tc, int32_t partition, const uint8_t *batch, size_t len)
{
    if (!partition_ok(tc, partition) || tc->parts[partition] != PART_LOADING)
        return OD_TC_UNKNOWN_SERVER_ERROR;
    od_record_iter it;
    if (od_record_iter_init(&it, batch, len, LOAD_DECOMPRESS_LIMIT) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return OD_TC_UNKNOWN_SERVER_ERROR;
    }
    if (it.header.attributes & OD_BATCH_ATTR_CONTROL) {
        od_record_iter_finish(&it);
        return 0;
    }
    od_arena arena;
    od_arena_init(&arena);
    int rc = 0;
    od_record rec;
    while (rc == 0 && od_record_iter_next(&it, &rec))
        rc = load_record(tc, partition, &rec, &arena);
    if (rc == 0 && it.err != OD_BATCH_OK)
        rc = OD_TC_UNKNOWN_SERVER_ERROR;
    od_record_iter_finish(&it);
    od_arena_release(&arena);
    return rc;
}

int od_tc_load_finish(od_tc *tc, int32_t partition)
{
    if (!partition_ok(tc, partition) || tc->parts[partition] != PART_LOADING)
        return OD_TC_UNKNOWN_SERVER_ERROR;
    tc->parts[partition] = PART_OWNED;
    for (size_t b = 0; b < BUCKETS; b++) {
        txn *t = tc->buckets[b];
        while (t) {
            txn *next = t->next;
            if (t->partition == partition) {
                if (t->state == OD_TXN_DEAD)
                    remove_txn(tc, t);
                else
                    complete_markers(tc, t);
            }
            t = next;
        }
    }
    return 0;
}

void od_tc_unload(od_tc *tc, int32_t partition)
{
    if (!partition_ok(tc, partition))
        return;
    for (size_t b = 0; b < BUCKETS; b++) {
        txn *t = tc->buckets[b];
        while (t) {
            txn *next = t->next;
            if (t->partition == partition)
                remove_txn(tc, t);
            t = next;
        }
    }
    tc->parts[partition] = PART_NONE;
}

/* ---------------------------------------------------------------- admin */

static char *arena_copy(od_arena *arena, const char *s, int32_t len)
{
    char *c = od_arena_alloc(arena, (size_t)len + 1);
    if (c) {
        memcpy(c, s, (size_t)len);
        c[len] = '\0';
    }
    return c;
}

static bool fill_info(const txn *t, od_arena *arena, bool with_parts, od_tc_txn_info *out)
{
    char *id = arena_copy(arena, t->id, t->id_len);
    if (!id)
        return false;
    *out = (od_tc_txn_info){{id, t->id_len}, t->state, t->producer_id, t->producer_epoch,
                            t->timeout_ms, t->start_ms, t->update_ms, NULL, 0};
    if (with_parts && t->nparts > 0) {
        out->parts = od_arena_alloc(arena, (size_t)t->nparts * sizeof *out->parts);
        if (!out->parts)
            return false;
        for (int32_t i = 0; i < t->nparts; i++) {
            char *topic = arena_copy(arena, t->parts[i].topic, t->parts[i].topic_len);
            if (!topic)
                return false;
            out->parts[i] = (od_tc_topic_partition){{topic, t->parts[i].topic_len},
                                                    t->parts[i].partition};
        }
        out->part_count = t->nparts;
    }
    return true;
}

int16_t od_tc_describe(od_tc *tc, od_str id, od_arena *arena, od_tc_txn_info *out)
{
    if (id.len < 0)
        return OD_TC_TRANSACTIONAL_ID_NOT_FOUND;
    int16_t e = ownership_error(tc, id);
    if (e != OD_TC_NONE)
        return e;
    txn *t = find_txn(tc, id);
    if (!t || t->state == OD_TXN_DEAD)
        return OD_TC_TRANSACTIONAL_ID_NOT_FOUND;
    return fill_info(t, arena, true, out) ? OD_TC_NONE : OD_TC_UNKNOWN_SERVER_ERROR;
}

int od_tc_list(od_tc *tc, const od_txn_state *states, int32_t state_count,
               const int64_t *producer_ids, int32_t producer_id_count, int64_t min_duration_ms,
               od_arena *arena, int16_t *error, od_tc_txn_info **out, int32_t *count)
{
    *error = OD_TC_NONE;
    for (int32_t p = 0; p < tc->cfg.num_partitions; p++)
        if (tc->parts[p] == PART_LOADING)
            *error = OD_TC_COORDINATOR_LOAD_IN_PROGRESS;
    int64_t t_now = now(tc);
    od_tc_txn_info *items = od_arena_alloc(arena, (tc->count ? tc->count : 1) * sizeof *items);
    if (!items)
        return -1;
    int32_t n = 0;
    for (size_t b = 0; b < BUCKETS; b++) {
        for (const txn *t = tc->buckets[b]; t; t = t->next) {
            if (tc->parts[t->partition] != PART_OWNED || t->state == OD_TXN_DEAD)
                continue;
            bool ok = state_count == 0;
            for (int32_t i = 0; i < state_count && !ok; i++)
                ok = states[i] == t->state;
            bool pid_ok = producer_id_count == 0;
            for (int32_t i = 0; i < producer_id_count && !pid_ok; i++)
                pid_ok = producer_ids[i] == t->producer_id;
            /* Kafka's KIP-994 filter: time since the transaction started. */
            bool long_enough = min_duration_ms < 0 || t_now - t->start_ms >= min_duration_ms;
            if (ok && pid_ok && long_enough && !fill_info(t, arena, false, &items[n++]))
                return -1;
        }
    }
    *out = items;
    *count = n;
    return 0;
}
