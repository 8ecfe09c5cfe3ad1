/*
 * cleaner.c: offset map, segment filtering and the swap protocol for log
 * compaction.
 *
 * Invariants:
 *   1. A record is dropped only if the map holds a strictly later offset for
 *      its key (it is superseded), or it is a tombstone that is the latest
 *      for its key in a batch whose delete horizon (KIP-534) has passed, or
 *      it belongs to an aborted transaction named by a .txnindex entry.
 *      Records at or past map_upper are never judged by the map, since it
 *      has not seen what follows them. (The legacy single-segment filter
 *      judges tombstones by batch max timestamp instead.)
 *   2. Offsets never move: a rewritten batch keeps baseOffset,
 *      lastOffsetDelta, producer fields and partitionLeaderEpoch, so readers,
 *      indexes (rebuilt), producer state and the epoch cache stay valid.
 *      Each producer's last batch stays, emptied if need be.
 *   3. The original segments are replaced only after their replacement is
 *      complete and durable (.cleaned and .txnindex.cleaned fsynced, then
 *      the rename to .swap); a .swap is always complete, a .cleaned may not
 *      be.
 *   4. A delete horizon is set once (baseTimestamp = now +
 *      delete.retention.ms, attribute 0x40) and never moved by later
 *      passes; record timestamps as readers compute them are unchanged.
 *   5. A transaction marker goes only when no data of its transaction is
 *      left (none seen this pass, or an ABORT with none to hide) and its
 *      horizon has passed; an ABORT kept while data of its transaction is
 *      still seen keeps its .txnindex entry, so read_committed stays right.
 *   6. A committed swap covers exactly the offsets its file holds: recovery
 *      deletes the segments whose base lies inside them and no other.
 *
 * Swap states per base offset, and who moves between them:
 *
 *   CLEAN --filter_segment / filter_group--> CLEANED(.log.cleaned
 *         [+ .txnindex.cleaned])
 *   CLEANED --swap_in / swap_group (rename to .swap)--> SWAPPING   (commit)
 *   SWAPPING --unlink old indexes and later members, install .txnindex,
 *             rename .swap over .log--> CLEAN
 *   crash in CLEANED  --finish_interrupted--> CLEAN (outputs discarded)
 *   crash in SWAPPING --finish_interrupted--> CLEAN (swap completed,
 *             members found from the swap's offsets)
 */
#include "cleaner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/compression.h"
#include "records/records.h"

static int unlink_segment_files(od_fio *io, const char *dir, int64_t base, bool with_log);
static int install_txnindex(od_fio *io, const char *dir, int64_t base);

/* ------------------------------------------------------------ offset map */

typedef struct slot {
    uint64_t h1, h2;
    int64_t offset; /* -1: empty */
} slot;

struct od_offset_map {
    slot *slots;
    size_t cap, n, max_fill;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* A 64-bit hash of key under seed; two seeds give the 128 bits compared. */
static uint64_t hash64(const uint8_t *k, size_t len, uint64_t seed)
{
    uint64_t h = mix64(seed ^ (uint64_t)len);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, k + i, 8);
        h = mix64(h ^ w) * 0x9E3779B97F4A7C15ull;
    }
    uint64_t tail = 0;
    for (size_t j = 0; i < len; i++, j++)
        tail |= (uint64_t)k[i] << (8 * j);
    return mix64(h ^ tail ^ 0xA5A5A5A5A5A5A5A5ull);
}

od_offset_map *od_offset_map_new(size_t capacity)
{
    od_offset_map *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    size_t cap = 16;
    while (cap < capacity + capacity / 2 + 1)
        cap *= 2;
    m->slots = malloc(cap * sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < cap; i++)
        m->slots[i].offset = -1;
    m->cap = cap;
    m->max_fill = capacity;
    return m;
}

void od_offset_map_free(od_offset_map *m)
{
    if (m)
        free(m->slots);
    free(m);
}

static slot *find_slot(const od_offset_map *m, uint64_t h1, uint64_t h2)
{
    size_t i = (size_t)h1 & (m->cap - 1);
    for (;;) {
        slot *s = &m->slots[i];
        if (s->offset < 0 || (s->h1 == h1 && s->h2 == h2))
            return s;
        i = (i + 1) & (m->cap - 1);
    }
}

bool od_offset_map_put(od_offset_map *m, const uint8_t *key, size_t len, int64_t offset)
{
    uint64_t h1 = hash64(key, len, 0x1234567887654321ull), h2 = hash64(key, len, 0x0F1E2D3C4B5A6978ull);
    slot *s = find_slot(m, h1, h2);
    if (s->offset < 0) {
        if (m->n >= m->max_fill)
            return false;
        m->n++;
        s->h1 = h1;
        s->h2 = h2;
    }
    if (offset > s->offset)
        s->offset = offset;
    return true;
}

int64_t od_offset_map_get(const od_offset_map *m, const uint8_t *key, size_t len)
{
    uint64_t h1 = hash64(key, len, 0x1234567887654321ull), h2 = hash64(key, len, 0x0F1E2D3C4B5A6978ull);
    return find_slot(m, h1, h2)->offset;
}

size_t od_offset_map_size(const od_offset_map *m)
{
    return m->n;
}

/* ------------------------------------------------------------ map build */

typedef struct map_ctx {
    od_offset_map *m;
    int64_t from, upper, reached;
    bool full;
} map_ctx;

/* Decompressed batches in the cleaner are bounded like on the produce path. */
#define CLEAN_DECOMPRESS_LIMIT ((size_t)256 << 20)

static od_st_err map_batch(void *ctx, const uint8_t *batch, size_t len, const od_batch_header *h)
{
    map_ctx *c = ctx;
    if (c->full || h->base_offset >= c->upper)
        return OD_ST_OK;
    if (od_batch_is_control(h)) {
        c->reached = od_batch_last_offset(h) + 1;
        return OD_ST_OK;
    }
    od_record_iter it;
    od_record rec;
    od_st_err err = OD_ST_OK;
    if (od_record_iter_init(&it, batch, len, CLEAN_DECOMPRESS_LIMIT) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return OD_ST_CORRUPT;
    }
    while (od_record_iter_next(&it, &rec)) {
        if (rec.offset < c->from || rec.offset >= c->upper || rec.key.len < 0)
            continue;
        if (!od_offset_map_put(c->m, rec.key.ptr, (size_t)rec.key.len, rec.offset)) {
            /* Full: this batch is the first not wholly mapped. */
            c->full = true;
            break;
        }
    }
    od_record_iter_finish(&it);
    if (!c->full)
        c->reached = od_batch_last_offset(h) + 1;
    return err;
}

od_st_err od_cleaner_build_map(od_segment *s, int64_t from, int64_t upper, od_offset_map *m,
                               int64_t *reached)
{
    map_ctx c = {m, from, upper, *reached, false};
    od_st_err err = od_segment_for_each_batch(s, from, map_batch, &c);
    *reached = c.reached;
    return err;
}

/* -------------------------------------------------------------- filtering */

typedef struct filter_ctx {
    const od_offset_map *m;
    const od_clean_policy *p;
    od_clean_stats *st;
    od_writer out;    /* the cleaned segment, built in memory one batch at a time */
    od_writer recs;   /* retained records of the current batch */
    od_fio *io;
    int fd;
    int64_t written;
} filter_ctx;

static bool keep_record(const filter_ctx *c, const od_batch_header *h, const od_record *rec)
{
    if (rec->key.len < 0 || rec->offset >= c->p->map_upper)
        return true;
    int64_t latest = od_offset_map_get(c->m, rec->key.ptr, (size_t)rec->key.len);
    if (latest > rec->offset)
        return false;
    if (rec->value.len < 0 && h->max_timestamp < c->p->tombstone_before_ms)
        return false;
    return true;
}

static void encode_record(od_writer *w, const od_record *rec)
{
    od_writer body;
    od_writer_init(&body, 64 + (rec->key.len > 0 ? (size_t)rec->key.len : 0) +
                              (rec->value.len > 0 ? (size_t)rec->value.len : 0) +
                              (size_t)(rec->headers.len > 0 ? rec->headers.len : 0));
    od_write_i8(&body, rec->attributes);
    od_write_varlong(&body, rec->timestamp_delta);
    od_write_varint(&body, rec->offset_delta);
    od_write_varint(&body, rec->key.len);
    if (rec->key.len > 0)
        od_write_raw(&body, rec->key.ptr, (size_t)rec->key.len);
    od_write_varint(&body, rec->value.len);
    if (rec->value.len > 0)
        od_write_raw(&body, rec->value.ptr, (size_t)rec->value.len);
    od_write_varint(&body, rec->header_count);
    if (rec->headers.len > 0)
        od_write_raw(&body, rec->headers.ptr, (size_t)rec->headers.len);
    od_write_varint(w, (int32_t)body.len);
    od_write_raw(w, body.buf, body.len);
    if (body.err)
        od_writer_fail(w, body.err);
    od_writer_free(&body);
}

/* Whether an emptied batch must stay: it is its producer's last, and the
 * producer's sequence and epoch must survive compaction (as in Kafka). */
static bool last_of_producer(const filter_ctx *c, const od_batch_header *h)
{
    if (h->producer_id < 0 || !c->p->producers)
        return false;
    const od_producer_entry *e = od_pstate_find(c->p->producers, h->producer_id);
    return e && e->nbatches > 0 && e->batches[e->nbatches - 1].last_offset == od_batch_last_offset(h);
}

static od_st_err flush_out(filter_ctx *c)
{
    if (c->out.err)
        return OD_ST_NO_MEMORY;
    int rc = od_fio_pwrite_full(c->io, c->fd, c->out.buf, c->out.len, c->written);
    if (rc < 0)
        return od_st_from_errno(rc);
    c->written += (int64_t)c->out.len;
    c->out.len = 0;
    return OD_ST_OK;
}

static od_st_err filter_batch(void *ctx, const uint8_t *batch, size_t len, const od_batch_header *h)
{
    filter_ctx *c = ctx;
    c->st->bytes_before += (int64_t)len;
    if (od_batch_is_control(h) || od_batch_is_transactional(h) ||
        h->base_offset >= c->p->map_upper) {
        od_write_raw(&c->out, batch, len);
        c->st->bytes_after += (int64_t)len;
        return c->out.len > (1u << 20) ? flush_out(c) : OD_ST_OK;
    }
    od_record_iter it;
    od_record rec;
    if (od_record_iter_init(&it, batch, len, CLEAN_DECOMPRESS_LIMIT) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return OD_ST_CORRUPT;
    }
    c->recs.len = 0;
    int32_t kept = 0, total = 0;
    int64_t max_ts = -1;
    while (od_record_iter_next(&it, &rec)) {
        total++;
        if (!keep_record(c, h, &rec))
            continue;
        encode_record(&c->recs, &rec);
        kept++;
        if (rec.timestamp > max_ts)
            max_ts = rec.timestamp;
    }
    od_batch_err ierr = it.err;
    od_record_iter_finish(&it);
    if (ierr != OD_BATCH_OK)
        return OD_ST_CORRUPT;
    c->st->records_read += total;
    c->st->records_removed += total - kept;
    if (kept == total) {
        od_write_raw(&c->out, batch, len);
        c->st->bytes_after += (int64_t)len;
    } else if (kept > 0 || last_of_producer(c, h)) {
        size_t start = c->out.len;
        od_write_raw(&c->out, batch, OD_BATCH_HEADER_SIZE);
        od_compression codec = od_batch_compression(h);
        if (codec == OD_COMPRESSION_NONE || kept == 0)
            od_write_raw(&c->out, c->recs.buf, c->recs.len);
        else if (od_compress(codec, c->recs.buf, c->recs.len, &c->out) != OD_BATCH_OK)
            return OD_ST_NO_MEMORY;
        if (c->out.err)
            return OD_ST_NO_MEMORY;
        uint8_t *b = c->out.buf + start;
        size_t blen = c->out.len - start;
        od_store_be32(b + OD_BATCH_LENGTH_AT, (uint32_t)(blen - OD_LOG_OVERHEAD));
        od_store_be32(b + OD_BATCH_RECORD_COUNT_AT, (uint32_t)kept);
        if (!(h->attributes & OD_BATCH_ATTR_LOG_APPEND_TIME) && kept > 0)
            od_store_be64(b + OD_BATCH_MAX_TIMESTAMP_AT, (uint64_t)max_ts);
        if (kept == 0 && codec != OD_COMPRESSION_NONE)
            od_store_be16(b + OD_BATCH_ATTRIBUTES_AT,
                          (uint16_t)(h->attributes & ~OD_BATCH_ATTR_COMPRESSION_MASK));
        od_batch_restamp_crc(b, blen);
        c->st->bytes_after += (int64_t)blen;
    }
    return c->out.len > (1u << 20) ? flush_out(c) : OD_ST_OK;
}

static void seg_file(char *buf, size_t cap, const char *dir, int64_t base, const char *suffix)
{
    snprintf(buf, cap, "%s/%020" PRId64 "%s", dir, base, suffix);
}

od_st_err od_cleaner_filter_segment(od_segment *s, const od_offset_map *m,
                                    const od_clean_policy *p, od_clean_stats *st)
{
    char path[4096];
    seg_file(path, sizeof path, s->ctx->dir, s->base_offset, ".log.cleaned");
    od_fio *io = s->ctx->io;
    int fd = io->m->open(io, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return od_st_from_errno(fd);
    filter_ctx c = {m, p, st, {0}, {0}, io, fd, 0};
    od_writer_init(&c.out, 1 << 16);
    od_writer_init(&c.recs, 1 << 16);
    od_st_err err = od_segment_for_each_batch(s, s->base_offset, filter_batch, &c);
    if (!err)
        err = flush_out(&c);
    if (!err) {
        int rc = io->m->fsync(io, fd);
        if (rc < 0)
            err = od_st_from_errno(rc);
    }
    od_writer_free(&c.out);
    od_writer_free(&c.recs);
    io->m->close(io, fd);
    if (err)
        io->m->unlink(io, path);
    return err;
}

od_st_err od_cleaner_swap_in(od_fio *io, const char *dir, int64_t base)
{
    char cleaned[4096], swap[4096], log[4096], idx[4096], tidx[4096];
    seg_file(cleaned, sizeof cleaned, dir, base, ".log.cleaned");
    seg_file(swap, sizeof swap, dir, base, ".log.swap");
    seg_file(log, sizeof log, dir, base, ".log");
    seg_file(idx, sizeof idx, dir, base, ".index");
    seg_file(tidx, sizeof tidx, dir, base, ".timeindex");
    int rc = io->m->rename(io, cleaned, swap);
    if (rc == 0)
        rc = od_fio_fsync_dir(io, dir);
    if (rc < 0)
        return od_st_from_errno(rc);
    /* Committed: from here a crash is finished forward at the next open. */
    rc = io->m->unlink(io, idx);
    if (rc == 0 || rc == -ENOENT)
        rc = io->m->unlink(io, tidx);
    if (rc == 0 || rc == -ENOENT)
        rc = io->m->rename(io, swap, log);
    if (rc == 0)
        rc = od_fio_fsync_dir(io, dir);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

typedef struct pending {
    int64_t *swaps, *cleaned, *logs, *tcleaned;
    size_t ns, nc, nl, nt, caps, capc, capl, capt;
    bool oom;
} pending;

static bool push64(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        int64_t *nv = realloc(*v, c * sizeof *nv);
        if (!nv)
            return false;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return true;
}

static int pending_cb(void *ctx, const char *name)
{
    pending *p = ctx;
    size_t l = strlen(name);
    int64_t base = 0;
    if (l < 21)
        return 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        base = base * 10 + (name[i] - '0');
    }
    bool ok = true;
    if (strcmp(name + 20, ".log.swap") == 0)
        ok = push64(&p->swaps, &p->ns, &p->caps, base);
    else if (strcmp(name + 20, ".log.cleaned") == 0)
        ok = push64(&p->cleaned, &p->nc, &p->capc, base);
    else if (strcmp(name + 20, ".log") == 0)
        ok = push64(&p->logs, &p->nl, &p->capl, base);
    else if (strcmp(name + 20, ".txnindex.cleaned") == 0)
        ok = push64(&p->tcleaned, &p->nt, &p->capt, base);
    if (!ok) {
        p->oom = true;
        return 1;
    }
    return 0;
}

static bool has64(const int64_t *v, size_t n, int64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* The offset after the last whole batch of a (fsynced, complete) swap file;
 * base when it holds none. */
static int swap_next_offset(od_fio *io, const char *path, int64_t base, int64_t *next)
{
    *next = base;
    int fd = io->m->open(io, path, O_RDONLY, 0);
    if (fd < 0)
        return fd;
    int64_t pos = 0;
    for (;;) {
        uint8_t hdr[OD_BATCH_HEADER_SIZE];
        int64_t n = od_fio_pread_full(io, fd, hdr, sizeof hdr, pos);
        if (n < 0) {
            io->m->close(io, fd);
            return (int)n;
        }
        od_batch_header h;
        if ((size_t)n < sizeof hdr || od_batch_header_parse(hdr, sizeof hdr, &h) != OD_BATCH_OK)
            break;
        *next = od_batch_last_offset(&h) + 1;
        pos += (int64_t)h.batch_length + OD_LOG_OVERHEAD;
    }
    io->m->close(io, fd);
    return 0;
}

od_st_err od_cleaner_finish_interrupted(od_fio *io, const char *dir)
{
    pending p = {0};
    int rc = io->m->readdir(io, dir, pending_cb, &p);
    od_st_err err = p.oom ? OD_ST_NO_MEMORY : rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
    bool touched = false;
    for (size_t i = 0; i < p.nc && !err; i++) {
        char path[4096];
        seg_file(path, sizeof path, dir, p.cleaned[i], ".log.cleaned");
        rc = io->m->unlink(io, path);
        if (rc < 0 && rc != -ENOENT)
            err = od_st_from_errno(rc);
        touched = true;
    }
    /* A cleaned txnindex without its committed swap is an unfinished
     * output; with one, the swap below installs it. */
    for (size_t i = 0; i < p.nt && !err; i++) {
        if (has64(p.swaps, p.ns, p.tcleaned[i]))
            continue;
        char path[4096];
        seg_file(path, sizeof path, dir, p.tcleaned[i], ".txnindex.cleaned");
        rc = io->m->unlink(io, path);
        if (rc < 0 && rc != -ENOENT)
            err = od_st_from_errno(rc);
        touched = true;
    }
    for (size_t i = 0; i < p.ns && !err; i++) {
        int64_t base = p.swaps[i], next;
        char swap[4096], log[4096];
        seg_file(swap, sizeof swap, dir, base, ".log.swap");
        seg_file(log, sizeof log, dir, base, ".log");
        rc = swap_next_offset(io, swap, base, &next);
        /* Segments that the swap's offsets cover were members of its group. */
        for (size_t j = 0; j < p.nl && rc == 0; j++)
            if (p.logs[j] > base && p.logs[j] < next)
                rc = unlink_segment_files(io, dir, p.logs[j], true);
        if (rc == 0)
            rc = unlink_segment_files(io, dir, base, false);
        if (rc == 0)
            rc = install_txnindex(io, dir, base);
        if (rc == 0)
            rc = io->m->rename(io, swap, log);
        if (rc < 0)
            err = od_st_from_errno(rc);
        touched = true;
    }
    if (!err && touched) {
        rc = od_fio_fsync_dir(io, dir);
        if (rc < 0)
            err = od_st_from_errno(rc);
    }
    free(p.swaps);
    free(p.cleaned);
    free(p.logs);
    free(p.tcleaned);
    return err;
}

/* ------------------------------------------------- transaction metadata */

typedef struct ongoing_abort {
    od_aborted_txn txn;
    int64_t last_observed; /* last offset of its data seen this pass, or -1 */
} ongoing_abort;

struct od_clean_txn {
    od_aborted_txn *queue; /* by first offset; [head, n) not yet reached */
    size_t head, n, cap;
    ongoing_abort *aborts;
    size_t na, capa;
    int64_t *committed; /* producers with committed data under way */
    size_t nc, capc;
    od_writer cleaned_index; /* entries for the group being written */
};

od_clean_txn *od_clean_txn_new(void)
{
    od_clean_txn *t = calloc(1, sizeof *t);
    if (t)
        od_writer_init(&t->cleaned_index, 64);
    return t;
}

void od_clean_txn_free(od_clean_txn *t)
{
    if (!t)
        return;
    free(t->queue);
    free(t->aborts);
    free(t->committed);
    od_writer_free(&t->cleaned_index);
    free(t);
}

bool od_clean_txn_add(od_clean_txn *t, const od_aborted_txn *a)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->queue[i].producer_id == a->producer_id && t->queue[i].first_offset == a->first_offset)
            return true;
    for (size_t i = 0; i < t->na; i++)
        if (t->aborts[i].txn.producer_id == a->producer_id &&
            t->aborts[i].txn.first_offset == a->first_offset)
            return true;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        od_aborted_txn *q = realloc(t->queue, cap * sizeof *q);
        if (!q)
            return false;
        t->queue = q;
        t->cap = cap;
    }
    /* Insert in first-offset order among the entries not yet reached. */
    size_t i = t->n;
    while (i > t->head && t->queue[i - 1].first_offset > a->first_offset) {
        t->queue[i] = t->queue[i - 1];
        i--;
    }
    t->queue[i] = *a;
    t->n++;
    return true;
}

static ongoing_abort *find_abort(od_clean_txn *t, int64_t pid)
{
    for (size_t i = 0; i < t->na; i++)
        if (t->aborts[i].txn.producer_id == pid)
            return &t->aborts[i];
    return NULL;
}

/* Every aborted transaction that has begun by `offset` becomes under way. */
static bool consume_up_to(od_clean_txn *t, int64_t offset)
{
    while (t->head < t->n && t->queue[t->head].first_offset <= offset) {
        od_aborted_txn a = t->queue[t->head++];
        if (find_abort(t, a.producer_id))
            continue;
        if (t->na == t->capa) {
            size_t cap = t->capa ? t->capa * 2 : 8;
            ongoing_abort *n = realloc(t->aborts, cap * sizeof *n);
            if (!n)
                return false;
            t->aborts = n;
            t->capa = cap;
        }
        t->aborts[t->na++] = (ongoing_abort){a, -1};
    }
    return true;
}

static bool committed_has(const od_clean_txn *t, int64_t pid, bool remove_it, od_clean_txn *mt)
{
    for (size_t i = 0; i < t->nc; i++) {
        if (t->committed[i] == pid) {
            if (remove_it)
                mt->committed[i] = mt->committed[--mt->nc];
            return true;
        }
    }
    return false;
}

static bool committed_add(od_clean_txn *t, int64_t pid)
{
    if (committed_has(t, pid, false, t))
        return true;
    if (t->nc == t->capc) {
        size_t cap = t->capc ? t->capc * 2 : 8;
        int64_t *n = realloc(t->committed, cap * sizeof *n);
        if (!n)
            return false;
        t->committed = n;
        t->capc = cap;
    }
    t->committed[t->nc++] = pid;
    return true;
}

static void put_txn_entry(od_writer *w, const od_aborted_txn *a)
{
    od_write_i16(w, 0);
    od_write_i64(w, a->producer_id);
    od_write_i64(w, a->first_offset);
    od_write_i64(w, a->last_offset);
    od_write_i64(w, a->last_stable_offset);
}

/* The type of a control batch's marker, or -1 when it has no record. */
static od_st_err control_type(const uint8_t *batch, size_t len, int *type)
{
    od_record_iter it;
    od_record rec;
    *type = -1;
    if (od_record_iter_init(&it, batch, len, CLEAN_DECOMPRESS_LIMIT) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return OD_ST_CORRUPT;
    }
    if (od_record_iter_next(&it, &rec)) {
        od_control_record cr;
        *type = od_control_record_parse(&rec, &cr) == OD_BATCH_OK ? cr.type : -2;
    }
    od_batch_err e = it.err;
    od_record_iter_finish(&it);
    return e == OD_BATCH_OK ? OD_ST_OK : OD_ST_CORRUPT;
}

/* Kafka's onControlBatchRead: whether the marker itself may go (once past
 * its delete horizon). With index set, a kept ABORT whose data this pass
 * saw is recorded for the output's .txnindex. */
static od_st_err on_control_batch(od_clean_txn *t, const uint8_t *batch, size_t len,
                                  const od_batch_header *h, bool index, bool *can_discard)
{
    if (!consume_up_to(t, od_batch_last_offset(h)))
        return OD_ST_NO_MEMORY;
    int type;
    od_st_err err = control_type(batch, len, &type);
    if (err)
        return err;
    if (type == -1) { /* emptied by an earlier pass */
        *can_discard = true;
        return OD_ST_OK;
    }
    if (type == OD_CONTROL_ABORT) {
        ongoing_abort *a = find_abort(t, h->producer_id);
        if (a) {
            ongoing_abort gone = *a;
            *a = t->aborts[--t->na];
            if (gone.last_observed >= 0) {
                if (index)
                    put_txn_entry(&t->cleaned_index, &gone.txn);
                *can_discard = false;
                return t->cleaned_index.err ? OD_ST_NO_MEMORY : OD_ST_OK;
            }
        }
        *can_discard = true;
    } else if (type == OD_CONTROL_COMMIT) {
        *can_discard = !committed_has(t, h->producer_id, true, t);
    } else {
        *can_discard = false;
    }
    return OD_ST_OK;
}

/* Kafka's onBatchRead: true when the batch is data of an aborted
 * transaction. */
static od_st_err on_data_batch(od_clean_txn *t, const od_batch_header *h, bool *aborted)
{
    *aborted = false;
    if (!consume_up_to(t, od_batch_last_offset(h)))
        return OD_ST_NO_MEMORY;
    if (!od_batch_is_transactional(h))
        return OD_ST_OK;
    ongoing_abort *a = find_abort(t, h->producer_id);
    if (a) {
        a->last_observed = od_batch_last_offset(h);
        *aborted = true;
        return OD_ST_OK;
    }
    return committed_add(t, h->producer_id) ? OD_ST_OK : OD_ST_NO_MEMORY;
}

typedef struct map_txn_ctx {
    map_ctx mc;
    od_clean_txn *t;
} map_txn_ctx;

static od_st_err map_batch_txn(void *ctx, const uint8_t *batch, size_t len, const od_batch_header *h)
{
    map_txn_ctx *c = ctx;
    if (c->mc.full || h->base_offset >= c->mc.upper)
        return OD_ST_OK;
    od_st_err err;
    if (od_batch_is_control(h)) {
        bool discard;
        if ((err = on_control_batch(c->t, batch, len, h, false, &discard)))
            return err;
        c->mc.reached = od_batch_last_offset(h) + 1;
        return OD_ST_OK;
    }
    bool aborted;
    if ((err = on_data_batch(c->t, h, &aborted)))
        return err;
    if (aborted) {
        c->mc.reached = od_batch_last_offset(h) + 1;
        return OD_ST_OK;
    }
    return map_batch(&c->mc, batch, len, h);
}

od_st_err od_cleaner_build_map_txn(od_segment *s, int64_t from, int64_t upper, od_offset_map *m,
                                   od_clean_txn *t, int64_t *reached)
{
    map_txn_ctx c = {{m, from, upper, *reached, false}, t};
    od_st_err err = od_segment_for_each_batch(s, from, map_batch_txn, &c);
    *reached = c.mc.reached;
    return err;
}

/* ------------------------------------------------------- group filtering */

typedef struct group_ctx {
    const od_clean_group *g;
    od_clean_stats *st;
    od_writer out;
    od_writer recs;
    od_fio *io;
    int fd;
    int64_t written;
} group_ctx;

static od_st_err group_flush(group_ctx *c)
{
    if (c->out.err)
        return OD_ST_NO_MEMORY;
    int rc = od_fio_pwrite_full(c->io, c->fd, c->out.buf, c->out.len, c->written);
    if (rc < 0)
        return od_st_from_errno(rc);
    c->written += (int64_t)c->out.len;
    c->out.len = 0;
    return OD_ST_OK;
}

static bool group_last_of_producer(const od_clean_group *g, const od_batch_header *h)
{
    if (h->producer_id < 0 || !g->producers)
        return false;
    const od_producer_entry *e = od_pstate_find(g->producers, h->producer_id);
    return e && e->nbatches > 0 && e->batches[e->nbatches - 1].last_offset == od_batch_last_offset(h);
}

/* Kafka's shouldRetainRecord for a data record. */
static bool group_keep(const od_clean_group *g, const od_batch_header *h, const od_record *rec)
{
    if (rec->key.len < 0 || rec->offset >= g->map_upper)
        return true;
    if (od_offset_map_get(g->m, rec->key.ptr, (size_t)rec->key.len) > rec->offset)
        return false;
    if (rec->value.len >= 0)
        return true;
    bool has_horizon = (h->attributes & OD_BATCH_ATTR_DELETE_HORIZON) != 0;
    return !has_horizon || g->now_ms < h->base_timestamp;
}

/* An emptied batch that must stay for its producer's sake: the header
 * alone, as Kafka writes it (no compression, no base timestamp). */
static void write_empty_header(od_writer *w, const od_batch_header *h)
{
    size_t start = w->len;
    od_write_i64(w, h->base_offset);
    od_write_i32(w, OD_BATCH_HEADER_SIZE - OD_LOG_OVERHEAD);
    od_write_i32(w, h->partition_leader_epoch);
    od_write_i8(w, 2);
    od_write_i32(w, 0);
    od_write_i16(w, (int16_t)(h->attributes & (OD_BATCH_ATTR_LOG_APPEND_TIME |
                                               OD_BATCH_ATTR_TRANSACTIONAL | OD_BATCH_ATTR_CONTROL)));
    od_write_i32(w, h->last_offset_delta);
    od_write_i64(w, -1);
    od_write_i64(w, h->max_timestamp);
    od_write_i64(w, h->producer_id);
    od_write_i16(w, h->producer_epoch);
    od_write_i32(w, h->base_sequence);
    od_write_i32(w, 0);
    if (!w->err)
        od_batch_restamp_crc(w->buf + start, w->len - start);
}

static od_st_err group_batch(void *ctx, const uint8_t *batch, size_t len, const od_batch_header *h)
{
    group_ctx *c = ctx;
    const od_clean_group *g = c->g;
    c->st->bytes_before += (int64_t)len;
    bool control = od_batch_is_control(h);
    bool can_discard, discard_records;
    od_st_err err;
    if (control) {
        if ((err = on_control_batch(g->txn, batch, len, h, true, &can_discard)))
            return err;
        discard_records = can_discard && (h->attributes & OD_BATCH_ATTR_DELETE_HORIZON) &&
                          h->base_timestamp <= g->now_ms;
    } else {
        if ((err = on_data_batch(g->txn, h, &can_discard)))
            return err;
        discard_records = can_discard;
    }
    bool retain_empty = h->producer_id >= 0 && group_last_of_producer(g, h);
    if (!retain_empty && discard_records) {
        if (control)
            c->st->markers_removed++;
        else
            c->st->aborted_batches_removed++;
        c->st->records_read += h->record_count;
        c->st->records_removed += h->record_count;
        return OD_ST_OK;
    }
    od_record_iter it;
    od_record rec;
    if (od_record_iter_init(&it, batch, len, CLEAN_DECOMPRESS_LIMIT) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return OD_ST_CORRUPT;
    }
    /* First walk: which records stay, and whether any of them is a
     * tombstone; the second walk (only when the batch changes) re-encodes. */
    int32_t kept = 0, total = 0;
    bool tombstones = false;
    int64_t first_ts = -1, max_ts = -1;
    bool first = true;
    c->recs.len = 0;
    bool has_horizon = (h->attributes & OD_BATCH_ATTR_DELETE_HORIZON) != 0;
    bool marker_empty_txn = control && can_discard;
    bool need_horizon = !has_horizon && marker_empty_txn;
    while (od_record_iter_next(&it, &rec)) {
        total++;
        bool keep = discard_records ? false : control ? true : group_keep(g, h, &rec);
        if (!keep)
            continue;
        kept++;
        if (rec.value.len < 0)
            tombstones = true;
        if (first)
            first_ts = rec.timestamp;
        first = false;
        if (rec.timestamp > max_ts)
            max_ts = rec.timestamp;
    }
    od_batch_err ierr = it.err;
    od_record_iter_finish(&it);
    if (ierr != OD_BATCH_OK)
        return OD_ST_CORRUPT;
    c->st->records_read += total;
    c->st->records_removed += total - kept;
    if (tombstones && !has_horizon)
        need_horizon = true;
    if (kept > 0 && kept == total && !need_horizon) {
        od_write_raw(&c->out, batch, len);
        c->st->bytes_after += (int64_t)len;
    } else if (kept > 0) {
        int64_t horizon = need_horizon ? g->now_ms + g->delete_retention_ms
                                       : has_horizon ? h->base_timestamp : -1;
        int64_t base_ts = horizon >= 0 ? horizon : first_ts;
        if (od_record_iter_init(&it, batch, len, CLEAN_DECOMPRESS_LIMIT) != OD_BATCH_OK) {
            od_record_iter_finish(&it);
            return OD_ST_CORRUPT;
        }
        while (od_record_iter_next(&it, &rec)) {
            bool keep = control ? true : group_keep(g, h, &rec);
            if (!keep)
                continue;
            rec.timestamp_delta = rec.timestamp - base_ts;
            encode_record(&c->recs, &rec);
        }
        od_record_iter_finish(&it);
        size_t start = c->out.len;
        od_write_raw(&c->out, batch, OD_BATCH_HEADER_SIZE);
        od_compression codec = od_batch_compression(h);
        if (codec == OD_COMPRESSION_NONE)
            od_write_raw(&c->out, c->recs.buf, c->recs.len);
        else if (od_compress(codec, c->recs.buf, c->recs.len, &c->out) != OD_BATCH_OK)
            return OD_ST_NO_MEMORY;
        if (c->out.err || c->recs.err)
            return OD_ST_NO_MEMORY;
        uint8_t *b = c->out.buf + start;
        size_t blen = c->out.len - start;
        uint16_t attrs = (uint16_t)(h->attributes & ~OD_BATCH_ATTR_DELETE_HORIZON);
        if (horizon >= 0)
            attrs |= OD_BATCH_ATTR_DELETE_HORIZON;
        od_store_be32(b + OD_BATCH_LENGTH_AT, (uint32_t)(blen - OD_LOG_OVERHEAD));
        od_store_be16(b + OD_BATCH_ATTRIBUTES_AT, attrs);
        od_store_be64(b + OD_BATCH_BASE_TIMESTAMP_AT, (uint64_t)base_ts);
        od_store_be64(b + OD_BATCH_MAX_TIMESTAMP_AT,
                      (uint64_t)((h->attributes & OD_BATCH_ATTR_LOG_APPEND_TIME) ? h->max_timestamp
                                                                                 : max_ts));
        od_store_be32(b + OD_BATCH_RECORD_COUNT_AT, (uint32_t)kept);
        od_batch_restamp_crc(b, blen);
        c->st->bytes_after += (int64_t)blen;
        if (need_horizon)
            c->st->batches_horizon_set++;
    } else if (retain_empty) {
        size_t start = c->out.len;
        write_empty_header(&c->out, h);
        c->st->bytes_after += (int64_t)(c->out.len - start);
    } else if (control) {
        c->st->markers_removed++;
    }
    return c->out.len > (1u << 20) ? group_flush(c) : OD_ST_OK;
}

static od_st_err write_synced(od_fio *io, const char *path, const void *buf, size_t len)
{
    int fd = io->m->open(io, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return od_st_from_errno(fd);
    int rc = od_fio_pwrite_full(io, fd, buf, len, 0);
    if (rc == 0)
        rc = io->m->fsync(io, fd);
    io->m->close(io, fd);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

od_st_err od_cleaner_filter_group(const od_clean_group *g, od_clean_stats *st)
{
    if (g->n == 0)
        return OD_ST_INVALID_ARG;
    od_segment *s0 = g->segs[0];
    od_fio *io = s0->ctx->io;
    char path[4096], tpath[4096];
    seg_file(path, sizeof path, s0->ctx->dir, s0->base_offset, ".log.cleaned");
    seg_file(tpath, sizeof tpath, s0->ctx->dir, s0->base_offset, ".txnindex.cleaned");
    int fd = io->m->open(io, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return od_st_from_errno(fd);
    group_ctx c = {g, st, {0}, {0}, io, fd, 0};
    od_writer_init(&c.out, 1 << 16);
    od_writer_init(&c.recs, 1 << 16);
    g->txn->cleaned_index.len = 0;
    od_st_err err = OD_ST_OK;
    for (size_t i = 0; i < g->n && !err; i++) {
        od_segment *s = g->segs[i];
        if (g->collect)
            err = g->collect(g->collect_ctx, s->base_offset, g->seg_upper[i], g->txn);
        if (!err)
            err = od_segment_for_each_batch(s, s->base_offset, group_batch, &c);
    }
    if (!err)
        err = group_flush(&c);
    if (!err) {
        int rc = io->m->fsync(io, fd);
        if (rc < 0)
            err = od_st_from_errno(rc);
    }
    io->m->close(io, fd);
    if (!err)
        err = g->txn->cleaned_index.err ? OD_ST_NO_MEMORY
                                        : write_synced(io, tpath, g->txn->cleaned_index.buf,
                                                       g->txn->cleaned_index.len);
    od_writer_free(&c.out);
    od_writer_free(&c.recs);
    if (err) {
        io->m->unlink(io, path);
        io->m->unlink(io, tpath);
    }
    return err;
}

/* Moves <base>.txnindex.cleaned into place (after the commit point). An
 * empty one means the output has no aborted transactions: both go. */
static int install_txnindex(od_fio *io, const char *dir, int64_t base)
{
    char cleaned[4096], live[4096];
    seg_file(cleaned, sizeof cleaned, dir, base, ".txnindex.cleaned");
    seg_file(live, sizeof live, dir, base, ".txnindex");
    od_fio_stat st;
    int rc = io->m->stat(io, cleaned, &st);
    if (rc == -ENOENT)
        return 0; /* already installed, or a legacy swap that keeps the old one */
    if (rc < 0)
        return rc;
    if (st.size > 0)
        return io->m->rename(io, cleaned, live);
    rc = io->m->unlink(io, live);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    rc = io->m->unlink(io, cleaned);
    return rc == -ENOENT ? 0 : rc;
}

static int unlink_segment_files(od_fio *io, const char *dir, int64_t base, bool with_log)
{
    static const char *const sfx[] = {".index", ".timeindex", ".txnindex", ".log"};
    size_t n = with_log ? 4 : 2;
    for (size_t i = 0; i < n; i++) {
        char p[4096];
        seg_file(p, sizeof p, dir, base, sfx[i]);
        int rc = io->m->unlink(io, p);
        if (rc < 0 && rc != -ENOENT)
            return rc;
    }
    return 0;
}

od_st_err od_cleaner_swap_group(od_fio *io, const char *dir, int64_t base, const int64_t *others,
                                size_t nothers)
{
    char cleaned[4096], swap[4096], log[4096];
    seg_file(cleaned, sizeof cleaned, dir, base, ".log.cleaned");
    seg_file(swap, sizeof swap, dir, base, ".log.swap");
    seg_file(log, sizeof log, dir, base, ".log");
    int rc = io->m->rename(io, cleaned, swap);
    if (rc == 0)
        rc = od_fio_fsync_dir(io, dir);
    if (rc < 0)
        return od_st_from_errno(rc);
    /* Committed: from here a crash is finished forward at the next open. */
    rc = unlink_segment_files(io, dir, base, false);
    for (size_t i = 0; i < nothers && rc == 0; i++)
        rc = unlink_segment_files(io, dir, others[i], true);
    if (rc == 0)
        rc = install_txnindex(io, dir, base);
    if (rc == 0)
        rc = io->m->rename(io, swap, log);
    if (rc == 0)
        rc = od_fio_fsync_dir(io, dir);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

size_t od_cleaner_group_size(od_segment *const *segs, size_t n, int32_t max_bytes,
                             int32_t max_index_bytes, int64_t first_uncleanable)
{
    if (n == 0)
        return 0;
    int64_t size = segs[0]->size;
    int64_t isize = (int64_t)segs[0]->oidx_n * OD_OFFSET_INDEX_ENTRY_SIZE;
    int64_t tsize = (int64_t)segs[0]->tidx_n * OD_TIME_INDEX_ENTRY_SIZE;
    size_t k = 1;
    while (k < n) {
        od_segment *s = segs[k];
        int64_t last = k + 1 < n ? segs[k + 1]->base_offset - 1 : first_uncleanable - 1;
        if (size + s->size > max_bytes ||
            isize + (int64_t)s->oidx_n * OD_OFFSET_INDEX_ENTRY_SIZE > max_index_bytes ||
            tsize + (int64_t)s->tidx_n * OD_TIME_INDEX_ENTRY_SIZE > max_index_bytes ||
            (s->size != 0 && last - segs[0]->base_offset > INT32_MAX))
            break;
        size += s->size;
        isize += (int64_t)s->oidx_n * OD_OFFSET_INDEX_ENTRY_SIZE;
        tsize += (int64_t)s->tidx_n * OD_TIME_INDEX_ENTRY_SIZE;
        k++;
    }
    return k;
}
