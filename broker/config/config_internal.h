/*
 * Shorthand shared by the two config tables; not part of the public API.
 * The choice lists live here because a broker key and its topic twin
 * (compression.type, log.cleanup.policy/cleanup.policy, ...) must accept
 * exactly the same words.
 */
#ifndef ODRADEK_CONFIG_INTERNAL_H
#define ODRADEK_CONFIG_INTERNAL_H

#include "config_value.h"

static const char *const compression_types[] = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer", NULL};
static const char *const cleanup_policies[] = {"compact", "delete", NULL};
static const char *const timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};

#define V_NONE {.kind = OD_VALIDATOR_NONE}
#define V_MIN(a) {.kind = OD_VALIDATOR_RANGE, .min = (a)}
#define V_RANGE(a, b) {.kind = OD_VALIDATOR_RANGE, .min = (a), .max = (b), .has_max = true}
#define V_DRANGE(a, b) {.kind = OD_VALIDATOR_DOUBLE_RANGE, .dmin = (a), .dmax = (b), .has_max = true}
#define V_ENUM(c) {.kind = OD_VALIDATOR_ENUM, .choices = (c)}
#define V_ENUM_CI(c) {.kind = OD_VALIDATOR_ENUM_IGNORE_CASE, .choices = (c)}
#define V_ENUM_LIST(c) {.kind = OD_VALIDATOR_ENUM_LIST, .choices = (c)}
#define V_NONEMPTY_LIST {.kind = OD_VALIDATOR_NONEMPTY_LIST}
#define V_NONEMPTY_STRING {.kind = OD_VALIDATOR_NONEMPTY_STRING}
#define V_GZIP_LEVEL {.kind = OD_VALIDATOR_GZIP_LEVEL}
#define V_METADATA_VERSION {.kind = OD_VALIDATOR_METADATA_VERSION}
#define V_CUSTOM(f) {.kind = OD_VALIDATOR_CUSTOM, .custom = (f)}
#define HONOURED OD_CONFIG_HONOURED
#define IGNORED 0u
#define NO_FIELD OD_CONFIG_NO_FIELD

#endif
