/*
 * ListOffsets: earliest, latest, max-timestamp and by-timestamp lookups.
 */
#include "handler_util.h"
#include "handlers.h"

enum { ISOLATION_READ_COMMITTED = 1, TS_LATEST_TIERED = -5 };

static void lookup(od_rctx *ctx, od_broker_topic *t, int8_t isolation,
                   const od_list_offsets_request_list_offsets_partition *in,
                   od_list_offsets_response_list_offsets_partition_response *out)
{
    od_broker *b = ctx->broker;
    od_broker_partition *p = od_broker_partition_of(t, in->partition_index);
    if (p == NULL || p->log == NULL) {
        out->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    int32_t epoch = od_leader_epoch_of(b, &t->id, in->partition_index);
    out->error_code = od_check_leader_epoch(in->current_leader_epoch, epoch);
    if (out->error_code != OD_ERR_NONE)
        return;
    int64_t offset = -1, ts = -1;
    int64_t visible = isolation == ISOLATION_READ_COMMITTED ? od_log_last_stable_offset(p->log)
                                                            : od_log_high_watermark(p->log);
    switch (in->timestamp) {
    case OD_TS_LATEST:
        offset = visible;
        break;
    case OD_TS_EARLIEST:
    case OD_TS_EARLIEST_LOCAL:
        offset = od_log_start_offset(p->log);
        break;
    case TS_LATEST_TIERED:
        /* Nothing is tiered: no offset, as Kafka answers without remote storage. */
        offset = -1;
        break;
    default: {
        od_st_err st = od_log_offset_for_timestamp(p->log, in->timestamp, &offset, &ts);
        out->error_code = od_kafka_error_from_storage(st);
        if (st != OD_ST_OK)
            return;
        if (offset >= visible)
            offset = -1, ts = -1;
    }
    }
    out->offset = offset;
    out->timestamp = offset >= 0 ? ts : -1;
    /* Principle 1 exception: LeaderEpoch is non-ignorable and absent before
     * v4, so the generated encoder refuses a value there; Kafka, too, only
     * reports the epoch to clients that asked at v4+. */
    out->leader_epoch = offset >= 0 && ctx->version >= 4 ? epoch : -1;
    if (in->timestamp < 0 && in->timestamp != OD_TS_MAX_TIMESTAMP)
        out->timestamp = -1;
    /* v0 answers with a list of offsets instead of one offset and timestamp:
     * different semantics, so the version picks the fields to fill. */
    if (ctx->version == 0) {
        int64_t *one = od_arena_alloc(ctx->arena, sizeof *one);
        if (one != NULL && offset >= 0) {
            *one = offset;
            out->old_style_offsets = (od_int64_array){1, one};
        }
        out->offset = -1;
        out->timestamp = -1;
        out->leader_epoch = -1;
    }
}

od_handler_status od_handle_list_offsets(od_rctx *ctx)
{
    const od_list_offsets_request *req = ctx->request;
    od_list_offsets_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t nt = req->topics.count > 0 ? req->topics.count : 0;
    od_list_offsets_response_list_offsets_topic_response *topics =
        OD_ARENA_ARRAY(ctx, od_list_offsets_response_list_offsets_topic_response, nt);
    if (topics == NULL)
        return OD_HANDLER_CLOSE;
    od_broker_lock(b);
    for (int32_t i = 0; i < nt; i++) {
        const od_list_offsets_request_list_offsets_topic *rt = &req->topics.items[i];
        od_list_offsets_response_list_offsets_topic_response *to = &topics[i];
        od_list_offsets_response_list_offsets_topic_response_init(to);
        to->name = rt->name;
        int32_t np = rt->partitions.count > 0 ? rt->partitions.count : 0;
        od_list_offsets_response_list_offsets_partition_response *parts =
            OD_ARENA_ARRAY(ctx, od_list_offsets_response_list_offsets_partition_response, np);
        if (parts == NULL) {
            od_broker_unlock(b);
            return OD_HANDLER_CLOSE;
        }
        od_broker_topic *t = od_broker_topic_by_name(b, rt->name);
        for (int32_t j = 0; j < np; j++) {
            od_list_offsets_response_list_offsets_partition_response_init(&parts[j]);
            parts[j].partition_index = rt->partitions.items[j].partition_index;
            if (t == NULL)
                parts[j].error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else
                lookup(ctx, t, req->isolation_level, &rt->partitions.items[j], &parts[j]);
        }
        to->partitions = (od_list_offsets_response_list_offsets_partition_response_array){np, parts};
    }
    od_broker_unlock(b);
    resp->topics = (od_list_offsets_response_list_offsets_topic_response_array){nt, topics};
    return OD_HANDLER_REPLY;
}
