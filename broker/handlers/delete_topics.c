/*
 * DeleteTopics: by name (every version) or by id (v6+ entries without a
 * name), as one controller operation on the controller thread, inside a
 * group commit (answered once the group's fsync covered it).
 */
#include "handler_util.h"
#include "handlers.h"

/* The operation's outcome, kept from run to committed. */
typedef struct delete_topics_job {
    od_rctx_job base;
    od_kr_err err;
    od_ctl_topic_result *res;
    int32_t count;
} delete_topics_job;

static void delete_topics_on_controller(od_ctl_job *job, od_broker *b, od_controller *c,
                                        int64_t now_ms)
{
    (void)b;
    delete_topics_job *dj = (delete_topics_job *)job;
    od_rctx *ctx = dj->base.ctx;
    dj->err = od_controller_delete_topics(c, ctx->request, now_ms, ctx->arena, &dj->res, &dj->count);
}

/* After the group's fsync: a failed group commit makes every result unknown. */
static void delete_topics_committed(od_ctl_job *job, od_broker *b, int group_err)
{
    (void)b;
    delete_topics_job *dj = (delete_topics_job *)job;
    od_rctx *ctx = dj->base.ctx;
    od_kr_err err = dj->err != OD_KR_OK ? dj->err : (od_kr_err)group_err;
    const od_delete_topics_request *req = ctx->request;
    od_delete_topics_response *resp = ctx->response;
    /* v0-5 name topics in topic_names, v6+ in topics; a version carries one. */
    int32_t by_name = req->topic_names.count > 0 ? req->topic_names.count : 0;
    int32_t by_state = req->topics.count > 0 ? req->topics.count : 0;
    od_delete_topics_response_deletable_topic_result *items =
        OD_ARENA_ARRAY(ctx, od_delete_topics_response_deletable_topic_result, by_name + by_state);
    if (items == NULL) {
        od_rctx_no_reply(ctx);
        return;
    }
    const od_ctl_topic_result *res = dj->res;
    for (int32_t i = 0; i < by_name + by_state; i++) {
        od_delete_topics_response_deletable_topic_result *out = &items[i];
        od_delete_topics_response_deletable_topic_result_init(out);
        if (i < by_name) {
            out->name = req->topic_names.items[i];
        } else {
            out->name = req->topics.items[i - by_name].name;
            out->topic_id = req->topics.items[i - by_name].topic_id;
        }
        if (err != OD_KR_OK || i >= dj->count) {
            out->error_code = od_broker_controller_error(err != OD_KR_OK ? err : OD_KR_INVALID);
            continue;
        }
        if (res[i].name.len >= 0)
            out->name = res[i].name;
        if (!od_uuid_is_zero(&res[i].topic_id))
            out->topic_id = res[i].topic_id;
        out->error_code = res[i].status.error_code;
        out->error_message = od_ctl_message(&res[i].status);
    }
    resp->responses =
        (od_delete_topics_response_deletable_topic_result_array){by_name + by_state, items};
    od_rctx_reply(ctx);
}

od_handler_status od_handle_delete_topics(od_rctx *ctx)
{
    const od_delete_topics_request *req = ctx->request;
    od_delete_topics_response *resp = ctx->response;
    if (ctx->broker->settings.delete_topic_enable)
        return od_defer_to_controller_grouped(ctx, sizeof(delete_topics_job),
                                              delete_topics_on_controller, delete_topics_committed);
    /* delete.topic.enable=false: every topic is refused, nothing is written. */
    int32_t by_name = req->topic_names.count > 0 ? req->topic_names.count : 0;
    int32_t by_state = req->topics.count > 0 ? req->topics.count : 0;
    od_delete_topics_response_deletable_topic_result *items =
        OD_ARENA_ARRAY(ctx, od_delete_topics_response_deletable_topic_result, by_name + by_state);
    if (items == NULL)
        return OD_HANDLER_CLOSE;
    for (int32_t i = 0; i < by_name + by_state; i++) {
        od_delete_topics_response_deletable_topic_result_init(&items[i]);
        if (i < by_name) {
            items[i].name = req->topic_names.items[i];
        } else {
            items[i].name = req->topics.items[i - by_name].name;
            items[i].topic_id = req->topics.items[i - by_name].topic_id;
        }
        items[i].error_code = OD_ERR_TOPIC_DELETION_DISABLED;
    }
    resp->responses =
        (od_delete_topics_response_deletable_topic_result_array){by_name + by_state, items};
    return OD_HANDLER_REPLY;
}
