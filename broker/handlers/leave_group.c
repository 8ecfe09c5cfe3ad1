/*
 * LeaveGroup: one member (v0-2, by member id) or a batch (v3+, by member id
 * or group instance id). v0-2 responses carry only a top-level error: the
 * member's own error when the group-level one is NONE, as Kafka's
 * LeaveGroupResponse folds it for those versions.
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

enum { FIRST_BATCHED_VERSION = 3 };

od_handler_status od_handle_leave_group(od_rctx *ctx)
{
    const od_leave_group_request *req = ctx->request;
    od_leave_group_response *resp = ctx->response;
    /* v0-2 name one member at the top level; the decoder leaves the batch
     * empty for them. */
    bool batched = ctx->version >= FIRST_BATCHED_VERSION;
    int32_t n = batched ? (req->members.count > 0 ? req->members.count : 0) : 1;
    od_gc_leave_member *members = OD_ARENA_ARRAY(ctx, od_gc_leave_member, n);
    od_leave_group_response_member_response *out =
        OD_ARENA_ARRAY(ctx, od_leave_group_response_member_response, n);
    if (members == NULL || out == NULL)
        return OD_HANDLER_CLOSE;
    if (batched) {
        for (int32_t i = 0; i < n; i++) {
            const od_leave_group_request_member_identity *m = &req->members.items[i];
            members[i] = (od_gc_leave_member){m->member_id, m->group_instance_id, m->reason, 0};
        }
    } else {
        members[0] = (od_gc_leave_member){req->member_id, OD_STR_NULL, OD_STR_NULL, 0};
    }
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    int16_t top;
    if (!od_cg_hook_classic_leave(gs, req->group_id, members, n, ctx->arena, &top))
        top = od_gc_leave(gc, req->group_id, members, n);
    od_group_service_unlock(gs);
    for (int32_t i = 0; i < n; i++) {
        od_leave_group_response_member_response_init(&out[i]);
        out[i].member_id = members[i].member_id;
        out[i].group_instance_id = members[i].group_instance_id;
        out[i].error_code = members[i].error;
    }
    resp->error_code = top;
    if (!batched && top == OD_ERR_NONE)
        resp->error_code = members[0].error;
    /* A group-level error answers for everyone: no member list, as Kafka. */
    resp->members = (od_leave_group_response_member_response_array){batched && top == OD_ERR_NONE ? n : 0, out};
    return OD_HANDLER_REPLY;
}
