#include "crc32c.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#define OD_CRC_HW_X86 1
#elif defined(__aarch64__)
#include <arm_acle.h>
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1UL << 7) /* Linux arm64 uapi value; older libc headers lack it */
#endif
#define OD_CRC_HW_ARM 1
#endif

enum { CRC32C_POLY_REFLECTED = 0x82F63B78u };

/* ---------------------------------------------------------------- portable */

/* tables[k][b] is the CRC contribution of byte b followed by k zero bytes, so
 * eight table lookups fold eight input bytes at once. Built once at first use
 * (2 KiB x 4 is cheap to compute and keeps the source free of magic tables). */
static uint32_t tables[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int bit = 0; bit < 8; bit++)
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
        tables[0][b] = c;
    }
    for (int k = 1; k < 8; k++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t prev = tables[k - 1][b];
            tables[k][b] = (prev >> 8) ^ tables[0][prev & 0xff];
        }
}

uint32_t od_crc32c_portable(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&tables_once, build_tables);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (len >= 8) {
        /* Byte-wise assembly keeps this endian- and alignment-neutral. */
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        c = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^
            tables[4][lo >> 24] ^ tables[3][p[4]] ^ tables[2][p[5]] ^ tables[1][p[6]] ^
            tables[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xff];
    return ~c;
}

/* ---------------------------------------------------------------- hardware */

#if defined(OD_CRC_HW_X86)

/*
 * One crc32 instruction's result feeds the next, so a single stream keeps the
 * unit a third busy. Large inputs are cut into three adjacent blocks run as
 * independent streams, then joined: the first stream's value is carried past
 * the bytes of the next block by a "shift by n zero bytes" map, a linear map
 * on the 32-bit register precomputed as four 256-entry tables per block size.
 */
enum { LONG_BLOCK = 8192, SHORT_BLOCK = 256 };

static uint32_t long_shift[4][256], short_shift[4][256];
static pthread_once_t shift_tables_once = PTHREAD_ONCE_INIT;

/* A linear map on the CRC register: column i is the image of bit i. */
typedef struct crc_linear_map {
    uint32_t col[32];
} crc_linear_map;

static uint32_t map_apply(const crc_linear_map *m, uint32_t v)
{
    uint32_t r = 0;
    for (int i = 0; v; i++, v >>= 1)
        if (v & 1)
            r ^= m->col[i];
    return r;
}

/* The map for n zero bytes, n a power of two: one byte's map squared log2(n) times. */
static void zero_bytes_map(crc_linear_map *m, size_t n)
{
    for (int i = 0; i < 32; i++) {
        uint32_t c = 1u << i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (CRC32C_POLY_REFLECTED & (0u - (c & 1)));
        m->col[i] = c;
    }
    for (size_t have = 1; have < n; have *= 2) {
        crc_linear_map sq;
        for (int i = 0; i < 32; i++)
            sq.col[i] = map_apply(m, m->col[i]);
        *m = sq;
    }
}

static void build_shift_table(uint32_t t[4][256], size_t n)
{
    crc_linear_map m;
    zero_bytes_map(&m, n);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            t[k][b] = map_apply(&m, b << (8 * k));
}

static void build_shift_tables(void)
{
    build_shift_table(long_shift, LONG_BLOCK);
    build_shift_table(short_shift, SHORT_BLOCK);
}

static uint32_t shift_past(const uint32_t t[4][256], uint32_t c)
{
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* The target attribute lets these functions use SSE4.2 while the rest of
 * the binary stays baseline x86-64; they run only after cpuid said yes. */
__attribute__((target("sse4.2"))) static uint32_t three_streams(uint32_t c, const uint8_t **pp,
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
        c = shift_past(t, (uint32_t)c0) ^ (uint32_t)c1;
        c = shift_past(t, c) ^ (uint32_t)c2;
        p += 3 * block;
        len -= 3 * block;
    }
    *pp = p;
    *lenp = len;
    return c;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *data,
                                                               size_t len)
{
    const uint8_t *p = data;
    uint32_t c = ~crc;
    if (len >= 3 * SHORT_BLOCK) {
        pthread_once(&shift_tables_once, build_shift_tables);
        c = three_streams(c, &p, &len, LONG_BLOCK, (const uint32_t(*)[256])long_shift);
        c = three_streams(c, &p, &len, SHORT_BLOCK, (const uint32_t(*)[256])short_shift);
    }
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

static bool cpu_has_hw(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return false;
    return (ecx & bit_SSE4_2) != 0;
}

#define HW_FN crc32c_sse42
#define HW_NAME "sse4.2"

#elif defined(OD_CRC_HW_ARM)

/* Clang's arm_acle.h hides the CRC intrinsics unless the whole file is built
 * with +crc, so it gets the builtins directly; GCC's header declares them
 * under its own target pragma. */
#if defined(__clang__)
#define OD_TARGET_CRC __attribute__((target("crc")))
#define OD_CRC32CB __builtin_arm_crc32cb
#define OD_CRC32CD __builtin_arm_crc32cd
#else
#define OD_TARGET_CRC __attribute__((target("+crc")))
#define OD_CRC32CB __crc32cb
#define OD_CRC32CD __crc32cd
#endif

OD_TARGET_CRC static uint32_t crc32c_armv8(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        c = OD_CRC32CB(c, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = OD_CRC32CD(c, word);
        p += 8;
        len -= 8;
    }
    while (len--)
        c = OD_CRC32CB(c, *p++);
    return ~c;
}

static bool cpu_has_hw(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
}

#define HW_FN crc32c_armv8
#define HW_NAME "armv8-crc"

#else

static bool cpu_has_hw(void)
{
    return false;
}

#define HW_FN od_crc32c_portable
#define HW_NAME "portable"

#endif

/* ---------------------------------------------------------------- dispatch */

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

/* 0 = not probed yet, 1 = no hardware, 2 = hardware. Probing twice from two
 * threads is harmless (same answer), so a relaxed atomic suffices. */
static atomic_int hw_state;

bool od_crc32c_hw_available(void)
{
    int s = atomic_load_explicit(&hw_state, memory_order_relaxed);
    if (s == 0) {
        s = cpu_has_hw() ? 2 : 1;
        atomic_store_explicit(&hw_state, s, memory_order_relaxed);
    }
    return s == 2;
}

uint32_t od_crc32c_hw(uint32_t crc, const void *data, size_t len)
{
    if (!od_crc32c_hw_available())
        return od_crc32c_portable(crc, data, len);
    return HW_FN(crc, data, len);
}

uint32_t od_crc32c(uint32_t crc, const void *data, size_t len)
{
    crc_fn fn = od_crc32c_hw_available() ? HW_FN : od_crc32c_portable;
    return fn(crc, data, len);
}

const char *od_crc32c_impl_name(void)
{
    return od_crc32c_hw_available() ? HW_NAME : "portable";
}
