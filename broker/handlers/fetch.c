/*
 * Fetch: record sets straight from the segment files (sendfile), a long
 * poll parked on the connection's loop until min_bytes arrive or max_wait_ms
 * passes, topic ids from v13, and read_committed limits.
 *
 * Fetch sessions (KIP-227, fetch_session.h): a full fetch with epoch 0
 * opens a session; later fetches name only partitions that changed (and
 * forgotten ones), and their responses carry only partitions with records,
 * errors, or a new high watermark, last stable offset or log start. Epoch -1
 * (or session id 0) is a sessionless full fetch, as Kafka serves it.
 *
 * A parked fetch (fetch_wait) is touched by three parties: the producer that
 * wakes it (any network thread, broker lock held), and its own loop's timer
 * and task. `task_posted` and the parked list (both under the broker lock)
 * make sure the request is completed exactly once and never while a task
 * still points at it: whoever reads or clears `task_posted` unparks the
 * fetch in the same critical section, so no wake can post a task between
 * that decision and the reply; the timer leaves the reply to a task already
 * on its way.
 */
#include <stdlib.h>
#include <unistd.h>

#include "fetch_session.h"
#include "handler_util.h"
#include "handlers.h"
#include "records/convert.h"

enum { ISOLATION_READ_COMMITTED = 1 };

/* How this request relates to a fetch session. */
typedef enum fetch_mode {
    FETCH_SESSIONLESS,         /* full, no session */
    FETCH_NEW_SESSION,         /* full; a session is created when the reply goes */
    FETCH_INCREMENTAL,         /* only the session's changed partitions */
} fetch_mode;

typedef struct fetch_wait {
    od_parked_fetch parked;    /* first: the broker's list hands us this pointer */
    od_rctx *ctx;
    fetch_mode mode;
    int32_t session_id;
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
    if (!od_arena_grow(l->ctx->arena, &l->items, &l->cap, l->count + 1, sizeof *l->items))
        return;
    od_fetch_response_aborted_transaction *a = &l->items[l->count++];
    od_fetch_response_aborted_transaction_init(a);
    a->producer_id = t->producer_id;
    a->first_offset = t->first_offset;
}

static const uint8_t no_records[1];

/* Bounds what one stored batch may inflate to while down-converting. */
#define DOWN_CONVERT_DECOMPRESS_LIMIT ((size_t)64 << 20)

/* Fetch v0-3 read magic 0 (v0-1) or magic 1 (v2-3) message sets: the read
 * region is converted into the request arena (no sendfile for these) and
 * released. Lock held. A zstd batch cannot be converted:
 * UNSUPPORTED_COMPRESSION_TYPE, as Kafka answers. The file is read on the
 * network thread, as Kafka's down-conversion does on its own; clients this
 * old are rare, and the bytes were just written (page cache). */
static void down_convert(od_rctx *ctx, od_broker_partition *p, od_log_read_result *res, int32_t len,
                         int64_t fetch_offset, od_fetch_response_partition_data *out)
{
    uint8_t *raw = od_arena_alloc(ctx->arena, (size_t)len);
    bool read_ok = raw != NULL && pread(res->region.fd, raw, (size_t)len, (off_t)res->region.position) == len;
    od_log_read_release(p->log, res);
    if (!read_ok) {
        out->error_code = OD_ERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    int8_t magic = ctx->version <= 1 ? 0 : 1;
    od_writer w;
    od_writer_init(&w, (size_t)len + 256);
    od_batch_err err = od_records_down_convert(raw, (size_t)len, magic, fetch_offset,
                                               DOWN_CONVERT_DECOMPRESS_LIMIT, &w);
    uint8_t *converted = NULL;
    if (err == OD_BATCH_OK && w.len <= INT32_MAX && (converted = od_arena_alloc(ctx->arena, w.len + 1)) != NULL) {
        memcpy(converted, w.buf, w.len);
        out->records = (od_bytes){converted, (int32_t)w.len};
    } else {
        out->error_code = err == OD_BATCH_BAD_COMPRESSION ? OD_ERR_UNSUPPORTED_COMPRESSION_TYPE
                                                          : OD_ERR_UNKNOWN_SERVER_ERROR;
    }
    od_writer_free(&w);
}

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
    /* A topic may forbid down-conversion; old consumers then get
     * UNSUPPORTED_VERSION, as Kafka answers them. */
    const char *convert = ctx->version < 4 ? od_mimage_config(b->image, OD_CONFIG_RESOURCE_TOPIC, t->name,
                                                              "message.downconversion.enable")
                                           : NULL;
    if (convert != NULL && strcmp(convert, "false") == 0) {
        out->error_code = OD_ERR_UNSUPPORTED_VERSION;
        return;
    }
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
    if (ctx->version < 4) {
        down_convert(ctx, p, &res, len, in->fetch_offset, out);
        if (out->records.len > 0) {
            *remaining -= out->records.len;
            *first = false;
            *bytes += out->records.len;
        }
        return;
    }
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

/* One partition to read, from the request or from the session. */
typedef struct fetch_item {
    od_uuid topic_id;
    od_str topic;
    od_fetch_request_fetch_partition part;
    od_fs_partition *cached;   /* incremental: what the client was last told */
} fetch_item;

/* The partitions to read: the request's, or (incremental) the session's. */
static fetch_item *plan(od_rctx *ctx, fetch_mode mode, od_fetch_session *session, int32_t *count)
{
    const od_fetch_request *req = ctx->request;
    int32_t n = 0;
    if (mode == FETCH_INCREMENTAL) {
        n = session->count;
    } else {
        for (int32_t i = 0; i < req->topics.count; i++)
            n += req->topics.items[i].partitions.count > 0 ? req->topics.items[i].partitions.count : 0;
    }
    fetch_item *items = OD_ARENA_ARRAY(ctx, fetch_item, n);
    if (items == NULL)
        return NULL;
    int32_t k = 0;
    if (mode == FETCH_INCREMENTAL) {
        for (int32_t i = 0; i < session->count; i++) {
            od_fs_partition *sp = &session->parts[i];
            fetch_item *it = &items[k++];
            it->topic_id = sp->topic_id;
            it->topic = od_str_from_cstr(sp->topic);
            od_fetch_request_fetch_partition_init(&it->part);
            it->part.partition = sp->partition;
            it->part.fetch_offset = sp->fetch_offset;
            it->part.partition_max_bytes = sp->max_bytes;
            it->part.current_leader_epoch = sp->current_leader_epoch;
            it->cached = sp;
        }
    } else {
        for (int32_t i = 0; i < req->topics.count; i++) {
            const od_fetch_request_fetch_topic *ft = &req->topics.items[i];
            for (int32_t j = 0; j < ft->partitions.count; j++) {
                fetch_item *it = &items[k++];
                it->topic_id = ft->topic_id;
                it->topic = ft->topic;
                it->part = ft->partitions.items[j];
                it->cached = NULL;
            }
        }
    }
    *count = k;
    return items;
}

static bool same_topic(const fetch_item *a, const fetch_item *b)
{
    if (!od_uuid_is_zero(&a->topic_id) || !od_uuid_is_zero(&b->topic_id))
        return od_uuid_eq(&a->topic_id, &b->topic_id);
    return od_str_eq(a->topic, b->topic);
}

/* An incremental response leaves out partitions the client has nothing new for. */
static bool worth_sending(const od_fetch_response_partition_data *po, const od_fs_partition *cached)
{
    return cached == NULL || !cached->announced || po->error_code != OD_ERR_NONE || po->records.len > 0 ||
           po->high_watermark != cached->high_watermark ||
           po->last_stable_offset != cached->last_stable_offset ||
           po->log_start_offset != cached->log_start_offset;
}

/* Fills the response. Lock held. Returns the record bytes gathered; *failed
 * says a partition had an error (which ends a long poll). */
static int64_t build_response(od_rctx *ctx, fetch_mode mode, od_fetch_session *session, bool *failed)
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
    int32_t n = 0;
    fetch_item *items = plan(ctx, mode, session, &n);
    od_fetch_response_fetchable_topic_response *topics =
        OD_ARENA_ARRAY(ctx, od_fetch_response_fetchable_topic_response, n);
    od_fetch_response_partition_data *parts = OD_ARENA_ARRAY(ctx, od_fetch_response_partition_data, n);
    if (items == NULL || topics == NULL || parts == NULL) {
        *failed = true;
        return 0;
    }
    int32_t nt = 0, np = 0;
    od_fetch_response_fetchable_topic_response *to = NULL;
    const fetch_item *to_item = NULL;
    for (int32_t i = 0; i < n; i++) {
        const fetch_item *it = &items[i];
        bool by_id = !od_uuid_is_zero(&it->topic_id);
        od_broker_topic *t = by_id ? od_broker_topic_by_id(b, &it->topic_id) : od_broker_topic_by_name(b, it->topic);
        od_fetch_response_partition_data *po = &parts[np];
        od_fetch_response_partition_data_init(po);
        po->partition_index = it->part.partition;
        if (t == NULL) {
            po->records = (od_bytes){no_records, 0};
            /* Clients that name topics by id (v13+) understand the id error. */
            po->error_code = ctx->version >= 13 ? OD_ERR_UNKNOWN_TOPIC_ID : OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        } else {
            read_partition(ctx, t, &it->part, po, &remaining, &first, &bytes);
        }
        *failed |= po->error_code != OD_ERR_NONE;
        if (!worth_sending(po, it->cached))
            continue;
        np++;
        if (to == NULL || !same_topic(to_item, it)) {
            if (to != NULL)
                to->partitions.count = (int32_t)(po - to->partitions.items);
            to = &topics[nt++];
            to_item = it;
            od_fetch_response_fetchable_topic_response_init(to);
            to->topic = it->topic;
            to->topic_id = it->topic_id;
            to->partitions = (od_fetch_response_partition_data_array){0, po};
        }
    }
    if (to != NULL)
        to->partitions.count = (int32_t)(&parts[np] - to->partitions.items);
    resp->responses = (od_fetch_response_fetchable_topic_response_array){nt, topics};
    return bytes;
}

/* Records in the session what this reply tells the client. Lock held. */
static void remember_reply(od_rctx *ctx, od_fetch_session *session)
{
    const od_fetch_response *resp = ctx->response;
    for (int32_t i = 0; i < resp->responses.count; i++) {
        const od_fetch_response_fetchable_topic_response *to = &resp->responses.items[i];
        for (int32_t j = 0; j < to->partitions.count; j++) {
            const od_fetch_response_partition_data *po = &to->partitions.items[j];
            od_fs_partition *sp = od_fetch_session_upsert(session, &to->topic_id, to->topic, po->partition_index);
            if (sp == NULL)
                continue;
            sp->announced = true;
            sp->high_watermark = po->high_watermark;
            sp->last_stable_offset = po->last_stable_offset;
            sp->log_start_offset = po->log_start_offset;
        }
    }
}

/* The last step before a reply leaves, lock held: a new session is created
 * from the full request, an incremental one advances its epoch. */
static void settle_session(od_rctx *ctx, fetch_mode mode, int32_t session_id)
{
    const od_fetch_request *req = ctx->request;
    od_fetch_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    if (mode == FETCH_SESSIONLESS || resp->error_code != OD_ERR_NONE)
        return;
    od_fetch_session *s = mode == FETCH_INCREMENTAL ? od_fetch_session_find(b->fetch_sessions, session_id)
                                                    : od_fetch_session_create(b->fetch_sessions, od_monotonic_ms());
    if (s == NULL) {
        resp->session_id = 0;
        return;
    }
    if (mode == FETCH_NEW_SESSION) {
        for (int32_t i = 0; i < req->topics.count; i++) {
            const od_fetch_request_fetch_topic *ft = &req->topics.items[i];
            for (int32_t j = 0; j < ft->partitions.count; j++) {
                const od_fetch_request_fetch_partition *fp = &ft->partitions.items[j];
                od_fs_partition *sp = od_fetch_session_upsert(s, &ft->topic_id, ft->topic, fp->partition);
                if (sp == NULL)
                    continue;
                sp->fetch_offset = fp->fetch_offset;
                sp->max_bytes = fp->partition_max_bytes;
                sp->current_leader_epoch = fp->current_leader_epoch;
            }
        }
    } else {
        s->epoch++;
    }
    s->last_used_ms = od_monotonic_ms();
    remember_reply(ctx, s);
    resp->session_id = s->id;
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

/* One try at the response, lock held. An incremental fetch whose session
 * has meanwhile been evicted gets FETCH_SESSION_ID_NOT_FOUND. */
static int64_t attempt(od_rctx *ctx, fetch_mode mode, int32_t session_id, bool *failed)
{
    od_fetch_session *session = NULL;
    if (mode == FETCH_INCREMENTAL) {
        session = od_fetch_session_find(ctx->broker->fetch_sessions, session_id);
        if (session == NULL) {
            od_fetch_response *resp = ctx->response;
            resp->error_code = OD_ERR_FETCH_SESSION_ID_NOT_FOUND;
            resp->responses = (od_fetch_response_fetchable_topic_response_array){0, NULL};
            *failed = true;
            return 0;
        }
    }
    return build_response(ctx, mode, session, failed);
}

/* Tries again on the fetch's own loop; `final` replies whatever it finds.
 * Called with the broker lock held and the fetch already unparked, in the
 * same critical section that found no task pending: from there until it
 * parks again nobody else can post a task, so a reply never leaves a task
 * behind that points at the freed request. Releases the lock. */
static void retry_unparked(fetch_wait *w, bool final)
{
    od_rctx *ctx = w->ctx;
    od_broker *b = ctx->broker;
    bool failed;
    int64_t bytes = attempt(ctx, w->mode, w->session_id, &failed);
    if (!final && !satisfied(ctx->request, bytes, failed)) {
        od_broker_park_fetch(b, &w->parked);
        od_broker_unlock(b);
        drop_attempt(ctx);
        return;
    }
    settle_session(ctx, w->mode, w->session_id);
    od_broker_unlock(b);
    od_timer_cancel(w->loop, &w->timer);
    od_rctx_reply(ctx);
}

static void on_task(od_loop *loop, od_task *task)
{
    fetch_wait *w = task->ctx;
    od_broker *b = w->ctx->broker;
    drop_attempt(w->ctx);
    od_broker_lock(b);
    w->task_posted = false;
    od_broker_unpark_fetch(b, &w->parked);
    retry_unparked(w, b->fetches_final || od_loop_now(loop) >= w->deadline_ms);
}

static void on_timer(od_loop *loop, od_timer *timer)
{
    fetch_wait *w = timer->ctx;
    od_broker *b = w->ctx->broker;
    (void)loop;
    drop_attempt(w->ctx);
    od_broker_lock(b);
    /* The task sees the deadline has passed and replies. */
    if (w->task_posted) {
        od_broker_unlock(b);
        return;
    }
    od_broker_unpark_fetch(b, &w->parked);
    retry_unparked(w, true);
}

/* Decides how the request uses sessions and applies its session changes
 * (new partitions, new offsets, forgotten partitions). Lock held. Returns
 * OD_ERR_NONE or the session error to answer with. */
static int16_t open_session_mode(od_rctx *ctx, fetch_mode *mode)
{
    const od_fetch_request *req = ctx->request;
    od_broker *b = ctx->broker;
    int32_t id = req->session_id, epoch = req->session_epoch;
    enum { INITIAL_EPOCH = 0, FINAL_EPOCH = -1 };
    if (epoch == FINAL_EPOCH) {
        if (id != 0)
            od_fetch_session_remove(b->fetch_sessions, id);
        *mode = FETCH_SESSIONLESS;
        return OD_ERR_NONE;
    }
    if (epoch == INITIAL_EPOCH) {
        if (id != 0)
            od_fetch_session_remove(b->fetch_sessions, id);
        *mode = FETCH_NEW_SESSION;
        return OD_ERR_NONE;
    }
    if (id == 0)
        return OD_ERR_INVALID_FETCH_SESSION_EPOCH;
    od_fetch_session *s = od_fetch_session_find(b->fetch_sessions, id);
    if (s == NULL)
        return OD_ERR_FETCH_SESSION_ID_NOT_FOUND;
    if (s->epoch != epoch)
        return OD_ERR_INVALID_FETCH_SESSION_EPOCH;
    for (int32_t i = 0; i < req->topics.count; i++) {
        const od_fetch_request_fetch_topic *ft = &req->topics.items[i];
        for (int32_t j = 0; j < ft->partitions.count; j++) {
            const od_fetch_request_fetch_partition *fp = &ft->partitions.items[j];
            od_fs_partition *sp = od_fetch_session_upsert(s, &ft->topic_id, ft->topic, fp->partition);
            if (sp == NULL)
                return OD_ERR_UNKNOWN_SERVER_ERROR;
            sp->fetch_offset = fp->fetch_offset;
            sp->max_bytes = fp->partition_max_bytes;
            sp->current_leader_epoch = fp->current_leader_epoch;
        }
    }
    for (int32_t i = 0; i < req->forgotten_topics_data.count; i++) {
        const od_fetch_request_forgotten_topic *f = &req->forgotten_topics_data.items[i];
        for (int32_t j = 0; j < f->partitions.count; j++)
            od_fetch_session_forget(s, &f->topic_id, f->topic, f->partitions.items[j]);
    }
    s->last_used_ms = od_monotonic_ms();
    *mode = FETCH_INCREMENTAL;
    return OD_ERR_NONE;
}

od_handler_status od_handle_fetch(od_rctx *ctx)
{
    const od_fetch_request *req = ctx->request;
    od_fetch_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    resp->session_id = 0;
    od_broker_lock(b);
    fetch_mode mode = FETCH_SESSIONLESS;
    int16_t session_error = open_session_mode(ctx, &mode);
    if (session_error != OD_ERR_NONE) {
        od_broker_unlock(b);
        resp->error_code = session_error;
        return OD_HANDLER_REPLY;
    }
    int32_t session_id = req->session_id;
    bool failed;
    int64_t bytes = attempt(ctx, mode, session_id, &failed);
    od_loop *loop = od_conn_loop(ctx->req->conn);
    fetch_wait *w = NULL;
    if (!satisfied(req, bytes, failed) && req->max_wait_ms > 0 && loop != NULL && !b->fetches_final)
        w = od_arena_calloc(ctx->arena, 1, sizeof *w);
    if (w == NULL) {
        settle_session(ctx, mode, session_id);
        od_broker_unlock(b);
        return OD_HANDLER_REPLY;
    }
    w->ctx = ctx;
    w->mode = mode;
    w->session_id = session_id;
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
        if (!posted) {
            attempt(ctx, mode, session_id, &failed);
            settle_session(ctx, mode, session_id);
        }
        od_broker_unlock(b);
        if (posted) {
            w->deadline_ms = 0;
            return OD_HANDLER_DEFERRED;
        }
        return OD_HANDLER_REPLY;
    }
    return OD_HANDLER_DEFERRED;
}
