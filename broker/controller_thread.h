/*
 * The controller thread: in combined mode (process.roles=broker,controller,
 * one voter) the broker hosts kraft/'s controller, and this is the one
 * thread that owns it -- the controller, its quorum, the __cluster_metadata-0
 * log and the controller's image.
 *
 * A handler that changes metadata does not write it: it posts a job and
 * returns OD_HANDLER_DEFERRED. The job runs here, calls an od_controller_*
 * operation (validate against the controller's image, append one batch,
 * fsync, apply), and answers the request with od_rctx_reply. A job with a
 * `committed` step takes part in group commit: the jobs queued when the
 * thread wakes run one after another inside one controller group
 * (controller.h, invariant 9), their batches share one fsync, and each is
 * answered from `committed` with the group's outcome. The broker's
 * own image and partition table follow through the controller's on_commit
 * hook (broker.c), which applies the committed batch under the broker lock
 * before the operation returns, so a client that hears "created" finds the
 * topic in its next request.
 *
 * Invariants
 *   1. After od_broker_open only this thread calls od_controller_*; the
 *      controller's image is read nowhere else.
 *   2. The metadata fsync runs here, never on a network thread and never
 *      with the broker lock held (the lock is taken only inside on_commit,
 *      after the batch is durable).
 *   3. Jobs run one at a time in the order they were posted. A grouped
 *      job's reply comes only from its committed step, after the fsync that
 *      covers its batch and everything it validated against; a job without
 *      one first closes the open group (commit, answers), then runs alone.
 *      A group holds the jobs queued when it starts (at most
 *      OD_CTL_GROUP_MAX), so a later job waits at most one group.
 *   4. Stopping drains: every job posted before od_ctl_thread_stop runs (a
 *      deferred request is always answered; the network server waits for
 *      them), then the thread exits and the controller is closed by the
 *      caller.
 *   5. A snapshot is written here when the records committed since the last
 *      one reach metadata.log.max.record.bytes.between.snapshots, or
 *      metadata.log.max.snapshot.interval.ms has passed with new records.
 *
 * State machine: Idle -(od_ctl_thread_start)-> Running -(od_ctl_thread_stop:
 * drain, join)-> Stopped.
 *
 * Threads: the queue is guarded by its own mutex (never held while a job
 * runs); everything else belongs to the controller thread.
 */
#ifndef ODRADEK_BROKER_CONTROLLER_THREAD_H
#define ODRADEK_BROKER_CONTROLLER_THREAD_H

#include <stdint.h>

struct od_broker;
struct od_controller;

typedef struct od_ctl_job od_ctl_job;
/* Runs on the controller thread; owns the job from then on (a grouped job:
 * until its committed step). */
typedef void od_ctl_job_fn(od_ctl_job *job, struct od_broker *b, struct od_controller *c,
                           int64_t now_ms);
/* A grouped job's second step: `group_err` is od_controller_group_commit's
 * result, OD_KR_OK when the job's batch (if any) is durable and applied;
 * otherwise it replaces whatever run computed. Answers and frees the job. */
typedef void od_ctl_committed_fn(od_ctl_job *job, struct od_broker *b, int group_err);
struct od_ctl_job {
    od_ctl_job *next;
    od_ctl_job_fn *run;
    od_ctl_committed_fn *committed; /* NULL: not grouped, run answers */
};

enum { OD_CTL_GROUP_MAX = 64 };

typedef struct od_ctl_thread od_ctl_thread;

typedef struct od_ctl_thread_config {
    int64_t snapshot_bytes;        /* metadata.log.max.record.bytes.between.snapshots */
    int64_t snapshot_interval_ms;  /* metadata.log.max.snapshot.interval.ms; 0: no timer */
} od_ctl_thread_config;

/* Starts the thread, which takes over c (invariant 1). NULL when out of
 * memory or the thread cannot start. */
od_ctl_thread *od_ctl_thread_start(struct od_broker *b, struct od_controller *c,
                                   const od_ctl_thread_config *cfg);

/* Queues a job (any thread). */
void od_ctl_post(od_ctl_thread *t, od_ctl_job *job);

/* Called from on_commit (controller thread): counts committed record bytes
 * towards the next snapshot. */
void od_ctl_note_committed(od_ctl_thread *t, int64_t bytes);

/* Drains the queue, joins the thread and frees t (invariant 4). The
 * controller stays open for the caller to close. */
void od_ctl_thread_stop(od_ctl_thread *t);

#endif
