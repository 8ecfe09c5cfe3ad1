/*
 * log_dir.c: one log directory's partitions and its per-directory files.
 *
 * Invariants:
 *   1. The clean-shutdown marker exists only between a fully successful
 *      od_logdir_close and the next od_logdir_open: it is written last (after
 *      every log is fsynced and every checkpoint replaced) and removed (with a
 *      directory fsync) before any log can be opened for writing. So its
 *      presence proves the files on disk are exactly what was last written.
 *   2. Checkpoints only ever name offsets that were durable when written:
 *      the recovery point is advanced by od_log_flush, which fsyncs first.
 *   3. A partition directory renamed to *-delete is never opened again; its
 *      removal can be retried at any time. One renamed to *-stray is never
 *      opened or removed: it is left for the operator, as Kafka does.
 *   6. A log is opened only in a directory whose partition.metadata names
 *      the topic id it is opened for, or none: a directory another topic of
 *      the same name left behind (deleted while the broker was down, then
 *      created again) is moved aside as *-stray first, with its checkpoint
 *      entries, so the new topic starts empty.
 *   4. cleaner-offset-checkpoint names, for every compacted log, an offset
 *      below which cleaning is durable: it is written after od_log_clean
 *      returned, and each swap fsyncs the directory before that.
 *   5. A cleaner round touches a log only between the caller's lock and
 *      unlock hooks for that log, and holds one log's lock at a time.
 *
 * States:
 *
 *   od_logdir_open --> OPEN (marker consumed, checkpoints in memory)
 *   OPEN --od_logdir_open_log / close_log / delete_log / checkpoint--> OPEN
 *   OPEN --od_logdir_cleaner_run_once (choose, clean, checkpoint)--> OPEN
 *   OPEN --od_logdir_close--> (marker written if all went well; freed)
 *   OPEN --od_logdir_abandon--> (freed; as after a crash)
 */
#include "log_dir.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct od_logdir {
    od_fio *io;
    char *path;
    od_fd_cache cache;
    bool had_clean;
    int64_t clean_epoch;
    od_tp_offset *rp, *lso, *hw, *cl;
    size_t nrp, nlso, nhw, ncl;
    od_log **logs;
    size_t nlogs, cap;
    uint64_t rng;
};

const char *od_logdir_path(const od_logdir *d)
{
    return d->path;
}
bool od_logdir_had_clean_shutdown(const od_logdir *d)
{
    return d->had_clean;
}
int64_t od_logdir_clean_broker_epoch(const od_logdir *d)
{
    return d->clean_epoch;
}

static od_st_err read_ckpt(od_logdir *d, const char *name, od_tp_offset **e, size_t *n)
{
    od_st_err err = od_ckpt_read_offsets(d->io, d->path, name, e, n);
    /* Kafka treats a missing or unreadable checkpoint as empty: every log
     * then recovers from its first segment, which is slow but safe. */
    if (err == OD_ST_NOT_FOUND || err == OD_ST_BAD_FORMAT)
        return OD_ST_OK;
    return err;
}

static void free_ckpts(od_logdir *d)
{
    od_ckpt_free_offsets(d->rp, d->nrp);
    od_ckpt_free_offsets(d->lso, d->nlso);
    od_ckpt_free_offsets(d->hw, d->nhw);
    od_ckpt_free_offsets(d->cl, d->ncl);
    d->rp = d->lso = d->hw = d->cl = NULL;
    d->nrp = d->nlso = d->nhw = d->ncl = 0;
}

static void dir_free(od_logdir *d)
{
    free_ckpts(d);
    free(d->logs);
    free(d->path);
    free(d);
}

od_st_err od_logdir_open(od_fio *io, const char *path, int fd_limit, od_logdir **out)
{
    od_logdir *d = calloc(1, sizeof *d);
    if (!d)
        return OD_ST_NO_MEMORY;
    d->io = io;
    d->path = strdup(path);
    d->cache.limit = fd_limit > 0 ? fd_limit : 1024;
    /* Names of moved-aside directories come from it, and must differ from
     * those of earlier runs still on disk: seeded by the kernel, not by an
     * address a deterministic allocator may hand out again. */
    if (getrandom(&d->rng, sizeof d->rng, 0) != (ssize_t)sizeof d->rng)
        d->rng = (uint64_t)(uintptr_t)d ^ (uint64_t)time(NULL) ^ 0x2545F4914F6CDD1Dull;
    if (!d->path) {
        dir_free(d);
        return OD_ST_NO_MEMORY;
    }
    int rc = io->m->mkdir(io, path, 0755);
    if (rc < 0 && rc != -EEXIST) {
        dir_free(d);
        return od_st_from_errno(rc);
    }
    od_st_err err = od_clean_shutdown_read(io, path, &d->had_clean, &d->clean_epoch);
    if (!err && d->had_clean)
        err = od_clean_shutdown_delete(io, path);
    if (!err)
        err = read_ckpt(d, OD_CKPT_RECOVERY_POINT, &d->rp, &d->nrp);
    if (!err)
        err = read_ckpt(d, OD_CKPT_LOG_START, &d->lso, &d->nlso);
    if (!err)
        err = read_ckpt(d, OD_CKPT_REPLICATION, &d->hw, &d->nhw);
    if (!err)
        err = read_ckpt(d, OD_CKPT_CLEANER, &d->cl, &d->ncl);
    if (err) {
        dir_free(d);
        return err;
    }
    *out = d;
    return OD_ST_OK;
}

static int64_t lookup(const od_tp_offset *e, size_t n, const char *topic, int32_t partition,
                      int64_t dflt)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].partition == partition && strcmp(e[i].topic, topic) == 0)
            return e[i].offset;
    return dflt;
}

typedef struct list_ctx {
    od_logdir_partition_fn fn;
    void *ctx;
} list_ctx;

/* Splits "<topic>-<partition>" at the last '-'; false for anything else. */
static bool parse_partition_dir(const char *name, char *topic, size_t cap, int32_t *partition)
{
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name || dash[1] == '\0' || (size_t)(dash - name) >= cap)
        return false;
    int64_t p = 0;
    for (const char *c = dash + 1; *c; c++) {
        if (*c < '0' || *c > '9' || p > INT32_MAX / 10)
            return false;
        p = p * 10 + (*c - '0');
    }
    memcpy(topic, name, (size_t)(dash - name));
    topic[dash - name] = '\0';
    *partition = (int32_t)p;
    return true;
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcmp(name + n - k, suffix) == 0;
}

static int list_cb(void *ctx, const char *name)
{
    list_ctx *l = ctx;
    char topic[256];
    int32_t part;
    if (has_suffix(name, "-delete") || has_suffix(name, "-stray"))
        return 0;
    if (parse_partition_dir(name, topic, sizeof topic, &part))
        l->fn(l->ctx, topic, part);
    return 0;
}

od_st_err od_logdir_list_partitions(od_logdir *d, od_logdir_partition_fn fn, void *ctx)
{
    list_ctx l = {fn, ctx};
    int rc = d->io->m->readdir(d->io, d->path, list_cb, &l);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

/* Fills open args from the directory (caller holds its serialisation). */
static void fill_open_args(od_logdir *d, const char *topic, int32_t partition,
                           const od_log_config *cfg, int64_t now_ms, od_log_open_args *a)
{
    memset(a, 0, sizeof *a);
    a->io = d->io;
    a->log_dir = d->path;
    a->topic = topic;
    a->partition = partition;
    a->config = cfg;
    a->fd_cache = &d->cache;
    a->had_clean_shutdown = d->had_clean;
    a->recovery_point = lookup(d->rp, d->nrp, topic, partition, 0);
    a->log_start_offset = lookup(d->lso, d->nlso, topic, partition, -1);
    a->high_watermark = lookup(d->hw, d->nhw, topic, partition, 0);
    a->cleaner_offset = lookup(d->cl, d->ncl, topic, partition, -1);
    a->now_ms = now_ms;
    d->rng = d->rng * 6364136223846793005ull + 1442695040888963407ull;
    a->seed = d->rng;
}

/* Renames a partition directory to <topic>-<partition>.<32 hex><suffix>,
 * durably: Kafka's names for a deleted (-delete) or a stray (-stray) log.
 * 0 or a negative errno (-ENOENT: no such directory). */
static int move_aside(od_logdir *d, const char *from, const char *topic, int32_t partition,
                      const char *suffix)
{
    char to[4096];
    int rc = -EEXIST;
    /* A name already taken (a directory moved aside before) gets another. */
    for (int attempt = 0; attempt < 8 && (rc == -EEXIST || rc == -ENOTEMPTY); attempt++) {
        d->rng = d->rng * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t a = d->rng;
        d->rng = d->rng * 6364136223846793005ull + 1442695040888963407ull;
        if (snprintf(to, sizeof to, "%s/%s-%" PRId32 ".%016" PRIx64 "%016" PRIx64 "%s", d->path, topic,
                     partition, a, d->rng, suffix) >= (int)sizeof to)
            return -ENAMETOOLONG;
        rc = d->io->m->rename(d->io, from, to);
    }
    if (rc == 0)
        rc = od_fio_fsync_dir(d->io, d->path);
    return rc;
}

static void drop_entry(od_tp_offset *e, size_t *n, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < *n; i++) {
        if (e[i].partition == partition && strcmp(e[i].topic, topic) == 0) {
            free(e[i].topic);
            e[i] = e[--*n];
            return;
        }
    }
}

od_st_err od_logdir_set_aside_stray(od_logdir *d, const char *topic, int32_t partition,
                                    const od_uuid *topic_id, bool *moved)
{
    *moved = false;
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/%s-%" PRId32, d->path, topic, partition) >= (int)sizeof dir)
        return OD_ST_INVALID_ARG;
    for (size_t i = 0; i < d->nlogs; i++)
        if (strcmp(od_log_dir(d->logs[i]), dir) == 0)
            return OD_ST_OK; /* open, so it is the image's own */
    if (topic_id != NULL) {
        od_uuid found;
        /* No (readable) partition.metadata: a crash may have cut the write
         * of a new topic's file, so the directory is adopted, not thrown out. */
        if (od_partition_metadata_read(d->io, dir, &found) != OD_ST_OK ||
            memcmp(found.bytes, topic_id->bytes, sizeof found.bytes) == 0)
            return OD_ST_OK;
    }
    int rc = move_aside(d, dir, topic, partition, "-stray");
    if (rc == -ENOENT)
        return OD_ST_OK;
    if (rc < 0)
        return od_st_from_errno(rc);
    drop_entry(d->rp, &d->nrp, topic, partition);
    drop_entry(d->lso, &d->nlso, topic, partition);
    drop_entry(d->hw, &d->nhw, topic, partition);
    drop_entry(d->cl, &d->ncl, topic, partition);
    *moved = true;
    return OD_ST_OK;
}

od_st_err od_logdir_open_log(od_logdir *d, const char *topic, int32_t partition,
                             const od_log_config *cfg, int64_t now_ms, od_log **out,
                             od_log_recovery_stats *stats)
{
    if (d->nlogs == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        od_log **n = realloc(d->logs, cap * sizeof *n);
        if (!n)
            return OD_ST_NO_MEMORY;
        d->logs = n;
        d->cap = cap;
    }
    od_log_open_args a;
    fill_open_args(d, topic, partition, cfg, now_ms, &a);
    od_st_err err = od_log_open(&a, out, stats);
    if (err)
        return err;
    d->logs[d->nlogs++] = *out;
    return OD_ST_OK;
}

/* One worker of od_logdir_open_logs: takes the next item until none is
 * left. Items are claimed under `mutex`; nothing else is shared. */
typedef struct open_work {
    pthread_mutex_t mutex;
    size_t next, n;
    od_logdir_new_log *items;
    od_log_open_args *args;
} open_work;

static void *open_worker(void *arg)
{
    open_work *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mutex);
        size_t i = w->next < w->n ? w->next++ : w->n;
        pthread_mutex_unlock(&w->mutex);
        if (i == w->n)
            return NULL;
        od_logdir_new_log *it = &w->items[i];
        if (it->err != OD_ST_OK)
            continue; /* refused before the open */
        it->err = od_log_open(&w->args[i], &it->log, NULL);
        if (it->err != OD_ST_OK) {
            it->log = NULL;
            continue;
        }
        if (it->topic_id != NULL)
            it->err = od_partition_metadata_ensure(w->args[i].io, od_log_dir(it->log), it->topic_id);
    }
}

od_st_err od_logdir_open_logs(od_logdir *d, od_logdir_new_log *items, size_t n, int threads,
                              int64_t now_ms, const od_logdir_lock_hooks *hooks)
{
    if (n == 0)
        return OD_ST_OK;
    od_log_open_args *args = calloc(n, sizeof *args);
    if (!args)
        return OD_ST_NO_MEMORY;
    if (hooks)
        hooks->lock(hooks->ctx);
    for (size_t i = 0; i < n; i++) {
        bool moved;
        items[i].log = NULL;
        /* A directory that could not be moved aside is not opened (invariant 6). */
        items[i].err = items[i].topic_id == NULL
                           ? OD_ST_OK
                           : od_logdir_set_aside_stray(d, items[i].topic, items[i].partition,
                                                       items[i].topic_id, &moved);
        fill_open_args(d, items[i].topic, items[i].partition, items[i].cfg, now_ms, &args[i]);
        args[i].fd_cache = NULL; /* a cache of its own until adopted */
    }
    if (hooks)
        hooks->unlock(hooks->ctx);

    open_work w = {.next = 0, .n = n, .items = items, .args = args};
    pthread_mutex_init(&w.mutex, NULL);
    enum { MAX_THREADS = 32 };
    pthread_t tids[MAX_THREADS];
    int started = 0;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > n)
        threads = (int)n;
    /* This thread works too; one item needs no thread at all. */
    while (started < threads - 1 && pthread_create(&tids[started], NULL, open_worker, &w) == 0)
        started++;
    open_worker(&w);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&w.mutex);
    free(args);

    od_st_err first = OD_ST_OK;
    if (hooks)
        hooks->lock(hooks->ctx);
    for (size_t i = 0; i < n; i++) {
        if (items[i].log == NULL) {
            if (!first)
                first = items[i].err;
            continue;
        }
        if (d->nlogs == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 16;
            od_log **grown = realloc(d->logs, cap * sizeof *grown);
            if (!grown) {
                od_log_close(items[i].log, false);
                items[i].log = NULL;
                items[i].err = OD_ST_NO_MEMORY;
                if (!first)
                    first = OD_ST_NO_MEMORY;
                continue;
            }
            d->logs = grown;
            d->cap = cap;
        }
        od_log_move_fd_cache(items[i].log, &d->cache);
        d->logs[d->nlogs++] = items[i].log;
        if (items[i].err && !first)
            first = items[i].err; /* opened, but partition.metadata failed */
    }
    if (hooks)
        hooks->unlock(hooks->ctx);
    return first;
}

od_st_err od_logdir_checkpoint(od_logdir *d)
{
    od_tp_offset *rp = calloc(d->nlogs + 1, sizeof *rp);
    od_tp_offset *lso = calloc(d->nlogs + 1, sizeof *lso);
    od_tp_offset *hw = calloc(d->nlogs + 1, sizeof *hw);
    od_tp_offset *cl = calloc(d->nlogs + 1, sizeof *cl);
    od_st_err err = OD_ST_NO_MEMORY;
    if (rp && lso && hw && cl) {
        size_t nl = 0, nc = 0;
        for (size_t i = 0; i < d->nlogs; i++) {
            od_log *l = d->logs[i];
            od_tp_offset base = {(char *)od_log_topic(l), od_log_partition(l), 0};
            rp[i] = base;
            rp[i].offset = od_log_recovery_point(l);
            hw[i] = base;
            hw[i].offset = od_log_high_watermark(l);
            /* Kafka lists a log here only once its start has moved past its
             * first segment (DeleteRecords); otherwise the segment says it. */
            if (od_log_start_offset(l) > od_log_segment_at(l, 0)->base_offset) {
                lso[nl] = base;
                lso[nl++].offset = od_log_start_offset(l);
            }
            if (od_log_get_config(l)->cleanup_compact) {
                cl[nc] = base;
                cl[nc++].offset = od_log_cleaner_offset(l);
            }
        }
        err = od_ckpt_write_offsets(d->io, d->path, OD_CKPT_RECOVERY_POINT, rp, d->nlogs);
        if (!err)
            err = od_ckpt_write_offsets(d->io, d->path, OD_CKPT_LOG_START, lso, nl);
        if (!err)
            err = od_ckpt_write_offsets(d->io, d->path, OD_CKPT_REPLICATION, hw, d->nlogs);
        if (!err && (nc > 0 || d->ncl > 0))
            err = od_ckpt_write_offsets(d->io, d->path, OD_CKPT_CLEANER, cl, nc);
    }
    free(rp);
    free(lso);
    free(hw);
    free(cl);
    return err;
}

/* Kafka's cleaner-offset-checkpoint: every compacted log of the dir. */
static od_st_err write_cleaner_ckpt(od_logdir *d)
{
    od_tp_offset *cl = calloc(d->nlogs + 1, sizeof *cl);
    if (!cl)
        return OD_ST_NO_MEMORY;
    size_t nc = 0;
    for (size_t i = 0; i < d->nlogs; i++) {
        od_log *l = d->logs[i];
        if (!od_log_get_config(l)->cleanup_compact)
            continue;
        cl[nc++] = (od_tp_offset){(char *)od_log_topic(l), od_log_partition(l),
                                  od_log_cleaner_offset(l)};
    }
    od_st_err err = od_ckpt_write_offsets(d->io, d->path, OD_CKPT_CLEANER, cl, nc);
    free(cl);
    return err;
}

static void hook_lock(const od_cleaner_hooks *h, od_log *l)
{
    if (h && h->lock)
        h->lock(h->ctx, l);
}

static void hook_unlock(const od_cleaner_hooks *h, od_log *l)
{
    if (h && h->unlock)
        h->unlock(h->ctx, l);
}

od_st_err od_logdir_cleaner_run_once(od_logdir *d, int64_t now_ms, const od_cleaner_hooks *hooks,
                                     od_cleaner_round *out)
{
    od_cleaner_round dummy;
    if (!out)
        out = &dummy;
    memset(out, 0, sizeof *out);
    od_st_err first_err = OD_ST_OK;
    od_log *best = NULL;
    od_log_cleanable best_state = {0};
    for (size_t i = 0; i < d->nlogs; i++) {
        od_log *l = d->logs[i];
        const od_log_config *c = od_log_get_config(l);
        if (!c->cleanup_compact)
            continue;
        hook_lock(hooks, l);
        od_st_err err = OD_ST_OK;
        if (c->cleanup_delete) {
            int32_t deleted = 0;
            err = od_log_enforce_retention(l, now_ms, &deleted);
            out->segments_deleted += deleted;
        }
        od_log_cleanable cs;
        if (!err && od_log_state(l) == OD_ST_OK)
            err = od_log_cleanable_state(l, now_ms, &cs);
        else
            cs.cleanable = false;
        hook_unlock(hooks, l);
        if (err && !first_err)
            first_err = err;
        if (err || !cs.cleanable)
            continue;
        if (!best || cs.ratio > best_state.ratio) {
            best = l;
            best_state = cs;
        }
    }
    if (!best)
        return first_err;
    out->cleaned = best;
    out->ratio = best_state.ratio;
    out->forced = best_state.ratio <= od_log_get_config(best)->min_cleanable_dirty_ratio;
    hook_lock(hooks, best);
    od_st_err err = od_log_clean(best, now_ms, &out->stats);
    hook_unlock(hooks, best);
    /* The checkpoint only ever names offsets whose cleaning is on disk:
     * each swap was durable before od_log_clean moved the cleaner offset. */
    od_st_err cerr = write_cleaner_ckpt(d);
    if (!err)
        err = cerr;
    return err ? err : first_err;
}

static void forget(od_logdir *d, od_log *log)
{
    for (size_t i = 0; i < d->nlogs; i++) {
        if (d->logs[i] == log) {
            memmove(&d->logs[i], &d->logs[i + 1], (d->nlogs - i - 1) * sizeof *d->logs);
            d->nlogs--;
            return;
        }
    }
}

od_st_err od_logdir_close_log(od_logdir *d, od_log *log)
{
    forget(d, log);
    return od_log_close(log, true);
}

od_st_err od_logdir_delete_log(od_logdir *d, od_log *log)
{
    char from[4096], topic[256];
    snprintf(from, sizeof from, "%s", od_log_dir(log));
    snprintf(topic, sizeof topic, "%s", od_log_topic(log));
    int32_t partition = od_log_partition(log);
    forget(d, log);
    od_log_close(log, false);
    int rc = move_aside(d, from, topic, partition, "-delete");
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

typedef struct purge_ctx {
    od_logdir *d;
    char **names;
    size_t n, cap;
} purge_ctx;

static int purge_cb(void *ctx, const char *name)
{
    purge_ctx *p = ctx;
    if (!has_suffix(name, "-delete"))
        return 0;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        char **nn = realloc(p->names, cap * sizeof *nn);
        if (!nn)
            return -ENOMEM;
        p->names = nn;
        p->cap = cap;
    }
    p->names[p->n] = strdup(name);
    if (!p->names[p->n])
        return -ENOMEM;
    p->n++;
    return 0;
}

static int rm_file_cb(void *ctx, const char *name)
{
    const char *dir = ((void **)ctx)[0];
    od_fio *io = ((void **)ctx)[1];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = io->m->unlink(io, path);
    return rc == -ENOENT ? 0 : rc;
}

od_st_err od_logdir_purge_deleted(od_logdir *d, int *count)
{
    *count = 0;
    purge_ctx p = {d, NULL, 0, 0};
    int rc = d->io->m->readdir(d->io, d->path, purge_cb, &p);
    for (size_t i = 0; i < p.n; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", d->path, p.names[i]);
        void *ctx[2] = {sub, d->io};
        int r = d->io->m->readdir(d->io, sub, rm_file_cb, ctx);
        if (r == 0)
            r = d->io->m->rmdir(d->io, sub);
        if (r == 0)
            (*count)++;
        else if (rc == 0)
            rc = r;
        free(p.names[i]);
    }
    free(p.names);
    if (rc == 0 && *count > 0)
        rc = od_fio_fsync_dir(d->io, d->path);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

od_st_err od_logdir_close(od_logdir *d, int64_t broker_epoch)
{
    /* Flush first so the checkpoint can name every log's end as its
     * recovery point; the marker goes last, after everything it vouches for. */
    od_st_err err = OD_ST_OK;
    for (size_t i = 0; i < d->nlogs && !err; i++)
        err = od_log_flush(d->logs[i], 0);
    if (!err)
        err = od_logdir_checkpoint(d);
    for (size_t i = 0; i < d->nlogs; i++) {
        od_st_err e = od_log_close(d->logs[i], err == OD_ST_OK);
        if (!err)
            err = e;
    }
    d->nlogs = 0;
    if (!err)
        err = od_clean_shutdown_write(d->io, d->path, broker_epoch);
    dir_free(d);
    return err;
}

void od_logdir_abandon(od_logdir *d)
{
    for (size_t i = 0; i < d->nlogs; i++)
        od_log_close(d->logs[i], false);
    dir_free(d);
}
