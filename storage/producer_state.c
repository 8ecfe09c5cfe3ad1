/*
 * producer_state.c: per-partition producer table and .snapshot files.
 *
 * Invariants:
 *   1. e[] is sorted by producer id with no duplicates.
 *   2. map_end_offset only grows through od_pstate_apply (to a batch's last
 *      offset + 1) or is set by a load/clear; a snapshot written under name
 *      N therefore reflects exactly the batches below N.
 *   3. A snapshot on disk is complete or absent: it is written to a
 *      temporary, fsynced and renamed; a reader that finds a bad CRC
 *      reports OD_ST_CORRUPT and the caller falls back to an older snapshot
 *      or to the log itself.
 *
 * No state machine beyond "loaded at map_end_offset": the log drives it.
 */
#include "producer_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/records.h"

enum { SNAP_HEADER = 10, SNAP_ENTRY = 46 };

void od_pstate_init(od_pstate *ps, int64_t start)
{
    memset(ps, 0, sizeof *ps);
    ps->map_end_offset = start;
}

void od_pstate_free(od_pstate *ps)
{
    free(ps->e);
    memset(ps, 0, sizeof *ps);
}

void od_pstate_clear(od_pstate *ps, int64_t start)
{
    ps->n = 0;
    ps->map_end_offset = start;
}

static size_t lower_bound(const od_pstate *ps, int64_t pid)
{
    size_t lo = 0, hi = ps->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ps->e[mid].producer_id < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const od_producer_entry *od_pstate_find(const od_pstate *ps, int64_t producer_id)
{
    size_t i = lower_bound(ps, producer_id);
    return i < ps->n && ps->e[i].producer_id == producer_id ? &ps->e[i] : NULL;
}

static od_producer_entry *get_or_add(od_pstate *ps, int64_t pid)
{
    size_t i = lower_bound(ps, pid);
    if (i < ps->n && ps->e[i].producer_id == pid)
        return &ps->e[i];
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        od_producer_entry *n = realloc(ps->e, cap * sizeof *n);
        if (!n)
            return NULL;
        ps->e = n;
        ps->cap = cap;
    }
    memmove(&ps->e[i + 1], &ps->e[i], (ps->n - i) * sizeof *ps->e);
    ps->n++;
    od_producer_entry *e = &ps->e[i];
    memset(e, 0, sizeof *e);
    e->producer_id = pid;
    e->epoch = -1;
    e->coordinator_epoch = -1;
    e->last_timestamp = -1;
    e->txn_first_offset = -1;
    return e;
}

/* Sequences wrap from INT32_MAX to 0, as Kafka's do. */
static int32_t seq_add(int32_t seq, int32_t delta)
{
    if (seq > INT32_MAX - delta)
        return delta - (INT32_MAX - seq) - 1;
    return seq + delta;
}

static bool in_sequence(int32_t last, int32_t next)
{
    return next == (last == INT32_MAX ? 0 : last + 1);
}

od_st_err od_pstate_check(const od_pstate *ps, const od_batch_header *h, od_producer_batch *dup)
{
    if (h->producer_id < 0 || od_batch_is_control(h))
        return OD_ST_OK;
    const od_producer_entry *e = od_pstate_find(ps, h->producer_id);
    if (!e)
        return OD_ST_OK; /* unknown producer (new, or expired): any sequence */
    /* A coordinator's own transactional append (offsets of TxnOffsetCommit)
     * carries no sequence: Kafka checks only the epoch of those. */
    if (h->base_sequence < 0)
        return h->producer_epoch < e->epoch ? OD_ST_INVALID_PRODUCER_EPOCH : OD_ST_OK;
    int32_t first = h->base_sequence, last = seq_add(first, h->last_offset_delta);
    if (h->producer_epoch == e->epoch) {
        for (int i = 0; i < e->nbatches; i++) {
            if (e->batches[i].first_seq == first && e->batches[i].last_seq == last) {
                if (dup)
                    *dup = e->batches[i];
                return OD_ST_DUPLICATE_SEQUENCE;
            }
        }
    }
    if (h->producer_epoch < e->epoch)
        return OD_ST_INVALID_PRODUCER_EPOCH;
    if (h->producer_epoch != e->epoch) {
        /* A bumped epoch restarts at sequence 0, unless the old epoch was
         * never seen (the entry came from a marker alone). */
        if (first != 0 && e->epoch != -1)
            return OD_ST_OUT_OF_ORDER_SEQUENCE;
        return OD_ST_OK;
    }
    if (e->nbatches == 0)
        return first == 0 ? OD_ST_OK : OD_ST_OUT_OF_ORDER_SEQUENCE;
    if (!in_sequence(e->batches[e->nbatches - 1].last_seq, first))
        return OD_ST_OUT_OF_ORDER_SEQUENCE;
    return OD_ST_OK;
}

static void set_epoch(od_producer_entry *e, int16_t epoch)
{
    if (epoch != e->epoch) {
        e->epoch = epoch;
        e->nbatches = 0;
    }
}

od_st_err od_pstate_apply(od_pstate *ps, const uint8_t *batch, size_t len, const od_batch_header *h)
{
    int64_t last = od_batch_last_offset(h);
    if (h->producer_id >= 0) {
        od_producer_entry *e = get_or_add(ps, h->producer_id);
        if (!e)
            return OD_ST_NO_MEMORY;
        if (od_batch_is_control(h)) {
            od_record_iter it;
            od_record rec;
            od_control_record cr;
            if (od_record_iter_init(&it, batch, len, 1 << 20) == OD_BATCH_OK &&
                od_record_iter_next(&it, &rec) && od_control_record_parse(&rec, &cr) == OD_BATCH_OK &&
                (cr.type == OD_CONTROL_ABORT || cr.type == OD_CONTROL_COMMIT))
                e->coordinator_epoch = cr.coordinator_epoch;
            od_record_iter_finish(&it);
            if (h->producer_epoch > e->epoch)
                set_epoch(e, h->producer_epoch);
            e->txn_first_offset = -1;
            e->last_timestamp = h->max_timestamp;
        } else {
            set_epoch(e, h->producer_epoch);
            if (e->nbatches == OD_PRODUCER_BATCHES_KEPT) {
                memmove(e->batches, e->batches + 1, (OD_PRODUCER_BATCHES_KEPT - 1) * sizeof *e->batches);
                e->nbatches--;
            }
            e->batches[e->nbatches++] = (od_producer_batch){
                h->base_sequence, seq_add(h->base_sequence, h->last_offset_delta), last,
                h->last_offset_delta, h->max_timestamp};
            e->last_timestamp = h->max_timestamp;
            if (od_batch_is_transactional(h) && e->txn_first_offset < 0)
                e->txn_first_offset = h->base_offset;
        }
    }
    if (last + 1 > ps->map_end_offset)
        ps->map_end_offset = last + 1;
    return OD_ST_OK;
}

void od_pstate_expire(od_pstate *ps, int64_t now_ms, int64_t expiration_ms)
{
    size_t w = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const od_producer_entry *e = &ps->e[i];
        if (e->txn_first_offset < 0 && now_ms - e->last_timestamp >= expiration_ms)
            continue;
        ps->e[w++] = *e;
    }
    ps->n = w;
}

static void snap_name(char *buf, size_t cap, int64_t offset)
{
    snprintf(buf, cap, "%020" PRId64 ".snapshot", offset);
}

od_st_err od_pstate_write_snapshot(const od_pstate *ps, od_fio *io, const char *dir)
{
    od_writer w;
    od_writer_init(&w, SNAP_HEADER + ps->n * SNAP_ENTRY);
    od_write_i16(&w, 1);
    od_write_u32(&w, 0);
    od_write_i32(&w, (int32_t)ps->n);
    for (size_t i = 0; i < ps->n; i++) {
        const od_producer_entry *e = &ps->e[i];
        const od_producer_batch *b = e->nbatches ? &e->batches[e->nbatches - 1] : NULL;
        od_write_i64(&w, e->producer_id);
        od_write_i16(&w, e->epoch);
        od_write_i32(&w, b ? b->last_seq : -1);
        od_write_i64(&w, b ? b->last_offset : -1);
        od_write_i32(&w, b ? b->offset_delta : 0);
        od_write_i64(&w, e->last_timestamp);
        od_write_i32(&w, e->coordinator_epoch);
        od_write_i64(&w, e->txn_first_offset);
    }
    if (w.err) {
        od_writer_free(&w);
        return OD_ST_NO_MEMORY;
    }
    od_store_be32(w.buf + 2, od_crc32c(0, w.buf + 6, w.len - 6));
    char name[64];
    snap_name(name, sizeof name, ps->map_end_offset);
    int rc = od_fio_write_atomic(io, dir, name, w.buf, w.len);
    od_writer_free(&w);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

od_st_err od_pstate_read_snapshot(od_pstate *ps, od_fio *io, const char *dir, int64_t offset)
{
    char name[64], path[4096];
    snap_name(name, sizeof name, offset);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text;
    size_t len;
    int rc = od_fio_read_file(io, path, (size_t)1 << 30, &text, &len);
    if (rc == -ENOENT)
        return OD_ST_NOT_FOUND;
    if (rc < 0)
        return od_st_from_errno(rc);
    const uint8_t *b = (const uint8_t *)text;
    od_st_err err = OD_ST_CORRUPT;
    if (len >= SNAP_HEADER && od_load_be16(b) == 1 &&
        od_load_be32(b + 2) == od_crc32c(0, b + 6, len - 6)) {
        int32_t n = (int32_t)od_load_be32(b + 6);
        if (n >= 0 && (size_t)n == (len - SNAP_HEADER) / SNAP_ENTRY &&
            (len - SNAP_HEADER) % SNAP_ENTRY == 0) {
            od_pstate_clear(ps, offset);
            err = OD_ST_OK;
            od_reader r;
            od_reader_init(&r, b + SNAP_HEADER, len - SNAP_HEADER, NULL);
            for (int32_t i = 0; i < n && !err; i++) {
                int64_t pid = od_read_i64(&r);
                od_producer_entry *e = get_or_add(ps, pid);
                if (!e) {
                    err = OD_ST_NO_MEMORY;
                    break;
                }
                e->epoch = od_read_i16(&r);
                int32_t last_seq = od_read_i32(&r);
                int64_t last_off = od_read_i64(&r);
                int32_t delta = od_read_i32(&r);
                e->last_timestamp = od_read_i64(&r);
                e->coordinator_epoch = od_read_i32(&r);
                e->txn_first_offset = od_read_i64(&r);
                e->nbatches = 0;
                if (last_off >= 0) {
                    int64_t first = (int64_t)last_seq - delta;
                    if (first < 0)
                        first += (int64_t)INT32_MAX + 1;
                    e->batches[e->nbatches++] = (od_producer_batch){
                        (int32_t)first, last_seq, last_off, delta, e->last_timestamp};
                }
            }
        }
    }
    free(text);
    return err;
}

typedef struct snap_list {
    int64_t *v;
    size_t n, cap;
    bool oom;
} snap_list;

static int snap_cb(void *ctx, const char *name)
{
    snap_list *l = ctx;
    size_t nl = strlen(name);
    if (nl != 29 || strcmp(name + 20, ".snapshot") != 0)
        return 0;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (name[i] - '0');
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        int64_t *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            l->oom = true;
            return 1;
        }
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return 0;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

od_st_err od_pstate_list_snapshots(od_fio *io, const char *dir, int64_t **offsets, size_t *n)
{
    snap_list l = {0};
    int rc = io->m->readdir(io, dir, snap_cb, &l);
    if (l.oom || rc < 0) {
        free(l.v);
        return l.oom ? OD_ST_NO_MEMORY : od_st_from_errno(rc);
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, cmp64);
    *offsets = l.v;
    *n = l.n;
    return OD_ST_OK;
}

od_st_err od_pstate_delete_snapshot(od_fio *io, const char *dir, int64_t offset)
{
    char name[64], path[4096];
    snap_name(name, sizeof name, offset);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = io->m->unlink(io, path);
    return rc < 0 && rc != -ENOENT ? od_st_from_errno(rc) : OD_ST_OK;
}
