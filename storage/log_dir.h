/*
 * A log directory (one entry of log.dirs): its partition logs and the
 * per-directory files Kafka keeps beside them: recovery-point,
 * log-start-offset and replication-offset checkpoints, and the clean
 * shutdown marker. meta.properties is read and written with checkpoint.h.
 *
 * Startup: od_logdir_open notes and removes the clean-shutdown marker and
 * reads the checkpoints; od_logdir_open_log then opens each partition with
 * the right recovery point. Shutdown: od_logdir_close closes every log
 * cleanly, writes the checkpoints, and writes the marker last.
 *
 * Not thread-safe; the broker serialises calls per directory.
 */
#ifndef ODRADEK_STORAGE_LOG_DIR_H
#define ODRADEK_STORAGE_LOG_DIR_H

#include "checkpoint.h"
#include "cleaner.h"
#include "partition_log.h"

typedef struct od_logdir od_logdir;

/* Opens (creating if needed) a log dir. fd_limit caps the .log descriptors
 * kept open for inactive segments across all its partitions. */
od_st_err od_logdir_open(od_fio *io, const char *path, int fd_limit, od_logdir **out);

bool od_logdir_had_clean_shutdown(const od_logdir *d);
/* The broker epoch the marker carried (KIP-966), or -1. */
int64_t od_logdir_clean_broker_epoch(const od_logdir *d);
const char *od_logdir_path(const od_logdir *d);

/* Calls fn for every partition directory found (<topic>-<partition>),
 * skipping those pending deletion. */
typedef void (*od_logdir_partition_fn)(void *ctx, const char *topic, int32_t partition);
od_st_err od_logdir_list_partitions(od_logdir *d, od_logdir_partition_fn fn, void *ctx);

/* Opens (or creates) a partition log in this dir; the dir keeps track of it. */
od_st_err od_logdir_open_log(od_logdir *d, const char *topic, int32_t partition,
                             const od_log_config *cfg, int64_t now_ms, od_log **out,
                             od_log_recovery_stats *stats);

/* Opening many new partitions at once (a CreateTopics of many topics).
 * Creating a log is a few file-system metadata operations (a directory, a
 * file, partition.metadata) whose latency -- the journal, on a busy disk --
 * not their throughput bounds them, so they overlap well. */
typedef struct od_logdir_new_log {
    const char *topic;
    int32_t partition;
    const od_log_config *cfg;
    const od_uuid *topic_id;  /* non-NULL: od_partition_metadata_ensure it too */
    od_log *log;              /* out: NULL when it failed */
    od_st_err err;            /* out */
} od_logdir_new_log;

/* Serialises this directory against its other users (the same lock the
 * caller holds around every other od_logdir_* call); NULL: the caller
 * already serialises everything. */
typedef struct od_logdir_lock_hooks {
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    void *ctx;
} od_logdir_lock_hooks;

/* Opens (or creates) every item's log as od_logdir_open_log would, with up
 * to `threads` threads in parallel, then adds them to the directory in
 * order. The directory is touched only under hooks' lock, twice: to read
 * its checkpoints for every item, and to adopt the opened logs (into its
 * list and descriptor cache); in between each log is opened with a cache
 * of its own, reachable by nobody else. Call WITHOUT holding the lock.
 * Returns the first item's error, if any (the other items still open);
 * each item says how it went. */
od_st_err od_logdir_open_logs(od_logdir *d, od_logdir_new_log *items, size_t n, int threads,
                              int64_t now_ms, const od_logdir_lock_hooks *hooks);

/* Writes the three per-directory checkpoints from the open logs. */
od_st_err od_logdir_checkpoint(od_logdir *d);

/* Closes one log (cleanly) and forgets it. */
od_st_err od_logdir_close_log(od_logdir *d, od_log *log);

/* Deletes a partition the Kafka way: its directory is renamed to
 * <topic>-<partition>.<32 hex>-delete at once (so a restart never loads it)
 * and removed later by od_logdir_purge_deleted. The log is closed. */
od_st_err od_logdir_delete_log(od_logdir *d, od_log *log);

/* Moves a partition directory that is not open aside as
 * <topic>-<partition>.<32 hex>-stray (invariant 6) and forgets its checkpoint
 * entries: always when topic_id is NULL (its topic is not in the metadata
 * image), else only when its partition.metadata names another topic id.
 * *moved says whether it did; a missing directory is no error. */
od_st_err od_logdir_set_aside_stray(od_logdir *d, const char *topic, int32_t partition,
                                    const od_uuid *topic_id, bool *moved);

/* Removes every *-delete directory; returns how many went in *count. */
od_st_err od_logdir_purge_deleted(od_logdir *d, int *count);

/* ------------------------------------------------------------ log cleaner
 *
 * One round of Kafka's cleaner thread, for the broker to call periodically
 * from a background thread:
 *   1. logs whose cleanup.policy is compact+delete get retention applied
 *      (Kafka's cleaner deletes their old segments too);
 *   2. among compacted logs, the one with the highest dirty ratio above its
 *      min.cleanable.dirty.ratio (or any whose max.compaction.lag.ms has
 *      passed with something to clean) gets one pass (od_log_clean);
 *   3. cleaner-offset-checkpoint is rewritten when a pass ran.
 *
 * Threading rule: the caller holds whatever serialises od_logdir_* calls on
 * this directory (so logs are not opened or closed underneath) for the
 * whole call; each log is touched only between hooks->lock(log) and
 * hooks->unlock(log), the same lock the broker holds for appends, reads and
 * truncation of that partition. A pass holds one log's lock from start to
 * swap, so appends to that partition wait for it and no other. hooks may be
 * NULL when the caller already serialises everything (tests, tools). */
typedef struct od_cleaner_hooks {
    void (*lock)(void *ctx, od_log *log);
    void (*unlock)(void *ctx, od_log *log);
    void *ctx;
} od_cleaner_hooks;

typedef struct od_cleaner_round {
    od_log *cleaned;          /* the log cleaned, or NULL */
    double ratio;             /* its dirty ratio before the pass */
    bool forced;              /* chosen by max.compaction.lag.ms, not the ratio */
    int32_t segments_deleted; /* by retention of compact+delete logs */
    od_clean_stats stats;     /* of the pass */
} od_cleaner_round;

od_st_err od_logdir_cleaner_run_once(od_logdir *d, int64_t now_ms, const od_cleaner_hooks *hooks,
                                     od_cleaner_round *out);

/* Clean shutdown: closes all logs cleanly, checkpoints, then writes the
 * marker. Frees d whatever happens; the first error is returned (and then
 * the marker is not written, so the next start recovers). */
od_st_err od_logdir_close(od_logdir *d, int64_t broker_epoch);

/* Simulated crash for tests: frees everything, writes nothing. */
void od_logdir_abandon(od_logdir *d);

#endif
