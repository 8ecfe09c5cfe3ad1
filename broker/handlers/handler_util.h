/*
 * Small helpers shared by handlers: arena arrays and the storage-to-Kafka
 * error mapping.
 */
#ifndef ODRADEK_BROKER_HANDLER_UTIL_H
#define ODRADEK_BROKER_HANDLER_UTIL_H

#include <string.h>

#include "broker.h"
#include "controller.h"
#include "controller_thread.h"
#include "dispatch.h"
#include "storage_err.h"

/* count zeroed elements from the request arena; a non-NULL pointer even for 0. */
#define OD_ARENA_ARRAY(ctx, type, count)                                                          \
    ((type *)od_arena_calloc((ctx)->arena, (size_t)((count) > 0 ? (count) : 1), sizeof(type)))

/* The Kafka error code storage_err.h names for each storage result. */
static inline int16_t od_kafka_error_from_storage(od_st_err err)
{
    switch (err) {
    case OD_ST_OK:
    case OD_ST_DUPLICATE_SEQUENCE:
        return OD_ERR_NONE;
    case OD_ST_IO:
    case OD_ST_NO_SPACE:
    case OD_ST_FAILED:
        return OD_ERR_KAFKA_STORAGE_ERROR;
    case OD_ST_CORRUPT:
        return OD_ERR_CORRUPT_MESSAGE;
    case OD_ST_INVALID_RECORD:
        return OD_ERR_INVALID_RECORD;
    case OD_ST_RECORD_TOO_LARGE:
        return OD_ERR_MESSAGE_TOO_LARGE;
    case OD_ST_BATCH_TOO_LARGE:
        return OD_ERR_RECORD_LIST_TOO_LARGE;
    case OD_ST_OFFSET_OUT_OF_RANGE:
        return OD_ERR_OFFSET_OUT_OF_RANGE;
    case OD_ST_OUT_OF_ORDER_SEQUENCE:
        return OD_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    case OD_ST_INVALID_PRODUCER_EPOCH:
        return OD_ERR_INVALID_PRODUCER_EPOCH;
    case OD_ST_INVALID_TIMESTAMP:
        return OD_ERR_INVALID_TIMESTAMP;
    default:
        return OD_ERR_UNKNOWN_SERVER_ERROR;
    }
}

/* Checks a client's view of the leader epoch against ours: -1 means the
 * client does not know and is always fine. */
static inline int16_t od_check_leader_epoch(int32_t client_epoch, int32_t leader_epoch)
{
    if (client_epoch < 0 || client_epoch == leader_epoch)
        return OD_ERR_NONE;
    return client_epoch > leader_epoch ? OD_ERR_UNKNOWN_LEADER_EPOCH : OD_ERR_FENCED_LEADER_EPOCH;
}

/* The image's leader epoch of a partition, 0 when unknown. */
static inline int32_t od_leader_epoch_of(od_broker *b, const od_uuid *topic_id, int32_t partition)
{
    const od_mi_partition *p = od_mimage_partition(b->image, topic_id, partition);
    return p ? p->leader_epoch : 0;
}

/* Copies a NUL-terminated string into the arena as a view. */
static inline od_str od_arena_str(od_rctx *ctx, const char *s)
{
    if (s == NULL)
        return OD_STR_NULL;
    size_t n = strlen(s);
    char *copy = od_arena_alloc(ctx->arena, n + 1);
    if (copy == NULL)
        return OD_STR_NULL;
    memcpy(copy, s, n + 1);
    return (od_str){copy, (int32_t)n};
}

/* A request handed to the controller thread: the job lives in the request
 * arena, which stays ours until od_rctx_reply. */
typedef struct od_rctx_job {
    od_ctl_job job;
    od_rctx *ctx;
} od_rctx_job;

/* Defers the request to the controller thread, where run answers it with
 * od_rctx_reply once its metadata batch is committed and applied (or
 * refused). The handler must not touch ctx after this returns. */
static inline od_handler_status od_defer_to_controller(od_rctx *ctx, od_ctl_job_fn *run)
{
    od_rctx_job *j = od_arena_calloc(ctx->arena, 1, sizeof *j);
    if (j == NULL)
        return OD_HANDLER_CLOSE;
    j->ctx = ctx;
    j->job.run = run;
    od_broker_post_controller_job(ctx->broker, &j->job);
    return OD_HANDLER_DEFERRED;
}

/* As od_defer_to_controller, for a job that takes part in group commit
 * (controller_thread.h): `run` performs the operation and keeps its result
 * in the job (allocated here with `job_size` bytes, zeroed, starting with an
 * od_rctx_job); `committed` answers once the group's fsync is done. */
static inline od_handler_status od_defer_to_controller_grouped(od_rctx *ctx, size_t job_size,
                                                               od_ctl_job_fn *run,
                                                               od_ctl_committed_fn *committed)
{
    od_rctx_job *j = od_arena_calloc(ctx->arena, 1, job_size);
    if (j == NULL)
        return OD_HANDLER_CLOSE;
    j->ctx = ctx;
    j->job.run = run;
    j->job.committed = committed;
    od_broker_post_controller_job(ctx->broker, &j->job);
    return OD_HANDLER_DEFERRED;
}

/* The message of a controller status as a response string (arena view). */
static inline od_str od_ctl_message(const od_ctl_status *st)
{
    return st->error_message ? od_str_from_cstr(st->error_message) : OD_STR_NULL;
}

#endif
