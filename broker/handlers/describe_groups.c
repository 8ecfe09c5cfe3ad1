/*
 * DescribeGroups: state, protocol and members of each group. An unknown
 * group is "Dead" with no error, as Kafka answers; member metadata and
 * assignments are filled only while the group is Stable. With no authorizer
 * every group operation is allowed (v3+, when asked).
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

/* Kafka's AclOperation codes a Group resource supports: READ, DELETE,
 * DESCRIBE. */
static const int32_t group_operations = (1 << 3) | (1 << 6) | (1 << 8);
/* Kafka's "not requested" value for authorized_operations. */
static const int32_t operations_not_requested = INT32_MIN;

od_handler_status od_handle_describe_groups(od_rctx *ctx)
{
    const od_describe_groups_request *req = ctx->request;
    od_describe_groups_response *resp = ctx->response;
    int32_t n = req->groups.count > 0 ? req->groups.count : 0;
    od_describe_groups_response_described_group *out =
        OD_ARENA_ARRAY(ctx, od_describe_groups_response_described_group, n);
    od_gc_group_summary *summaries = OD_ARENA_ARRAY(ctx, od_gc_group_summary, n);
    if (out == NULL || summaries == NULL)
        return OD_HANDLER_CLOSE;
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    int rc = 0;
    for (int32_t i = 0; i < n && rc == 0; i++)
        if (!od_cg_hook_describe(gs, req->groups.items[i], &summaries[i]))
            rc = od_gc_describe(gc, req->groups.items[i], ctx->arena, &summaries[i]);
    od_group_service_unlock(gs);
    if (rc != 0)
        return OD_HANDLER_CLOSE;
    for (int32_t i = 0; i < n; i++) {
        const od_gc_group_summary *s = &summaries[i];
        od_describe_groups_response_described_group *g = &out[i];
        od_describe_groups_response_described_group_init(g);
        g->error_code = s->error;
        g->group_id = req->groups.items[i];
        g->group_state = s->state;
        g->protocol_type = s->protocol_type;
        g->protocol_data = s->protocol_data;
        g->authorized_operations = req->include_authorized_operations ? group_operations
                                                                      : operations_not_requested;
        od_describe_groups_response_described_group_member *members =
            OD_ARENA_ARRAY(ctx, od_describe_groups_response_described_group_member, s->member_count);
        if (members == NULL)
            return OD_HANDLER_CLOSE;
        for (int32_t j = 0; j < s->member_count; j++) {
            od_describe_groups_response_described_group_member *m = &members[j];
            od_describe_groups_response_described_group_member_init(m);
            m->member_id = s->members[j].member_id;
            m->group_instance_id = s->members[j].group_instance_id;
            m->client_id = s->members[j].client_id;
            m->client_host = s->members[j].client_host;
            m->member_metadata = s->members[j].metadata;
            m->member_assignment = s->members[j].assignment;
        }
        g->members = (od_describe_groups_response_described_group_member_array){s->member_count, members};
    }
    resp->groups = (od_describe_groups_response_described_group_array){n, out};
    return OD_HANDLER_REPLY;
}
