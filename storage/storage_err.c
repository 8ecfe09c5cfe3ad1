/*
 * storage_err.c: names for od_st_err and the errno mapping.
 *
 * Invariant: 1. every od_st_err value has a distinct, stable name (tests and
 * logs compare them).
 */
#include "storage_err.h"

#include <errno.h>

const char *od_st_err_name(od_st_err err)
{
    switch (err) {
    case OD_ST_OK: return "ok";
    case OD_ST_IO: return "io error";
    case OD_ST_NO_SPACE: return "no space";
    case OD_ST_FAILED: return "failed (sticky)";
    case OD_ST_CORRUPT: return "corrupt";
    case OD_ST_INVALID_RECORD: return "invalid record";
    case OD_ST_RECORD_TOO_LARGE: return "record too large";
    case OD_ST_BATCH_TOO_LARGE: return "batch too large";
    case OD_ST_OFFSET_OUT_OF_RANGE: return "offset out of range";
    case OD_ST_OUT_OF_ORDER: return "out of order";
    case OD_ST_NO_MEMORY: return "no memory";
    case OD_ST_INVALID_ARG: return "invalid argument";
    case OD_ST_NOT_FOUND: return "not found";
    case OD_ST_BAD_FORMAT: return "bad format";
    case OD_ST_DUPLICATE_SEQUENCE: return "duplicate sequence";
    case OD_ST_OUT_OF_ORDER_SEQUENCE: return "out of order sequence";
    case OD_ST_INVALID_PRODUCER_EPOCH: return "invalid producer epoch";
    case OD_ST_INVALID_TIMESTAMP: return "invalid timestamp";
    case OD_ST_BAD_COMPRESSED_BATCH: return "bad compressed batch";
    }
    return "unknown";
}

od_st_err od_st_from_errno(int neg_errno)
{
    if (neg_errno == -ENOSPC || neg_errno == -EDQUOT)
        return OD_ST_NO_SPACE;
    if (neg_errno == -ENOMEM)
        return OD_ST_NO_MEMORY;
    return OD_ST_IO;
}
