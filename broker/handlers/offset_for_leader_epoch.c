/*
 * OffsetForLeaderEpoch: the end offset of the largest epoch <= the one asked
 * for, from the partition's leader-epoch cache (how a consumer validates its
 * position after a leader change, KIP-320).
 */
#include "handler_util.h"
#include "handlers.h"

static void answer(od_rctx *ctx, od_broker_topic *t,
                   const od_offset_for_leader_epoch_request_offset_for_leader_partition *in,
                   od_offset_for_leader_epoch_response_epoch_end_offset *out)
{
    od_broker *b = ctx->broker;
    od_broker_partition *p = od_broker_partition_of(t, in->partition);
    if (p == NULL || p->log == NULL) {
        out->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    out->error_code = od_check_leader_epoch(in->current_leader_epoch, od_leader_epoch_of(b, &t->id, in->partition));
    if (out->error_code != OD_ERR_NONE)
        return;
    int32_t end_epoch = -1;
    int64_t end_offset = -1;
    od_log_end_offset_for_epoch(p->log, in->leader_epoch, &end_epoch, &end_offset);
    out->end_offset = end_epoch < 0 ? -1 : end_offset;
    out->leader_epoch = end_epoch;
}

od_handler_status od_handle_offset_for_leader_epoch(od_rctx *ctx)
{
    const od_offset_for_leader_epoch_request *req = ctx->request;
    od_offset_for_leader_epoch_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t nt = req->topics.count > 0 ? req->topics.count : 0;
    od_offset_for_leader_epoch_response_offset_for_leader_topic_result *topics =
        OD_ARENA_ARRAY(ctx, od_offset_for_leader_epoch_response_offset_for_leader_topic_result, nt);
    if (topics == NULL)
        return OD_HANDLER_CLOSE;
    od_broker_lock(b);
    for (int32_t i = 0; i < nt; i++) {
        const od_offset_for_leader_epoch_request_offset_for_leader_topic *rt = &req->topics.items[i];
        od_offset_for_leader_epoch_response_offset_for_leader_topic_result *to = &topics[i];
        od_offset_for_leader_epoch_response_offset_for_leader_topic_result_init(to);
        to->topic = rt->topic;
        int32_t np = rt->partitions.count > 0 ? rt->partitions.count : 0;
        od_offset_for_leader_epoch_response_epoch_end_offset *parts =
            OD_ARENA_ARRAY(ctx, od_offset_for_leader_epoch_response_epoch_end_offset, np);
        if (parts == NULL) {
            od_broker_unlock(b);
            return OD_HANDLER_CLOSE;
        }
        od_broker_topic *t = od_broker_topic_by_name(b, rt->topic);
        for (int32_t j = 0; j < np; j++) {
            od_offset_for_leader_epoch_response_epoch_end_offset_init(&parts[j]);
            parts[j].partition = rt->partitions.items[j].partition;
            if (t == NULL)
                parts[j].error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else
                answer(ctx, t, &rt->partitions.items[j], &parts[j]);
        }
        to->partitions = (od_offset_for_leader_epoch_response_epoch_end_offset_array){np, parts};
    }
    od_broker_unlock(b);
    resp->topics = (od_offset_for_leader_epoch_response_offset_for_leader_topic_result_array){nt, topics};
    return OD_HANDLER_REPLY;
}
