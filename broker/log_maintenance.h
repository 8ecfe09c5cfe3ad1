/*
 * The log maintenance thread: Kafka's background work on partition logs,
 * kept off the network threads.
 *   - retention (retention.ms, retention.bytes, the log start offset) on
 *     every partition, each log.retention.check.interval.ms;
 *   - producer id expiry (producer.id.expiration.ms) on every partition,
 *     each producer.id.expiration.check.interval.ms, as Kafka's
 *     PeriodicProducerExpirationCheck;
 *   - the log cleaner (storage's od_logdir_cleaner_run_once: compaction,
 *     and retention of compact+delete logs) when log.cleaner.enable and
 *     log.cleaner.threads > 0: a round right after one that cleaned
 *     something, otherwise after log.cleaner.backoff.ms;
 *   - removal of the <topic>-<partition>.<id>-delete directories of deleted
 *     topics, log.segment.delete.delay.ms (file.delete.delay.ms) after the
 *     last deletion.
 *
 * Invariants
 *   1. Nothing here runs on a network thread or the controller thread.
 *   2. Retention and producer expiry take the broker lock per topic, so appends and reads
 *      of other partitions interleave with it. A cleaner round holds the
 *      broker lock for the whole round (storage's rule: whatever serialises
 *      od_logdir_* calls is held throughout; in the broker that is the one
 *      broker lock): network threads that need the lock wait for the
 *      round, but never do its I/O themselves. Per-partition locks are the
 *      step that removes that wait (docs/architecture.md, target).
 *   3. The purge of -delete directories takes no lock: it reads only the
 *      directory's immutable path and I/O table, and a renamed directory
 *      belongs to no log any more.
 *
 * State machine: Idle -(od_maint_start)-> Running -(od_maint_stop: wake,
 * join)-> Stopped.
 *
 * Threads: the thread's own timing state is private to it; `mutex` guards
 * only the stop flag and the condition it sleeps on.
 */
#ifndef ODRADEK_BROKER_LOG_MAINTENANCE_H
#define ODRADEK_BROKER_LOG_MAINTENANCE_H

#include <stdbool.h>
#include <stdint.h>

struct od_broker;

typedef struct od_maint_config {
    int64_t retention_check_interval_ms; /* log.retention.check.interval.ms */
    bool cleaner_enable;                 /* log.cleaner.enable && log.cleaner.threads > 0 */
    int64_t cleaner_backoff_ms;          /* log.cleaner.backoff.ms */
    int64_t file_delete_delay_ms;        /* log.segment.delete.delay.ms */
    int64_t producer_id_expiration_ms;   /* producer.id.expiration.ms */
    int64_t producer_id_expiration_check_interval_ms; /* producer.id.expiration.check.interval.ms */
} od_maint_config;

typedef struct od_maint od_maint;

/* NULL when the thread cannot start. */
od_maint *od_maint_start(struct od_broker *b, const od_maint_config *cfg);

/* Wakes the thread and waits for it to finish its current step; frees m. */
void od_maint_stop(od_maint *m);

#endif
