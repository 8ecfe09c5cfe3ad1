/*
 * Helpers shared by the storage tests: temporary directories and record
 * batches built by hand (so the tests do not depend on a producer codec).
 */
#ifndef ODRADEK_STORAGE_TESTUTIL_H
#define ODRADEK_STORAGE_TESTUTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "records/record_batch.h"
#include "wire.h"

static inline int st_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A fresh directory under $TMPDIR (or /tmp); path must hold 256 bytes. */
static inline void st_tmpdir(char *path)
{
    const char *t = getenv("TMPDIR");
    snprintf(path, 256, "%s/od-storage-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
}

static inline void st_rmtree(const char *path)
{
    nftw(path, st_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Deterministic value bytes for record `offset_hint` (tests compare them). */
static inline void st_fill_value(uint8_t *v, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v[i] = (uint8_t)x;
    }
}

/*
 * Appends one uncompressed v2 batch of n records to w: base offset `base`,
 * record i has timestamp ts0 + i * ts_step and a value of value_size bytes
 * filled from seed + i. CRC stamped; producer fields "none".
 */
static inline void st_build_batch(od_writer *w, int64_t base, int n, int64_t ts0, int64_t ts_step,
                                  size_t value_size, uint64_t seed)
{
    size_t start = w->len;
    od_write_i64(w, base);
    size_t len_at = od_writer_skip(w, 4);
    od_write_i32(w, -1);
    od_write_i8(w, 2);
    size_t crc_at = od_writer_skip(w, 4);
    od_write_i16(w, 0);
    od_write_i32(w, n - 1);
    int64_t max_ts = ts0;
    for (int i = 0; i < n; i++)
        if (ts0 + i * ts_step > max_ts)
            max_ts = ts0 + i * ts_step;
    od_write_i64(w, ts0);
    od_write_i64(w, max_ts);
    od_write_i64(w, -1);
    od_write_i16(w, -1);
    od_write_i32(w, -1);
    od_write_i32(w, n);
    uint8_t *val = malloc(value_size ? value_size : 1);
    for (int i = 0; i < n; i++) {
        od_writer body;
        od_writer_init(&body, 64 + value_size);
        od_write_i8(&body, 0);
        od_write_varlong(&body, i * ts_step);
        od_write_varint(&body, i);
        od_write_varint(&body, -1);
        st_fill_value(val, value_size, seed + (uint64_t)i);
        od_write_varint(&body, (int32_t)value_size);
        od_write_raw(&body, val, value_size);
        od_write_varint(&body, 0);
        od_write_varint(w, (int32_t)body.len);
        od_write_raw(w, body.buf, body.len);
        od_writer_free(&body);
    }
    free(val);
    od_writer_patch_i32(w, len_at, (int32_t)(w->len - start - OD_LOG_OVERHEAD));
    od_batch_restamp_crc(w->buf + start, w->len - start);
    (void)crc_at;
}

/* Reads a whole region into memory (tests only). */
static inline uint8_t *st_read_region(int fd, int64_t pos, int64_t len)
{
    uint8_t *b = malloc((size_t)len + 1);
    ssize_t n = pread(fd, b, (size_t)len, pos);
    if (n != len) {
        free(b);
        return NULL;
    }
    return b;
}

#endif
