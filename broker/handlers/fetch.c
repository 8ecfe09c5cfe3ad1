/*
 * Fetch: record sets straight from the segment files (sendfile), a long
 * poll parked on the connection's loop until min_bytes arrive or max_wait_ms
 * passes, topic ids from v13, and read_committed limits.
 *
 * Fetch sessions (KIP-227): the broker answers every fetch in full and
 * returns session id 0, which tells the client that no session was created,
 * so it keeps sending full fetches. A request that names a session we never
 * issued gets FETCH_SESSION_ID_NOT_FOUND, as from a broker that evicted it.
 *
 * A parked fetch (fetch_wait) is touched by three parties: the producer that
 * wakes it (any network thread, broker lock held), and its own loop's timer
 * and task. `task_posted` (under the broker lock) makes sure the request is
 * completed exactly once and never while a task still points at it: the
 * timer leaves the reply to a task already on its way.
 */
#include <stdlib.h>

#include "handler_util.h"
#include "handlers.h"

enum { ISOLATION_READ_COMMITTED = 1 };

typedef struct fetch_wait {
    od_parked_fetch parked;    /* first: the broker's list hands us this pointer */
    od_rctx *ctx;
    od_loop *loop;
    od_timer timer;
    od_task task;
    bool task_posted;          /* broker lock */
    uint64_t deadline_ms;
} fetch_wait;

typedef struct aborted_list {
    od_rctx *ctx;
    od_fetch_response_aborted_transaction *items;
    int32_t count, cap;
} aborted_list;

static void collect_aborted(void *vctx, const od_aborted_txn *t)
{
    aborted_list *l = vctx;
    if (l->count == l->cap) {
        int32_t cap = l->cap ? l->cap * 2 : 8;
        od_fetch_response_aborted_transaction *grown =
            OD_ARENA_ARRAY(l->ctx, od_fetch_response_aborted_transaction, cap);
        if (grown == NULL)
            return;
        if (l->count)
            memcpy(grown, l->items, (size_t)l->count * sizeof *grown);
        l->items = grown;
        l->cap = cap;
    }
    od_fetch_response_aborted_transaction *a = &l->items[l->count++];
    od_fetch_response_aborted_transaction_init(a);
    a->producer_id = t->producer_id;
    a->first_offset = t->first_offset;
}

static const uint8_t no_records[1];

/* Reads one partition into `out`. Lock held. */
static void read_partition(od_rctx *ctx, od_broker_topic *t, const od_fetch_request_fetch_partition *in,
                           od_fetch_response_partition_data *out, int32_t *remaining, bool *first,
                           int64_t *bytes)
{
    const od_fetch_request *req = ctx->request;
    od_broker *b = ctx->broker;
    out->records = (od_bytes){no_records, 0};
    od_broker_partition *p = od_broker_partition_of(t, in->partition);
    if (p == NULL || p->log == NULL) {
        out->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    int32_t epoch = od_leader_epoch_of(b, &t->id, in->partition);
    out->error_code = od_check_leader_epoch(in->current_leader_epoch, epoch);
    out->high_watermark = od_log_high_watermark(p->log);
    out->last_stable_offset = od_log_last_stable_offset(p->log);
    out->log_start_offset = od_log_start_offset(p->log);
    if (out->error_code != OD_ERR_NONE)
        return;
    bool committed = req->isolation_level == ISOLATION_READ_COMMITTED;
    int64_t limit = committed ? out->last_stable_offset : out->high_watermark;
    int32_t max = in->partition_max_bytes < *remaining ? in->partition_max_bytes : *remaining;
    if (max < 0)
        max = 0;
    if (max == 0 && !*first)
        return;
    od_log_read_result res;
    od_st_err st = od_log_read(p->log, in->fetch_offset, max, limit, *first, &res);
    if (st != OD_ST_OK) {
        out->error_code = od_kafka_error_from_storage(st);
        return;
    }
    if (committed) {
        aborted_list l = {ctx, NULL, 0, 0};
        od_log_collect_aborted(p->log, in->fetch_offset, limit, collect_aborted, &l);
        out->aborted_transactions =
            (od_fetch_response_aborted_transaction_array){l.count, l.items ? l.items : OD_ARENA_ARRAY(ctx, od_fetch_response_aborted_transaction, 0)};
    }
    if (res.region.length <= 0) {
        if (res.pin != NULL)
            od_log_read_release(p->log, &res);
        return;
    }
    int32_t len = res.region.length > INT32_MAX ? INT32_MAX : (int32_t)res.region.length;
    od_ref *ref = od_broker_pin_read(b, p, &res);
    if (ref == NULL || od_rctx_add_file_records(ctx, &out->records, res.region.fd,
                                                res.region.position, len, ref) != 0) {
        out->error_code = OD_ERR_UNKNOWN_SERVER_ERROR;
        if (ref != NULL) {
            /* Dropping the pin takes the lock we hold: defer by handing it to
             * a file-less slot is not possible, so undo the count by hand. */
            p->pins--;
            od_log_read_release(p->log, &res);
            free(ref);
        }
        return;
    }
    *remaining -= len;
    *first = false;
    *bytes += len;
}

/* Fills the whole response. Lock held. Returns the record bytes gathered;
 * *failed says a partition had an error (which ends a long poll). */
static int64_t build_response(od_rctx *ctx, bool *failed)
{
    const od_fetch_request *req = ctx->request;
    od_fetch_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t remaining = req->max_bytes;
    if (b->settings.fetch_max_bytes > 0 && remaining > b->settings.fetch_max_bytes)
        remaining = b->settings.fetch_max_bytes;
    bool first = true;
    int64_t bytes = 0;
    *failed = false;
    int32_t nt = req->topics.count > 0 ? req->topics.count : 0;
    od_fetch_response_fetchable_topic_response *topics =
        OD_ARENA_ARRAY(ctx, od_fetch_response_fetchable_topic_response, nt);
    if (topics == NULL) {
        *failed = true;
        return 0;
    }
    for (int32_t i = 0; i < nt; i++) {
        const od_fetch_request_fetch_topic *ft = &req->topics.items[i];
        od_fetch_response_fetchable_topic_response *to = &topics[i];
        od_fetch_response_fetchable_topic_response_init(to);
        to->topic = ft->topic;
        to->topic_id = ft->topic_id;
        bool by_id = !od_uuid_is_zero(&ft->topic_id);
        od_broker_topic *t = by_id ? od_broker_topic_by_id(b, &ft->topic_id)
                                   : od_broker_topic_by_name(b, ft->topic);
        int32_t np = ft->partitions.count > 0 ? ft->partitions.count : 0;
        od_fetch_response_partition_data *parts = OD_ARENA_ARRAY(ctx, od_fetch_response_partition_data, np);
        if (parts == NULL) {
            *failed = true;
            return bytes;
        }
        for (int32_t j = 0; j < np; j++) {
            od_fetch_response_partition_data *po = &parts[j];
            od_fetch_response_partition_data_init(po);
            po->partition_index = ft->partitions.items[j].partition;
            if (t == NULL) {
                po->records = (od_bytes){no_records, 0};
                /* Clients that name topics by id (v13+) understand the id error. */
                po->error_code = ctx->version >= 13 ? OD_ERR_UNKNOWN_TOPIC_ID
                                                    : OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else {
                read_partition(ctx, t, &ft->partitions.items[j], po, &remaining, &first, &bytes);
            }
            *failed |= po->error_code != OD_ERR_NONE;
        }
        to->partitions = (od_fetch_response_partition_data_array){np, parts};
    }
    resp->responses = (od_fetch_response_fetchable_topic_response_array){nt, topics};
    return bytes;
}

/* Drops the pins of a response that will not be sent; lock NOT held. */
static void drop_attempt(od_rctx *ctx)
{
    for (int32_t i = 0; i < ctx->file_count; i++)
        if (ctx->files[i].ref)
            od_ref_put(ctx->files[i].ref);
    ctx->file_count = 0;
    ctx->api->response->init(ctx->response);
}

static bool satisfied(const od_fetch_request *req, int64_t bytes, bool failed)
{
    return failed || bytes >= req->min_bytes || (bytes > 0 && req->min_bytes <= 0);
}

static void wake_parked(od_parked_fetch *pf)
{
    fetch_wait *w = (fetch_wait *)pf;
    if (!w->task_posted) {
        w->task_posted = true;
        od_loop_post(w->loop, &w->task);
    }
}

/* Tries again on the fetch's own loop; `final` replies whatever it finds. */
static void retry(fetch_wait *w, bool final)
{
    od_rctx *ctx = w->ctx;
    od_broker *b = ctx->broker;
    drop_attempt(ctx);
    od_broker_lock(b);
    od_broker_unpark_fetch(b, &w->parked);
    bool failed;
    int64_t bytes = build_response(ctx, &failed);
    if (!final && !satisfied(ctx->request, bytes, failed)) {
        od_broker_park_fetch(b, &w->parked);
        od_broker_unlock(b);
        drop_attempt(ctx);
        return;
    }
    od_broker_unlock(b);
    od_timer_cancel(w->loop, &w->timer);
    od_rctx_reply(ctx);
}

static void on_task(od_loop *loop, od_task *task)
{
    fetch_wait *w = task->ctx;
    od_broker_lock(w->ctx->broker);
    w->task_posted = false;
    od_broker_unlock(w->ctx->broker);
    retry(w, od_loop_now(loop) >= w->deadline_ms);
}

static void on_timer(od_loop *loop, od_timer *timer)
{
    fetch_wait *w = timer->ctx;
    (void)loop;
    od_broker_lock(w->ctx->broker);
    bool task_coming = w->task_posted;
    od_broker_unlock(w->ctx->broker);
    /* The task sees the deadline has passed and replies. */
    if (task_coming)
        return;
    retry(w, true);
}

od_handler_status od_handle_fetch(od_rctx *ctx)
{
    const od_fetch_request *req = ctx->request;
    od_fetch_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    resp->session_id = 0;
    if (req->session_id != 0) {
        resp->error_code = OD_ERR_FETCH_SESSION_ID_NOT_FOUND;
        return OD_HANDLER_REPLY;
    }
    od_broker_lock(b);
    bool failed;
    int64_t bytes = build_response(ctx, &failed);
    od_loop *loop = od_conn_loop(ctx->req->conn);
    if (satisfied(req, bytes, failed) || req->max_wait_ms <= 0 || loop == NULL) {
        od_broker_unlock(b);
        return OD_HANDLER_REPLY;
    }
    fetch_wait *w = od_arena_calloc(ctx->arena, 1, sizeof *w);
    if (w == NULL) {
        od_broker_unlock(b);
        return OD_HANDLER_REPLY;
    }
    w->ctx = ctx;
    w->loop = loop;
    w->parked.wake = wake_parked;
    w->deadline_ms = od_loop_now(loop) + (uint64_t)req->max_wait_ms;
    od_task_init(&w->task, on_task, w);
    od_timer_init(&w->timer, on_timer, w);
    od_broker_park_fetch(b, &w->parked);
    od_broker_unlock(b);
    drop_attempt(ctx);
    if (od_timer_arm_at(loop, &w->timer, w->deadline_ms) != 0) {
        /* No timer, no long poll: answer now with what there is. A wake-up
         * may already be posted; it must not outlive the request. */
        od_broker_lock(b);
        od_broker_unpark_fetch(b, &w->parked);
        bool posted = w->task_posted;
        if (!posted)
            build_response(ctx, &failed);
        od_broker_unlock(b);
        if (posted) {
            w->deadline_ms = 0;
            return OD_HANDLER_DEFERRED;
        }
        return OD_HANDLER_REPLY;
    }
    return OD_HANDLER_DEFERRED;
}
