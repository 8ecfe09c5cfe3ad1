/*
 * DeleteTopics: by name (every version) or by id (v6+ entries without a name).
 */
#include "handler_util.h"
#include "handlers.h"

static void delete_one(od_rctx *ctx, od_delete_topics_response_deletable_topic_result *out,
                       od_str name, const od_uuid *id)
{
    od_broker *b = ctx->broker;
    od_delete_topics_response_deletable_topic_result_init(out);
    out->name = name;
    od_broker_topic *t = name.len >= 0 ? od_broker_topic_by_name(b, name) : od_broker_topic_by_id(b, id);
    if (t == NULL) {
        out->error_code = name.len >= 0 ? OD_ERR_UNKNOWN_TOPIC_OR_PARTITION : OD_ERR_UNKNOWN_TOPIC_ID;
        if (id != NULL)
            out->topic_id = *id;
        return;
    }
    out->name = od_arena_str(ctx, t->name);
    out->topic_id = t->id;
    if (!b->settings.delete_topic_enable) {
        out->error_code = OD_ERR_TOPIC_DELETION_DISABLED;
        return;
    }
    out->error_code = od_broker_delete_topic(b, t);
}

od_handler_status od_handle_delete_topics(od_rctx *ctx)
{
    const od_delete_topics_request *req = ctx->request;
    od_delete_topics_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    /* v0-5 name topics in topic_names, v6+ in topics; a version carries one. */
    int32_t by_name = req->topic_names.count > 0 ? req->topic_names.count : 0;
    int32_t by_state = req->topics.count > 0 ? req->topics.count : 0;
    od_delete_topics_response_deletable_topic_result *items =
        OD_ARENA_ARRAY(ctx, od_delete_topics_response_deletable_topic_result, by_name + by_state);
    if (items == NULL)
        return OD_HANDLER_CLOSE;
    od_broker_lock(b);
    for (int32_t i = 0; i < by_name; i++)
        delete_one(ctx, &items[i], req->topic_names.items[i], NULL);
    for (int32_t i = 0; i < by_state; i++)
        delete_one(ctx, &items[by_name + i], req->topics.items[i].name, &req->topics.items[i].topic_id);
    od_broker_unlock(b);
    resp->responses = (od_delete_topics_response_deletable_topic_result_array){by_name + by_state, items};
    return OD_HANDLER_REPLY;
}
