/*
 * SyncGroup: the leader brings the assignment, every member gets its own.
 * A follower that arrives before the leader waits inside the coordinator (a
 * deferred reply, completed by the leader's SyncGroup on any network thread
 * or by the group thread when the rebalance is abandoned); the same guard
 * as JoinGroup's (group_util.h) turns an answer given inside the call into
 * a normal REPLY. protocol_type and protocol_name are checked from v5 (the
 * decoder leaves them null before).
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

static void on_synced(void *done_ctx, const od_gc_sync_result *res)
{
    od_group_call *call = done_ctx;
    od_rctx *ctx = call->ctx;
    od_sync_group_response *resp = ctx->response;
    bool ok = true;
    resp->error_code = res->error;
    resp->protocol_type = od_group_copy_str(ctx, res->protocol_type, &ok);
    resp->protocol_name = od_group_copy_str(ctx, res->protocol_name, &ok);
    resp->assignment = od_group_copy_bytes(ctx, res->assignment, &ok);
    if (resp->assignment.len < 0)
        resp->assignment = (od_bytes){(const uint8_t *)"", 0};
    if (!ok) {
        resp->error_code = OD_ERR_UNKNOWN_SERVER_ERROR;
        resp->assignment = (od_bytes){(const uint8_t *)"", 0};
    }
    od_group_call_done(call);
}

od_handler_status od_handle_sync_group(od_rctx *ctx)
{
    const od_sync_group_request *req = ctx->request;
    od_group_call *call = od_arena_calloc(ctx->arena, 1, sizeof *call);
    int32_t n = req->assignments.count > 0 ? req->assignments.count : 0;
    od_gc_assignment *assignments = OD_ARENA_ARRAY(ctx, od_gc_assignment, n);
    if (call == NULL || assignments == NULL)
        return OD_HANDLER_CLOSE;
    for (int32_t i = 0; i < n; i++)
        assignments[i] = (od_gc_assignment){req->assignments.items[i].member_id,
                                            req->assignments.items[i].assignment};
    call->ctx = ctx;
    od_gc_sync_args a = {
        .group_id = req->group_id,
        .generation_id = req->generation_id,
        .member_id = req->member_id,
        .group_instance_id = req->group_instance_id,
        .protocol_type = req->protocol_type,
        .protocol_name = req->protocol_name,
        .assignments = assignments,
        .assignment_count = n,
        .done = on_synced,
        .done_ctx = call,
    };
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    call->in_handler = true;
    od_gc_sync_result classic_member;
    if (od_cg_hook_classic_sync(gs, &a, ctx->arena, &classic_member))
        on_synced(call, &classic_member);
    else
        od_gc_sync(gc, &a);
    call->in_handler = false;
    bool now = call->answered_inline;
    od_group_service_unlock(gs);
    return now ? OD_HANDLER_REPLY : OD_HANDLER_DEFERRED;
}
