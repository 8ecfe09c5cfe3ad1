/* The append path's three-stream CRC-32C gives od_crc32c's results for
 * every length around its block sizes, at every alignment, and chained. */
#include <stdlib.h>

#include "crc_fast.h"
#include "od_test.h"
#include "records/record_batch.h"

static void test_matches_reference(void)
{
    size_t cap = 3 * 8192 * 2 + 3 * 256 * 2 + 64;
    uint8_t *buf = malloc(cap);
    REQUIRE(buf);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < cap; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    static const size_t lens[] = {0, 1, 7, 8, 9, 255, 256, 767, 768, 769, 1000, 16205,
                                  3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 3 * 8192 + 3 * 256 + 5,
                                  2 * 3 * 8192 + 9};
    int bad = 0;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (size_t off = 0; off < 16; off++) {
            size_t n = lens[li];
            if (off + n > cap)
                continue;
            bad += od_st_crc32c(0, buf + off, n) != od_crc32c(0, buf + off, n);
            /* Chained from a non-zero crc, as a caller continuing a stream. */
            bad += od_st_crc32c(0x12345678u, buf + off, n) != od_crc32c(0x12345678u, buf + off, n);
        }
    for (size_t n = 0; n < 3 * 256 * 2 + 20; n++)
        bad += od_st_crc32c(0, buf + 3, n) != od_crc32c(0, buf + 3, n);
    CHECK_EQ_INT(bad, 0);
    /* The standard check value of CRC-32C. */
    CHECK_EQ_INT(od_st_crc32c(0, "123456789", 9), 0xE3069283u);
    free(buf);
}

OD_TEST_MAIN(OD_CASE(test_matches_reference))
