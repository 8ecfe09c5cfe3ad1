/*
 * KRaft snapshots: <20-digit end offset>-<10-digit epoch>.checkpoint in the
 * metadata partition directory. A snapshot holds the whole metadata image as
 * records, so the log before its end offset is no longer needed to rebuild
 * the image.
 *
 * File format (Kafka's RecordsSnapshotWriter): batches with offsets from 0
 * and the snapshot's epoch; first a control batch with a SnapshotHeaderRecord
 * (lastContainedLogTimestamp), then data batches of metadata records, last a
 * control batch with a SnapshotFooterRecord.
 *
 * Invariants
 *   1. The id is (end offset, epoch): the snapshot holds the effect of every
 *      record below end offset, and epoch is the epoch of the record at end
 *      offset - 1. Replay continues from end offset.
 *   2. A snapshot file appears whole or not at all: written beside its name
 *      (storage's atomic write: tmp, fsync, rename, directory fsync). Readers
 *      take only names of the exact snapshot form, so temporaries, Kafka's
 *      *.checkpoint.part and *.deleted files are never loaded.
 *   3. A snapshot must start with its header and end with its footer; a file
 *      that does not (torn, corrupt) is OD_KR_CORRUPT and never half-applied
 *      to a live image (loading goes into the caller's empty image).
 *   4. Applying a snapshot's records to an empty image yields an image equal
 *      (od_mimage_equal) to the one it was written from.
 *
 * State machine: none.
 */
#ifndef ODRADEK_KRAFT_SNAPSHOT_H
#define ODRADEK_KRAFT_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "fileio.h"
#include "kraft_err.h"
#include "metadata_image.h"

typedef struct od_snapshot_id {
    int64_t end_offset;
    int32_t epoch;
} od_snapshot_id;

/* "<%020 end offset>-<%010 epoch>.checkpoint" into out (64 bytes). */
void od_snapshot_file_name(od_snapshot_id id, char out[64]);

/* The snapshot with the largest id in dir; *found false when none. */
od_kr_err od_snapshot_latest(od_fio *io, const char *dir, od_snapshot_id *id, bool *found);

/* One snapshot file as od_snapshot_list finds it. */
typedef struct od_snapshot_file {
    od_snapshot_id id;
    int64_t bytes;
    int64_t mtime_ms; /* when it was written */
} od_snapshot_file;

/* Every snapshot in dir, oldest (smallest id) first; *files is malloc'd
 * (free()), NULL when there is none. */
od_kr_err od_snapshot_list(od_fio *io, const char *dir, od_snapshot_file **files, size_t *n);

/* Removes one snapshot file, durably (directory fsync). */
od_kr_err od_snapshot_delete(od_fio *io, const char *dir, od_snapshot_id id);

/* Applies the snapshot's records to `img`, which should be empty; on
 * success img's last offset/epoch are end_offset - 1 and epoch. */
od_kr_err od_snapshot_load(od_fio *io, const char *dir, od_snapshot_id id, od_mimage *img);

/* Writes `img` as snapshot `id` (invariant 2). */
od_kr_err od_snapshot_write(od_fio *io, const char *dir, const od_mimage *img, od_snapshot_id id,
                            int64_t last_timestamp, int64_t now_ms);

#endif
