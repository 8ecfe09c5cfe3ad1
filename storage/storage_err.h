/*
 * Results shared by every storage module. Each value maps to one Kafka error
 * code in the broker (noted beside it), so a handler never has to guess.
 */
#ifndef ODRADEK_STORAGE_ERR_H
#define ODRADEK_STORAGE_ERR_H

typedef enum od_st_err {
    OD_ST_OK = 0,
    OD_ST_IO,                /* an I/O call failed; state was rolled back (KAFKA_STORAGE_ERROR) */
    OD_ST_NO_SPACE,          /* ENOSPC/EDQUOT; rolled back, retry may succeed (KAFKA_STORAGE_ERROR) */
    OD_ST_FAILED,            /* sticky: a rollback failed, log is read-only until reopened (KAFKA_STORAGE_ERROR) */
    OD_ST_CORRUPT,           /* CRC mismatch or unparsable batch (CORRUPT_MESSAGE) */
    OD_ST_INVALID_RECORD,    /* magic, counts or offsets inconsistent (INVALID_RECORD) */
    OD_ST_RECORD_TOO_LARGE,  /* one batch above max.message.bytes (MESSAGE_TOO_LARGE) */
    OD_ST_BATCH_TOO_LARGE,   /* the whole append above segment.bytes (RECORD_LIST_TOO_LARGE) */
    OD_ST_OFFSET_OUT_OF_RANGE, /* (OFFSET_OUT_OF_RANGE) */
    OD_ST_OUT_OF_ORDER,      /* follower batch below the log end (OUT_OF_ORDER_SEQUENCE_NUMBER / UNKNOWN_SERVER_ERROR) */
    OD_ST_NO_MEMORY,
    OD_ST_INVALID_ARG,
    OD_ST_NOT_FOUND,
    OD_ST_BAD_FORMAT,        /* a checkpoint or metadata file that does not parse */
    OD_ST_DUPLICATE_SEQUENCE, /* idempotent retry of a batch already in the log: answer with its offsets (NONE) */
    OD_ST_OUT_OF_ORDER_SEQUENCE, /* (OUT_OF_ORDER_SEQUENCE_NUMBER) */
    OD_ST_INVALID_PRODUCER_EPOCH, /* an older producer epoch (INVALID_PRODUCER_EPOCH) */
    OD_ST_INVALID_TIMESTAMP, /* a CreateTime record outside message.timestamp.before/after.max.ms (INVALID_TIMESTAMP) */
    OD_ST_BAD_COMPRESSED_BATCH, /* unknown codec, a payload the codec rejects, or inner offsets not 0..n-1: Kafka
                                 * 3.9 fails these with an unexpected exception (UNKNOWN_SERVER_ERROR) */
} od_st_err;

const char *od_st_err_name(od_st_err err);

/* Maps a negated errno from od_fio to OD_ST_NO_SPACE or OD_ST_IO. */
od_st_err od_st_from_errno(int neg_errno);

#endif
