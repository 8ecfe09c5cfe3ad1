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
 * Control batches and transactional batches are copied unchanged.
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
    int32_t segments_cleaned;
    int64_t bytes_before, bytes_after;
    int64_t records_read, records_removed;
    int64_t first_dirty, upper; /* the range this pass covered */
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

/* Writes the retained content of s to <base>.log.cleaned (fsynced). */
od_st_err od_cleaner_filter_segment(od_segment *s, const od_offset_map *m,
                                    const od_clean_policy *p, od_clean_stats *st);

/* Commits <base>.log.cleaned as <base>.log (the protocol above). */
od_st_err od_cleaner_swap_in(od_fio *io, const char *dir, int64_t base);

/* At open: finishes committed swaps and drops uncommitted .cleaned files. */
od_st_err od_cleaner_finish_interrupted(od_fio *io, const char *dir);

#endif
