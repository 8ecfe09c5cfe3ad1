/*
 * OffsetDelete: removes committed offsets of partitions a group no longer
 * reads. As Kafka: partitions this broker does not know get
 * UNKNOWN_TOPIC_OR_PARTITION; the others go to the coordinator, which
 * refuses topics an active consumer group subscribes to
 * (GROUP_SUBSCRIBED_TO_TOPIC; for a KIP-848 group, topics any member
 * subscribes to) and answers group-level errors at the top.
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

od_handler_status od_handle_offset_delete(od_rctx *ctx)
{
    const od_offset_delete_request *req = ctx->request;
    od_offset_delete_response *resp = ctx->response;
    int32_t nt = req->topics.count > 0 ? req->topics.count : 0;
    int32_t total = 0;
    for (int32_t i = 0; i < nt; i++)
        total += req->topics.items[i].partitions.count > 0 ? req->topics.items[i].partitions.count : 0;
    bool *known = OD_ARENA_ARRAY(ctx, bool, total); /* per partition, in request order */
    od_gc_offset_delete *parts = OD_ARENA_ARRAY(ctx, od_gc_offset_delete, total);
    od_gc_offset_delete *scratch = OD_ARENA_ARRAY(ctx, od_gc_offset_delete, total);
    od_offset_delete_response_offset_delete_response_topic *topics =
        OD_ARENA_ARRAY(ctx, od_offset_delete_response_offset_delete_response_topic, nt);
    if (known == NULL || parts == NULL || scratch == NULL || topics == NULL)
        return OD_HANDLER_CLOSE;
    od_broker *b = ctx->broker;
    od_broker_lock(b);
    int32_t k = 0;
    for (int32_t i = 0; i < nt; i++) {
        const od_offset_delete_request_offset_delete_request_topic *t = &req->topics.items[i];
        od_broker_topic *bt = od_broker_topic_by_name(b, t->name);
        for (int32_t j = 0; j < t->partitions.count; j++)
            known[k++] = od_broker_partition_of(bt, t->partitions.items[j].partition_index) != NULL;
    }
    od_broker_unlock(b);
    int32_t n = 0;
    k = 0;
    for (int32_t i = 0; i < nt; i++) {
        const od_offset_delete_request_offset_delete_request_topic *t = &req->topics.items[i];
        for (int32_t j = 0; j < t->partitions.count; j++)
            if (known[k++])
                parts[n++] = (od_gc_offset_delete){t->name, t->partitions.items[j].partition_index, 0};
    }
    od_group_service *gs = b->groups;
    od_gc *gc = od_group_service_lock(gs);
    int16_t top;
    if (!od_cg_hook_delete_offsets(gs, gc, req->group_id, parts, n, scratch, &top))
        top = od_gc_delete_offsets(gc, req->group_id, parts, n);
    od_group_service_unlock(gs);
    resp->error_code = top;
    k = 0;
    n = 0;
    for (int32_t i = 0; i < nt; i++) {
        const od_offset_delete_request_offset_delete_request_topic *t = &req->topics.items[i];
        od_offset_delete_response_offset_delete_response_topic *to = &topics[i];
        od_offset_delete_response_offset_delete_response_topic_init(to);
        to->name = t->name;
        int32_t np = t->partitions.count > 0 ? t->partitions.count : 0;
        od_offset_delete_response_offset_delete_response_partition *ps =
            OD_ARENA_ARRAY(ctx, od_offset_delete_response_offset_delete_response_partition, np);
        if (ps == NULL)
            return OD_HANDLER_CLOSE;
        for (int32_t j = 0; j < np; j++) {
            od_offset_delete_response_offset_delete_response_partition_init(&ps[j]);
            ps[j].partition_index = t->partitions.items[j].partition_index;
            ps[j].error_code = known[k++] ? parts[n++].error : OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        to->partitions = (od_offset_delete_response_offset_delete_response_partition_array){np, ps};
    }
    /* A group-level error answers for the whole request, with no topics. */
    resp->topics = (od_offset_delete_response_offset_delete_response_topic_array){top == OD_ERR_NONE ? nt : 0, topics};
    return OD_HANDLER_REPLY;
}
