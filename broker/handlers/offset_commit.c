/*
 * OffsetCommit: a group's committed offsets, written to __consumer_offsets
 * before the reply (group_service.h, invariant 2).
 *
 * As Kafka 3.9: a partition this broker does not know (unknown topic, or
 * an index past the topic's partitions) gets UNKNOWN_TOPIC_OR_PARTITION and
 * is not committed; the rest goes to the coordinator with the generation
 * and member checks. v1 carries a commit timestamp per partition (-1: now);
 * v2-4 a retention time (-1: the broker's offsets.retention.minutes), which
 * the decoder leaves at -1 for the versions without them.
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

od_handler_status od_handle_offset_commit(od_rctx *ctx)
{
    const od_offset_commit_request *req = ctx->request;
    od_offset_commit_response *resp = ctx->response;
    int32_t nt = req->topics.count > 0 ? req->topics.count : 0;
    int32_t total = 0;
    for (int32_t i = 0; i < nt; i++)
        total += req->topics.items[i].partitions.count > 0 ? req->topics.items[i].partitions.count : 0;
    od_offset_commit_response_offset_commit_response_topic *topics =
        OD_ARENA_ARRAY(ctx, od_offset_commit_response_offset_commit_response_topic, nt);
    od_gc_offset_commit *commits = OD_ARENA_ARRAY(ctx, od_gc_offset_commit, total);
    bool *known = OD_ARENA_ARRAY(ctx, bool, total); /* per partition, in request order */
    if (topics == NULL || commits == NULL || known == NULL)
        return OD_HANDLER_CLOSE;

    od_broker *b = ctx->broker;
    od_broker_lock(b);
    int32_t k = 0;
    for (int32_t i = 0; i < nt; i++) {
        const od_offset_commit_request_offset_commit_request_topic *t = &req->topics.items[i];
        od_broker_topic *bt = od_broker_topic_by_name(b, t->name);
        for (int32_t j = 0; j < t->partitions.count; j++)
            known[k++] = od_broker_partition_of(bt, t->partitions.items[j].partition_index) != NULL;
    }
    od_broker_unlock(b);

    /* The commits of known partitions, in request order. */
    int32_t n = 0;
    k = 0;
    for (int32_t i = 0; i < nt; i++) {
        const od_offset_commit_request_offset_commit_request_topic *t = &req->topics.items[i];
        for (int32_t j = 0; j < t->partitions.count; j++) {
            if (!known[k++])
                continue;
            const od_offset_commit_request_offset_commit_request_partition *p = &t->partitions.items[j];
            commits[n++] = (od_gc_offset_commit){
                .topic = t->name,
                .partition = p->partition_index,
                .offset = p->committed_offset,
                .leader_epoch = p->committed_leader_epoch,
                .metadata = p->committed_metadata,
                .commit_timestamp = p->commit_timestamp,
            };
        }
    }
    if (n > 0) {
        od_group_service *gs = b->groups;
        od_gc *gc = od_group_service_lock(gs);
        if (!od_cg_hook_commit(gs, gc, b->settings.groups.consumer_protocol_enabled, req->group_id,
                               req->member_id, req->generation_id_or_member_epoch, ctx->version,
                               req->retention_time_ms, commits, n))
            od_gc_commit_offsets(gc, req->group_id, req->member_id, req->group_instance_id,
                                 req->generation_id_or_member_epoch, req->retention_time_ms, commits, n);
        od_group_service_unlock(gs);
    }

    k = 0;
    n = 0;
    for (int32_t i = 0; i < nt; i++) {
        const od_offset_commit_request_offset_commit_request_topic *t = &req->topics.items[i];
        od_offset_commit_response_offset_commit_response_topic *to = &topics[i];
        od_offset_commit_response_offset_commit_response_topic_init(to);
        to->name = t->name;
        int32_t np = t->partitions.count > 0 ? t->partitions.count : 0;
        od_offset_commit_response_offset_commit_response_partition *parts =
            OD_ARENA_ARRAY(ctx, od_offset_commit_response_offset_commit_response_partition, np);
        if (parts == NULL)
            return OD_HANDLER_CLOSE;
        for (int32_t j = 0; j < np; j++) {
            od_offset_commit_response_offset_commit_response_partition_init(&parts[j]);
            parts[j].partition_index = t->partitions.items[j].partition_index;
            parts[j].error_code = known[k++] ? commits[n++].error : OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        to->partitions = (od_offset_commit_response_offset_commit_response_partition_array){np, parts};
    }
    resp->topics = (od_offset_commit_response_offset_commit_response_topic_array){nt, topics};
    return OD_HANDLER_REPLY;
}
