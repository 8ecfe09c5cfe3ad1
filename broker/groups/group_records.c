/*
 * __consumer_offsets record codecs and Java's String.hashCode.
 *
 * Invariants: see group_records.h (1-2). Internal:
 *   3. UTF-8 is decoded to UTF-16 code units as Java's String(bytes, UTF_8)
 *      does: each maximal ill-formed subpart becomes one U+FFFD, except an
 *      encoded surrogate (three bytes, one U+FFFD), so hashes and lengths of
 *      odd group ids match a Java broker's (checked against JDK 17).
 *
 * No state machine: these are pure functions.
 */
#include "group_records.h"

#include "group_coordinator.h"

/* ---------------------------------------------------------------- UTF-8 to UTF-16 */

/* Decodes one code point starting at s[*i] and advances *i past it.
 * Returns U+FFFD for an ill-formed subpart (invariant 3). */
static uint32_t next_code_point(const uint8_t *s, int32_t n, int32_t *i)
{
    uint8_t b0 = s[*i];
    (*i)++;
    if (b0 < 0x80)
        return b0;
    int need;
    uint32_t cp;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        cp = b0 & 0x0F;
        if (b0 == 0xE0)
            lo = 0xA0; /* overlong */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        cp = b0 & 0x07;
        if (b0 == 0xF0)
            lo = 0x90;
        if (b0 == 0xF4)
            hi = 0x8F;
    } else {
        return 0xFFFD;
    }
    for (int k = 0; k < need; k++) {
        if (*i >= n)
            return 0xFFFD;
        uint8_t b = s[*i];
        uint8_t min = k == 0 ? lo : 0x80, max = k == 0 ? hi : 0xBF;
        if (b < min || b > max)
            return 0xFFFD; /* the offending byte starts the next subpart */
        cp = (cp << 6) | (b & 0x3F);
        (*i)++;
    }
    /* An encoded surrogate (ED A0..BF xx) is one malformed unit to Java's
     * decoder, not a maximal subpart of one byte. */
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0xFFFD;
    return cp;
}

int32_t od_java_string_hash(od_str str)
{
    if (str.len <= 0)
        return 0;
    const uint8_t *s = (const uint8_t *)str.ptr;
    uint32_t h = 0; /* Java's int arithmetic wraps; unsigned keeps C defined */
    int32_t i = 0;
    while (i < str.len) {
        uint32_t cp = next_code_point(s, str.len, &i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)h;
}

int32_t od_java_utf16_length(od_str str)
{
    if (str.len <= 0)
        return 0;
    const uint8_t *s = (const uint8_t *)str.ptr;
    int32_t i = 0, units = 0;
    while (i < str.len)
        units += next_code_point(s, str.len, &i) >= 0x10000 ? 2 : 1;
    return units;
}

/* ---------------------------------------------------------------- writing */

od_wire_err od_gc_write_offset_key(od_writer *w, od_str group, od_str topic, int32_t partition)
{
    od_offset_commit_key k;
    od_offset_commit_key_init(&k);
    k.group = group;
    k.topic = topic;
    k.partition = partition;
    od_write_i16(w, OD_GC_OFFSET_KEY_VERSION);
    od_offset_commit_key_encode(&k, w, OD_GC_OFFSET_KEY_VERSION);
    return w->err;
}

od_wire_err od_gc_write_group_key(od_writer *w, od_str group)
{
    od_group_metadata_key k;
    od_group_metadata_key_init(&k);
    k.group = group;
    od_write_i16(w, OD_GC_GROUP_KEY_VERSION);
    od_group_metadata_key_encode(&k, w, OD_GC_GROUP_KEY_VERSION);
    return w->err;
}

od_wire_err od_gc_write_offset_value(od_writer *w, int64_t offset, int32_t leader_epoch,
                                     od_str metadata, int64_t commit_timestamp,
                                     int64_t expire_timestamp)
{
    od_offset_commit_value v;
    od_offset_commit_value_init(&v);
    v.offset = offset;
    v.metadata = metadata.len < 0 ? OD_STR_LIT("") : metadata;
    v.commit_timestamp = commit_timestamp;
    int16_t version;
    if (expire_timestamp >= 0) {
        /* Version 1 has no leader epoch: Kafka drops it, so do we. */
        version = OD_GC_OFFSET_VALUE_VERSION_WITH_EXPIRY;
        v.expire_timestamp = expire_timestamp;
    } else {
        version = OD_GC_OFFSET_VALUE_VERSION;
        v.leader_epoch = leader_epoch;
    }
    od_write_i16(w, version);
    od_offset_commit_value_encode(&v, w, version);
    return w->err;
}

od_wire_err od_gc_write_group_value(od_writer *w, const od_group_metadata_value *v)
{
    od_write_i16(w, OD_GC_GROUP_VALUE_VERSION);
    od_group_metadata_value_encode(v, w, OD_GC_GROUP_VALUE_VERSION);
    return w->err;
}

/* ---------------------------------------------------------------- reading */

od_wire_err od_gc_read_key(od_bytes key, od_arena *arena, od_gc_record_key *out)
{
    od_reader r;
    od_reader_init(&r, key.ptr, key.len < 0 ? 0 : (size_t)key.len, arena);
    out->version = od_read_i16(&r);
    if (r.err)
        return r.err;
    switch (out->version) {
    case 0:
    case 1:
        out->kind = OD_GC_KEY_OFFSET;
        return od_offset_commit_key_decode(&out->offset, &r, out->version);
    case 2:
        out->kind = OD_GC_KEY_GROUP;
        return od_group_metadata_key_decode(&out->group, &r, out->version);
    default:
        out->kind = OD_GC_KEY_OTHER;
        return OD_WIRE_OK;
    }
}

/* Kafka reads a value at the version it names; a version past the newest
 * spec version is read as the newest (KIP-915: later versions only add
 * tagged fields). */
static int16_t readable_version(int16_t version, int16_t newest)
{
    return version > newest ? newest : version;
}

/* Starts r on a value and reads the version it names into *version. */
static od_wire_err read_value_version(od_reader *r, od_bytes value, od_arena *arena,
                                      int16_t *version)
{
    od_reader_init(r, value.ptr, (size_t)value.len, arena);
    *version = od_read_i16(r);
    if (r->err)
        return r->err;
    return *version < 0 ? OD_WIRE_UNSUPPORTED_VERSION : OD_WIRE_OK;
}

od_wire_err od_gc_read_offset_value(od_bytes value, od_arena *arena, od_offset_commit_value *out,
                                    int16_t *version)
{
    od_reader r;
    od_wire_err e = read_value_version(&r, value, arena, version);
    if (e != OD_WIRE_OK)
        return e;
    return od_offset_commit_value_decode(out, &r, readable_version(*version, 4));
}

od_wire_err od_gc_read_group_value(od_bytes value, od_arena *arena, od_group_metadata_value *out,
                                   int16_t *version)
{
    od_reader r;
    od_wire_err e = read_value_version(&r, value, arena, version);
    if (e != OD_WIRE_OK)
        return e;
    return od_group_metadata_value_decode(out, &r, readable_version(*version, 4));
}
