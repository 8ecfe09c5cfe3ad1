/*
 * ListGroups: the groups of every loaded __consumer_offsets partition, classic
 * and KIP-848 consumer groups, with the state filter (v4+) and the type
 * filter (v5+), both case-insensitive as Kafka's; the decoder leaves absent
 * filters empty. With the consumer protocol on, Kafka 3.9 runs its new group
 * coordinator, which also trims each state filter (checked over the wire:
 * compat-tests/groups/test_classic_apis_on_consumer_groups.py).
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
    int32_t state_count = req->states_filter.count > 0 ? req->states_filter.count : 0;
    int32_t type_count = req->types_filter.count > 0 ? req->types_filter.count : 0;
    const od_str *states = req->states_filter.items;
    if (ctx->broker->settings.groups.consumer_protocol_enabled)
        states = od_gc_trim_state_filters(states, state_count, ctx->arena);
    if (state_count > 0 && states == NULL)
        return OD_HANDLER_CLOSE;
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    int rc = od_gc_list(gc, states, state_count, req->types_filter.items, type_count, ctx->arena, &error,
                        &found, &n);
    if (rc == 0)
        rc = od_cg_hook_list(gs, ctx->arena, states, state_count, req->types_filter.items, type_count, &found,
                             &n);
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
