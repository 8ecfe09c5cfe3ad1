/*
 * IncrementalAlterConfigs: SET and DELETE on a topic's overrides (APPEND and
 * SUBTRACT on list-valued keys too). Dynamic broker configs are not
 * supported yet and are refused per resource.
 */
#include <stdio.h>
#include <stdlib.h>

#include "handler_util.h"
#include "handlers.h"

enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3 };

/* The list value after APPEND or SUBTRACT of comma-separated items. */
static od_str edit_list(od_rctx *ctx, const char *current, od_str change, bool append)
{
    size_t cap = (current ? strlen(current) : 0) + (size_t)(change.len > 0 ? change.len : 0) + 2;
    char *out = od_arena_alloc(ctx->arena, cap);
    if (out == NULL)
        return OD_STR_NULL;
    out[0] = '\0';
    size_t len = 0;
    char *cur = current ? od_arena_alloc(ctx->arena, strlen(current) + 1) : NULL;
    if (cur)
        strcpy(cur, current);
    for (char *save = NULL, *item = cur ? strtok_r(cur, ",", &save) : NULL; item; item = strtok_r(NULL, ",", &save)) {
        bool removed = false;
        if (!append) {
            const char *p = change.ptr;
            const char *end = change.ptr + (change.len > 0 ? change.len : 0);
            while (p < end) {
                const char *comma = memchr(p, ',', (size_t)(end - p));
                const char *stop = comma ? comma : end;
                removed |= (size_t)(stop - p) == strlen(item) && memcmp(p, item, strlen(item)) == 0;
                p = comma ? comma + 1 : end;
            }
        }
        if (removed)
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "", item);
    }
    if (append && change.len > 0)
        len += (size_t)snprintf(out + len, cap - len, "%s%.*s", len ? "," : "", change.len, change.ptr);
    return (od_str){out, (int32_t)len};
}

/* Each change from its operation on the topic's current value. */
static const char *incremental_changes(od_rctx *ctx, const void *resource, od_config_change *changes,
                                       int32_t nc)
{
    const od_incremental_alter_configs_request_alter_configs_resource *rr = resource;
    od_broker *b = ctx->broker;
    bool bad = changes == NULL;
    char topic[256];
    snprintf(topic, sizeof topic, "%.*s", rr->resource_name.len > 0 ? rr->resource_name.len : 0,
             rr->resource_name.ptr ? rr->resource_name.ptr : "");
    for (int32_t c = 0; !bad && c < nc; c++) {
        const od_incremental_alter_configs_request_alterable_config *ac = &rr->configs.items[c];
        char key[256];
        snprintf(key, sizeof key, "%.*s", ac->name.len > 0 ? ac->name.len : 0, ac->name.ptr ? ac->name.ptr : "");
        const char *current = od_mimage_config(b->image, OD_CONFIG_RESOURCE_TOPIC, topic, key);
        changes[c].name = ac->name;
        switch (ac->config_operation) {
        case OP_SET:
            changes[c].value = ac->value;
            break;
        case OP_DELETE:
            changes[c].value = OD_STR_NULL;
            break;
        case OP_APPEND:
        case OP_SUBTRACT:
            changes[c].value = edit_list(ctx, current, ac->value, ac->config_operation == OP_APPEND);
            break;
        default:
            bad = true;
        }
    }
    return bad ? "Unknown config operation" : NULL;
}

od_handler_status od_handle_incremental_alter_configs(od_rctx *ctx)
{
    const od_incremental_alter_configs_request *req = ctx->request;
    od_incremental_alter_configs_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t n = req->resources.count > 0 ? req->resources.count : 0;
    od_incremental_alter_configs_response_alter_configs_resource_response *out =
        OD_ARENA_ARRAY(ctx, od_incremental_alter_configs_response_alter_configs_resource_response, n);
    if (out == NULL)
        return OD_HANDLER_CLOSE;
    od_broker_lock(b);
    for (int32_t i = 0; i < n; i++) {
        const od_incremental_alter_configs_request_alter_configs_resource *rr = &req->resources.items[i];
        od_incremental_alter_configs_response_alter_configs_resource_response_init(&out[i]);
        out[i].resource_type = rr->resource_type;
        out[i].resource_name = rr->resource_name;
        od_alter_config_resource(ctx, rr->resource_type, rr->resource_name, rr, rr->configs.count,
                                 incremental_changes, false, req->validate_only, &out[i].error_code,
                                 &out[i].error_message);
    }
    od_broker_unlock(b);
    resp->responses =
        (od_incremental_alter_configs_response_alter_configs_resource_response_array){n, out};
    return OD_HANDLER_REPLY;
}
