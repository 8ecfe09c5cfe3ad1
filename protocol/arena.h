/*
 * Per-request memory arena.
 *
 * A request's decoded arrays, its handler's scratch memory and its response
 * all come from one arena, released in one call when the response has been
 * written. Nothing allocated here is freed individually.
 *
 * Ownership: an arena belongs to exactly one thread at a time (the thread that
 * is handling the request). It is not thread-safe.
 */
#ifndef ODRADEK_PROTOCOL_ARENA_H
#define ODRADEK_PROTOCOL_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct od_arena_chunk od_arena_chunk;

typedef struct od_arena {
    od_arena_chunk *head;      /* chunk currently being carved; older ones follow */
    size_t next_chunk_size;    /* grows geometrically so large requests need few chunks */
    size_t bytes_allocated;    /* sum of chunk sizes, for memory accounting */
} od_arena;

/* Prepares an empty arena; allocates nothing until first use. */
void od_arena_init(od_arena *arena);

/* Returns `size` bytes aligned to 16, or NULL when memory is exhausted.
 * A zero-byte request returns a valid, unique-enough non-NULL pointer. */
void *od_arena_alloc(od_arena *arena, size_t size);

/* Like od_arena_alloc, but the memory is zeroed. */
void *od_arena_calloc(od_arena *arena, size_t count, size_t size);

/* Makes the array at *items (an arena array of *cap elements of elem_size
 * bytes; items_address is the address of the caller's T * variable) hold at
 * least `needed` elements. When it is too small, a new array of twice the
 * capacity (at least 8, at least `needed`) comes from the arena, zeroed, the
 * old *cap elements are copied into it, and *items and *cap are updated; the old
 * array stays in the arena until it is released. Returns true when the array
 * holds `needed` elements; false when memory is exhausted or the size does
 * not fit, with *items and *cap unchanged. */
bool od_arena_grow(od_arena *arena, void *items_address, int32_t *cap, int32_t needed,
                   size_t elem_size);

/* Releases every chunk; the arena is empty and reusable afterwards. */
void od_arena_release(od_arena *arena);

/* Asks the C library to keep the memory of released chunks in the process.
 * A produce request's frame and its batch copy are about 1 MiB each; by
 * default glibc gives blocks that large back to the kernel when they are
 * freed (munmap above its mmap threshold, madvise when it trims a thread's
 * heap), so every request page-faults fresh zeroed pages back in: half of
 * the broker's CPU per produced byte went there (docs/benchmarks.md).
 * Blocks up to 8 MiB then come from the heap, and a heap is trimmed only
 * when more than 32 MiB of it is free. Call once at start, before threads.
 * Does nothing with other C libraries. */
void od_arena_keep_released_memory(void);

#endif
