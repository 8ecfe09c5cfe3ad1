/*
 * CRC-32C for the append path, internal to storage/.
 *
 * Same function as od_crc32c (records/record_batch.h), same results; on x86
 * with SSE4.2 it runs three independent streams over large buffers, since
 * one crc32 instruction's result feeds the next and a single stream leaves
 * two thirds of the unit idle. Validating a producer's batch is the only
 * pass over its bytes the append path makes in user space, so this is where
 * its speed shows.
 */
#ifndef ODRADEK_STORAGE_CRC_FAST_H
#define ODRADEK_STORAGE_CRC_FAST_H

#include <stddef.h>
#include <stdint.h>

/* crc: the value returned for the preceding bytes (0 to start). */
uint32_t od_st_crc32c(uint32_t crc, const void *data, size_t len);

#endif
