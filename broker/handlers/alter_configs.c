/*
 * AlterConfigs (legacy): replaces a topic's whole set of overrides. Dynamic
 * broker configs are not supported yet and are refused per resource.
 */
#include "handler_util.h"
#include "handlers.h"

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
        if (rr->resource_type != OD_CONFIG_RESOURCE_TOPIC) {
            out[i].error_code = OD_ERR_INVALID_REQUEST;
            out[i].error_message = OD_STR_LIT("Only topic configs can be altered on this broker");
            continue;
        }
        int32_t nc = rr->configs.count > 0 ? rr->configs.count : 0;
        od_config_change *changes = OD_ARENA_ARRAY(ctx, od_config_change, nc);
        for (int32_t c = 0; changes && c < nc; c++)
            changes[c] = (od_config_change){rr->configs.items[c].name, rr->configs.items[c].value};
        const char *message = NULL;
        out[i].error_code = od_broker_alter_topic_configs(b, ctx->arena, rr->resource_name, changes, nc,
                                                          true, req->validate_only, &message);
        out[i].error_message = od_arena_str(ctx, message);
    }
    od_broker_unlock(b);
    resp->responses = (od_alter_configs_response_alter_configs_resource_response_array){n, out};
    return OD_HANDLER_REPLY;
}
