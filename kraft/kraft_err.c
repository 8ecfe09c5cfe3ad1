/*
 * Names for od_kr_err, for logs and test output.
 * Invariants: one name per value. State machine: none.
 */
#include "kraft_err.h"

const char *od_kr_err_name(od_kr_err err)
{
    switch (err) {
    case OD_KR_OK: return "OK";
    case OD_KR_IO: return "IO";
    case OD_KR_CORRUPT: return "CORRUPT";
    case OD_KR_NO_MEMORY: return "NO_MEMORY";
    case OD_KR_NOT_LEADER: return "NOT_LEADER";
    case OD_KR_UNSUPPORTED: return "UNSUPPORTED";
    case OD_KR_INVALID: return "INVALID";
    case OD_KR_TOO_LARGE: return "TOO_LARGE";
    case OD_KR_FAILED: return "FAILED";
    }
    return "UNKNOWN";
}
