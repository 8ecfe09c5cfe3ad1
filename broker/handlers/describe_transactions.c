/*
 * DescribeTransactions: the coordinator's view of each transactional id
 * (state, producer id and epoch, timeout, start time, partitions).
 */
#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

typedef od_describe_transactions_response_transaction_state state_out;
typedef od_describe_transactions_response_topic_data topic_out;

/* Partitions grouped by topic, topics in the order they joined. */
static bool fill_topics(od_rctx *ctx, const od_tc_txn_info *info, state_out *o)
{
    topic_out *topics = OD_ARENA_ARRAY(ctx, topic_out, info->part_count);
    int32_t *ids = OD_ARENA_ARRAY(ctx, int32_t, info->part_count);
    if (!topics || !ids)
        return false;
    int32_t nt = 0, used = 0;
    for (int32_t i = 0; i < info->part_count; i++) {
        bool seen = false;
        for (int32_t k = 0; k < i && !seen; k++)
            seen = od_str_eq(info->parts[k].topic, info->parts[i].topic);
        if (seen)
            continue;
        topic_out *t = &topics[nt++];
        od_describe_transactions_response_topic_data_init(t);
        t->topic = info->parts[i].topic;
        int32_t first = used;
        for (int32_t k = i; k < info->part_count; k++)
            if (od_str_eq(info->parts[k].topic, info->parts[i].topic))
                ids[used++] = info->parts[k].partition;
        t->partitions = (od_int32_array){used - first, ids + first};
    }
    o->topics = (od_describe_transactions_response_topic_data_array){nt, topics};
    return true;
}

od_handler_status od_handle_describe_transactions(od_rctx *ctx)
{
    const od_describe_transactions_request *req = ctx->request;
    od_describe_transactions_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t n = req->transactional_ids.count > 0 ? req->transactional_ids.count : 0;
    state_out *items = OD_ARENA_ARRAY(ctx, state_out, n);
    if (!items)
        return OD_HANDLER_CLOSE;
    bool ok = true;
    od_broker_lock(b);
    int16_t tc_error;
    od_tc *tc = od_txn_coordinator(b, &tc_error);
    for (int32_t i = 0; ok && i < n; i++) {
        state_out *o = &items[i];
        od_describe_transactions_response_transaction_state_init(o);
        o->transactional_id = req->transactional_ids.items[i];
        od_tc_txn_info info;
        int16_t e = tc ? od_tc_describe(tc, o->transactional_id, ctx->arena, &info) : tc_error;
        o->error_code = e;
        if (e != OD_ERR_NONE)
            continue;
        o->transaction_state = od_str_from_cstr(od_txn_state_name(info.state));
        o->transaction_timeout_ms = info.timeout_ms;
        o->transaction_start_time_ms = info.start_ms;
        o->producer_id = info.producer_id;
        o->producer_epoch = info.producer_epoch;
        ok = fill_topics(ctx, &info, o);
    }
    od_broker_unlock(b);
    if (!ok)
        return OD_HANDLER_CLOSE;
    resp->transaction_states = (od_describe_transactions_response_transaction_state_array){n, items};
    return OD_HANDLER_REPLY;
}
