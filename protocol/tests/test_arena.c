/* Request arenas: memory handed back by od_arena_release is reused, not
 * faulted in afresh by the next request of the same size; od_arena_grow
 * keeps an array's elements while it grows. */
#include <sys/resource.h>

#include "arena.h"
#include "od_test.h"

/* Sanitizers bring their own allocators, whose reuse is theirs to decide. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OD_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define OD_SANITIZER_ALLOCATOR 1
#endif
#endif

#if defined(__GLIBC__) && !defined(OD_SANITIZER_ALLOCATOR)
#define OD_MEASURE_FAULTS 1
#endif

enum { PAGE = 4096, FRAME_BYTES = 1 << 20, REQUESTS = 64 };

#ifdef OD_MEASURE_FAULTS
static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}
#endif

/* One produce-like request: a 1 MiB frame, a copy of its batch, a little
 * bookkeeping, every byte touched, then the arena released. */
static void one_request(int i)
{
    od_arena arena;
    od_arena_init(&arena);
    size_t frame_len = FRAME_BYTES - (size_t)(i % 7) * PAGE;
    unsigned char *frame = od_arena_alloc(&arena, frame_len);
    unsigned char *copy = od_arena_alloc(&arena, frame_len - 61);
    unsigned char *small = od_arena_alloc(&arena, 300);
    if (frame && copy && small) {
        memset(frame, i, frame_len);
        memcpy(copy, frame, frame_len - 61);
        memset(small, i, 300);
    }
    od_arena_release(&arena);
}

static void test_arena_released_memory_is_reused_without_page_faults(void)
{
#ifdef OD_MEASURE_FAULTS
    od_arena_keep_released_memory();
    one_request(0);
    long before = minor_faults();
    for (int i = 1; i <= REQUESTS; i++)
        one_request(i);
    long faults = minor_faults() - before;
    /* glibc's defaults return both 1 MiB blocks to the kernel on every
     * release, about 500 faults a request; kept, the pages fault once. */
    long one_request_pages = 2 * FRAME_BYTES / PAGE;
    CHECKF(faults < one_request_pages, "%ld minor faults over %d requests", faults, REQUESTS);
#else
    /* ASan's allocator quarantines freed blocks, and other C libraries
     * have their own policy: nothing to measure. */
    od_arena_keep_released_memory();
    one_request(0);
#endif
}

typedef struct grow_item {
    int32_t index;
    char tag[24];
} grow_item;

static void test_arena_grow_keeps_elements_and_doubles(void)
{
    od_arena arena;
    od_arena_init(&arena);
    grow_item *items = NULL;
    int32_t cap = 0;
    int32_t count = 0;
    int32_t caps_seen[8], ncaps = 0;
    for (int32_t i = 0; i < 100; i++) {
        int32_t cap_before = cap;
        REQUIRE(od_arena_grow(&arena, &items, &cap, count + 1, sizeof *items));
        CHECKF(cap >= count + 1, "cap %d for %d elements", cap, count + 1);
        if (cap != cap_before && ncaps < 8)
            caps_seen[ncaps++] = cap;
        items[count].index = i;
        snprintf(items[count].tag, sizeof items[count].tag, "item-%d", (int)i);
        count++;
    }
    for (int32_t i = 0; i < count; i++) {
        char want[24];
        snprintf(want, sizeof want, "item-%d", (int)i);
        CHECK_EQ_INT(items[i].index, i);
        CHECKF(strcmp(items[i].tag, want) == 0, "element %d is %s", (int)i, items[i].tag);
    }
    /* 8, 16, 32, 64, 128: each growth doubles, from a first capacity of 8. */
    CHECK_EQ_INT(ncaps, 5);
    for (int32_t k = 0; k < ncaps; k++)
        CHECK_EQ_INT(caps_seen[k], 8 << k);
    od_arena_release(&arena);
}

static void test_arena_grow_reaches_needed_in_one_call_and_zeroes_the_rest(void)
{
    od_arena arena;
    od_arena_init(&arena);
    int64_t *values = NULL;
    int32_t cap = 0;
    REQUIRE(od_arena_grow(&arena, &values, &cap, 3, sizeof *values));
    CHECK_EQ_INT(cap, 8);
    values[0] = 7, values[1] = -1, values[2] = INT64_MAX;
    int64_t *before = values;
    CHECK(od_arena_grow(&arena, &values, &cap, 8, sizeof *values));
    CHECK(values == before); /* already large enough: nothing moves */
    REQUIRE(od_arena_grow(&arena, &values, &cap, 40, sizeof *values));
    CHECK_EQ_INT(cap, 64);
    CHECK(values != before);
    CHECK_EQ_INT(values[0], 7);
    CHECK_EQ_INT(values[1], -1);
    CHECK(values[2] == INT64_MAX);
    for (int32_t i = 3; i < cap; i++)
        CHECK_EQ_INT(values[i], 0);
    od_arena_release(&arena);
}

static void test_arena_grow_refuses_sizes_that_do_not_fit(void)
{
    od_arena arena;
    od_arena_init(&arena);
    char *bytes = NULL;
    int32_t cap = 0;
    CHECK(!od_arena_grow(&arena, &bytes, &cap, INT32_MAX, 1));
    CHECK(bytes == NULL);
    CHECK_EQ_INT(cap, 0);
    /* Capacity fits in int32_t, bytes do not fit in size_t. */
    REQUIRE(od_arena_grow(&arena, &bytes, &cap, 1, 1));
    char *kept = bytes;
    int32_t kept_cap = cap;
    CHECK(!od_arena_grow(&arena, &bytes, &cap, cap + 1, SIZE_MAX / 4));
    CHECK(bytes == kept);
    CHECK_EQ_INT(cap, kept_cap);
    od_arena_release(&arena);
}

OD_TEST_MAIN(OD_CASE(test_arena_released_memory_is_reused_without_page_faults),
             OD_CASE(test_arena_grow_keeps_elements_and_doubles),
             OD_CASE(test_arena_grow_reaches_needed_in_one_call_and_zeroes_the_rest),
             OD_CASE(test_arena_grow_refuses_sizes_that_do_not_fit))
