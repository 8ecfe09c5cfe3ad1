/*
 * Log compaction (cleanup.policy=compact): the pieces the log drives.
 *
 * A pass works on the cleanable range [first dirty offset, upper) where
 * upper never passes the active segment, the last stable offset or the
 * compaction lag. It builds an offset map (key -> latest offset in the dirty
 * range), then rewrites every segment wholly below upper, keeping a record
 * when no later record with its key exists in the map. Each rewritten
 * segment replaces its original through a crash-safe swap:
 *
 *   <base>.log.cleaned  written and fsynced        (crash: deleted at open)
 *   rename to <base>.log.swap, dir fsynced         <- commit point
 *   stale <base>.index / .timeindex unlinked       (crash: swap finished at open)
 *   rename <base>.log.swap over <base>.log, dir fsynced
 *
 * Batches keep their base offset and lastOffsetDelta (so offsets, producer
 * sequences and epochs stay as they were); only their record lists shrink.
 *
 * The group pass (od_cleaner_filter_group / od_cleaner_swap_group) is the
 * one the log uses; it follows Kafka 3.9's cleaner:
 *   - adjacent segments are merged into one output while the sum of their
 *     sizes fits segment.bytes, their index sizes fit segment.index.bytes
 *     and their offsets fit 32-bit relative offsets;
 *   - KIP-534: a retained batch holding a tombstone, or the marker of a
 *     transaction none of whose data is left, is rewritten once with the
 *     delete-horizon attribute (0x40) and baseTimestamp = now +
 *     delete.retention.ms; a later pass drops such tombstones and markers
 *     once now >= that horizon;
 *   - data of aborted transactions (from the .txnindex files) is dropped;
 *     an ABORT marker stays while this pass saw data of its transaction, and
 *     then its .txnindex entry is carried into the output's .txnindex;
 *     other entries go with their data.
 * A merged group's swap also removes the later members:
 *
 *   <base>.log.cleaned, <base>.txnindex.cleaned written and fsynced
 *   rename <base>.log.cleaned to <base>.log.swap, dir fsynced  <- commit
 *   indexes of <base> and every file of the other members unlinked
 *   <base>.txnindex.cleaned renamed over <base>.txnindex (or both
 *     unlinked when it is empty)
 *   rename <base>.log.swap over <base>.log, dir fsynced
 *
 * Recovery of a committed swap removes the segments whose base offset lies
 * inside the swap file's offsets, as Kafka's loader does; members whose
 * content the cleaning removed entirely keep their original data, which is
 * still a valid (merely less compacted) log.
 */
#ifndef ODRADEK_STORAGE_CLEANER_H
#define ODRADEK_STORAGE_CLEANER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "producer_state.h"
#include "segment.h"

typedef struct od_offset_map od_offset_map;

/* A fixed-capacity map from a 128-bit key hash to an offset (as Kafka's
 * SkimpyOffsetMap: two keys with equal hashes are taken as equal). */
od_offset_map *od_offset_map_new(size_t capacity);
void od_offset_map_free(od_offset_map *m);
/* false when the map is full (the pass then cleans less). */
bool od_offset_map_put(od_offset_map *m, const uint8_t *key, size_t len, int64_t offset);
/* The latest offset recorded for key, or -1. */
int64_t od_offset_map_get(const od_offset_map *m, const uint8_t *key, size_t len);
size_t od_offset_map_size(const od_offset_map *m);

typedef struct od_clean_stats {
    int32_t segments_cleaned;   /* input segments rewritten */
    int64_t bytes_before, bytes_after;
    int64_t records_read, records_removed;
    int64_t first_dirty, upper; /* the range this pass covered */
    int32_t groups;             /* output segments (merged groups) */
    int64_t batches_horizon_set; /* batches rewritten with a delete horizon */
    int64_t aborted_batches_removed;
    int64_t markers_removed;
} od_clean_stats;

/* Adds the keyed records of s with offsets in [from, upper) to m. Stops
 * early, with *reached at the first offset not mapped, when m fills. */
od_st_err od_cleaner_build_map(od_segment *s, int64_t from, int64_t upper, od_offset_map *m,
                               int64_t *reached);

typedef struct od_clean_policy {
    int64_t tombstone_before_ms; /* tombstones in batches with max ts below this go */
    int64_t map_upper;           /* records at or past this offset are never dropped */
    const od_pstate *producers;  /* keeps each producer's last batch, even emptied */
} od_clean_policy;

/* The first, single-segment pass, kept for callers of the old API: writes
 * the retained content of s to <base>.log.cleaned (fsynced), copying control
 * and transactional batches unchanged and expiring tombstones by their
 * batch's max timestamp. The log itself uses od_cleaner_filter_group. */
od_st_err od_cleaner_filter_segment(od_segment *s, const od_offset_map *m,
                                    const od_clean_policy *p, od_clean_stats *st);

/* Commits <base>.log.cleaned as <base>.log (the protocol above). */
od_st_err od_cleaner_swap_in(od_fio *io, const char *dir, int64_t base);

/* Kafka's CleanedTransactionMetadata for one pass: aborted transactions
 * learnt from the .txnindex files, which of them are under way at the
 * current batch, and which producers have committed data under way. */
typedef struct od_clean_txn od_clean_txn;
od_clean_txn *od_clean_txn_new(void);
void od_clean_txn_free(od_clean_txn *t);
/* Adds an aborted transaction (duplicates are ignored); false on OOM. */
bool od_clean_txn_add(od_clean_txn *t, const od_aborted_txn *a);

/* As od_cleaner_build_map, but skipping the data of aborted transactions
 * (as Kafka does), with t fed the aborted transactions of the range. */
od_st_err od_cleaner_build_map_txn(od_segment *s, int64_t from, int64_t upper, od_offset_map *m,
                                   od_clean_txn *t, int64_t *reached);

/* Feeds t the aborted transactions overlapping [from, upper). */
typedef od_st_err (*od_clean_collect_fn)(void *ctx, int64_t from, int64_t upper,
                                         od_clean_txn *t);

typedef struct od_clean_group {
    od_segment **segs;          /* adjacent, sealed; the output takes segs[0]'s base */
    const int64_t *seg_upper;   /* per segment: the next segment's base offset */
    size_t n;
    const od_offset_map *m;
    int64_t map_upper;          /* records at or past this offset are not judged by the map */
    int64_t now_ms;
    int64_t delete_retention_ms;
    const od_pstate *producers; /* each producer's last batch stays, even emptied */
    od_clean_txn *txn;          /* shared by every group of one pass */
    od_clean_collect_fn collect;
    void *collect_ctx;
} od_clean_group;

/* Writes the retained content of the group to <base>.log.cleaned and its
 * aborted-transaction entries to <base>.txnindex.cleaned, both fsynced. */
od_st_err od_cleaner_filter_group(const od_clean_group *g, od_clean_stats *st);

/* Commits a group's output (the protocol above); others are the base
 * offsets of the members after the first. */
od_st_err od_cleaner_swap_group(od_fio *io, const char *dir, int64_t base, const int64_t *others,
                                size_t nothers);

/* Kafka's grouping: how many of segs[0..n) (sizes and index sizes from the
 * loaded segments) go into the first group. first_uncleanable bounds the
 * last segment's offsets. */
size_t od_cleaner_group_size(od_segment *const *segs, size_t n, int32_t max_bytes,
                             int32_t max_index_bytes, int64_t first_uncleanable);

/* At open: finishes committed swaps and drops uncommitted .cleaned files. */
od_st_err od_cleaner_finish_interrupted(od_fio *io, const char *dir);

#endif
