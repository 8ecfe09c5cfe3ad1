#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

enum { ARENA_GROW_FIRST_CAPACITY = 8 };
enum { ARENA_ALIGN = 16, ARENA_FIRST_CHUNK = 4096, ARENA_MAX_GROWTH_CHUNK = 1 << 20 };
enum { HEAP_BLOCKS_UP_TO = 8 << 20, TRIM_HEAP_ABOVE = 32 << 20 };

struct od_arena_chunk {
    od_arena_chunk *older;
    size_t capacity;
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void od_arena_init(od_arena *arena)
{
    arena->head = NULL;
    arena->next_chunk_size = ARENA_FIRST_CHUNK;
    arena->bytes_allocated = 0;
}

static size_t round_up(size_t n)
{
    return (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
}

void *od_arena_alloc(od_arena *arena, size_t size)
{
    size_t need = round_up(size ? size : 1);
    if (need < size) /* overflow */
        return NULL;
    od_arena_chunk *chunk = arena->head;
    if (chunk == NULL || chunk->capacity - chunk->used < need) {
        size_t capacity = arena->next_chunk_size;
        if (capacity < need)
            capacity = need;
        if (capacity > SIZE_MAX - sizeof(od_arena_chunk))
            return NULL;
        chunk = malloc(sizeof(od_arena_chunk) + capacity);
        if (chunk == NULL)
            return NULL;
        chunk->capacity = capacity;
        chunk->used = 0;
        chunk->older = arena->head;
        arena->head = chunk;
        arena->bytes_allocated += capacity;
        if (arena->next_chunk_size < ARENA_MAX_GROWTH_CHUNK)
            arena->next_chunk_size *= 2;
    }
    void *p = chunk->data + chunk->used;
    chunk->used += need;
    return p;
}

void *od_arena_calloc(od_arena *arena, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = od_arena_alloc(arena, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

bool od_arena_grow(od_arena *arena, void *items_address, int32_t *cap, int32_t needed,
                   size_t elem_size)
{
    if (needed <= *cap)
        return true;
    int32_t grown_cap = *cap > 0 ? *cap : ARENA_GROW_FIRST_CAPACITY / 2;
    do {
        if (grown_cap > INT32_MAX / 2)
            return false;
        grown_cap *= 2;
    } while (grown_cap < needed);
    void *grown = od_arena_calloc(arena, (size_t)grown_cap, elem_size);
    if (grown == NULL)
        return false;
    /* The caller's variable is a T *, not a void *: read and write it as
     * bytes, which every pointer type we build for represents alike. */
    void *old;
    memcpy(&old, items_address, sizeof old);
    if (*cap > 0)
        memcpy(grown, old, (size_t)*cap * elem_size);
    memcpy(items_address, &grown, sizeof grown);
    *cap = grown_cap;
    return true;
}

void od_arena_release(od_arena *arena)
{
    od_arena_chunk *chunk = arena->head;
    while (chunk) {
        od_arena_chunk *older = chunk->older;
        free(chunk);
        chunk = older;
    }
    od_arena_init(arena);
}

void od_arena_keep_released_memory(void)
{
#ifdef __GLIBC__
    /* Setting either threshold also stops glibc from moving them itself. */
    mallopt(M_MMAP_THRESHOLD, HEAP_BLOCKS_UP_TO);
    mallopt(M_TRIM_THRESHOLD, TRIM_HEAP_ABOVE);
#endif
}
