/*
 * od_codec_tool: Odradek's half of the differential codec test. The Java
 * half (src/main/java/.../Main.java) runs it as a child process, over files,
 * and does every comparison itself; this tool only decodes, encodes and
 * prints, so a disagreement is always judged by the same code.
 *
 * Commands:
 *   list                      one line per message: "name min_version max_version"
 *   reencode IN OUT           decode each frame of IN, encode it again, write one result per frame
 *   random SEED N OUT         N randomly filled messages per (message, version), as frames
 *   batch-decode IN OUT       every batch in IN (raw log bytes) printed canonically
 *   batch-build IN OUT        batches described canonically in IN, built and written raw
 *   legacy-decode IN OUT      every record of a magic 0/1 message set, flattened, one line each
 *   legacy-build IN OUT       a magic 0/1 message set from "legacy", "wrapper" and "inner" lines
 *
 * Frame (all integers big-endian): u16 name length | name | i16 version | i32 length | bytes.
 * Result: u8 status (0 ok, 1 error) | i32 length | bytes (re-encoding or error text).
 * Results are flushed one by one, so a crash on one frame loses nothing before it.
 *
 * Canonical batch text, shared with the Java side, one line per batch and per record:
 *   batch base=B last=L magic=M codec=C tstype=create|append|none maxts=T pid=P epoch=E
 *         seq=S txn=0|1 control=0|1 leader=LE count=N
 *   record offset=O ts=T key=HEX|null value=HEX|null headers=KHEX:VHEX|KHEX:null,...
 * Empty bytes are an empty HEX. Legacy records (wrappers flattened) print as
 *   legacy offset=O magic=M codec=C tstype=create|append|none ts=T key=HEX|null value=HEX|null
 * where codec is the wrapper's and tstype is "none" for magic 0. legacy-build
 * reads such lines (codec=none) as plain messages, and
 *   wrapper magic=M codec=C tstype=create|append ts=T
 *   inner offset=O ts=T key=HEX|null value=HEX|null      (one or more)
 * as one compressed wrapper holding the inner messages that follow it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "od_messages.h"
#include "od_messages_testing.h"
#include "records/batch_builder.h"
#include "records/compression.h"
#include "records/legacy.h"
#include "records/record_batch.h"
#include "records/records.h"
#include "wire.h"

/* Large enough for any batch the Java side builds; a bound, not a guess at real sizes. */
#define DECOMPRESS_LIMIT ((size_t)64 << 20)

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "od_codec_tool: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

/* Reads a whole file into a malloc'd buffer (NUL-terminated for text use). */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s", path);
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap + 1);
    for (;;) {
        if (!buf)
            die("out of memory reading %s", path);
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap + 1);
    }
    if (ferror(f))
        die("cannot read %s", path);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot create %s", path);
    return f;
}

static void put_be16(FILE *f, uint16_t v)
{
    uint8_t b[2];
    od_store_be16(b, v);
    fwrite(b, 1, 2, f);
}

static void put_be32(FILE *f, uint32_t v)
{
    uint8_t b[4];
    od_store_be32(b, v);
    fwrite(b, 1, 4, f);
}

static void put_result(FILE *f, int status, const void *data, size_t len)
{
    fputc(status, f);
    put_be32(f, (uint32_t)len);
    fwrite(data, 1, len, f);
    fflush(f);
}

static void put_error(FILE *f, const char *text)
{
    put_result(f, 1, text, strlen(text));
}

/* ------------------------------------------------------------------ messages */

static int cmd_list(void)
{
    for (size_t i = 0; i < od_message_desc_count; i++) {
        const od_message_desc *d = &od_message_descs[i];
        printf("%s %d %d\n", d->name, d->min_version, d->max_version);
    }
    return 0;
}

/* Decodes `len` bytes as `d` at `version` and encodes again into `w`.
 * Returns NULL on success, else a description of what failed (in `why`). */
static const char *reencode_one(const od_message_desc *d, int16_t version, const uint8_t *bytes, size_t len,
                                od_writer *w, char *why, size_t why_len)
{
    if (version < d->min_version || version > d->max_version) {
        snprintf(why, why_len, "version %d outside Odradek's %d..%d", version, d->min_version,
                 d->max_version);
        return why;
    }
    od_arena arena;
    od_arena_init(&arena);
    void *m = od_arena_calloc(&arena, 1, d->struct_size);
    const char *ret = NULL;
    if (!m) {
        snprintf(why, why_len, "out of memory");
        ret = why;
        goto out;
    }
    d->init(m);
    od_reader r;
    od_reader_init(&r, bytes, len, &arena);
    od_wire_err err = d->decode(m, &r, version);
    if (err == OD_WIRE_OK)
        err = r.err;
    if (err != OD_WIRE_OK) {
        snprintf(why, why_len, "decode failed: %s at byte %zu of %zu", od_wire_err_name(err),
                 od_reader_offset(&r), len);
        ret = why;
        goto out;
    }
    if (od_reader_remaining(&r) != 0) {
        snprintf(why, why_len, "decode left %zu of %zu bytes unread", od_reader_remaining(&r), len);
        ret = why;
        goto out;
    }
    size_t predicted = d->size(m, version);
    err = d->encode(m, w, version);
    if (err == OD_WIRE_OK)
        err = w->err;
    if (err != OD_WIRE_OK) {
        snprintf(why, why_len, "encode failed: %s", od_wire_err_name(err));
        ret = why;
        goto out;
    }
    if (predicted != w->len) {
        snprintf(why, why_len, "size() said %zu bytes but encode wrote %zu", predicted, w->len);
        ret = why;
    }
out:
    od_arena_release(&arena);
    return ret;
}

static int cmd_reencode(const char *in_path, const char *out_path)
{
    size_t len;
    uint8_t *buf = slurp(in_path, &len);
    FILE *out = open_out(out_path);
    od_reader r;
    od_reader_init(&r, buf, len, NULL);
    char why[512];
    char name[256];
    while (od_reader_remaining(&r) > 0) {
        uint16_t name_len = od_read_u16(&r);
        const uint8_t *name_bytes = od_read_raw(&r, name_len);
        int16_t version = od_read_i16(&r);
        int32_t n = od_read_i32(&r);
        const uint8_t *bytes = n >= 0 ? od_read_raw(&r, (size_t)n) : NULL;
        if (r.err != OD_WIRE_OK || n < 0)
            die("%s: malformed frame file", in_path);
        if (name_len >= sizeof name) {
            put_error(out, "message name too long");
            continue;
        }
        memcpy(name, name_bytes, name_len);
        name[name_len] = 0;
        const od_message_desc *d = od_message_desc_find(name);
        if (!d) {
            snprintf(why, sizeof why, "Odradek has no message named %s", name);
            put_error(out, why);
            continue;
        }
        od_writer w;
        od_writer_init(&w, (size_t)n + 64);
        const char *fail = reencode_one(d, version, bytes, (size_t)n, &w, why, sizeof why);
        if (fail)
            put_error(out, fail);
        else
            put_result(out, 0, w.buf, w.len);
        od_writer_free(&w);
    }
    fclose(out);
    free(buf);
    return 0;
}

static void put_frame(FILE *f, const char *name, int16_t version, const uint8_t *data, size_t len)
{
    size_t n = strlen(name);
    put_be16(f, (uint16_t)n);
    fwrite(name, 1, n, f);
    put_be16(f, (uint16_t)version);
    put_be32(f, (uint32_t)len);
    fwrite(data, 1, len, f);
}

static int cmd_random(const char *seed_arg, const char *count_arg, const char *out_path)
{
    uint64_t seed = strtoull(seed_arg, NULL, 0);
    long count = strtol(count_arg, NULL, 0);
    FILE *out = open_out(out_path);
    int failures = 0;
    for (size_t i = 0; i < od_message_desc_count; i++) {
        const od_message_desc *d = &od_message_descs[i];
        od_message_fill_random_fn fill = od_message_fill_random(d);
        if (!fill) {
            fprintf(stderr, "%s: no random filler\n", d->name);
            failures++;
            continue;
        }
        for (int v = d->min_version; v <= d->max_version; v++) {
            for (long s = 0; s < count; s++) {
                /* One stream per (message, version, sample), so a failure replays alone. */
                od_rng rng;
                od_rng_seed(&rng, seed ^ ((uint64_t)i << 40) ^ ((uint64_t)v << 24) ^ (uint64_t)s);
                od_arena arena;
                od_arena_init(&arena);
                void *m = od_arena_calloc(&arena, 1, d->struct_size);
                if (!m)
                    die("%s", "out of memory");
                d->init(m);
                fill(m, (int16_t)v, &rng, &arena);
                od_writer w;
                od_writer_init(&w, 256);
                size_t predicted = d->size(m, (int16_t)v);
                od_wire_err err = d->encode(m, &w, (int16_t)v);
                if (err == OD_WIRE_OK)
                    err = w.err;
                if (err != OD_WIRE_OK) {
                    fprintf(stderr, "%s v%d sample %ld: encode of random content failed: %s\n", d->name, v,
                            s, od_wire_err_name(err));
                    failures++;
                } else {
                    if (predicted != w.len) {
                        fprintf(stderr, "%s v%d sample %ld: size() said %zu, encode wrote %zu\n", d->name, v,
                                s, predicted, w.len);
                        failures++;
                    }
                    put_frame(out, d->name, (int16_t)v, w.buf, w.len);
                }
                od_writer_free(&w);
                od_arena_release(&arena);
            }
        }
    }
    fclose(out);
    return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ batches */

static const char *codec_name(int codec)
{
    switch (codec) {
    case OD_COMPRESSION_NONE: return "none";
    case OD_COMPRESSION_GZIP: return "gzip";
    case OD_COMPRESSION_SNAPPY: return "snappy";
    case OD_COMPRESSION_LZ4: return "lz4";
    case OD_COMPRESSION_ZSTD: return "zstd";
    default: return "unknown";
    }
}

static void print_hex(FILE *f, const uint8_t *p, int32_t len)
{
    if (len < 0) {
        fputs("null", f);
        return;
    }
    for (int32_t i = 0; i < len; i++)
        fprintf(f, "%02x", p[i]);
}

static void print_record(FILE *f, const od_record *rec)
{
    fprintf(f, "record offset=%" PRId64 " ts=%" PRId64 " key=", rec->offset, rec->timestamp);
    print_hex(f, rec->key.ptr, rec->key.len);
    fputs(" value=", f);
    print_hex(f, rec->value.ptr, rec->value.len);
    fputs(" headers=", f);
    od_header_iter hi;
    od_header_iter_init(&hi, rec);
    od_record_header h;
    for (int i = 0; od_header_iter_next(&hi, &h); i++) {
        if (i)
            fputc(',', f);
        print_hex(f, (const uint8_t *)h.key.ptr, h.key.len);
        fputc(':', f);
        print_hex(f, h.value.ptr, h.value.len);
    }
    fputc('\n', f);
}

/* Prints one v2 batch; returns false (after printing an "error" line) when Odradek rejects it. */
static bool decode_v2(FILE *f, const uint8_t *batch, size_t len)
{
    od_record_iter it;
    od_batch_err err = od_record_iter_init(&it, batch, len, DECOMPRESS_LIMIT);
    if (err != OD_BATCH_OK) {
        fprintf(f, "error batch rejected: %s\n", od_batch_err_name(err));
        od_record_iter_finish(&it);
        return false;
    }
    const od_batch_header *h = &it.header;
    fprintf(f,
            "batch base=%" PRId64 " last=%" PRId64 " magic=%d codec=%s tstype=%s maxts=%" PRId64
            " pid=%" PRId64 " epoch=%d seq=%d txn=%d control=%d leader=%d count=%d\n",
            h->base_offset, od_batch_last_offset(h), h->magic, codec_name(od_batch_compression(h)),
            (h->attributes & OD_BATCH_ATTR_LOG_APPEND_TIME) ? "append" : "create", h->max_timestamp,
            h->producer_id, h->producer_epoch, h->base_sequence, od_batch_is_transactional(h),
            od_batch_is_control(h), h->partition_leader_epoch, h->record_count);
    od_record rec;
    while (od_record_iter_next(&it, &rec))
        print_record(f, &rec);
    bool ok = it.err == OD_BATCH_OK;
    if (!ok)
        fprintf(f, "error records rejected: %s\n", od_batch_err_name(it.err));
    od_record_iter_finish(&it);
    return ok;
}

static int cmd_legacy_decode(const char *in_path, const char *out_path)
{
    size_t len;
    uint8_t *buf = slurp(in_path, &len);
    FILE *out = open_out(out_path);
    od_legacy_iter it;
    od_legacy_iter_init(&it, buf, len, DECOMPRESS_LIMIT);
    od_legacy_record rec;
    while (od_legacy_iter_next(&it, &rec)) {
        const char *tstype = rec.magic == 0 ? "none" : rec.log_append_time ? "append" : "create";
        fprintf(out, "legacy offset=%" PRId64 " magic=%d codec=%s tstype=%s ts=%" PRId64 " key=", rec.offset,
                rec.magic, codec_name(rec.wrapper_compression), tstype, rec.timestamp);
        print_hex(out, rec.key.ptr, rec.key.len);
        fputs(" value=", out);
        print_hex(out, rec.value.ptr, rec.value.len);
        fputc('\n', out);
    }
    int rc = 0;
    if (it.err != OD_BATCH_OK) {
        fprintf(out, "error message set rejected: %s\n", od_batch_err_name(it.err));
        rc = 1;
    }
    od_legacy_iter_finish(&it);
    fclose(out);
    free(buf);
    return rc;
}

static int cmd_batch_decode(const char *in_path, const char *out_path)
{
    size_t len;
    uint8_t *buf = slurp(in_path, &len);
    FILE *out = open_out(out_path);
    size_t at = 0;
    int rc = 0;
    while (at < len) {
        size_t total = od_batch_total_size(buf + at, len - at);
        if (total == 0 || total > len - at) {
            fprintf(out, "error truncated batch at byte %zu\n", at);
            rc = 1;
            break;
        }
        int magic = len - at > OD_BATCH_MAGIC_AT ? buf[at + OD_BATCH_MAGIC_AT] : -1;
        if (magic != 2) {
            fprintf(out, "error magic %d at byte %zu: batch-decode reads v2 only\n", magic, at);
            rc = 1;
            break;
        }
        if (!decode_v2(out, buf + at, total))
            rc = 1;
        at += total;
    }
    fclose(out);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------- canonical text in */

/* Value of `key=` in a space-separated line, copied into `out`; false when absent. */
static bool field(const char *line, const char *key, char *out, size_t out_len)
{
    size_t klen = strlen(key);
    for (const char *p = line; (p = strstr(p, key)) != NULL; p++) {
        if ((p == line || p[-1] == ' ') && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = strcspn(v, " \n");
            if (n >= out_len)
                return false;
            memcpy(out, v, n);
            out[n] = 0;
            return true;
        }
    }
    return false;
}

static int64_t field_i64(const char *line, const char *key, int64_t dflt)
{
    char v[64];
    return field(line, key, v, sizeof v) ? strtoll(v, NULL, 10) : dflt;
}

/* Decodes hex (or "null") into arena memory. */
static od_bytes unhex(const char *s, size_t n, od_arena *arena)
{
    if (n == 4 && memcmp(s, "null", 4) == 0)
        return OD_BYTES_NULL;
    uint8_t *p = od_arena_alloc(arena, n / 2 + 1);
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned v;
        char pair[3] = {s[i], s[i + 1], 0};
        sscanf(pair, "%2x", &v);
        p[i / 2] = (uint8_t)v;
    }
    return (od_bytes){p, (int32_t)(n / 2)};
}

static od_bytes field_bytes(const char *line, const char *key, od_arena *arena)
{
    size_t klen = strlen(key);
    for (const char *p = line; (p = strstr(p, key)) != NULL; p++) {
        if ((p == line || p[-1] == ' ') && p[klen] == '=') {
            const char *v = p + klen + 1;
            return unhex(v, strcspn(v, " \n"), arena);
        }
    }
    return OD_BYTES_NULL;
}

static int parse_codec(const char *s)
{
    for (int c = OD_COMPRESSION_NONE; c <= OD_COMPRESSION_ZSTD; c++)
        if (strcmp(s, codec_name(c)) == 0)
            return c;
    return -1;
}

typedef struct pending_batch {
    od_batch_params params;
    od_builder_record *records;
    int32_t count;
    int32_t cap;
} pending_batch;

/* A control batch whose one record is a well-formed end-transaction marker goes
 * through od_control_batch_build, so that function is what gets compared. */
static bool is_marker(const pending_batch *b)
{
    if (!b->params.control || b->count != 1)
        return false;
    const od_builder_record *r = &b->records[0];
    return r->key.len == 4 && r->value.len == 6 && r->header_count == 0 && od_load_be16(r->key.ptr) == 0 &&
           od_load_be16(r->key.ptr + 2) <= 1 && od_load_be16(r->value.ptr) == 0;
}

static od_batch_err flush_batch(pending_batch *b, od_writer *out)
{
    od_batch_err err;
    if (is_marker(b)) {
        const od_builder_record *r = &b->records[0];
        err = od_control_batch_build(&b->params, (od_control_type)od_load_be16(r->key.ptr + 2),
                                     (int32_t)od_load_be32(r->value.ptr + 2), r->timestamp, out);
    } else {
        err = od_batch_build(&b->params, b->records, b->count, out);
    }
    b->count = 0;
    return err;
}

static int cmd_batch_build(const char *in_path, const char *out_path)
{
    size_t len;
    char *text = (char *)slurp(in_path, &len);
    od_arena arena;
    od_arena_init(&arena);
    od_writer out;
    od_writer_init(&out, 4096);
    pending_batch b = {.count = 0, .cap = 0, .records = NULL};
    bool open = false;
    int rc = 0;
    char v[64];
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "batch ", 6) == 0) {
            if (open && flush_batch(&b, &out) != OD_BATCH_OK) {
                fprintf(stderr, "batch-build: a batch failed to build\n");
                rc = 1;
            }
            open = true;
            b.params = OD_BATCH_PARAMS_INIT;
            b.params.base_offset = field_i64(line, "base", 0);
            b.params.partition_leader_epoch = (int32_t)field_i64(line, "leader", -1);
            b.params.producer_id = field_i64(line, "pid", -1);
            b.params.producer_epoch = (int16_t)field_i64(line, "epoch", -1);
            b.params.base_sequence = (int32_t)field_i64(line, "seq", -1);
            b.params.transactional = field_i64(line, "txn", 0) != 0;
            b.params.control = field_i64(line, "control", 0) != 0;
            int codec = field(line, "codec", v, sizeof v) ? parse_codec(v) : 0;
            if (codec < 0)
                die("batch-build: unknown codec %s", v);
            b.params.compression = (od_compression)codec;
            if (field(line, "tstype", v, sizeof v) && strcmp(v, "append") == 0) {
                b.params.log_append_time = true;
                b.params.log_append_time_ms = field_i64(line, "maxts", 0);
            }
        } else if (strncmp(line, "record ", 7) == 0 && open) {
            if (b.count == b.cap) {
                b.cap = b.cap ? b.cap * 2 : 16;
                b.records = realloc(b.records, (size_t)b.cap * sizeof *b.records);
                if (!b.records)
                    die("%s", "out of memory");
            }
            od_builder_record *r = &b.records[b.count++];
            r->timestamp = field_i64(line, "ts", -1);
            r->key = field_bytes(line, "key", &arena);
            r->value = field_bytes(line, "value", &arena);
            r->headers = NULL;
            r->header_count = 0;
            const char *hp = strstr(line, " headers=");
            if (hp) {
                hp += 9;
                size_t hn = strcspn(hp, " \n");
                int32_t count = 0;
                for (size_t i = 0; i < hn; i++)
                    count += hp[i] == ',';
                count = hn ? count + 1 : 0;
                od_record_header *hs = od_arena_calloc(&arena, (size_t)count + 1, sizeof *hs);
                const char *p = hp;
                for (int32_t i = 0; i < count; i++) {
                    size_t item = strcspn(p, ", \n");
                    const char *colon = memchr(p, ':', item);
                    if (!colon)
                        die("batch-build: bad header in: %s", line);
                    od_bytes k = unhex(p, (size_t)(colon - p), &arena);
                    hs[i].key = (od_str){(const char *)k.ptr, k.len};
                    hs[i].value = unhex(colon + 1, item - (size_t)(colon - p) - 1, &arena);
                    p += item + 1;
                }
                r->headers = hs;
                r->header_count = count;
            }
        }
    }
    if (open && flush_batch(&b, &out) != OD_BATCH_OK) {
        fprintf(stderr, "batch-build: a batch failed to build\n");
        rc = 1;
    }
    FILE *f = open_out(out_path);
    fwrite(out.buf, 1, out.len, f);
    fclose(f);
    od_writer_free(&out);
    od_arena_release(&arena);
    free(b.records);
    free(text);
    return rc;
}

/* A wrapper being assembled by legacy-build: its inner messages so far. */
typedef struct legacy_wrapper {
    bool open;
    int8_t magic;
    int8_t attributes;
    int64_t timestamp;
    int64_t first_offset;
    int64_t last_offset;
    od_writer inner;
} legacy_wrapper;

/* Compresses the inner set and appends the wrapper message. Magic 1 inner
 * offsets were written relative to the first; the wrapper carries the
 * absolute offset of the last, which is how readers recover absolute ones. */
static bool legacy_flush(legacy_wrapper *lw, od_writer *out)
{
    if (!lw->open)
        return true;
    lw->open = false;
    od_writer packed;
    od_writer_init(&packed, lw->inner.len + 64);
    bool ok = lw->inner.err == OD_WIRE_OK &&
              od_compress((od_compression)(lw->attributes & OD_LEGACY_ATTR_COMPRESSION_MASK), lw->inner.buf,
                          lw->inner.len, &packed) == OD_BATCH_OK &&
              od_legacy_message_write(out, lw->magic, lw->last_offset, lw->attributes, lw->timestamp, OD_BYTES_NULL,
                                      (od_bytes){packed.buf, (int32_t)packed.len}) == OD_BATCH_OK;
    od_writer_free(&packed);
    od_writer_free(&lw->inner);
    return ok;
}

static int cmd_legacy_build(const char *in_path, const char *out_path)
{
    size_t len;
    char *text = (char *)slurp(in_path, &len);
    od_arena arena;
    od_arena_init(&arena);
    od_writer out;
    od_writer_init(&out, 4096);
    legacy_wrapper lw = {.open = false};
    int rc = 0;
    char v[64];
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        bool append = field(line, "tstype", v, sizeof v) && strcmp(v, "append") == 0;
        if (strncmp(line, "legacy ", 7) == 0 || strncmp(line, "wrapper ", 8) == 0) {
            if (!legacy_flush(&lw, &out))
                rc = 1;
        }
        if (strncmp(line, "legacy ", 7) == 0) {
            int8_t magic = (int8_t)field_i64(line, "magic", 1);
            int8_t attrs = magic == 1 && append ? OD_LEGACY_ATTR_LOG_APPEND_TIME : 0;
            if (od_legacy_message_write(&out, magic, field_i64(line, "offset", 0), attrs, field_i64(line, "ts", -1),
                                        field_bytes(line, "key", &arena),
                                        field_bytes(line, "value", &arena)) != OD_BATCH_OK)
                rc = 1;
        } else if (strncmp(line, "wrapper ", 8) == 0) {
            int codec = field(line, "codec", v, sizeof v) ? parse_codec(v) : -1;
            if (codec <= 0)
                die("legacy-build: a wrapper needs a codec: %s", line);
            lw.open = true;
            lw.magic = (int8_t)field_i64(line, "magic", 1);
            lw.attributes = (int8_t)(codec | (lw.magic == 1 && append ? OD_LEGACY_ATTR_LOG_APPEND_TIME : 0));
            lw.timestamp = field_i64(line, "ts", -1);
            lw.first_offset = -1;
            od_writer_init(&lw.inner, 1024);
        } else if (strncmp(line, "inner ", 6) == 0 && lw.open) {
            int64_t off = field_i64(line, "offset", 0);
            if (lw.first_offset < 0)
                lw.first_offset = off;
            lw.last_offset = off;
            int64_t stored = lw.magic == 1 ? off - lw.first_offset : off;
            if (od_legacy_message_write(&lw.inner, lw.magic, stored, 0, field_i64(line, "ts", -1),
                                        field_bytes(line, "key", &arena),
                                        field_bytes(line, "value", &arena)) != OD_BATCH_OK)
                rc = 1;
        }
    }
    if (!legacy_flush(&lw, &out))
        rc = 1;
    if (rc)
        fprintf(stderr, "legacy-build: a message failed to build\n");
    FILE *f = open_out(out_path);
    fwrite(out.buf, 1, out.len, f);
    fclose(f);
    od_writer_free(&out);
    od_arena_release(&arena);
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "list") == 0)
        return cmd_list();
    if (strcmp(cmd, "reencode") == 0 && argc == 4)
        return cmd_reencode(argv[2], argv[3]);
    if (strcmp(cmd, "random") == 0 && argc == 5)
        return cmd_random(argv[2], argv[3], argv[4]);
    if (strcmp(cmd, "batch-decode") == 0 && argc == 4)
        return cmd_batch_decode(argv[2], argv[3]);
    if (strcmp(cmd, "batch-build") == 0 && argc == 4)
        return cmd_batch_build(argv[2], argv[3]);
    if (strcmp(cmd, "legacy-decode") == 0 && argc == 4)
        return cmd_legacy_decode(argv[2], argv[3]);
    if (strcmp(cmd, "legacy-build") == 0 && argc == 4)
        return cmd_legacy_build(argv[2], argv[3]);
    fprintf(stderr,
            "usage: od_codec_tool list | reencode IN OUT | random SEED N OUT | batch-decode IN OUT |"
            " batch-build IN OUT | legacy-decode IN OUT | legacy-build IN OUT\n");
    return 2;
}
