/*
 * Results of the kraft module's own operations (as opposed to the Kafka
 * error codes the controller puts in per-item results, see controller.h).
 *
 * Invariants
 *   1. OD_KR_OK is zero; out-parameters are valid only on OD_KR_OK.
 *   2. OD_KR_FAILED is sticky: once storage failed under the quorum, every
 *      operation that needs the log returns it until the module is reopened.
 * State machine: none.
 */
#ifndef ODRADEK_KRAFT_ERR_H
#define ODRADEK_KRAFT_ERR_H

typedef enum od_kr_err {
    OD_KR_OK = 0,
    OD_KR_IO,             /* storage failed (KAFKA_STORAGE_ERROR) */
    OD_KR_CORRUPT,        /* a log, checkpoint or state file that does not parse or apply */
    OD_KR_NO_MEMORY,
    OD_KR_NOT_LEADER,     /* writes need the Leader role (NOT_CONTROLLER) */
    OD_KR_UNSUPPORTED,    /* a multi-voter path that is not implemented yet */
    OD_KR_INVALID,        /* bad arguments or configuration */
    OD_KR_TOO_LARGE,      /* one batch above OD_RAFT_MAX_BATCH_BYTES */
    OD_KR_FAILED,         /* sticky: an earlier storage error (invariant 2) */
} od_kr_err;

const char *od_kr_err_name(od_kr_err err);

#endif
