/*
 * DescribeLogDirs: the partition log dir with each partition's size, and the
 * file system's total and usable bytes (v4+ fields, filled always).
 */
#include <sys/statvfs.h>

#include "handler_util.h"
#include "handlers.h"

static bool wanted(const od_describe_log_dirs_request *req, const char *topic, int32_t partition)
{
    if (req->topics.count < 0)
        return true;
    for (int32_t i = 0; i < req->topics.count; i++) {
        const od_describe_log_dirs_request_describable_log_dir_topic *t = &req->topics.items[i];
        if (!od_str_eq_cstr(t->topic, topic))
            continue;
        for (int32_t p = 0; p < t->partitions.count; p++)
            if (t->partitions.items[p] == partition)
                return true;
    }
    return false;
}

od_handler_status od_handle_describe_log_dirs(od_rctx *ctx)
{
    const od_describe_log_dirs_request *req = ctx->request;
    od_describe_log_dirs_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    od_describe_log_dirs_response_describe_log_dirs_result *dir =
        OD_ARENA_ARRAY(ctx, od_describe_log_dirs_response_describe_log_dirs_result, 1);
    if (dir == NULL)
        return OD_HANDLER_CLOSE;
    od_describe_log_dirs_response_describe_log_dirs_result_init(dir);
    od_broker_lock(b);
    dir->log_dir = od_arena_str(ctx, b->settings.log_dir);
    struct statvfs vfs;
    if (statvfs(b->settings.log_dir, &vfs) == 0) {
        dir->total_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
        dir->usable_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
    }
    od_describe_log_dirs_response_describe_log_dirs_topic *topics =
        OD_ARENA_ARRAY(ctx, od_describe_log_dirs_response_describe_log_dirs_topic, b->topic_count);
    int32_t nt = 0;
    for (int32_t i = 0; topics && i < b->topic_count; i++) {
        od_broker_topic *t = &b->topics[i];
        od_describe_log_dirs_response_describe_log_dirs_partition *parts =
            OD_ARENA_ARRAY(ctx, od_describe_log_dirs_response_describe_log_dirs_partition, t->partition_count);
        int32_t np = 0;
        for (int32_t p = 0; parts && p < t->partition_count; p++) {
            if (t->partitions[p] == NULL || t->partitions[p]->log == NULL || !wanted(req, t->name, p))
                continue;
            od_describe_log_dirs_response_describe_log_dirs_partition_init(&parts[np]);
            parts[np].partition_index = p;
            parts[np].partition_size = od_log_size_bytes(t->partitions[p]->log);
            parts[np].offset_lag = 0;
            np++;
        }
        if (np == 0)
            continue;
        od_describe_log_dirs_response_describe_log_dirs_topic_init(&topics[nt]);
        topics[nt].name = od_arena_str(ctx, t->name);
        topics[nt].partitions = (od_describe_log_dirs_response_describe_log_dirs_partition_array){np, parts};
        nt++;
    }
    od_broker_unlock(b);
    dir->topics = (od_describe_log_dirs_response_describe_log_dirs_topic_array){nt, topics};
    resp->results = (od_describe_log_dirs_response_describe_log_dirs_result_array){1, dir};
    return OD_HANDLER_REPLY;
}
