/*
 * A partition's log: the directory <log dir>/<topic>-<partition> holding its
 * segments, leader-epoch-checkpoint and partition.metadata, in Apache
 * Kafka's on-disk formats.
 *
 * Threading: one thread at a time per log (the broker serialises access to a
 * partition); an od_fd_cache shared by several logs needs the same caller to
 * serialise them too. The log cleaner is no exception: a cleaner thread
 * calls od_log_cleanable_state and od_log_clean holding the same per-log
 * lock as appends (see od_logdir_cleaner_run_once), so a pass and an append
 * never overlap. A pass reads and rewrites only sealed segments below the
 * first uncleanable offset and swaps each output in before returning, so
 * appends wait for at most one pass of one log.
 *
 * Reads return file regions for sendfile(2) and pin the segment they came
 * from; every od_log_read that returned OD_ST_OK must be paired with
 * od_log_read_release before the log is closed.
 */
#ifndef ODRADEK_STORAGE_PARTITION_LOG_H
#define ODRADEK_STORAGE_PARTITION_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "fileio.h"
#include "producer_state.h"
#include "segment.h"
#include "storage_err.h"

/* Per-topic settings, named after Kafka's topic configs. */
typedef struct od_log_config {
    int32_t segment_bytes;        /* segment.bytes (1 GiB) */
    int64_t segment_ms;           /* segment.ms (7 days) */
    int64_t segment_jitter_ms;    /* segment.jitter.ms (0) */
    int32_t segment_index_bytes;  /* segment.index.bytes (10 MiB) */
    int32_t index_interval_bytes; /* index.interval.bytes (4096) */
    int32_t max_message_bytes;    /* max.message.bytes (1048588) */
    int64_t retention_ms;         /* retention.ms (7 days; -1 = forever) */
    int64_t retention_bytes;      /* retention.bytes (-1 = unbounded) */
    bool log_append_time;         /* message.timestamp.type=LogAppendTime */
    int64_t flush_messages;       /* flush.messages (INT64_MAX = leave to the OS) */
    int64_t flush_ms;             /* flush.ms (INT64_MAX) */
    bool cleanup_delete;          /* cleanup.policy has "delete" (default) */
    bool cleanup_compact;         /* cleanup.policy has "compact" */
    int64_t delete_retention_ms;  /* delete.retention.ms (1 day): tombstone lifetime */
    int64_t min_compaction_lag_ms; /* min.compaction.lag.ms (0) */
    double min_cleanable_dirty_ratio; /* min.cleanable.dirty.ratio (0.5) */
    int32_t cleaner_map_entries;  /* keys one cleaning pass can map (1 Mi) */
    int64_t max_compaction_lag_ms; /* max.compaction.lag.ms (INT64_MAX; <= 0 also means never) */
    int64_t message_timestamp_before_max_ms; /* message.timestamp.before.max.ms (INT64_MAX) */
    int64_t message_timestamp_after_max_ms;  /* message.timestamp.after.max.ms (INT64_MAX) */
    /* producer.id.expiration.ms (1 day), a broker setting: producers of the
     * snapshot loaded at open that were idle this long are not restored. */
    int64_t producer_id_expiration_ms;
} od_log_config;

/* Fills Kafka's defaults. */
void od_log_config_default(od_log_config *c);

typedef struct od_log od_log;

typedef struct od_log_open_args {
    od_fio *io;
    const char *log_dir;          /* parent directory; created partition dirs go inside */
    const char *topic;
    int32_t partition;
    const od_log_config *config;
    od_fd_cache *fd_cache;        /* shared by a log dir; NULL gives the log its own (limit 64) */
    bool had_clean_shutdown;      /* skip the recovery scan */
    int64_t recovery_point;       /* from recovery-point-offset-checkpoint; 0 when absent */
    int64_t log_start_offset;     /* from log-start-offset-checkpoint; -1 when absent */
    int64_t high_watermark;       /* from replication-offset-checkpoint; 0 when absent */
    int64_t cleaner_offset;       /* from cleaner-offset-checkpoint; -1 when absent */
    int64_t now_ms;
    uint64_t seed;                /* for segment.jitter.ms */
} od_log_open_args;

/* What recovery did during od_log_open, for logs and tests. */
typedef struct od_log_recovery_stats {
    int32_t segments_recovered;
    int64_t bytes_truncated;
    int32_t segments_deleted;
} od_log_recovery_stats;

/* Opens or creates the partition's log. Creating one makes nothing durable
 * (invariant 9 of partition_log.c): the caller must be able to recreate it
 * (from durable metadata) until its first od_log_flush. After an unclean shutdown, segments
 * from the one holding the recovery point onward are re-validated, a corrupt
 * or torn tail is cut and every later segment deleted; indexes are rebuilt.
 * After a clean one only the active segment's tail is read. */
od_st_err od_log_open(const od_log_open_args *a, od_log **out, od_log_recovery_stats *stats);

/* Makes the log keep its descriptors in `cache` (shared by a log dir)
 * instead of the one it has: a log opened with its own cache (fd_cache NULL,
 * so that several can be opened in parallel) joins its directory's. The
 * caller serialises both caches' users. */
void od_log_move_fd_cache(od_log *log, od_fd_cache *cache);

/* Closes the log. clean: trims the active indexes, writes the final
 * time-index entry and fsyncs everything (recovery point becomes the log
 * end). Not clean: releases memory and fds only, as a crash would. */
od_st_err od_log_close(od_log *log, bool clean);

/* Result of an append. */
typedef struct od_append_info {
    int64_t first_offset;
    int64_t last_offset;
    int64_t max_timestamp;
    int64_t offset_of_max_timestamp;
    int64_t log_append_time;      /* -1 unless the topic stamps LogAppendTime */
    int64_t log_start_offset;
    int32_t batch_count;
    int32_t record_count;
} od_append_info;

/* Appends a producer's record set as leader: validates every v2 batch (whole
 * batch present, CRC, magic, lastOffsetDelta + 1 == recordCount, sequential
 * offset deltas in uncompressed batches, max.message.bytes, total under
 * segment.bytes), then, on CreateTime topics, every record's timestamp
 * against message.timestamp.before/after.max.ms (OD_ST_INVALID_TIMESTAMP;
 * see od_log_check_timestamps), then rewrites in place: base offsets from the log end,
 * partitionLeaderEpoch, and for LogAppendTime topics the timestamp type and
 * max timestamp (the only edit the CRC covers, so only then is it
 * restamped). All or nothing.
 * Producer batches (producerId >= 0) are checked against the producer
 * state first: OD_ST_DUPLICATE_SEQUENCE (nothing appended; *info holds the
 * original offsets), OD_ST_OUT_OF_ORDER_SEQUENCE, OD_ST_INVALID_PRODUCER_EPOCH.
 * Like Kafka's clients, send one batch per producer per append. */
od_st_err od_log_append_leader(od_log *log, uint8_t *records, size_t len, int32_t leader_epoch,
                               int64_t now_ms, od_append_info *info);

/* One record refused by the timestamp bounds, as Kafka's LogValidator
 * reports it: batch_index counts records within their batch, offset is the
 * batch's base offset as sent plus the record's offset delta, and
 * [lower, upper] is now - before.max and now + after.max in Java's
 * wrapping arithmetic (Kafka prints them so). */
typedef struct od_ts_violation {
    int32_t batch_index;
    int64_t timestamp;
    int64_t offset;
    int64_t lower;
    int64_t upper;
    bool log_append_time;   /* refused for its type: a producer's LogAppendTime batch */
} od_ts_violation;

typedef void (*od_ts_violation_fn)(void *arg, const od_ts_violation *v);

/* Kafka 3.9's timestamp rule for a leader append (LogValidator): on a
 * CreateTime topic a record with timestamp ts other than -1 (NO_TIMESTAMP)
 * is refused when diff = now - ts (wrapping, as Java longs) satisfies
 * diff > before.max or -diff > after.max, so ts == now - before.max and
 * ts == now + after.max are both accepted. LogAppendTime topics are not
 * range-checked, nor is anything when both bounds are INT64_MAX (no record
 * can fail then). A batch marked LogAppendTime by its producer is refused,
 * every record, where Kafka does not range-check it: on a LogAppendTime
 * topic, or when its max timestamp is -1. Like Kafka, the first batch with a refused record fails the
 * set: fn (may be NULL) gets every refused record of that batch, then
 * OD_ST_INVALID_TIMESTAMP is returned. records must already have passed
 * the append's batch validation (OD_ST_CORRUPT/INVALID_RECORD otherwise). */
od_st_err od_log_check_timestamps(const od_log_config *cfg, const uint8_t *records, size_t len,
                                  int64_t now_ms, od_ts_violation_fn fn, void *arg);

/* Appends batches fetched from the leader: offsets and epochs already set;
 * timestamps are not checked (as in Kafka: the leader did). Validates and
 * requires the first offset >= log end (a gap is allowed; a segment is
 * rolled when offsets would overflow its relative form). */
od_st_err od_log_append_follower(od_log *log, const uint8_t *records, size_t len, int64_t now_ms,
                                 od_append_info *info);

/* A read: one file region (possibly empty) plus the pin that keeps it valid. */
typedef struct od_log_read_result {
    od_file_region region;
    int64_t segment_base;     /* base offset of the segment read */
    od_segment *pin;          /* NULL when region.length == 0 */
} od_log_read_result;

/* Reads from the batch holding `offset` (as Kafka does, the first batch may
 * start before it), at most max_bytes but never a batch at or past
 * max_offset (pass the high watermark for consumers, -1 for the log end).
 * min_one: return the first batch whole even if larger than max_bytes.
 * Like Kafka, the last batch of a region may be partial when max_bytes cuts
 * it. OFFSET_OUT_OF_RANGE below the log start or past the log end. */
od_st_err od_log_read(od_log *log, int64_t offset, int32_t max_bytes, int64_t max_offset,
                      bool min_one, od_log_read_result *out);
void od_log_read_release(od_log *log, od_log_read_result *r);

/* ListOffsets targets, as Kafka numbers them. */
enum {
    OD_TS_LATEST = -1,
    OD_TS_EARLIEST = -2,
    OD_TS_MAX_TIMESTAMP = -3,
    OD_TS_EARLIEST_LOCAL = -4,
};

/* Offset for a timestamp: the first record with timestamp >= ts, or one of
 * the special targets above. *offset = -1 (and OD_ST_OK) when nothing
 * qualifies. For records inside compressed CreateTime batches the batch's
 * base offset stands in for the exact record (no decompression yet). */
od_st_err od_log_offset_for_timestamp(od_log *log, int64_t ts, int64_t *offset, int64_t *found_ts);

/* Replaces the topic config (an AlterConfigs). Index sizes and the index
 * interval apply from the next segment on; everything else at once. */
void od_log_set_config(od_log *log, const od_log_config *cfg);
const od_log_config *od_log_get_config(const od_log *log);

/* Clamps to [log start, log end]. */
void od_log_set_high_watermark(od_log *log, int64_t hw);

/* Follower truncation: removes every offset >= offset. */
od_st_err od_log_truncate_to(od_log *log, int64_t offset);

/* Deletes all segments and starts empty at offset (follower far behind). */
od_st_err od_log_truncate_fully_and_start_at(od_log *log, int64_t offset, int64_t now_ms);

/* DeleteRecords: raises the log start offset (must be <= high watermark) and
 * drops segments wholly below it. */
od_st_err od_log_delete_records_before(od_log *log, int64_t offset);

/* Applies retention.ms, retention.bytes and the log start offset, oldest
 * segment first, never past the high watermark; rolls first when every
 * segment would go, so an active segment always exists. */
od_st_err od_log_enforce_retention(od_log *log, int64_t now_ms, int32_t *deleted);

/* Kafka's producer id expiry (producer.id.expiration.ms): forgets every
 * producer without an open transaction whose last batch's max timestamp is
 * expiration_ms or more before now_ms. A forgotten producer's next batch is
 * accepted with any sequence, as a new producer's is. Only the in-memory
 * state changes; the next snapshot (roll or close) leaves it out. Sets
 * *expired (may be NULL) to the number dropped. */
od_st_err od_log_expire_producers(od_log *log, int64_t now_ms, int64_t expiration_ms, int32_t *expired);

/* What Kafka's LogCleanerManager computes to choose a log to clean. */
typedef struct od_log_cleanable {
    int64_t first_dirty;       /* cleaner offset, or the log start when that is invalid */
    int64_t first_uncleanable; /* min(LSO, active segment, first segment younger than
                                  min.compaction.lag.ms), down to a segment base */
    int64_t clean_bytes;       /* segments below first_dirty */
    int64_t cleanable_bytes;   /* segments in [first_dirty, first_uncleanable) */
    double ratio;              /* cleanable / (clean + cleanable); 0 for an empty log */
    int64_t compaction_delay_ms; /* > 0: max.compaction.lag.ms passed by this much */
    bool cleanable;            /* compact policy, and ratio > min.cleanable.dirty.ratio
                                  or (delay > 0 and cleanable_bytes > 0) */
} od_log_cleanable;

od_st_err od_log_cleanable_state(od_log *log, int64_t now_ms, od_log_cleanable *out);

/* One compaction pass (cleanup.policy=compact; see cleaner.h), as Kafka's
 * cleaner runs it: maps [first dirty, first uncleanable) (skipping aborted
 * transactions), rewrites every sealed segment below the mapped end in
 * merged groups (delete horizons, aborted data and spent markers, .txnindex
 * kept consistent), and advances the cleaner offset to the mapped end.
 * Never touches the active segment or offsets at or past the last stable
 * offset. stats may be NULL. */
struct od_clean_stats;
od_st_err od_log_clean(od_log *log, int64_t now_ms, struct od_clean_stats *stats);
/* Bytes past the cleaner offset over all bytes, active segment excluded. */
double od_log_dirty_ratio(const od_log *log);
/* The cleaner checkpoint value: the first offset not yet compacted. */
int64_t od_log_cleaner_offset(const od_log *log);

/* Rolls a new active segment at the log end (no-op when it is empty). */
od_st_err od_log_roll(od_log *log, int64_t now_ms);

/* fsyncs every segment with data past the recovery point (and the directory
 * when segments were created or removed); the recovery point becomes the
 * log end. */
od_st_err od_log_flush(od_log *log, int64_t now_ms);

/* Flushes when flush.messages or flush.ms says so. */
od_st_err od_log_maybe_flush(od_log *log, int64_t now_ms);

/* Leader epoch cache (leader-epoch-checkpoint). */
/* The latest epoch, or -1. */
int32_t od_log_latest_epoch(const od_log *log);
/* OffsetForLeaderEpoch: for `epoch`, the largest epoch <= it and the start
 * offset of the next higher epoch (or the log end). *end_epoch -1 when the
 * log has no epoch <= the request. */
void od_log_end_offset_for_epoch(const od_log *log, int32_t epoch, int32_t *end_epoch,
                                 int64_t *end_offset);
const od_epoch_entry *od_log_epochs(const od_log *log, size_t *count);

/* The producer table (idempotence/transactions), current to the log end.
 * Snapshots (<offset>.snapshot) are written at every roll and clean close
 * and reloaded (plus a scan of the batches after them) at open. */
const od_pstate *od_log_producer_state(const od_log *log);

/* Last stable offset: the high watermark, or the first offset of the
 * earliest transaction still open (or whose marker is not yet below the
 * high watermark), whichever is lower. What read_committed may see. */
int64_t od_log_last_stable_offset(const od_log *log);

/* Aborted transactions overlapping [from, upper) from the .txnindex files,
 * for a read_committed Fetch response. */
od_st_err od_log_collect_aborted(od_log *log, int64_t from, int64_t upper, od_aborted_fn fn,
                                 void *ctx);

int64_t od_log_end_offset(const od_log *log);
int64_t od_log_start_offset(const od_log *log);
int64_t od_log_high_watermark(const od_log *log);
int64_t od_log_recovery_point(const od_log *log);
int64_t od_log_size_bytes(const od_log *log);
size_t od_log_segment_count(const od_log *log);
od_segment *od_log_segment_at(const od_log *log, size_t i);
const char *od_log_topic(const od_log *log);
int32_t od_log_partition(const od_log *log);
const char *od_log_dir(const od_log *log);
/* OD_ST_OK, or OD_ST_FAILED once a rollback failed (sticky until reopened). */
od_st_err od_log_state(const od_log *log);

#endif
