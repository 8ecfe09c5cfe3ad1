/*
 * The broker side both group-coordinator fuzz targets run on: a clock the
 * target moves by hand, no wake-ups, and a log that accepts every append
 * (what the coordinators write is not under test; what they load is).
 */
#ifndef ODRADEK_GROUPS_FUZZ_GROUP_ENV_H
#define ODRADEK_GROUPS_FUZZ_GROUP_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "group_coordinator.h"

static int64_t fuzz_clock = 1000000;

static inline int64_t fuzz_now(void *ctx)
{
    (void)ctx;
    return fuzz_clock;
}

static inline int16_t fuzz_append(void *ctx, int32_t partition, const uint8_t *b, size_t len)
{
    (void)ctx;
    (void)partition;
    (void)b;
    (void)len;
    return 0;
}

static inline od_gc_env fuzz_group_env(void)
{
    return (od_gc_env){NULL, fuzz_now, NULL, fuzz_append};
}

#endif
