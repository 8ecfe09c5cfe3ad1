/*
 * AlterConfigs (legacy): replaces a topic's whole set of overrides. Dynamic
 * broker configs are not supported yet and are refused per resource.
 */
#include "handler_util.h"
#include "handlers.h"

/* The changes are the resource's configs as given: they replace the whole set. */
static const char *replace_changes(od_rctx *ctx, const void *resource, od_config_change *changes,
                                   int32_t count)
{
    (void)ctx;
    const od_alter_configs_request_alter_configs_resource *rr = resource;
    for (int32_t c = 0; changes && c < count; c++)
        changes[c] = (od_config_change){rr->configs.items[c].name, rr->configs.items[c].value};
    return NULL;
}

od_handler_status od_handle_alter_configs(od_rctx *ctx)
{
    const od_alter_configs_request *req = ctx->request;
    od_alter_configs_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t n = req->resources.count > 0 ? req->resources.count : 0;
    od_alter_configs_response_alter_configs_resource_response *out =
        OD_ARENA_ARRAY(ctx, od_alter_configs_response_alter_configs_resource_response, n);
    if (out == NULL)
        return OD_HANDLER_CLOSE;
    od_broker_lock(b);
    for (int32_t i = 0; i < n; i++) {
        const od_alter_configs_request_alter_configs_resource *rr = &req->resources.items[i];
        od_alter_configs_response_alter_configs_resource_response_init(&out[i]);
        out[i].resource_type = rr->resource_type;
        out[i].resource_name = rr->resource_name;
        od_alter_config_resource(ctx, rr->resource_type, rr->resource_name, rr, rr->configs.count,
                                 replace_changes, true, req->validate_only, &out[i].error_code,
                                 &out[i].error_message);
    }
    od_broker_unlock(b);
    resp->responses = (od_alter_configs_response_alter_configs_resource_response_array){n, out};
    return OD_HANDLER_REPLY;
}
