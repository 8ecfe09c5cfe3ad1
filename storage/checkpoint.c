/*
 * checkpoint.c: Kafka's checkpoint, metadata and marker files.
 *
 * Invariants:
 *   1. A writer never modifies a file in place; it goes through
 *      od_fio_write_atomic, so a reader sees the old file or the new one.
 *      Exception: od_partition_metadata_ensure writes partition.metadata
 *      in place without any fsync. Its callers rewrite it at every open of
 *      the log from durable metadata and a reader that finds it torn gets
 *      OD_ST_BAD_FORMAT, so nothing depends on it surviving; creating a
 *      partition spares a rename and two fsyncs.
 *   2. A reader accepts exactly Kafka's grammar: version 0, a count that
 *      matches the number of entry lines, whitespace-separated fields, no
 *      trailing junk. Anything else is OD_ST_BAD_FORMAT and the caller falls
 *      back to the safe default (recover from offset 0).
 *   3. Formatting is locale-independent (integers via PRId64 only).
 *
 * No state machine: every function is a single read or a single replace.
 */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_FILE = 64 << 20 };

/* A growable text buffer. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void sb_add(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap <= b->len + (size_t)n)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

static od_st_err sb_commit(sbuf *b, od_fio *io, const char *dir, const char *name)
{
    od_st_err err = OD_ST_NO_MEMORY;
    if (!b->oom) {
        int rc = od_fio_write_atomic(io, dir, name, b->p ? b->p : "", b->len);
        err = rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
    }
    free(b->p);
    return err;
}

static od_st_err load(od_fio *io, const char *dir, const char *name, char **text, size_t *len)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return OD_ST_INVALID_ARG;
    int rc = od_fio_read_file(io, path, MAX_FILE, text, len);
    if (rc == -ENOENT)
        return OD_ST_NOT_FOUND;
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

/* Splits the next line off *cur (NUL-terminates it in place). */
static char *next_line(char **cur)
{
    char *s = *cur;
    if (s == NULL || *s == '\0')
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *cur = nl + 1;
    } else
        *cur = s + strlen(s);
    size_t l = strlen(s);
    if (l > 0 && s[l - 1] == '\r')
        s[l - 1] = '\0';
    return s;
}

static bool parse_i64(const char *s, int64_t *v)
{
    if (*s == '\0')
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end != '\0')
        return false;
    *v = x;
    return true;
}

/* Splits a line into at most max whitespace-separated fields. */
static int split_fields(char *line, char **f, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == max)
            return max + 1;
        f[n++] = t;
    }
    return n;
}

/* Reads the "0\n<count>\n" prologue. */
static bool read_prologue(char **cur, int64_t *count)
{
    char *l = next_line(cur);
    int64_t v;
    if (!l || !parse_i64(l, &v) || v != 0)
        return false;
    l = next_line(cur);
    return l && parse_i64(l, count) && *count >= 0;
}

od_st_err od_ckpt_write_offsets(od_fio *io, const char *dir, const char *name,
                                const od_tp_offset *entries, size_t n)
{
    sbuf b = {0};
    sb_add(&b, "0\n%zu\n", n);
    for (size_t i = 0; i < n; i++)
        sb_add(&b, "%s %" PRId32 " %" PRId64 "\n", entries[i].topic, entries[i].partition,
               entries[i].offset);
    return sb_commit(&b, io, dir, name);
}

void od_ckpt_free_offsets(od_tp_offset *entries, size_t n)
{
    for (size_t i = 0; entries && i < n; i++)
        free(entries[i].topic);
    free(entries);
}

/* One entry of a checkpoint table: fills elem from the line's fields.
 * OD_ST_BAD_FORMAT or OD_ST_NO_MEMORY leave elem owning nothing. */
typedef od_st_err (*entry_parser)(char **f, void *elem);

/* Reads a "0\n<count>\n" file of count lines of nfields fields each into a
 * calloc'd array of elem_size entries. On failure the got entries parsed so
 * far are released with free_entries. */
static od_st_err read_table(od_fio *io, const char *dir, const char *name, size_t elem_size,
                            int nfields, entry_parser parse, void (*free_entries)(void *e, size_t got),
                            void **entries, size_t *n)
{
    *entries = NULL;
    *n = 0;
    char *text;
    size_t len;
    od_st_err err = load(io, dir, name, &text, &len);
    if (err)
        return err;
    char *cur = text;
    int64_t count;
    char *e = NULL;
    size_t got = 0;
    err = OD_ST_BAD_FORMAT;
    if (!read_prologue(&cur, &count) || (size_t)count > len)
        goto out;
    e = calloc((size_t)count ? (size_t)count : 1, elem_size);
    if (!e) {
        err = OD_ST_NO_MEMORY;
        goto out;
    }
    char *line;
    while ((line = next_line(&cur)) != NULL) {
        char *f[3];
        if (got == (size_t)count || split_fields(line, f, nfields) != nfields)
            goto out;
        od_st_err perr = parse(f, e + got * elem_size);
        if (perr) {
            err = perr;
            goto out;
        }
        got++;
    }
    if (got != (size_t)count)
        goto out;
    *entries = e;
    *n = got;
    e = NULL;
    err = OD_ST_OK;
out:
    if (e)
        free_entries(e, got);
    free(text);
    return err;
}

static od_st_err parse_offset(char **f, void *elem)
{
    od_tp_offset *o = elem;
    int64_t part, off;
    if (!parse_i64(f[1], &part) || part < 0 || part > INT32_MAX || !parse_i64(f[2], &off))
        return OD_ST_BAD_FORMAT;
    o->topic = strdup(f[0]);
    if (!o->topic)
        return OD_ST_NO_MEMORY;
    o->partition = (int32_t)part;
    o->offset = off;
    return OD_ST_OK;
}

static void free_offsets(void *e, size_t got)
{
    od_ckpt_free_offsets(e, got);
}

od_st_err od_ckpt_read_offsets(od_fio *io, const char *dir, const char *name,
                               od_tp_offset **entries, size_t *n)
{
    void *e;
    od_st_err err = read_table(io, dir, name, sizeof **entries, 3, parse_offset, free_offsets, &e, n);
    *entries = e;
    return err;
}

od_st_err od_ckpt_write_epochs(od_fio *io, const char *dir, const od_epoch_entry *e, size_t n)
{
    sbuf b = {0};
    sb_add(&b, "0\n%zu\n", n);
    for (size_t i = 0; i < n; i++)
        sb_add(&b, "%" PRId32 " %" PRId64 "\n", e[i].epoch, e[i].start_offset);
    return sb_commit(&b, io, dir, OD_CKPT_LEADER_EPOCH);
}

static od_st_err parse_epoch(char **f, void *elem)
{
    od_epoch_entry *ee = elem;
    int64_t ep, off;
    if (!parse_i64(f[0], &ep) || ep < 0 || ep > INT32_MAX || !parse_i64(f[1], &off))
        return OD_ST_BAD_FORMAT;
    ee->epoch = (int32_t)ep;
    ee->start_offset = off;
    return OD_ST_OK;
}

static void free_epochs(void *e, size_t got)
{
    (void)got;
    free(e);
}

od_st_err od_ckpt_read_epochs(od_fio *io, const char *dir, od_epoch_entry **out, size_t *n)
{
    void *e;
    od_st_err err = read_table(io, dir, OD_CKPT_LEADER_EPOCH, sizeof **out, 2, parse_epoch, free_epochs,
                               &e, n);
    *out = e;
    return err;
}

/* ------------------------------------------------------------- uuids */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void od_uuid_to_base64(const od_uuid *u, char out[23])
{
    const uint8_t *b = u->bytes;
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16;
        if (i + 1 < 16)
            v |= (uint32_t)b[i + 1] << 8;
        if (i + 2 < 16)
            v |= b[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < 16)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < 16)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

bool od_uuid_from_base64(const char *s, size_t len, od_uuid *u)
{
    if (len != 22)
        return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        const char *p = strchr(b64url, s[i]);
        if (!p || s[i] == '\0')
            return false;
        acc = (acc << 6) | (uint32_t)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == 16)
                return false;
            u->bytes[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* The two spare bits of the last character must be zero (canonical). */
    return o == 16 && (acc & ((1u << bits) - 1)) == 0;
}

od_st_err od_partition_metadata_write(od_fio *io, const char *dir, const od_uuid *topic_id)
{
    char id[23];
    od_uuid_to_base64(topic_id, id);
    sbuf b = {0};
    sb_add(&b, "version: 0\ntopic_id: %s\n", id);
    return sb_commit(&b, io, dir, OD_PARTITION_METADATA);
}

od_st_err od_partition_metadata_ensure(od_fio *io, const char *dir, const od_uuid *topic_id)
{
    od_uuid found;
    if (od_partition_metadata_read(io, dir, &found) == OD_ST_OK &&
        memcmp(found.bytes, topic_id->bytes, sizeof found.bytes) == 0)
        return OD_ST_OK;
    char id[23];
    od_uuid_to_base64(topic_id, id);
    char text[64];
    int len = snprintf(text, sizeof text, "version: 0\ntopic_id: %s\n", id);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, OD_PARTITION_METADATA) >= (int)sizeof path)
        return OD_ST_INVALID_ARG;
    int fd = io->m->open(io, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return od_st_from_errno(fd);
    int rc = od_fio_pwrite_full(io, fd, text, (size_t)len, 0);
    int crc = io->m->close(io, fd);
    if (rc == 0)
        rc = crc;
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}

od_st_err od_partition_metadata_read(od_fio *io, const char *dir, od_uuid *topic_id)
{
    char *text;
    size_t len;
    od_st_err err = load(io, dir, OD_PARTITION_METADATA, &text, &len);
    if (err)
        return err;
    char *cur = text, *l1 = next_line(&cur), *l2 = next_line(&cur);
    err = OD_ST_BAD_FORMAT;
    if (l1 && l2 && strcmp(l1, "version: 0") == 0 && strncmp(l2, "topic_id: ", 10) == 0 &&
        od_uuid_from_base64(l2 + 10, strlen(l2 + 10), topic_id) && next_line(&cur) == NULL)
        err = OD_ST_OK;
    free(text);
    return err;
}

/* ------------------------------------------------------ meta.properties */

od_st_err od_meta_properties_write(od_fio *io, const char *log_dir, const od_meta_properties *m)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm);
    sbuf b = {0};
    /* Java's Properties.store writes an (empty) comment and a date line. */
    sb_add(&b, "#\n#%s\n", date);
    sb_add(&b, "cluster.id=%s\n", m->cluster_id);
    if (m->directory_id[0])
        sb_add(&b, "directory.id=%s\n", m->directory_id);
    sb_add(&b, "node.id=%" PRId32 "\nversion=%" PRId32 "\n", m->node_id, m->version);
    return sb_commit(&b, io, log_dir, OD_META_PROPERTIES);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t l = strlen(s);
    while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
        s[--l] = '\0';
    return s;
}

od_st_err od_meta_properties_read(od_fio *io, const char *log_dir, od_meta_properties *m)
{
    memset(m, 0, sizeof *m);
    m->version = -1;
    m->node_id = -1;
    char *text;
    size_t len;
    od_st_err err = load(io, log_dir, OD_META_PROPERTIES, &text, &len);
    if (err)
        return err;
    char *cur = text, *line;
    bool have_cluster = false;
    err = OD_ST_OK;
    while (err == OD_ST_OK && (line = next_line(&cur)) != NULL) {
        line = trim(line);
        if (*line == '\0' || *line == '#' || *line == '!')
            continue;
        char *eq = strpbrk(line, "=:");
        if (!eq) {
            err = OD_ST_BAD_FORMAT;
            break;
        }
        *eq = '\0';
        char *k = trim(line), *v = trim(eq + 1);
        int64_t x = 0;
        if (strcmp(k, "version") == 0) {
            if (!parse_i64(v, &x) || x < 0 || x > 1)
                err = OD_ST_BAD_FORMAT;
            m->version = (int32_t)x;
        } else if (strcmp(k, "node.id") == 0 || strcmp(k, "broker.id") == 0) {
            if (!parse_i64(v, &x) || x < 0 || x > INT32_MAX)
                err = OD_ST_BAD_FORMAT;
            m->node_id = (int32_t)x;
        } else if (strcmp(k, "cluster.id") == 0) {
            if (strlen(v) >= sizeof m->cluster_id)
                err = OD_ST_BAD_FORMAT;
            else {
                strcpy(m->cluster_id, v);
                have_cluster = true;
            }
        } else if (strcmp(k, "directory.id") == 0) {
            if (strlen(v) >= sizeof m->directory_id)
                err = OD_ST_BAD_FORMAT;
            else
                strcpy(m->directory_id, v);
        }
        /* Unknown keys are kept by Kafka but carry nothing we need. */
    }
    if (err == OD_ST_OK && (m->version < 0 || !have_cluster || (m->version == 1 && m->node_id < 0)))
        err = OD_ST_BAD_FORMAT;
    free(text);
    return err;
}

/* ------------------------------------------------------ clean shutdown */

od_st_err od_clean_shutdown_write(od_fio *io, const char *log_dir, int64_t broker_epoch)
{
    sbuf b = {0};
    sb_add(&b, "{\"version\":0,\"brokerEpoch\":%" PRId64 "}", broker_epoch);
    return sb_commit(&b, io, log_dir, OD_CLEAN_SHUTDOWN);
}

od_st_err od_clean_shutdown_read(od_fio *io, const char *log_dir, bool *exists,
                                 int64_t *broker_epoch)
{
    *exists = false;
    *broker_epoch = -1;
    char *text;
    size_t len;
    od_st_err err = load(io, log_dir, OD_CLEAN_SHUTDOWN, &text, &len);
    if (err == OD_ST_NOT_FOUND)
        return OD_ST_OK;
    if (err)
        return err;
    *exists = true;
    /* Presence is what matters; the epoch is a bonus (KIP-966), and Kafka
     * itself treats an unreadable body as "no epoch". */
    const char *k = strstr(text, "\"brokerEpoch\"");
    if (k) {
        k = strchr(k, ':');
        if (k) {
            char *end;
            long long v = strtoll(k + 1, &end, 10);
            if (end != k + 1)
                *broker_epoch = v;
        }
    }
    free(text);
    return OD_ST_OK;
}

od_st_err od_clean_shutdown_delete(od_fio *io, const char *log_dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", log_dir, OD_CLEAN_SHUTDOWN) >= (int)sizeof path)
        return OD_ST_INVALID_ARG;
    int rc = io->m->unlink(io, path);
    if (rc < 0 && rc != -ENOENT)
        return od_st_from_errno(rc);
    rc = od_fio_fsync_dir(io, log_dir);
    return rc < 0 ? od_st_from_errno(rc) : OD_ST_OK;
}
