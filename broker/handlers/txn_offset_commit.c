/*
 * TxnOffsetCommit (KIP-98, KIP-447): offsets a transactional producer sends
 * for a consumer group. The group coordinator writes them to the group's
 * __consumer_offsets partition as the producer's transactional batch and
 * keeps them pending: OffsetFetch sees them only once the transaction's
 * COMMIT marker reaches that partition (txn_service.c), and never after an
 * ABORT.
 *
 * As Kafka 3.9: a topic this broker does not know gets
 * UNKNOWN_TOPIC_OR_PARTITION for each of its partitions; the rest goes to the
 * coordinator with the member and generation checks (v3+ carry them; for a
 * KIP-848 group the generation is the member epoch, and v0-2, which carry
 * neither, pass only while the group has no members).
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

typedef od_txn_offset_commit_response_txn_offset_commit_response_topic topic_out;
typedef od_txn_offset_commit_response_txn_offset_commit_response_partition part_out;

od_handler_status od_handle_txn_offset_commit(od_rctx *ctx)
{
    const od_txn_offset_commit_request *req = ctx->request;
    od_txn_offset_commit_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t nt = req->topics.count > 0 ? req->topics.count : 0, total = 0;
    for (int32_t i = 0; i < nt; i++)
        total += req->topics.items[i].partitions.count > 0 ? req->topics.items[i].partitions.count : 0;
    topic_out *topics = OD_ARENA_ARRAY(ctx, topic_out, nt);
    od_gc_offset_commit *commits = OD_ARENA_ARRAY(ctx, od_gc_offset_commit, total);
    bool *known = OD_ARENA_ARRAY(ctx, bool, nt);
    if (!topics || !commits || !known)
        return OD_HANDLER_CLOSE;

    od_broker_lock(b);
    for (int32_t i = 0; i < nt; i++)
        known[i] = od_broker_topic_by_name(b, req->topics.items[i].name) != NULL;
    od_broker_unlock(b);

    int32_t n = 0;
    for (int32_t i = 0; i < nt; i++) {
        const od_txn_offset_commit_request_txn_offset_commit_request_topic *t = &req->topics.items[i];
        if (!known[i])
            continue;
        for (int32_t j = 0; j < t->partitions.count; j++) {
            const od_txn_offset_commit_request_txn_offset_commit_request_partition *p = &t->partitions.items[j];
            commits[n++] = (od_gc_offset_commit){
                .topic = t->name,
                .partition = p->partition_index,
                .offset = p->committed_offset,
                .leader_epoch = p->committed_leader_epoch,
                .metadata = p->committed_metadata,
                .commit_timestamp = -1,
            };
        }
    }
    if (n > 0) {
        od_group_service *gs = b->groups;
        int16_t e = od_group_service_ensure_topic(gs); /* takes its locks itself */
        if (e != OD_ERR_NONE) {
            for (int32_t i = 0; i < n; i++)
                commits[i].error = e;
        } else {
            od_gc *gc = od_group_service_lock(gs);
            if (!od_cg_hook_txn_commit(gs, gc, b->settings.groups.consumer_protocol_enabled,
                                       req->group_id, req->producer_id, req->producer_epoch,
                                       req->member_id, req->generation_id, commits, n))
                od_gc_txn_commit_offsets(gc, req->group_id, req->producer_id, req->producer_epoch,
                                         req->member_id, req->group_instance_id, req->generation_id,
                                         commits, n);
            od_group_service_unlock(gs);
        }
    }

    int32_t k = 0;
    for (int32_t i = 0; i < nt; i++) {
        const od_txn_offset_commit_request_txn_offset_commit_request_topic *t = &req->topics.items[i];
        od_txn_offset_commit_response_txn_offset_commit_response_topic_init(&topics[i]);
        topics[i].name = t->name;
        int32_t np = t->partitions.count > 0 ? t->partitions.count : 0;
        part_out *parts = OD_ARENA_ARRAY(ctx, part_out, np);
        if (!parts)
            return OD_HANDLER_CLOSE;
        for (int32_t j = 0; j < np; j++) {
            od_txn_offset_commit_response_txn_offset_commit_response_partition_init(&parts[j]);
            parts[j].partition_index = t->partitions.items[j].partition_index;
            int16_t e = known[i] ? commits[k++].error : OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            /* INVALID_PRODUCER_EPOCH from the append: a fenced producer, which
             * v3+ clients know as PRODUCER_FENCED (Kafka maps it so). */
            if (e == OD_ERR_INVALID_PRODUCER_EPOCH && ctx->version >= 3)
                e = 90;
            parts[j].error_code = e;
        }
        topics[i].partitions = (od_txn_offset_commit_response_txn_offset_commit_response_partition_array){np, parts};
    }
    resp->topics = (od_txn_offset_commit_response_txn_offset_commit_response_topic_array){nt, topics};
    return OD_HANDLER_REPLY;
}
