/*
 * CreateTopics: the whole request is one controller operation (Kafka's
 * checks and messages, one metadata batch), run on the controller thread;
 * the reply goes out once the batch is durable and the logs are open.
 */
#include "handler_util.h"
#include "handlers.h"

static void create_topics_on_controller(od_ctl_job *job, od_broker *b, od_controller *c,
                                        int64_t now_ms)
{
    (void)b;
    od_rctx *ctx = ((od_rctx_job *)job)->ctx;
    const od_create_topics_request *req = ctx->request;
    od_create_topics_response *resp = ctx->response;
    int32_t n = req->topics.count > 0 ? req->topics.count : 0;
    od_create_topics_response_creatable_topic_result *items =
        OD_ARENA_ARRAY(ctx, od_create_topics_response_creatable_topic_result, n);
    if (items == NULL) {
        od_rctx_no_reply(ctx);
        return;
    }
    od_ctl_topic_result *res = NULL;
    od_kr_err err = od_controller_create_topics(c, req, now_ms, ctx->arena, &res);
    for (int32_t i = 0; i < n; i++) {
        od_create_topics_response_creatable_topic_result *out = &items[i];
        od_create_topics_response_creatable_topic_result_init(out);
        out->name = req->topics.items[i].name;
        out->configs = (od_create_topics_response_creatable_topic_configs_array){0, NULL};
        if (err != OD_KR_OK) {
            out->error_code = od_broker_controller_error(err);
            continue;
        }
        out->error_code = res[i].status.error_code;
        out->error_message = od_ctl_message(&res[i].status);
        if (out->error_code != OD_ERR_NONE)
            continue;
        out->topic_id = res[i].topic_id;
        out->num_partitions = res[i].num_partitions;
        out->replication_factor = res[i].replication_factor;
    }
    resp->topics = (od_create_topics_response_creatable_topic_result_array){n, items};
    od_rctx_reply(ctx);
}

od_handler_status od_handle_create_topics(od_rctx *ctx)
{
    return od_defer_to_controller(ctx, create_topics_on_controller);
}
