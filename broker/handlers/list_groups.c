/*
 * ListGroups: the groups of every loaded __consumer_offsets partition, with
 * the state filter (v4+) and the type filter (v5+, "classic" only today),
 * both case-insensitive as Kafka's; the decoder leaves absent filters empty.
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

od_handler_status od_handle_list_groups(od_rctx *ctx)
{
    const od_list_groups_request *req = ctx->request;
    od_list_groups_response *resp = ctx->response;
    od_gc_listed_group *found = NULL;
    int32_t n = 0;
    int16_t error = OD_ERR_NONE;
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    int rc = od_gc_list(gc, req->states_filter.items, req->states_filter.count > 0 ? req->states_filter.count : 0,
                        req->types_filter.items, req->types_filter.count > 0 ? req->types_filter.count : 0,
                        ctx->arena, &error, &found, &n);
    if (rc == 0)
        rc = od_cg_hook_list(gs, ctx->arena, req->states_filter.items,
                             req->states_filter.count > 0 ? req->states_filter.count : 0,
                             req->types_filter.items, req->types_filter.count > 0 ? req->types_filter.count : 0,
                             &found, &n);
    od_group_service_unlock(gs);
    if (rc != 0)
        return OD_HANDLER_CLOSE;
    od_list_groups_response_listed_group *groups = OD_ARENA_ARRAY(ctx, od_list_groups_response_listed_group, n);
    if (groups == NULL)
        return OD_HANDLER_CLOSE;
    for (int32_t i = 0; i < n; i++) {
        od_list_groups_response_listed_group_init(&groups[i]);
        groups[i].group_id = found[i].group_id;
        groups[i].protocol_type = found[i].protocol_type;
        groups[i].group_state = found[i].state;
        groups[i].group_type = found[i].group_type;
    }
    resp->error_code = error;
    resp->groups = (od_list_groups_response_listed_group_array){n, groups};
    return OD_HANDLER_REPLY;
}
