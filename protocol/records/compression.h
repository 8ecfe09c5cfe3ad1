/*
 * The four Kafka compression codecs, both directions, in the exact framings
 * Kafka clients use inside record batches and legacy wrapper messages:
 *   gzip   - RFC 1952 gzip members (zlib with the gzip wrapper);
 *   snappy - read: the xerial framing Java clients write (8-byte magic
 *            0x82 "SNAPPY" 0x00, int32 version, int32 compatible version,
 *            then chunks of big-endian int32 length + raw snappy block), or a
 *            bare raw snappy block as some non-Java clients send;
 *            write: the xerial framing, which every client reads;
 *   lz4    - the LZ4 frame format (independent 64 KiB blocks, as Kafka's
 *            own LZ4 stream writes);
 *   zstd   - standard zstd frames, decoded in streaming mode.
 *
 * Decompression is bounded: the caller says how many decompressed bytes it
 * accepts, output grows incrementally, and sizes claimed by the payload are
 * never trusted for allocation beyond that limit. A payload that would inflate
 * past the limit fails with OD_BATCH_TOO_LARGE having held at most about
 * `limit` bytes of output (plus the codec's own bounded working memory); a
 * payload the codec rejects fails with OD_BATCH_BAD_COMPRESSION.
 */
#ifndef ODRADEK_PROTOCOL_RECORDS_COMPRESSION_H
#define ODRADEK_PROTOCOL_RECORDS_COMPRESSION_H

#include <stddef.h>
#include <stdint.h>

#include "record_batch.h"
#include "wire.h"

/* Decompresses `len` bytes of `codec` data into a new malloc'd buffer.
 * On OD_BATCH_OK, *out holds *out_len bytes (*out is never NULL, even for an
 * empty result) and the CALLER owns it: release with free().
 * Errors (nothing is allocated on return, *out is NULL):
 *   OD_BATCH_TOO_LARGE       more than `limit` bytes would come out;
 *   OD_BATCH_BAD_COMPRESSION codec NONE or unknown, or a corrupt/truncated
 *                            payload, or bytes after the end of the stream;
 *   OD_BATCH_NO_MEMORY       malloc failed. */
od_batch_err od_decompress(od_compression codec, const uint8_t *src, size_t len, size_t limit,
                           uint8_t **out, size_t *out_len);

/* As od_decompress for OD_COMPRESSION_LZ4, for magic-0 legacy messages: the
 * earliest Kafka clients computed the LZ4 frame descriptor checksum over the
 * wrong bytes, so Kafka ignores that checksum for magic 0 and so do we. */
od_batch_err od_decompress_lz4_legacy(const uint8_t *src, size_t len, size_t limit,
                                      uint8_t **out, size_t *out_len);

/* Appends the `codec` compression of `len` bytes to `out`.
 * Returns OD_BATCH_OK, OD_BATCH_BAD_COMPRESSION for NONE or an unknown codec
 * (or an internal codec failure), OD_BATCH_NO_MEMORY when the writer cannot
 * grow (the writer's err is then set too). */
od_batch_err od_compress(od_compression codec, const void *src, size_t len, od_writer *out);

/* Name of a codec for logs ("none", "gzip", "snappy", "lz4", "zstd", "unknown"). */
const char *od_compression_name(od_compression codec);

#endif
