/*
 * AddPartitionsToTxn. v0-3 (clients): one transaction; partitions of
 * unknown topics get UNKNOWN_TOPIC_OR_PARTITION and the others
 * OPERATION_NOT_ATTEMPTED, as Kafka answers; otherwise the coordinator's one
 * error goes to every partition. v4+ (KIP-890, brokers): a batch of
 * transactions, each either added or, with verify_only, checked without a
 * change (partitions not in the transaction get INVALID_TXN_STATE).
 */
#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

enum { ERR_OPERATION_NOT_ATTEMPTED = 55 };

typedef od_add_partitions_to_txn_request_add_partitions_to_txn_topic_array topics_in;
typedef od_add_partitions_to_txn_response_add_partitions_to_txn_topic_result topic_out;
typedef od_add_partitions_to_txn_response_add_partitions_to_txn_partition_result part_out;

static bool partition_known(od_broker *b, od_str topic, int32_t partition)
{
    od_broker_topic *t = od_broker_topic_by_name(b, topic);
    return t && od_broker_partition_of(t, partition) != NULL;
}

/* Answers one transaction into *results (arena); lock held. */
static bool one_transaction(od_rctx *ctx, od_tc *tc, int16_t tc_error, od_str id, int64_t pid,
                            int16_t epoch, bool verify_only, const topics_in *topics,
                            od_add_partitions_to_txn_response_add_partitions_to_txn_topic_result_array *results)
{
    od_broker *b = ctx->broker;
    int32_t nt = topics->count > 0 ? topics->count : 0, total = 0;
    for (int32_t i = 0; i < nt; i++)
        total += topics->items[i].partitions.count > 0 ? topics->items[i].partitions.count : 0;
    topic_out *tout = OD_ARENA_ARRAY(ctx, topic_out, nt);
    od_tc_topic_partition *flat = OD_ARENA_ARRAY(ctx, od_tc_topic_partition, total);
    int16_t *errors = OD_ARENA_ARRAY(ctx, int16_t, total);
    if (!tout || !flat || !errors)
        return false;
    bool any_unknown = false;
    int32_t k = 0;
    for (int32_t i = 0; i < nt; i++) {
        for (int32_t j = 0; j < topics->items[i].partitions.count; j++) {
            flat[k] = (od_tc_topic_partition){topics->items[i].name, topics->items[i].partitions.items[j]};
            errors[k] = partition_known(b, flat[k].topic, flat[k].partition)
                            ? OD_ERR_NONE : OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            any_unknown |= errors[k] != OD_ERR_NONE;
            k++;
        }
    }
    if (total == 0) {
        /* Nothing to add (e.g. the v0-3 fields of a batched request). */
    } else if (any_unknown) {
        for (int32_t i = 0; i < total; i++)
            if (errors[i] == OD_ERR_NONE)
                errors[i] = ERR_OPERATION_NOT_ATTEMPTED;
    } else if (!tc) {
        for (int32_t i = 0; i < total; i++)
            errors[i] = tc_error;
    } else if (verify_only) {
        od_tc_verify_partitions(tc, id, pid, epoch, flat, total, errors);
    } else {
        int16_t e = od_tc_add_partitions(tc, id, pid, epoch, flat, total);
        if (e == OD_TC_PRODUCER_FENCED && ctx->version < 2)
            e = OD_TC_INVALID_PRODUCER_EPOCH; /* older clients' name for it */
        for (int32_t i = 0; i < total; i++)
            errors[i] = e;
    }
    k = 0;
    for (int32_t i = 0; i < nt; i++) {
        topic_out *to = &tout[i];
        od_add_partitions_to_txn_response_add_partitions_to_txn_topic_result_init(to);
        to->name = topics->items[i].name;
        int32_t np = topics->items[i].partitions.count > 0 ? topics->items[i].partitions.count : 0;
        part_out *parts = OD_ARENA_ARRAY(ctx, part_out, np);
        if (!parts)
            return false;
        for (int32_t j = 0; j < np; j++, k++) {
            od_add_partitions_to_txn_response_add_partitions_to_txn_partition_result_init(&parts[j]);
            parts[j].partition_index = flat[k].partition;
            parts[j].partition_error_code = errors[k];
        }
        to->results_by_partition =
            (od_add_partitions_to_txn_response_add_partitions_to_txn_partition_result_array){np, parts};
    }
    *results = (od_add_partitions_to_txn_response_add_partitions_to_txn_topic_result_array){nt, tout};
    return true;
}

od_handler_status od_handle_add_partitions_to_txn(od_rctx *ctx)
{
    const od_add_partitions_to_txn_request *req = ctx->request;
    od_add_partitions_to_txn_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    od_broker_lock(b);
    int16_t tc_error;
    od_tc *tc = od_txn_coordinator(b, &tc_error);
    bool ok = one_transaction(ctx, tc, tc_error, req->v3_and_below_transactional_id,
                              req->v3_and_below_producer_id, req->v3_and_below_producer_epoch, false,
                              &req->v3_and_below_topics, &resp->results_by_topic_v3_and_below);
    int32_t n = req->transactions.count > 0 ? req->transactions.count : 0;
    od_add_partitions_to_txn_response_add_partitions_to_txn_result *txns =
        OD_ARENA_ARRAY(ctx, od_add_partitions_to_txn_response_add_partitions_to_txn_result, n);
    ok = ok && txns;
    for (int32_t i = 0; ok && i < n; i++) {
        const od_add_partitions_to_txn_request_add_partitions_to_txn_transaction *t = &req->transactions.items[i];
        od_add_partitions_to_txn_response_add_partitions_to_txn_result_init(&txns[i]);
        txns[i].transactional_id = t->transactional_id;
        ok = one_transaction(ctx, tc, tc_error, t->transactional_id, t->producer_id, t->producer_epoch,
                             t->verify_only, &t->topics, &txns[i].topic_results);
    }
    od_broker_unlock(b);
    if (!ok)
        return OD_HANDLER_CLOSE;
    resp->results_by_transaction =
        (od_add_partitions_to_txn_response_add_partitions_to_txn_result_array){n, txns};
    return OD_HANDLER_REPLY;
}
