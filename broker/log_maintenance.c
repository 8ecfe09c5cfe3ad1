/*
 * The log maintenance thread (log_maintenance.h): retention, the cleaner
 * and the purge of deleted partition directories on their own schedules.
 */
#include "log_maintenance.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "broker.h"
#include "log_dir.h"

struct od_maint {
    od_broker *broker;
    od_maint_config cfg;
    pthread_t thread;
    pthread_mutex_t mutex; /* guards `stopping` and the sleep */
    pthread_cond_t wake;
    bool stopping;
    /* The thread's own schedule (invariant 1: only this thread). */
    int64_t next_retention_ms;
    int64_t next_clean_ms;
    int64_t next_producer_expiry_ms;
};

/* Retention on every partition, one partition per lock hold (invariant 2). */
static void enforce_retention(od_maint *m, int64_t now_ms)
{
    od_broker *b = m->broker;
    for (int32_t ti = 0;; ti++) {
        od_broker_lock(b);
        if (ti >= b->topic_count) {
            od_broker_unlock(b);
            break;
        }
        od_broker_topic *t = &b->topics[ti];
        for (int32_t p = 0; p < t->partition_count; p++) {
            od_broker_partition *bp = t->partitions[p];
            if (bp == NULL || bp->log == NULL)
                continue;
            int32_t deleted = 0;
            od_st_err err = od_log_enforce_retention(bp->log, now_ms, &deleted);
            if (err != OD_ST_OK)
                fprintf(stderr, "odradek: retention of %s-%d failed: %s\n", t->name, p,
                        od_st_err_name(err));
        }
        od_broker_unlock(b);
    }
}

/* Forgets idle producers on every partition, one topic per lock hold
 * (invariant 2); the in-memory state only, so no I/O under the lock. The
 * expiration is the one in force at each hold: Kafka lets
 * producer.id.expiration.ms change dynamically (the check interval not). */
static void expire_producers(od_maint *m, int64_t now_ms)
{
    od_broker *b = m->broker;
    for (int32_t ti = 0;; ti++) {
        od_broker_lock(b);
        if (ti >= b->topic_count) {
            od_broker_unlock(b);
            break;
        }
        int64_t expiration_ms = od_broker_producer_id_expiration_ms(b);
        if (expiration_ms <= 0)
            expiration_ms = m->cfg.producer_id_expiration_ms;
        od_broker_topic *t = &b->topics[ti];
        for (int32_t p = 0; p < t->partition_count; p++) {
            od_broker_partition *bp = t->partitions[p];
            if (bp == NULL || bp->log == NULL)
                continue;
            /* A FAILED log refuses; its state is rebuilt at the next open. */
            (void)od_log_expire_producers(bp->log, now_ms, expiration_ms, NULL);
        }
        od_broker_unlock(b);
    }
}

/* One cleaner round under the broker lock (invariant 2). True when it
 * cleaned something, so the next round follows at once. */
static bool clean_once(od_maint *m, int64_t now_ms)
{
    od_broker *b = m->broker;
    od_cleaner_round round = {0};
    od_broker_lock(b);
    od_st_err err = od_logdir_cleaner_run_once(b->logdir, now_ms, NULL, &round);
    od_broker_unlock(b);
    if (err != OD_ST_OK) {
        fprintf(stderr, "odradek: log cleaner round failed: %s\n", od_st_err_name(err));
        return false;
    }
    return round.cleaned != NULL;
}

/* Removes -delete directories once the last deletion is older than the
 * delay (invariant 3: no lock around the purge itself). */
static void purge_deleted(od_maint *m, int64_t now_ms)
{
    od_broker *b = m->broker;
    od_broker_lock(b);
    int64_t last = b->last_log_delete_ms;
    od_broker_unlock(b);
    if (last <= 0 || now_ms < last + m->cfg.file_delete_delay_ms)
        return;
    int count = 0;
    od_st_err err = od_logdir_purge_deleted(b->logdir, &count);
    if (err != OD_ST_OK) {
        fprintf(stderr, "odradek: removing deleted partition directories failed: %s\n",
                od_st_err_name(err));
        return;
    }
    od_broker_lock(b);
    if (b->last_log_delete_ms == last)
        b->last_log_delete_ms = 0; /* nothing deleted since: all purged */
    od_broker_unlock(b);
}

static int64_t min64(int64_t a, int64_t c) { return a < c ? a : c; }

static void *run(void *arg)
{
    od_maint *m = arg;
    for (;;) {
        int64_t now = od_wall_clock_ms();
        if (now >= m->next_retention_ms) {
            enforce_retention(m, now);
            m->next_retention_ms = now + m->cfg.retention_check_interval_ms;
        }
        if (now >= m->next_producer_expiry_ms) {
            expire_producers(m, now);
            m->next_producer_expiry_ms = now + m->cfg.producer_id_expiration_check_interval_ms;
        }
        if (m->cfg.cleaner_enable && now >= m->next_clean_ms) {
            bool more = clean_once(m, now);
            m->next_clean_ms = more ? now : now + m->cfg.cleaner_backoff_ms;
        }
        purge_deleted(m, now);
        /* Sleep until the next due step; deletions are checked at least
         * every second so the purge delay is kept to about a second. */
        int64_t next = min64(m->next_retention_ms, now + 1000);
        next = min64(next, m->next_producer_expiry_ms);
        if (m->cfg.cleaner_enable)
            next = min64(next, m->next_clean_ms);
        pthread_mutex_lock(&m->mutex);
        if (!m->stopping && next > now) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wait_ms = next - now;
            ts.tv_sec += (time_t)(wait_ms / 1000);
            ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&m->wake, &m->mutex, &ts);
        }
        bool stop = m->stopping;
        pthread_mutex_unlock(&m->mutex);
        if (stop)
            break;
    }
    return NULL;
}

od_maint *od_maint_start(od_broker *b, const od_maint_config *cfg)
{
    od_maint *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->broker = b;
    m->cfg = *cfg;
    if (m->cfg.retention_check_interval_ms <= 0)
        m->cfg.retention_check_interval_ms = 300000;
    if (m->cfg.producer_id_expiration_ms <= 0)
        m->cfg.producer_id_expiration_ms = 86400000;
    if (m->cfg.producer_id_expiration_check_interval_ms <= 0)
        m->cfg.producer_id_expiration_check_interval_ms = 600000;
    if (m->cfg.cleaner_backoff_ms < 0)
        m->cfg.cleaner_backoff_ms = 0;
    int64_t now = od_wall_clock_ms();
    /* Kafka starts both schedules after their delay, not at once. */
    m->next_retention_ms = now + m->cfg.retention_check_interval_ms;
    m->next_clean_ms = now + m->cfg.cleaner_backoff_ms;
    m->next_producer_expiry_ms = now + m->cfg.producer_id_expiration_check_interval_ms;
    pthread_mutex_init(&m->mutex, NULL);
    pthread_cond_init(&m->wake, NULL);
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        pthread_cond_destroy(&m->wake);
        pthread_mutex_destroy(&m->mutex);
        free(m);
        return NULL;
    }
    return m;
}

void od_maint_stop(od_maint *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mutex);
    m->stopping = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->mutex);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->mutex);
    free(m);
}
