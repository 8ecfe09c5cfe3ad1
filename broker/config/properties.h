/*
 * A reader for Java .properties text, so that a server.properties written for
 * Apache Kafka means exactly the same thing to Odradek.
 *
 * Owns: the syntax of java.util.Properties.load — logical lines joined by a
 * trailing odd run of backslashes (the continuation's leading whitespace is
 * dropped), '#' and '!' comment lines, a key that ends at the first
 * unescaped '=', ':' or whitespace, an optional separator, the escapes
 * \t \n \r \f \uXXXX (written out as UTF-8) and \x meaning x, and later
 * duplicates replacing earlier ones. It knows nothing about what the keys
 * mean; broker_config.h does. It was checked against java.util.Properties
 * itself on thousands of generated inputs; the corner cases found that way
 * (a '#' after a lone-backslash continuation is a comment; a continuation
 * backslash at end of input stores an empty key) have their own tests.
 *
 * One deliberate difference: Java decodes a byte stream as ISO-8859-1, so a
 * UTF-8 "é" becomes two characters. Here bytes pass through untouched, which
 * keeps UTF-8 files meaning what their author typed; only \u escapes are
 * encoded. A NUL character (from \u0000 or the file) is refused because the
 * values are C strings.
 *
 * Thread-safety: a parsed od_properties is plain data owned by its caller;
 * parse into separate objects from separate threads freely.
 */
#ifndef ODRADEK_PROPERTIES_H
#define ODRADEK_PROPERTIES_H

#include <stddef.h>

#include "config_value.h"

typedef struct od_property {
    char *key;
    char *value;
    int line; /* line where the logical line holding the last definition starts */
} od_property;

/* Entries in first-definition order; a later duplicate updates in place so
 * the order users see in warnings follows their file. */
typedef struct od_properties {
    od_property *items;
    size_t count, cap;
} od_properties;

/* Parses text (len bytes, need not be NUL-terminated) into *out, which must
 * be zeroed or freshly freed. source names the text in errors. On failure
 * returns OD_CONFIG_ERR_SYNTAX or OD_CONFIG_ERR_NOMEM, writes
 * "SOURCE:LINE: reason" to err and leaves *out empty. */
od_config_status od_properties_parse(od_properties *out, const char *text, size_t len,
                                     const char *source, char *err, size_t err_len);

/* Reads and parses a file; OD_CONFIG_ERR_IO names the path and errno text. */
od_config_status od_properties_load_file(od_properties *out, const char *path, char *err,
                                         size_t err_len);

/* Sets key to value (copies both), replacing an existing definition. */
od_config_status od_properties_set(od_properties *p, const char *key, const char *value, int line);

/* Returns the entry for key, or NULL. */
const od_property *od_properties_find(const od_properties *p, const char *key);

/* Returns the value for key, or NULL when absent. */
const char *od_properties_get(const od_properties *p, const char *key);

void od_properties_free(od_properties *p);

#endif
