/*
 * ApiVersions: the APIs the dispatch table implements, and the features.
 */
#include "handler_util.h"
#include "handlers.h"

/* Kafka's rule for client software names and versions (KIP-511): starts and
 * ends with an alphanumeric, with alphanumerics, '-' and '.' between. */
static bool software_text_valid(od_str s)
{
    if (s.len <= 0)
        return false;
    for (int32_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        bool edge = i == 0 || i == s.len - 1;
        if (!alnum && (edge || (c != '-' && c != '.')))
            return false;
    }
    return true;
}

typedef struct feature_range {
    const char *name;
    int16_t min, max;
} feature_range;

/* What Kafka 3.9 supports. kraft.version 1 (dynamic quorums) exists, but a
 * static voter set finalizes nothing for it. */
static const feature_range supported[] = {
    {"kraft.version", 0, 1},
    {"metadata.version", 1, 21},
};

od_handler_status od_handle_api_versions(od_rctx *ctx)
{
    const od_api_versions_request *req = ctx->request;
    od_api_versions_response *resp = ctx->response;
    /* The software fields arrive from v3; older versions leave them empty
     * and are not checked. */
    if (ctx->version >= 3 &&
        (!software_text_valid(req->client_software_name) ||
         !software_text_valid(req->client_software_version))) {
        resp->error_code = OD_ERR_INVALID_REQUEST;
        return OD_HANDLER_REPLY;
    }
    resp->api_keys = od_dispatch_api_versions_for(ctx);
    if (resp->api_keys.items == NULL)
        return OD_HANDLER_CLOSE;

    int32_t n = 0;
    od_api_versions_response_supported_feature_key *sf =
        OD_ARENA_ARRAY(ctx, od_api_versions_response_supported_feature_key,
                       (int32_t)(sizeof supported / sizeof supported[0]));
    for (size_t i = 0; sf && i < sizeof supported / sizeof supported[0]; i++) {
        /* Before v4 a client cannot parse a supported range starting at 0
         * (KAFKA-17011), so such features are left out for it. */
        if (ctx->version < 4 && supported[i].min == 0)
            continue;
        od_api_versions_response_supported_feature_key_init(&sf[n]);
        sf[n].name = od_str_from_cstr(supported[i].name);
        sf[n].min_version = supported[i].min;
        sf[n].max_version = supported[i].max;
        n++;
    }
    resp->supported_features = (od_api_versions_response_supported_feature_key_array){n, sf};

    od_broker *b = ctx->broker;
    if (b != NULL) {
        od_broker_lock(b);
        size_t fc = od_mimage_feature_count(b->image);
        od_api_versions_response_finalized_feature_key *ff =
            OD_ARENA_ARRAY(ctx, od_api_versions_response_finalized_feature_key, (int32_t)fc);
        int32_t m = 0;
        for (size_t i = 0; ff && i < fc; i++) {
            const od_mi_feature *f = od_mimage_feature_at(b->image, i);
            od_api_versions_response_finalized_feature_key_init(&ff[m]);
            ff[m].name = od_arena_str(ctx, f->name);
            ff[m].max_version_level = f->level;
            ff[m].min_version_level = f->level;
            m++;
        }
        resp->finalized_features = (od_api_versions_response_finalized_feature_key_array){m, ff};
        resp->finalized_features_epoch = od_mimage_last_offset(b->image);
        od_broker_unlock(b);
    }
    return OD_HANDLER_REPLY;
}
