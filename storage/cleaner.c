/*
 * cleaner.c: offset map, segment filtering and the swap protocol for log
 * compaction.
 *
 * Invariants:
 *   1. A record is dropped only if the map holds a strictly later offset for
 *      its key (it is superseded), or it is a tombstone that is both the
 *      latest for its key and older than delete.retention.ms. Records at or
 *      past map_upper are never dropped, since the map has not seen what
 *      follows them.
 *   2. Offsets never move: a rewritten batch keeps baseOffset,
 *      lastOffsetDelta, producer fields and partitionLeaderEpoch, so readers,
 *      indexes (rebuilt), producer state and the epoch cache stay valid.
 *   3. The original segment is replaced only after its replacement is
 *      complete and durable (.cleaned fsynced, then renamed to .swap); a
 *      .swap is always complete, a .cleaned may not be.
 *
 * Swap states per base offset, and who moves between them:
 *
 *   CLEAN --filter_segment--> CLEANED(.cleaned) --swap_in--> SWAPPING(.swap)
 *   SWAPPING --swap_in (rename over .log)--> CLEAN
 *   crash in CLEANED  --finish_interrupted--> CLEAN (cleaned discarded)
 *   crash in SWAPPING --finish_interrupted--> CLEAN (swap completed)
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
    int64_t *swaps, *cleaned;
    size_t ns, nc, caps, capc;
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
    if (!ok) {
        p->oom = true;
        return 1;
    }
    return 0;
}

od_st_err od_cleaner_finish_interrupted(od_fio *io, const char *dir)
{
    pending p = {0};
    int rc = io->m->readdir(io, dir, pending_cb, &p);
    od_st_err err = p.oom ? OD_ST_NO_MEMORY : rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
    for (size_t i = 0; i < p.nc && !err; i++) {
        char path[4096];
        seg_file(path, sizeof path, dir, p.cleaned[i], ".log.cleaned");
        rc = io->m->unlink(io, path);
        if (rc < 0 && rc != -ENOENT)
            err = od_st_from_errno(rc);
    }
    for (size_t i = 0; i < p.ns && !err; i++) {
        char swap[4096], log[4096], idx[4096], tidx[4096];
        seg_file(swap, sizeof swap, dir, p.swaps[i], ".log.swap");
        seg_file(log, sizeof log, dir, p.swaps[i], ".log");
        seg_file(idx, sizeof idx, dir, p.swaps[i], ".index");
        seg_file(tidx, sizeof tidx, dir, p.swaps[i], ".timeindex");
        io->m->unlink(io, idx);
        io->m->unlink(io, tidx);
        rc = io->m->rename(io, swap, log);
        if (rc < 0)
            err = od_st_from_errno(rc);
    }
    if (!err && (p.nc || p.ns)) {
        rc = od_fio_fsync_dir(io, dir);
        if (rc < 0)
            err = od_st_from_errno(rc);
    }
    free(p.swaps);
    free(p.cleaned);
    return err;
}
