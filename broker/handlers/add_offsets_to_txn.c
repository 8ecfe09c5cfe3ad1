/*
 * AddOffsetsToTxn: the group's __consumer_offsets partition joins the
 * transaction, so its offsets commit or abort with it. The partition is
 * Kafka's: abs(hashCode(group)) % offsets.topic.num.partitions.
 */
#include "group_coordinator.h"
#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

enum { OFFSETS_TOPIC_PARTITIONS_DEFAULT = 50 };

static int32_t offsets_partition_for(od_broker *b, od_str group)
{
    od_broker_topic *t = od_broker_topic_by_name(b, OD_STR_LIT("__consumer_offsets"));
    int32_t n = t ? t->partition_count : OFFSETS_TOPIC_PARTITIONS_DEFAULT;
    int32_t h = od_java_string_hash(group);
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    return a % n;
}

od_handler_status od_handle_add_offsets_to_txn(od_rctx *ctx)
{
    const od_add_offsets_to_txn_request *req = ctx->request;
    od_add_offsets_to_txn_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    od_broker_lock(b);
    int16_t e;
    od_tc *tc = od_txn_coordinator(b, &e);
    if (tc) {
        od_tc_topic_partition tp = {OD_STR_LIT("__consumer_offsets"), offsets_partition_for(b, req->group_id)};
        e = od_tc_add_partitions(tc, req->transactional_id, req->producer_id, req->producer_epoch, &tp, 1);
    }
    od_broker_unlock(b);
    if (e == OD_TC_PRODUCER_FENCED && ctx->version < 2)
        e = OD_TC_INVALID_PRODUCER_EPOCH;
    resp->error_code = e;
    return OD_HANDLER_REPLY;
}
