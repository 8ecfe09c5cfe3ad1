/*
 * Codec glue. Every decompressor follows one pattern so the bound holds for
 * all of them:
 *   1. output lives in an `outbuf` that grows geometrically but never past
 *      `limit` bytes;
 *   2. once the buffer is full at the limit, the codec is handed a one-byte
 *      scratch window: if it can still produce a byte, the payload is too
 *      large, and we stop without allocating more;
 *   3. a step that neither consumes input nor produces output means the
 *      payload ended early: BAD_COMPRESSION, never a spin.
 */
#include "compression.h"

#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

const char *od_compression_name(od_compression codec)
{
    switch (codec) {
    case OD_COMPRESSION_NONE: return "none";
    case OD_COMPRESSION_GZIP: return "gzip";
    case OD_COMPRESSION_SNAPPY: return "snappy";
    case OD_COMPRESSION_LZ4: return "lz4";
    case OD_COMPRESSION_ZSTD: return "zstd";
    }
    return "unknown";
}

/* ---------------------------------------------------------------- output */

enum { OUTBUF_FIRST = 4096 };

typedef struct outbuf {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t limit;
    uint8_t scratch; /* the probe window once cap == limit */
} outbuf;

/* Where the codec may write next (dst, room), or the one-byte probe
 * (*probing true) when the limit is reached. `hint` is the compressed size,
 * used only to pick a first size that often avoids regrowth. */
static od_batch_err outbuf_window(outbuf *o, size_t hint, uint8_t **dst, size_t *room,
                                  bool *probing)
{
    if (o->len == o->cap && o->cap < o->limit) {
        size_t want;
        if (o->cap == 0) { /* compressed size x4 is a fair first guess */
            want = hint > o->limit / 4 ? o->limit : hint * 4;
            if (want < OUTBUF_FIRST)
                want = OUTBUF_FIRST;
        } else
            want = o->cap > o->limit / 2 ? o->limit : o->cap * 2;
        if (want > o->limit)
            want = o->limit;
        uint8_t *grown = realloc(o->buf, want ? want : 1);
        if (!grown)
            return OD_BATCH_NO_MEMORY;
        o->buf = grown;
        o->cap = want;
    }
    if (o->len < o->cap) {
        *dst = o->buf + o->len;
        *room = o->cap - o->len;
        *probing = false;
    } else {
        *dst = &o->scratch;
        *room = 1;
        *probing = true;
    }
    return OD_BATCH_OK;
}

/* Makes sure exactly `extra` more bytes fit, for codecs that know their
 * output size up front (snappy). TOO_LARGE when that would pass the limit. */
static od_batch_err outbuf_reserve(outbuf *o, size_t extra)
{
    if (extra > o->limit - o->len)
        return OD_BATCH_TOO_LARGE;
    if (o->cap - o->len >= extra)
        return OD_BATCH_OK;
    size_t want = o->cap ? o->cap : OUTBUF_FIRST;
    while (want - o->len < extra)
        want = want > SIZE_MAX / 2 ? SIZE_MAX : want * 2;
    if (want > o->limit)
        want = o->limit;
    uint8_t *grown = realloc(o->buf, want ? want : 1);
    if (!grown)
        return OD_BATCH_NO_MEMORY;
    o->buf = grown;
    o->cap = want;
    return OD_BATCH_OK;
}

static od_batch_err outbuf_finish(outbuf *o, od_batch_err err, uint8_t **out, size_t *out_len)
{
    if (err == OD_BATCH_OK && o->buf == NULL) {
        o->buf = malloc(1); /* callers get a non-NULL pointer even when empty */
        if (!o->buf)
            err = OD_BATCH_NO_MEMORY;
    }
    if (err != OD_BATCH_OK) {
        free(o->buf);
        *out = NULL;
        *out_len = 0;
        return err;
    }
    *out = o->buf;
    *out_len = o->len;
    return OD_BATCH_OK;
}

/* ---------------------------------------------------------------- gzip */

static void *zalloc_fn(void *opaque, uInt items, uInt size)
{
    (void)opaque;
    return calloc(items, size);
}

static void zfree_fn(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

static od_batch_err gunzip(const uint8_t *src, size_t len, outbuf *o)
{
    if (len > UINT_MAX)
        return OD_BATCH_TOO_LARGE;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = zalloc_fn;
    zs.zfree = zfree_fn;
    /* 16 + 15: gzip wrapper only, full 32 KiB window. */
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return OD_BATCH_NO_MEMORY;
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)len;
    od_batch_err err = OD_BATCH_OK;
    for (;;) {
        uint8_t *dst;
        size_t room;
        bool probing;
        if ((err = outbuf_window(o, len, &dst, &room, &probing)) != OD_BATCH_OK)
            break;
        if (room > UINT_MAX)
            room = UINT_MAX;
        zs.next_out = dst;
        zs.avail_out = (uInt)room;
        uInt in_before = zs.avail_in;
        int ret = inflate(&zs, Z_NO_FLUSH);
        size_t produced = room - zs.avail_out;
        if (probing && produced) {
            err = OD_BATCH_TOO_LARGE;
            break;
        }
        o->len += probing ? 0 : produced;
        if (ret == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            /* Java's GZIPInputStream reads concatenated members; so do we. */
            if (inflateReset(&zs) != Z_OK) {
                err = OD_BATCH_BAD_COMPRESSION;
                break;
            }
            continue;
        }
        if (ret == Z_MEM_ERROR) {
            err = OD_BATCH_NO_MEMORY;
            break;
        }
        if (ret != Z_OK && ret != Z_BUF_ERROR) {
            err = OD_BATCH_BAD_COMPRESSION;
            break;
        }
        if (produced == 0 && zs.avail_in == in_before) {
            err = OD_BATCH_BAD_COMPRESSION; /* input ended inside the stream */
            break;
        }
    }
    inflateEnd(&zs);
    return err;
}

static od_batch_err gzip_compress(const uint8_t *src, size_t len, od_writer *w)
{
    if (len > UINT_MAX / 2)
        return OD_BATCH_TOO_LARGE;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = zalloc_fn;
    zs.zfree = zfree_fn;
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return OD_BATCH_NO_MEMORY;
    /* deflateBound does not count the gzip wrapper's 18 bytes in every zlib version. */
    size_t bound = deflateBound(&zs, (uLong)len) + 32;
    size_t at = w->len;
    uint8_t *dst = od_writer_reserve(w, bound);
    if (!dst) {
        deflateEnd(&zs);
        return OD_BATCH_NO_MEMORY;
    }
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)len;
    zs.next_out = dst;
    zs.avail_out = (uInt)bound;
    int ret = deflate(&zs, Z_FINISH);
    size_t produced = bound - zs.avail_out;
    deflateEnd(&zs);
    if (ret != Z_STREAM_END) {
        w->len = at;
        return OD_BATCH_BAD_COMPRESSION;
    }
    w->len = at + produced;
    return OD_BATCH_OK;
}

/* ---------------------------------------------------------------- snappy */

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
enum {
    XERIAL_HEADER_SIZE = 16,
    XERIAL_VERSION = 1,
    XERIAL_COMPATIBLE_VERSION = 1,
    /* snappy-java's default block size, which Kafka's producer uses. */
    XERIAL_BLOCK_SIZE = 32 * 1024,
};

static od_batch_err unsnappy_block(const uint8_t *src, size_t len, outbuf *o)
{
    size_t ulen;
    if (snappy_uncompressed_length((const char *)src, len, &ulen) != SNAPPY_OK)
        return OD_BATCH_BAD_COMPRESSION;
    /* The claimed length is checked against the limit before any allocation;
     * snappy_uncompress then fails unless the data yields exactly that many. */
    od_batch_err err = outbuf_reserve(o, ulen);
    if (err != OD_BATCH_OK)
        return err;
    size_t got = ulen;
    if (ulen > 0 &&
        snappy_uncompress((const char *)src, len, (char *)o->buf + o->len, &got) != SNAPPY_OK)
        return OD_BATCH_BAD_COMPRESSION;
    if (ulen == 0 && snappy_validate_compressed_buffer((const char *)src, len) != SNAPPY_OK)
        return OD_BATCH_BAD_COMPRESSION;
    if (got != ulen)
        return OD_BATCH_BAD_COMPRESSION;
    o->len += ulen;
    return OD_BATCH_OK;
}

static od_batch_err unsnappy(const uint8_t *src, size_t len, outbuf *o)
{
    if (len < sizeof xerial_magic || memcmp(src, xerial_magic, sizeof xerial_magic) != 0)
        return unsnappy_block(src, len, o);
    if (len < XERIAL_HEADER_SIZE)
        return OD_BATCH_BAD_COMPRESSION;
    /* snappy-java ignores the two version fields when reading; so do we. */
    size_t pos = XERIAL_HEADER_SIZE;
    while (pos < len) {
        if (len - pos < 4)
            return OD_BATCH_BAD_COMPRESSION;
        uint32_t chunk = od_load_be32(src + pos);
        pos += 4;
        if (chunk > len - pos)
            return OD_BATCH_BAD_COMPRESSION;
        od_batch_err err = unsnappy_block(src + pos, chunk, o);
        if (err != OD_BATCH_OK)
            return err;
        pos += chunk;
    }
    return OD_BATCH_OK;
}

static od_batch_err snappy_compress_xerial(const uint8_t *src, size_t len, od_writer *w)
{
    uint8_t header[XERIAL_HEADER_SIZE];
    memcpy(header, xerial_magic, sizeof xerial_magic);
    od_store_be32(header + 8, XERIAL_VERSION);
    od_store_be32(header + 12, XERIAL_COMPATIBLE_VERSION);
    od_write_raw(w, header, sizeof header);
    size_t pos = 0;
    while (pos < len && w->err == OD_WIRE_OK) {
        size_t n = len - pos < XERIAL_BLOCK_SIZE ? len - pos : XERIAL_BLOCK_SIZE;
        size_t max = snappy_max_compressed_length(n);
        size_t at = w->len;
        uint8_t *dst = od_writer_reserve(w, 4 + max);
        if (!dst)
            break;
        size_t got = max;
        if (snappy_compress((const char *)src + pos, n, (char *)dst + 4, &got) != SNAPPY_OK) {
            w->len = at;
            return OD_BATCH_BAD_COMPRESSION;
        }
        od_store_be32(dst, (uint32_t)got);
        w->len = at + 4 + got;
        pos += n;
    }
    return w->err == OD_WIRE_OK ? OD_BATCH_OK : OD_BATCH_NO_MEMORY;
}

/* ---------------------------------------------------------------- lz4 */

/* XXH32 of fewer than 16 bytes: all a frame descriptor checksum needs, and
 * liblz4 does not export its copy. */
static uint32_t xxh32_short(const uint8_t *p, size_t len, uint32_t seed)
{
    const uint32_t p1 = 2654435761u, p2 = 2246822519u, p3 = 3266489917u, p4 = 668265263u,
                   p5 = 374761393u;
    uint32_t h = seed + p5 + (uint32_t)len;
    while (len >= 4) {
        uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        h += k * p3;
        h = ((h << 17) | (h >> 15)) * p4;
        p += 4;
        len -= 4;
    }
    while (len--) {
        h += (uint32_t)(*p++) * p5;
        h = ((h << 11) | (h >> 21)) * p1;
    }
    h ^= h >> 15;
    h *= p2;
    h ^= h >> 13;
    h *= p3;
    h ^= h >> 16;
    return h;
}

enum { LZ4_FRAME_MAGIC = 0x184D2204u, LZ4_MAX_HEADER = 4 + 2 + 8 + 4 + 1 };

/* Length of the frame header at src (magic through HC), or 0 if not an lz4
 * frame header. */
static size_t lz4_header_size(const uint8_t *src, size_t len)
{
    if (len < 7)
        return 0;
    uint32_t magic = (uint32_t)src[0] | (uint32_t)src[1] << 8 | (uint32_t)src[2] << 16 |
                     (uint32_t)src[3] << 24;
    if (magic != LZ4_FRAME_MAGIC)
        return 0;
    uint8_t flg = src[4];
    size_t n = 4 + 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0) + 1;
    return n <= len ? n : 0;
}

static od_batch_err unlz4(const uint8_t *src, size_t len, outbuf *o, bool fix_header_checksum)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return OD_BATCH_NO_MEMORY;
    uint8_t fixed[LZ4_MAX_HEADER];
    const uint8_t *in = src;
    size_t in_len = len, pos = 0;
    bool in_fixed = false;
    if (fix_header_checksum) {
        /* Feed the decoder a copy of the header with the checksum it
         * expects, then continue from the original buffer after it. */
        size_t hn = lz4_header_size(src, len);
        if (hn) {
            memcpy(fixed, src, hn);
            fixed[hn - 1] = (uint8_t)(xxh32_short(fixed + 4, hn - 5, 0) >> 8);
            in = fixed;
            in_len = hn;
            in_fixed = true;
        }
    }
    od_batch_err err = OD_BATCH_OK;
    for (;;) {
        uint8_t *dst;
        size_t room;
        bool probing;
        if ((err = outbuf_window(o, len, &dst, &room, &probing)) != OD_BATCH_OK)
            break;
        size_t produced = room, consumed = in_len - pos;
        size_t ret = LZ4F_decompress(dctx, dst, &produced, in + pos, &consumed, NULL);
        if (LZ4F_isError(ret)) {
            err = OD_BATCH_BAD_COMPRESSION;
            break;
        }
        if (probing && produced) {
            err = OD_BATCH_TOO_LARGE;
            break;
        }
        o->len += probing ? 0 : produced;
        pos += consumed;
        if (in_fixed && pos == in_len) {
            in_fixed = false;
            in = src + in_len;
            in_len = len - in_len;
            pos = 0;
            consumed = 1; /* progress was made; do not read this as a stall */
        }
        if (ret == 0 && !in_fixed && pos == in_len)
            break; /* frame complete and input used up */
        if (produced == 0 && consumed == 0) {
            err = OD_BATCH_BAD_COMPRESSION; /* input ended inside the frame */
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return err;
}

static od_batch_err lz4_compress(const uint8_t *src, size_t len, od_writer *w)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    /* What Kafka's Java LZ4 stream writes: 64 KiB independent blocks, no
     * content size, no checksums beyond the header's. */
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    size_t at = w->len;
    uint8_t *dst = od_writer_reserve(w, bound);
    if (!dst)
        return OD_BATCH_NO_MEMORY;
    size_t got = LZ4F_compressFrame(dst, bound, src, len, &prefs);
    if (LZ4F_isError(got)) {
        w->len = at;
        return OD_BATCH_BAD_COMPRESSION;
    }
    w->len = at + got;
    return OD_BATCH_OK;
}

/* ---------------------------------------------------------------- zstd */

/* The decoder allocates its window from the frame header's claim before any
 * output exists, so cap it: at least 8 MiB, the window Java's zstd stream
 * declares at levels up to 19 (refusing those would break real producers),
 * more when the output bound is larger, never past zstd's own default
 * ceiling of 128 MiB. A frame asking for more fails with TOO_LARGE. */
enum { ZSTD_WINDOW_LOG_FLOOR = 23, ZSTD_DEFAULT_WINDOW_LOG_CEILING = 27 };

static int zstd_window_log_max(size_t limit)
{
    int log = ZSTD_WINDOW_LOG_FLOOR;
    while (log < ZSTD_DEFAULT_WINDOW_LOG_CEILING && ((size_t)1 << log) < limit)
        log++;
    return log;
}

static od_batch_err unzstd(const uint8_t *src, size_t len, outbuf *o)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return OD_BATCH_NO_MEMORY;
    od_batch_err err = OD_BATCH_OK;
    if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax,
                                            zstd_window_log_max(o->limit)))) {
        ZSTD_freeDCtx(dctx);
        return OD_BATCH_NO_MEMORY;
    }
    ZSTD_inBuffer in = {src, len, 0};
    for (;;) {
        uint8_t *dst;
        size_t room;
        bool probing;
        if ((err = outbuf_window(o, len, &dst, &room, &probing)) != OD_BATCH_OK)
            break;
        ZSTD_outBuffer ob = {dst, room, 0};
        size_t in_before = in.pos;
        size_t ret = ZSTD_decompressStream(dctx, &ob, &in);
        if (ZSTD_isError(ret)) {
            ZSTD_ErrorCode code = ZSTD_getErrorCode(ret);
            if (code == ZSTD_error_memory_allocation)
                err = OD_BATCH_NO_MEMORY;
            else if (code == ZSTD_error_frameParameter_windowTooLarge)
                err = OD_BATCH_TOO_LARGE;
            else
                err = OD_BATCH_BAD_COMPRESSION;
            break;
        }
        if (probing && ob.pos) {
            err = OD_BATCH_TOO_LARGE;
            break;
        }
        o->len += probing ? 0 : ob.pos;
        if (ret == 0 && in.pos == in.size)
            break; /* last frame complete */
        if (ob.pos == 0 && in.pos == in_before) {
            err = OD_BATCH_BAD_COMPRESSION; /* input ended inside a frame */
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return err;
}

static od_batch_err zstd_compress(const uint8_t *src, size_t len, od_writer *w)
{
    size_t bound = ZSTD_compressBound(len);
    size_t at = w->len;
    uint8_t *dst = od_writer_reserve(w, bound);
    if (!dst)
        return OD_BATCH_NO_MEMORY;
    /* Level 3 is Kafka's default for zstd. */
    size_t got = ZSTD_compress(dst, bound, src, len, 3);
    if (ZSTD_isError(got)) {
        w->len = at;
        return OD_BATCH_BAD_COMPRESSION;
    }
    w->len = at + got;
    return OD_BATCH_OK;
}

/* ---------------------------------------------------------------- entry */

od_batch_err od_decompress(od_compression codec, const uint8_t *src, size_t len, size_t limit,
                           uint8_t **out, size_t *out_len)
{
    outbuf o = {NULL, 0, 0, limit, 0};
    od_batch_err err;
    switch (codec) {
    case OD_COMPRESSION_GZIP: err = gunzip(src, len, &o); break;
    case OD_COMPRESSION_SNAPPY: err = unsnappy(src, len, &o); break;
    case OD_COMPRESSION_LZ4: err = unlz4(src, len, &o, false); break;
    case OD_COMPRESSION_ZSTD: err = unzstd(src, len, &o); break;
    default: err = OD_BATCH_BAD_COMPRESSION; break;
    }
    return outbuf_finish(&o, err, out, out_len);
}

od_batch_err od_decompress_lz4_legacy(const uint8_t *src, size_t len, size_t limit,
                                      uint8_t **out, size_t *out_len)
{
    outbuf o = {NULL, 0, 0, limit, 0};
    return outbuf_finish(&o, unlz4(src, len, &o, true), out, out_len);
}

od_batch_err od_compress(od_compression codec, const void *src, size_t len, od_writer *out)
{
    if (out->err != OD_WIRE_OK)
        return OD_BATCH_NO_MEMORY;
    od_batch_err err;
    switch (codec) {
    case OD_COMPRESSION_GZIP: err = gzip_compress(src, len, out); break;
    case OD_COMPRESSION_SNAPPY: err = snappy_compress_xerial(src, len, out); break;
    case OD_COMPRESSION_LZ4: err = lz4_compress(src, len, out); break;
    case OD_COMPRESSION_ZSTD: err = zstd_compress(src, len, out); break;
    default: err = OD_BATCH_BAD_COMPRESSION; break;
    }
    if (err == OD_BATCH_NO_MEMORY || out->err != OD_WIRE_OK)
        return out->err == OD_WIRE_TOO_LARGE ? OD_BATCH_TOO_LARGE : OD_BATCH_NO_MEMORY;
    return err;
}
