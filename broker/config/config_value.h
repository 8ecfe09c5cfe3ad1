/*
 * Config values: the types, validators, sources and diagnostics shared by the
 * broker and topic config tables.
 *
 * Owns: turning one configured string into a typed value the way Apache
 * Kafka 3.9's ConfigDef does (trimming, number syntax, boolean spelling, list
 * splitting), checking it against a validator, rendering it back the way
 * Kafka renders it in DescribeConfigs, and the message text of each failure.
 * Both tables go through this one path so a value accepted in
 * server.properties is accepted by AlterConfigs and prints identically.
 *
 * Thread-safety: everything here is pure or works on caller-owned memory;
 * no globals are written.
 */
#ifndef ODRADEK_CONFIG_VALUE_H
#define ODRADEK_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Numbers are DescribeConfigsResponse's ConfigType ids (v3+), so a
 * handler can put them on the wire unchanged. */
typedef enum od_config_type {
    OD_CONFIG_TYPE_UNKNOWN = 0,
    OD_CONFIG_TYPE_BOOLEAN = 1,
    OD_CONFIG_TYPE_STRING = 2,
    OD_CONFIG_TYPE_INT = 3,
    OD_CONFIG_TYPE_SHORT = 4,
    OD_CONFIG_TYPE_LONG = 5,
    OD_CONFIG_TYPE_DOUBLE = 6,
    OD_CONFIG_TYPE_LIST = 7,
    OD_CONFIG_TYPE_CLASS = 8,
    OD_CONFIG_TYPE_PASSWORD = 9,
} od_config_type;

/* Numbers are DescribeConfigsResponse's ConfigSource ids. */
typedef enum od_config_source {
    OD_CONFIG_SOURCE_UNKNOWN = 0,
    OD_CONFIG_SOURCE_TOPIC_CONFIG = 1,
    OD_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG = 2,
    OD_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG = 3,
    OD_CONFIG_SOURCE_STATIC_BROKER_CONFIG = 4,
    OD_CONFIG_SOURCE_DEFAULT_CONFIG = 5,
    OD_CONFIG_SOURCE_DYNAMIC_BROKER_LOGGER_CONFIG = 6,
    OD_CONFIG_SOURCE_CLIENT_METRICS_CONFIG = 7,
} od_config_source;

typedef enum od_config_status {
    OD_CONFIG_OK = 0,
    OD_CONFIG_ERR_IO,          /* file could not be read */
    OD_CONFIG_ERR_SYNTAX,      /* properties text is malformed */
    OD_CONFIG_ERR_INVALID,     /* a value broke its rule, or keys contradict */
    OD_CONFIG_ERR_UNKNOWN_KEY, /* topic config name Kafka does not know */
    OD_CONFIG_ERR_NOMEM,
} od_config_status;

typedef enum od_validator_kind {
    OD_VALIDATOR_NONE = 0,
    OD_VALIDATOR_RANGE,            /* integer in [min, max] */
    OD_VALIDATOR_DOUBLE_RANGE,     /* double in [dmin, dmax] */
    OD_VALIDATOR_ENUM,             /* one of choices, case-sensitive */
    OD_VALIDATOR_ENUM_IGNORE_CASE, /* one of choices, any case */
    OD_VALIDATOR_ENUM_LIST,        /* every list item one of choices */
    OD_VALIDATOR_NONEMPTY_LIST,
    OD_VALIDATOR_NONEMPTY_STRING,
    OD_VALIDATOR_GZIP_LEVEL,       /* 1..9 or -1 */
    OD_VALIDATOR_METADATA_VERSION, /* "3.9-IV0", "2.8", "0.10.0-IV1" shapes */
    OD_VALIDATOR_CUSTOM,
} od_validator_kind;

typedef struct od_config_validator {
    od_validator_kind kind;
    bool has_max; /* RANGE without a max is Kafka's atLeast */
    int64_t min, max;
    double dmin, dmax;
    const char *const *choices; /* NULL-terminated */
    /* CUSTOM: returns NULL when ok, else the rule text for the message. */
    const char *(*custom)(const char *value);
} od_config_validator;

/* A list value: items point into storage owned by the config object. */
typedef struct od_config_list {
    const char **items;
    size_t count;
} od_config_list;

/* Warnings and errors collected for the caller to print; the library never
 * writes to stdout or stderr, because the broker decides where logs go. */
typedef struct od_config_messages {
    char **items;
    size_t count, cap;
} od_config_messages;

typedef struct od_config_diagnostics {
    od_config_messages warnings;
    od_config_messages errors;
} od_config_diagnostics;

/* Appends a formatted message; returns false only when out of memory. */
bool od_config_messages_add(od_config_messages *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void od_config_messages_free(od_config_messages *m);
void od_config_diagnostics_free(od_config_diagnostics *d);

/* A parsed scalar; which member is meaningful follows from the type. */
typedef struct od_config_parsed {
    bool is_null;
    bool b;
    int64_t i; /* INT, SHORT and LONG */
    double d;
} od_config_parsed;

/* Parses text as type. Returns NULL on success, else Kafka's reason text
 * ("Not a number of type INT", "Expected value to be either true or
 * false"). Leading and trailing whitespace is ignored, as Kafka trims. */
const char *od_config_parse_scalar(od_config_type type, const char *text, od_config_parsed *out);

/* Splits a LIST value the way Kafka does: trimmed, empty text is an empty
 * list, otherwise split on commas with the whitespace around each comma
 * removed; empty items are kept. Returns the item count, or -1 on OOM.
 * *out_items is one malloc block holding the pointers and the strings. */
long od_config_split_list(const char *text, char ***out_items);

/* Checks text (already known to parse as type) against v. Returns NULL when
 * valid, else writes Kafka's reason ("Value must be at least 1") to why
 * and returns why. For lists, *bad_item receives the offending item so the
 * message can name it as Kafka does. */
const char *od_config_validate(const od_config_validator *v, od_config_type type, const char *text,
                               char *why, size_t why_len, char *bad_item, size_t bad_item_len);

/* Parses and validates; on failure writes "Invalid value V for
 * configuration K: REASON" (Kafka's ConfigException wording) to err. */
bool od_config_check_value(const char *key, od_config_type type, const od_config_validator *v,
                           const char *text, char *err, size_t err_len);

/* Renders text in Kafka's canonical form for DescribeConfigs: numbers
 * re-printed, booleans lower-case, list items joined by ",", doubles as
 * Java's Double.toString would. text must be valid for type. Returns a
 * malloc'd string (caller frees), or NULL on OOM. */
char *od_config_canonical(od_config_type type, const char *text);

/* Java's Double.toString for finite values and infinities; buf >= 32. */
void od_config_format_double(double d, char *buf, size_t len);

const char *od_config_type_name(od_config_type type);

#endif
