/*
 * OffsetFetch: committed offsets of one group (v0-7) or of several (v8+),
 * for the partitions named or, when the topic list is null (v2+), for all
 * the group committed. A group or partition with no commit gets offset -1,
 * no error, as Kafka answers.
 *
 * Group-level errors (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ...)
 * go in the top-level error from v2 and in each group from v8; v0-1 have no
 * such field, so, as Kafka's OffsetFetchResponse does, the error is put on
 * every requested partition.
 *
 * v9 names the member asking (member id and epoch): for a KIP-848 group it
 * must be a member at its current epoch (UNKNOWN_MEMBER_ID,
 * STALE_MEMBER_EPOCH at the group level), unless the id is null and the
 * epoch -1, as for every earlier version.
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

enum { FIRST_VERSION_WITH_GROUP_ERROR = 2 };

/* One topic of the answer, before it takes a version's struct. */
typedef struct fetched_topic {
    od_str name;
    od_gc_offset_fetch *parts;
    int32_t count, cap;
} fetched_topic;

typedef struct fetched_group {
    int16_t error;
    fetched_topic *topics;
    int32_t count;
} fetched_group;

/* Groups the coordinator's flat list (all committed offsets) by topic. */
static int group_by_topic(od_rctx *ctx, od_gc_offset_fetch *all, int32_t n, fetched_group *out)
{
    out->topics = OD_ARENA_ARRAY(ctx, fetched_topic, n);
    if (out->topics == NULL)
        return -1;
    out->count = 0;
    for (int32_t i = 0; i < n; i++) {
        fetched_topic *t = NULL;
        for (int32_t j = 0; j < out->count && t == NULL; j++)
            if (od_str_eq(out->topics[j].name, all[i].topic))
                t = &out->topics[j];
        if (t == NULL) {
            t = &out->topics[out->count++];
            *t = (fetched_topic){all[i].topic, NULL, 0, 0};
        }
        if (!od_arena_grow(ctx->arena, &t->parts, &t->cap, t->count + 1, sizeof *t->parts))
            return -1;
        t->parts[t->count++] = all[i];
    }
    return 0;
}

/* Fetches one group: the named topics (names/partitions views, count nt),
 * or everything when all is set. Takes the group lock. */
static int fetch_group(od_rctx *ctx, od_str group_id, od_str member_id, int32_t member_epoch,
                       bool all, const od_str *names, const od_int32_array *partitions, int32_t nt,
                       bool require_stable, bool errors_on_partitions, fetched_group *out)
{
    *out = (fetched_group){OD_ERR_NONE, NULL, 0};
    int32_t total = 0;
    for (int32_t i = 0; i < nt; i++)
        total += partitions[i].count > 0 ? partitions[i].count : 0;
    od_gc_offset_fetch *parts = OD_ARENA_ARRAY(ctx, od_gc_offset_fetch, total);
    if (parts == NULL)
        return -1;
    int32_t k = 0;
    for (int32_t i = 0; i < nt; i++)
        for (int32_t j = 0; j < partitions[i].count; j++)
            parts[k++] = (od_gc_offset_fetch){.topic = names[i], .partition = partitions[i].items[j]};
    od_gc_offset_fetch *all_out = NULL;
    int32_t all_count = 0;
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    if (!od_cg_hook_fetch(gs, group_id, member_id, member_epoch, &out->error) ||
        out->error == OD_ERR_NONE)
        out->error = od_gc_fetch_offsets(gc, group_id, require_stable, parts, total, all, ctx->arena,
                                         &all_out, &all_count);
    od_group_service_unlock(gs);
    if (all)
        return out->error == OD_ERR_NONE ? group_by_topic(ctx, all_out, all_count, out) : 0;
    out->topics = OD_ARENA_ARRAY(ctx, fetched_topic, nt);
    if (out->topics == NULL)
        return -1;
    out->count = nt;
    k = 0;
    for (int32_t i = 0; i < nt; i++) {
        int32_t np = partitions[i].count > 0 ? partitions[i].count : 0;
        out->topics[i] = (fetched_topic){names[i], parts + k, np, np};
        for (int32_t j = 0; j < np; j++) {
            od_gc_offset_fetch *p = &parts[k + j];
            if (out->error != OD_ERR_NONE) {
                p->offset = -1;
                p->leader_epoch = -1;
                p->metadata = OD_STR_LIT("");
                p->error = errors_on_partitions ? out->error : OD_ERR_NONE;
            }
        }
        k += np;
    }
    if (out->error != OD_ERR_NONE && !errors_on_partitions)
        out->count = 0;
    return 0;
}

/* v0-7: one group, its fields at the top level. */
static od_handler_status fetch_single(od_rctx *ctx)
{
    const od_offset_fetch_request *req = ctx->request;
    od_offset_fetch_response *resp = ctx->response;
    bool all = req->topics.count < 0;
    int32_t nt = all ? 0 : req->topics.count;
    od_str *names = OD_ARENA_ARRAY(ctx, od_str, nt);
    od_int32_array *partitions = OD_ARENA_ARRAY(ctx, od_int32_array, nt);
    if (names == NULL || partitions == NULL)
        return OD_HANDLER_CLOSE;
    for (int32_t i = 0; i < nt; i++) {
        names[i] = req->topics.items[i].name;
        partitions[i] = req->topics.items[i].partition_indexes;
    }
    fetched_group g;
    bool old = ctx->version < FIRST_VERSION_WITH_GROUP_ERROR;
    if (fetch_group(ctx, req->group_id, OD_STR_NULL, -1, all, names, partitions, nt,
                    req->require_stable, old, &g) != 0)
        return OD_HANDLER_CLOSE;
    od_offset_fetch_response_offset_fetch_response_topic *topics =
        OD_ARENA_ARRAY(ctx, od_offset_fetch_response_offset_fetch_response_topic, g.count);
    if (topics == NULL)
        return OD_HANDLER_CLOSE;
    for (int32_t i = 0; i < g.count; i++) {
        const fetched_topic *ft = &g.topics[i];
        od_offset_fetch_response_offset_fetch_response_topic *t = &topics[i];
        od_offset_fetch_response_offset_fetch_response_topic_init(t);
        t->name = ft->name;
        od_offset_fetch_response_offset_fetch_response_partition *ps =
            OD_ARENA_ARRAY(ctx, od_offset_fetch_response_offset_fetch_response_partition, ft->count);
        if (ps == NULL)
            return OD_HANDLER_CLOSE;
        for (int32_t j = 0; j < ft->count; j++) {
            od_offset_fetch_response_offset_fetch_response_partition_init(&ps[j]);
            ps[j].partition_index = ft->parts[j].partition;
            ps[j].committed_offset = ft->parts[j].offset;
            ps[j].committed_leader_epoch = ft->parts[j].leader_epoch;
            ps[j].metadata = ft->parts[j].metadata;
            ps[j].error_code = ft->parts[j].error;
        }
        t->partitions = (od_offset_fetch_response_offset_fetch_response_partition_array){ft->count, ps};
    }
    resp->topics = (od_offset_fetch_response_offset_fetch_response_topic_array){g.count, topics};
    resp->error_code = g.error;
    return OD_HANDLER_REPLY;
}

/* v8+: a batch of groups. */
static od_handler_status fetch_batch(od_rctx *ctx)
{
    const od_offset_fetch_request *req = ctx->request;
    od_offset_fetch_response *resp = ctx->response;
    int32_t ng = req->groups.count > 0 ? req->groups.count : 0;
    od_offset_fetch_response_offset_fetch_response_group *groups =
        OD_ARENA_ARRAY(ctx, od_offset_fetch_response_offset_fetch_response_group, ng);
    if (groups == NULL)
        return OD_HANDLER_CLOSE;
    for (int32_t gi = 0; gi < ng; gi++) {
        const od_offset_fetch_request_offset_fetch_request_group *rg = &req->groups.items[gi];
        bool all = rg->topics.count < 0;
        int32_t nt = all ? 0 : rg->topics.count;
        od_str *names = OD_ARENA_ARRAY(ctx, od_str, nt);
        od_int32_array *partitions = OD_ARENA_ARRAY(ctx, od_int32_array, nt);
        if (names == NULL || partitions == NULL)
            return OD_HANDLER_CLOSE;
        for (int32_t i = 0; i < nt; i++) {
            names[i] = rg->topics.items[i].name;
            partitions[i] = rg->topics.items[i].partition_indexes;
        }
        fetched_group g;
        if (fetch_group(ctx, rg->group_id, rg->member_id, rg->member_epoch, all, names, partitions,
                        nt, req->require_stable, false, &g) != 0)
            return OD_HANDLER_CLOSE;
        od_offset_fetch_response_offset_fetch_response_group *og = &groups[gi];
        od_offset_fetch_response_offset_fetch_response_group_init(og);
        og->group_id = rg->group_id;
        og->error_code = g.error;
        od_offset_fetch_response_offset_fetch_response_topics *topics =
            OD_ARENA_ARRAY(ctx, od_offset_fetch_response_offset_fetch_response_topics, g.count);
        if (topics == NULL)
            return OD_HANDLER_CLOSE;
        for (int32_t i = 0; i < g.count; i++) {
            const fetched_topic *ft = &g.topics[i];
            od_offset_fetch_response_offset_fetch_response_topics *t = &topics[i];
            od_offset_fetch_response_offset_fetch_response_topics_init(t);
            t->name = ft->name;
            od_offset_fetch_response_offset_fetch_response_partitions *ps =
                OD_ARENA_ARRAY(ctx, od_offset_fetch_response_offset_fetch_response_partitions, ft->count);
            if (ps == NULL)
                return OD_HANDLER_CLOSE;
            for (int32_t j = 0; j < ft->count; j++) {
                od_offset_fetch_response_offset_fetch_response_partitions_init(&ps[j]);
                ps[j].partition_index = ft->parts[j].partition;
                ps[j].committed_offset = ft->parts[j].offset;
                ps[j].committed_leader_epoch = ft->parts[j].leader_epoch;
                ps[j].metadata = ft->parts[j].metadata;
                ps[j].error_code = ft->parts[j].error;
            }
            t->partitions = (od_offset_fetch_response_offset_fetch_response_partitions_array){ft->count, ps};
        }
        og->topics = (od_offset_fetch_response_offset_fetch_response_topics_array){g.count, topics};
    }
    resp->groups = (od_offset_fetch_response_offset_fetch_response_group_array){ng, groups};
    return OD_HANDLER_REPLY;
}

od_handler_status od_handle_offset_fetch(od_rctx *ctx)
{
    const od_offset_fetch_request *req = ctx->request;
    /* v8 moved the request into a batch of groups; the decoder fills only
     * the fields the version has, so the batch is what says which it is. */
    if (req->groups.count > 0)
        return fetch_batch(ctx);
    return fetch_single(ctx);
}
