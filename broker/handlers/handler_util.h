/*
 * Small helpers shared by handlers: arena arrays and the storage-to-Kafka
 * error mapping.
 */
#ifndef ODRADEK_BROKER_HANDLER_UTIL_H
#define ODRADEK_BROKER_HANDLER_UTIL_H

#include <string.h>

#include "broker.h"
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

/* Fills changes[0..count) from one AlterConfigs-style resource; changes is
 * NULL when the arena ran out. Returns NULL, or the static message of an
 * INVALID_REQUEST refusal of the whole resource. */
typedef const char *(*od_config_changes_fn)(od_rctx *ctx, const void *resource,
                                            od_config_change *changes, int32_t count);

/* The per-resource part of AlterConfigs and IncrementalAlterConfigs (lock
 * held): refuses anything but a topic, builds count changes with build,
 * then applies them (replace_all: the changes become the whole set). */
static inline void od_alter_config_resource(od_rctx *ctx, int8_t resource_type, od_str resource_name,
                                            const void *resource, int32_t count,
                                            od_config_changes_fn build, bool replace_all,
                                            bool validate_only, int16_t *error_code,
                                            od_str *error_message)
{
    if (resource_type != OD_CONFIG_RESOURCE_TOPIC) {
        *error_code = OD_ERR_INVALID_REQUEST;
        *error_message = OD_STR_LIT("Only topic configs can be altered on this broker");
        return;
    }
    int32_t nc = count > 0 ? count : 0;
    od_config_change *changes = OD_ARENA_ARRAY(ctx, od_config_change, nc);
    const char *refusal = build(ctx, resource, changes, nc);
    if (refusal != NULL) {
        *error_code = OD_ERR_INVALID_REQUEST;
        *error_message = od_str_from_cstr(refusal);
        return;
    }
    const char *message = NULL;
    *error_code = od_broker_alter_topic_configs(ctx->broker, ctx->arena, resource_name, changes, nc,
                                                replace_all, validate_only, &message);
    *error_message = od_arena_str(ctx, message);
}

#endif
