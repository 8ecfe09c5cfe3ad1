/*
 * bootstrap.checkpoint: the metadata a fresh cluster starts from, written
 * by `kafka-storage format` into the metadata log directory and copied into
 * the empty metadata log by the first active controller.
 *
 * File format (what Kafka 3.9's formatter writes): a KRaft snapshot with
 * epoch 0 and offsets from 0: one control batch holding a
 * SnapshotHeaderRecord (lastContainedLogTimestamp 0), one data batch with
 * the bootstrap records (at least FeatureLevelRecord metadata.version), one
 * control batch holding a SnapshotFooterRecord.
 *
 * Invariants
 *   1. The file is replaced atomically (tmp, fsync, rename, dir fsync).
 *   2. A reader takes every record of every data batch in order and ignores
 *      control batches; a file that does not parse is OD_KR_CORRUPT, never
 *      half-used.
 *   3. Without metadata.version the bootstrap is unusable (OD_KR_CORRUPT),
 *      as in Kafka.
 *
 * State machine: none.
 */
#ifndef ODRADEK_KRAFT_BOOTSTRAP_H
#define ODRADEK_KRAFT_BOOTSTRAP_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "fileio.h"
#include "kraft_err.h"
#include "metadata_record.h"

#define OD_BOOTSTRAP_CHECKPOINT "bootstrap.checkpoint"
#define OD_METADATA_VERSION_FEATURE "metadata.version"

/* metadata.version feature levels (Kafka's MetadataVersion) the module
 * relies on. */
enum {
    OD_MV_3_3_IV3 = 7,   /* the oldest KRaft can bootstrap */
    OD_MV_3_4_IV0 = 8,   /* ZkMigrationStateRecord */
    OD_MV_3_6_IV1 = 13,  /* metadata transactions (Begin/EndTransactionRecord) */
    OD_MV_3_7_IV2 = 17,  /* directory assignment: PartitionRecord v1, RegisterBrokerRecord v3 */
    OD_MV_3_9_IV0 = 21,  /* Kafka 3.9's latest production version */
    OD_MV_LATEST = OD_MV_3_9_IV0,
};

/* Writes dir/bootstrap.checkpoint holding `recs`. */
od_kr_err od_bootstrap_write(od_fio *io, const char *dir, const od_mrec *recs, int32_t count,
                             int64_t now_ms);

/* Reads dir/bootstrap.checkpoint. *found false (and OD_KR_OK) when absent.
 * Records and everything they point to live in `arena`. */
od_kr_err od_bootstrap_read(od_fio *io, const char *dir, od_arena *arena, od_mrec **recs,
                            int32_t *count, bool *found);

/* The metadata.version level among the records, or 0. */
int16_t od_bootstrap_metadata_version(const od_mrec *recs, int32_t count);

#endif
