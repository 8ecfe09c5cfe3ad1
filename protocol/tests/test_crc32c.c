#include "od_test.h"
#include "records/crc32c.h"
#include "records/record_batch.h"

typedef uint32_t (*crc_path)(uint32_t, const void *, size_t);

static const struct {
    const char *name;
    crc_path fn;
} paths[] = {
    {"dispatch", od_crc32c},
    {"portable", od_crc32c_portable},
    {"hardware", od_crc32c_hw},
};
enum { PATH_COUNT = sizeof paths / sizeof paths[0] };

/* Fixed-seed xorshift so failures reproduce. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void reports_which_path_runs(void)
{
    printf("crc32c: dispatch uses %s (hardware %savailable)\n", od_crc32c_impl_name(),
           od_crc32c_hw_available() ? "" : "NOT ");
#if defined(__x86_64__) || defined(__aarch64__)
    /* Every CI machine we target has the instructions; a silent fallback
     * would leave the hardware path untested. */
    CHECK(od_crc32c_hw_available());
#endif
}

static void rfc3720_vectors_on_every_path(void)
{
    uint8_t zeros[32], ones[32], ascending[32], descending[32];
    for (int i = 0; i < 32; i++) {
        zeros[i] = 0x00;
        ones[i] = 0xff;
        ascending[i] = (uint8_t)i;
        descending[i] = (uint8_t)(31 - i);
    }
    const struct {
        const void *data;
        size_t len;
        uint32_t want;
    } vectors[] = {
        {zeros, 32, 0x8A9136AAu},
        {ones, 32, 0x62A8AB43u},
        {ascending, 32, 0x46DD794Eu},
        {descending, 32, 0x113FDB5Cu},
        {"123456789", 9, 0xE3069283u},
        {"", 0, 0x00000000u},
        {"a", 1, 0xC1D04330u},
    };
    for (int p = 0; p < PATH_COUNT; p++)
        for (size_t v = 0; v < sizeof vectors / sizeof vectors[0]; v++) {
            uint32_t got = paths[p].fn(0, vectors[v].data, vectors[v].len);
            CHECKF(got == vectors[v].want, "%s vector %zu: got %08x want %08x", paths[p].name, v,
                   got, vectors[v].want);
        }
}

static void running_value_composes_on_every_path(void)
{
    const char *s = "123456789";
    for (int p = 0; p < PATH_COUNT; p++)
        for (size_t cut = 0; cut <= 9; cut++) {
            uint32_t c = paths[p].fn(0, s, cut);
            c = paths[p].fn(c, s + cut, 9 - cut);
            CHECKF(c == 0xE3069283u, "%s split at %zu: %08x", paths[p].name, cut, c);
        }
}

static void hardware_matches_portable_on_random_buffers(void)
{
    enum { MAX = 4096 + 64 };
    static uint8_t buf[MAX];
    for (size_t i = 0; i < MAX; i++)
        buf[i] = (uint8_t)rng();
    for (int round = 0; round < 20000; round++) {
        size_t misalign = rng() % 16;
        size_t len = (round < 300) ? (size_t)round : (size_t)(rng() % (MAX - misalign));
        uint32_t seed = (round & 1) ? (uint32_t)rng() : 0;
        uint32_t want = od_crc32c_portable(seed, buf + misalign, len);
        uint32_t hw = od_crc32c_hw(seed, buf + misalign, len);
        uint32_t disp = od_crc32c(seed, buf + misalign, len);
        if (hw != want || disp != want) {
            CHECKF(false, "len %zu misalign %zu: portable %08x hw %08x dispatch %08x", len,
                   misalign, want, hw, disp);
            return;
        }
    }
    CHECK(true);
}

static void large_buffer_agrees(void)
{
    size_t n = 3u << 20;
    uint8_t *big = malloc(n + 7);
    REQUIRE(big != NULL);
    for (size_t i = 0; i < n + 7; i++)
        big[i] = (uint8_t)(i * 131 + (i >> 9));
    for (size_t off = 0; off < 8; off += 3)
        CHECK_EQ_INT(od_crc32c_hw(0, big + off, n), od_crc32c_portable(0, big + off, n));
    free(big);
}

static void three_stream_joins_agree_around_block_sizes(void)
{
    /* Lengths at and around the multiples where the hardware path switches
     * between its 3 x 8 KiB, 3 x 256 B and single-stream loops, at every
     * alignment, from a zero and a non-zero running value. */
    size_t cap = 2 * 3 * 8192 + 3 * 256 * 2 + 64;
    uint8_t *buf = malloc(cap);
    REQUIRE(buf != NULL);
    for (size_t i = 0; i < cap; i++)
        buf[i] = (uint8_t)rng();
    static const size_t lens[] = {767, 768, 769, 1000, 16205, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1,
                                  3 * 8192 + 3 * 256 + 5, 2 * 3 * 8192 + 9};
    int bad = 0;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (size_t off = 0; off < 16; off++) {
            size_t n = lens[li];
            if (off + n > cap)
                continue;
            bad += od_crc32c_hw(0, buf + off, n) != od_crc32c_portable(0, buf + off, n);
            bad += od_crc32c_hw(0x12345678u, buf + off, n) != od_crc32c_portable(0x12345678u, buf + off, n);
        }
    for (size_t n = 3 * 256 - 8; n < 3 * 256 * 2 + 20; n++)
        bad += od_crc32c_hw(0, buf + 3, n) != od_crc32c_portable(0, buf + 3, n);
    CHECK_EQ_INT(bad, 0);
    free(buf);
}

OD_TEST_MAIN(OD_CASE(reports_which_path_runs), OD_CASE(rfc3720_vectors_on_every_path),
             OD_CASE(running_value_composes_on_every_path),
             OD_CASE(hardware_matches_portable_on_random_buffers), OD_CASE(large_buffer_agrees),
             OD_CASE(three_stream_joins_agree_around_block_sizes))
