/*
 * crc_fast.c: three-stream CRC-32C (see crc_fast.h).
 *
 * Invariants:
 *   1. od_st_crc32c(c, p, n) == od_crc32c(c, p, n) for every input; the
 *      tests compare them on every length up to a few blocks and at random
 *      alignments.
 *   2. The shift tables are built once, before first use, and only read
 *      afterwards (pthread_once), so any thread may call this.
 *
 * States: UNINIT --first call (pthread_once)--> READY (hardware or fallback).
 *
 * The streams are joined with the CRC's linearity: the register after
 * A||B equals the register after A moved through |B| zero bytes, xor the
 * register after B started from zero. Moving through a fixed number of
 * zero bytes is a linear map on 32 bits, kept as four 256-entry tables.
 */
#include "crc_fast.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "records/record_batch.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <nmmintrin.h>
#define OD_ST_CRC_X86 1
#endif

#ifdef OD_ST_CRC_X86

enum { LONG_BLOCK = 8192, SHORT_BLOCK = 256 };

#define POLY 0x82f63b78u /* CRC-32C, reflected */

static uint32_t long_shift[4][256], short_shift[4][256];
static bool have_hw;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* A linear map on the 32-bit register: column i is the image of bit i. */
typedef struct op32 {
    uint32_t col[32];
} op32;

static uint32_t op_apply(const op32 *op, uint32_t v)
{
    uint32_t r = 0;
    for (int i = 0; v; i++, v >>= 1)
        if (v & 1)
            r ^= op->col[i];
    return r;
}

/* The map for n zero bytes, n a power of two. */
static void zeros_op(op32 *op, size_t n)
{
    for (int i = 0; i < 32; i++) {
        uint32_t c = 1u << i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (POLY & (0u - (c & 1)));
        op->col[i] = c;
    }
    for (size_t have = 1; have < n; have *= 2) {
        op32 sq;
        for (int i = 0; i < 32; i++)
            sq.col[i] = op_apply(op, op->col[i]);
        *op = sq;
    }
}

static void build_tables(uint32_t t[4][256], size_t n)
{
    op32 op;
    zeros_op(&op, n);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            t[k][b] = op_apply(&op, b << (8 * k));
}

static uint32_t shift(const uint32_t t[4][256], uint32_t c)
{
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static void init(void)
{
    unsigned eax, ebx, ecx, edx;
    have_hw = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_SSE4_2) != 0;
    if (have_hw) {
        build_tables(long_shift, LONG_BLOCK);
        build_tables(short_shift, SHORT_BLOCK);
    }
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

__attribute__((target("sse4.2"))) static uint32_t blocks3(uint32_t c, const uint8_t **pp,
                                                          size_t *lenp, size_t block,
                                                          const uint32_t t[4][256])
{
    const uint8_t *p = *pp;
    size_t len = *lenp;
    while (len >= 3 * block) {
        uint64_t c0 = c, c1 = 0, c2 = 0;
        for (size_t i = 0; i < block; i += 8) {
            c0 = _mm_crc32_u64(c0, load64(p + i));
            c1 = _mm_crc32_u64(c1, load64(p + block + i));
            c2 = _mm_crc32_u64(c2, load64(p + 2 * block + i));
        }
        c = shift(t, (uint32_t)c0) ^ (uint32_t)c1;
        c = shift(t, c) ^ (uint32_t)c2;
        p += 3 * block;
        len -= 3 * block;
    }
    *pp = p;
    *lenp = len;
    return c;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
    uint32_t c = ~crc;
    c = blocks3(c, &p, &len, LONG_BLOCK, (const uint32_t(*)[256])long_shift);
    c = blocks3(c, &p, &len, SHORT_BLOCK, (const uint32_t(*)[256])short_shift);
    uint64_t c64 = c;
    while (len >= 8) {
        c64 = _mm_crc32_u64(c64, load64(p));
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
    while (len--)
        c = _mm_crc32_u8(c, *p++);
    return ~c;
}

uint32_t od_st_crc32c(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&once, init);
    if (!have_hw)
        return od_crc32c(crc, data, len);
    return crc_hw(crc, data, len);
}

#else

uint32_t od_st_crc32c(uint32_t crc, const void *data, size_t len)
{
    return od_crc32c(crc, data, len);
}

#endif
