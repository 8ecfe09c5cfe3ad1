/*
 * JoinGroup: hands the member to the coordinator, which answers when the
 * rebalance completes (a deferred reply), or at once for errors, KIP-394's
 * MEMBER_ID_REQUIRED and static members rejoining a stable group.
 *
 * Request path of a deferred join (docs/architecture.md): the handler,
 * group lock held, calls od_gc_join with on_joined; if the coordinator
 * answers inside that call the reply goes out as a normal REPLY, otherwise
 * the handler returns DEFERRED and the request waits inside the coordinator.
 * The join completes on whichever thread completes the rebalance (the last
 * member's JoinGroup on any network thread, or the group thread when the
 * rebalance timeout or the initial delay fires): on_joined copies the result
 * into this request's arena and od_rctx_reply posts it to the connection's
 * loop.
 *
 * Versions: v0 has no rebalance timeout (Kafka uses the session timeout);
 * v4+ requires a known member id (KIP-394); v9+ may skip assignment; the
 * protocol name of a group without one is null from v7 and "" before, as
 * Kafka's JoinGroupResponse writes it.
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

enum {
    FIRST_VERSION_WITH_REBALANCE_TIMEOUT = 1,
    FIRST_VERSION_REQUIRING_MEMBER_ID = 4,
    FIRST_VERSION_WITH_NULL_PROTOCOL_NAME = 7,
    FIRST_VERSION_SKIPPING_ASSIGNMENT = 9,
};

static void on_joined(void *done_ctx, const od_gc_join_result *res)
{
    od_group_call *call = done_ctx;
    od_rctx *ctx = call->ctx;
    od_join_group_response *resp = ctx->response;
    bool ok = true;
    resp->error_code = res->error;
    resp->generation_id = res->generation_id;
    resp->protocol_type = od_group_copy_str(ctx, res->protocol_type, &ok);
    resp->protocol_name = od_group_copy_str(ctx, res->protocol_name, &ok);
    if (resp->protocol_name.len < 0 && ctx->version < FIRST_VERSION_WITH_NULL_PROTOCOL_NAME)
        resp->protocol_name = OD_STR_LIT("");
    resp->leader = od_group_copy_str(ctx, res->leader, &ok);
    resp->skip_assignment = res->skip_assignment;
    resp->member_id = od_group_copy_str(ctx, res->member_id, &ok);
    int32_t n = res->member_count > 0 ? res->member_count : 0;
    od_join_group_response_join_group_response_member *members =
        OD_ARENA_ARRAY(ctx, od_join_group_response_join_group_response_member, n);
    if (members == NULL) {
        ok = false;
        n = 0;
    }
    for (int32_t i = 0; i < n; i++) {
        od_join_group_response_join_group_response_member *m = &members[i];
        od_join_group_response_join_group_response_member_init(m);
        m->member_id = od_group_copy_str(ctx, res->members[i].member_id, &ok);
        m->group_instance_id = od_group_copy_str(ctx, res->members[i].group_instance_id, &ok);
        m->metadata = od_group_copy_bytes(ctx, res->members[i].metadata, &ok);
    }
    resp->members = (od_join_group_response_join_group_response_member_array){n, members};
    if (!ok) {
        /* Out of request memory: an answer the client can act on. */
        resp->error_code = OD_ERR_UNKNOWN_SERVER_ERROR;
        resp->members = (od_join_group_response_join_group_response_member_array){0, members};
    }
    od_group_call_done(call);
}

od_handler_status od_handle_join_group(od_rctx *ctx)
{
    const od_join_group_request *req = ctx->request;
    od_group_call *call = od_arena_calloc(ctx->arena, 1, sizeof *call);
    int32_t np = req->protocols.count > 0 ? req->protocols.count : 0;
    od_gc_protocol *protocols = OD_ARENA_ARRAY(ctx, od_gc_protocol, np);
    if (call == NULL || protocols == NULL)
        return OD_HANDLER_CLOSE;
    for (int32_t i = 0; i < np; i++)
        protocols[i] = (od_gc_protocol){req->protocols.items[i].name, req->protocols.items[i].metadata};
    call->ctx = ctx;
    od_gc_join_args a = {
        .group_id = req->group_id,
        .member_id = req->member_id,
        .group_instance_id = req->group_instance_id,
        .protocol_type = req->protocol_type,
        .protocols = protocols,
        .protocol_count = np,
        .session_timeout_ms = req->session_timeout_ms,
        .rebalance_timeout_ms = ctx->version < FIRST_VERSION_WITH_REBALANCE_TIMEOUT
                                    ? req->session_timeout_ms
                                    : req->rebalance_timeout_ms,
        .client_id = ctx->header.client_id.len >= 0 ? ctx->header.client_id : OD_STR_LIT(""),
        .client_host = od_group_client_host(ctx),
        .reason = req->reason,
        .require_known_member_id = ctx->version >= FIRST_VERSION_REQUIRING_MEMBER_ID,
        .supports_skip_assignment = ctx->version >= FIRST_VERSION_SKIPPING_ASSIGNMENT,
        .done = on_joined,
        .done_ctx = call,
    };
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    call->in_handler = true;
    od_gc_join_result classic_member;
    int16_t consumer_group = OD_ERR_NONE;
    if (od_cg_hook_classic_join(gs, &a, ctx->arena, &classic_member))
        on_joined(call, &classic_member);
    else if ((consumer_group = od_cg_hook_join(gs, req->group_id)) != OD_ERR_NONE) {
        od_gc_join_result refused = {.error = consumer_group, .generation_id = -1,
                                     .protocol_type = OD_STR_NULL, .protocol_name = OD_STR_NULL,
                                     .leader = OD_STR_LIT(""), .member_id = req->member_id};
        on_joined(call, &refused);
    } else {
        od_gc_join(gc, &a);
    }
    call->in_handler = false;
    bool now = call->answered_inline;
    od_group_service_unlock(gs);
    return now ? OD_HANDLER_REPLY : OD_HANDLER_DEFERRED;
}
