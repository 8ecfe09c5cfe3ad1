/*
 * The metadata log replica on top of a storage partition log.
 *
 * Invariants: see raft_log.h (1-5). In addition:
 *   6. A scan reads through its own buffer (pread of the file region), never
 *      a mapping, so an I/O error is a return value (storage's rule).
 *
 * State machine: Closed -> Open -> Closed, as in the header.
 */
#include "raft_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partition_log.h"
#include "records/records.h"

struct od_raft_log {
    od_fio *io;
    od_log *log;
    char *dir;          /* the partition directory */
    int64_t high_watermark;
    int64_t flushed_end;  /* invariant 2: what an fsync (or the open's recovery) covers */
};

static char *join_path(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

od_st_err od_raft_log_open(od_fio *io, const char *metadata_log_dir,
                           const od_raft_log_config *lc, int64_t now_ms, od_raft_log **out)
{
    od_raft_log *l = calloc(1, sizeof *l);
    if (!l)
        return OD_ST_NO_MEMORY;
    l->io = io;
    l->dir = join_path(metadata_log_dir, OD_METADATA_TOPIC "-0");
    if (!l->dir) {
        free(l);
        return OD_ST_NO_MEMORY;
    }
    od_log_config cfg;
    od_log_config_default(&cfg);
    /* Retention of the metadata log is by snapshot, never by time or size. */
    cfg.retention_ms = -1;
    cfg.retention_bytes = -1;
    if (lc != NULL && lc->segment_bytes > 0)
        cfg.segment_bytes = lc->segment_bytes;
    if (lc != NULL && lc->segment_ms > 0)
        cfg.segment_ms = lc->segment_ms;
    od_log_open_args a = {
        .io = io,
        .log_dir = metadata_log_dir,
        .topic = OD_METADATA_TOPIC,
        .partition = OD_METADATA_PARTITION,
        .config = &cfg,
        /* Always validate every batch: the metadata log is small and it is
         * the source of truth for everything else. */
        .had_clean_shutdown = false,
        .recovery_point = 0,
        .log_start_offset = -1,
        .high_watermark = 0,
        .now_ms = now_ms,
        .seed = (uint64_t)now_ms,
    };
    od_st_err err = od_log_open(&a, &l->log, NULL);
    if (err != OD_ST_OK) {
        free(l->dir);
        free(l);
        return err;
    }
    od_uuid id;
    if (od_partition_metadata_read(io, l->dir, &id) != OD_ST_OK) {
        id = OD_METADATA_TOPIC_ID;
        err = od_partition_metadata_write(io, l->dir, &id);
        if (err != OD_ST_OK) {
            od_log_close(l->log, false);
            free(l->dir);
            free(l);
            return err;
        }
    }
    /* A run that crashed between an unsynced append and its flush left
     * batches the recovery above read from the page cache; they become
     * durable here, before anything counts them (invariant 2). */
    err = od_log_flush(l->log, now_ms);
    if (err != OD_ST_OK) {
        od_log_close(l->log, false);
        free(l->dir);
        free(l);
        return err;
    }
    l->flushed_end = od_log_end_offset(l->log);
    *out = l;
    return OD_ST_OK;
}

od_st_err od_raft_log_close(od_raft_log *l, bool clean)
{
    if (!l)
        return OD_ST_OK;
    od_st_err err = od_log_close(l->log, clean);
    free(l->dir);
    free(l);
    return err;
}

const char *od_raft_log_dir(const od_raft_log *l) { return l->dir; }
od_fio *od_raft_log_io(const od_raft_log *l) { return l->io; }
int64_t od_raft_log_end_offset(const od_raft_log *l) { return od_log_end_offset(l->log); }
int64_t od_raft_log_start_offset(const od_raft_log *l) { return od_log_start_offset(l->log); }
int64_t od_raft_log_size_bytes(const od_raft_log *l) { return od_log_size_bytes(l->log); }

od_st_err od_raft_log_delete_before(od_raft_log *l, int64_t offset)
{
    if (offset > l->high_watermark)
        return OD_ST_OFFSET_OUT_OF_RANGE;
    return od_log_delete_records_before(l->log, offset);
}

int32_t od_raft_log_last_epoch(const od_raft_log *l) { return od_log_latest_epoch(l->log); }
int64_t od_raft_log_high_watermark(const od_raft_log *l) { return l->high_watermark; }

int64_t od_raft_log_flushed_end(const od_raft_log *l) { return l->flushed_end; }

void od_raft_log_advance_high_watermark(od_raft_log *l, int64_t hw)
{
    int64_t end = l->flushed_end;
    if (hw > end)
        hw = end;
    if (hw <= l->high_watermark)
        return;
    l->high_watermark = hw;
    od_log_set_high_watermark(l->log, hw);
}

od_st_err od_raft_log_append_leader_unsynced(od_raft_log *l, uint8_t *batches, size_t len,
                                             int32_t epoch, int64_t now_ms, int64_t *last_offset)
{
    od_append_info info;
    od_st_err err = od_log_append_leader(l->log, batches, len, epoch, now_ms, &info);
    if (err != OD_ST_OK)
        return err;
    if (last_offset)
        *last_offset = info.last_offset;
    return OD_ST_OK;
}

od_st_err od_raft_log_flush(od_raft_log *l, int64_t now_ms)
{
    int64_t end = od_log_end_offset(l->log);
    if (end == l->flushed_end)
        return OD_ST_OK;
    od_st_err err = od_log_flush(l->log, now_ms);
    if (err == OD_ST_OK)
        l->flushed_end = end; /* invariant 2 */
    return err;
}

od_st_err od_raft_log_append_leader(od_raft_log *l, uint8_t *batches, size_t len, int32_t epoch,
                                    int64_t now_ms, int64_t *last_offset)
{
    int64_t last = -1;
    od_st_err err = od_raft_log_append_leader_unsynced(l, batches, len, epoch, now_ms, &last);
    if (err == OD_ST_OK)
        err = od_raft_log_flush(l, now_ms);
    if (err == OD_ST_OK && last_offset)
        *last_offset = last;
    return err;
}

enum { SCAN_CHUNK = 1 << 20 };

od_st_err od_raft_log_scan(od_raft_log *l, int64_t from, int64_t to, od_raft_batch_fn fn,
                           void *ctx)
{
    int64_t end = od_log_end_offset(l->log);
    if (to > end)
        to = end;
    if (from < od_log_start_offset(l->log))
        from = od_log_start_offset(l->log);
    uint8_t *buf = NULL;
    size_t cap = 0;
    od_st_err err = OD_ST_OK;
    int64_t next = from;
    while (next < to && err == OD_ST_OK) {
        od_log_read_result r;
        err = od_log_read(l->log, next, SCAN_CHUNK, -1, true, &r);
        if (err != OD_ST_OK)
            break;
        if (r.region.length <= 0) {
            od_log_read_release(l->log, &r);
            err = OD_ST_CORRUPT; /* below the end yet nothing to read */
            break;
        }
        size_t n = (size_t)r.region.length;
        if (n > cap) {
            uint8_t *nb = realloc(buf, n);
            if (!nb) {
                od_log_read_release(l->log, &r);
                err = OD_ST_NO_MEMORY;
                break;
            }
            buf = nb;
            cap = n;
        }
        int64_t got = od_fio_pread_full(l->io, r.region.fd, buf, n, r.region.position);
        od_log_read_release(l->log, &r);
        if (got < 0) {
            err = od_st_from_errno((int)got);
            break;
        }
        if ((size_t)got != n) {
            err = OD_ST_CORRUPT;
            break;
        }
        od_record_set_iter it;
        od_record_set_iter_init(&it, buf, n);
        const uint8_t *entry;
        size_t entry_len;
        int8_t magic;
        bool progressed = false;
        while (err == OD_ST_OK && od_record_set_next(&it, &entry, &entry_len, &magic)) {
            od_batch_header h;
            if (magic != 2 || od_batch_validate(entry, entry_len, &h) != OD_BATCH_OK) {
                err = OD_ST_CORRUPT; /* invariant 4 */
                break;
            }
            if (od_batch_last_offset(&h) < next)
                continue;
            if (h.base_offset >= to)
                break;
            err = fn(ctx, entry, entry_len);
            next = od_batch_last_offset(&h) + 1;
            progressed = true;
        }
        /* A chunk cut by SCAN_CHUNK ends in a partial batch (TRUNCATED); the
         * next read starts at it. Anything else is damage. */
        if (err == OD_ST_OK && it.err != OD_BATCH_OK && it.err != OD_BATCH_TRUNCATED)
            err = OD_ST_CORRUPT;
        if (err == OD_ST_OK && !progressed && next < to)
            err = OD_ST_CORRUPT;
    }
    free(buf);
    return err;
}

od_st_err od_raft_batch_visit(const uint8_t *batch, size_t len, int64_t from, od_arena *arena,
                              od_raft_entry_fn fn, void *ctx)
{
    od_record_iter it;
    if (od_record_iter_init(&it, batch, len, OD_RAFT_MAX_BATCH_BYTES) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return OD_ST_CORRUPT;
    }
    bool control = od_batch_is_control(&it.header);
    od_st_err err = OD_ST_OK;
    od_record rec;
    while (err == OD_ST_OK && od_record_iter_next(&it, &rec)) {
        if (rec.offset < from)
            continue;
        od_raft_entry e = {
            .offset = rec.offset,
            .epoch = it.header.partition_leader_epoch,
            .timestamp = rec.timestamp,
            .control = control,
        };
        od_wire_err werr;
        if (control) {
            werr = od_kctl_decode(&rec, arena, &e.ctl);
        } else if (rec.value.len < 0) {
            werr = OD_WIRE_MALFORMED;
        } else {
            werr = od_mrec_decode(rec.value.ptr, (size_t)rec.value.len, arena, &e.rec);
        }
        if (werr == OD_WIRE_NO_MEMORY)
            err = OD_ST_NO_MEMORY;
        else if (werr != OD_WIRE_OK)
            err = OD_ST_CORRUPT;
        else
            err = fn(ctx, &e);
    }
    if (err == OD_ST_OK && it.err != OD_BATCH_OK)
        err = OD_ST_CORRUPT;
    od_record_iter_finish(&it);
    return err;
}
