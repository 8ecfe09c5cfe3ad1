/*
 * The controller thread (controller_thread.h): a FIFO of jobs, drained by
 * one thread that owns the KRaft controller, plus the snapshot policy.
 */
#include "controller_thread.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "broker.h"
#include "controller.h"

struct od_ctl_thread {
    od_broker *broker;
    od_controller *controller;        /* owned by the thread while it runs */
    od_ctl_thread_config cfg;
    pthread_t thread;
    /* The queue: guarded by `mutex`, which is never held while a job runs. */
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    od_ctl_job *head, *tail;
    bool stopping;
    /* Snapshot policy (invariant 5); controller thread only. */
    int64_t bytes_since_snapshot;
    int64_t last_snapshot_ms;
    int64_t snapshot_end_offset;      /* end offset of the last snapshot taken */
};

void od_ctl_post(od_ctl_thread *t, od_ctl_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&t->mutex);
    if (t->tail)
        t->tail->next = job;
    else
        t->head = job;
    t->tail = job;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mutex);
}

void od_ctl_note_committed(od_ctl_thread *t, int64_t bytes)
{
    if (t)
        t->bytes_since_snapshot += bytes;
}

static void maybe_snapshot(od_ctl_thread *t, int64_t now_ms)
{
    const od_mimage *img = od_controller_image(t->controller);
    int64_t end = od_mimage_last_offset(img) + 1;
    if (end <= t->snapshot_end_offset)
        return; /* nothing new since the last one */
    bool by_bytes = t->cfg.snapshot_bytes > 0 && t->bytes_since_snapshot >= t->cfg.snapshot_bytes;
    bool by_time = t->cfg.snapshot_interval_ms > 0 &&
                   now_ms - t->last_snapshot_ms >= t->cfg.snapshot_interval_ms;
    if (!by_bytes && !by_time)
        return;
    od_snapshot_id id;
    od_kr_err err = od_controller_snapshot(t->controller, now_ms, &id);
    /* A failed snapshot is retried at the next interval; the log still holds
     * everything, so nothing is lost. */
    t->last_snapshot_ms = now_ms;
    if (err != OD_KR_OK) {
        fprintf(stderr, "odradek: metadata snapshot failed: %s\n", od_kr_err_name(err));
        return;
    }
    t->bytes_since_snapshot = 0;
    t->snapshot_end_offset = id.end_offset;
    /* A new snapshot is what lets older ones and the log behind them go. */
    int deleted = 0;
    err = od_controller_clean_log(t->controller, now_ms, &deleted);
    if (err != OD_KR_OK)
        fprintf(stderr, "odradek: cleaning the metadata log failed: %s\n", od_kr_err_name(err));
}

static void deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Commits the open group, then answers its jobs in order (invariant 3). */
static void close_group(od_ctl_thread *t, od_ctl_job **group, int *n, int64_t now_ms)
{
    if (*n == 0)
        return;
    od_kr_err err = od_controller_group_commit(t->controller, now_ms);
    for (int i = 0; i < *n; i++)
        group[i]->committed(group[i], t->broker, (int)err);
    *n = 0;
    maybe_snapshot(t, now_ms);
}

/* Runs the jobs of one wake-up: grouped ones inside one controller group,
 * others alone between groups. */
static void run_batch(od_ctl_thread *t, od_ctl_job *jobs)
{
    od_ctl_job *group[OD_CTL_GROUP_MAX];
    int n = 0;
    int64_t now = od_wall_clock_ms();
    while (jobs != NULL) {
        od_ctl_job *job = jobs;
        jobs = job->next;
        now = od_wall_clock_ms();
        if (job->committed == NULL || n == OD_CTL_GROUP_MAX)
            close_group(t, group, &n, now);
        if (job->committed == NULL) {
            job->run(job, t->broker, t->controller, now);
            maybe_snapshot(t, now);
            continue;
        }
        if (n == 0)
            od_controller_group_begin(t->controller);
        group[n++] = job;
        job->run(job, t->broker, t->controller, now);
    }
    close_group(t, group, &n, od_wall_clock_ms());
}

static void *run(void *arg)
{
    od_ctl_thread *t = arg;
    /* The interval check wakes at least this often; no job waits on it. */
    int64_t tick_ms = t->cfg.snapshot_interval_ms > 0 && t->cfg.snapshot_interval_ms < 1000
                          ? t->cfg.snapshot_interval_ms
                          : 1000;
    pthread_mutex_lock(&t->mutex);
    for (;;) {
        od_ctl_job *job = t->head;
        if (job == NULL) {
            if (t->stopping)
                break;
            struct timespec ts;
            deadline_after(&ts, tick_ms);
            int rc = pthread_cond_timedwait(&t->wake, &t->mutex, &ts);
            if (rc == ETIMEDOUT) {
                pthread_mutex_unlock(&t->mutex);
                maybe_snapshot(t, od_wall_clock_ms());
                pthread_mutex_lock(&t->mutex);
            }
            continue;
        }
        /* Everything queued now forms the next batch of jobs. */
        t->head = t->tail = NULL;
        pthread_mutex_unlock(&t->mutex);
        run_batch(t, job);
        pthread_mutex_lock(&t->mutex);
    }
    pthread_mutex_unlock(&t->mutex);
    return NULL;
}

od_ctl_thread *od_ctl_thread_start(od_broker *b, od_controller *c, const od_ctl_thread_config *cfg)
{
    od_ctl_thread *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->broker = b;
    t->controller = c;
    t->cfg = *cfg;
    t->last_snapshot_ms = od_wall_clock_ms();
    t->snapshot_end_offset = od_mimage_last_offset(od_controller_image(c)) + 1;
    pthread_mutex_init(&t->mutex, NULL);
    pthread_cond_init(&t->wake, NULL);
    if (pthread_create(&t->thread, NULL, run, t) != 0) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->mutex);
        free(t);
        return NULL;
    }
    return t;
}

void od_ctl_thread_stop(od_ctl_thread *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mutex);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mutex);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->mutex);
    free(t);
}
