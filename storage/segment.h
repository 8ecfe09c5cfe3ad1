/*
 * One log segment: <base>.log, <base>.index and <base>.timeindex in a
 * partition directory, byte-for-byte in Apache Kafka's formats.
 *
 *   .log        record batches as Kafka stores them (offsets assigned).
 *   .index      8-byte entries: int32 offset relative to the base offset,
 *               int32 byte position of a batch in .log (big-endian). Sparse:
 *               about one entry per index.interval.bytes of log.
 *   .timeindex  12-byte entries: int64 timestamp, int32 relative offset,
 *               appended only when the segment's max timestamp grows.
 *
 * Used by partition_log.c; reached by nothing else except tests.
 * Not thread-safe: the owning log serialises every call.
 */
#ifndef ODRADEK_STORAGE_SEGMENT_H
#define ODRADEK_STORAGE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fileio.h"
#include "records/record_batch.h"
#include "storage_err.h"

enum {
    OD_OFFSET_INDEX_ENTRY_SIZE = 8,
    OD_TIME_INDEX_ENTRY_SIZE = 12,
    OD_TXN_INDEX_ENTRY_SIZE = 34,
};

/* One aborted transaction, as a .txnindex entry stores it: version int16
 * (0) | producerId int64 | firstOffset int64 | lastOffset int64 (the ABORT
 * marker) | lastStableOffset int64. */
typedef struct od_aborted_txn {
    int64_t producer_id;
    int64_t first_offset;
    int64_t last_offset;
    int64_t last_stable_offset;
} od_aborted_txn;

typedef struct od_segment od_segment;

/* A byte range of an open file, for sendfile(2). */
typedef struct od_file_region {
    int fd;
    int64_t position;
    int64_t length;
} od_file_region;

/* Caps the number of segments holding descriptors (one .log fd each, plus
 * the two index fds of an active segment) across every log sharing it; the
 * least recently used unpinned segment gives all of its fds up when the cap
 * is passed, and reopens them on next use. */
typedef struct od_fd_cache {
    int limit;
    int open;
    od_segment *lru_head; /* most recently used */
    od_segment *lru_tail;
} od_fd_cache;

/* What every segment of one partition shares; owned by the log, which must
 * outlive its segments. */
typedef struct od_seg_ctx {
    od_fio *io;
    const char *dir;
    od_fd_cache *cache;
    int32_t index_interval_bytes;
    int32_t max_index_bytes;
} od_seg_ctx;

typedef struct od_oidx_entry {
    uint32_t rel_offset;
    uint32_t position;
} od_oidx_entry;

typedef struct od_tidx_entry {
    int64_t timestamp;
    uint32_t rel_offset;
} od_tidx_entry;

struct od_segment {
    const od_seg_ctx *ctx;
    int64_t base_offset;
    int64_t size;        /* bytes of whole, valid batches in .log */
    int64_t next_offset; /* offset after the last batch; -1 until known */
    int log_fd;          /* -1 when closed (inactive segments, by the fd cache) */
    int idx_fd, tidx_fd; /* open only while active */
    bool active;
    bool index_loaded;
    bool index_files_pending; /* a new segment's index files not created yet (segment.c, 8) */
    bool index_unsynced;      /* index files changed since the last od_segment_flush */
    bool deleted;
    int refs;            /* the log's reference plus one per outstanding read */
    od_oidx_entry *oidx;
    uint32_t oidx_n, oidx_cap, oidx_max;
    od_tidx_entry *tidx;
    uint32_t tidx_n, tidx_cap, tidx_max;
    /* Entries below these counts are in the index files; the rest are
     * written at the next flush, seal or truncation (see segment.c, 7). */
    uint32_t oidx_disk_n, tidx_disk_n;
    int64_t bytes_since_index;
    int64_t max_ts;            /* -1 when no batch carries a timestamp */
    int64_t offset_of_max_ts;
    int64_t rolling_ts;        /* max timestamp of the first append, -1 if none */
    int64_t created_ms;
    int64_t roll_jitter_ms;
    od_segment *lru_prev, *lru_next;
    bool in_lru;
    od_aborted_txn *txn; /* .txnindex, loaded on first use */
    uint32_t txn_n, txn_cap;
    bool txn_loaded;
};

/* File name of a segment file: 20-digit zero-padded base offset + suffix. */
void od_segment_file_name(char *buf, size_t cap, int64_t base_offset, const char *suffix);

/* Creates an empty active segment, truncating any leftover files of that
 * name, with both indexes preallocated to max_index_bytes. */
od_st_err od_segment_create(const od_seg_ctx *ctx, int64_t base, int64_t now_ms,
                            od_segment **out);

/* Describes an existing segment from its .log size alone; nothing is opened
 * and the indexes are read later, on first need. */
od_st_err od_segment_open(const od_seg_ctx *ctx, int64_t base, int64_t now_ms, od_segment **out);

/* Reads both indexes if not yet in memory. An index that is missing or fails
 * its sanity checks is rebuilt from the log (which may also cut a corrupt
 * tail; see od_segment_recover). */
od_st_err od_segment_load_index(od_segment *s);

/* Makes a loaded segment the active one: indexes open and preallocated,
 * next offset and max timestamp known. */
od_st_err od_segment_make_active(od_segment *s);

/* Re-validates every batch (header, CRC, increasing offsets, whole batch
 * present), rebuilds both index files from scratch and cuts the log at the
 * first bad byte. *truncated_bytes says how much was cut. */
od_st_err od_segment_recover(od_segment *s, int64_t *truncated_bytes);

/* Appends already-validated, offset-assigned batches, indexing them batch
 * by batch (an entry for the first batch that starts more than
 * index.interval.bytes after the previous entry). On failure nothing of the
 * append remains: the log is cut back (OD_ST_FAILED if even that fails). */
od_st_err od_segment_append(od_segment *s, const uint8_t *buf, size_t len, int64_t first_offset,
                            int64_t last_offset);

/* Position of the first batch whose last offset is >= offset, and its
 * header; OD_ST_NOT_FOUND when the segment holds no such batch. */
od_st_err od_segment_translate(od_segment *s, int64_t offset, int64_t *pos, od_batch_header *h,
                               size_t *batch_size);

/* A region from the batch holding `offset` up to max_bytes, never past
 * max_position; with min_one the first batch is whole even past max_bytes.
 * length 0 when the segment has nothing at or after offset. */
od_st_err od_segment_read(od_segment *s, int64_t offset, int64_t max_bytes, int64_t max_position,
                          bool min_one, od_file_region *out);

/* First record with timestamp >= ts: its offset and timestamp, or
 * OD_ST_NOT_FOUND. Looks inside the batch (decompressing if needed) for the
 * exact record, as Kafka does. */
od_st_err od_segment_find_timestamp(od_segment *s, int64_t ts, int64_t start_offset,
                                    int64_t *offset, int64_t *found_ts);

/* Calls fn for every whole batch whose last offset is >= from_offset, in
 * order, with the batch bytes (valid only during the call). A non-OK return
 * from fn stops the walk and is returned. */
typedef od_st_err (*od_segment_batch_fn)(void *ctx, const uint8_t *batch, size_t len,
                                         const od_batch_header *h);
od_st_err od_segment_for_each_batch(od_segment *s, int64_t from_offset, od_segment_batch_fn fn,
                                    void *ctx);

/* The .txnindex: created on the first aborted transaction, appended to
 * (fsynced with the segment), truncated with the log. */
od_st_err od_segment_txn_load(od_segment *s);
od_st_err od_segment_txn_append(od_segment *s, const od_aborted_txn *t);
/* Calls fn for entries with last_offset >= from and first_offset < upper. */
typedef void (*od_aborted_fn)(void *ctx, const od_aborted_txn *t);
od_st_err od_segment_txn_collect(od_segment *s, int64_t from, int64_t upper, od_aborted_fn fn,
                                 void *ctx);
bool od_segment_txn_has(od_segment *s, int64_t last_offset);

/* Removes every batch whose last offset is >= offset (a batch straddling the
 * cut goes entirely) and the index entries for them. */
od_st_err od_segment_truncate_to(od_segment *s, int64_t offset);

/* Ends the active phase: appends the final time-index entry, trims both
 * index files to their entries and closes them. */
od_st_err od_segment_seal(od_segment *s);

/* fsyncs .log and the index files that are open. */
od_st_err od_segment_flush(od_segment *s);

/* Largest timestamp in the segment, or the .log mtime when none is known. */
int64_t od_segment_largest_timestamp(od_segment *s);

/* Unlinks the three files. Open descriptors stay readable until released. */
od_st_err od_segment_delete_files(od_segment *s);

/* An fd for .log, opened through the fd cache; pins nothing. */
od_st_err od_segment_log_fd(od_segment *s, int *fd);

/* Moving a log between descriptor caches (od_log_move_fd_cache): leave
 * takes the segment out of its cache's LRU; after the caller repointed the
 * segment's ctx->cache, join puts it (if it holds descriptors) into the new
 * one, evicting others past its limit. */
void od_segment_cache_leave(od_segment *s);
void od_segment_cache_join(od_segment *s);

void od_segment_ref(od_segment *s);
/* Drops a reference; the last one closes every fd and frees the segment. */
void od_segment_unref(od_segment *s);

/* Test aid: checks every index entry against the batches in .log. Returns
 * OD_ST_OK or OD_ST_CORRUPT with a reason in why. */
od_st_err od_segment_verify(od_segment *s, char *why, size_t why_cap);

#endif
