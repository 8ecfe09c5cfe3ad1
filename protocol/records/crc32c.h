/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of v2
 * record batches.
 *
 * Three implementations compute the same function:
 *   - portable: slicing-by-8 tables, any CPU;
 *   - x86-64: the SSE4.2 `crc32` instruction, three streams at once on large inputs;
 *   - aarch64: the ARMv8 CRC32C instructions.
 * od_crc32c (declared in record_batch.h and here) picks the hardware path on
 * first use when the running CPU has it, so one binary runs everywhere.
 *
 * All functions take the running value `crc` (0 to start) and return the
 * running value after `data`, so a buffer may be checksummed in pieces:
 * od_crc32c(od_crc32c(0, a, n), b, m) == CRC of a||b.
 */
#ifndef ODRADEK_PROTOCOL_RECORDS_CRC32C_H
#define ODRADEK_PROTOCOL_RECORDS_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Dispatching entry point: hardware when available, else portable. */
uint32_t od_crc32c(uint32_t crc, const void *data, size_t len);

/* Table-driven path; always available. */
uint32_t od_crc32c_portable(uint32_t crc, const void *data, size_t len);

/* True when this build has a hardware path and the running CPU supports it. */
bool od_crc32c_hw_available(void);

/* Hardware path. Returns the same value as od_crc32c_portable. Callable only
 * when od_crc32c_hw_available() is true: on other CPUs (or architectures
 * without a hardware path) it falls back to the portable path rather than
 * trap, so tests must check availability to know which path they measured. */
uint32_t od_crc32c_hw(uint32_t crc, const void *data, size_t len);

/* Name of the path od_crc32c uses on this CPU: "sse4.2", "armv8-crc" or "portable". */
const char *od_crc32c_impl_name(void);

#endif
