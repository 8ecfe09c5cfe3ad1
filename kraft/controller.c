/*
 * The controller's operations: validation with Kafka's error codes and
 * messages, record building, commit, apply.
 *
 * Invariants: see controller.h (1-6). Internal:
 *   7. Validation reads the committed image plus what earlier items of the
 *      same request will create (pending names, partition counts), so a
 *      request is judged as if its items were applied one by one, as
 *      Kafka's controller does.
 *   8. Every record, message and result of one call lives in the caller's
 *      arena; nothing here outlives the call except what the image copies.
 *
 * State machine: Active -> Failed, as in the header; `failed` is the flag.
 */
#include "controller.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "checkpoint.h"

enum { MAX_VOTERS = 64 };

/* Applies committed records to an image with Kafka's metadata transaction
 * rules: records between BeginTransaction and EndTransaction reach the image
 * together at the End (built in a clone meanwhile), AbortTransaction drops
 * them. The image pointer stays the same (od_mimage_swap). */
typedef struct replayer {
    od_mimage *img;
    od_mimage *txn; /* non-NULL inside a transaction */
} replayer;

static od_mi_err replay_record(replayer *r, const od_mrec *rec, int64_t offset, int32_t epoch)
{
    switch (rec->type) {
    case OD_MREC_BEGIN_TRANSACTION:
        if (r->txn)
            return OD_MI_BAD_RECORD; /* transactions do not nest */
        r->txn = od_mimage_clone(r->img);
        if (!r->txn)
            return OD_MI_NO_MEMORY;
        od_mimage_advance(r->txn, offset, epoch);
        return OD_MI_OK;
    case OD_MREC_END_TRANSACTION:
        if (!r->txn)
            return OD_MI_BAD_RECORD;
        od_mimage_advance(r->txn, offset, epoch);
        od_mimage_swap(r->img, r->txn);
        od_mimage_free(r->txn);
        r->txn = NULL;
        return OD_MI_OK;
    case OD_MREC_ABORT_TRANSACTION:
        if (!r->txn)
            return OD_MI_BAD_RECORD;
        od_mimage_free(r->txn);
        r->txn = NULL;
        od_mimage_advance(r->img, offset, epoch);
        return OD_MI_OK;
    default:
        return od_mimage_apply(r->txn ? r->txn : r->img, rec, offset, epoch);
    }
}

static void replay_advance(replayer *r, int64_t offset, int32_t epoch)
{
    od_mimage_advance(r->txn ? r->txn : r->img, offset, epoch);
}

/* Where replay resumes: after the last record seen, transaction or not. */
static int64_t replay_next_offset(const replayer *r)
{
    return od_mimage_last_offset(r->txn ? r->txn : r->img) + 1;
}

struct od_controller {
    od_controller_config cfg;
    int32_t voters[MAX_VOTERS];
    char *cluster_id;
    char *metadata_log_dir;
    od_quorum *q;
    od_mimage *img;
    replayer rp;    /* over img */
    bool failed;
    /* Group commit (controller.h): records appended unsynced since
     * od_controller_group_begin, for the one on_commit after the fsync.
     * The od_mrec structs are copies; their messages stay in the callers'
     * arenas, which live until od_controller_group_commit returns. */
    bool grouping;
    od_mrec *group_recs;
    int32_t group_count, group_cap;
    int64_t group_first;    /* offset of group_recs[0] */
};

/* ---------------------------------------------------------------- small helpers */

static const char *msgf(od_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return "";
    char *s = od_arena_alloc(a, (size_t)n + 1);
    if (!s)
        return "";
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static char *cstr(od_arena *a, od_str s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *c = od_arena_alloc(a, n + 1);
    if (!c)
        return NULL;
    if (n)
        memcpy(c, s.ptr, n);
    c[n] = '\0';
    return c;
}

static od_str view(const char *s)
{
    return od_str_from_cstr(s);
}

static uint64_t rand64(od_controller *c)
{
    if (c->cfg.random64)
        return c->cfg.random64(c->cfg.random_ctx);
    uint64_t v = 0;
    size_t got = 0;
    while (got < sizeof v) {
        ssize_t n = getrandom((uint8_t *)&v + got, sizeof v - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return v;
}

static void set_status(od_ctl_status *st, int16_t code, const char *msg)
{
    st->error_code = code;
    st->error_message = msg;
}

static int16_t metadata_version(const od_controller *c)
{
    return od_mimage_feature_level(c->img, OD_METADATA_VERSION_FEATURE);
}

/* ---------------------------------------------------------------- records and commit */

typedef struct rec_list {
    od_arena *arena;
    od_mrec *items;
    int32_t count, cap;
    bool oom;
} rec_list;

/* Appends an already built record; false (and rl->oom) when out of memory. */
static bool rec_append(rec_list *rl, od_mrec rec)
{
    if (!od_arena_grow(rl->arena, &rl->items, &rl->cap, rl->count + 1, sizeof *rl->items)) {
        rl->oom = true;
        return false;
    }
    rl->items[rl->count++] = rec;
    return true;
}

/* Appends a record of `type` whose zeroed message of `size` bytes the caller
 * fills; NULL when out of memory. */
static void *rec_push(rec_list *rl, int16_t type, int16_t version, size_t size)
{
    void *msg = od_arena_calloc(rl->arena, 1, size);
    if (!msg) {
        rl->oom = true;
        return NULL;
    }
    return rec_append(rl, (od_mrec){type, version, msg}) ? msg : NULL;
}

static od_kr_err check_active(const od_controller *c)
{
    if (c->failed)
        return OD_KR_FAILED;
    if (od_quorum_role_of(c->q) != OD_QUORUM_LEADER)
        return OD_KR_NOT_LEADER;
    return OD_KR_OK;
}

/* Keeps a grouped operation's records for the group's on_commit. Batches
 * of one group are consecutive in the log (nothing else appends between
 * them on this thread), so the group's records are one run of offsets. */
static od_kr_err group_add(od_controller *c, const rec_list *rl, int64_t first)
{
    if (c->group_count == 0)
        c->group_first = first;
    else if (c->group_first + c->group_count != first)
        return OD_KR_CORRUPT;
    if (c->group_count + rl->count > c->group_cap) {
        int32_t cap = c->group_cap ? c->group_cap : 64;
        while (cap < c->group_count + rl->count)
            cap *= 2;
        od_mrec *n = realloc(c->group_recs, (size_t)cap * sizeof *n);
        if (!n)
            return OD_KR_NO_MEMORY;
        c->group_recs = n;
        c->group_cap = cap;
    }
    memcpy(c->group_recs + c->group_count, rl->items, (size_t)rl->count * sizeof *rl->items);
    c->group_count += rl->count;
    return OD_KR_OK;
}

/* Steps 3 and 4 of the operation path (controller.h). Inside a group the
 * batch is appended without waiting for the fsync and applied at once (the
 * image runs ahead of the durable log, for the group's later validations
 * only: invariant 9); on_commit waits for od_controller_group_commit. */
static od_kr_err commit(od_controller *c, rec_list *rl, int64_t now_ms, int64_t *first_offset)
{
    if (rl->oom)
        return OD_KR_NO_MEMORY;
    if (rl->count == 0)
        return OD_KR_OK;
    int64_t last = -1;
    od_kr_err err = c->grouping
                        ? od_quorum_append_unsynced(c->q, rl->items, rl->count, now_ms, &last)
                        : od_quorum_append(c->q, rl->items, rl->count, now_ms, &last);
    if (err == OD_KR_IO || err == OD_KR_FAILED)
        c->failed = true;
    if (err != OD_KR_OK)
        return err;
    int64_t first = last - rl->count + 1;
    int32_t epoch = od_quorum_epoch(c->q);
    for (int32_t i = 0; i < rl->count; i++) {
        if (replay_record(&c->rp, &rl->items[i], first + i, epoch) != OD_MI_OK) {
            c->failed = true; /* invariant 3 */
            return OD_KR_CORRUPT;
        }
    }
    if (c->grouping) {
        /* The batch is in the log: losing track of it now would answer its
         * operation as if it had never been written. */
        if ((err = group_add(c, rl, first)) != OD_KR_OK) {
            c->failed = true;
            return err;
        }
    } else if (c->cfg.on_commit)
        c->cfg.on_commit(c->cfg.commit_ctx, rl->items, rl->count, first, c->img);
    if (first_offset)
        *first_offset = first;
    return OD_KR_OK;
}

void od_controller_group_begin(od_controller *c)
{
    c->grouping = true;
    c->group_count = 0;
}

od_kr_err od_controller_group_commit(od_controller *c, int64_t now_ms)
{
    c->grouping = false;
    int32_t count = c->group_count;
    c->group_count = 0;
    if (count == 0)
        return OD_KR_OK;
    /* Appended but not known durable: the outcome is unknown (OD_KR_IO). */
    if (c->failed)
        return OD_KR_IO;
    od_kr_err err = od_quorum_flush(c->q, now_ms);
    if (err != OD_KR_OK) {
        c->failed = true;
        return err == OD_KR_FAILED ? OD_KR_IO : err;
    }
    if (c->cfg.on_commit)
        c->cfg.on_commit(c->cfg.commit_ctx, c->group_recs, count, c->group_first, c->img);
    return OD_KR_OK;
}

/* ---------------------------------------------------------------- replay */

static od_st_err apply_entry(void *ctx, const od_raft_entry *e)
{
    replayer *r = ctx;
    if (e->control) {
        replay_advance(r, e->offset, e->epoch);
        return OD_ST_OK;
    }
    od_mi_err err = replay_record(r, &e->rec, e->offset, e->epoch);
    return err == OD_MI_OK ? OD_ST_OK : err == OD_MI_NO_MEMORY ? OD_ST_NO_MEMORY : OD_ST_CORRUPT;
}

static od_st_err replay_batch(void *ctx, const uint8_t *batch, size_t len)
{
    replayer *r = ctx;
    od_arena arena;
    od_arena_init(&arena);
    od_st_err err = od_raft_batch_visit(batch, len, replay_next_offset(r), &arena, apply_entry, r);
    od_arena_release(&arena);
    return err;
}

/* Loads the latest snapshot of the log's directory into img; *from is
 * where log replay continues (0 without a snapshot). */
static od_kr_err load_latest_snapshot(od_fio *io, const od_raft_log *log, od_mimage *img,
                                      int64_t *from)
{
    const char *partition_dir = od_raft_log_dir(log);
    od_snapshot_id id;
    bool found = false;
    *from = 0;
    od_kr_err err = od_snapshot_latest(io, partition_dir, &id, &found);
    if (err != OD_KR_OK)
        return err;
    /* The records between the snapshot and the log start would be missing
     * (invariant 10 keeps that from happening short of lost files). */
    if (od_raft_log_start_offset(log) > (found ? id.end_offset : 0))
        return OD_KR_CORRUPT;
    if (!found)
        return OD_KR_OK;
    /* A log shorter than its snapshot (the log was lost or cut) would need
     * the log to restart at the snapshot: not supported yet. */
    if (id.end_offset > od_raft_log_end_offset(log))
        return OD_KR_CORRUPT;
    err = od_snapshot_load(io, partition_dir, id, img);
    if (err == OD_KR_OK)
        *from = id.end_offset;
    return err;
}

od_kr_err od_metadata_replay_dir(od_fio *io, const char *metadata_log_dir, int64_t now_ms,
                                 od_mimage *img)
{
    od_raft_log *log;
    od_st_err err = od_raft_log_open(io, metadata_log_dir, NULL, now_ms, &log);
    if (err != OD_ST_OK)
        return err == OD_ST_NO_MEMORY ? OD_KR_NO_MEMORY : OD_KR_IO;
    int64_t from = 0;
    od_kr_err kerr = load_latest_snapshot(io, log, img, &from);
    if (kerr != OD_KR_OK) {
        od_raft_log_close(log, false);
        return kerr;
    }
    replayer rp = {img, NULL};
    err = od_raft_log_scan(log, from, od_raft_log_end_offset(log), replay_batch, &rp);
    od_raft_log_close(log, false);
    /* A transaction the log never ended is not part of the metadata. */
    od_mimage_free(rp.txn);
    switch (err) {
    case OD_ST_OK: return OD_KR_OK;
    case OD_ST_NO_MEMORY: return OD_KR_NO_MEMORY;
    case OD_ST_CORRUPT: return OD_KR_CORRUPT;
    default: return OD_KR_IO;
    }
}

/* ---------------------------------------------------------------- bootstrap */

static od_kr_err write_bootstrap(od_controller *c, int64_t now_ms)
{
    od_arena arena;
    od_arena_init(&arena);
    od_mrec *boot = NULL;
    int32_t boot_count = 0;
    bool found = false;
    od_kr_err err = od_bootstrap_read(c->cfg.io, c->metadata_log_dir, &arena, &boot, &boot_count,
                                      &found);
    od_feature_level_record mv_rec;
    od_mrec mv_only;
    if (err == OD_KR_OK && !found) {
        od_feature_level_record_init(&mv_rec);
        mv_rec.name = view(OD_METADATA_VERSION_FEATURE);
        mv_rec.feature_level = c->cfg.metadata_version > 0 ? c->cfg.metadata_version : OD_MV_LATEST;
        mv_only = (od_mrec){OD_MREC_FEATURE_LEVEL, 0, &mv_rec};
        boot = &mv_only;
        boot_count = 1;
    }
    if (err != OD_KR_OK) {
        od_arena_release(&arena);
        return err;
    }
    int16_t mv = od_bootstrap_metadata_version(boot, boot_count);
    rec_list rl = {.arena = &arena};
    if (mv >= OD_MV_3_6_IV1) {
        od_begin_transaction_record *b =
            rec_push(&rl, OD_MREC_BEGIN_TRANSACTION, 0, sizeof(od_begin_transaction_record));
        if (b) {
            od_begin_transaction_record_init(b);
            b->name = view("Bootstrap records");
        }
    }
    for (int32_t i = 0; i < boot_count; i++)
        rec_append(&rl, boot[i]);
    if (mv >= OD_MV_3_4_IV0) {
        od_zk_migration_state_record *z =
            rec_push(&rl, OD_MREC_ZK_MIGRATION_STATE, 0, sizeof(od_zk_migration_state_record));
        if (z)
            od_zk_migration_state_record_init(z); /* NONE */
    }
    if (mv >= OD_MV_3_6_IV1) {
        od_end_transaction_record *e =
            rec_push(&rl, OD_MREC_END_TRANSACTION, 0, sizeof(od_end_transaction_record));
        if (e)
            od_end_transaction_record_init(e);
    }
    err = commit(c, &rl, now_ms, NULL);
    od_arena_release(&arena);
    return err;
}

static od_kr_err abort_open_transaction(od_controller *c, int64_t now_ms)
{
    od_arena arena;
    od_arena_init(&arena);
    rec_list rl = {.arena = &arena};
    od_abort_transaction_record *r =
        rec_push(&rl, OD_MREC_ABORT_TRANSACTION, 0, sizeof(od_abort_transaction_record));
    if (r) {
        od_abort_transaction_record_init(r);
        r->reason = view("Controller failover");
    }
    od_kr_err err = commit(c, &rl, now_ms, NULL);
    od_arena_release(&arena);
    return err;
}

/* ---------------------------------------------------------------- open / close */

od_kr_err od_controller_open(const od_controller_config *cfg, int64_t now_ms,
                             od_controller **out)
{
    if (!cfg->io || !cfg->metadata_log_dir || cfg->voter_count < 1 ||
        cfg->voter_count > MAX_VOTERS)
        return OD_KR_INVALID;
    od_controller *c = calloc(1, sizeof *c);
    if (!c)
        return OD_KR_NO_MEMORY;
    c->cfg = *cfg;
    memcpy(c->voters, cfg->voters, (size_t)cfg->voter_count * sizeof *cfg->voters);
    c->cfg.voters = c->voters;
    c->metadata_log_dir = strdup(cfg->metadata_log_dir);
    c->cluster_id = cfg->cluster_id ? strdup(cfg->cluster_id) : NULL;
    c->cfg.metadata_log_dir = c->metadata_log_dir;
    c->cfg.cluster_id = c->cluster_id;
    c->img = od_mimage_new();
    c->rp.img = c->img;
    od_kr_err err = OD_KR_NO_MEMORY;
    if (!c->metadata_log_dir || (cfg->cluster_id && !c->cluster_id) || !c->img)
        goto fail;
    od_quorum_config qc = {
        .io = cfg->io,
        .metadata_log_dir = cfg->metadata_log_dir,
        .node_id = cfg->node_id,
        .voters = c->voters,
        .voter_count = cfg->voter_count,
        .log = cfg->log,
    };
    err = od_quorum_open(&qc, now_ms, &c->q);
    if (err != OD_KR_OK)
        goto fail;
    int64_t from = 0;
    err = load_latest_snapshot(cfg->io, od_quorum_log(c->q), c->img, &from);
    if (err != OD_KR_OK)
        goto fail;
    err = od_quorum_poll(c->q, now_ms);
    if (err != OD_KR_OK)
        goto fail;
    err = od_quorum_read_committed(c->q, from, apply_entry, &c->rp);
    if (err != OD_KR_OK)
        goto fail;
    if (c->rp.txn) {
        /* The previous leader died inside a transaction: end it, as Kafka's
         * new active controller does, so its records never apply. */
        err = abort_open_transaction(c, now_ms);
        if (err != OD_KR_OK)
            goto fail;
    }
    if (metadata_version(c) <= 0) {
        err = write_bootstrap(c, now_ms);
        if (err != OD_KR_OK)
            goto fail;
    }
    *out = c;
    return OD_KR_OK;
fail:
    od_controller_close(c, false);
    return err;
}

od_kr_err od_controller_close(od_controller *c, bool clean)
{
    if (!c)
        return OD_KR_OK;
    od_kr_err err = od_quorum_close(c->q, clean && !c->failed);
    od_mimage_free(c->rp.txn);
    od_mimage_free(c->img);
    free(c->group_recs);
    free(c->metadata_log_dir);
    free(c->cluster_id);
    free(c);
    return err;
}

const od_mimage *od_controller_image(const od_controller *c) { return c->img; }

od_kr_err od_controller_snapshot(od_controller *c, int64_t now_ms, od_snapshot_id *id)
{
    if (c->failed)
        return OD_KR_FAILED;
    if (c->grouping)
        return OD_KR_INVALID; /* the image may be ahead of the durable log */
    od_snapshot_id sid = {od_mimage_last_offset(c->img) + 1, od_mimage_last_epoch(c->img)};
    if (sid.end_offset <= 0)
        return OD_KR_INVALID;
    od_kr_err err = od_snapshot_write(c->cfg.io, od_raft_log_dir(od_quorum_log(c->q)), c->img, sid,
                                      now_ms, now_ms);
    if (err == OD_KR_OK && id)
        *id = sid;
    return err;
}

od_kr_err od_controller_clean_log(od_controller *c, int64_t now_ms, int *deleted)
{
    if (deleted)
        *deleted = 0;
    if (c->failed)
        return OD_KR_FAILED;
    od_raft_log *log = od_quorum_log(c->q);
    const char *dir = od_raft_log_dir(log);
    od_snapshot_file *snaps;
    size_t n;
    od_kr_err err = od_snapshot_list(c->cfg.io, dir, &snaps, &n);
    if (err != OD_KR_OK)
        return err;
    int64_t snapshot_bytes = 0;
    for (size_t i = 0; i < n; i++)
        snapshot_bytes += snaps[i].bytes;
    size_t oldest = 0;
    for (; oldest + 1 < n; oldest++) {
        bool over_size = c->cfg.retention_bytes >= 0 &&
                         od_raft_log_size_bytes(log) + snapshot_bytes > c->cfg.retention_bytes;
        bool over_age = c->cfg.retention_ms >= 0 &&
                        now_ms - snaps[oldest].mtime_ms > c->cfg.retention_ms;
        if (!over_size && !over_age)
            break;
        /* A crash between the two steps leaves an older snapshot that no
         * open loads (only the latest is) and the next clean removes. */
        od_st_err st = od_raft_log_delete_before(log, snaps[oldest + 1].id.end_offset);
        if (st != OD_ST_OK) {
            err = st == OD_ST_NO_MEMORY ? OD_KR_NO_MEMORY : OD_KR_IO;
            break;
        }
        err = od_snapshot_delete(c->cfg.io, dir, snaps[oldest].id);
        if (err != OD_KR_OK)
            break;
        snapshot_bytes -= snaps[oldest].bytes;
        if (deleted)
            (*deleted)++;
    }
    free(snaps);
    return err;
}

od_quorum *od_controller_quorum(od_controller *c) { return c->q; }

/* ---------------------------------------------------------------- brokers */

static int16_t register_broker_version(int16_t mv)
{
    if (mv >= OD_MV_3_7_IV2)
        return 3;
    if (mv >= OD_MV_3_4_IV0)
        return 2;
    return 1;
}

od_kr_err od_controller_register_broker(od_controller *c,
                                        const od_broker_registration_request *req,
                                        int64_t now_ms, od_arena *arena, od_ctl_status *status,
                                        int64_t *broker_epoch)
{
    od_kr_err err = check_active(c);
    if (err != OD_KR_OK)
        return err;
    set_status(status, OD_KERR_NONE, NULL);
    if (c->cluster_id && !od_str_eq_cstr(req->cluster_id, c->cluster_id)) {
        set_status(status, OD_KERR_INCONSISTENT_CLUSTER_ID,
                   msgf(arena, "Expected cluster ID %s, but got cluster ID %.*s", c->cluster_id,
                        (int)(req->cluster_id.len > 0 ? req->cluster_id.len : 0),
                        req->cluster_id.ptr ? req->cluster_id.ptr : ""));
        return OD_KR_OK;
    }
    int16_t mv = metadata_version(c);
    int16_t min = 0, max = 0;
    for (int32_t i = 0; i < req->features.count; i++) {
        const od_broker_registration_request_feature *f = &req->features.items[i];
        if (od_str_eq_cstr(f->name, OD_METADATA_VERSION_FEATURE)) {
            min = f->min_supported_version;
            max = f->max_supported_version;
        }
    }
    if (mv < min || mv > max) {
        set_status(status, OD_KERR_UNSUPPORTED_VERSION,
                   msgf(arena,
                        "Unable to register because the broker does not support version %d of "
                        "metadata.version. It wants a version between %d and %d, inclusive.",
                        mv, min, max));
        return OD_KR_OK;
    }
    rec_list rl = {.arena = arena};
    int16_t version = register_broker_version(mv);
    od_register_broker_record *r =
        rec_push(&rl, OD_MREC_REGISTER_BROKER, version, sizeof(od_register_broker_record));
    if (!r)
        return OD_KR_NO_MEMORY;
    od_register_broker_record_init(r);
    int64_t epoch = od_quorum_end_offset(c->q); /* invariant 4: where the record lands */
    r->broker_id = req->broker_id;
    r->incarnation_id = req->incarnation_id;
    r->broker_epoch = epoch;
    r->rack = req->rack;
    r->fenced = true;
    if (version >= 2)
        r->is_migrating_zk_broker = req->is_migrating_zk_broker;
    if (version >= 3)
        r->log_dirs = req->log_dirs;
    int32_t n = req->listeners.count > 0 ? req->listeners.count : 0;
    r->end_points.count = n;
    r->end_points.items = od_arena_calloc(arena, (size_t)(n ? n : 1), sizeof *r->end_points.items);
    int32_t nf = req->features.count > 0 ? req->features.count : 0;
    r->features.count = nf;
    r->features.items = od_arena_calloc(arena, (size_t)(nf ? nf : 1), sizeof *r->features.items);
    if (!r->end_points.items || !r->features.items)
        return OD_KR_NO_MEMORY;
    for (int32_t i = 0; i < n; i++) {
        const od_broker_registration_request_listener *l = &req->listeners.items[i];
        od_register_broker_record_broker_endpoint *e = &r->end_points.items[i];
        od_register_broker_record_broker_endpoint_init(e);
        e->name = l->name;
        e->host = l->host;
        e->port = l->port;
        e->security_protocol = l->security_protocol;
    }
    for (int32_t i = 0; i < nf; i++) {
        const od_broker_registration_request_feature *f = &req->features.items[i];
        od_register_broker_record_broker_feature *o = &r->features.items[i];
        od_register_broker_record_broker_feature_init(o);
        o->name = f->name;
        o->min_supported_version = f->min_supported_version;
        o->max_supported_version = f->max_supported_version;
    }
    int64_t first = -1;
    err = commit(c, &rl, now_ms, &first);
    if (err != OD_KR_OK)
        return err;
    if (first != epoch) {
        c->failed = true; /* the log moved under us: cannot happen with one owner */
        return OD_KR_CORRUPT;
    }
    *broker_epoch = epoch;
    return OD_KR_OK;
}

static const char *stale_epoch_message(od_arena *arena, const od_mi_broker *b, int32_t id,
                                       int64_t epoch)
{
    if (!b)
        return msgf(arena, "No broker registration found for broker %" PRId32, id);
    return msgf(arena, "Expected broker epoch %" PRId64 ", but got broker epoch %" PRId64,
                b->epoch, epoch);
}

od_kr_err od_controller_unfence_broker(od_controller *c, int32_t broker_id, int64_t broker_epoch,
                                       int64_t now_ms, od_arena *arena, od_ctl_status *status)
{
    od_kr_err err = check_active(c);
    if (err != OD_KR_OK)
        return err;
    set_status(status, OD_KERR_NONE, NULL);
    const od_mi_broker *b = od_mimage_broker(c->img, broker_id);
    if (!b || b->epoch != broker_epoch) {
        set_status(status, OD_KERR_STALE_BROKER_EPOCH,
                   stale_epoch_message(arena, b, broker_id, broker_epoch));
        return OD_KR_OK;
    }
    if (!b->fenced)
        return OD_KR_OK;
    rec_list rl = {.arena = arena};
    od_broker_registration_change_record *r = rec_push(
        &rl, OD_MREC_BROKER_REGISTRATION_CHANGE, 0, sizeof(od_broker_registration_change_record));
    if (!r)
        return OD_KR_NO_MEMORY;
    od_broker_registration_change_record_init(r);
    r->broker_id = broker_id;
    r->broker_epoch = broker_epoch;
    r->fenced = -1;
    return commit(c, &rl, now_ms, NULL);
}

/* ---------------------------------------------------------------- topic names */

static bool legal_topic_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

/* Kafka's server-side topic name rules; NULL when the name is legal. */
static const char *topic_name_error(od_arena *a, od_str name)
{
    if (name.len <= 0)
        return "Topic name is invalid: the empty string is not allowed";
    if ((name.len == 1 && name.ptr[0] == '.') ||
        (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
        return msgf(a, "Topic name is invalid: '%.*s' is not allowed", (int)name.len, name.ptr);
    if (name.len > OD_TOPIC_NAME_MAX)
        return msgf(a,
                    "Topic name is invalid: the length of '%.*s' is longer than the max allowed "
                    "length %d",
                    (int)name.len, name.ptr, OD_TOPIC_NAME_MAX);
    for (int32_t i = 0; i < name.len; i++)
        if (!legal_topic_char(name.ptr[i]))
            return msgf(a,
                        "Topic name is invalid: '%.*s' contains one or more characters other "
                        "than ASCII alphanumerics, '.', '_' and '-'",
                        (int)name.len, name.ptr);
    return NULL;
}

/* Equal once '.' and '_' are taken as the same character (they collide in
 * metric names). */
static bool names_collide(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i] == '.' ? '_' : a[i];
        char y = b[i] == '.' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return true;
}

static bool has_collision_chars(od_str s)
{
    return memchr(s.ptr, '.', (size_t)s.len) || memchr(s.ptr, '_', (size_t)s.len);
}

/* Names created earlier in the same request (invariant 7). */
typedef struct pending_names {
    od_str *names;
    int32_t count;
} pending_names;

static const char *colliding_topic(const od_controller *c, od_str name)
{
    if (!has_collision_chars(name))
        return NULL;
    /* A scan: collisions are rare and topic creation is not a hot path; an
     * index by normalised name is the refinement if it ever shows up. */
    for (size_t i = 0; i < od_mimage_topic_count(c->img); i++) {
        const od_mi_topic *t = od_mimage_topic_at(c->img, i);
        if (names_collide(t->name, strlen(t->name), name.ptr, (size_t)name.len))
            return t->name;
    }
    return NULL;
}

static const od_str *colliding_pending(const pending_names *p, od_str name)
{
    for (int32_t i = 0; i < p->count; i++)
        if (names_collide(p->names[i].ptr, (size_t)p->names[i].len, name.ptr, (size_t)name.len))
            return &p->names[i];
    return NULL;
}

static const od_mi_topic *topic_by_name(const od_controller *c, od_str name)
{
    if (name.len < 0)
        return NULL;
    return od_mimage_topic_by_name(c->img, name.ptr, (size_t)name.len);
}

/* Kafka's Uuid.randomUuid rules (invariant 5). */
static od_uuid new_topic_id(od_controller *c)
{
    for (;;) {
        od_uuid u;
        uint64_t a = rand64(c), b = rand64(c);
        memcpy(u.bytes, &a, 8);
        memcpy(u.bytes + 8, &b, 8);
        u.bytes[6] = (uint8_t)((u.bytes[6] & 0x0f) | 0x40);
        u.bytes[8] = (uint8_t)((u.bytes[8] & 0x3f) | 0x80);
        od_uuid meta = OD_METADATA_TOPIC_ID;
        if (od_uuid_is_zero(&u) || od_uuid_eq(&u, &meta))
            continue;
        if ((u.bytes[0] >> 2) == 62) /* base64url '-' first */
            continue;
        if (od_mimage_topic_by_id(c->img, &u))
            continue;
        return u;
    }
}

/* ---------------------------------------------------------------- placement */

static bool broker_active(const od_mi_broker *b)
{
    return !b->fenced && !b->in_controlled_shutdown;
}

/* Places `partitions` partitions of `rf` replicas: leaders rotate over the
 * active brokers from a random start, followers are the next brokers by id.
 * Returns 0 and fills out[p * rf + j], or an error code and message. */
static int16_t place_replicas(od_controller *c, od_arena *a, int32_t partitions, int16_t rf,
                              int32_t **out, const char **msg)
{
    size_t total = od_mimage_broker_count(c->img);
    size_t active = 0;
    for (size_t i = 0; i < total; i++)
        active += broker_active(od_mimage_broker_at(c->img, i));
    const char *why = NULL;
    if (active == 0)
        why = "All brokers are currently fenced.";
    else if ((size_t)rf > total)
        why = msgf(a, "The target replication factor of %d cannot be reached because only %zu "
                      "broker(s) are registered.",
                   rf, total);
    if (why) {
        *msg = msgf(a, "Unable to replicate the partition %d time(s): %s", rf, why);
        return OD_KERR_INVALID_REPLICATION_FACTOR;
    }
    int32_t *r = od_arena_alloc(a, (size_t)partitions * (size_t)rf * sizeof *r);
    size_t *act = od_arena_alloc(a, active * sizeof *act);
    if (!r || !act) {
        *msg = NULL;
        return OD_KERR_UNKNOWN_SERVER_ERROR;
    }
    size_t k = 0;
    for (size_t i = 0; i < total; i++)
        if (broker_active(od_mimage_broker_at(c->img, i)))
            act[k++] = i;
    size_t start = (size_t)(rand64(c) % active);
    for (int32_t p = 0; p < partitions; p++) {
        size_t leader = act[(start + (size_t)p) % active];
        for (int16_t j = 0; j < rf; j++)
            r[(size_t)p * (size_t)rf + (size_t)j] =
                od_mimage_broker_at(c->img, (leader + (size_t)j) % total)->id;
    }
    *out = r;
    return OD_KERR_NONE;
}

/* Checks one explicit replica list; 0 or an error with its message. */
static int16_t check_assignment(od_controller *c, od_arena *a, const int32_t *ids, int32_t n,
                                int32_t expected_rf, const char **msg)
{
    if (n <= 0) {
        *msg = "The manual partition assignment includes an empty replica list.";
        return OD_KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    for (int32_t i = 0; i < n; i++) {
        for (int32_t j = 0; j < i; j++)
            if (ids[j] == ids[i]) {
                *msg = msgf(a,
                            "The manual partition assignment includes the broker %" PRId32
                            " more than once.",
                            ids[i]);
                return OD_KERR_INVALID_REPLICA_ASSIGNMENT;
            }
        if (!od_mimage_broker(c->img, ids[i])) {
            *msg = msgf(a,
                        "The manual partition assignment includes broker %" PRId32
                        ", but no such broker is registered.",
                        ids[i]);
            return OD_KERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    if (expected_rf > 0 && n != expected_rf) {
        *msg = msgf(a,
                    "The manual partition assignment includes a partition with %" PRId32
                    " replica(s), but this is not consistent with previous partitions, which "
                    "have %" PRId32 " replica(s).",
                    n, expected_rf);
        return OD_KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    return OD_KERR_NONE;
}

static int32_t active_count(const od_controller *c, const int32_t *ids, int32_t n)
{
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++) {
        const od_mi_broker *b = od_mimage_broker(c->img, ids[i]);
        k += b && broker_active(b);
    }
    return k;
}

/* Kafka's ClusterControlManager.defaultDir: a broker's only directory, else
 * unassigned (several) or migrating (none registered). */
static od_uuid default_dir(const od_controller *c, int32_t id)
{
    const od_mi_broker *b = od_mimage_broker(c->img, id);
    if (!b)
        return OD_DIR_UNASSIGNED;
    if (b->log_dir_count == 0)
        return OD_DIR_MIGRATING;
    if (b->log_dir_count == 1)
        return b->log_dirs[0];
    return OD_DIR_UNASSIGNED;
}

/* A PartitionRecord for a new partition: ISR = the active replicas in order,
 * leader = the first of them. */
static bool push_partition(od_controller *c, rec_list *rl, const od_uuid *topic_id, int32_t pid,
                           const int32_t *replicas, int32_t n)
{
    int16_t version = metadata_version(c) >= OD_MV_3_7_IV2 ? 1 : 0;
    od_partition_record *r = rec_push(rl, OD_MREC_PARTITION, version, sizeof *r);
    int32_t *reps = od_arena_alloc(rl->arena, (size_t)n * sizeof *reps);
    int32_t *isr = od_arena_alloc(rl->arena, (size_t)n * sizeof *isr);
    od_uuid *dirs = od_arena_alloc(rl->arena, (size_t)n * sizeof *dirs);
    if (!r || !reps || !isr || !dirs) {
        rl->oom = true;
        return false;
    }
    od_partition_record_init(r);
    int32_t ni = 0;
    for (int32_t i = 0; i < n; i++) {
        reps[i] = replicas[i];
        const od_mi_broker *b = od_mimage_broker(c->img, replicas[i]);
        if (b && broker_active(b))
            isr[ni++] = replicas[i];
        dirs[i] = default_dir(c, replicas[i]);
    }
    r->partition_id = pid;
    r->topic_id = *topic_id;
    r->replicas = (od_int32_array){n, reps};
    r->isr = (od_int32_array){ni, isr};
    r->removing_replicas = (od_int32_array){0, NULL};
    r->adding_replicas = (od_int32_array){0, NULL};
    r->leader = ni > 0 ? isr[0] : OD_NO_LEADER;
    r->leader_recovery_state = 0;
    r->leader_epoch = 0;
    r->partition_epoch = 0;
    if (version >= 1)
        r->directories = (od_uuid_array){n, dirs};
    return true;
}

/* ---------------------------------------------------------------- config helpers */

static int16_t validate_config(od_controller *c, od_arena *a, int8_t type, const char *resource,
                               const char *key, const char *value, const char **msg)
{
    if (!c->cfg.validate_config)
        return OD_KERR_NONE;
    char buf[512];
    buf[0] = '\0';
    int16_t code = c->cfg.validate_config(c->cfg.config_ctx, type, resource, key, value, buf,
                                          sizeof buf);
    if (code != OD_KERR_NONE)
        *msg = buf[0] ? msgf(a, "%s", buf) : NULL;
    return code;
}

static bool push_config(rec_list *rl, int8_t type, od_str resource, od_str key, od_str value)
{
    od_config_record *r = rec_push(rl, OD_MREC_CONFIG, 0, sizeof *r);
    if (!r)
        return false;
    od_config_record_init(r);
    r->resource_type = type;
    r->resource_name = resource;
    r->name = key;
    r->value = value;
    return true;
}

/* ---------------------------------------------------------------- CreateTopics */

od_kr_err od_controller_create_topics(od_controller *c, const od_create_topics_request *req,
                                      int64_t now_ms, od_arena *arena,
                                      od_ctl_topic_result **results)
{
    od_kr_err err = check_active(c);
    if (err != OD_KR_OK)
        return err;
    int32_t n = req->topics.count > 0 ? req->topics.count : 0;
    od_ctl_topic_result *res = od_arena_calloc(arena, (size_t)(n ? n : 1), sizeof *res);
    pending_names pend = {od_arena_alloc(arena, (size_t)(n ? n : 1) * sizeof(od_str)), 0};
    if (!res || !pend.names)
        return OD_KR_NO_MEMORY;
    rec_list rl = {.arena = arena};
    int32_t records = 0;
    int32_t default_partitions = c->cfg.default_num_partitions > 0 ? c->cfg.default_num_partitions : 1;
    int16_t default_rf = c->cfg.default_replication_factor > 0 ? c->cfg.default_replication_factor : 1;

    for (int32_t i = 0; i < n; i++) {
        const od_create_topics_request_creatable_topic *t = &req->topics.items[i];
        od_ctl_topic_result *r = &res[i];
        r->name = t->name;
        r->num_partitions = -1;
        r->replication_factor = -1;
        const char *msg = NULL;
        int16_t code = OD_KERR_NONE;

        for (int32_t j = 0; j < n && code == OD_KERR_NONE; j++)
            if (j != i && od_str_eq(req->topics.items[j].name, t->name)) {
                code = OD_KERR_INVALID_REQUEST;
                msg = "Duplicate topic name.";
            }
        if (code == OD_KERR_NONE && (msg = topic_name_error(arena, t->name)) != NULL)
            code = OD_KERR_INVALID_TOPIC_EXCEPTION;
        if (code == OD_KERR_NONE && topic_by_name(c, t->name)) {
            code = OD_KERR_TOPIC_ALREADY_EXISTS;
            msg = msgf(arena, "Topic '%.*s' already exists.", (int)t->name.len, t->name.ptr);
        }
        if (code == OD_KERR_NONE) {
            const char *other = colliding_topic(c, t->name);
            const od_str *p = other ? NULL : colliding_pending(&pend, t->name);
            if (other || p) {
                code = OD_KERR_INVALID_TOPIC_EXCEPTION;
                msg = other ? msgf(arena, "Topic '%.*s' collides with existing topic: %s",
                                   (int)t->name.len, t->name.ptr, other)
                            : msgf(arena, "Topic '%.*s' collides with existing topic: %.*s",
                                   (int)t->name.len, t->name.ptr, (int)p->len, p->ptr);
            }
        }

        int32_t partitions = 0;
        int16_t rf = 0;
        int32_t *replicas = NULL; /* partitions * rf */
        if (code == OD_KERR_NONE && t->assignments.count > 0) {
            if (t->replication_factor != -1) {
                code = OD_KERR_INVALID_REQUEST;
                msg = "A manual partition assignment was specified, but replication factor was "
                      "not set to -1.";
            } else if (t->num_partitions != -1) {
                code = OD_KERR_INVALID_REQUEST;
                msg = "A manual partition assignment was specified, but numPartitions was not "
                      "set to -1.";
            }
            partitions = t->assignments.count;
            int32_t expected = 0;
            for (int32_t k = 0; k < partitions && code == OD_KERR_NONE; k++) {
                const od_int32_array *ids = &t->assignments.items[k].broker_ids;
                code = check_assignment(c, arena, ids->items, ids->count, expected, &msg);
                expected = ids->count;
            }
            if (code == OD_KERR_NONE) {
                rf = (int16_t)expected;
                replicas = od_arena_alloc(arena, (size_t)partitions * (size_t)rf * sizeof *replicas);
                bool *seen = od_arena_calloc(arena, (size_t)partitions, sizeof *seen);
                if (!replicas || !seen)
                    return OD_KR_NO_MEMORY;
                for (int32_t k = 0; k < partitions && code == OD_KERR_NONE; k++) {
                    int32_t idx = t->assignments.items[k].partition_index;
                    if (idx < 0 || idx >= partitions || seen[idx]) {
                        code = OD_KERR_INVALID_REPLICA_ASSIGNMENT;
                        msg = "partitions should be a consecutive 0-based integer sequence";
                        break;
                    }
                    seen[idx] = true;
                    memcpy(&replicas[(size_t)idx * (size_t)rf], t->assignments.items[k].broker_ids.items,
                           (size_t)rf * sizeof *replicas);
                }
                for (int32_t k = 0; k < partitions && code == OD_KERR_NONE; k++)
                    if (active_count(c, &replicas[(size_t)k * (size_t)rf], rf) == 0) {
                        code = OD_KERR_INVALID_REPLICA_ASSIGNMENT;
                        msg = msgf(arena,
                                   "All brokers specified in the manual partition assignment for "
                                   "partition %" PRId32 " are fenced or in controlled shutdown.",
                                   k);
                    }
            }
        } else if (code == OD_KERR_NONE) {
            if (t->replication_factor < -1 || t->replication_factor == 0) {
                code = OD_KERR_INVALID_REPLICATION_FACTOR;
                msg = "Replication factor must be larger than 0, or -1 to use the default value.";
            } else if (t->num_partitions < -1 || t->num_partitions == 0) {
                code = OD_KERR_INVALID_PARTITIONS;
                msg = "Number of partitions was set to an invalid non-positive value.";
            } else {
                partitions = t->num_partitions == -1 ? default_partitions : t->num_partitions;
                rf = t->replication_factor == -1 ? default_rf : t->replication_factor;
                if (records + partitions + 1 + (t->configs.count > 0 ? t->configs.count : 0) >
                    OD_MAX_RECORDS_PER_USER_OP) {
                    code = OD_KERR_POLICY_VIOLATION;
                    msg = "Unable to perform excessively large batch operation.";
                } else {
                    code = place_replicas(c, arena, partitions, rf, &replicas, &msg);
                }
            }
        }

        const char *tname = code == OD_KERR_NONE ? cstr(arena, t->name) : NULL;
        for (int32_t k = 0; code == OD_KERR_NONE && k < t->configs.count; k++) {
            const od_create_topics_request_creatable_topic_config *cf = &t->configs.items[k];
            if (cf->value.len < 0) {
                code = OD_KERR_INVALID_REQUEST;
                msg = msgf(arena, "Null value not supported for topic configs: %.*s",
                           (int)(cf->name.len > 0 ? cf->name.len : 0), cf->name.ptr);
                break;
            }
            code = validate_config(c, arena, OD_CONFIG_RESOURCE_TOPIC, tname,
                                   cstr(arena, cf->name), cstr(arena, cf->value), &msg);
        }
        if (code == OD_KERR_NONE && records + partitions + 1 + t->configs.count >
                                        OD_MAX_RECORDS_PER_USER_OP) {
            code = OD_KERR_POLICY_VIOLATION;
            msg = "Unable to perform excessively large batch operation.";
        }
        if (code != OD_KERR_NONE) {
            set_status(&r->status, code, msg);
            continue;
        }

        od_uuid id = new_topic_id(c);
        r->topic_id = id;
        r->num_partitions = partitions;
        r->replication_factor = rf;
        pend.names[pend.count++] = t->name;
        if (req->validate_only)
            continue;
        od_topic_record *tr = rec_push(&rl, OD_MREC_TOPIC, 0, sizeof *tr);
        if (!tr)
            return OD_KR_NO_MEMORY;
        od_topic_record_init(tr);
        tr->name = t->name;
        tr->topic_id = id;
        for (int32_t k = 0; k < t->configs.count; k++)
            if (!push_config(&rl, OD_CONFIG_RESOURCE_TOPIC, t->name, t->configs.items[k].name,
                             t->configs.items[k].value))
                return OD_KR_NO_MEMORY;
        for (int32_t p = 0; p < partitions; p++)
            if (!push_partition(c, &rl, &id, p, &replicas[(size_t)p * (size_t)rf], rf))
                return OD_KR_NO_MEMORY;
        records += 1 + t->configs.count + partitions;
    }
    err = commit(c, &rl, now_ms, NULL);
    if (err != OD_KR_OK)
        return err;
    *results = res;
    return OD_KR_OK;
}

/* ---------------------------------------------------------------- DeleteTopics */

od_kr_err od_controller_delete_topics(od_controller *c, const od_delete_topics_request *req,
                                      int64_t now_ms, od_arena *arena,
                                      od_ctl_topic_result **results, int32_t *count)
{
    od_kr_err err = check_active(c);
    if (err != OD_KR_OK)
        return err;
    int32_t nn = req->topic_names.count > 0 ? req->topic_names.count : 0;
    int32_t nt = req->topics.count > 0 ? req->topics.count : 0;
    int32_t n = nn + nt;
    od_ctl_topic_result *res = od_arena_calloc(arena, (size_t)(n ? n : 1), sizeof *res);
    od_uuid *removed = od_arena_alloc(arena, (size_t)(n ? n : 1) * sizeof *removed);
    if (!res || !removed)
        return OD_KR_NO_MEMORY;
    int32_t removed_count = 0;
    rec_list rl = {.arena = arena};
    for (int32_t i = 0; i < n; i++) {
        od_ctl_topic_result *r = &res[i];
        r->num_partitions = -1;
        r->replication_factor = -1;
        od_str name = OD_STR_NULL;
        od_uuid id = {{0}};
        if (i < nn) {
            name = req->topic_names.items[i];
        } else {
            name = req->topics.items[i - nn].name;
            id = req->topics.items[i - nn].topic_id;
        }
        r->name = name;
        r->topic_id = id;
        bool by_id = !od_uuid_is_zero(&id);
        bool dup = false;
        for (int32_t j = 0; j < n && !dup; j++) {
            if (j == i)
                continue;
            od_str oname = j < nn ? req->topic_names.items[j] : req->topics.items[j - nn].name;
            od_uuid oid = j < nn ? (od_uuid){{0}} : req->topics.items[j - nn].topic_id;
            bool oby_id = !od_uuid_is_zero(&oid);
            dup = by_id ? (oby_id && od_uuid_eq(&id, &oid))
                        : (!oby_id && name.len >= 0 && od_str_eq(name, oname));
        }
        if (dup) {
            set_status(&r->status, OD_KERR_INVALID_REQUEST,
                       by_id ? "Duplicate topic id." : "Duplicate topic name.");
            continue;
        }
        if (by_id && name.len >= 0) {
            set_status(&r->status, OD_KERR_INVALID_REQUEST,
                       "You may not specify both topic name and topic id.");
            continue;
        }
        const od_mi_topic *t = by_id ? od_mimage_topic_by_id(c->img, &id) : topic_by_name(c, name);
        if (!t) {
            /* Kafka's answer carries the error's default message (v5+) */
            if (by_id)
                set_status(&r->status, OD_KERR_UNKNOWN_TOPIC_ID, "This server does not host this topic ID.");
            else
                set_status(&r->status, OD_KERR_UNKNOWN_TOPIC_OR_PARTITION,
                           "This server does not host this topic-partition.");
            continue;
        }
        r->topic_id = t->id;
        char *copy = cstr(arena, view(t->name));
        if (!copy)
            return OD_KR_NO_MEMORY;
        r->name = view(copy);
        bool already = false;
        for (int32_t k = 0; k < removed_count; k++)
            already |= od_uuid_eq(&removed[k], &t->id);
        if (already)
            continue; /* by name and by id in one request: one removal */
        removed[removed_count++] = t->id;
        od_remove_topic_record *rt = rec_push(&rl, OD_MREC_REMOVE_TOPIC, 0, sizeof *rt);
        if (!rt)
            return OD_KR_NO_MEMORY;
        od_remove_topic_record_init(rt);
        rt->topic_id = t->id;
    }
    err = commit(c, &rl, now_ms, NULL);
    if (err != OD_KR_OK)
        return err;
    *results = res;
    *count = n;
    return OD_KR_OK;
}

/* ---------------------------------------------------------------- CreatePartitions */

od_kr_err od_controller_create_partitions(od_controller *c,
                                          const od_create_partitions_request *req,
                                          int64_t now_ms, od_arena *arena,
                                          od_ctl_topic_result **results)
{
    od_kr_err err = check_active(c);
    if (err != OD_KR_OK)
        return err;
    int32_t n = req->topics.count > 0 ? req->topics.count : 0;
    od_ctl_topic_result *res = od_arena_calloc(arena, (size_t)(n ? n : 1), sizeof *res);
    if (!res)
        return OD_KR_NO_MEMORY;
    rec_list rl = {.arena = arena};
    int32_t records = 0;
    for (int32_t i = 0; i < n; i++) {
        const od_create_partitions_request_create_partitions_topic *t = &req->topics.items[i];
        od_ctl_topic_result *r = &res[i];
        r->name = t->name;
        r->num_partitions = -1;
        r->replication_factor = -1;
        const char *msg = NULL;
        int16_t code = OD_KERR_NONE;
        for (int32_t j = 0; j < n && code == OD_KERR_NONE; j++)
            if (j != i && od_str_eq(req->topics.items[j].name, t->name)) {
                code = OD_KERR_INVALID_REQUEST;
                msg = "Duplicate topic name.";
            }
        const od_mi_topic *topic = code == OD_KERR_NONE ? topic_by_name(c, t->name) : NULL;
        if (code == OD_KERR_NONE && !topic)
            code = OD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        int32_t current = topic ? topic->partition_count : 0;
        int32_t rf = 0;
        if (topic && topic->partition_count > 0)
            rf = topic->partitions[0].replicas.count; /* new partitions follow the first */
        if (code == OD_KERR_NONE && t->count < current) {
            code = OD_KERR_INVALID_PARTITIONS;
            msg = msgf(arena,
                       "The topic %.*s currently has %" PRId32 " partition(s); %" PRId32
                       " would not be an increase.",
                       (int)t->name.len, t->name.ptr, current, t->count);
        } else if (code == OD_KERR_NONE && t->count == current) {
            code = OD_KERR_INVALID_PARTITIONS;
            msg = msgf(arena, "Topic already has %" PRId32 " partition(s).", current);
        }
        int32_t adding = code == OD_KERR_NONE ? t->count - current : 0;
        if (code == OD_KERR_NONE && records + adding > OD_MAX_RECORDS_PER_USER_OP) {
            code = OD_KERR_POLICY_VIOLATION;
            msg = "Unable to perform excessively large batch operation.";
        }
        int32_t *replicas = NULL;
        if (code == OD_KERR_NONE && t->assignments.count >= 0) {
            if (t->assignments.count != adding) {
                code = OD_KERR_INVALID_REPLICA_ASSIGNMENT;
                msg = msgf(arena,
                           "Attempted to add %" PRId32 " additional partition(s), but only %" PRId32
                           " assignment(s) were specified.",
                           adding, t->assignments.count);
            }
            replicas = od_arena_alloc(arena, (size_t)(adding ? adding : 1) * (size_t)(rf ? rf : 1) *
                                                 sizeof *replicas);
            if (!replicas)
                return OD_KR_NO_MEMORY;
            for (int32_t k = 0; k < adding && code == OD_KERR_NONE; k++) {
                const od_int32_array *ids = &t->assignments.items[k].broker_ids;
                code = check_assignment(c, arena, ids->items, ids->count, rf, &msg);
                if (code == OD_KERR_NONE && active_count(c, ids->items, ids->count) == 0) {
                    code = OD_KERR_INVALID_REPLICA_ASSIGNMENT;
                    msg = msgf(arena,
                               "All brokers specified in the manual partition assignment for "
                               "partition %" PRId32 " are fenced or in controlled shutdown.",
                               current + k);
                }
                if (code == OD_KERR_NONE)
                    memcpy(&replicas[(size_t)k * (size_t)rf], ids->items, (size_t)rf * sizeof *replicas);
            }
        } else if (code == OD_KERR_NONE) {
            code = place_replicas(c, arena, adding, (int16_t)rf, &replicas, &msg);
        }
        if (code != OD_KERR_NONE) {
            set_status(&r->status, code, msg);
            continue;
        }
        r->topic_id = topic->id;
        r->num_partitions = t->count;
        r->replication_factor = (int16_t)rf;
        if (req->validate_only)
            continue;
        for (int32_t k = 0; k < adding; k++)
            if (!push_partition(c, &rl, &topic->id, current + k, &replicas[(size_t)k * (size_t)rf], rf))
                return OD_KR_NO_MEMORY;
        records += adding;
    }
    err = commit(c, &rl, now_ms, NULL);
    if (err != OD_KR_OK)
        return err;
    *results = res;
    return OD_KR_OK;
}

/* ---------------------------------------------------------------- configs */

/* The resource checks both AlterConfigs flavours share. */
static int16_t check_config_resource(od_controller *c, od_arena *a, int8_t type, od_str name,
                                     const char **msg)
{
    switch (type) {
    case OD_CONFIG_RESOURCE_TOPIC:
        if (name.len <= 0) {
            *msg = "Default topic resources are not allowed.";
            return OD_KERR_INVALID_REQUEST;
        }
        if (!topic_by_name(c, name)) {
            *msg = msgf(a, "The topic '%.*s' does not exist.", (int)name.len, name.ptr);
            return OD_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        return OD_KERR_NONE;
    case OD_CONFIG_RESOURCE_BROKER:
        for (int32_t i = 0; i < name.len; i++)
            if ((name.ptr[i] < '0' || name.ptr[i] > '9') &&
                !(i == 0 && name.len > 1 && (name.ptr[0] == '+' || name.ptr[0] == '-'))) {
                *msg = msgf(a, "Illegal non-integral BROKER resource type name %.*s",
                            (int)name.len, name.ptr);
                return OD_KERR_INVALID_REQUEST;
            }
        return OD_KERR_NONE;
    case OD_CONFIG_RESOURCE_CLIENT_METRICS:
        if (name.len <= 0) {
            *msg = "Invalid empty CLIENT_METRICS resource name.";
            return OD_KERR_INVALID_REQUEST;
        }
        return OD_KERR_NONE;
    default:
        *msg = msgf(a, "Unsupported resource type %d.", type);
        return OD_KERR_INVALID_REQUEST;
    }
}

/* Comma-separated list edit for APPEND (add missing items) and SUBTRACT. */
static const char *list_edit(od_arena *a, const char *current, const char *arg, bool append)
{
    size_t cap = (current ? strlen(current) : 0) + (arg ? strlen(arg) : 0) + 2;
    char *out = od_arena_alloc(a, cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    size_t n = 0;
    /* True when `item` (len) appears in the list `s`. */
#define IN_LIST(s, item, len, found)                                                          \
    do {                                                                                      \
        found = false;                                                                        \
        const char *p_ = (s);                                                                 \
        while (p_ && *p_) {                                                                   \
            const char *e_ = strchr(p_, ',');                                                 \
            size_t l_ = e_ ? (size_t)(e_ - p_) : strlen(p_);                                  \
            if (l_ == (len) && memcmp(p_, (item), l_) == 0)                                   \
                found = true;                                                                 \
            p_ = e_ ? e_ + 1 : NULL;                                                          \
        }                                                                                     \
    } while (0)
    const char *p = current;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        bool drop = false;
        if (!append)
            IN_LIST(arg, p, l, drop);
        if (!drop && l) {
            if (n)
                out[n++] = ',';
            memcpy(out + n, p, l);
            n += l;
        }
        p = e ? e + 1 : NULL;
    }
    if (append) {
        p = arg;
        while (p && *p) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            bool have;
            IN_LIST(current, p, l, have);
            if (!have && l) {
                if (n)
                    out[n++] = ',';
                memcpy(out + n, p, l);
                n += l;
            }
            p = e ? e + 1 : NULL;
        }
    }
#undef IN_LIST
    out[n] = '\0';
    return out;
}

/* One key's change for a resource: NULL new_value deletes. */
typedef struct config_change {
    od_str key;
    const char *new_value;
} config_change;

/* Validates the changes of one resource and appends the ConfigRecords of
 * those that change something. Returns 0 or an error with its message. */
static int16_t stage_config_changes(od_controller *c, od_arena *a, rec_list *rl, int8_t type,
                                    od_str name, const config_change *ch, int32_t n,
                                    bool validate_only, const char **msg)
{
    char *rname = cstr(a, name.len >= 0 ? name : view(""));
    if (!rname)
        return OD_KERR_UNKNOWN_SERVER_ERROR;
    if (c->cfg.validate_resource) {
        const char **keys = od_arena_calloc(a, (size_t)(n ? n : 1), sizeof *keys);
        const char **values = od_arena_calloc(a, (size_t)(n ? n : 1), sizeof *values);
        if (!keys || !values)
            return OD_KERR_UNKNOWN_SERVER_ERROR;
        for (int32_t i = 0; i < n; i++) {
            keys[i] = cstr(a, ch[i].key);
            values[i] = ch[i].new_value;
            if (!keys[i])
                return OD_KERR_UNKNOWN_SERVER_ERROR;
        }
        char buf[1024];
        buf[0] = '\0';
        int16_t code = c->cfg.validate_resource(c->cfg.config_ctx, type, rname, keys, values, n, buf,
                                                sizeof buf);
        if (code != OD_KERR_NONE) {
            *msg = buf[0] ? msgf(a, "%s", buf) : NULL;
            return code;
        }
    } else {
        for (int32_t i = 0; i < n; i++) {
            int16_t code =
                validate_config(c, a, type, rname, cstr(a, ch[i].key), ch[i].new_value, msg);
            if (code != OD_KERR_NONE)
                return code;
        }
    }
    if (validate_only)
        return OD_KERR_NONE;
    for (int32_t i = 0; i < n; i++) {
        const char *cur = od_mimage_config(c->img, type, rname, cstr(a, ch[i].key));
        bool same = (!cur && !ch[i].new_value) ||
                    (cur && ch[i].new_value && strcmp(cur, ch[i].new_value) == 0);
        if (same)
            continue; /* Kafka writes no record for a change that changes nothing */
        if (!push_config(rl, type, view(rname), ch[i].key,
                         ch[i].new_value ? view(ch[i].new_value) : OD_STR_NULL))
            return OD_KERR_UNKNOWN_SERVER_ERROR;
    }
    return OD_KERR_NONE;
}

od_kr_err od_controller_incremental_alter_configs(
    od_controller *c, const od_incremental_alter_configs_request *req, int64_t now_ms,
    od_arena *arena, od_ctl_resource_result **results)
{
    od_kr_err err = check_active(c);
    if (err != OD_KR_OK)
        return err;
    int32_t n = req->resources.count > 0 ? req->resources.count : 0;
    od_ctl_resource_result *res = od_arena_calloc(arena, (size_t)(n ? n : 1), sizeof *res);
    if (!res)
        return OD_KR_NO_MEMORY;
    rec_list rl = {.arena = arena};
    for (int32_t i = 0; i < n; i++) {
        const od_incremental_alter_configs_request_alter_configs_resource *rs =
            &req->resources.items[i];
        od_ctl_resource_result *r = &res[i];
        r->resource_type = rs->resource_type;
        r->resource_name = rs->resource_name;
        const char *msg = NULL;
        int16_t code = check_config_resource(c, arena, rs->resource_type, rs->resource_name, &msg);
        int32_t m = rs->configs.count > 0 ? rs->configs.count : 0;
        config_change *ch = od_arena_calloc(arena, (size_t)(m ? m : 1), sizeof *ch);
        char *rname = cstr(arena, rs->resource_name);
        if (!ch || !rname)
            return OD_KR_NO_MEMORY;
        for (int32_t k = 0; k < m && code == OD_KERR_NONE; k++) {
            const od_incremental_alter_configs_request_alterable_config *cf = &rs->configs.items[k];
            for (int32_t j = 0; j < k; j++)
                if (od_str_eq(rs->configs.items[j].name, cf->name)) {
                    code = OD_KERR_INVALID_REQUEST;
                    msg = "Error due to duplicate config keys";
                }
            if (code != OD_KERR_NONE)
                break;
            char *key = cstr(arena, cf->name);
            const char *value = cf->value.len >= 0 ? cstr(arena, cf->value) : NULL;
            if (!key || (cf->value.len >= 0 && !value))
                return OD_KR_NO_MEMORY;
            ch[k].key = cf->name;
            switch (cf->config_operation) {
            case OD_CONFIG_OP_SET:
                if (!value) {
                    code = OD_KERR_INVALID_REQUEST;
                    msg = msgf(arena, "Null value not supported for : %s", key);
                }
                ch[k].new_value = value;
                break;
            case OD_CONFIG_OP_DELETE:
                ch[k].new_value = NULL;
                break;
            case OD_CONFIG_OP_APPEND:
            case OD_CONFIG_OP_SUBTRACT: {
                bool append = cf->config_operation == OD_CONFIG_OP_APPEND;
                if (c->cfg.is_list_config &&
                    !c->cfg.is_list_config(c->cfg.config_ctx, rs->resource_type, key)) {
                    code = OD_KERR_INVALID_CONFIG;
                    msg = msgf(arena, "Can't %s to key %s because its type is not LIST.",
                               append ? "APPEND" : "SUBTRACT", key);
                    break;
                }
                const char *cur = od_mimage_config(c->img, rs->resource_type, rname, key);
                ch[k].new_value = list_edit(arena, cur, value, append);
                if (!ch[k].new_value)
                    return OD_KR_NO_MEMORY;
                break;
            }
            default:
                code = OD_KERR_INVALID_REQUEST;
                msg = msgf(arena, "Unknown alter configs operation type %d", cf->config_operation);
            }
        }
        int32_t before = rl.count;
        if (code == OD_KERR_NONE)
            code = stage_config_changes(c, arena, &rl, rs->resource_type, rs->resource_name, ch, m,
                                        req->validate_only, &msg);
        if (code != OD_KERR_NONE) {
            rl.count = before; /* a resource changes all of its keys or none */
            set_status(&r->status, code, msg);
        }
    }
    err = commit(c, &rl, now_ms, NULL);
    if (err != OD_KR_OK)
        return err;
    *results = res;
    return OD_KR_OK;
}

od_kr_err od_controller_alter_configs(od_controller *c, const od_alter_configs_request *req,
                                      int64_t now_ms, od_arena *arena,
                                      od_ctl_resource_result **results)
{
    od_kr_err err = check_active(c);
    if (err != OD_KR_OK)
        return err;
    int32_t n = req->resources.count > 0 ? req->resources.count : 0;
    od_ctl_resource_result *res = od_arena_calloc(arena, (size_t)(n ? n : 1), sizeof *res);
    if (!res)
        return OD_KR_NO_MEMORY;
    rec_list rl = {.arena = arena};
    for (int32_t i = 0; i < n; i++) {
        const od_alter_configs_request_alter_configs_resource *rs = &req->resources.items[i];
        od_ctl_resource_result *r = &res[i];
        r->resource_type = rs->resource_type;
        r->resource_name = rs->resource_name;
        const char *msg = NULL;
        int16_t code = check_config_resource(c, arena, rs->resource_type, rs->resource_name, &msg);
        char *rname = cstr(arena, rs->resource_name);
        int32_t m = rs->configs.count > 0 ? rs->configs.count : 0;
        const od_mi_config_resource *cur = rname ? od_mimage_configs(c->img, rs->resource_type, rname) : NULL;
        int32_t existing = cur ? cur->count : 0;
        config_change *ch = od_arena_calloc(arena, (size_t)(m + existing + 1), sizeof *ch);
        if (!ch || !rname)
            return OD_KR_NO_MEMORY;
        int32_t nch = 0;
        /* AlterConfigs replaces the whole set: listed keys are set, every
         * other key of the resource is removed. */
        for (int32_t k = 0; k < m && code == OD_KERR_NONE; k++) {
            const od_alter_configs_request_alterable_config *cf = &rs->configs.items[k];
            for (int32_t j = 0; j < k; j++)
                if (od_str_eq(rs->configs.items[j].name, cf->name)) {
                    code = OD_KERR_INVALID_REQUEST;
                    msg = "Error due to duplicate config keys";
                }
            if (code == OD_KERR_NONE && cf->value.len < 0) {
                code = OD_KERR_INVALID_REQUEST;
                msg = msgf(arena, "Null value not supported for : %.*s",
                           (int)(cf->name.len > 0 ? cf->name.len : 0), cf->name.ptr);
            }
            ch[nch].key = cf->name;
            ch[nch].new_value = cstr(arena, cf->value);
            nch++;
        }
        for (int32_t k = 0; k < existing && code == OD_KERR_NONE; k++) {
            bool listed = false;
            for (int32_t j = 0; j < m; j++)
                listed |= od_str_eq_cstr(rs->configs.items[j].name, cur->entries[k].name);
            if (!listed) {
                char *key = cstr(arena, view(cur->entries[k].name));
                if (!key)
                    return OD_KR_NO_MEMORY;
                ch[nch].key = view(key);
                ch[nch].new_value = NULL;
                nch++;
            }
        }
        int32_t before = rl.count;
        if (code == OD_KERR_NONE)
            code = stage_config_changes(c, arena, &rl, rs->resource_type, rs->resource_name, ch,
                                        nch, req->validate_only, &msg);
        if (code != OD_KERR_NONE) {
            rl.count = before;
            set_status(&r->status, code, msg);
        }
    }
    err = commit(c, &rl, now_ms, NULL);
    if (err != OD_KR_OK)
        return err;
    *results = res;
    return OD_KR_OK;
}

/* ---------------------------------------------------------------- producer ids, features */

od_kr_err od_controller_allocate_producer_ids(od_controller *c, int32_t broker_id,
                                              int64_t broker_epoch, int64_t now_ms,
                                              od_arena *arena, od_ctl_status *status,
                                              int64_t *first_id, int32_t *count)
{
    od_kr_err err = check_active(c);
    if (err != OD_KR_OK)
        return err;
    set_status(status, OD_KERR_NONE, NULL);
    const od_mi_broker *b = od_mimage_broker(c->img, broker_id);
    if (!b || b->epoch != broker_epoch) {
        set_status(status, OD_KERR_STALE_BROKER_EPOCH,
                   stale_epoch_message(arena, b, broker_id, broker_epoch));
        return OD_KR_OK;
    }
    int64_t next = od_mimage_next_producer_id(c->img);
    if (next > INT64_MAX - OD_PRODUCER_ID_BLOCK_SIZE) {
        set_status(status, OD_KERR_UNKNOWN_SERVER_ERROR, "Exhausted all producerIds");
        return OD_KR_OK;
    }
    rec_list rl = {.arena = arena};
    od_producer_ids_record *r = rec_push(&rl, OD_MREC_PRODUCER_IDS, 0, sizeof *r);
    if (!r)
        return OD_KR_NO_MEMORY;
    od_producer_ids_record_init(r);
    r->broker_id = broker_id;
    r->broker_epoch = broker_epoch;
    r->next_producer_id = next + OD_PRODUCER_ID_BLOCK_SIZE;
    err = commit(c, &rl, now_ms, NULL);
    if (err != OD_KR_OK)
        return err;
    *first_id = next;
    *count = OD_PRODUCER_ID_BLOCK_SIZE;
    return OD_KR_OK;
}

od_kr_err od_controller_update_feature(od_controller *c, const char *name, int16_t level,
                                       int64_t now_ms, od_arena *arena, od_ctl_status *status)
{
    od_kr_err err = check_active(c);
    if (err != OD_KR_OK)
        return err;
    set_status(status, OD_KERR_NONE, NULL);
    if (!name || !*name) {
        set_status(status, OD_KERR_INVALID_REQUEST, "Invalid empty feature name.");
        return OD_KR_OK;
    }
    if (strcmp(name, OD_METADATA_VERSION_FEATURE) == 0) {
        int16_t cur = metadata_version(c);
        if (level < OD_MV_3_3_IV3 || level > OD_MV_LATEST) {
            set_status(status, OD_KERR_INVALID_UPDATE_VERSION,
                       msgf(arena,
                            "Invalid update version %d for feature metadata.version. Local "
                            "controller %" PRId32 " only supports versions %d-%d",
                            level, c->cfg.node_id, OD_MV_3_3_IV3, OD_MV_LATEST));
            return OD_KR_OK;
        }
        if (level < cur) {
            set_status(status, OD_KERR_INVALID_UPDATE_VERSION,
                       msgf(arena,
                            "Invalid metadata.version %d. Refusing to perform the requested "
                            "downgrade because it might delete metadata information.",
                            level));
            return OD_KR_OK;
        }
        if (level == cur)
            return OD_KR_OK;
    } else if (strcmp(name, "kraft.version") == 0) {
        set_status(status, OD_KERR_INVALID_UPDATE_VERSION,
                   "Changing kraft.version is not supported yet.");
        return OD_KR_OK;
    } else if (level < 0) {
        set_status(status, OD_KERR_INVALID_UPDATE_VERSION,
                   msgf(arena, "Invalid update version %d for feature %s.", level, name));
        return OD_KR_OK;
    }
    rec_list rl = {.arena = arena};
    od_feature_level_record *r = rec_push(&rl, OD_MREC_FEATURE_LEVEL, 0, sizeof *r);
    char *copy = cstr(arena, view(name));
    if (!r || !copy)
        return OD_KR_NO_MEMORY;
    od_feature_level_record_init(r);
    r->name = view(copy);
    r->feature_level = level;
    return commit(c, &rl, now_ms, NULL);
}
