/*
 * CreateTopics: the whole request is one controller operation (Kafka's
 * checks and messages, one metadata batch), run on the controller thread
 * inside a group commit; the reply goes out once the group's fsync covered
 * the batch and the logs are open.
 */
#include "handler_util.h"
#include "handlers.h"

/* The operation's outcome, kept from run to committed. */
typedef struct create_topics_job {
    od_rctx_job base;
    od_kr_err err;
    od_ctl_topic_result *res;
} create_topics_job;

static void create_topics_on_controller(od_ctl_job *job, od_broker *b, od_controller *c,
                                        int64_t now_ms)
{
    (void)b;
    create_topics_job *cj = (create_topics_job *)job;
    od_rctx *ctx = cj->base.ctx;
    cj->err = od_controller_create_topics(c, ctx->request, now_ms, ctx->arena, &cj->res);
}

/* After the group's fsync: a failed group commit makes every result unknown. */
static void create_topics_committed(od_ctl_job *job, od_broker *b, int group_err)
{
    (void)b;
    create_topics_job *cj = (create_topics_job *)job;
    od_rctx *ctx = cj->base.ctx;
    od_kr_err err = cj->err != OD_KR_OK ? cj->err : (od_kr_err)group_err;
    const od_create_topics_request *req = ctx->request;
    od_create_topics_response *resp = ctx->response;
    int32_t n = req->topics.count > 0 ? req->topics.count : 0;
    od_create_topics_response_creatable_topic_result *items =
        OD_ARENA_ARRAY(ctx, od_create_topics_response_creatable_topic_result, n);
    if (items == NULL) {
        od_rctx_no_reply(ctx);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        od_create_topics_response_creatable_topic_result *out = &items[i];
        od_create_topics_response_creatable_topic_result_init(out);
        out->name = req->topics.items[i].name;
        out->configs = (od_create_topics_response_creatable_topic_configs_array){0, NULL};
        if (err != OD_KR_OK) {
            out->error_code = od_broker_controller_error(err);
            continue;
        }
        const od_ctl_topic_result *r = &cj->res[i];
        out->error_code = r->status.error_code;
        out->error_message = od_ctl_message(&r->status);
        if (out->error_code != OD_ERR_NONE)
            continue;
        out->topic_id = r->topic_id;
        out->num_partitions = r->num_partitions;
        out->replication_factor = r->replication_factor;
    }
    resp->topics = (od_create_topics_response_creatable_topic_result_array){n, items};
    od_rctx_reply(ctx);
}

od_handler_status od_handle_create_topics(od_rctx *ctx)
{
    return od_defer_to_controller_grouped(ctx, sizeof(create_topics_job), create_topics_on_controller,
                                          create_topics_committed);
}
