/*
 * java.util.Properties.load, re-implemented from its documented behaviour.
 *
 * The text is processed in two passes per logical line, as Java does: first
 * natural lines are joined (continuation backslashes and the next line's
 * leading whitespace removed, every other backslash kept), then the joined
 * line is split into key and value and each is unescaped. Doing it in that
 * order is what makes "a\=b" a key and "a\\" followed by a newline not a
 * continuation.
 */
#include "properties.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static bool buf_put(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return false;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static bool buf_putc(buf *b, char c)
{
    return buf_put(b, &c, 1);
}

static bool put_utf8(buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_put(b, u, n);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads exactly four hex digits at s[*i]; false when any is missing. */
static bool read_u16(const char *s, size_t len, size_t *i, uint32_t *out)
{
    if (*i + 4 > len)
        return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hex_value(s[*i + (size_t)k]);
        if (h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    *i += 4;
    *out = v;
    return true;
}

/* Unescapes s[0..len) into out. Java builds UTF-16, so a \u high surrogate
 * followed by a \u low surrogate is one character; an unpaired surrogate
 * cannot be UTF-8 and becomes U+FFFD. Returns a reason on failure. */
static const char *unescape(const char *s, size_t len, buf *out)
{
    out->len = 0;
    if (!buf_put(out, "", 0))
        return "out of memory";
    for (size_t i = 0; i < len;) {
        char c = s[i++];
        if (c == '\0')
            return "NUL character in key or value";
        if (c != '\\') {
            if (!buf_putc(out, c))
                return "out of memory";
            continue;
        }
        if (i == len)
            break; /* a lone trailing backslash is dropped, as Java does */
        c = s[i++];
        bool ok = true;
        switch (c) {
        case 't': ok = buf_putc(out, '\t'); break;
        case 'n': ok = buf_putc(out, '\n'); break;
        case 'r': ok = buf_putc(out, '\r'); break;
        case 'f': ok = buf_putc(out, '\f'); break;
        case 'u': {
            uint32_t cp;
            if (!read_u16(s, len, &i, &cp))
                return "malformed \\uXXXX escape (needs four hex digits)";
            if (cp == 0)
                return "NUL character in key or value";
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                size_t j = i;
                uint32_t lo;
                if (j + 1 < len && s[j] == '\\' && s[j + 1] == 'u') {
                    j += 2;
                    if (!read_u16(s, len, &j, &lo))
                        return "malformed \\uXXXX escape (needs four hex digits)";
                    if (lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i = j;
                    } else {
                        cp = 0xFFFD;
                    }
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            ok = put_utf8(out, cp);
            break;
        }
        default: ok = buf_putc(out, c); break;
        }
        if (!ok)
            return "out of memory";
    }
    return NULL;
}

od_config_status od_properties_set(od_properties *p, const char *key, const char *value, int line)
{
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->items[i].key, key) == 0) {
            char *v = strdup(value);
            if (!v)
                return OD_CONFIG_ERR_NOMEM;
            free(p->items[i].value);
            p->items[i].value = v;
            p->items[i].line = line;
            return OD_CONFIG_OK;
        }
    }
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        od_property *items = realloc(p->items, cap * sizeof *items);
        if (!items)
            return OD_CONFIG_ERR_NOMEM;
        p->items = items;
        p->cap = cap;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return OD_CONFIG_ERR_NOMEM;
    }
    p->items[p->count++] = (od_property){k, v, line};
    return OD_CONFIG_OK;
}

/* Splits one joined logical line and stores it. */
static const char *store_line(od_properties *out, const char *line, size_t len, int line_no,
                              buf *key, buf *value, od_config_status *st)
{
    size_t key_len = 0, value_start = len;
    bool has_sep = false, escaped = false;
    for (; key_len < len; key_len++) {
        char c = line[key_len];
        if (!escaped && (c == '=' || c == ':')) {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if (!escaped && is_blank(c)) {
            value_start = key_len + 1;
            break;
        }
        escaped = c == '\\' ? !escaped : false;
    }
    /* Whitespace, then at most one '=' or ':' if the key ended on blank. */
    for (; value_start < len; value_start++) {
        char c = line[value_start];
        if (is_blank(c))
            continue;
        if (!has_sep && (c == '=' || c == ':')) {
            has_sep = true;
            continue;
        }
        break;
    }
    const char *why = unescape(line, key_len, key);
    if (!why)
        why = unescape(line + value_start, len - value_start, value);
    if (why) {
        *st = OD_CONFIG_ERR_SYNTAX;
        return why;
    }
    *st = od_properties_set(out, key->data, value->data, line_no);
    return *st == OD_CONFIG_OK ? NULL : "out of memory";
}

od_config_status od_properties_parse(od_properties *out, const char *text, size_t len,
                                     const char *source, char *err, size_t err_len)
{
    buf logical = {0}, key = {0}, value = {0};
    od_config_status st = OD_CONFIG_OK;
    const char *why = NULL;
    int natural_line = 1, logical_start = 0;
    size_t i = 0;
    bool in_logical = false; /* true after a continuation */

    while (i < len) {
        /* One natural line: [i, end). */
        size_t end = i;
        while (end < len && text[end] != '\n' && text[end] != '\r')
            end++;
        size_t next = end;
        if (next < len) {
            next += (text[next] == '\r' && next + 1 < len && text[next + 1] == '\n') ? 2 : 1;
        }
        size_t s = i;
        while (s < end && is_blank(text[s]))
            s++;
        if (!in_logical) {
            logical_start = natural_line;
            logical.len = 0;
        }
        /* A comment is a '#' or '!' opening a logical line that is still
         * empty, which includes one continued from a lone backslash. Blank
         * and comment lines never continue, even when they end in '\'. */
        if ((!in_logical && s == end) || (logical.len == 0 && s < end && (text[s] == '#' || text[s] == '!'))) {
            in_logical = false;
            i = next;
            natural_line++;
            continue;
        }
        size_t backslashes = 0;
        while (end - backslashes > s && text[end - 1 - backslashes] == '\\')
            backslashes++;
        bool continues = backslashes % 2 == 1;
        if (!buf_put(&logical, text + s, (end - s) - (continues ? 1 : 0))) {
            st = OD_CONFIG_ERR_NOMEM;
            why = "out of memory";
            break;
        }
        i = next;
        natural_line++;
        /* A continuation at end of input ends the line, as in Java. */
        if (continues && i < len) {
            in_logical = true;
            continue;
        }
        in_logical = false;
        /* Java drops a logical line that is empty, except when the input
         * ends right after a continuation backslash and at most a one-byte
         * line break: Java then still holds the backslash as content and
         * stores an empty key. After "\r\n" it has already started the
         * next (empty) line and stores nothing. */
        bool crlf = next - end == 2;
        if (logical.len == 0 && (!continues || crlf))
            continue;
        why = store_line(out, logical.data, logical.len, logical_start, &key, &value, &st);
        if (why)
            break;
    }
    if (!why && in_logical && logical.len > 0)
        why = store_line(out, logical.data, logical.len, logical_start, &key, &value, &st);
    free(logical.data);
    free(key.data);
    free(value.data);
    if (why) {
        snprintf(err, err_len, "%s:%d: %s", source ? source : "<properties>", logical_start, why);
        od_properties_free(out);
        return st == OD_CONFIG_OK ? OD_CONFIG_ERR_SYNTAX : st;
    }
    return OD_CONFIG_OK;
}

od_config_status od_properties_load_file(od_properties *out, const char *path, char *err,
                                         size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return OD_CONFIG_ERR_IO;
    }
    buf b = {0};
    char chunk[8192];
    size_t n;
    bool oom = false;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (!buf_put(&b, chunk, n)) {
            oom = true;
            break;
        }
    bool failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (oom || failed) {
        free(b.data);
        snprintf(err, err_len, "%s: %s", path, oom ? "out of memory" : strerror(saved));
        return oom ? OD_CONFIG_ERR_NOMEM : OD_CONFIG_ERR_IO;
    }
    od_config_status st = od_properties_parse(out, b.data ? b.data : "", b.len, path, err, err_len);
    free(b.data);
    return st;
}

const od_property *od_properties_find(const od_properties *p, const char *key)
{
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].key, key) == 0)
            return &p->items[i];
    return NULL;
}

const char *od_properties_get(const od_properties *p, const char *key)
{
    const od_property *e = od_properties_find(p, key);
    return e ? e->value : NULL;
}

void od_properties_free(od_properties *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].key);
        free(p->items[i].value);
    }
    free(p->items);
    p->items = NULL;
    p->count = p->cap = 0;
}
