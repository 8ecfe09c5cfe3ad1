/*
 * Kafka's small text files, byte-compatible:
 *
 *   <log dir>/recovery-point-offset-checkpoint   \
 *   <log dir>/log-start-offset-checkpoint         | "0\n<count>\n" then
 *   <log dir>/replication-offset-checkpoint       | "<topic> <partition> <offset>\n"
 *   <log dir>/cleaner-offset-checkpoint          /
 *   <partition dir>/leader-epoch-checkpoint       "0\n<count>\n" then "<epoch> <startOffset>\n"
 *   <partition dir>/partition.metadata            "version: 0\ntopic_id: <base64url uuid>\n"
 *   <log dir>/meta.properties                     Java properties (KRaft v1)
 *   <log dir>/.kafka_cleanshutdown                {"version":0,"brokerEpoch":N}
 *
 * Every writer replaces its file atomically (tmp + fsync + rename + dir
 * fsync), so a crash leaves either the old or the new content. Readers are
 * strict: a file that does not parse is OD_ST_BAD_FORMAT, never half-read.
 */
#ifndef ODRADEK_STORAGE_CHECKPOINT_H
#define ODRADEK_STORAGE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fileio.h"
#include "storage_err.h"
#include "wire.h"

#define OD_CKPT_RECOVERY_POINT "recovery-point-offset-checkpoint"
#define OD_CKPT_LOG_START "log-start-offset-checkpoint"
#define OD_CKPT_REPLICATION "replication-offset-checkpoint"
#define OD_CKPT_CLEANER "cleaner-offset-checkpoint"
#define OD_CKPT_LEADER_EPOCH "leader-epoch-checkpoint"
#define OD_PARTITION_METADATA "partition.metadata"
#define OD_META_PROPERTIES "meta.properties"
#define OD_CLEAN_SHUTDOWN ".kafka_cleanshutdown"

typedef struct od_tp_offset {
    char *topic; /* owned (malloc'd) in read results */
    int32_t partition;
    int64_t offset;
} od_tp_offset;

typedef struct od_epoch_entry {
    int32_t epoch;
    int64_t start_offset;
} od_epoch_entry;

od_st_err od_ckpt_write_offsets(od_fio *io, const char *dir, const char *name,
                                const od_tp_offset *entries, size_t n);
/* OD_ST_NOT_FOUND when the file is absent. Free with od_ckpt_free_offsets. */
od_st_err od_ckpt_read_offsets(od_fio *io, const char *dir, const char *name,
                               od_tp_offset **entries, size_t *n);
void od_ckpt_free_offsets(od_tp_offset *entries, size_t n);

od_st_err od_ckpt_write_epochs(od_fio *io, const char *dir, const od_epoch_entry *e, size_t n);
/* OD_ST_NOT_FOUND when absent; *e is malloc'd (free()). */
od_st_err od_ckpt_read_epochs(od_fio *io, const char *dir, od_epoch_entry **e, size_t *n);

od_st_err od_partition_metadata_write(od_fio *io, const char *dir, const od_uuid *topic_id);
od_st_err od_partition_metadata_read(od_fio *io, const char *dir, od_uuid *topic_id);
/* Makes dir/partition.metadata name topic_id: nothing is written when it
 * already does, otherwise it is rewritten in place without fsync. For owners that call it at every open of the log from durable metadata
 * (the broker, from the committed image), so a copy a crash lost or tore is
 * rewritten at the next start (invariant 9 of partition_log.c). */
od_st_err od_partition_metadata_ensure(od_fio *io, const char *dir, const od_uuid *topic_id);

/* Kafka's text form of a Uuid: URL-safe base64 without padding (22 chars). */
void od_uuid_to_base64(const od_uuid *u, char out[23]);
bool od_uuid_from_base64(const char *s, size_t len, od_uuid *u);

typedef struct od_meta_properties {
    int32_t version;         /* 1 for KRaft */
    char cluster_id[64];
    int32_t node_id;
    char directory_id[32];   /* base64url uuid; empty when absent */
} od_meta_properties;

od_st_err od_meta_properties_write(od_fio *io, const char *log_dir, const od_meta_properties *m);
od_st_err od_meta_properties_read(od_fio *io, const char *log_dir, od_meta_properties *m);

/* The clean-shutdown marker: written (fsynced) as the last act of a clean
 * shutdown, removed at startup once its presence has been noted. */
od_st_err od_clean_shutdown_write(od_fio *io, const char *log_dir, int64_t broker_epoch);
/* *exists tells presence; *broker_epoch is -1 when the content is unreadable. */
od_st_err od_clean_shutdown_read(od_fio *io, const char *log_dir, bool *exists,
                                 int64_t *broker_epoch);
od_st_err od_clean_shutdown_delete(od_fio *io, const char *log_dir);

#endif
