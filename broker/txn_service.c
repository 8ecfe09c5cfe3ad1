/*
 * The transaction coordinator's environment in the broker. See
 * txn_service.h for ownership and locking.
 *
 * Invariants:
 *   1. The coordinator is only called with the broker lock held; whatever
 *      may write markers holds the group lock too, taken first (od_txn_lock;
 *      lock order: group, broker, timer_lock). The timer thread never holds
 *      timer_lock while it waits for the other two.
 *   2. A __transaction_state partition is loaded (every batch from the log
 *      start to the log end fed to od_tc_load_batch) before the coordinator
 *      owns it; a partition that fails to load stays unowned, so its ids
 *      answer NOT_COORDINATOR rather than a state the log does not hold.
 *   3. A marker is an ordinary leader append of a control batch: the
 *      partition log updates its producer state, .txnindex and LSO; the
 *      high watermark moves to the log end (one replica) and parked fetches
 *      are woken, as after a produce.
 */
#include "txn_service.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "group_service.h"
#include "handler_util.h"
#include "log_dir.h"
#include "records/batch_builder.h"
#include "records/record_batch.h"

enum { LOAD_READ_BYTES = 1 << 20 };

typedef struct od_txn_service {
    od_broker *broker;
    od_tc *tc;
    int32_t partitions;          /* of __transaction_state */
    bool topic_ready;            /* topic exists and its partitions are loaded */
    od_uuid topic_id;            /* of the loaded topic (topic_ready) */
    od_gc *groups_locked;        /* the group coordinator while od_txn_lock holds its lock */
    bool topic_creating;         /* creation posted to the controller, not answered yet */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t timer_lock;  /* guards deadline and stopping */
    pthread_cond_t timer_cond;
    int64_t deadline;
    bool stopping;
} od_txn_service;

/* ---------------------------------------------------------------- env */

static int64_t env_now(void *ctx)
{
    (void)ctx;
    return od_wall_clock_ms();
}

static void env_wake_at(void *ctx, int64_t deadline)
{
    od_txn_service *s = ctx;
    pthread_mutex_lock(&s->timer_lock);
    if (deadline < s->deadline) {
        s->deadline = deadline;
        pthread_cond_signal(&s->timer_cond);
    }
    pthread_mutex_unlock(&s->timer_lock);
}

static od_broker_partition *state_partition(od_broker *b, int32_t partition, od_broker_topic **t)
{
    *t = od_broker_topic_by_name(b, OD_STR_LIT(OD_TXN_STATE_TOPIC));
    return *t ? od_broker_partition_of(*t, partition) : NULL;
}

/* Appends as leader; `batch` is copied because the append rewrites it. */
static int16_t leader_append(od_broker *b, od_broker_topic *t, od_broker_partition *p,
                             int32_t partition, const uint8_t *batch, size_t len)
{
    uint8_t *copy = malloc(len);
    if (!copy)
        return OD_ERR_UNKNOWN_SERVER_ERROR;
    memcpy(copy, batch, len);
    int64_t now = od_wall_clock_ms();
    od_append_info info;
    od_st_err st = od_log_append_leader(p->log, copy, len, od_leader_epoch_of(b, &t->id, partition),
                                        now, &info);
    free(copy);
    if (st != OD_ST_OK)
        return od_kafka_error_from_storage(st);
    od_log_set_high_watermark(p->log, od_log_end_offset(p->log));
    od_log_maybe_flush(p->log, now);
    od_broker_wake_fetches(b);
    return OD_ERR_NONE;
}

static int16_t env_append(void *ctx, int32_t partition, const uint8_t *batch, size_t len)
{
    od_txn_service *s = ctx;
    od_broker_topic *t;
    od_broker_partition *p = state_partition(s->broker, partition, &t);
    if (!p || !p->log)
        return OD_ERR_NOT_LEADER_OR_FOLLOWER;
    return leader_append(s->broker, t, p, partition, batch, len);
}

static int16_t env_next_producer_id(void *ctx, int64_t *pid)
{
    od_txn_service *s = ctx;
    return od_broker_next_producer_id(s->broker, pid);
}

static int16_t env_write_marker(void *ctx, od_str topic, int32_t partition, int64_t pid,
                                int16_t epoch, int32_t coordinator_epoch, bool commit)
{
    od_txn_service *s = ctx;
    return od_txn_write_marker(s->broker, topic, partition, pid, epoch, coordinator_epoch, commit);
}

int16_t od_txn_write_marker(od_broker *b, od_str topic, int32_t partition, int64_t producer_id,
                            int16_t producer_epoch, int32_t coordinator_epoch, bool commit)
{
    od_broker_topic *t = od_broker_topic_by_name(b, topic);
    od_broker_partition *p = t ? od_broker_partition_of(t, partition) : NULL;
    if (!p || !p->log)
        return OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    od_batch_params params = OD_BATCH_PARAMS_INIT;
    params.base_offset = 0;
    params.producer_id = producer_id;
    params.producer_epoch = producer_epoch;
    od_writer w;
    od_writer_init(&w, 128);
    int16_t err = OD_ERR_UNKNOWN_SERVER_ERROR;
    if (od_control_batch_build(&params, commit ? OD_CONTROL_COMMIT : OD_CONTROL_ABORT,
                               coordinator_epoch, od_wall_clock_ms(), &w) == OD_BATCH_OK &&
        w.err == OD_WIRE_OK)
        err = leader_append(b, t, p, partition, w.buf, w.len);
    od_writer_free(&w);
    /* Transactional offsets in this partition commit or go with the marker
     * (a marker written without the group lock is found by the group
     * coordinator's replay instead, at its next load). */
    if (err == OD_ERR_NONE && b->txn && b->txn->groups_locked &&
        od_str_eq_cstr(topic, OD_GROUP_OFFSETS_TOPIC))
        od_gc_complete_txn(b->txn->groups_locked, partition, producer_id, commit);
    return err;
}

/* ---------------------------------------------------------------- loading */

/* Feeds one __transaction_state partition to the coordinator (invariant 2).
 * Returns 0 or -1. */
static int load_partition(od_txn_service *s, od_broker_topic *t, int32_t partition)
{
    od_broker *b = s->broker;
    od_broker_partition *p = od_broker_partition_of(t, partition);
    if (!p || !p->log)
        return -1;
    if (od_tc_load_begin(s->tc, partition, od_leader_epoch_of(b, &t->id, partition)) != 0)
        return -1;
    int64_t offset = od_log_start_offset(p->log), end = od_log_end_offset(p->log);
    while (offset < end) {
        od_log_read_result r;
        if (od_log_read(p->log, offset, LOAD_READ_BYTES, -1, true, &r) != OD_ST_OK)
            goto fail;
        size_t len = (size_t)r.region.length;
        uint8_t *buf = len ? malloc(len) : NULL;
        bool ok = len > 0 && buf &&
                  od_fio_pread_full(b->io, r.region.fd, buf, len, r.region.position) == (int64_t)len;
        od_log_read_release(p->log, &r);
        if (!ok) {
            free(buf);
            goto fail;
        }
        size_t pos = 0;
        int64_t next = offset;
        while (pos + OD_BATCH_HEADER_SIZE <= len) {
            od_batch_header h;
            if (od_batch_header_parse(buf + pos, len - pos, &h) != OD_BATCH_OK)
                break;
            size_t total = 12 + (size_t)h.batch_length;
            if (pos + total > len)
                break; /* cut by the read size: read again from this batch */
            int64_t last = h.base_offset + h.last_offset_delta;
            if (last >= offset && od_tc_load_batch(s->tc, partition, buf + pos, total) != 0) {
                free(buf);
                goto fail;
            }
            if (last + 1 > next)
                next = last + 1;
            pos += total;
        }
        free(buf);
        if (next == offset)
            goto fail; /* no whole batch: corrupt, or larger than a read */
        offset = next;
    }
    return od_tc_load_finish(s->tc, partition) == 0 ? 0 : -1;
fail:
    od_tc_unload(s->tc, partition);
    fprintf(stderr, "odradek: cannot load %s-%d; its transactional ids stay unavailable\n",
            OD_TXN_STATE_TOPIC, partition);
    return -1;
}

static void load_all(od_txn_service *s, od_broker_topic *t)
{
    for (int32_t i = 0; i < t->partition_count; i++)
        load_partition(s, t, i);
    s->topic_id = t->id;
    s->topic_ready = true;
}

/* ---------------------------------------------------------------- timer thread */

static void *timer_main(void *arg)
{
    od_txn_service *s = arg;
    pthread_mutex_lock(&s->timer_lock);
    while (!s->stopping) {
        int64_t now = od_wall_clock_ms();
        if (s->deadline <= now) {
            s->deadline = INT64_MAX;
            pthread_mutex_unlock(&s->timer_lock);
            od_gc *groups = od_txn_lock(s->broker);
            od_tc_tick(s->tc);
            od_txn_unlock(s->broker, groups);
            pthread_mutex_lock(&s->timer_lock);
            continue;
        }
        if (s->deadline == INT64_MAX) {
            pthread_cond_wait(&s->timer_cond, &s->timer_lock);
        } else {
            struct timespec ts = {(time_t)(s->deadline / 1000), (long)(s->deadline % 1000) * 1000000L};
            pthread_cond_timedwait(&s->timer_cond, &s->timer_lock, &ts);
        }
    }
    pthread_mutex_unlock(&s->timer_lock);
    return NULL;
}

/* ---------------------------------------------------------------- lifecycle */

int od_txn_service_open(od_broker *b)
{
    od_txn_service *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->broker = b;
    s->deadline = INT64_MAX;
    pthread_mutex_init(&s->timer_lock, NULL);
    pthread_cond_init(&s->timer_cond, NULL);
    b->txn = s;
    od_tc_config cfg = b->settings.txn;
    od_broker_topic *t = od_broker_topic_by_name(b, OD_STR_LIT(OD_TXN_STATE_TOPIC));
    if (t)
        cfg.num_partitions = t->partition_count; /* the topic as it is, like Kafka */
    s->partitions = cfg.num_partitions;
    od_tc_env env = {s, env_now, env_wake_at, env_append, env_next_producer_id, env_write_marker};
    if (!(s->tc = od_tc_create(&cfg, &env)))
        return -1;
    /* Transactions left in a Prepare state write their markers now: with the
     * group lock, as everywhere else (invariant 1). */
    od_gc *groups = b->groups ? od_group_service_lock(b->groups) : NULL;
    s->groups_locked = groups;
    if (t)
        load_all(s, t);
    od_tc_tick(s->tc);
    s->groups_locked = NULL;
    if (groups)
        od_group_service_unlock(b->groups);
    if (pthread_create(&s->thread, NULL, timer_main, s) != 0)
        return -1;
    s->thread_started = true;
    return 0;
}

void od_txn_service_close(od_broker *b)
{
    od_txn_service *s = b->txn;
    if (!s)
        return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->timer_lock);
        s->stopping = true;
        pthread_cond_signal(&s->timer_cond);
        pthread_mutex_unlock(&s->timer_lock);
        pthread_join(s->thread, NULL);
    }
    od_tc_destroy(s->tc);
    pthread_cond_destroy(&s->timer_cond);
    pthread_mutex_destroy(&s->timer_lock);
    free(s);
    b->txn = NULL;
}

/* The controller created (or refused) __transaction_state: load it
 * (controller thread; the service outlives every controller job, see
 * od_broker_close). */
static void state_topic_created(void *ctx, int16_t error_code, const char *message,
                                const od_uuid *topic_id)
{
    (void)topic_id;
    od_broker *b = ctx;
    od_broker_lock(b);
    od_txn_service *s = b->txn;
    if (s) {
        s->topic_creating = false;
        od_broker_topic *t = od_broker_topic_by_name(b, OD_STR_LIT(OD_TXN_STATE_TOPIC));
        if (t && !s->topic_ready)
            load_all(s, t);
        else if (!t)
            fprintf(stderr, "odradek: cannot create %s: %s (%d)\n", OD_TXN_STATE_TOPIC,
                    message ? message : "error", error_code);
    }
    od_broker_unlock(b);
}

od_gc *od_txn_lock(od_broker *b)
{
    od_gc *groups = b->groups ? od_group_service_lock(b->groups) : NULL;
    od_broker_lock(b);
    if (b->txn)
        b->txn->groups_locked = groups;
    return groups;
}

void od_txn_unlock(od_broker *b, od_gc *groups)
{
    if (b->txn)
        b->txn->groups_locked = NULL;
    od_broker_unlock(b);
    if (groups)
        od_group_service_unlock(b->groups);
}

od_tc *od_txn_coordinator(od_broker *b, int16_t *error)
{
    od_txn_service *s = b->txn;
    *error = OD_ERR_NONE;
    if (!s || !s->tc) {
        *error = OD_TC_COORDINATOR_NOT_AVAILABLE;
        return NULL;
    }
    od_broker_topic *t = od_broker_topic_by_name(b, OD_STR_LIT(OD_TXN_STATE_TOPIC));
    if (s->topic_ready && t && od_uuid_eq(&t->id, &s->topic_id))
        return s->tc;
    if (s->topic_ready) {
        /* DeleteTopics took __transaction_state (Kafka 3.9 deletes it like
         * any topic): as Kafka's coordinator resigns, every partition is
         * unloaded, and the topic is created afresh, empty. */
        for (int32_t i = 0; i < s->partitions; i++)
            od_tc_unload(s->tc, i);
        s->topic_ready = false;
    }
    /* Kafka's settings for the internal topic (TransactionLog): compacted,
     * uncompressed, 100 MiB segments; one replica on one node. */
    static const od_topic_config_kv configs[] = {
        {OD_STR_LIT("cleanup.policy"), OD_STR_LIT("compact")},
        {OD_STR_LIT("compression.type"), OD_STR_LIT("uncompressed")},
        {OD_STR_LIT("segment.bytes"), OD_STR_LIT("104857600")},
    };
    /* The topic is created through the controller; until it is there the
     * coordinator is not available (retriable), as on Kafka. */
    if (t) {
        load_all(s, t);
        return s->tc;
    }
    if (!s->topic_creating) {
        s->topic_creating = true;
        if (od_broker_create_topic(b, OD_STR_LIT(OD_TXN_STATE_TOPIC), s->partitions, 1, configs, 3,
                                   state_topic_created, b) != 0)
            s->topic_creating = false;
    }
    *error = OD_TC_COORDINATOR_NOT_AVAILABLE;
    return NULL;
}

int16_t od_txn_verify_produce(od_broker *b, od_str transactional_id, od_str topic,
                              int32_t partition, const uint8_t *records, size_t len)
{
    od_batch_header h;
    if (transactional_id.len < 0 || od_batch_header_parse(records, len, &h) != OD_BATCH_OK ||
        h.magic != 2 || !od_batch_is_transactional(&h) || od_batch_is_control(&h))
        return OD_ERR_NONE;
    int16_t e;
    od_tc *tc = od_txn_coordinator(b, &e);
    if (tc) {
        od_tc_topic_partition tp = {topic, partition};
        int16_t per;
        e = od_tc_verify_partitions(tc, transactional_id, h.producer_id, h.producer_epoch, &tp, 1, &per);
        if (e == OD_TC_NONE)
            e = per;
    }
    switch (e) {
    case OD_TC_NONE:
    case OD_TC_INVALID_TXN_STATE:
        return e;
    case OD_TC_PRODUCER_FENCED:
        return OD_ERR_INVALID_PRODUCER_EPOCH;
    case OD_TC_NOT_COORDINATOR:
    case OD_TC_COORDINATOR_LOAD_IN_PROGRESS:
    case OD_TC_COORDINATOR_NOT_AVAILABLE:
    case OD_TC_CONCURRENT_TRANSACTIONS:
        return OD_ERR_NOT_ENOUGH_REPLICAS;
    default:
        return OD_TC_INVALID_TXN_STATE;
    }
}
