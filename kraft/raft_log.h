/*
 * The local replica of the metadata log: the partition __cluster_metadata-0
 * in the metadata log directory, stored by storage/ in Kafka's format, plus
 * reading it back as metadata and control records.
 *
 * Invariants
 *   1. Every batch in the log carries the epoch of the leader that wrote it
 *      (partitionLeaderEpoch), and epochs never decrease along the log; the
 *      leader-epoch-checkpoint beside it records where each epoch starts.
 *   2. An append as leader returns only after the batch is fsynced, so an
 *      offset this module reports as appended survives a crash (principle 11).
 *      That is what lets the leader count itself towards a majority. An
 *      unsynced append (group commit) reports nothing durable: only the
 *      flushed end, moved by od_raft_log_flush after its fsync, may be
 *      counted, and the high watermark never passes it.
 *   3. The high watermark never exceeds the log end and never moves backwards
 *      while the log is open; it is not persisted (Kafka does not either): a
 *      restarted replica learns it again from its quorum.
 *   4. A scan hands out only whole batches whose CRC checked; a batch that
 *      does not parse stops the scan with OD_ST_CORRUPT, never silently.
 *   5. The partition directory holds partition.metadata with Kafka's fixed
 *      metadata topic id (AAAAAAAAAAAAAAAAAAAAAQ), as Kafka writes it.
 *
 * State machine: Closed -> Open (od_raft_log_open) -> Closed (od_raft_log_close).
 * After a storage error the underlying log is sticky-failed and every later
 * append fails the same way until reopened (principle 10).
 *
 * Threads: one owner thread (the quorum's); not thread-safe.
 */
#ifndef ODRADEK_KRAFT_RAFT_LOG_H
#define ODRADEK_KRAFT_RAFT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "fileio.h"
#include "metadata_record.h"
#include "storage_err.h"

#define OD_METADATA_TOPIC "__cluster_metadata"
#define OD_METADATA_PARTITION 0
/* Kafka's Uuid.METADATA_TOPIC_ID: (0, 1). */
#define OD_METADATA_TOPIC_ID ((od_uuid){{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}})

/* KafkaRaftClient's MAX_BATCH_SIZE_BYTES: the largest batch a leader writes,
 * and the bound on decompressing one when reading. */
enum { OD_RAFT_MAX_BATCH_BYTES = 8 * 1024 * 1024 };

typedef struct od_raft_log od_raft_log;

/* How the metadata log rolls its segments (0: Kafka's defaults, 1 GiB and
 * 7 days). Retention is not here: the log is cut only behind a snapshot,
 * by od_raft_log_delete_before. */
typedef struct od_raft_log_config {
    int32_t segment_bytes; /* metadata.log.segment.bytes */
    int64_t segment_ms;    /* metadata.log.segment.ms */
} od_raft_log_config;

/* Opens (creating if needed) <metadata_log_dir>/__cluster_metadata-0,
 * recovers it (a full scan: the metadata log is small and this is the only
 * path that validates every batch at start) and fsyncs what it found, so
 * the flushed end starts at the log end (invariant 2). */
od_st_err od_raft_log_open(od_fio *io, const char *metadata_log_dir,
                           const od_raft_log_config *cfg, int64_t now_ms, od_raft_log **out);

/* Closes; clean flushes and trims indexes. Frees l either way. */
od_st_err od_raft_log_close(od_raft_log *l, bool clean);

/* The partition directory (<metadata_log_dir>/__cluster_metadata-0). */
const char *od_raft_log_dir(const od_raft_log *l);
od_fio *od_raft_log_io(const od_raft_log *l);

int64_t od_raft_log_end_offset(const od_raft_log *l);
/* The first offset still in the log (the base of its first segment after a
 * reopen); 0 until a snapshot let segments go. */
int64_t od_raft_log_start_offset(const od_raft_log *l);
/* Bytes in the log's segment files. */
int64_t od_raft_log_size_bytes(const od_raft_log *l);
/* Removes every segment whose records all lie below `offset`, the end
 * offset of a snapshot the caller keeps: what they held is in that snapshot
 * (snapshot.h, invariant 1). offset must not exceed the high watermark. */
od_st_err od_raft_log_delete_before(od_raft_log *l, int64_t offset);
/* The epoch of the last batch, or -1 for an empty log. */
int32_t od_raft_log_last_epoch(const od_raft_log *l);
int64_t od_raft_log_high_watermark(const od_raft_log *l);
/* Raises the high watermark (invariant 3): lower values are ignored. */
void od_raft_log_advance_high_watermark(od_raft_log *l, int64_t hw);

/* Appends whole batches as the leader of `epoch`: offsets are assigned from
 * the log end, the epoch is stamped, then the log is fsynced (invariant 2).
 * *last_offset (may be NULL) is the last offset written. */
od_st_err od_raft_log_append_leader(od_raft_log *l, uint8_t *batches, size_t len, int32_t epoch,
                                    int64_t now_ms, int64_t *last_offset);

/* The same without the fsync, for group commit: the batches are in the log
 * but not yet appended in the sense of invariant 2 until od_raft_log_flush
 * returns OK; the flushed end does not move. */
od_st_err od_raft_log_append_leader_unsynced(od_raft_log *l, uint8_t *batches, size_t len,
                                             int32_t epoch, int64_t now_ms, int64_t *last_offset);

/* fsyncs everything appended so far; the flushed end becomes the log end. */
od_st_err od_raft_log_flush(od_raft_log *l, int64_t now_ms);

/* The end of what is known durable: the log end after the last flush (or
 * open, which recovered and validated what is on disk). */
int64_t od_raft_log_flushed_end(const od_raft_log *l);

/* Calls fn for each whole batch with records in [from, to): the first batch
 * may start before `from`. A non-OK return from fn stops the scan and is
 * returned. */
typedef od_st_err (*od_raft_batch_fn)(void *ctx, const uint8_t *batch, size_t len);
od_st_err od_raft_log_scan(od_raft_log *l, int64_t from, int64_t to, od_raft_batch_fn fn,
                           void *ctx);

/* One entry of the log as the quorum hands it to its listener. */
typedef struct od_raft_entry {
    int64_t offset;
    int32_t epoch;
    int64_t timestamp;
    bool control;
    od_mrec rec;   /* when !control */
    od_kctl ctl;   /* when control; ctl.msg NULL for non-KRaft control types */
} od_raft_entry;

typedef od_st_err (*od_raft_entry_fn)(void *ctx, const od_raft_entry *e);

/* Decodes one batch and calls fn for each record at an offset >= from.
 * Decoded messages live in `arena` (released by the caller) and in the
 * batch bytes (or, for a compressed batch, in the iterator's buffer: only
 * valid during fn). Returns OD_ST_CORRUPT for a batch or record that does not
 * parse (invariant 4), or fn's first non-OK result. */
od_st_err od_raft_batch_visit(const uint8_t *batch, size_t len, int64_t from, od_arena *arena,
                              od_raft_entry_fn fn, void *ctx);

#endif
