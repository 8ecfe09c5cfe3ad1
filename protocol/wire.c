#include "wire.h"

#include <stdlib.h>
#include <string.h>

const char *od_wire_err_name(od_wire_err err)
{
    switch (err) {
    case OD_WIRE_OK: return "ok";
    case OD_WIRE_TRUNCATED: return "truncated";
    case OD_WIRE_MALFORMED: return "malformed";
    case OD_WIRE_NULL_NOT_ALLOWED: return "null not allowed";
    case OD_WIRE_NO_MEMORY: return "out of memory";
    case OD_WIRE_UNSUPPORTED_VERSION: return "unsupported version";
    case OD_WIRE_FIELD_NOT_IN_VERSION: return "field not in version";
    case OD_WIRE_TOO_LARGE: return "too large";
    }
    return "unknown";
}

od_str od_str_from_cstr(const char *s)
{
    if (s == NULL)
        return OD_STR_NULL;
    return (od_str){s, (int32_t)strlen(s)};
}

bool od_str_eq(od_str a, od_str b)
{
    if (a.len != b.len)
        return false;
    return a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

bool od_str_eq_cstr(od_str a, const char *s)
{
    return od_str_eq(a, od_str_from_cstr(s));
}

bool od_uuid_is_zero(const od_uuid *u)
{
    static const od_uuid zero;
    return memcmp(u->bytes, zero.bytes, sizeof zero.bytes) == 0;
}

bool od_uuid_eq(const od_uuid *a, const od_uuid *b)
{
    return memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

/* ---------------------------------------------------------------- reader */

void od_reader_init(od_reader *r, const void *buf, size_t len, od_arena *arena)
{
    r->start = buf;
    r->pos = buf;
    r->end = r->start + len;
    r->err = OD_WIRE_OK;
    r->arena = arena;
}

void od_reader_fail(od_reader *r, od_wire_err err)
{
    if (r->err == OD_WIRE_OK)
        r->err = err;
    /* Park the cursor at the end so every later read fails fast. */
    r->pos = r->end;
}

const uint8_t *od_read_raw(od_reader *r, size_t n)
{
    if (r->err != OD_WIRE_OK)
        return NULL;
    if (od_reader_remaining(r) < n) {
        od_reader_fail(r, OD_WIRE_TRUNCATED);
        return NULL;
    }
    const uint8_t *p = r->pos;
    r->pos += n;
    return p;
}

void od_read_skip(od_reader *r, size_t n)
{
    (void)od_read_raw(r, n);
}

int8_t od_read_i8(od_reader *r)
{
    const uint8_t *p = od_read_raw(r, 1);
    return p ? (int8_t)p[0] : 0;
}

uint16_t od_read_u16(od_reader *r)
{
    const uint8_t *p = od_read_raw(r, 2);
    return p ? od_load_be16(p) : 0;
}

int16_t od_read_i16(od_reader *r)
{
    return (int16_t)od_read_u16(r);
}

uint32_t od_read_u32(od_reader *r)
{
    const uint8_t *p = od_read_raw(r, 4);
    return p ? od_load_be32(p) : 0;
}

int32_t od_read_i32(od_reader *r)
{
    return (int32_t)od_read_u32(r);
}

int64_t od_read_i64(od_reader *r)
{
    const uint8_t *p = od_read_raw(r, 8);
    return p ? (int64_t)od_load_be64(p) : 0;
}

double od_read_f64(od_reader *r)
{
    const uint8_t *p = od_read_raw(r, 8);
    if (!p)
        return 0;
    uint64_t bits = od_load_be64(p);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

bool od_read_bool(od_reader *r)
{
    return od_read_i8(r) != 0;
}

od_uuid od_read_uuid(od_reader *r)
{
    od_uuid u = {{0}};
    const uint8_t *p = od_read_raw(r, 16);
    if (p)
        memcpy(u.bytes, p, 16);
    return u;
}

uint64_t od_read_uvarlong(od_reader *r)
{
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        const uint8_t *p = od_read_raw(r, 1);
        if (!p)
            return 0;
        if (shift == 63 && (*p & 0x7e)) {
            od_reader_fail(r, OD_WIRE_MALFORMED);
            return 0;
        }
        value |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80))
            return value;
    }
    od_reader_fail(r, OD_WIRE_MALFORMED);
    return 0;
}

uint32_t od_read_uvarint(od_reader *r)
{
    uint32_t value = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        const uint8_t *p = od_read_raw(r, 1);
        if (!p)
            return 0;
        if (shift == 28 && (*p & 0x70)) { /* bits beyond 32 */
            od_reader_fail(r, OD_WIRE_MALFORMED);
            return 0;
        }
        value |= (uint32_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80))
            return value;
    }
    od_reader_fail(r, OD_WIRE_MALFORMED);
    return 0;
}

int32_t od_read_varint(od_reader *r)
{
    uint32_t z = od_read_uvarint(r);
    return (int32_t)((z >> 1) ^ (~(z & 1) + 1));
}

int64_t od_read_varlong(od_reader *r)
{
    uint64_t z = od_read_uvarlong(r);
    return (int64_t)((z >> 1) ^ (~(z & 1) + 1));
}

/* Reads a length prefix; returns -1 for null, -2 after an error. */
static int64_t read_length(od_reader *r, bool compact, bool wide, bool nullable)
{
    int64_t len;
    if (compact)
        len = (int64_t)od_read_uvarint(r) - 1;
    else
        len = wide ? od_read_i32(r) : od_read_i16(r);
    if (r->err)
        return -2;
    /* Kafka reads every negative classic length as null (compact ones cannot
     * go below -1), so -2 is null where null is allowed and an error where not. */
    if (len < -1)
        len = -1;
    if (len == -1 && !nullable) {
        od_reader_fail(r, OD_WIRE_NULL_NOT_ALLOWED);
        return -2;
    }
    return len;
}

od_str od_read_string(od_reader *r, bool compact, bool nullable)
{
    int64_t len = read_length(r, compact, false, nullable);
    if (len == -1)
        return OD_STR_NULL;
    if (len < 0)
        return (od_str){"", 0};
    if (len > INT16_MAX) {
        od_reader_fail(r, OD_WIRE_MALFORMED);
        return (od_str){"", 0};
    }
    const uint8_t *p = od_read_raw(r, (size_t)len);
    return p ? (od_str){(const char *)p, (int32_t)len} : (od_str){"", 0};
}

od_bytes od_read_bytes(od_reader *r, bool compact, bool nullable)
{
    int64_t len = read_length(r, compact, true, nullable);
    if (len == -1)
        return OD_BYTES_NULL;
    if (len < 0)
        return (od_bytes){(const uint8_t *)"", 0};
    const uint8_t *p = od_read_raw(r, (size_t)len);
    return p ? (od_bytes){p, (int32_t)len} : (od_bytes){(const uint8_t *)"", 0};
}

int32_t od_read_array_len(od_reader *r, bool compact, bool nullable, size_t min_element_size)
{
    int64_t count = read_length(r, compact, true, nullable);
    if (count == -1)
        return -1;
    if (count < 0)
        return 0;
    if (min_element_size == 0)
        min_element_size = 1;
    if ((uint64_t)count > od_reader_remaining(r) / min_element_size) {
        od_reader_fail(r, OD_WIRE_MALFORMED);
        return 0;
    }
    return (int32_t)count;
}

void *od_reader_alloc_array(od_reader *r, int32_t count, size_t size)
{
    if (r->err || count <= 0)
        return NULL;
    void *p = r->arena ? od_arena_calloc(r->arena, (size_t)count, size) : NULL;
    if (!p)
        od_reader_fail(r, OD_WIRE_NO_MEMORY);
    return p;
}

/* ---------------------------------------------------------------- writer */

void od_writer_init(od_writer *w, size_t initial_capacity)
{
    w->buf = initial_capacity ? malloc(initial_capacity) : NULL;
    w->cap = w->buf ? initial_capacity : 0;
    w->len = 0;
    w->err = OD_WIRE_OK;
    w->fixed = false;
}

void od_writer_init_fixed(od_writer *w, void *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->err = OD_WIRE_OK;
    w->fixed = true;
}

void od_writer_free(od_writer *w)
{
    if (!w->fixed)
        free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void od_writer_fail(od_writer *w, od_wire_err err)
{
    if (w->err == OD_WIRE_OK)
        w->err = err;
}

uint8_t *od_writer_reserve(od_writer *w, size_t n)
{
    if (w->err)
        return NULL;
    if (w->cap - w->len < n) {
        if (w->fixed) {
            od_writer_fail(w, OD_WIRE_TOO_LARGE);
            return NULL;
        }
        size_t want = w->cap ? w->cap : 256;
        while (want - w->len < n) {
            if (want > SIZE_MAX / 2) {
                od_writer_fail(w, OD_WIRE_NO_MEMORY);
                return NULL;
            }
            want *= 2;
        }
        uint8_t *grown = realloc(w->buf, want);
        if (!grown) {
            od_writer_fail(w, OD_WIRE_NO_MEMORY);
            return NULL;
        }
        w->buf = grown;
        w->cap = want;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

size_t od_writer_skip(od_writer *w, size_t n)
{
    size_t at = w->len;
    uint8_t *p = od_writer_reserve(w, n);
    if (p)
        memset(p, 0, n);
    return at;
}

void od_write_raw(od_writer *w, const void *data, size_t n)
{
    uint8_t *p = od_writer_reserve(w, n);
    if (p && n)
        memcpy(p, data, n);
}

void od_write_i8(od_writer *w, int8_t v)
{
    uint8_t *p = od_writer_reserve(w, 1);
    if (p)
        p[0] = (uint8_t)v;
}

void od_write_u16(od_writer *w, uint16_t v)
{
    uint8_t *p = od_writer_reserve(w, 2);
    if (p)
        od_store_be16(p, v);
}

void od_write_i16(od_writer *w, int16_t v)
{
    od_write_u16(w, (uint16_t)v);
}

void od_write_u32(od_writer *w, uint32_t v)
{
    uint8_t *p = od_writer_reserve(w, 4);
    if (p)
        od_store_be32(p, v);
}

void od_write_i32(od_writer *w, int32_t v)
{
    od_write_u32(w, (uint32_t)v);
}

void od_write_i64(od_writer *w, int64_t v)
{
    uint8_t *p = od_writer_reserve(w, 8);
    if (p)
        od_store_be64(p, (uint64_t)v);
}

void od_write_f64(od_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    od_write_i64(w, (int64_t)bits);
}

void od_write_bool(od_writer *w, bool v)
{
    od_write_i8(w, v ? 1 : 0);
}

void od_write_uuid(od_writer *w, const od_uuid *v)
{
    od_write_raw(w, v->bytes, 16);
}

void od_write_uvarlong(od_writer *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    od_write_raw(w, tmp, n);
}

void od_write_uvarint(od_writer *w, uint32_t v)
{
    od_write_uvarlong(w, v);
}

void od_write_varint(od_writer *w, int32_t v)
{
    od_write_uvarlong(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

void od_write_varlong(od_writer *w, int64_t v)
{
    od_write_uvarlong(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void write_length(od_writer *w, int64_t len, bool compact, bool wide)
{
    if (compact)
        od_write_uvarint(w, (uint32_t)(len + 1));
    else if (wide)
        od_write_i32(w, (int32_t)len);
    else
        od_write_i16(w, (int16_t)len);
}

void od_write_string(od_writer *w, od_str s, bool compact)
{
    if (s.len > INT16_MAX) {
        od_writer_fail(w, OD_WIRE_TOO_LARGE);
        return;
    }
    write_length(w, s.len < 0 ? -1 : s.len, compact, false);
    if (s.len > 0)
        od_write_raw(w, s.ptr, (size_t)s.len);
}

void od_write_bytes(od_writer *w, od_bytes b, bool compact)
{
    write_length(w, b.len < 0 ? -1 : b.len, compact, true);
    if (b.len > 0)
        od_write_raw(w, b.ptr, (size_t)b.len);
}

void od_write_array_len(od_writer *w, int32_t count, bool compact)
{
    write_length(w, count < 0 ? -1 : count, compact, true);
}

void od_writer_patch_u32(od_writer *w, size_t offset, uint32_t v)
{
    if (w->err == OD_WIRE_OK && offset + 4 <= w->len)
        od_store_be32(w->buf + offset, v);
}

void od_writer_patch_i32(od_writer *w, size_t offset, int32_t v)
{
    od_writer_patch_u32(w, offset, (uint32_t)v);
}

size_t od_uvarlong_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t od_uvarint_size(uint32_t v)
{
    return od_uvarlong_size(v);
}

size_t od_varint_size(int32_t v)
{
    return od_uvarlong_size(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

size_t od_varlong_size(int64_t v)
{
    return od_uvarlong_size(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static size_t length_size(int64_t len, bool compact, bool wide)
{
    if (compact)
        return od_uvarint_size((uint32_t)(len + 1));
    return wide ? 4 : 2;
}

size_t od_string_size(od_str s, bool compact)
{
    return length_size(s.len < 0 ? -1 : s.len, compact, false) + (s.len > 0 ? (size_t)s.len : 0);
}

size_t od_bytes_size(od_bytes b, bool compact)
{
    return length_size(b.len < 0 ? -1 : b.len, compact, true) + (b.len > 0 ? (size_t)b.len : 0);
}

size_t od_array_len_size(int32_t count, bool compact)
{
    return length_size(count < 0 ? -1 : count, compact, true);
}
