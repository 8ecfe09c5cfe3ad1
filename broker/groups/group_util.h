/*
 * What the classic coordinator (group_coordinator.c) and the KIP-848 one
 * (consumer_group.c) both need, kept in one place so they cannot drift:
 * owned strings, the group table's hash, the member-id random sequence and
 * the wake-up bookkeeping of their timers. Internal to od_groups.
 *
 * Ownership: every function works on state its caller owns; each
 * coordinator's state belongs to its group thread.
 */
#ifndef ODRADEK_GROUPS_GROUP_UTIL_H
#define ODRADEK_GROUPS_GROUP_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "group_coordinator.h"

/* An owned string or byte string, NUL-terminated; len -1 is null. */
typedef struct gbuf {
    char *p;
    int32_t len;
} gbuf;

static inline od_str bstr(const gbuf *b)
{
    return (od_str){b->p, b->len};
}

static inline od_bytes bbytes(const gbuf *b)
{
    return (od_bytes){(const uint8_t *)b->p, b->len};
}

/* Whether b holds s: null equals only null. */
static inline bool beq(const gbuf *b, od_str s)
{
    if (b->len != s.len)
        return false;
    return b->len <= 0 || memcmp(b->p, s.ptr, (size_t)b->len) == 0;
}

static inline void bfree(gbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = -1;
}

/* Copies len bytes (len -1: null). Returns false when out of memory, with
 * b unchanged. */
static inline bool bset(gbuf *b, const void *p, int32_t len)
{
    char *copy = NULL;
    if (len >= 0) {
        copy = malloc((size_t)len + 1);
        if (!copy)
            return false;
        if (len)
            memcpy(copy, p, (size_t)len);
        copy[len] = 0;
    }
    free(b->p);
    b->p = copy;
    b->len = len;
    return true;
}

static inline bool bset_str(gbuf *b, od_str s)
{
    return bset(b, s.ptr, s.len);
}

/* FNV-1a of a group id, for the coordinators' group hash tables. */
static inline uint64_t group_id_hash(od_str id)
{
    uint64_t h = 1469598103934665603ULL;
    for (int32_t i = 0; i < id.len; i++)
        h = (h ^ (uint8_t)id.ptr[i]) * 1099511628211ULL;
    return h;
}

/* splitmix64: tests seed it for reproducible member ids. */
static inline uint64_t next_random_from(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The first state of the member-id sequence: the configured seed, else
 * the kernel's randomness, else the clock mixed with an address. */
static inline uint64_t random_seed(uint64_t configured, const void *salt)
{
    uint64_t seed = configured;
    if (seed == 0 && getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)salt;
    return seed;
}

/* Invariant (both coordinators): every deadline is armed through
 * wake_arm, so wake_request only has to compare the earliest new one with
 * what the broker already has (a scan of every timer happens once per
 * tick, not once per request). */
typedef struct group_wake {
    int64_t armed_min;           /* earliest deadline armed since the last wake request; -1 none */
    int64_t requested_wake;      /* what env.wake_at was last asked for; -1 none */
} group_wake;

/* The earlier of two deadlines, where -1 is none. */
static inline int64_t min_deadline(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

static inline int64_t wake_arm(group_wake *w, int64_t at)
{
    if (w->armed_min < 0 || at < w->armed_min)
        w->armed_min = at;
    return at;
}

/* Asks the broker for a tick at the earliest deadline armed since the last
 * request, when that is sooner than the tick already asked for. A deadline
 * that later moved or vanished only causes an early, harmless tick. */
static inline void wake_request(group_wake *w, const od_gc_env *env)
{
    int64_t d = w->armed_min;
    w->armed_min = -1;
    if (d < 0 || (w->requested_wake >= 0 && w->requested_wake <= d))
        return;
    w->requested_wake = d;
    if (env->wake_at)
        env->wake_at(env->ctx, d);
}

#endif
