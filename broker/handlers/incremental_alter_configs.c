/*
 * IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT as one
 * controller operation on the controller thread, for topics and for
 * dynamic broker configs (the broker's validation hook applies Kafka's
 * rules to each, broker_configs.c).
 */
#include "handler_util.h"
#include "handlers.h"

static void alter_on_controller(od_ctl_job *job, od_broker *b, od_controller *c, int64_t now_ms)
{
    od_rctx *ctx = ((od_rctx_job *)job)->ctx;
    const od_incremental_alter_configs_request *req = ctx->request;
    od_incremental_alter_configs_response *resp = ctx->response;
    int32_t n = req->resources.count > 0 ? req->resources.count : 0;
    od_incremental_alter_configs_response_alter_configs_resource_response *out =
        OD_ARENA_ARRAY(ctx, od_incremental_alter_configs_response_alter_configs_resource_response, n);
    if (out == NULL) {
        od_rctx_no_reply(ctx);
        return;
    }
    /* Kafka's broker answers for a BROKER resource naming another node
     * itself; the rest go to the controller as one operation. */
    const char **refusal = OD_ARENA_ARRAY(ctx, const char *, n);
    int16_t *refused = OD_ARENA_ARRAY(ctx, int16_t, n);
    od_incremental_alter_configs_request_alter_configs_resource *kept = OD_ARENA_ARRAY(ctx, od_incremental_alter_configs_request_alter_configs_resource, n);
    if (refusal == NULL || refused == NULL || kept == NULL) {
        od_rctx_no_reply(ctx);
        return;
    }
    int32_t nkept = 0;
    for (int32_t i = 0; i < n; i++) {
        const od_incremental_alter_configs_request_alter_configs_resource *rr = &req->resources.items[i];
        refused[i] = rr->resource_type == OD_CONFIG_RESOURCE_BROKER
                         ? od_broker_check_config_node(b, ctx->arena, rr->resource_name, false, &refusal[i])
                         : OD_ERR_NONE;
        if (refused[i] == OD_ERR_NONE)
            kept[nkept++] = *rr;
    }
    od_incremental_alter_configs_request forwarded = *req;
    forwarded.resources.items = kept;
    forwarded.resources.count = nkept;
    od_ctl_resource_result *res = NULL;
    od_kr_err err = od_controller_incremental_alter_configs(c, &forwarded, now_ms, ctx->arena, &res);
    for (int32_t i = 0, k = 0; i < n; i++) {
        const od_incremental_alter_configs_request_alter_configs_resource *rr = &req->resources.items[i];
        od_incremental_alter_configs_response_alter_configs_resource_response_init(&out[i]);
        out[i].resource_type = rr->resource_type;
        out[i].resource_name = rr->resource_name;
        if (refused[i] != OD_ERR_NONE) {
            out[i].error_code = refused[i];
            out[i].error_message = od_str_from_cstr(refusal[i]);
            continue;
        }
        if (err != OD_KR_OK) {
            out[i].error_code = od_broker_controller_error(err);
            continue;
        }
        out[i].error_code = res[k].status.error_code;
        out[i].error_message = od_ctl_message(&res[k].status);
        k++;
    }
    resp->responses =
        (od_incremental_alter_configs_response_alter_configs_resource_response_array){n, out};
    od_rctx_reply(ctx);
}

od_handler_status od_handle_incremental_alter_configs(od_rctx *ctx)
{
    return od_defer_to_controller(ctx, alter_on_controller);
}
