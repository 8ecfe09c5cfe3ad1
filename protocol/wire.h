/*
 * Kafka wire primitives: a bounds-checked reader with a sticky error and a
 * growable writer with length back-patching.
 *
 * Every byte that arrives from a socket or a file is read through od_reader;
 * no other code indexes into a request buffer. Once a read fails, the reader
 * stays failed: every further read returns zero values, so decoders can read
 * a whole structure and check `r->err` once at the end.
 *
 * Strings, bytes and record sets are returned as views into the buffer being
 * read (no copy); the buffer must outlive the decoded message. A view's length
 * is -1 for null.
 */
#ifndef ODRADEK_PROTOCOL_WIRE_H
#define ODRADEK_PROTOCOL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Outcome of a decode or encode step. Zero is success; a reader or writer
 * keeps the first non-zero value it sees. */
typedef enum od_wire_err {
    OD_WIRE_OK = 0,
    OD_WIRE_TRUNCATED,          /* fewer bytes than the field needs */
    OD_WIRE_MALFORMED,          /* bad varint, negative length, count the bytes cannot hold */
    OD_WIRE_NULL_NOT_ALLOWED,   /* null where the version says non-nullable */
    OD_WIRE_NO_MEMORY,          /* the arena or writer could not grow */
    OD_WIRE_UNSUPPORTED_VERSION,/* version outside the message's valid range */
    OD_WIRE_FIELD_NOT_IN_VERSION, /* a non-default value for a non-ignorable field the version lacks */
    OD_WIRE_TOO_LARGE,          /* a length that does not fit the wire type */
} od_wire_err;

const char *od_wire_err_name(od_wire_err err);

/* A string view; len == -1 means null. Not NUL-terminated. */
typedef struct od_str {
    const char *ptr;
    int32_t len;
} od_str;

/* A byte view; len == -1 means null. Also used for record sets. */
typedef struct od_bytes {
    const uint8_t *ptr;
    int32_t len;
} od_bytes;

typedef struct od_uuid {
    uint8_t bytes[16];
} od_uuid;

#define OD_STR_NULL ((od_str){NULL, -1})
#define OD_BYTES_NULL ((od_bytes){NULL, -1})
#define OD_STR_LIT(s) ((od_str){(s), (int32_t)(sizeof(s) - 1)})

od_str od_str_from_cstr(const char *s);
bool od_str_eq(od_str a, od_str b);
bool od_str_eq_cstr(od_str a, const char *s);
bool od_uuid_is_zero(const od_uuid *u);
bool od_uuid_eq(const od_uuid *a, const od_uuid *b);

/* A tagged field the decoder did not recognise, kept so it can be re-emitted. */
typedef struct od_raw_tag {
    uint32_t tag;
    od_bytes data;
} od_raw_tag;

typedef struct od_raw_tags {
    int32_t count;
    od_raw_tag *items; /* ascending tag order, as on the wire */
} od_raw_tags;

/* ---------------------------------------------------------------- reader */

typedef struct od_reader {
    const uint8_t *start;
    const uint8_t *pos;
    const uint8_t *end;
    od_wire_err err;
    od_arena *arena;   /* where decoded arrays go; may be NULL if none are read */
} od_reader;

void od_reader_init(od_reader *r, const void *buf, size_t len, od_arena *arena);

static inline size_t od_reader_remaining(const od_reader *r)
{
    return (size_t)(r->end - r->pos);
}

static inline size_t od_reader_offset(const od_reader *r)
{
    return (size_t)(r->pos - r->start);
}

/* Records the first error; later errors are ignored. */
void od_reader_fail(od_reader *r, od_wire_err err);

int8_t od_read_i8(od_reader *r);
int16_t od_read_i16(od_reader *r);
int32_t od_read_i32(od_reader *r);
int64_t od_read_i64(od_reader *r);
uint16_t od_read_u16(od_reader *r);
uint32_t od_read_u32(od_reader *r);
double od_read_f64(od_reader *r);
bool od_read_bool(od_reader *r);
od_uuid od_read_uuid(od_reader *r);
uint32_t od_read_uvarint(od_reader *r);
int32_t od_read_varint(od_reader *r);
int64_t od_read_varlong(od_reader *r);
uint64_t od_read_uvarlong(od_reader *r);

/* Returns a view of the next n bytes and advances; {NULL,0} on error. */
const uint8_t *od_read_raw(od_reader *r, size_t n);
void od_read_skip(od_reader *r, size_t n);

/* Strings and bytes, classic (int16/int32 length) or compact (uvarint length+1).
 * `nullable` false turns a null on the wire into OD_WIRE_NULL_NOT_ALLOWED. */
od_str od_read_string(od_reader *r, bool compact, bool nullable);
od_bytes od_read_bytes(od_reader *r, bool compact, bool nullable);

/* Reads an array length (int32, or compact uvarint n+1). Returns -1 for a null
 * array (an error unless `nullable`). Fails the reader when `count *
 * min_element_size` exceeds the bytes remaining, so a forged count can never
 * drive an allocation larger than the input justifies. min_element_size is
 * treated as at least 1. */
int32_t od_read_array_len(od_reader *r, bool compact, bool nullable, size_t min_element_size);

/* Allocates count elements of `size` bytes from the reader's arena, zeroed;
 * fails the reader with OD_WIRE_NO_MEMORY when it cannot. */
void *od_reader_alloc_array(od_reader *r, int32_t count, size_t size);

/* ---------------------------------------------------------------- writer */

typedef struct od_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    od_wire_err err;
    bool fixed;        /* writing into caller memory that must not grow */
} od_writer;

/* A growable writer backed by malloc; free with od_writer_free. */
void od_writer_init(od_writer *w, size_t initial_capacity);
/* A writer into caller-owned memory of exactly `cap` bytes; overflow is an error. */
void od_writer_init_fixed(od_writer *w, void *buf, size_t cap);
void od_writer_free(od_writer *w);
void od_writer_fail(od_writer *w, od_wire_err err);
/* Ensures room for n more bytes; returns a pointer to them or NULL on error. */
uint8_t *od_writer_reserve(od_writer *w, size_t n);
/* Returns the offset of n reserved, zeroed bytes to patch later. */
size_t od_writer_skip(od_writer *w, size_t n);

void od_write_i8(od_writer *w, int8_t v);
void od_write_i16(od_writer *w, int16_t v);
void od_write_i32(od_writer *w, int32_t v);
void od_write_i64(od_writer *w, int64_t v);
void od_write_u16(od_writer *w, uint16_t v);
void od_write_u32(od_writer *w, uint32_t v);
void od_write_f64(od_writer *w, double v);
void od_write_bool(od_writer *w, bool v);
void od_write_uuid(od_writer *w, const od_uuid *v);
void od_write_uvarint(od_writer *w, uint32_t v);
void od_write_varint(od_writer *w, int32_t v);
void od_write_varlong(od_writer *w, int64_t v);
void od_write_uvarlong(od_writer *w, uint64_t v);
void od_write_raw(od_writer *w, const void *data, size_t n);
void od_write_string(od_writer *w, od_str s, bool compact);
void od_write_bytes(od_writer *w, od_bytes b, bool compact);
/* Array length: -1 writes null. */
void od_write_array_len(od_writer *w, int32_t count, bool compact);

void od_writer_patch_i32(od_writer *w, size_t offset, int32_t v);
void od_writer_patch_u32(od_writer *w, size_t offset, uint32_t v);

/* Encoded sizes, for the generated size functions. */
size_t od_uvarint_size(uint32_t v);
size_t od_varint_size(int32_t v);
size_t od_varlong_size(int64_t v);
size_t od_uvarlong_size(uint64_t v);
size_t od_string_size(od_str s, bool compact);
size_t od_bytes_size(od_bytes b, bool compact);
size_t od_array_len_size(int32_t count, bool compact);

/* Big-endian loads and stores for fixed headers read outside a reader. */
static inline uint32_t od_load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint16_t od_load_be16(const uint8_t *p)
{
    return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}
static inline uint64_t od_load_be64(const uint8_t *p)
{
    return ((uint64_t)od_load_be32(p) << 32) | od_load_be32(p + 4);
}
static inline void od_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void od_store_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void od_store_be64(uint8_t *p, uint64_t v)
{
    od_store_be32(p, (uint32_t)(v >> 32));
    od_store_be32(p + 4, (uint32_t)v);
}

#endif
