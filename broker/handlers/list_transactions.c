/*
 * ListTransactions: the transactional ids this coordinator holds, filtered
 * by state names (unknown names are echoed in unknown_state_filters and
 * match nothing), producer ids, and (v1+, KIP-994) minimum running time.
 */
#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

od_handler_status od_handle_list_transactions(od_rctx *ctx)
{
    const od_list_transactions_request *req = ctx->request;
    od_list_transactions_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t ns = req->state_filters.count > 0 ? req->state_filters.count : 0;
    od_txn_state *states = OD_ARENA_ARRAY(ctx, od_txn_state, ns);
    od_str *unknown = OD_ARENA_ARRAY(ctx, od_str, ns);
    if (!states || !unknown)
        return OD_HANDLER_CLOSE;
    int32_t known = 0, nunknown = 0;
    for (int32_t i = 0; i < ns; i++) {
        if (od_txn_state_from_name(req->state_filters.items[i], &states[known]))
            known++;
        else
            unknown[nunknown++] = req->state_filters.items[i];
    }
    resp->unknown_state_filters = (od_str_array){nunknown, unknown};
    od_list_transactions_response_transaction_state *items = OD_ARENA_ARRAY(ctx, od_list_transactions_response_transaction_state, 0);
    int32_t count = 0;
    od_broker_lock(b);
    int16_t e = OD_ERR_NONE;
    od_tc *tc = od_txn_coordinator(b, &e);
    if (tc && (ns == 0 || known > 0)) {
        od_tc_txn_info *infos = NULL;
        int32_t n = 0;
        if (od_tc_list(tc, states, known, req->producer_id_filters.items,
                       req->producer_id_filters.count > 0 ? req->producer_id_filters.count : 0,
                       req->duration_filter, ctx->arena, &e, &infos, &n) != 0) {
            od_broker_unlock(b);
            return OD_HANDLER_CLOSE;
        }
        items = OD_ARENA_ARRAY(ctx, od_list_transactions_response_transaction_state, n);
        for (int32_t i = 0; items && i < n; i++) {
            od_list_transactions_response_transaction_state *o = &items[count++];
            od_list_transactions_response_transaction_state_init(o);
            o->transactional_id = infos[i].transactional_id;
            o->producer_id = infos[i].producer_id;
            o->transaction_state = od_str_from_cstr(od_txn_state_name(infos[i].state));
        }
    }
    od_broker_unlock(b);
    if (!items)
        return OD_HANDLER_CLOSE;
    resp->error_code = e;
    resp->transaction_states = (od_list_transactions_response_transaction_state_array){count, items};
    return OD_HANDLER_REPLY;
}
