/*
 * AddOffsetsToTxn: the group's __consumer_offsets partition joins the
 * transaction, so its offsets commit or abort with it. The partition is
 * Kafka's: abs(hashCode(group)) % offsets.topic.num.partitions.
 */
#include "group_service.h"
#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

od_handler_status od_handle_add_offsets_to_txn(od_rctx *ctx)
{
    const od_add_offsets_to_txn_request *req = ctx->request;
    od_add_offsets_to_txn_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    /* The group's partition must exist for its marker: the client found the
     * group coordinator first, which creates __consumer_offsets; make sure. */
    od_group_service_ensure_topic(b->groups);
    od_gc *groups = od_group_service_lock(b->groups);
    int32_t partition = od_gc_partition_for(groups, req->group_id);
    od_group_service_unlock(b->groups);
    od_broker_lock(b);
    int16_t e;
    od_tc *tc = od_txn_coordinator(b, &e);
    if (tc) {
        od_tc_topic_partition tp = {OD_STR_LIT(OD_GROUP_OFFSETS_TOPIC), partition};
        e = od_tc_add_partitions(tc, req->transactional_id, req->producer_id, req->producer_epoch, &tp, 1);
    }
    od_broker_unlock(b);
    if (e == OD_TC_PRODUCER_FENCED && ctx->version < 2)
        e = OD_TC_INVALID_PRODUCER_EPOCH;
    resp->error_code = e;
    return OD_HANDLER_REPLY;
}
