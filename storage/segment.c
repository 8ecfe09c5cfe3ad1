/*
 * segment.c: one Kafka log segment (.log, .index, .timeindex).
 *
 * Invariants:
 *   1. `size` is the end of the last whole, valid batch. Reads never go past
 *      it, so bytes beyond it (a torn write, a rolled-back append) are never
 *      served; recovery cuts them off.
 *   2. In-memory index entries are strictly increasing in offset and in
 *      position. Entries on disk past oidx_n/tidx_n (preallocated zeros, a
 *      rolled-back write) are never read back as entries: the active
 *      segment's files are rebuilt on unclean start, the others were trimmed
 *      when sealed.
 *   3. Every offset-index entry (o, p) names a batch boundary p < size whose
 *      batch has base offset <= o. A lookup that starts scanning at p can
 *      therefore never skip the batch holding any offset >= o. This is why
 *      an append is indexed by (its last offset, its first byte), as Kafka does.
 *   4. Time-index entries strictly increase in timestamp; entry (t, o) says
 *      the largest batch max-timestamp among offsets <= o is t, reached by
 *      the batch whose last offset is o.
 *   5. An append becomes visible (size, next_offset, entries move) only after
 *      every byte of it reached the files; if any write fails the log is cut
 *      back to its old size, and if that fails too the caller learns
 *      OD_ST_FAILED and must stop writing.
 *   6. The fd cache closes a segment's descriptors only when no read region
 *      pins it (refs == 1), so a region handed out for sendfile stays valid
 *      until released, even across deletion or a compaction swap (unlinked
 *      files stay readable through open descriptors). Every path that writes
 *      takes its fd through od_segment_log_fd first, which makes the segment
 *      most recently used, so nothing it holds is evicted mid-operation.
 *   7. Index entries of the active segment reach their files lazily: an
 *      append only adds them in memory (readers use memory alone), and
 *      entries [*_disk_n, *_n) are written before any fsync of the segment,
 *      when it is sealed and when it is truncated. Nothing is lost by this:
 *      an index is trusted after a crash only below the recovery point, and
 *      the flush that moved the recovery point wrote the entries first;
 *      above it, recovery rebuilds the indexes from the log. It saves two
 *      small pwrites per append, which is most of the syscall cost beside
 *      the data write itself.
 *
 *   8. A new segment's index files are created (preallocated, as Kafka
 *      keeps an active segment's) at its first index write, seal,
 *      truncation or recovery, not by od_segment_create: until then the
 *      segment has no entry to lose, and an open that finds them missing
 *      rebuilds them (recovery) or creates them. Creating a partition log
 *      therefore creates one file, not three (partition_log.c, 9). For the
 *      same reason an index file's directory entry needs no sync of its
 *      own: od_segment_load_index rebuilds a missing one from the .log.
 *   9. od_segment_flush fsyncs an index file only if something changed it
 *      since the last flush (index_unsynced, set by every path that writes
 *      or resizes one): a clean file has nothing to make durable, and the
 *      metadata log flushes on every commit.
 *
 * States, and the function that moves between them:
 *
 *   (new) --od_segment_create-------------------------------> ACTIVE
 *   (new) --od_segment_open--> DESCRIBED --od_segment_load_index--> LOADED
 *   LOADED --od_segment_make_active--> ACTIVE --od_segment_seal--> LOADED
 *   DESCRIBED/LOADED/ACTIVE --od_segment_recover--> same state, indexes rebuilt
 *   any --od_segment_delete_files--> DELETED --last od_segment_unref--> (freed)
 *
 * DESCRIBED knows only base offset and size (one stat per segment), which is
 * what lets thousands of partitions open without reading their indexes.
 */
#include "segment.h"

#include "records/records.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PATH_CAP = 4096 };

/* Read-ahead for header scans: an index interval's worth plus slack. */
#define LOOKUP_CHUNK ((size_t)16384)
/* Read-ahead for recovery, which reads every byte. */
#define RECOVER_CHUNK ((size_t)1 << 20)

void od_segment_file_name(char *buf, size_t cap, int64_t base_offset, const char *suffix)
{
    snprintf(buf, cap, "%020" PRId64 "%s", base_offset, suffix);
}

static void seg_path(const od_segment *s, const char *suffix, char *buf)
{
    char name[64];
    od_segment_file_name(name, sizeof name, s->base_offset, suffix);
    snprintf(buf, PATH_CAP, "%s/%s", s->ctx->dir, name);
}

static od_fio *IO(const od_segment *s)
{
    return s->ctx->io;
}

static od_st_err txn_resize_file(od_segment *s);

/* ---------------------------------------------------------- fd cache */

static void lru_remove(od_segment *s)
{
    if (!s->in_lru)
        return;
    od_fd_cache *c = s->ctx->cache;
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        c->lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        c->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
    s->in_lru = false;
    c->open--;
}

static void lru_push_front(od_segment *s)
{
    od_fd_cache *c = s->ctx->cache;
    s->lru_prev = NULL;
    s->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = s;
    c->lru_head = s;
    if (c->lru_tail == NULL)
        c->lru_tail = s;
    s->in_lru = true;
    c->open++;
}

static void lru_evict(od_fd_cache *c, const od_segment *keep)
{
    od_segment *v = c->lru_tail;
    while (c->open > c->limit && v != NULL) {
        od_segment *prev = v->lru_prev;
        if (v != keep && v->refs <= 1) {
            od_fio *io = v->ctx->io;
            lru_remove(v);
            /* An active segment gives up its index descriptors too; the
             * next append reopens all three. */
            io->m->close(io, v->log_fd);
            if (v->idx_fd >= 0)
                io->m->close(io, v->idx_fd);
            if (v->tidx_fd >= 0)
                io->m->close(io, v->tidx_fd);
            v->log_fd = v->idx_fd = v->tidx_fd = -1;
        }
        v = prev;
    }
}

void od_segment_cache_leave(od_segment *s)
{
    lru_remove(s);
}

void od_segment_cache_join(od_segment *s)
{
    if (s->log_fd < 0 || s->in_lru)
        return;
    lru_push_front(s);
    lru_evict(s->ctx->cache, s);
}

od_st_err od_segment_log_fd(od_segment *s, int *fd)
{
    if (s->log_fd >= 0) {
        if (s->in_lru) {
            lru_remove(s);
            lru_push_front(s);
        }
        *fd = s->log_fd;
        return OD_ST_OK;
    }
    char path[PATH_CAP];
    seg_path(s, ".log", path);
    int rc = IO(s)->m->open(IO(s), path, O_RDWR, 0);
    if (rc < 0)
        return od_st_from_errno(rc);
    s->log_fd = rc;
    lru_push_front(s);
    lru_evict(s->ctx->cache, s);
    *fd = s->log_fd;
    return OD_ST_OK;
}

/* ------------------------------------------------------ window reader */

/* A read-ahead window over [0, end) of one file, so scanning many small
 * headers costs one pread per chunk rather than one per batch. */
typedef struct win {
    od_fio *io;
    int fd;
    int64_t end;
    uint8_t *buf;
    size_t cap;
    int64_t pos;
    size_t len;
    size_t chunk;
} win;

static void win_init(win *w, od_fio *io, int fd, int64_t end, size_t chunk)
{
    memset(w, 0, sizeof *w);
    w->io = io;
    w->fd = fd;
    w->end = end;
    w->chunk = chunk;
}

static void win_free(win *w)
{
    free(w->buf);
    w->buf = NULL;
}

/* Points *out at n bytes at pos. Returns 0, 1 when fewer than n bytes exist
 * before the window's end (or the file is shorter), or a negated errno. */
static int win_get(win *w, int64_t pos, size_t n, const uint8_t **out)
{
    if (pos < 0 || pos > w->end || (int64_t)n > w->end - pos)
        return 1;
    if (w->buf && pos >= w->pos && pos + (int64_t)n <= w->pos + (int64_t)w->len) {
        *out = w->buf + (pos - w->pos);
        return 0;
    }
    size_t want = n > w->chunk ? n : w->chunk;
    if ((int64_t)want > w->end - pos)
        want = (size_t)(w->end - pos);
    if (want > w->cap) {
        uint8_t *nb = realloc(w->buf, want);
        if (nb == NULL)
            return -ENOMEM;
        w->buf = nb;
        w->cap = want;
    }
    int64_t r = od_fio_pread_full(w->io, w->fd, w->buf, want, pos);
    if (r < 0)
        return (int)r;
    w->pos = pos;
    w->len = (size_t)r;
    if ((size_t)r < n)
        return 1;
    *out = w->buf;
    return 0;
}

enum { SCAN_OK = 0, SCAN_END = 1, SCAN_BAD = 2 };

/* Reads the batch header at pos. SCAN_END exactly at end, SCAN_BAD when the
 * bytes at pos are no v2 header or the batch runs past end, <0 on I/O. */
static int scan_header(win *w, int64_t pos, od_batch_header *h, size_t *total)
{
    if (pos == w->end)
        return SCAN_END;
    const uint8_t *p = NULL;
    int rc = win_get(w, pos, OD_BATCH_HEADER_SIZE, &p);
    if (rc < 0)
        return rc;
    if (rc > 0)
        return SCAN_BAD;
    if (od_batch_header_parse(p, OD_BATCH_HEADER_SIZE, h) != OD_BATCH_OK)
        return SCAN_BAD;
    size_t t = (size_t)OD_LOG_OVERHEAD + (size_t)h->batch_length;
    if ((int64_t)t > w->end - pos || h->last_offset_delta < 0 || h->record_count < 0)
        return SCAN_BAD;
    *total = t;
    return SCAN_OK;
}

/* As scan_header, but also reads and validates the whole batch (CRC). */
static int scan_batch(win *w, int64_t pos, od_batch_header *h, size_t *total, const uint8_t **batch)
{
    int rc = scan_header(w, pos, h, total);
    if (rc != SCAN_OK)
        return rc;
    const uint8_t *p = NULL;
    rc = win_get(w, pos, *total, &p);
    if (rc < 0)
        return rc;
    if (rc > 0)
        return SCAN_BAD;
    if (od_batch_validate(p, *total, h) != OD_BATCH_OK)
        return SCAN_BAD;
    *batch = p;
    return SCAN_OK;
}

/* ------------------------------------------------------------ indexes */

static void put_oidx(uint8_t *p, od_oidx_entry e)
{
    od_store_be32(p, e.rel_offset);
    od_store_be32(p + 4, e.position);
}

static void put_tidx(uint8_t *p, od_tidx_entry e)
{
    od_store_be64(p, (uint64_t)e.timestamp);
    od_store_be32(p + 8, e.rel_offset);
}

static bool reserve_oidx(od_segment *s, uint32_t n)
{
    if (n <= s->oidx_cap)
        return true;
    uint32_t cap = s->oidx_cap ? s->oidx_cap * 2 : 64;
    while (cap < n)
        cap *= 2;
    od_oidx_entry *e = realloc(s->oidx, cap * sizeof *e);
    if (!e)
        return false;
    s->oidx = e;
    s->oidx_cap = cap;
    return true;
}

static bool reserve_tidx(od_segment *s, uint32_t n)
{
    if (n <= s->tidx_cap)
        return true;
    uint32_t cap = s->tidx_cap ? s->tidx_cap * 2 : 64;
    while (cap < n)
        cap *= 2;
    od_tidx_entry *e = realloc(s->tidx, cap * sizeof *e);
    if (!e)
        return false;
    s->tidx = e;
    s->tidx_cap = cap;
    return true;
}

/* Index of the last offset entry with offset <= target, or -1. */
static int64_t oidx_floor(const od_segment *s, int64_t target)
{
    int64_t lo = 0, hi = (int64_t)s->oidx_n - 1, best = -1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (s->base_offset + s->oidx[mid].rel_offset <= target) {
            best = mid;
            lo = mid + 1;
        } else
            hi = mid - 1;
    }
    return best;
}

static int64_t oidx_start_pos(const od_segment *s, int64_t target)
{
    int64_t i = oidx_floor(s, target);
    return i < 0 ? 0 : s->oidx[i].position;
}

/* Index of the last time entry with timestamp <= ts, or -1. */
static int64_t tidx_floor(const od_segment *s, int64_t ts)
{
    int64_t lo = 0, hi = (int64_t)s->tidx_n - 1, best = -1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (s->tidx[mid].timestamp <= ts) {
            best = mid;
            lo = mid + 1;
        } else
            hi = mid - 1;
    }
    return best;
}

static void set_index_limits(od_segment *s)
{
    int32_t mib = s->ctx->max_index_bytes;
    s->oidx_max = (uint32_t)(mib / OD_OFFSET_INDEX_ENTRY_SIZE);
    s->tidx_max = (uint32_t)(mib / OD_TIME_INDEX_ENTRY_SIZE);
}

static od_segment *seg_alloc(const od_seg_ctx *ctx, int64_t base, int64_t now_ms)
{
    od_segment *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ctx = ctx;
    s->base_offset = base;
    s->next_offset = -1;
    s->log_fd = s->idx_fd = s->tidx_fd = -1;
    s->refs = 1;
    s->max_ts = -1;
    s->offset_of_max_ts = -1;
    s->rolling_ts = -1;
    s->created_ms = now_ms;
    s->index_unsynced = true; /* nothing known about files found on disk */
    set_index_limits(s);
    return s;
}

static int open_rw(od_segment *s, const char *suffix, int extra)
{
    char path[PATH_CAP];
    seg_path(s, suffix, path);
    return IO(s)->m->open(IO(s), path, O_RDWR | O_CREAT | extra, 0644);
}

od_st_err od_segment_create(const od_seg_ctx *ctx, int64_t base, int64_t now_ms, od_segment **out)
{
    od_segment *s = seg_alloc(ctx, base, now_ms);
    if (!s)
        return OD_ST_NO_MEMORY;
    int rc;
    if ((rc = open_rw(s, ".log", O_TRUNC)) < 0)
        goto fail;
    s->log_fd = rc;
    s->index_files_pending = true; /* invariant 8 */
    s->active = true;
    s->index_loaded = true;
    s->size = 0;
    s->next_offset = base;
    lru_push_front(s);
    lru_evict(ctx->cache, s);
    *out = s;
    return OD_ST_OK;
fail:
    od_segment_unref(s);
    return od_st_from_errno(rc);
}

od_st_err od_segment_open(const od_seg_ctx *ctx, int64_t base, int64_t now_ms, od_segment **out)
{
    od_segment *s = seg_alloc(ctx, base, now_ms);
    if (!s)
        return OD_ST_NO_MEMORY;
    char path[PATH_CAP];
    seg_path(s, ".log", path);
    od_fio_stat st;
    int rc = ctx->io->m->stat(ctx->io, path, &st);
    if (rc < 0) {
        od_segment_unref(s);
        return rc == -ENOENT ? OD_ST_NOT_FOUND : od_st_from_errno(rc);
    }
    s->size = st.size;
    *out = s;
    return OD_ST_OK;
}

/* Writes the in-memory entries as the whole content of both index files and
 * sizes them: preallocated when active, exact otherwise. */
static od_st_err write_index_files(od_segment *s)
{
    od_fio *io = IO(s);
    s->index_unsynced = true;
    s->index_files_pending = false; /* open_rw creates what is missing */
    int rc = 0;
    size_t olen = (size_t)s->oidx_n * OD_OFFSET_INDEX_ENTRY_SIZE;
    size_t tlen = (size_t)s->tidx_n * OD_TIME_INDEX_ENTRY_SIZE;
    size_t blen = olen > tlen ? olen : tlen;
    uint8_t *buf = malloc(blen ? blen : 1);
    if (!buf)
        return OD_ST_NO_MEMORY;
    int ifd = s->idx_fd >= 0 ? s->idx_fd : open_rw(s, ".index", 0);
    int tfd = -1;
    if (ifd < 0) {
        rc = ifd;
        goto out;
    }
    tfd = s->tidx_fd >= 0 ? s->tidx_fd : open_rw(s, ".timeindex", 0);
    if (tfd < 0) {
        rc = tfd;
        goto out;
    }
    for (uint32_t i = 0; i < s->oidx_n; i++)
        put_oidx(buf + (size_t)i * OD_OFFSET_INDEX_ENTRY_SIZE, s->oidx[i]);
    if ((rc = io->m->ftruncate(io, ifd, 0)) < 0 || (rc = od_fio_pwrite_full(io, ifd, buf, olen, 0)) < 0)
        goto out;
    for (uint32_t i = 0; i < s->tidx_n; i++)
        put_tidx(buf + (size_t)i * OD_TIME_INDEX_ENTRY_SIZE, s->tidx[i]);
    if ((rc = io->m->ftruncate(io, tfd, 0)) < 0 || (rc = od_fio_pwrite_full(io, tfd, buf, tlen, 0)) < 0)
        goto out;
    if (s->active) {
        int64_t op = (int64_t)(s->oidx_max > s->oidx_n ? s->oidx_max : s->oidx_n) * OD_OFFSET_INDEX_ENTRY_SIZE;
        int64_t tp = (int64_t)(s->tidx_max > s->tidx_n ? s->tidx_max : s->tidx_n) * OD_TIME_INDEX_ENTRY_SIZE;
        if ((rc = io->m->ftruncate(io, ifd, op)) < 0 || (rc = io->m->ftruncate(io, tfd, tp)) < 0)
            goto out;
    }
out:
    free(buf);
    if (rc >= 0) {
        s->oidx_disk_n = s->oidx_n;
        s->tidx_disk_n = s->tidx_n;
    }
    if (ifd >= 0 && ifd != s->idx_fd)
        io->m->close(io, ifd);
    if (tfd >= 0 && tfd != s->tidx_fd)
        io->m->close(io, tfd);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

od_st_err od_segment_recover(od_segment *s, int64_t *truncated_bytes)
{
    *truncated_bytes = 0;
    int fd;
    od_st_err err = od_segment_log_fd(s, &fd);
    if (err)
        return err;
    od_fio_stat st;
    int rc = IO(s)->m->fstat(IO(s), fd, &st);
    if (rc < 0)
        return od_st_from_errno(rc);
    win w;
    win_init(&w, IO(s), fd, st.size, RECOVER_CHUNK);
    s->oidx_n = s->tidx_n = 0;
    s->max_ts = -1;
    s->offset_of_max_ts = -1;
    s->rolling_ts = -1;
    int64_t pos = 0, last_index_pos = 0, next = s->base_offset;
    for (;;) {
        od_batch_header h;
        size_t total;
        const uint8_t *b = NULL;
        rc = scan_batch(&w, pos, &h, &total, &b);
        if (rc < 0) {
            win_free(&w);
            return od_st_from_errno(rc);
        }
        if (rc != SCAN_OK)
            break;
        int64_t last = od_batch_last_offset(&h);
        /* Offsets must rise and fit the 32-bit relative form the indexes use. */
        if (h.base_offset < next || last - s->base_offset > INT32_MAX)
            break;
        if (pos == 0)
            s->rolling_ts = h.max_timestamp;
        if (h.max_timestamp > s->max_ts) {
            s->max_ts = h.max_timestamp;
            s->offset_of_max_ts = last;
        }
        if (pos - last_index_pos > s->ctx->index_interval_bytes && s->oidx_n < s->oidx_max) {
            if (!reserve_oidx(s, s->oidx_n + 1) || !reserve_tidx(s, s->tidx_n + 1)) {
                win_free(&w);
                return OD_ST_NO_MEMORY;
            }
            s->oidx[s->oidx_n++] = (od_oidx_entry){(uint32_t)(last - s->base_offset), (uint32_t)pos};
            if (s->max_ts >= 0 && (s->tidx_n == 0 || s->max_ts > s->tidx[s->tidx_n - 1].timestamp) &&
                s->tidx_n < s->tidx_max)
                s->tidx[s->tidx_n++] =
                    (od_tidx_entry){s->max_ts, (uint32_t)(s->offset_of_max_ts - s->base_offset)};
            last_index_pos = pos;
        }
        pos += (int64_t)total;
        next = last + 1;
    }
    win_free(&w);
    if (pos < st.size) {
        rc = IO(s)->m->ftruncate(IO(s), fd, pos);
        if (rc < 0)
            return od_st_from_errno(rc);
        *truncated_bytes = st.size - pos;
    }
    s->size = pos;
    s->next_offset = next;
    s->bytes_since_index = pos - last_index_pos;
    s->index_loaded = true;
    /* Kafka's recovery ends the time index with the segment's largest
     * timestamp, as a clean close does. */
    if (s->max_ts >= 0 && (s->tidx_n == 0 || s->max_ts > s->tidx[s->tidx_n - 1].timestamp)) {
        if (!reserve_tidx(s, s->tidx_n + 1))
            return OD_ST_NO_MEMORY;
        s->tidx[s->tidx_n++] = (od_tidx_entry){s->max_ts, (uint32_t)(s->offset_of_max_ts - s->base_offset)};
    }
    err = write_index_files(s);
    if (err)
        return err;
    /* Entries for markers that did not survive go; entries the crash lost
     * are re-added by the log's producer-state replay. */
    if ((err = od_segment_txn_load(s)))
        return err;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < s->txn_n; i++)
        if (s->txn[i].last_offset < next)
            s->txn[keep++] = s->txn[i];
    if (keep != s->txn_n) {
        s->txn_n = keep;
        err = txn_resize_file(s);
    }
    return err;
}

/* Reads one index file fully; *ok false when it is missing or malformed. */
static od_st_err read_index_file(od_segment *s, const char *suffix, size_t entry, uint8_t **data,
                                 size_t *len, bool *ok)
{
    char path[PATH_CAP];
    seg_path(s, suffix, path);
    char *buf;
    int rc = od_fio_read_file(IO(s), path, (size_t)1 << 31, &buf, len);
    *ok = false;
    *data = NULL;
    if (rc == -ENOENT)
        return OD_ST_OK;
    if (rc < 0)
        return od_st_from_errno(rc);
    if (*len % entry != 0) {
        free(buf);
        return OD_ST_OK;
    }
    *data = (uint8_t *)buf;
    *ok = true;
    return OD_ST_OK;
}

od_st_err od_segment_load_index(od_segment *s)
{
    if (s->index_loaded)
        return OD_ST_OK;
    uint8_t *od = NULL, *td = NULL;
    size_t ol = 0, tl = 0;
    bool ook, tok;
    od_st_err err = read_index_file(s, ".index", OD_OFFSET_INDEX_ENTRY_SIZE, &od, &ol, &ook);
    if (!err)
        err = read_index_file(s, ".timeindex", OD_TIME_INDEX_ENTRY_SIZE, &td, &tl, &tok);
    if (err) {
        free(od);
        return err;
    }
    bool sane = ook && tok;
    uint32_t on = (uint32_t)(ol / OD_OFFSET_INDEX_ENTRY_SIZE), tn = (uint32_t)(tl / OD_TIME_INDEX_ENTRY_SIZE);
    if (sane && (!reserve_oidx(s, on) || !reserve_tidx(s, tn))) {
        free(od);
        free(td);
        return OD_ST_NO_MEMORY;
    }
    s->oidx_n = s->tidx_n = 0;
    for (uint32_t i = 0; sane && i < on; i++) {
        od_oidx_entry e = {od_load_be32(od + (size_t)i * 8), od_load_be32(od + (size_t)i * 8 + 4)};
        if ((int64_t)e.position >= s->size || e.rel_offset > INT32_MAX ||
            (i > 0 && (e.rel_offset <= s->oidx[i - 1].rel_offset ||
                       e.position <= s->oidx[i - 1].position)))
            sane = false;
        else
            s->oidx[s->oidx_n++] = e;
    }
    for (uint32_t i = 0; sane && i < tn; i++) {
        const uint8_t *p = td + (size_t)i * 12;
        od_tidx_entry e = {(int64_t)od_load_be64(p), od_load_be32(p + 8)};
        if (e.rel_offset > INT32_MAX ||
            (i > 0 && (e.timestamp <= s->tidx[i - 1].timestamp ||
                       e.rel_offset < s->tidx[i - 1].rel_offset)))
            sane = false;
        else
            s->tidx[s->tidx_n++] = e;
    }
    free(od);
    free(td);
    if (!sane) {
        int64_t cut;
        return od_segment_recover(s, &cut);
    }
    s->index_loaded = true;
    s->oidx_disk_n = s->oidx_n;
    s->tidx_disk_n = s->tidx_n;
    if (s->tidx_n > 0) {
        s->max_ts = s->tidx[s->tidx_n - 1].timestamp;
        s->offset_of_max_ts = s->base_offset + s->tidx[s->tidx_n - 1].rel_offset;
    }
    return OD_ST_OK;
}

/* Walks the batches after the last offset-index entry to learn the next
 * offset and any timestamp growth the time index has not recorded yet. A
 * bad header there means the segment needs recovery. */
static od_st_err rescan_tail(od_segment *s, bool *bad)
{
    *bad = false;
    int fd;
    od_st_err err = od_segment_log_fd(s, &fd);
    if (err)
        return err;
    win w;
    win_init(&w, IO(s), fd, s->size, LOOKUP_CHUNK);
    int64_t pos = s->oidx_n ? s->oidx[s->oidx_n - 1].position : 0;
    int64_t next = s->base_offset;
    if (s->tidx_n > 0) {
        s->max_ts = s->tidx[s->tidx_n - 1].timestamp;
        s->offset_of_max_ts = s->base_offset + s->tidx[s->tidx_n - 1].rel_offset;
    } else {
        s->max_ts = -1;
        s->offset_of_max_ts = -1;
    }
    for (;;) {
        od_batch_header h;
        size_t total;
        int rc = scan_header(&w, pos, &h, &total);
        if (rc < 0) {
            win_free(&w);
            return od_st_from_errno(rc);
        }
        if (rc == SCAN_END)
            break;
        if (rc == SCAN_BAD || h.base_offset < next) {
            *bad = true;
            break;
        }
        if (h.max_timestamp > s->max_ts) {
            s->max_ts = h.max_timestamp;
            s->offset_of_max_ts = od_batch_last_offset(&h);
        }
        next = od_batch_last_offset(&h) + 1;
        pos += (int64_t)total;
    }
    if (!*bad && s->size > 0) {
        od_batch_header h;
        size_t total;
        if (scan_header(&w, 0, &h, &total) == SCAN_OK)
            s->rolling_ts = h.max_timestamp;
    }
    win_free(&w);
    s->next_offset = next;
    s->bytes_since_index = s->size - (s->oidx_n ? s->oidx[s->oidx_n - 1].position : 0);
    return OD_ST_OK;
}

/* Creates a new segment's index files (invariant 8), preallocated like
 * Kafka's, so an index never grows while being written and the "full" test
 * is a simple entry count. The descriptors stay open. */
static od_st_err create_index_files(od_segment *s)
{
    od_fio *io = IO(s);
    s->index_unsynced = true;
    int rc;
    if (s->idx_fd < 0) {
        if ((rc = open_rw(s, ".index", O_TRUNC)) < 0)
            return od_st_from_errno(rc);
        s->idx_fd = rc;
    }
    if (s->tidx_fd < 0) {
        if ((rc = open_rw(s, ".timeindex", O_TRUNC)) < 0)
            return od_st_from_errno(rc);
        s->tidx_fd = rc;
    }
    if ((rc = io->m->ftruncate(io, s->idx_fd, (int64_t)s->oidx_max * OD_OFFSET_INDEX_ENTRY_SIZE)) < 0 ||
        (rc = io->m->ftruncate(io, s->tidx_fd, (int64_t)s->tidx_max * OD_TIME_INDEX_ENTRY_SIZE)) < 0)
        return od_st_from_errno(rc);
    s->index_files_pending = false;
    return OD_ST_OK;
}

/* Opens the index files for writing if the fd cache closed them (creating
 * them for a new segment). Call right after od_segment_log_fd, which put
 * this segment first in the LRU. */
static od_st_err ensure_index_fds(od_segment *s)
{
    if (s->index_files_pending)
        return create_index_files(s);
    if (s->idx_fd < 0) {
        int rc = open_rw(s, ".index", 0);
        if (rc < 0)
            return od_st_from_errno(rc);
        s->idx_fd = rc;
    }
    if (s->tidx_fd < 0) {
        int rc = open_rw(s, ".timeindex", 0);
        if (rc < 0)
            return od_st_from_errno(rc);
        s->tidx_fd = rc;
    }
    return OD_ST_OK;
}

/* Writes the index entries appended since the last write (invariant 7).
 * Both files are preallocated or exactly sized, so entries land in place. */
static od_st_err write_pending_index(od_segment *s)
{
    if (s->oidx_disk_n >= s->oidx_n && s->tidx_disk_n >= s->tidx_n)
        return OD_ST_OK;
    int fd;
    od_st_err err = od_segment_log_fd(s, &fd);
    if (!err)
        err = ensure_index_fds(s);
    if (err)
        return err;
    size_t k = s->oidx_n > s->oidx_disk_n ? s->oidx_n - s->oidx_disk_n : 0;
    size_t t = s->tidx_n > s->tidx_disk_n ? s->tidx_n - s->tidx_disk_n : 0;
    size_t cap = k * OD_OFFSET_INDEX_ENTRY_SIZE > t * OD_TIME_INDEX_ENTRY_SIZE
                     ? k * OD_OFFSET_INDEX_ENTRY_SIZE
                     : t * OD_TIME_INDEX_ENTRY_SIZE;
    uint8_t *e = malloc(cap);
    if (!e)
        return OD_ST_NO_MEMORY;
    int rc = 0;
    if (k > 0) {
        for (size_t i = 0; i < k; i++)
            put_oidx(e + i * OD_OFFSET_INDEX_ENTRY_SIZE, s->oidx[s->oidx_disk_n + i]);
        rc = od_fio_pwrite_full(IO(s), s->idx_fd, e, k * OD_OFFSET_INDEX_ENTRY_SIZE,
                                (int64_t)s->oidx_disk_n * OD_OFFSET_INDEX_ENTRY_SIZE);
    }
    if (rc == 0 && t > 0) {
        for (size_t i = 0; i < t; i++)
            put_tidx(e + i * OD_TIME_INDEX_ENTRY_SIZE, s->tidx[s->tidx_disk_n + i]);
        rc = od_fio_pwrite_full(IO(s), s->tidx_fd, e, t * OD_TIME_INDEX_ENTRY_SIZE,
                                (int64_t)s->tidx_disk_n * OD_TIME_INDEX_ENTRY_SIZE);
    }
    free(e);
    s->index_unsynced = true;
    if (rc < 0)
        return od_st_from_errno(rc);
    s->oidx_disk_n = s->oidx_n;
    s->tidx_disk_n = s->tidx_n;
    return OD_ST_OK;
}

/* Sizes both index files: preallocated (active) or exactly the entries. */
static od_st_err size_index_files(od_segment *s, bool prealloc)
{
    od_fio *io = IO(s);
    s->index_unsynced = true;
    s->index_files_pending = false; /* open_rw creates what is missing */
    uint32_t on = prealloc && s->oidx_max > s->oidx_n ? s->oidx_max : s->oidx_n;
    uint32_t tn = prealloc && s->tidx_max > s->tidx_n ? s->tidx_max : s->tidx_n;
    int ifd = s->idx_fd >= 0 ? s->idx_fd : open_rw(s, ".index", 0);
    if (ifd < 0)
        return od_st_from_errno(ifd);
    int rc = io->m->ftruncate(io, ifd, (int64_t)on * OD_OFFSET_INDEX_ENTRY_SIZE);
    if (ifd != s->idx_fd)
        io->m->close(io, ifd);
    if (rc < 0)
        return od_st_from_errno(rc);
    int tfd = s->tidx_fd >= 0 ? s->tidx_fd : open_rw(s, ".timeindex", 0);
    if (tfd < 0)
        return od_st_from_errno(tfd);
    rc = io->m->ftruncate(io, tfd, (int64_t)tn * OD_TIME_INDEX_ENTRY_SIZE);
    if (tfd != s->tidx_fd)
        io->m->close(io, tfd);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

od_st_err od_segment_make_active(od_segment *s)
{
    od_st_err err = od_segment_load_index(s);
    if (err)
        return err;
    bool bad;
    if ((err = rescan_tail(s, &bad)))
        return err;
    if (bad) {
        int64_t cut;
        if ((err = od_segment_recover(s, &cut)))
            return err;
    }
    s->active = true;
    /* Entries on disk past the ones in memory are never read back (they
     * get overwritten, trimmed at close, or rebuilt after a crash), so only
     * the preallocation needs restoring. Descriptors open on first append. */
    return size_index_files(s, true);
}

/* ------------------------------------------------------------- append */

static od_st_err rollback(od_segment *s, int64_t size, int rc)
{
    if (IO(s)->m->ftruncate(IO(s), s->log_fd, size) < 0)
        return OD_ST_FAILED;
    return od_st_from_errno(rc);
}

od_st_err od_segment_append(od_segment *s, const uint8_t *buf, size_t len, int64_t first_offset,
                            int64_t last_offset)
{
    if (!s->active || len == 0 || last_offset - s->base_offset > INT32_MAX ||
        first_offset < s->base_offset)
        return OD_ST_INVALID_ARG;
    /* Index upkeep is decided batch by batch, as Kafka 3.9 does, so the
     * entries depend only on the sequence of batches, never on how they
     * were grouped into appends. Work on copies; commit after the writes. */
    size_t nb = 0;
    for (size_t p = 0; p < len; nb++)
        p += od_batch_total_size(buf + p, len - p);
    if (!reserve_oidx(s, s->oidx_n + (uint32_t)nb) || !reserve_tidx(s, s->tidx_n + (uint32_t)nb + 1))
        return OD_ST_NO_MEMORY;
    int fd;
    od_st_err err = od_segment_log_fd(s, &fd);
    if (err)
        return err;
    int64_t pos = s->size;
    int rc = od_fio_pwrite_full(IO(s), s->log_fd, buf, len, pos);
    if (rc < 0)
        return rollback(s, pos, rc);
    uint32_t on = s->oidx_n, tn = s->tidx_n;
    int64_t max_ts = s->max_ts, off_max = s->offset_of_max_ts, since = s->bytes_since_index;
    int64_t rolling = s->rolling_ts, at = pos;
    for (size_t p = 0; p < len;) {
        od_batch_header h;
        size_t total = od_batch_total_size(buf + p, len - p);
        od_batch_header_parse(buf + p, total, &h);
        int64_t last = od_batch_last_offset(&h);
        if (at == 0)
            rolling = h.max_timestamp;
        if (h.max_timestamp > max_ts) {
            max_ts = h.max_timestamp;
            off_max = last;
        }
        if (since > s->ctx->index_interval_bytes && on < s->oidx_max) {
            s->oidx[on++] = (od_oidx_entry){(uint32_t)(last - s->base_offset), (uint32_t)at};
            if (max_ts >= 0 && (tn == 0 || max_ts > s->tidx[tn - 1].timestamp) && tn < s->tidx_max)
                s->tidx[tn++] = (od_tidx_entry){max_ts, (uint32_t)(off_max - s->base_offset)};
            since = 0;
        }
        since += (int64_t)total;
        at += (int64_t)total;
        p += total;
    }
    /* Commit: from here on the append is visible. */
    s->oidx_n = on;
    s->tidx_n = tn;
    s->rolling_ts = rolling;
    s->max_ts = max_ts;
    s->offset_of_max_ts = off_max;
    s->size += (int64_t)len;
    s->bytes_since_index = since;
    s->next_offset = last_offset + 1;
    return OD_ST_OK;
}

/* -------------------------------------------------------------- reads */

od_st_err od_segment_translate(od_segment *s, int64_t offset, int64_t *pos, od_batch_header *h,
                               size_t *batch_size)
{
    od_st_err err = od_segment_load_index(s);
    if (err)
        return err;
    int fd;
    if ((err = od_segment_log_fd(s, &fd)))
        return err;
    win w;
    win_init(&w, IO(s), fd, s->size, LOOKUP_CHUNK);
    int64_t p = oidx_start_pos(s, offset);
    err = OD_ST_NOT_FOUND;
    for (;;) {
        size_t total;
        int rc = scan_header(&w, p, h, &total);
        if (rc < 0) {
            err = od_st_from_errno(rc);
            break;
        }
        if (rc == SCAN_END)
            break;
        if (rc == SCAN_BAD) {
            err = OD_ST_CORRUPT;
            break;
        }
        if (od_batch_last_offset(h) >= offset) {
            *pos = p;
            if (batch_size)
                *batch_size = total;
            err = OD_ST_OK;
            break;
        }
        p += (int64_t)total;
    }
    win_free(&w);
    if (err == OD_ST_NOT_FOUND)
        *pos = s->size;
    return err;
}

od_st_err od_segment_read(od_segment *s, int64_t offset, int64_t max_bytes, int64_t max_position,
                          bool min_one, od_file_region *out)
{
    out->fd = -1;
    out->position = 0;
    out->length = 0;
    int64_t pos;
    od_batch_header h;
    size_t first;
    od_st_err err = od_segment_translate(s, offset, &pos, &h, &first);
    if (err == OD_ST_NOT_FOUND)
        return OD_ST_OK;
    if (err)
        return err;
    int64_t limit = max_position < s->size ? max_position : s->size;
    if (pos >= limit)
        return OD_ST_OK;
    int64_t want = max_bytes;
    if (min_one && (int64_t)first > want)
        want = (int64_t)first;
    if (want > limit - pos)
        want = limit - pos;
    if (want <= 0)
        return OD_ST_OK;
    int fd;
    if ((err = od_segment_log_fd(s, &fd)))
        return err;
    out->fd = fd;
    out->position = pos;
    out->length = want;
    return OD_ST_OK;
}

/* The first record of a batch with timestamp >= ts and offset >= min_offset;
 * false when the records cannot be read. */
static bool find_record_ts(const uint8_t *b, size_t total, int64_t ts, int64_t min_offset,
                           int64_t *off, int64_t *found)
{
    od_record_iter it;
    od_record rec;
    bool ok = false;
    /* Decompressed batches are bounded so a hostile payload cannot balloon. */
    if (od_record_iter_init(&it, b, total, (size_t)256 << 20) == OD_BATCH_OK) {
        while (od_record_iter_next(&it, &rec)) {
            if (rec.timestamp >= ts && rec.offset >= min_offset) {
                *off = rec.offset;
                *found = rec.timestamp;
                ok = true;
                break;
            }
        }
    }
    od_record_iter_finish(&it);
    return ok;
}

od_st_err od_segment_find_timestamp(od_segment *s, int64_t ts, int64_t start_offset,
                                    int64_t *offset, int64_t *found_ts)
{
    od_st_err err = od_segment_load_index(s);
    if (err)
        return err;
    int fd;
    if ((err = od_segment_log_fd(s, &fd)))
        return err;
    int64_t ti = tidx_floor(s, ts);
    int64_t from = ti < 0 ? s->base_offset : s->base_offset + s->tidx[ti].rel_offset;
    if (from < start_offset)
        from = start_offset;
    win w;
    win_init(&w, IO(s), fd, s->size, LOOKUP_CHUNK);
    int64_t p = oidx_start_pos(s, from);
    err = OD_ST_NOT_FOUND;
    for (;;) {
        od_batch_header h;
        size_t total;
        int rc = scan_header(&w, p, &h, &total);
        if (rc < 0) {
            err = od_st_from_errno(rc);
            break;
        }
        if (rc != SCAN_OK)
            break;
        if (h.max_timestamp >= ts && od_batch_last_offset(&h) >= start_offset) {
            int64_t floor_off = h.base_offset > start_offset ? h.base_offset : start_offset;
            *offset = floor_off;
            *found_ts = h.max_timestamp;
            err = OD_ST_OK;
            const uint8_t *b = NULL;
            rc = win_get(&w, p, total, &b);
            if (rc == 0)
                find_record_ts(b, total, ts, start_offset, offset, found_ts);
            break;
        }
        p += (int64_t)total;
    }
    win_free(&w);
    return err;
}

od_st_err od_segment_for_each_batch(od_segment *s, int64_t from_offset, od_segment_batch_fn fn,
                                    void *ctx)
{
    od_st_err err = od_segment_load_index(s);
    if (err)
        return err;
    int fd;
    if ((err = od_segment_log_fd(s, &fd)))
        return err;
    win w;
    win_init(&w, IO(s), fd, s->size, RECOVER_CHUNK);
    int64_t p = oidx_start_pos(s, from_offset);
    for (;;) {
        od_batch_header h;
        size_t total;
        const uint8_t *b = NULL;
        int rc = scan_batch(&w, p, &h, &total, &b);
        if (rc < 0) {
            err = od_st_from_errno(rc);
            break;
        }
        if (rc == SCAN_END)
            break;
        if (rc == SCAN_BAD) {
            err = OD_ST_CORRUPT;
            break;
        }
        if (od_batch_last_offset(&h) >= from_offset && (err = fn(ctx, b, total, &h)))
            break;
        p += (int64_t)total;
    }
    win_free(&w);
    return err;
}

/* ------------------------------------------------------------ txnindex */

od_st_err od_segment_txn_load(od_segment *s)
{
    if (s->txn_loaded)
        return OD_ST_OK;
    char path[PATH_CAP];
    seg_path(s, ".txnindex", path);
    char *buf;
    size_t len;
    int rc = od_fio_read_file(IO(s), path, (size_t)1 << 30, &buf, &len);
    if (rc == -ENOENT) {
        s->txn_loaded = true;
        return OD_ST_OK;
    }
    if (rc < 0)
        return od_st_from_errno(rc);
    /* A torn last entry (crash mid-append) is dropped, as is anything after
     * an entry of an unknown version. */
    size_t n = len / OD_TXN_INDEX_ENTRY_SIZE;
    od_aborted_txn *t = n ? malloc(n * sizeof *t) : NULL;
    if (n && !t) {
        free(buf);
        return OD_ST_NO_MEMORY;
    }
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = (const uint8_t *)buf + i * OD_TXN_INDEX_ENTRY_SIZE;
        if (od_load_be16(p) != 0)
            break;
        t[got++] = (od_aborted_txn){(int64_t)od_load_be64(p + 2), (int64_t)od_load_be64(p + 10),
                                    (int64_t)od_load_be64(p + 18), (int64_t)od_load_be64(p + 26)};
    }
    free(buf);
    s->txn = t;
    s->txn_n = s->txn_cap = (uint32_t)got;
    s->txn_loaded = true;
    return OD_ST_OK;
}

/* Rewrites the file's length to the entries kept in memory. */
static od_st_err txn_resize_file(od_segment *s)
{
    char path[PATH_CAP];
    seg_path(s, ".txnindex", path);
    int fd = IO(s)->m->open(IO(s), path, O_RDWR, 0);
    if (fd == -ENOENT)
        return OD_ST_OK;
    if (fd < 0)
        return od_st_from_errno(fd);
    int rc = IO(s)->m->ftruncate(IO(s), fd, (int64_t)s->txn_n * OD_TXN_INDEX_ENTRY_SIZE);
    IO(s)->m->close(IO(s), fd);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

od_st_err od_segment_txn_append(od_segment *s, const od_aborted_txn *t)
{
    od_st_err err = od_segment_txn_load(s);
    if (err)
        return err;
    if (s->txn_n == s->txn_cap) {
        uint32_t cap = s->txn_cap ? s->txn_cap * 2 : 8;
        od_aborted_txn *n = realloc(s->txn, cap * sizeof *n);
        if (!n)
            return OD_ST_NO_MEMORY;
        s->txn = n;
        s->txn_cap = cap;
    }
    uint8_t e[OD_TXN_INDEX_ENTRY_SIZE];
    od_store_be16(e, 0);
    od_store_be64(e + 2, (uint64_t)t->producer_id);
    od_store_be64(e + 10, (uint64_t)t->first_offset);
    od_store_be64(e + 18, (uint64_t)t->last_offset);
    od_store_be64(e + 26, (uint64_t)t->last_stable_offset);
    int fd = open_rw(s, ".txnindex", 0);
    if (fd < 0)
        return od_st_from_errno(fd);
    int rc = od_fio_pwrite_full(IO(s), fd, e, sizeof e, (int64_t)s->txn_n * OD_TXN_INDEX_ENTRY_SIZE);
    if (rc < 0)
        IO(s)->m->ftruncate(IO(s), fd, (int64_t)s->txn_n * OD_TXN_INDEX_ENTRY_SIZE);
    IO(s)->m->close(IO(s), fd);
    if (rc < 0)
        return od_st_from_errno(rc);
    s->txn[s->txn_n++] = *t;
    return OD_ST_OK;
}

bool od_segment_txn_has(od_segment *s, int64_t last_offset)
{
    if (od_segment_txn_load(s) != OD_ST_OK)
        return false;
    for (uint32_t i = 0; i < s->txn_n; i++)
        if (s->txn[i].last_offset == last_offset)
            return true;
    return false;
}

od_st_err od_segment_txn_collect(od_segment *s, int64_t from, int64_t upper, od_aborted_fn fn,
                                 void *ctx)
{
    od_st_err err = od_segment_txn_load(s);
    if (err)
        return err;
    for (uint32_t i = 0; i < s->txn_n; i++)
        if (s->txn[i].last_offset >= from && s->txn[i].first_offset < upper)
            fn(ctx, &s->txn[i]);
    return OD_ST_OK;
}

/* -------------------------------------------------- truncate, seal, etc */

od_st_err od_segment_truncate_to(od_segment *s, int64_t offset)
{
    int64_t pos;
    od_batch_header h;
    od_st_err err = od_segment_translate(s, offset, &pos, &h, NULL);
    if (err == OD_ST_NOT_FOUND)
        return OD_ST_OK;
    if (err)
        return err;
    int rc = IO(s)->m->ftruncate(IO(s), s->log_fd, pos);
    if (rc < 0)
        return od_st_from_errno(rc);
    while (s->oidx_n > 0 && s->base_offset + s->oidx[s->oidx_n - 1].rel_offset >= h.base_offset)
        s->oidx_n--;
    while (s->oidx_n > 0 && s->oidx[s->oidx_n - 1].position >= pos)
        s->oidx_n--;
    while (s->tidx_n > 0 && s->base_offset + s->tidx[s->tidx_n - 1].rel_offset >= h.base_offset)
        s->tidx_n--;
    s->size = pos;
    if (pos == 0)
        s->rolling_ts = -1;
    if ((err = write_index_files(s)))
        return err;
    if ((err = od_segment_txn_load(s)))
        return err;
    uint32_t keep = s->txn_n;
    while (keep > 0 && s->txn[keep - 1].last_offset >= h.base_offset)
        keep--;
    if (keep != s->txn_n) {
        s->txn_n = keep;
        if ((err = txn_resize_file(s)))
            return err;
    }
    bool bad;
    if ((err = rescan_tail(s, &bad)))
        return err;
    return bad ? OD_ST_CORRUPT : OD_ST_OK;
}

od_st_err od_segment_seal(od_segment *s)
{
    if (!s->active)
        return OD_ST_OK;
    od_fio *io = IO(s);
    od_st_err perr = write_pending_index(s);
    if (perr)
        return perr;
    if (s->max_ts >= 0 && (s->tidx_n == 0 || s->max_ts > s->tidx[s->tidx_n - 1].timestamp)) {
        if (!reserve_tidx(s, s->tidx_n + 1))
            return OD_ST_NO_MEMORY;
        int fd;
        od_st_err err = od_segment_log_fd(s, &fd);
        if (!err)
            err = ensure_index_fds(s);
        if (err)
            return err;
        od_tidx_entry e = {s->max_ts, (uint32_t)(s->offset_of_max_ts - s->base_offset)};
        uint8_t t[OD_TIME_INDEX_ENTRY_SIZE];
        put_tidx(t, e);
        s->index_unsynced = true;
        int rc = od_fio_pwrite_full(io, s->tidx_fd, t, sizeof t,
                                    (int64_t)s->tidx_n * OD_TIME_INDEX_ENTRY_SIZE);
        if (rc < 0)
            return od_st_from_errno(rc);
        s->tidx[s->tidx_n++] = e;
        s->tidx_disk_n = s->tidx_n;
    }
    od_st_err err = size_index_files(s, false);
    if (err)
        return err;
    if (s->idx_fd >= 0)
        io->m->close(io, s->idx_fd);
    if (s->tidx_fd >= 0)
        io->m->close(io, s->tidx_fd);
    s->idx_fd = s->tidx_fd = -1;
    s->active = false;
    return OD_ST_OK;
}

static int fsync_path(od_segment *s, const char *suffix)
{
    char path[PATH_CAP];
    seg_path(s, suffix, path);
    int fd = IO(s)->m->open(IO(s), path, O_RDONLY, 0);
    if (fd == -ENOENT)
        return 0;
    if (fd < 0)
        return fd;
    int rc = IO(s)->m->fsync(IO(s), fd);
    IO(s)->m->close(IO(s), fd);
    return rc;
}

od_st_err od_segment_flush(od_segment *s)
{
    int fd;
    od_st_err err = write_pending_index(s);
    if (!err)
        err = od_segment_log_fd(s, &fd);
    if (err)
        return err;
    int rc = IO(s)->m->fsync(IO(s), fd);
    bool index = s->index_unsynced && !s->index_files_pending; /* invariants 8, 9 */
    if (rc == 0 && index)
        rc = s->idx_fd >= 0 ? IO(s)->m->fsync(IO(s), s->idx_fd) : fsync_path(s, ".index");
    if (rc == 0 && index)
        rc = s->tidx_fd >= 0 ? IO(s)->m->fsync(IO(s), s->tidx_fd) : fsync_path(s, ".timeindex");
    if (rc == 0 && s->txn_loaded && s->txn_n > 0)
        rc = fsync_path(s, ".txnindex");
    if (rc == 0)
        s->index_unsynced = false;
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

int64_t od_segment_largest_timestamp(od_segment *s)
{
    if (od_segment_load_index(s) == OD_ST_OK && s->max_ts >= 0)
        return s->max_ts;
    char path[PATH_CAP];
    seg_path(s, ".log", path);
    od_fio_stat st;
    if (IO(s)->m->stat(IO(s), path, &st) == 0)
        return st.mtime_ms;
    return -1;
}

od_st_err od_segment_delete_files(od_segment *s)
{
    static const char *const suffixes[] = {".log", ".index", ".timeindex", ".txnindex"};
    int first_err = 0;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[PATH_CAP];
        seg_path(s, suffixes[i], path);
        int rc = IO(s)->m->unlink(IO(s), path);
        if (rc < 0 && rc != -ENOENT && first_err == 0)
            first_err = rc;
    }
    s->deleted = true;
    return first_err ? od_st_from_errno(first_err) : OD_ST_OK;
}

void od_segment_ref(od_segment *s)
{
    s->refs++;
}

void od_segment_unref(od_segment *s)
{
    if (--s->refs > 0)
        return;
    od_fio *io = IO(s);
    lru_remove(s);
    if (s->log_fd >= 0)
        io->m->close(io, s->log_fd);
    if (s->idx_fd >= 0)
        io->m->close(io, s->idx_fd);
    if (s->tidx_fd >= 0)
        io->m->close(io, s->tidx_fd);
    free(s->oidx);
    free(s->tidx);
    free(s->txn);
    free(s);
}

/* ------------------------------------------------------------- verify */

od_st_err od_segment_verify(od_segment *s, char *why, size_t why_cap)
{
    od_st_err err = od_segment_load_index(s);
    if (err)
        return err;
    int fd;
    if ((err = od_segment_log_fd(s, &fd)))
        return err;
    win w;
    win_init(&w, IO(s), fd, s->size, RECOVER_CHUNK);
    int64_t pos = 0, prefix_max = -1, next = s->base_offset;
    uint32_t oi = 0, ti = 0;
    err = OD_ST_OK;
    why[0] = '\0';
    for (;;) {
        od_batch_header h;
        size_t total;
        const uint8_t *b = NULL;
        int rc = scan_batch(&w, pos, &h, &total, &b);
        if (rc == SCAN_END)
            break;
        if (rc != SCAN_OK) {
            snprintf(why, why_cap, "bad batch at %" PRId64, pos);
            err = OD_ST_CORRUPT;
            break;
        }
        if (h.base_offset < next) {
            snprintf(why, why_cap, "offset %" PRId64 " not increasing at %" PRId64, h.base_offset, pos);
            err = OD_ST_CORRUPT;
            break;
        }
        int64_t last = od_batch_last_offset(&h);
        while (oi < s->oidx_n && s->oidx[oi].position < pos) {
            snprintf(why, why_cap, "index entry %u position %u is not a batch start", oi,
                     s->oidx[oi].position);
            err = OD_ST_CORRUPT;
            goto out;
        }
        if (oi < s->oidx_n && s->oidx[oi].position == pos) {
            if (s->base_offset + s->oidx[oi].rel_offset < h.base_offset) {
                snprintf(why, why_cap, "index entry %u offset below its batch", oi);
                err = OD_ST_CORRUPT;
                goto out;
            }
            oi++;
        }
        if (h.max_timestamp > prefix_max)
            prefix_max = h.max_timestamp;
        while (ti < s->tidx_n && s->base_offset + s->tidx[ti].rel_offset <= last) {
            if (s->base_offset + s->tidx[ti].rel_offset != last ||
                s->tidx[ti].timestamp != prefix_max) {
                snprintf(why, why_cap, "time index entry %u disagrees with the log", ti);
                err = OD_ST_CORRUPT;
                goto out;
            }
            ti++;
        }
        next = last + 1;
        pos += (int64_t)total;
    }
    if (!err && (oi != s->oidx_n || ti != s->tidx_n)) {
        snprintf(why, why_cap, "index entries past the log end (%u/%u, %u/%u)", oi, s->oidx_n, ti,
                 s->tidx_n);
        err = OD_ST_CORRUPT;
    }
    if (!err && next != s->next_offset && s->next_offset >= 0 && s->size > 0) {
        snprintf(why, why_cap, "next offset %" PRId64 " but log ends at %" PRId64, s->next_offset, next);
        err = OD_ST_CORRUPT;
    }
out:
    win_free(&w);
    return err;
}
