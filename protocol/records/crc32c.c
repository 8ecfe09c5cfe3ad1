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

/* The target attribute lets this one function use SSE4.2 while the rest of
 * the binary stays baseline x86-64; it runs only after cpuid said yes. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *data,
                                                               size_t len)
{
    const uint8_t *p = data;
    uint64_t c = ~crc;
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        len -= 8;
    }
    while (len--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
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
