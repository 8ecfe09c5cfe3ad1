/* Request arenas: memory handed back by od_arena_release is reused, not
 * faulted in afresh by the next request of the same size. */
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

OD_TEST_MAIN(OD_CASE(test_arena_released_memory_is_reused_without_page_faults))
