/*
 * od_storage_compat: Odradek's half of the storage compatibility tests.
 *
 *   od_storage_compat write LOG_DIR EXPECT_DIR
 *       Writes partition odw-0 under LOG_DIR with Odradek's storage (every
 *       codec, keys, values, headers, idempotent and transactional batches,
 *       commit and abort markers, small segments, leader epoch changes, a
 *       switch to LogAppendTime) and
 *       closes it cleanly. EXPECT_DIR receives what Kafka's DumpLogSegments
 *       must find: batches, records, aborted transactions, producers.
 *
 *   od_storage_compat read LOG_DIR TOPIC OUT_PREFIX [recover|crashed] [TIMES_FILE] [orig=DIR]
 *       Opens LOG_DIR/TOPIC-0 as Apache Kafka left it. By default the way a
 *       broker starts after a clean shutdown (through od_logdir, using
 *       Kafka's marker, checkpoints and indexes). `crashed`: through od_logdir
 *       too, after Kafka was killed (no marker; segments from Kafka's
 *       recovery point on are re-validated). `recover`: every segment
 *       re-validated from offset 0. Neither may cut anything. Checks
 *       the in-memory indexes (loaded, or rebuilt by a recovery) against
 *       Kafka's index files (in DIR, the untouched partition directory, when
 *       given) entry for entry, and against the batches, looks every offset up through od_log_read, and writes:
 *         OUT_PREFIX.records    every data record (the Java program's line format)
 *         OUT_PREFIX.committed  what read_committed may see, from Odradek's aborted list
 *         OUT_PREFIX.aborted    od_log_collect_aborted over the whole log
 *         OUT_PREFIX.producers  the producer table
 *         OUT_PREFIX.times      od_log_offset_for_timestamp for each line of TIMES_FILE
 *
 * Exit status 0 when every internal check passed, 1 otherwise (reasons on
 * stderr), 2 on usage errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_dir.h"
#include "partition_log.h"
#include "records/batch_builder.h"
#include "records/records.h"

static int failures;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("od_storage_compat: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

static FILE *open_out(const char *prefix, const char *suffix)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "od_storage_compat: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
    return f;
}

/* ------------------------------------------------------------------ write */

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

typedef struct writer_state {
    od_log *log;
    FILE *batches, *records;
    int64_t now_ms;
    int64_t ts;        /* next record timestamp */
    int32_t epoch;     /* leader epoch */
    uint64_t rng;
} writer_state;

static uint32_t rnd(writer_state *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return (uint32_t)(w->rng >> 11);
}

/* Appends one built record set as leader and writes what DumpLogSegments
 * must print for it. Keys and values are printable ASCII with no tabs, so
 * Kafka's string decoder shows them unchanged. */
static void append(writer_state *w, od_writer *set, const od_batch_params *p, int32_t count,
                   const od_builder_record *recs, bool control, od_control_type ctype,
                   int32_t coord_epoch)
{
    od_append_info info;
    w->now_ms += 3; /* LogAppendTime stamps that grow, so the time index has entries */
    od_st_err err = od_log_append_leader(w->log, set->buf, set->len, w->epoch, w->now_ms, &info);
    if (err) {
        fail("append at %" PRId64 ": %s", od_log_end_offset(w->log), od_st_err_name(err));
        exit(1);
    }
    fprintf(w->batches, "B\t%" PRId64 "\t%" PRId64 "\t%s\t%" PRId64 "\t%d\t%d\t%s\t%s\n",
            info.first_offset, info.last_offset, codec_names[p->compression], p->producer_id,
            p->producer_epoch, w->epoch, p->transactional || control ? "true" : "false",
            control ? "true" : "false");
    if (control) {
        fprintf(w->records, "C\t%" PRId64 "\t%s\t%d\n", info.first_offset,
                ctype == OD_CONTROL_COMMIT ? "COMMIT" : "ABORT", coord_epoch);
        return;
    }
    for (int32_t i = 0; i < count; i++) {
        const od_builder_record *r = &recs[i];
        /* A LogAppendTime topic shows the broker's stamp for every record. */
        int64_t ts = info.log_append_time >= 0 ? info.log_append_time : r->timestamp;
        fprintf(w->records, "R\t%" PRId64 "\t%" PRId64 "\t%d\t", info.first_offset + i, ts,
                p->base_sequence < 0 ? -1 : p->base_sequence + i);
        if (r->key.len < 0)
            fputs("\\N", w->records);
        else
            fwrite(r->key.ptr, 1, (size_t)r->key.len, w->records);
        fputc('\t', w->records);
        if (r->value.len < 0)
            fputs("\\N", w->records);
        else
            fwrite(r->value.ptr, 1, (size_t)r->value.len, w->records);
        fputc('\t', w->records);
        for (int32_t h = 0; h < r->header_count; h++)
            fprintf(w->records, "%s%.*s", h ? "," : "", (int)r->headers[h].key.len,
                    r->headers[h].key.ptr);
        fputc('\n', w->records);
    }
}

enum { MAX_RECS = 64 };

/* One data batch of n records (keys, values and headers vary with i). */
static void data_batch(writer_state *w, od_batch_params p, int n, const char *tag)
{
    static char keys[MAX_RECS][48], vals[MAX_RECS][400];
    static od_record_header hdrs[MAX_RECS][3];
    static char hvals[MAX_RECS][3][24];
    od_builder_record recs[MAX_RECS];
    for (int i = 0; i < n; i++) {
        uint32_t r = rnd(w);
        od_builder_record *rec = &recs[i];
        memset(rec, 0, sizeof *rec);
        snprintf(keys[i], sizeof keys[i], "%s-%" PRId64 "-%d", tag, od_log_end_offset(w->log), i);
        rec->key = r % 13 == 1 ? (od_bytes){NULL, -1} : (od_bytes){(const uint8_t *)keys[i], (int32_t)strlen(keys[i])};
        /* Repetitive text, so every codec has something to squeeze. */
        size_t vl = 0;
        int words = (int)(r % 20);
        for (int k = 0; k < words && vl + 24 < sizeof vals[i]; k++)
            vl += (size_t)snprintf(vals[i] + vl, sizeof vals[i] - vl, "%s value %d ", tag, k);
        if (r % 17 == 3)
            rec->value = (od_bytes){NULL, -1};
        else
            rec->value = (od_bytes){(const uint8_t *)vals[i], (int32_t)vl};
        /* A few timestamps step back, as producers write them. */
        rec->timestamp = w->ts + (r % 19 == 0 ? -3000 : 0);
        w->ts += 7;
        int nh = (int)(r % 4);
        for (int h = 0; h < nh && h < 3; h++) {
            hdrs[i][h].key = od_str_from_cstr(h == 0 ? "trace" : h == 1 ? "origin" : "empty");
            snprintf(hvals[i][h], sizeof hvals[i][h], "hv-%u", r % 1000);
            hdrs[i][h].value = h == 2 ? (od_bytes){NULL, -1}
                                      : (od_bytes){(const uint8_t *)hvals[i][h], (int32_t)strlen(hvals[i][h])};
        }
        rec->headers = hdrs[i];
        rec->header_count = nh < 3 ? nh : 3;
    }
    od_writer set;
    od_writer_init(&set, 4096);
    od_batch_err be = od_batch_build(&p, recs, n, &set);
    if (be != OD_BATCH_OK) {
        fail("batch build: %s", od_batch_err_name(be));
        exit(1);
    }
    append(w, &set, &p, n, recs, false, OD_CONTROL_COMMIT, 0);
    od_writer_free(&set);
}

static void marker(writer_state *w, int64_t pid, int16_t pepoch, od_control_type type)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.producer_id = pid;
    p.producer_epoch = pepoch;
    p.partition_leader_epoch = w->epoch;
    od_writer set;
    od_writer_init(&set, 128);
    int32_t coord = 3;
    if (od_control_batch_build(&p, type, coord, w->ts, &set) != OD_BATCH_OK) {
        fail("control batch build");
        exit(1);
    }
    p.transactional = true;
    append(w, &set, &p, 1, NULL, true, type, coord);
    od_writer_free(&set);
}

static int cmd_write(const char *log_dir, const char *expect_dir)
{
    mkdir(log_dir, 0755);
    mkdir(expect_dir, 0755);
    od_log_config cfg;
    od_log_config_default(&cfg);
    /* Small segments and a small index interval: many segments, snapshots
     * and index entries for Kafka to check. */
    cfg.segment_bytes = 16384;
    cfg.index_interval_bytes = 1024;
    cfg.segment_index_bytes = 64 * 1024;
    cfg.retention_ms = -1;
    od_log_open_args a = {0};
    a.io = od_fio_posix();
    a.log_dir = log_dir;
    a.topic = "odw";
    a.partition = 0;
    a.config = &cfg;
    a.had_clean_shutdown = true;
    a.log_start_offset = -1;
    a.now_ms = 1700000000000;
    a.cleaner_offset = -1;
    writer_state w = {0};
    w.now_ms = a.now_ms;
    w.ts = 1700000000000;
    w.rng = 0x9E3779B97F4A7C15ull;
    od_st_err err = od_log_open(&a, &w.log, NULL);
    if (err) {
        fail("open: %s", od_st_err_name(err));
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/batches", expect_dir);
    w.batches = fopen(path, "w");
    snprintf(path, sizeof path, "%s/records", expect_dir);
    w.records = fopen(path, "w");
    if (!w.batches || !w.records) {
        fail("cannot write to %s", expect_dir);
        return 1;
    }

    int32_t idem_seq = 0, txa_seq = 0, txb_seq = 0;
    for (int pass = 0; pass < 3; pass++) {
        w.epoch = pass; /* a new leader epoch per pass: leader-epoch-checkpoint has three entries */
        if (pass == 2) {
            /* The topic switches to message.timestamp.type=LogAppendTime, as an
             * AlterConfigs can do: the last pass carries the broker's stamps. */
            cfg.log_append_time = true;
            od_log_set_config(w.log, &cfg);
        }
        for (int c = 0; c < 5; c++) {
            for (int k = 0; k < 4; k++) {
                od_batch_params p = OD_BATCH_PARAMS_INIT;
                p.compression = (od_compression)c;
                data_batch(&w, p, 1 + (int)(rnd(&w) % 40), codec_names[c]);
                /* An idempotent producer, alternating codecs. */
                p.producer_id = 1000;
                p.producer_epoch = 0;
                p.base_sequence = idem_seq;
                int n = 1 + (int)(rnd(&w) % 20);
                idem_seq += n;
                data_batch(&w, p, n, "idem");
            }
        }
        /* Two transactional producers with overlapping transactions. */
        for (int t = 0; t < 6; t++) {
            od_batch_params pa = OD_BATCH_PARAMS_INIT, pb = OD_BATCH_PARAMS_INIT;
            pa.producer_id = 2000;
            pa.producer_epoch = 1;
            pa.transactional = true;
            pa.compression = OD_COMPRESSION_GZIP;
            pb.producer_id = 2001;
            pb.producer_epoch = 4;
            pb.transactional = true;
            pb.compression = OD_COMPRESSION_SNAPPY;
            for (int k = 0; k < 3; k++) {
                pa.base_sequence = txa_seq;
                int n = 1 + (int)(rnd(&w) % 10);
                txa_seq += n;
                data_batch(&w, pa, n, "txa");
                pb.base_sequence = txb_seq;
                n = 1 + (int)(rnd(&w) % 10);
                txb_seq += n;
                data_batch(&w, pb, n, "txb");
                od_batch_params plain = OD_BATCH_PARAMS_INIT;
                plain.compression = OD_COMPRESSION_LZ4;
                data_batch(&w, plain, 3, "plain");
            }
            marker(&w, 2000, 1, t % 2 ? OD_CONTROL_ABORT : OD_CONTROL_COMMIT);
            marker(&w, 2001, 4, t % 3 ? OD_CONTROL_COMMIT : OD_CONTROL_ABORT);
        }
        /* An explicit roll too, as segment.ms would cause. */
        if ((err = od_log_roll(w.log, w.now_ms))) {
            fail("roll: %s", od_st_err_name(err));
            return 1;
        }
        w.now_ms += 60000;
    }
    od_log_set_high_watermark(w.log, od_log_end_offset(w.log));

    snprintf(path, sizeof path, "%s/aborted", expect_dir);
    FILE *ab = fopen(path, "w");
    snprintf(path, sizeof path, "%s/producers", expect_dir);
    FILE *pr = fopen(path, "w");
    if (!ab || !pr) {
        fail("cannot write to %s", expect_dir);
        return 1;
    }
    for (size_t i = 0; i < od_log_segment_count(w.log); i++) {
        od_segment *s = od_log_segment_at(w.log, i);
        if ((err = od_segment_txn_load(s))) {
            fail("txn load: %s", od_st_err_name(err));
            continue;
        }
        for (uint32_t k = 0; k < s->txn_n; k++)
            fprintf(ab, "%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", s->base_offset,
                    s->txn[k].producer_id, s->txn[k].first_offset, s->txn[k].last_offset,
                    s->txn[k].last_stable_offset);
    }
    const od_pstate *ps = od_log_producer_state(w.log);
    for (size_t i = 0; i < ps->n; i++) {
        const od_producer_entry *e = &ps->e[i];
        const od_producer_batch *b = &e->batches[e->nbatches ? e->nbatches - 1 : 0];
        fprintf(pr, "%" PRId64 " %d %d %" PRId64 " %" PRId64 "\n", e->producer_id, e->epoch,
                e->nbatches ? b->last_seq : -1, e->nbatches ? b->last_offset : -1, e->txn_first_offset);
    }
    fprintf(stderr, "wrote %" PRId64 " offsets in %zu segments\n", od_log_end_offset(w.log),
            od_log_segment_count(w.log));
    fclose(ab);
    fclose(pr);
    fclose(w.batches);
    fclose(w.records);
    if ((err = od_log_close(w.log, true))) {
        fail("close: %s", od_st_err_name(err));
        return 1;
    }
    return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ read */

static void put_hex(FILE *f, const uint8_t *p, int32_t len)
{
    if (len < 0) {
        fputs("null", f);
        return;
    }
    fputc('x', f);
    for (int32_t i = 0; i < len; i++)
        fprintf(f, "%02x", p[i]);
}

typedef struct aborted_list {
    od_aborted_txn *a;
    size_t n, cap;
} aborted_list;

static void collect_aborted(void *ctx, const od_aborted_txn *t)
{
    aborted_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->a = realloc(l->a, l->cap * sizeof *l->a);
        if (!l->a)
            abort();
    }
    l->a[l->n++] = *t;
}

typedef struct read_ctx {
    FILE *all, *committed;
    const aborted_list *aborted;
    int64_t next_offset; /* offsets must grow */
    int64_t *offsets;    /* every record offset, for the lookups */
    size_t noffsets, cap;
} read_ctx;

/* A consumer in read_committed skips a transactional batch of a producer
 * from an aborted transaction's first offset up to its marker. */
static bool is_aborted(const read_ctx *c, const od_batch_header *h)
{
    if (!od_batch_is_transactional(h))
        return false;
    for (size_t i = 0; i < c->aborted->n; i++) {
        const od_aborted_txn *t = &c->aborted->a[i];
        if (t->producer_id == h->producer_id && h->base_offset >= t->first_offset &&
            h->base_offset <= t->last_offset)
            return true;
    }
    return false;
}

static od_st_err on_batch(void *ctx, const uint8_t *batch, size_t len, const od_batch_header *h)
{
    read_ctx *c = ctx;
    if (h->base_offset < c->next_offset)
        fail("batch at %" PRId64 " does not follow %" PRId64, h->base_offset, c->next_offset);
    c->next_offset = od_batch_last_offset(h) + 1;
    if (od_batch_is_control(h))
        return OD_ST_OK;
    bool skip = is_aborted(c, h);
    od_record_iter it;
    od_record rec;
    od_record_iter_init(&it, batch, len, 64u << 20);
    while (od_record_iter_next(&it, &rec)) {
        for (int pass = 0; pass < 2; pass++) {
            FILE *f = pass ? c->committed : c->all;
            if (pass && skip)
                continue;
            fprintf(f, "%" PRId64 " %" PRId64 " ", rec.offset, rec.timestamp);
            put_hex(f, rec.key.ptr, rec.key.len);
            fputc(' ', f);
            put_hex(f, rec.value.ptr, rec.value.len);
            fputs(" [", f);
            od_header_iter hi;
            od_record_header hd;
            od_header_iter_init(&hi, &rec);
            for (int n = 0; od_header_iter_next(&hi, &hd); n++) {
                if (n)
                    fputc(',', f);
                put_hex(f, (const uint8_t *)hd.key.ptr, hd.key.len);
                fputc('=', f);
                put_hex(f, hd.value.ptr, hd.value.len);
            }
            fputs("]\n", f);
        }
        if (c->noffsets == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 1024;
            c->offsets = realloc(c->offsets, c->cap * sizeof *c->offsets);
            if (!c->offsets)
                abort();
        }
        c->offsets[c->noffsets++] = rec.offset;
    }
    if (it.err != OD_BATCH_OK)
        fail("records of batch %" PRId64 ": %s", h->base_offset, od_batch_err_name(it.err));
    od_record_iter_finish(&it);
    return OD_ST_OK;
}

/* Kafka's index file as written: big-endian entries, trimmed at roll. The
 * active segment's file is preallocated; its zero tail is not entries. */
static void compare_offset_index(od_segment *s, const char *dir)
{
    char name[64], path[4200];
    od_segment_file_name(name, sizeof name, s->base_offset, ".index");
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail("%s: %s", path, strerror(errno));
        return;
    }
    uint8_t e[8];
    uint32_t n = 0;
    while (fread(e, 1, 8, f) == 8) {
        uint32_t rel = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3];
        uint32_t pos = (uint32_t)e[4] << 24 | (uint32_t)e[5] << 16 | (uint32_t)e[6] << 8 | e[7];
        if (rel == 0 && pos == 0) /* preallocated tail; Kafka never indexes the first batch */
            break;
        if (n >= s->oidx_n || s->oidx[n].rel_offset != rel || s->oidx[n].position != pos) {
            fail("%s entry %u: Kafka has (%u, %u), Odradek loaded %s", path, n, rel, pos,
                 n >= s->oidx_n ? "fewer entries" : "a different one");
            break;
        }
        n++;
    }
    if (n != s->oidx_n)
        fail("%s: Kafka wrote %u entries, Odradek holds %u", path, n, s->oidx_n);
    fclose(f);
}

static void compare_time_index(od_segment *s, const char *dir)
{
    char name[64], path[4200];
    od_segment_file_name(name, sizeof name, s->base_offset, ".timeindex");
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail("%s: %s", path, strerror(errno));
        return;
    }
    uint8_t e[12];
    uint32_t n = 0;
    while (fread(e, 1, 12, f) == 12) {
        int64_t ts = 0;
        for (int i = 0; i < 8; i++)
            ts = (int64_t)((uint64_t)ts << 8 | e[i]);
        uint32_t rel = (uint32_t)e[8] << 24 | (uint32_t)e[9] << 16 | (uint32_t)e[10] << 8 | e[11];
        if (ts == 0 && rel == 0)
            break;
        if (n >= s->tidx_n || s->tidx[n].timestamp != ts || s->tidx[n].rel_offset != rel) {
            fail("%s entry %u: Kafka has (%" PRId64 ", %u), Odradek loaded %s", path, n, ts, rel,
                 n >= s->tidx_n ? "fewer entries" : "a different one");
            break;
        }
        n++;
    }
    if (n != s->tidx_n)
        fail("%s: Kafka wrote %u entries, Odradek holds %u", path, n, s->tidx_n);
    fclose(f);
}

typedef enum read_mode { READ_CLEAN, READ_RECOVER, READ_CRASHED } read_mode;

static int cmd_read(const char *log_dir, const char *topic, const char *prefix, read_mode mode,
                    const char *times_file, const char *orig_dir)
{
    bool recover = mode == READ_RECOVER;
    od_log_config cfg;
    od_log_config_default(&cfg);
    /* The topics' configs on the Kafka side (kafka-to-od.sh), so indexes
     * rebuilt by a recovery can be held to Kafka's entry for entry. */
    cfg.segment_bytes = 16384;
    cfg.index_interval_bytes = 1024;
    od_logdir *ld = NULL;
    od_log *log = NULL;
    od_log_recovery_stats st = {0};
    od_st_err err;
    if (recover) {
        od_log_open_args a = {0};
        a.io = od_fio_posix();
        a.log_dir = log_dir;
        a.topic = topic;
        a.partition = 0;
        a.config = &cfg;
        a.had_clean_shutdown = false;
        a.recovery_point = 0;
        a.log_start_offset = -1;
        a.cleaner_offset = -1;
        a.now_ms = 1700000000000;
        err = od_log_open(&a, &log, &st);
        if (!err && (st.bytes_truncated != 0 || st.segments_deleted != 0))
            fail("recovery of Kafka's %s-0 cut %" PRId64 " bytes and deleted %d segments", topic,
                 st.bytes_truncated, st.segments_deleted);
        if (!err && st.segments_recovered != (int32_t)od_log_segment_count(log))
            fail("recovery re-validated %d of %zu segments", st.segments_recovered,
                 od_log_segment_count(log));
    } else {
        err = od_logdir_open(od_fio_posix(), log_dir, 64, &ld);
        if (err) {
            fail("od_logdir_open %s: %s", log_dir, od_st_err_name(err));
            return 1;
        }
        if (mode == READ_CLEAN && !od_logdir_had_clean_shutdown(ld))
            fail("Kafka's clean-shutdown marker was not recognised");
        if (mode == READ_CRASHED && od_logdir_had_clean_shutdown(ld))
            fail("a clean shutdown seen after Kafka was killed");
        err = od_logdir_open_log(ld, topic, 0, &cfg, 1700000000000, &log, &st);
        if (!err && mode == READ_CLEAN && st.segments_recovered != 0)
            fail("a clean start re-validated %d segments", st.segments_recovered);
        if (!err && mode == READ_CRASHED &&
            (st.segments_recovered < 1 || st.bytes_truncated != 0 || st.segments_deleted != 0))
            fail("start after Kafka was killed: %d segments re-validated, %" PRId64
                 " bytes cut, %d segments deleted",
                 st.segments_recovered, st.bytes_truncated, st.segments_deleted);
    }
    if (err) {
        fail("open %s-0: %s", topic, od_st_err_name(err));
        return 1;
    }
    int64_t leo = od_log_end_offset(log);
    /* Kafka writes its high-watermark checkpoint every few seconds, so only a
     * clean shutdown promises it is current. */
    if (mode != READ_CLEAN)
        od_log_set_high_watermark(log, leo);
    else if (od_log_high_watermark(log) != leo)
        fail("high watermark %" PRId64 " from Kafka's checkpoint, log end %" PRId64,
             od_log_high_watermark(log), leo);
    if (od_log_last_stable_offset(log) != leo)
        fail("last stable offset %" PRId64 ", expected the log end %" PRId64,
             od_log_last_stable_offset(log), leo);

    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s-0", log_dir, topic);
    size_t nseg = od_log_segment_count(log);
    for (size_t i = 0; i < nseg; i++) {
        od_segment *s = od_log_segment_at(log, i);
        if ((err = od_segment_load_index(s))) {
            fail("segment %" PRId64 ": index load: %s", s->base_offset, od_st_err_name(err));
            continue;
        }
        char why[256] = "";
        if (od_segment_verify(s, why, sizeof why) != OD_ST_OK)
            fail("segment %" PRId64 ": %s", s->base_offset, why);
        /* Loaded or rebuilt by a recovery, the indexes must be Kafka's. A
         * rebuilt index has replaced Kafka's file, so compare with the copy
         * taken before the open. */
        compare_offset_index(s, orig_dir ? orig_dir : dir);
        compare_time_index(s, orig_dir ? orig_dir : dir);
    }

    aborted_list ab = {0};
    if ((err = od_log_collect_aborted(log, od_log_start_offset(log), leo, collect_aborted, &ab)))
        fail("collect aborted: %s", od_st_err_name(err));
    FILE *fa = open_out(prefix, ".aborted");
    for (size_t i = 0; i < ab.n; i++)
        fprintf(fa, "%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", ab.a[i].producer_id,
                ab.a[i].first_offset, ab.a[i].last_offset, ab.a[i].last_stable_offset);
    fclose(fa);

    read_ctx c = {0};
    c.all = open_out(prefix, ".records");
    c.committed = open_out(prefix, ".committed");
    c.aborted = &ab;
    for (size_t i = 0; i < nseg; i++) {
        od_segment *s = od_log_segment_at(log, i);
        if ((err = od_segment_for_each_batch(s, 0, on_batch, &c)))
            fail("segment %" PRId64 ": %s", s->base_offset, od_st_err_name(err));
    }
    fclose(c.all);
    fclose(c.committed);
    if (c.next_offset != leo)
        fail("batches end at %" PRId64 ", log end offset is %" PRId64, c.next_offset, leo);

    /* Every offset found through the index, as a Fetch would. */
    for (size_t i = 0; i < c.noffsets; i++) {
        od_log_read_result r;
        int64_t o = c.offsets[i];
        err = od_log_read(log, o, 1, -1, true, &r);
        if (err || r.region.length < OD_BATCH_HEADER_SIZE) {
            fail("read at %" PRId64 ": %s, %" PRId64 " bytes", o, od_st_err_name(err),
                 err ? 0 : r.region.length);
            if (!err)
                od_log_read_release(log, &r);
            continue;
        }
        uint8_t hb[OD_BATCH_HEADER_SIZE];
        od_batch_header h;
        if (pread(r.region.fd, hb, sizeof hb, r.region.position) != (ssize_t)sizeof hb ||
            od_batch_header_parse(hb, sizeof hb, &h) != OD_BATCH_OK || h.base_offset > o ||
            od_batch_last_offset(&h) < o)
            fail("read at %" PRId64 " returned a region that does not hold it", o);
        od_log_read_release(log, &r);
    }

    FILE *fp = open_out(prefix, ".producers");
    const od_pstate *ps = od_log_producer_state(log);
    for (size_t i = 0; i < ps->n; i++) {
        const od_producer_entry *e = &ps->e[i];
        const od_producer_batch *b = &e->batches[e->nbatches ? e->nbatches - 1 : 0];
        fprintf(fp, "%" PRId64 " %d %d %" PRId64 " %" PRId64 "\n", e->producer_id, e->epoch,
                e->nbatches ? b->last_seq : -1, e->nbatches ? b->last_offset : -1, e->txn_first_offset);
    }
    fclose(fp);

    if (times_file) {
        FILE *in = fopen(times_file, "r");
        FILE *out = open_out(prefix, ".times");
        long long t, ko, kts;
        while (in && fscanf(in, "%lld %lld %lld", &t, &ko, &kts) == 3) {
            int64_t off = -1, fts = -1;
            if ((err = od_log_offset_for_timestamp(log, t, &off, &fts)))
                fail("offset for timestamp %lld: %s", t, od_st_err_name(err));
            fprintf(out, "%lld %" PRId64 " %" PRId64 "\n", t, off, off < 0 ? -1 : fts);
        }
        if (in)
            fclose(in);
        fclose(out);
    }

    fprintf(stderr, "%s-0: %zu segments, log end %" PRId64 ", %zu records, %zu aborted transactions%s\n",
            topic, nseg, leo, c.noffsets, ab.n,
            mode == READ_RECOVER ? " (recovered from 0)" : mode == READ_CRASHED ? " (after a kill)" : "");
    free(c.offsets);
    free(ab.a);
    /* Not clean: nothing is written back into Kafka's files. */
    if (ld)
        od_logdir_abandon(ld);
    else
        od_log_close(log, false);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "write") == 0)
        return cmd_write(argv[2], argv[3]);
    if (argc >= 5 && strcmp(argv[1], "read") == 0) {
        read_mode mode = READ_CLEAN;
        const char *times = NULL, *orig = NULL;
        for (int i = 5; i < argc; i++) {
            if (strcmp(argv[i], "recover") == 0)
                mode = READ_RECOVER;
            else if (strcmp(argv[i], "crashed") == 0)
                mode = READ_CRASHED;
            else if (strncmp(argv[i], "orig=", 5) == 0)
                orig = argv[i] + 5;
            else
                times = argv[i];
        }
        return cmd_read(argv[2], argv[3], argv[4], mode, times, orig);
    }
    fprintf(stderr, "usage: od_storage_compat write LOG_DIR EXPECT_DIR\n"
                    "       od_storage_compat read LOG_DIR TOPIC OUT_PREFIX [recover|crashed] [TIMES_FILE] [orig=DIR]\n");
    return 2;
}
