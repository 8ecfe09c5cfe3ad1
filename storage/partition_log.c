/*
 * partition_log.c: a partition's ordered segments, offsets and epochs.
 *
 * Invariants:
 *   1. segs[] is sorted by base offset, never empty, and only its last
 *      element is active; every other segment is sealed (indexes trimmed).
 *   2. log start <= first readable offset; the log end (LEO) is the active
 *      segment's next offset; log start <= high watermark <= LEO and
 *      recovery point <= LEO at every return.
 *   3. Everything below the recovery point has been fsynced (data and
 *      indexes), so unclean recovery may start at the segment holding it.
 *   4. An append either lands whole (every batch, offsets assigned, indexes
 *      updated, epoch cache written) or leaves no trace a reader can see.
 *      The leader epoch checkpoint is written before the data, as Kafka
 *      does, so the cache never lacks an epoch the log holds.
 *   5. Retention and DeleteRecords never remove data at or above the high
 *      watermark, and never leave the log without an active segment.
 *   6. After a rollback itself fails, the log is FAILED: appends, truncation
 *      and retention refuse with OD_ST_FAILED; reads of what was already
 *      visible still work. Only close + reopen (recovery) leaves FAILED.
 *      A compaction swap that fails past its commit point fails the log the
 *      same way (the next open completes the swap).
 *   7. Compaction rewrites only sealed segments below the first uncleanable
 *      offset (min of LSO, active segment base, min.compaction.lag.ms
 *      bound), and the cleaner offset only moves to an end whose segments
 *      were all swapped in durably. It runs under the same serialisation as
 *      appends (see partition_log.h), so segs[] is never seen half-swapped.
 *   8. A leader append on a CreateTime topic holds no record whose
 *      timestamp (other than -1) lies outside Kafka's bounds
 *      message.timestamp.before/after.max.ms around the append's clock;
 *      one such record refuses the whole set (OD_ST_INVALID_TIMESTAMP).
 *      Follower appends and LogAppendTime topics are not checked (Kafka).
 *   9. Creating a log makes nothing durable by itself. od_log_open of a log
 *      with no segment (a new partition, or one whose files a crash lost)
 *      creates the directory, an empty segment and its preallocated indexes
 *      without any fsync, of them or of either directory: an empty log holds
 *      nothing acknowledged, and its owner recreates it at the next start
 *      (the broker opens a log for every partition of the committed
 *      metadata image, which is durable before any CreateTopics reply; the
 *      metadata log is opened before anything is appended to it). That
 *      relies on od_log_open turning every state a crash can leave of an
 *      unsynced creation -- no directory, an empty one, a .log without
 *      indexes, missing or zero-length indexes, no or a torn
 *      partition.metadata, leftover .tmp files -- into a valid empty log.
 *      Durability starts at the first od_log_flush, the only place the
 *      recovery point moves: it fsyncs the segment files, then the log's
 *      directory, then, once after a creation or an unclean start
 *      (parent_dirty), the parent log dir that names it, before the
 *      recovery point moves. So a log
 *      holding flushed (acknowledged-as-durable) records is always
 *      reachable after a crash. What od_log_open changes in a log that had
 *      segments (a recovery's cut tail, dropped segments, removed leftovers)
 *      is still fsynced before it returns: those changes concern data.
 *
 * States:
 *
 *   od_log_open --(unclean: recover from recovery point)--> OPEN
 *   od_log_open --(clean: read active tail only)----------> OPEN
 *   OPEN --append/read/truncate/retention/flush ok or rolled back--> OPEN
 *   OPEN --od_log_expire_producers: idle producers forgotten--> OPEN
 *   OPEN --od_log_clean: groups filtered and swapped one by one--> OPEN
 *   OPEN --a rollback fails (disk gone, fd dead)--> FAILED
 *   OPEN --a compaction swap fails after its commit--> FAILED
 *   OPEN|FAILED --od_log_close--> (freed)
 */
#include "partition_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleaner.h"
#include "records/records.h"

/* Compressed batches are fully decoded on append (as Kafka validates them);
 * the bound keeps a decompression bomb from costing more than this. */
#define DECOMPRESS_LIMIT ((size_t)256 << 20)

struct od_log {
    od_fio *io;
    char *topic;
    int32_t partition;
    char *log_dir;
    char *dir;
    od_log_config cfg;
    od_seg_ctx ctx;
    od_fd_cache own_cache;
    od_segment **segs;
    size_t nsegs, cap;
    int64_t log_start;
    int64_t hw;
    int64_t recovery_point;
    int64_t unflushed;
    int64_t last_flush_ms;
    od_epoch_entry *epochs;
    size_t nepochs, epochs_cap;
    od_st_err sticky;
    bool dir_dirty;     /* entries in dir not yet fsynced */
    bool parent_dirty;  /* dir's own entry in log_dir not yet fsynced (invariant 9) */
    uint64_t rng;
    od_pstate ps;
    int64_t cleaner_offset;
    /* Completed transactions whose markers are not below the HW yet. */
    struct unrepl_txn {
        int64_t first_offset;
        int64_t marker_offset;
    } *unrepl;
    size_t nunrepl, unrepl_cap;
};

void od_log_config_default(od_log_config *c)
{
    c->segment_bytes = 1 << 30;
    c->segment_ms = 7LL * 24 * 3600 * 1000;
    c->segment_jitter_ms = 0;
    c->segment_index_bytes = 10 << 20;
    c->index_interval_bytes = 4096;
    c->max_message_bytes = 1048588;
    c->retention_ms = 7LL * 24 * 3600 * 1000;
    c->retention_bytes = -1;
    c->log_append_time = false;
    c->flush_messages = INT64_MAX;
    c->flush_ms = INT64_MAX;
    c->cleanup_delete = true;
    c->cleanup_compact = false;
    c->delete_retention_ms = 24LL * 3600 * 1000;
    c->min_compaction_lag_ms = 0;
    c->min_cleanable_dirty_ratio = 0.5;
    c->cleaner_map_entries = 1 << 20;
    c->max_compaction_lag_ms = INT64_MAX;
    c->message_timestamp_before_max_ms = INT64_MAX;
    c->message_timestamp_after_max_ms = INT64_MAX;
    c->producer_id_expiration_ms = 24LL * 3600 * 1000;
}

static size_t floor_segment(const od_log *log, int64_t offset);

static od_segment *active(const od_log *log)
{
    return log->segs[log->nsegs - 1];
}

const od_pstate *od_log_producer_state(const od_log *log)
{
    return &log->ps;
}

int64_t od_log_end_offset(const od_log *log)
{
    return active(log)->next_offset;
}
int64_t od_log_start_offset(const od_log *log)
{
    return log->log_start;
}
int64_t od_log_high_watermark(const od_log *log)
{
    return log->hw;
}
int64_t od_log_recovery_point(const od_log *log)
{
    return log->recovery_point;
}
size_t od_log_segment_count(const od_log *log)
{
    return log->nsegs;
}
od_segment *od_log_segment_at(const od_log *log, size_t i)
{
    return i < log->nsegs ? log->segs[i] : NULL;
}
const char *od_log_topic(const od_log *log)
{
    return log->topic;
}
int32_t od_log_partition(const od_log *log)
{
    return log->partition;
}
void od_log_move_fd_cache(od_log *log, od_fd_cache *cache)
{
    for (size_t i = 0; i < log->nsegs; i++)
        od_segment_cache_leave(log->segs[i]);
    log->ctx.cache = cache;
    for (size_t i = 0; i < log->nsegs; i++)
        od_segment_cache_join(log->segs[i]);
}

const char *od_log_dir(const od_log *log)
{
    return log->dir;
}
od_st_err od_log_state(const od_log *log)
{
    return log->sticky;
}

int64_t od_log_size_bytes(const od_log *log)
{
    int64_t t = 0;
    for (size_t i = 0; i < log->nsegs; i++)
        t += log->segs[i]->size;
    return t;
}

static uint64_t next_rand(od_log *log)
{
    /* xorshift64*: jitter needs spread, not secrecy. */
    uint64_t x = log->rng ? log->rng : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    log->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static void assign_jitter(od_log *log, od_segment *s)
{
    int64_t j = log->cfg.segment_jitter_ms;
    if (j > log->cfg.segment_ms)
        j = log->cfg.segment_ms;
    s->roll_jitter_ms = j > 0 ? (int64_t)(next_rand(log) % (uint64_t)j) : 0;
}

static bool push_segment(od_log *log, od_segment *s)
{
    if (log->nsegs == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 8;
        od_segment **n = realloc(log->segs, cap * sizeof *n);
        if (!n)
            return false;
        log->segs = n;
        log->cap = cap;
    }
    log->segs[log->nsegs++] = s;
    return true;
}

/* Removes segs[i] from the log and its files from disk. */
static od_st_err drop_segment(od_log *log, size_t i)
{
    od_segment *s = log->segs[i];
    od_st_err err = od_segment_delete_files(s);
    od_st_err e2 = od_pstate_delete_snapshot(log->io, log->dir, s->base_offset);
    if (!err)
        err = e2;
    memmove(&log->segs[i], &log->segs[i + 1], (log->nsegs - i - 1) * sizeof *log->segs);
    log->nsegs--;
    od_segment_unref(s);
    log->dir_dirty = true;
    return err;
}

/* ------------------------------------------------------- epoch cache */

static od_st_err write_epochs(od_log *log)
{
    return od_ckpt_write_epochs(log->io, log->dir, log->epochs, log->nepochs);
}

int32_t od_log_latest_epoch(const od_log *log)
{
    return log->nepochs ? log->epochs[log->nepochs - 1].epoch : -1;
}

const od_epoch_entry *od_log_epochs(const od_log *log, size_t *count)
{
    *count = log->nepochs;
    return log->epochs;
}

void od_log_end_offset_for_epoch(const od_log *log, int32_t epoch, int32_t *end_epoch,
                                 int64_t *end_offset)
{
    *end_epoch = -1;
    *end_offset = -1;
    for (size_t i = log->nepochs; i-- > 0;) {
        if (log->epochs[i].epoch <= epoch) {
            *end_epoch = log->epochs[i].epoch;
            *end_offset = i + 1 < log->nepochs ? log->epochs[i + 1].start_offset : od_log_end_offset(log);
            return;
        }
    }
}

/* Adds (epoch, start) when epoch is new; *changed says whether to persist. */
static od_st_err epoch_assign(od_log *log, int32_t epoch, int64_t start, bool *changed)
{
    *changed = false;
    if (epoch < 0 || (log->nepochs && epoch <= log->epochs[log->nepochs - 1].epoch))
        return OD_ST_OK;
    /* A new epoch starting below an older one's start would contradict the
     * log; the older entries lose (Kafka drops them the same way). */
    while (log->nepochs && log->epochs[log->nepochs - 1].start_offset >= start)
        log->nepochs--;
    if (log->nepochs == log->epochs_cap) {
        size_t cap = log->epochs_cap ? log->epochs_cap * 2 : 8;
        od_epoch_entry *n = realloc(log->epochs, cap * sizeof *n);
        if (!n)
            return OD_ST_NO_MEMORY;
        log->epochs = n;
        log->epochs_cap = cap;
    }
    log->epochs[log->nepochs++] = (od_epoch_entry){epoch, start};
    *changed = true;
    return OD_ST_OK;
}

/* Drops entries starting at or after offset. */
static bool epoch_truncate_end(od_log *log, int64_t offset)
{
    size_t n = log->nepochs;
    while (log->nepochs && log->epochs[log->nepochs - 1].start_offset >= offset)
        log->nepochs--;
    return n != log->nepochs;
}

/* Drops entries wholly below offset; the one spanning it starts at offset. */
static bool epoch_truncate_start(od_log *log, int64_t offset)
{
    size_t keep = 0;
    while (keep + 1 < log->nepochs && log->epochs[keep + 1].start_offset <= offset)
        keep++;
    if (log->nepochs == 0 || log->epochs[0].start_offset >= offset)
        return false;
    memmove(log->epochs, log->epochs + keep, (log->nepochs - keep) * sizeof *log->epochs);
    log->nepochs -= keep;
    log->epochs[0].start_offset = offset;
    return true;
}

/* --------------------------------------------------------------- open */

typedef struct dir_scan {
    int64_t *bases;
    size_t n, cap;
    char **junk;
    size_t njunk, junk_cap;
    bool oom;
} dir_scan;

static bool parse_base(const char *name, const char *suffix, int64_t *base)
{
    size_t sl = strlen(suffix), nl = strlen(name);
    if (nl != 20 + sl || strcmp(name + 20, suffix) != 0)
        return false;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        if (v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (name[i] - '0');
    }
    *base = v;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int scan_entry(void *ctx, const char *name)
{
    dir_scan *d = ctx;
    int64_t base;
    if (parse_base(name, ".log", &base)) {
        if (d->n == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 16;
            int64_t *nb = realloc(d->bases, cap * sizeof *nb);
            if (!nb) {
                d->oom = true;
                return 1;
            }
            d->bases = nb;
            d->cap = cap;
        }
        d->bases[d->n++] = base;
    } else if (ends_with(name, ".tmp") || ends_with(name, ".deleted") || ends_with(name, ".cleaned") ||
               ends_with(name, ".swap")) {
        /* Leftovers of an interrupted replace or delete: the originals (or
         * their absence) are authoritative. Interrupted compaction swaps
         * were finished by od_cleaner_finish_interrupted before this scan,
         * so any .swap or .cleaned still here is junk. */
        if (d->njunk == d->junk_cap) {
            size_t cap = d->junk_cap ? d->junk_cap * 2 : 8;
            char **nj = realloc(d->junk, cap * sizeof *nj);
            if (!nj) {
                d->oom = true;
                return 1;
            }
            d->junk = nj;
            d->junk_cap = cap;
        }
        d->junk[d->njunk] = strdup(name);
        if (!d->junk[d->njunk]) {
            d->oom = true;
            return 1;
        }
        d->njunk++;
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* *created: the log had no segment and got a new empty one (invariant 9). */
static od_st_err load_segments(od_log *log, const od_log_open_args *a, od_log_recovery_stats *st,
                               bool *created)
{
    *created = false;
    /* A compaction swap interrupted by a crash is finished (or discarded)
     * before the directory is read, so only whole segments are seen. */
    od_st_err err = od_cleaner_finish_interrupted(log->io, log->dir);
    if (err)
        return err;
    dir_scan d = {0};
    int rc = log->io->m->readdir(log->io, log->dir, scan_entry, &d);
    if (d.oom)
        err = OD_ST_NO_MEMORY;
    else if (rc < 0)
        err = od_st_from_errno(rc);
    for (size_t i = 0; i < d.njunk; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", log->dir, d.junk[i]);
        if (!err)
            log->io->m->unlink(log->io, path);
        free(d.junk[i]);
    }
    free(d.junk);
    if (d.njunk)
        log->dir_dirty = true;
    if (err) {
        free(d.bases);
        return err;
    }
    if (d.n > 1)
        qsort(d.bases, d.n, sizeof *d.bases, cmp_i64);
    for (size_t i = 0; i < d.n && !err; i++) {
        od_segment *s;
        err = od_segment_open(&log->ctx, d.bases[i], a->now_ms, &s);
        if (!err && !push_segment(log, s)) {
            od_segment_unref(s);
            err = OD_ST_NO_MEMORY;
        }
        if (!err)
            assign_jitter(log, s);
    }
    free(d.bases);
    if (err)
        return err;
    if (log->nsegs == 0) {
        od_segment *s;
        int64_t base = a->log_start_offset > 0 ? a->log_start_offset : 0;
        if ((err = od_segment_create(&log->ctx, base, a->now_ms, &s)))
            return err;
        if (!push_segment(log, s)) {
            od_segment_unref(s);
            return OD_ST_NO_MEMORY;
        }
        assign_jitter(log, s);
        log->dir_dirty = true;
        *created = true;
        return OD_ST_OK;
    }
    if (!a->had_clean_shutdown) {
        size_t k = 0;
        for (size_t i = 0; i < log->nsegs; i++)
            if (log->segs[i]->base_offset <= a->recovery_point)
                k = i;
        for (size_t i = k; i < log->nsegs; i++) {
            int64_t cut;
            if ((err = od_segment_recover(log->segs[i], &cut)))
                return err;
            st->segments_recovered++;
            st->bytes_truncated += cut;
            /* A segment whose tail was bad ends the log: anything after it
             * was written later and cannot be trusted to follow on. */
            if (cut > 0) {
                while (log->nsegs > i + 1) {
                    if ((err = drop_segment(log, i + 1)))
                        return err;
                    st->segments_deleted++;
                }
                break;
            }
        }
    }
    return od_segment_make_active(active(log));
}

static void log_free(od_log *log)
{
    for (size_t i = 0; i < log->nsegs; i++) {
        od_segment_unref(log->segs[i]);
    }
    free(log->segs);
    od_pstate_free(&log->ps);
    free(log->unrepl);
    free(log->epochs);
    free(log->topic);
    free(log->log_dir);
    free(log->dir);
    free(log);
}

/* Handles a transaction marker before the producer state forgets the
 * transaction: an ABORT gets its .txnindex entry (unless replaying finds it
 * already there) and any marker not yet under the HW keeps the transaction
 * unstable for the LSO. */
static od_st_err on_control(od_log *log, od_segment *seg, const uint8_t *batch, size_t len,
                            const od_batch_header *h, bool replay)
{
    if (h->producer_id < 0 || !od_batch_is_control(h))
        return OD_ST_OK;
    od_record_iter it;
    od_record rec;
    od_control_record cr;
    bool ok = od_record_iter_init(&it, batch, len, 1 << 20) == OD_BATCH_OK &&
              od_record_iter_next(&it, &rec) && od_control_record_parse(&rec, &cr) == OD_BATCH_OK &&
              (cr.type == OD_CONTROL_ABORT || cr.type == OD_CONTROL_COMMIT);
    od_record_iter_finish(&it);
    if (!ok)
        return OD_ST_OK;
    int64_t marker = h->base_offset;
    const od_producer_entry *e = od_pstate_find(&log->ps, h->producer_id);
    int64_t first = e && e->txn_first_offset >= 0 ? e->txn_first_offset : marker;
    if (cr.type == OD_CONTROL_ABORT && !(replay && od_segment_txn_has(seg, marker))) {
        /* The LSO once this transaction is done: the next open one's start. */
        int64_t lso = marker + 1;
        for (size_t i = 0; i < log->ps.n; i++)
            if (log->ps.e[i].producer_id != h->producer_id && log->ps.e[i].txn_first_offset >= 0 &&
                log->ps.e[i].txn_first_offset < lso)
                lso = log->ps.e[i].txn_first_offset;
        od_aborted_txn t = {h->producer_id, first, marker, lso};
        od_st_err err = od_segment_txn_append(seg, &t);
        if (err)
            return err;
    }
    if (marker >= log->hw) {
        if (log->nunrepl == log->unrepl_cap) {
            size_t cap = log->unrepl_cap ? log->unrepl_cap * 2 : 8;
            struct unrepl_txn *n = realloc(log->unrepl, cap * sizeof *n);
            if (!n)
                return OD_ST_NO_MEMORY;
            log->unrepl = n;
            log->unrepl_cap = cap;
        }
        log->unrepl[log->nunrepl++] = (struct unrepl_txn){first, marker};
    }
    return OD_ST_OK;
}

typedef struct replay_ctx {
    od_log *log;
    od_segment *seg;
} replay_ctx;

static od_st_err apply_batch(void *ctx, const uint8_t *batch, size_t len, const od_batch_header *h)
{
    replay_ctx *rc = ctx;
    od_log *log = rc->log;
    if (od_batch_last_offset(h) < log->ps.map_end_offset)
        return OD_ST_OK;
    od_st_err err = on_control(log, rc->seg, batch, len, h, true);
    if (err)
        return err;
    return od_pstate_apply(&log->ps, batch, len, h);
}

/* Rebuilds the producer state for the current log: the newest readable
 * snapshot at or below the log end, less the producers expired at now_ms
 * (as Kafka's load of a snapshot drops them; INT64_MIN keeps all), then
 * every batch after it, whose producers stay until the next expiry check
 * as in Kafka. Snapshots past the log end (a truncation) or corrupt ones
 * are deleted. */
static od_st_err rebuild_pstate(od_log *log, int64_t now_ms)
{
    int64_t leo = od_log_end_offset(log);
    int64_t *snaps;
    size_t n;
    od_st_err err = od_pstate_list_snapshots(log->io, log->dir, &snaps, &n);
    if (err)
        return err;
    od_pstate_clear(&log->ps, log->segs[0]->base_offset);
    bool loaded = false;
    for (size_t i = n; i-- > 0 && !err;) {
        if (snaps[i] > leo) {
            err = od_pstate_delete_snapshot(log->io, log->dir, snaps[i]);
            continue;
        }
        if (loaded)
            break;
        od_st_err r = od_pstate_read_snapshot(&log->ps, log->io, log->dir, snaps[i]);
        if (r == OD_ST_OK)
            loaded = true;
        else if (r == OD_ST_CORRUPT || r == OD_ST_BAD_FORMAT) {
            od_pstate_clear(&log->ps, log->segs[0]->base_offset);
            err = od_pstate_delete_snapshot(log->io, log->dir, snaps[i]);
        } else
            err = r;
    }
    free(snaps);
    if (err)
        return err;
    if (log->ps.map_end_offset < log->segs[0]->base_offset)
        od_pstate_clear(&log->ps, log->segs[0]->base_offset);
    if (loaded && now_ms != INT64_MIN && log->cfg.producer_id_expiration_ms > 0)
        od_pstate_expire(&log->ps, now_ms, log->cfg.producer_id_expiration_ms);
    log->nunrepl = 0;
    for (size_t i = floor_segment(log, log->ps.map_end_offset); i < log->nsegs && !err; i++) {
        replay_ctx rc = {log, log->segs[i]};
        err = od_segment_for_each_batch(log->segs[i], log->ps.map_end_offset, apply_batch, &rc);
    }
    if (!err)
        log->ps.map_end_offset = leo;
    return err;
}

od_st_err od_log_open(const od_log_open_args *a, od_log **out, od_log_recovery_stats *stats)
{
    od_log_recovery_stats dummy;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (!a->topic || !*a->topic || strchr(a->topic, '/') || a->partition < 0)
        return OD_ST_INVALID_ARG;
    od_log *log = calloc(1, sizeof *log);
    if (!log)
        return OD_ST_NO_MEMORY;
    log->io = a->io;
    log->partition = a->partition;
    log->topic = strdup(a->topic);
    log->log_dir = strdup(a->log_dir);
    size_t dl = strlen(a->log_dir) + strlen(a->topic) + 16;
    log->dir = malloc(dl);
    if (!log->topic || !log->log_dir || !log->dir) {
        log_free(log);
        return OD_ST_NO_MEMORY;
    }
    snprintf(log->dir, dl, "%s/%s-%" PRId32, a->log_dir, a->topic, a->partition);
    if (a->config)
        log->cfg = *a->config;
    else
        od_log_config_default(&log->cfg);
    log->rng = a->seed ^ ((uint64_t)a->partition << 32) ^ 0x5DEECE66Dull;
    log->own_cache.limit = 64;
    log->ctx.io = a->io;
    log->ctx.dir = log->dir;
    log->ctx.cache = a->fd_cache ? a->fd_cache : &log->own_cache;
    log->ctx.index_interval_bytes = log->cfg.index_interval_bytes;
    /* Kafka rounds the index size down to whole entries; at least one. */
    log->ctx.max_index_bytes = log->cfg.segment_index_bytes < 12 ? 12 : log->cfg.segment_index_bytes;
    log->last_flush_ms = a->now_ms;
    od_pstate_init(&log->ps, 0);

    int rc = a->io->m->mkdir(a->io, log->dir, 0755);
    if (rc < 0 && rc != -EEXIST) {
        log_free(log);
        return od_st_from_errno(rc);
    }
    bool made_dir = rc == 0;
    bool created;
    od_st_err err = load_segments(log, a, stats, &created);
    if (err) {
        log_free(log);
        return err;
    }
    int64_t leo = od_log_end_offset(log);
    log->log_start = log->segs[0]->base_offset;
    if (a->log_start_offset > log->log_start && a->log_start_offset <= leo)
        log->log_start = a->log_start_offset;
    log->recovery_point = a->had_clean_shutdown ? leo : (a->recovery_point < leo ? a->recovery_point : leo);
    if (log->recovery_point < log->log_start)
        log->recovery_point = log->log_start;
    od_log_set_high_watermark(log, a->high_watermark);
    log->cleaner_offset = a->cleaner_offset > log->log_start ? a->cleaner_offset : log->log_start;
    if (log->cleaner_offset > leo)
        log->cleaner_offset = leo;

    od_epoch_entry *e;
    size_t n;
    err = od_ckpt_read_epochs(a->io, log->dir, &e, &n);
    if (err == OD_ST_OK) {
        log->epochs = e;
        log->nepochs = log->epochs_cap = n;
        bool ch = epoch_truncate_end(log, leo);
        ch |= epoch_truncate_start(log, log->log_start);
        err = ch ? write_epochs(log) : OD_ST_OK;
    } else if (err == OD_ST_NOT_FOUND || err == OD_ST_BAD_FORMAT) {
        /* Kafka rebuilds a lost cache from the batches' epochs lazily; we
         * start it empty and let the next appends refill it. */
        err = OD_ST_OK;
    }
    if (!err)
        err = rebuild_pstate(log, a->now_ms);
    if (!err && log->dir_dirty && !created) {
        rc = od_fio_fsync_dir(a->io, log->dir);
        err = rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
        log->dir_dirty = false;
    }
    /* Left for the first flush (invariant 9): a new log's entries, and after
     * an unclean stop every log's, since the previous run may have crashed
     * before the flush that would have synced them. */
    if (made_dir || created || !a->had_clean_shutdown)
        log->parent_dirty = true;
    if (created || !a->had_clean_shutdown)
        log->dir_dirty = true;
    if (err) {
        log_free(log);
        return err;
    }
    *out = log;
    return OD_ST_OK;
}

od_st_err od_log_close(od_log *log, bool clean)
{
    od_st_err err = OD_ST_OK;
    if (clean && log->sticky == OD_ST_OK) {
        /* Kafka snapshots producer state at the log end on close, so a
         * clean restart needs no scan to rebuild it. */
        err = od_pstate_write_snapshot(&log->ps, log->io, log->dir);
        if (!err)
            err = od_segment_seal(active(log));
        if (!err)
            err = od_log_flush(log, 0);
    }
    log_free(log);
    return err;
}

/* ------------------------------------------------------------- append */

/* A cursor over one batch's records for the check below. It reads varints
 * exactly as od_reader does (same limits, same malformed cases) but inline,
 * since this walk runs for every record of every produced batch. */
typedef struct rcur {
    const uint8_t *p, *end;
    bool bad;
} rcur;

static inline uint32_t rc_uvarint(rcur *c)
{
    if (c->p < c->end && *c->p < 0x80)
        return *c->p++;
    uint32_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (c->p >= c->end)
            break;
        uint8_t b = *c->p++;
        if (shift == 28 && (b & 0x70))
            break;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->bad = true;
    return 0;
}

static inline int32_t rc_varint(rcur *c)
{
    uint32_t z = rc_uvarint(c);
    return (int32_t)((z >> 1) ^ (~(z & 1) + 1));
}

static inline void rc_skip_varlong(rcur *c)
{
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (c->p >= c->end)
            break;
        uint8_t b = *c->p++;
        if (shift == 63 && (b & 0x7e))
            break;
        if (!(b & 0x80))
            return;
    }
    c->bad = true;
}

static inline void rc_skip(rcur *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->bad = true;
        c->p = c->end;
    } else {
        c->p += n;
    }
}

/* Checks the records of an uncompressed batch: count, sequential offset
 * deltas, and exact framing (every record consumed exactly, nothing left
 * over). Compressed batches are checked by od_batch_validate_records. */
static bool records_ok(const uint8_t *b, size_t total, const od_batch_header *h)
{
    rcur r = {b + OD_BATCH_HEADER_SIZE, b + total, false};
    for (int32_t i = 0; i < h->record_count; i++) {
        int32_t len = rc_varint(&r);
        if (r.bad || len <= 0 || (size_t)len > (size_t)(r.end - r.p))
            return false;
        rcur rec = {r.p, r.p + len, false};
        r.p += len;
        rc_skip(&rec, 1); /* attributes */
        rc_skip_varlong(&rec); /* timestamp delta */
        if (rc_varint(&rec) != i)
            return false;
        int32_t kl = rc_varint(&rec);
        if (kl < -1)
            return false;
        if (kl > 0)
            rc_skip(&rec, (size_t)kl);
        int32_t vl = rc_varint(&rec);
        if (vl < -1)
            return false;
        if (vl > 0)
            rc_skip(&rec, (size_t)vl);
        int32_t nh = rc_varint(&rec);
        if (nh < 0)
            return false;
        for (int32_t k = 0; k < nh && !rec.bad; k++) {
            int32_t hk = rc_varint(&rec);
            if (hk < 0)
                return false;
            rc_skip(&rec, (size_t)hk);
            int32_t hv = rc_varint(&rec);
            if (hv < -1)
                return false;
            if (hv > 0)
                rc_skip(&rec, (size_t)hv);
        }
        if (rec.bad || rec.p != rec.end)
            return false;
    }
    return !r.bad && r.p == r.end;
}

static od_st_err map_batch_err(od_batch_err e)
{
    switch (e) {
    case OD_BATCH_OK: return OD_ST_OK;
    case OD_BATCH_BAD_MAGIC:
    case OD_BATCH_INVALID_RECORD: return OD_ST_INVALID_RECORD;
    case OD_BATCH_BAD_COMPRESSION:
    case OD_BATCH_BAD_OFFSET_DELTA: return OD_ST_BAD_COMPRESSED_BATCH;
    case OD_BATCH_NO_MEMORY: return OD_ST_NO_MEMORY;
    case OD_BATCH_TOO_LARGE: return OD_ST_RECORD_TOO_LARGE;
    default: return OD_ST_CORRUPT;
    }
}

typedef struct set_info {
    int32_t batches;
    int32_t records;
    int64_t first_base;     /* as found in the input */
    int64_t last_offset;    /* as found in the input */
    int64_t max_ts;
    int64_t offset_of_max_ts;
} set_info;

/* Validates every batch of a record set; fills *si from the input as is. */
static od_st_err validate_set(const od_log *log, const uint8_t *buf, size_t len, bool follower,
                              set_info *si)
{
    memset(si, 0, sizeof *si);
    si->max_ts = -1;
    si->offset_of_max_ts = -1;
    if (len == 0)
        return OD_ST_INVALID_RECORD;
    if (len > (size_t)log->cfg.segment_bytes)
        return OD_ST_BATCH_TOO_LARGE;
    size_t pos = 0;
    int64_t prev_last = -1;
    while (pos < len) {
        od_batch_header h;
        od_batch_err be = od_batch_validate(buf + pos, len - pos, &h);
        if (be != OD_BATCH_OK)
            return map_batch_err(be);
        size_t total = od_batch_total_size(buf + pos, len - pos);
        if (total > (size_t)log->cfg.max_message_bytes)
            return OD_ST_RECORD_TOO_LARGE;
        /* A producer's batch has one record per offset. A replicated batch
         * may come from a compacted log (fewer records, gaps, or none), so a
         * follower checks only what the leader's log guarantees. */
        if (follower) {
            if (h.record_count > h.last_offset_delta + 1)
                return OD_ST_INVALID_RECORD;
        } else if ((int64_t)h.last_offset_delta + 1 != h.record_count)
            return OD_ST_INVALID_RECORD;
        if (follower) {
            /* CRC and header were checked; the leader validated the records. */
        } else if (od_batch_compression(&h) == OD_COMPRESSION_NONE) {
            /* Kafka 3.9 takes an uncompressed batch whose offset deltas are
             * not 0..n-1 as it is, and its consumers then skip offsets: that
             * is refused here, like every other record that does not parse
             * (INVALID_RECORD, Kafka's answer for those). */
            if (!records_ok(buf + pos, total, &h))
                return OD_ST_INVALID_RECORD;
        } else {
            od_batch_err re = od_batch_validate_records(buf + pos, total, DECOMPRESS_LIMIT);
            /* The CRC was checked above: a corrupt record here is one that
             * does not parse after decompression. */
            if (re == OD_BATCH_CORRUPT)
                return OD_ST_INVALID_RECORD;
            if (re != OD_BATCH_OK)
                return map_batch_err(re);
        }
        if (follower && h.base_offset <= prev_last)
            return OD_ST_OUT_OF_ORDER;
        if (si->batches == 0)
            si->first_base = h.base_offset;
        if (h.max_timestamp > si->max_ts) {
            si->max_ts = h.max_timestamp;
            si->offset_of_max_ts = od_batch_last_offset(&h);
        }
        prev_last = od_batch_last_offset(&h);
        si->last_offset = prev_last;
        si->batches++;
        si->records += h.record_count;
        pos += total;
    }
    return OD_ST_OK;
}

/* Replaces the active segment, sealing it, with a new one at base. */
static od_st_err roll_at(od_log *log, int64_t base, int64_t now_ms)
{
    od_segment *old = active(log);
    od_segment *s;
    if (old->size == 0) {
        /* Kafka replaces an empty active segment rather than leave a gap of
         * empty files behind. */
        if (old->base_offset == base)
            return OD_ST_OK;
        od_st_err err = od_segment_create(&log->ctx, base, now_ms, &s);
        if (err)
            return err;
        if (!push_segment(log, s)) {
            od_segment_delete_files(s);
            od_segment_unref(s);
            return OD_ST_NO_MEMORY;
        }
        assign_jitter(log, s);
        return drop_segment(log, log->nsegs - 2);
    }
    /* The new segment starts with a snapshot of the state before it, which
     * bounds the scan an unclean restart needs. */
    od_st_err err = od_pstate_write_snapshot(&log->ps, log->io, log->dir);
    if (err)
        return err;
    err = od_segment_create(&log->ctx, base, now_ms, &s);
    if (err)
        return err;
    if (!push_segment(log, s)) {
        od_segment_delete_files(s);
        od_segment_unref(s);
        return OD_ST_NO_MEMORY;
    }
    if ((err = od_segment_seal(old))) {
        log->nsegs--;
        od_segment_delete_files(s);
        od_segment_unref(s);
        return err;
    }
    assign_jitter(log, s);
    log->dir_dirty = true;
    return OD_ST_OK;
}

od_st_err od_log_roll(od_log *log, int64_t now_ms)
{
    if (log->sticky)
        return log->sticky;
    if (active(log)->size == 0)
        return OD_ST_OK;
    return roll_at(log, od_log_end_offset(log), now_ms);
}

static od_st_err maybe_roll(od_log *log, size_t set_bytes, int64_t max_ts, int64_t first,
                            int64_t last, int64_t now_ms)
{
    od_segment *a = active(log);
    int64_t leo = od_log_end_offset(log);
    int64_t base = first > leo ? first : leo;
    bool overflow = last - a->base_offset > INT32_MAX || first < a->base_offset;
    if (a->size == 0)
        return overflow ? roll_at(log, base, now_ms) : OD_ST_OK;
    int64_t waited = a->rolling_ts >= 0 ? max_ts - a->rolling_ts : now_ms - a->created_ms;
    bool roll = a->size > (int64_t)log->cfg.segment_bytes - (int64_t)set_bytes ||
                waited > log->cfg.segment_ms - a->roll_jitter_ms || a->oidx_n >= a->oidx_max ||
                a->tidx_n >= a->tidx_max || overflow;
    return roll ? roll_at(log, base, now_ms) : OD_ST_OK;
}

static od_st_err append_common(od_log *log, const uint8_t *buf, size_t len, const set_info *si,
                               int64_t first, int64_t last, int64_t max_ts, int64_t off_max,
                               int64_t now_ms)
{
    od_st_err err = maybe_roll(log, len, max_ts, first, last, now_ms);
    if (err)
        return err;
    err = od_segment_append(active(log), buf, len, first, last);
    if (err == OD_ST_FAILED)
        log->sticky = OD_ST_FAILED;
    if (err)
        return err;
    for (size_t pos = 0; pos < len;) {
        od_batch_header h;
        size_t total = od_batch_total_size(buf + pos, len - pos);
        od_batch_header_parse(buf + pos, total, &h);
        /* Failures here leave the data in and the bookkeeping behind; the
         * replay at the next open repairs both (see rebuild_pstate). */
        if ((err = on_control(log, active(log), buf + pos, total, &h, false)))
            return err;
        if ((err = od_pstate_apply(&log->ps, buf + pos, total, &h)))
            return err;
        pos += total;
    }
    log->unflushed += si->records;
    return od_log_maybe_flush(log, now_ms);
}

/* Java long arithmetic: two's complement, wrapping. Going through uint64_t
 * keeps C free of signed overflow; the conversion back is modular on every
 * compiler we build with. */
static inline int64_t wrap_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static inline int64_t wrap_sub(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

static bool timestamps_checked(const od_log_config *cfg)
{
    /* With both bounds at INT64_MAX, diff > before and -diff > after can
     * never hold, so the per-record walk is skipped. */
    return !cfg->log_append_time &&
           (cfg->message_timestamp_before_max_ms != INT64_MAX ||
            cfg->message_timestamp_after_max_ms != INT64_MAX);
}

od_st_err od_log_check_timestamps(const od_log_config *cfg, const uint8_t *records, size_t len,
                                  int64_t now_ms, od_ts_violation_fn fn, void *arg)
{
    bool ranges = timestamps_checked(cfg);
    int64_t before = cfg->message_timestamp_before_max_ms;
    int64_t after = cfg->message_timestamp_after_max_ms;
    for (size_t pos = 0; pos < len;) {
        size_t total = od_batch_total_size(records + pos, len - pos);
        if (total < OD_BATCH_HEADER_SIZE || total > len - pos)
            return OD_ST_CORRUPT;
        od_batch_header h;
        if (od_batch_header_parse(records + pos, total, &h) != OD_BATCH_OK)
            return OD_ST_CORRUPT;
        /* A producer's LogAppendTime batch: refused wherever Kafka does not
         * range-check it instead (a LogAppendTime topic, or no timestamp). */
        bool wrong_type = (h.attributes & OD_BATCH_ATTR_LOG_APPEND_TIME) &&
                          (cfg->log_append_time || h.max_timestamp == -1);
        if (!ranges && !wrong_type) {
            pos += total;
            continue;
        }
        od_record_iter it;
        od_batch_err be = od_record_iter_init(&it, records + pos, total, DECOMPRESS_LIMIT);
        int32_t index = 0, refused = 0;
        od_record rec;
        while (be == OD_BATCH_OK && od_record_iter_next(&it, &rec)) {
            int64_t diff = wrap_sub(now_ms, rec.timestamp);
            if (wrong_type || (rec.timestamp != -1 && (diff > before || wrap_sub(0, diff) > after))) {
                if (fn) {
                    od_ts_violation v = {index, rec.timestamp, rec.offset, wrap_sub(now_ms, before),
                                         wrap_add(now_ms, after), wrong_type};
                    fn(arg, &v);
                }
                refused++;
            }
            index++;
        }
        if (be == OD_BATCH_OK)
            be = it.err;
        od_record_iter_finish(&it);
        if (be != OD_BATCH_OK)
            return map_batch_err(be);
        if (refused > 0)
            return OD_ST_INVALID_TIMESTAMP;
        pos += total;
    }
    return OD_ST_OK;
}

od_st_err od_log_append_leader(od_log *log, uint8_t *records, size_t len, int32_t leader_epoch,
                               int64_t now_ms, od_append_info *info)
{
    if (log->sticky)
        return log->sticky;
    set_info si;
    od_st_err err = validate_set(log, records, len, false, &si);
    if (err)
        return err;
    /* Kafka's LogValidator checks timestamps before the producer state. */
    if ((err = od_log_check_timestamps(&log->cfg, records, len, now_ms, NULL, NULL)))
        return err;
    for (size_t pos = 0; pos < len;) {
        od_batch_header h;
        size_t total = od_batch_total_size(records + pos, len - pos);
        od_batch_header_parse(records + pos, total, &h);
        od_producer_batch dup;
        err = od_pstate_check(&log->ps, &h, &dup);
        if (err == OD_ST_DUPLICATE_SEQUENCE && info) {
            memset(info, 0, sizeof *info);
            info->first_offset = dup.last_offset - dup.offset_delta;
            info->last_offset = dup.last_offset;
            info->max_timestamp = dup.timestamp;
            info->log_append_time = -1;
            info->log_start_offset = log->log_start;
        }
        if (err)
            return err;
        pos += total;
    }
    int64_t first = od_log_end_offset(log), off = first;
    int64_t max_ts = -1, off_max = -1;
    for (size_t pos = 0; pos < len;) {
        uint8_t *b = records + pos;
        size_t total = od_batch_total_size(b, len - pos);
        od_batch_header h;
        od_batch_header_parse(b, total, &h);
        /* baseOffset and partitionLeaderEpoch sit before the CRC'd range. */
        od_store_be64(b + OD_BATCH_BASE_OFFSET_AT, (uint64_t)off);
        od_store_be32(b + OD_BATCH_LEADER_EPOCH_AT, (uint32_t)leader_epoch);
        int64_t last = off + h.last_offset_delta;
        if (log->cfg.log_append_time) {
            uint16_t attrs = (uint16_t)h.attributes | OD_BATCH_ATTR_LOG_APPEND_TIME;
            od_store_be16(b + OD_BATCH_ATTRIBUTES_AT, attrs);
            od_store_be64(b + OD_BATCH_MAX_TIMESTAMP_AT, (uint64_t)now_ms);
            od_batch_restamp_crc(b, total);
        } else if (h.max_timestamp > max_ts) {
            max_ts = h.max_timestamp;
            off_max = last;
        }
        off = last + 1;
        pos += total;
    }
    int64_t last = off - 1;
    if (log->cfg.log_append_time) {
        max_ts = now_ms;
        off_max = last;
    }
    bool changed;
    if ((err = epoch_assign(log, leader_epoch, first, &changed)))
        return err;
    if (changed && (err = write_epochs(log))) {
        epoch_truncate_end(log, first);
        return err;
    }
    if ((err = append_common(log, records, len, &si, first, last, max_ts, off_max, now_ms)))
        return err;
    if (info) {
        info->first_offset = first;
        info->last_offset = last;
        info->max_timestamp = max_ts;
        info->offset_of_max_timestamp = off_max;
        info->log_append_time = log->cfg.log_append_time ? now_ms : -1;
        info->log_start_offset = log->log_start;
        info->batch_count = si.batches;
        info->record_count = si.records;
    }
    return OD_ST_OK;
}

od_st_err od_log_append_follower(od_log *log, const uint8_t *records, size_t len, int64_t now_ms,
                                 od_append_info *info)
{
    if (log->sticky)
        return log->sticky;
    set_info si;
    od_st_err err = validate_set(log, records, len, true, &si);
    if (err)
        return err;
    if (si.first_base < od_log_end_offset(log))
        return OD_ST_OUT_OF_ORDER;
    /* Epochs of the leader's batches, in order; persisted before the data. */
    bool any = false;
    for (size_t pos = 0; pos < len;) {
        od_batch_header h;
        size_t total = od_batch_total_size(records + pos, len - pos);
        od_batch_header_parse(records + pos, total, &h);
        bool ch;
        if ((err = epoch_assign(log, h.partition_leader_epoch, h.base_offset, &ch)))
            return err;
        any |= ch;
        pos += total;
    }
    if (any && (err = write_epochs(log))) {
        epoch_truncate_end(log, si.first_base);
        return err;
    }
    if ((err = append_common(log, records, len, &si, si.first_base, si.last_offset, si.max_ts,
                             si.offset_of_max_ts, now_ms)))
        return err;
    if (info) {
        info->first_offset = si.first_base;
        info->last_offset = si.last_offset;
        info->max_timestamp = si.max_ts;
        info->offset_of_max_timestamp = si.offset_of_max_ts;
        info->log_append_time = -1;
        info->log_start_offset = log->log_start;
        info->batch_count = si.batches;
        info->record_count = si.records;
    }
    return OD_ST_OK;
}

/* --------------------------------------------------------------- read */

/* Index of the segment that would hold offset (last with base <= offset). */
static size_t floor_segment(const od_log *log, int64_t offset)
{
    size_t lo = 0, hi = log->nsegs;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->base_offset <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

od_st_err od_log_read(od_log *log, int64_t offset, int32_t max_bytes, int64_t max_offset,
                      bool min_one, od_log_read_result *out)
{
    memset(out, 0, sizeof *out);
    out->region.fd = -1;
    int64_t leo = od_log_end_offset(log);
    if (offset < log->log_start || offset > leo)
        return OD_ST_OFFSET_OUT_OF_RANGE;
    if (max_offset < 0 || max_offset > leo)
        max_offset = leo;
    if (offset >= max_offset || max_bytes < 0)
        return OD_ST_OK;
    for (size_t i = floor_segment(log, offset); i < log->nsegs; i++) {
        od_segment *s = log->segs[i];
        if (s->base_offset >= max_offset)
            break;
        int64_t max_pos = s->size;
        bool bound_here = i + 1 == log->nsegs || log->segs[i + 1]->base_offset > max_offset;
        if (bound_here && max_offset < leo) {
            int64_t p;
            od_batch_header h;
            od_st_err err = od_segment_translate(s, max_offset, &p, &h, NULL);
            if (err && err != OD_ST_NOT_FOUND)
                return err;
            max_pos = p;
        }
        od_st_err err = od_segment_read(s, offset, max_bytes, max_pos, min_one, &out->region);
        if (err)
            return err;
        if (out->region.length > 0) {
            od_segment_ref(s);
            out->pin = s;
            out->segment_base = s->base_offset;
            return OD_ST_OK;
        }
    }
    return OD_ST_OK;
}

void od_log_read_release(od_log *log, od_log_read_result *r)
{
    if (r->pin)
        od_segment_unref(r->pin);
    r->pin = NULL;
}

/* --------------------------------------------------------- timestamps */

od_st_err od_log_offset_for_timestamp(od_log *log, int64_t ts, int64_t *offset, int64_t *found_ts)
{
    *offset = -1;
    *found_ts = -1;
    if (ts == OD_TS_EARLIEST || ts == OD_TS_EARLIEST_LOCAL) {
        *offset = log->log_start;
        return OD_ST_OK;
    }
    if (ts == OD_TS_LATEST) {
        *offset = od_log_end_offset(log);
        return OD_ST_OK;
    }
    if (ts == OD_TS_MAX_TIMESTAMP) {
        int64_t best = -1;
        size_t bi = 0;
        for (size_t i = 0; i < log->nsegs; i++) {
            od_segment *s = log->segs[i];
            if (s->size == 0)
                continue;
            od_st_err err = od_segment_load_index(s);
            if (err)
                return err;
            if (s->max_ts > best) {
                best = s->max_ts;
                bi = i;
            }
        }
        if (best < 0)
            return OD_ST_OK;
        od_st_err err = od_segment_find_timestamp(log->segs[bi], best, log->log_start, offset, found_ts);
        return err == OD_ST_NOT_FOUND ? OD_ST_OK : err;
    }
    if (ts < 0)
        return OD_ST_INVALID_ARG;
    for (size_t i = 0; i < log->nsegs; i++) {
        od_segment *s = log->segs[i];
        if (s->size == 0 || (i + 1 < log->nsegs && log->segs[i + 1]->base_offset <= log->log_start))
            continue;
        if (od_segment_largest_timestamp(s) < ts)
            continue;
        od_st_err err = od_segment_find_timestamp(s, ts, log->log_start, offset, found_ts);
        if (err == OD_ST_OK)
            return OD_ST_OK;
        if (err != OD_ST_NOT_FOUND)
            return err;
    }
    *offset = -1;
    return OD_ST_OK;
}

/* ---------------------------------------------- offsets and truncation */

void od_log_set_config(od_log *log, const od_log_config *cfg)
{
    log->cfg = *cfg;
    /* The index interval is read on every append, so it changes at once;
     * the index size takes effect as new segments are created. */
    log->ctx.index_interval_bytes = cfg->index_interval_bytes;
    log->ctx.max_index_bytes = cfg->segment_index_bytes < 12 ? 12 : cfg->segment_index_bytes;
}

const od_log_config *od_log_get_config(const od_log *log)
{
    return &log->cfg;
}

void od_log_set_high_watermark(od_log *log, int64_t hw)
{
    int64_t leo = od_log_end_offset(log);
    if (hw > leo)
        hw = leo;
    if (hw < log->log_start)
        hw = log->log_start;
    log->hw = hw;
    size_t w = 0;
    for (size_t i = 0; i < log->nunrepl; i++)
        if (log->unrepl[i].marker_offset >= hw)
            log->unrepl[w++] = log->unrepl[i];
    log->nunrepl = w;
}

int64_t od_log_last_stable_offset(const od_log *log)
{
    int64_t lso = log->hw;
    for (size_t i = 0; i < log->ps.n; i++)
        if (log->ps.e[i].txn_first_offset >= 0 && log->ps.e[i].txn_first_offset < lso)
            lso = log->ps.e[i].txn_first_offset;
    for (size_t i = 0; i < log->nunrepl; i++)
        if (log->unrepl[i].first_offset < lso)
            lso = log->unrepl[i].first_offset;
    return lso;
}

od_st_err od_log_collect_aborted(od_log *log, int64_t from, int64_t upper, od_aborted_fn fn,
                                 void *ctx)
{
    for (size_t i = floor_segment(log, from); i < log->nsegs; i++) {
        if (log->segs[i]->base_offset >= upper)
            break;
        od_st_err err = od_segment_txn_collect(log->segs[i], from, upper, fn, ctx);
        if (err)
            return err;
    }
    return OD_ST_OK;
}

static void clamp_offsets(od_log *log)
{
    int64_t leo = od_log_end_offset(log);
    if (log->hw > leo)
        log->hw = leo;
    if (log->recovery_point > leo)
        log->recovery_point = leo;
    if (log->log_start > leo)
        log->log_start = leo;
    if (log->hw < log->log_start)
        log->hw = log->log_start;
    if (log->recovery_point < log->log_start)
        log->recovery_point = log->log_start;
    if (log->cleaner_offset > leo)
        log->cleaner_offset = leo;
}

od_st_err od_log_truncate_fully_and_start_at(od_log *log, int64_t offset, int64_t now_ms)
{
    if (log->sticky)
        return log->sticky;
    if (offset < 0)
        return OD_ST_INVALID_ARG;
    od_segment *s;
    od_st_err err = od_segment_create(&log->ctx, offset, now_ms, &s);
    /* The new segment's name may equal an old one's; create truncated it,
     * so drop the old entry without unlinking the fresh files. */
    if (err)
        return err;
    for (size_t i = 0; i < log->nsegs; i++) {
        if (log->segs[i]->base_offset != offset)
            od_segment_delete_files(log->segs[i]);
        od_segment_unref(log->segs[i]);
    }
    log->nsegs = 0;
    push_segment(log, s); /* cannot fail: cap >= 1 */
    assign_jitter(log, s);
    log->log_start = log->hw = log->recovery_point = offset;
    log->nepochs = 0;
    int64_t *snaps;
    size_t nsnaps;
    if (od_pstate_list_snapshots(log->io, log->dir, &snaps, &nsnaps) == OD_ST_OK) {
        for (size_t i = 0; i < nsnaps; i++)
            od_pstate_delete_snapshot(log->io, log->dir, snaps[i]);
        free(snaps);
    }
    od_pstate_clear(&log->ps, offset);
    log->dir_dirty = true;
    err = write_epochs(log);
    int rc = od_fio_fsync_dir(log->io, log->dir);
    if (!err && rc < 0)
        err = od_st_from_errno(rc);
    log->dir_dirty = false;
    return err;
}

od_st_err od_log_truncate_to(od_log *log, int64_t offset)
{
    if (log->sticky)
        return log->sticky;
    if (offset < 0)
        return OD_ST_INVALID_ARG;
    if (offset >= od_log_end_offset(log))
        return OD_ST_OK;
    if (offset < log->log_start || offset <= log->segs[0]->base_offset)
        return od_log_truncate_fully_and_start_at(log, offset, active(log)->created_ms);
    od_st_err err = OD_ST_OK;
    while (log->nsegs > 1 && active(log)->base_offset >= offset)
        if ((err = drop_segment(log, log->nsegs - 1)))
            return err;
    od_segment *a = active(log);
    if ((err = od_segment_truncate_to(a, offset)))
        return err;
    if (!a->active && (err = od_segment_make_active(a)))
        return err;
    clamp_offsets(log);
    if (epoch_truncate_end(log, od_log_end_offset(log)) && (err = write_epochs(log)))
        return err;
    if ((err = rebuild_pstate(log, INT64_MIN)))
        return err;
    if (log->dir_dirty) {
        int rc = od_fio_fsync_dir(log->io, log->dir);
        if (rc < 0)
            return od_st_from_errno(rc);
        log->dir_dirty = false;
    }
    return OD_ST_OK;
}

/* Deletes the first n segments (rolling first when that is all of them). */
static od_st_err delete_prefix(od_log *log, size_t n, int64_t now_ms, int32_t *deleted)
{
    if (n == 0)
        return OD_ST_OK;
    od_st_err err;
    if (n >= log->nsegs && (err = roll_at(log, od_log_end_offset(log), now_ms)))
        return err;
    if (n >= log->nsegs)
        n = log->nsegs - 1;
    for (size_t i = 0; i < n; i++) {
        if ((err = drop_segment(log, 0)))
            return err;
        (*deleted)++;
    }
    if (log->segs[0]->base_offset > log->log_start)
        log->log_start = log->segs[0]->base_offset;
    clamp_offsets(log);
    if (epoch_truncate_start(log, log->log_start) && (err = write_epochs(log)))
        return err;
    int rc = od_fio_fsync_dir(log->io, log->dir);
    log->dir_dirty = false;
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

typedef bool (*seg_pred)(od_log *log, od_segment *s, od_segment *next, void *ctx);

/* Length of the deletable prefix under pred (Kafka's deletableSegments). */
static size_t deletable(od_log *log, seg_pred pred, void *ctx)
{
    size_t i = 0;
    for (; i < log->nsegs; i++) {
        od_segment *s = log->segs[i];
        od_segment *next = i + 1 < log->nsegs ? log->segs[i + 1] : NULL;
        int64_t upper = next ? next->base_offset : od_log_end_offset(log);
        if (log->hw < upper || (next == NULL && s->size == 0) || !pred(log, s, next, ctx))
            break;
    }
    return i;
}

static bool pred_time(od_log *log, od_segment *s, od_segment *next, void *ctx)
{
    int64_t now = *(int64_t *)ctx;
    return now - od_segment_largest_timestamp(s) > log->cfg.retention_ms;
}

static bool pred_size(od_log *log, od_segment *s, od_segment *next, void *ctx)
{
    int64_t *diff = ctx;
    if (*diff - s->size < 0)
        return false;
    *diff -= s->size;
    return true;
}

static bool pred_start(od_log *log, od_segment *s, od_segment *next, void *ctx)
{
    return next != NULL && next->base_offset <= log->log_start;
}

od_st_err od_log_expire_producers(od_log *log, int64_t now_ms, int64_t expiration_ms, int32_t *expired)
{
    if (expired)
        *expired = 0;
    if (log->sticky)
        return log->sticky;
    size_t before = log->ps.n;
    od_pstate_expire(&log->ps, now_ms, expiration_ms);
    if (expired)
        *expired = (int32_t)(before - log->ps.n);
    return OD_ST_OK;
}

od_st_err od_log_enforce_retention(od_log *log, int64_t now_ms, int32_t *deleted)
{
    int32_t dummy = 0;
    if (!deleted)
        deleted = &dummy;
    *deleted = 0;
    if (log->sticky)
        return log->sticky;
    od_st_err err = OD_ST_OK;
    /* A compact-only topic keeps everything but what DeleteRecords cut. */
    if (log->cfg.cleanup_delete && log->cfg.retention_ms >= 0)
        err = delete_prefix(log, deletable(log, pred_time, &now_ms), now_ms, deleted);
    if (!err && log->cfg.cleanup_delete && log->cfg.retention_bytes >= 0) {
        int64_t diff = od_log_size_bytes(log) - log->cfg.retention_bytes;
        if (diff > 0)
            err = delete_prefix(log, deletable(log, pred_size, &diff), now_ms, deleted);
    }
    if (!err)
        err = delete_prefix(log, deletable(log, pred_start, NULL), now_ms, deleted);
    return err;
}

od_st_err od_log_delete_records_before(od_log *log, int64_t offset)
{
    if (log->sticky)
        return log->sticky;
    if (offset > log->hw || offset < 0)
        return OD_ST_OFFSET_OUT_OF_RANGE;
    if (offset <= log->log_start)
        return OD_ST_OK;
    log->log_start = offset;
    od_st_err err = OD_ST_OK;
    if (epoch_truncate_start(log, offset))
        err = write_epochs(log);
    int32_t deleted = 0;
    if (!err)
        err = delete_prefix(log, deletable(log, pred_start, NULL), 0, &deleted);
    return err;
}

/* -------------------------------------------------------------- flush */

od_st_err od_log_flush(od_log *log, int64_t now_ms)
{
    int64_t leo = od_log_end_offset(log);
    for (size_t i = floor_segment(log, log->recovery_point); i < log->nsegs; i++) {
        od_st_err err = od_segment_flush(log->segs[i]);
        if (err)
            return err;
    }
    if (log->dir_dirty) {
        int rc = od_fio_fsync_dir(log->io, log->dir);
        if (rc < 0)
            return od_st_from_errno(rc);
        log->dir_dirty = false;
    }
    if (log->parent_dirty) {
        int rc = od_fio_fsync_dir(log->io, log->log_dir);
        if (rc < 0)
            return od_st_from_errno(rc);
        log->parent_dirty = false;
    }
    log->recovery_point = leo;
    log->unflushed = 0;
    log->last_flush_ms = now_ms;
    return OD_ST_OK;
}

od_st_err od_log_maybe_flush(od_log *log, int64_t now_ms)
{
    if (log->unflushed <= 0)
        return OD_ST_OK;
    if (log->unflushed >= log->cfg.flush_messages ||
        (log->cfg.flush_ms != INT64_MAX && now_ms - log->last_flush_ms >= log->cfg.flush_ms))
        return od_log_flush(log, now_ms);
    return OD_ST_OK;
}

/* ------------------------------------------------------------ compaction */

int64_t od_log_cleaner_offset(const od_log *log)
{
    return log->cleaner_offset;
}

double od_log_dirty_ratio(const od_log *log)
{
    int64_t total = 0, dirty = 0;
    for (size_t i = 0; i + 1 < log->nsegs; i++) {
        od_segment *s = log->segs[i];
        total += s->size;
        if (log->segs[i + 1]->base_offset > log->cleaner_offset)
            dirty += s->size;
    }
    return total > 0 ? (double)dirty / (double)total : 0.0;
}

/* Maximum timestamp of a segment's first batch (Kafka's rolling-based
 * timestamp), or -1. */
static int64_t first_batch_ts(od_segment *s)
{
    if (s->size == 0)
        return -1;
    int64_t pos;
    od_batch_header h;
    if (od_segment_translate(s, s->base_offset, &pos, &h, NULL) != OD_ST_OK)
        return -1;
    return h.max_timestamp;
}

od_st_err od_log_cleanable_state(od_log *log, int64_t now_ms, od_log_cleanable *out)
{
    memset(out, 0, sizeof *out);
    int64_t leo = od_log_end_offset(log);
    int64_t fd = log->cleaner_offset;
    if (fd < log->log_start || fd > leo)
        fd = log->log_start;
    int64_t fu = od_log_last_stable_offset(log);
    if (active(log)->base_offset < fu)
        fu = active(log)->base_offset;
    size_t first = floor_segment(log, fd);
    if (log->cfg.min_compaction_lag_ms > 0) {
        for (size_t i = first; i + 1 < log->nsegs; i++) {
            od_segment *s = log->segs[i];
            if (s->base_offset >= fu)
                break;
            if (od_segment_largest_timestamp(s) > now_ms - log->cfg.min_compaction_lag_ms) {
                fu = s->base_offset;
                break;
            }
        }
    }
    /* Cleaning works on whole segments: round down to a segment's base. */
    int64_t fu_seg = log->segs[floor_segment(log, fu)]->base_offset;
    if (fu_seg < fu)
        fu = fu_seg;
    out->first_dirty = fd;
    out->first_uncleanable = fu;
    int64_t lo = fd < fu ? fd : fu;
    for (size_t i = 0; i < log->nsegs; i++) {
        od_segment *s = log->segs[i];
        if (s->base_offset < fd)
            out->clean_bytes += s->size;
        int64_t end = i + 1 < log->nsegs ? log->segs[i + 1]->base_offset : leo;
        if (s->base_offset < fu && end > lo)
            out->cleanable_bytes += s->size;
    }
    int64_t total = out->clean_bytes + out->cleanable_bytes;
    out->ratio = total > 0 ? (double)out->cleanable_bytes / (double)total : 0.0;
    int64_t max_lag = log->cfg.max_compaction_lag_ms;
    if (max_lag > 0 && max_lag < INT64_MAX) {
        int64_t earliest = INT64_MAX;
        for (size_t i = first; i + 1 < log->nsegs; i++) {
            int64_t t = first_batch_ts(log->segs[i]);
            if (t > 0 && t < earliest)
                earliest = t;
        }
        int64_t until = now_ms - max_lag;
        if (earliest < until)
            out->compaction_delay_ms = until - earliest;
    }
    out->cleanable = log->cfg.cleanup_compact && total > 0 &&
                     ((out->compaction_delay_ms > 0 && out->cleanable_bytes > 0) ||
                      out->ratio > log->cfg.min_cleanable_dirty_ratio);
    return OD_ST_OK;
}

typedef struct collect_ctx {
    od_clean_txn *t;
    bool oom;
} collect_ctx;

static void add_aborted(void *ctx, const od_aborted_txn *a)
{
    collect_ctx *c = ctx;
    if (!od_clean_txn_add(c->t, a))
        c->oom = true;
}

/* Kafka's collectAbortedTransactions for the cleaner: every .txnindex
 * from the segment holding `from` on, since an entry lives with its marker,
 * which may sit past upper. */
static od_st_err collect_for_cleaner(void *ctx, int64_t from, int64_t upper, od_clean_txn *t)
{
    od_log *log = ctx;
    collect_ctx c = {t, false};
    for (size_t i = floor_segment(log, from); i < log->nsegs; i++) {
        od_st_err err = od_segment_txn_collect(log->segs[i], from, upper, add_aborted, &c);
        if (err)
            return err;
        if (c.oom)
            return OD_ST_NO_MEMORY;
    }
    return OD_ST_OK;
}

/* Rewrites segs[0..k) (all sealed) group by group; upper is the first
 * uncleanable offset, end the mapped end. */
static od_st_err clean_groups(od_log *log, size_t k, const od_offset_map *m, int64_t end,
                              int64_t upper, int64_t now_ms, od_clean_stats *stats)
{
    od_clean_txn *txn = od_clean_txn_new();
    int64_t *uppers = malloc((k + 1) * sizeof *uppers);
    int64_t *others = malloc((k + 1) * sizeof *others);
    od_st_err err = txn && uppers && others ? OD_ST_OK : OD_ST_NO_MEMORY;
    for (size_t i = 0; i < k && !err; i++)
        err = od_segment_load_index(log->segs[i]);
    for (size_t i = 0; i < k && !err;) {
        size_t g = od_cleaner_group_size(&log->segs[i], k - i, log->cfg.segment_bytes,
                                         log->ctx.max_index_bytes, upper);
        for (size_t j = 0; j < g; j++) {
            uppers[j] = log->segs[i + j + 1]->base_offset;
            others[j] = log->segs[i + j]->base_offset;
        }
        od_clean_group grp = {&log->segs[i], uppers, g, m, end, now_ms,
                              log->cfg.delete_retention_ms, &log->ps, txn,
                              collect_for_cleaner, log};
        if ((err = od_cleaner_filter_group(&grp, stats)))
            break;
        od_segment *old0 = log->segs[i];
        if ((err = od_cleaner_swap_group(log->io, log->dir, old0->base_offset, others + 1, g - 1))) {
            /* Past the commit point the files no longer match memory; the
             * next open finishes the swap. */
            log->sticky = OD_ST_FAILED;
            break;
        }
        od_segment *fresh;
        if ((err = od_segment_open(&log->ctx, old0->base_offset, now_ms, &fresh))) {
            log->sticky = OD_ST_FAILED;
            break;
        }
        fresh->roll_jitter_ms = old0->roll_jitter_ms;
        /* Readers holding an old segment keep its (now unlinked) file. */
        for (size_t j = 0; j < g; j++) {
            log->segs[i + j]->deleted = j > 0;
            od_segment_unref(log->segs[i + j]);
        }
        log->segs[i] = fresh;
        memmove(&log->segs[i + 1], &log->segs[i + g], (log->nsegs - i - g) * sizeof *log->segs);
        log->nsegs -= g - 1;
        k -= g - 1;
        stats->segments_cleaned += (int32_t)g;
        stats->groups++;
        if ((err = od_segment_load_index(fresh)))
            break;
        i++;
    }
    od_clean_txn_free(txn);
    free(uppers);
    free(others);
    return err;
}

od_st_err od_log_clean(od_log *log, int64_t now_ms, od_clean_stats *stats)
{
    od_clean_stats dummy;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (log->sticky)
        return log->sticky;
    if (!log->cfg.cleanup_compact)
        return OD_ST_OK;
    od_log_cleanable cs;
    od_st_err err = od_log_cleanable_state(log, now_ms, &cs);
    if (err)
        return err;
    int64_t first_dirty = cs.first_dirty, upper = cs.first_uncleanable;
    stats->first_dirty = first_dirty;
    if (first_dirty >= upper)
        return OD_ST_OK;
    /* The range cannot hold more keys than offsets; sizing the map to that
     * spares a small pass from touching a map sized for a large one. */
    int64_t want = log->cfg.cleaner_map_entries > 0 ? log->cfg.cleaner_map_entries : 1;
    if (upper - first_dirty < want)
        want = upper - first_dirty;
    od_offset_map *m = od_offset_map_new((size_t)want);
    od_clean_txn *mt = od_clean_txn_new();
    if (!m || !mt) {
        od_offset_map_free(m);
        od_clean_txn_free(mt);
        return OD_ST_NO_MEMORY;
    }
    int64_t reached = first_dirty;
    err = collect_for_cleaner(log, first_dirty, upper, mt);
    for (size_t i = floor_segment(log, first_dirty); i < log->nsegs && !err; i++) {
        if (log->segs[i]->base_offset >= upper)
            break;
        err = od_cleaner_build_map_txn(log->segs[i], first_dirty, upper, m, mt, &reached);
        if (reached < (i + 1 < log->nsegs ? log->segs[i + 1]->base_offset : upper))
            break; /* the map filled inside this segment */
    }
    od_clean_txn_free(mt);
    if (!err && reached > upper)
        reached = upper;
    stats->upper = reached;
    if (!err && reached > first_dirty) {
        /* Kafka rewrites every segment holding offsets below the mapped end,
         * from the log's first: tombstones and markers past their horizon
         * go wherever they are. */
        size_t k = 0;
        while (k + 1 < log->nsegs && log->segs[k]->base_offset < reached)
            k++;
        err = clean_groups(log, k, m, reached, upper, now_ms, stats);
    }
    od_offset_map_free(m);
    if (!err && reached > log->cleaner_offset)
        log->cleaner_offset = reached;
    return err;
}
