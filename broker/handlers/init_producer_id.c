/*
 * InitProducerId. Without a transactional id: an idempotent producer gets
 * a fresh producer id at epoch 0 from this broker's block; a used-up block
 * is refilled by the controller (a ProducerIdsRecord) on the controller
 * thread, and the request is answered from there. With one: the
 * transaction coordinator answers (epoch bumps, fencing, KIP-360 recovery
 * when the request names its producer id and epoch).
 */
#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

static void answer(od_rctx *ctx, int16_t error_code, int64_t id)
{
    od_init_producer_id_response *resp = ctx->response;
    resp->error_code = error_code;
    if (error_code == OD_ERR_NONE) {
        resp->producer_id = id;
        resp->producer_epoch = 0;
    }
}

static void refill_on_controller(od_ctl_job *job, od_broker *b, od_controller *c, int64_t now_ms)
{
    od_rctx *ctx = ((od_rctx_job *)job)->ctx;
    int64_t id = -1;
    int16_t err = od_broker_refill_producer_ids(b, c, now_ms, ctx->arena, &id);
    answer(ctx, err, id);
    od_rctx_reply(ctx);
}

od_handler_status od_handle_init_producer_id(od_rctx *ctx)
{
    const od_init_producer_id_request *req = ctx->request;
    od_init_producer_id_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    resp->producer_id = -1;
    resp->producer_epoch = -1;
    if (req->transactional_id.len >= 0) {
        /* An open transaction of this id may be aborted here (markers). */
        od_gc *groups = od_txn_lock(b);
        int16_t e;
        od_tc *tc = od_txn_coordinator(b, &e);
        if (tc) {
            od_tc_init_result r = od_tc_init_producer_id(tc, req->transactional_id,
                                                         req->transaction_timeout_ms,
                                                         req->producer_id, req->producer_epoch);
            e = r.error;
            if (e == OD_ERR_NONE) {
                resp->producer_id = r.producer_id;
                resp->producer_epoch = r.producer_epoch;
            }
        }
        /* PRODUCER_FENCED is new in v4; older clients know it as
         * INVALID_PRODUCER_EPOCH (Kafka maps it the same way). */
        if (e == OD_TC_PRODUCER_FENCED && ctx->version < 4)
            e = OD_TC_INVALID_PRODUCER_EPOCH;
        resp->error_code = e;
        od_txn_unlock(b, groups);
        return OD_HANDLER_REPLY;
    }
    od_broker_lock(b);
    int64_t id = -1;
    bool have = od_broker_take_producer_id(b, &id);
    od_broker_unlock(b);
    if (!have)
        return od_defer_to_controller(ctx, refill_on_controller);
    answer(ctx, OD_ERR_NONE, id);
    return OD_HANDLER_REPLY;
}
