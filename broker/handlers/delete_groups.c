/*
 * DeleteGroups: each group's offsets and metadata are tombstoned in
 * __consumer_offsets; only an Empty (or offsets-only) group can go
 * (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND when unknown).
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

od_handler_status od_handle_delete_groups(od_rctx *ctx)
{
    const od_delete_groups_request *req = ctx->request;
    od_delete_groups_response *resp = ctx->response;
    int32_t n = req->groups_names.count > 0 ? req->groups_names.count : 0;
    od_delete_groups_response_deletable_group_result *results =
        OD_ARENA_ARRAY(ctx, od_delete_groups_response_deletable_group_result, n);
    if (results == NULL)
        return OD_HANDLER_CLOSE;
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    for (int32_t i = 0; i < n; i++) {
        od_delete_groups_response_deletable_group_result_init(&results[i]);
        results[i].group_id = req->groups_names.items[i];
        if (!od_cg_hook_delete(gs, gc, req->groups_names.items[i], &results[i].error_code))
            results[i].error_code = od_gc_delete_group(gc, req->groups_names.items[i]);
    }
    od_group_service_unlock(gs);
    resp->results = (od_delete_groups_response_deletable_group_result_array){n, results};
    return OD_HANDLER_REPLY;
}
