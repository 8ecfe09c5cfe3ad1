/*
 * DescribeConfigs for topics and this broker, with Kafka's values, sources,
 * synonyms and flags (from the config module through config_bridge.h).
 */
#include "handler_util.h"
#include "handlers.h"

enum { SOURCE_DEFAULT_CONFIG = 5 };

od_handler_status od_handle_describe_configs(od_rctx *ctx)
{
    const od_describe_configs_request *req = ctx->request;
    od_describe_configs_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t n = req->resources.count > 0 ? req->resources.count : 0;
    od_describe_configs_response_describe_configs_result *results =
        OD_ARENA_ARRAY(ctx, od_describe_configs_response_describe_configs_result, n);
    if (results == NULL)
        return OD_HANDLER_CLOSE;
    od_broker_lock(b);
    for (int32_t i = 0; i < n; i++) {
        const od_describe_configs_request_describe_configs_resource *rr = &req->resources.items[i];
        od_describe_configs_response_describe_configs_result *out = &results[i];
        od_describe_configs_response_describe_configs_result_init(out);
        out->resource_type = rr->resource_type;
        out->resource_name = rr->resource_name;
        od_described_config *items = NULL;
        int32_t count = 0;
        const char *message = NULL;
        bool all = rr->configuration_keys.count < 0;
        out->error_code = od_broker_describe_configs(b, ctx->arena, rr->resource_type, rr->resource_name,
                                                     all ? NULL : rr->configuration_keys.items,
                                                     all ? 0 : rr->configuration_keys.count,
                                                     req->include_synonyms, &items, &count, &message);
        if (out->error_code != OD_ERR_NONE) {
            out->error_message = od_arena_str(ctx, message);
            out->configs = (od_describe_configs_response_describe_configs_resource_result_array){0, NULL};
            continue;
        }
        od_describe_configs_response_describe_configs_resource_result *cfgs =
            OD_ARENA_ARRAY(ctx, od_describe_configs_response_describe_configs_resource_result, count);
        for (int32_t c = 0; cfgs && c < count; c++) {
            const od_described_config *d = &items[c];
            od_describe_configs_response_describe_configs_resource_result *o = &cfgs[c];
            od_describe_configs_response_describe_configs_resource_result_init(o);
            o->name = od_str_from_cstr(d->name);
            o->value = d->value ? od_str_from_cstr(d->value) : OD_STR_NULL;
            o->read_only = d->read_only;
            o->is_sensitive = d->sensitive;
            o->config_source = d->source;
            o->config_type = d->type;
            o->documentation = OD_STR_NULL;
            /* v0 predates config sources: its one bit says "default or not". */
            if (ctx->version == 0)
                o->is_default = d->source == SOURCE_DEFAULT_CONFIG;
            od_describe_configs_response_describe_configs_synonym *syn =
                OD_ARENA_ARRAY(ctx, od_describe_configs_response_describe_configs_synonym, d->synonym_count);
            int32_t ns = 0;
            for (int32_t s = 0; syn && req->include_synonyms && s < d->synonym_count; s++) {
                od_describe_configs_response_describe_configs_synonym_init(&syn[ns]);
                syn[ns].name = od_str_from_cstr(d->synonyms[s].name);
                syn[ns].value = d->synonyms[s].value ? od_str_from_cstr(d->synonyms[s].value) : OD_STR_NULL;
                syn[ns].source = d->synonyms[s].source;
                ns++;
            }
            o->synonyms = (od_describe_configs_response_describe_configs_synonym_array){ns, syn};
        }
        out->configs = (od_describe_configs_response_describe_configs_resource_result_array){cfgs ? count : 0, cfgs};
    }
    od_broker_unlock(b);
    resp->results = (od_describe_configs_response_describe_configs_result_array){n, results};
    return OD_HANDLER_REPLY;
}
