/*
 * Value parsing, validation and rendering shared by both config tables.
 * Behaviour follows Kafka 3.9's ConfigDef so that the same text is accepted
 * or refused with the same reason on either broker.
 */
#include "config_value.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool od_config_messages_add(od_config_messages *m, const char *fmt, ...)
{
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        char **items = realloc(m->items, cap * sizeof *items);
        if (!items)
            return false;
        m->items = items;
        m->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return false;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    m->items[m->count++] = s;
    return true;
}

void od_config_messages_free(od_config_messages *m)
{
    for (size_t i = 0; i < m->count; i++)
        free(m->items[i]);
    free(m->items);
    m->items = NULL;
    m->count = m->cap = 0;
}

void od_config_diagnostics_free(od_config_diagnostics *d)
{
    od_config_messages_free(&d->warnings);
    od_config_messages_free(&d->errors);
}

/* Java's String.trim removes every char <= ' ', so control characters too. */
static void trim_bounds(const char *text, const char **start, size_t *len)
{
    const char *s = text;
    const char *e = text + strlen(text);
    while (s < e && (unsigned char)*s <= ' ')
        s++;
    while (e > s && (unsigned char)e[-1] <= ' ')
        e--;
    *start = s;
    *len = (size_t)(e - s);
}

/* Java's Integer/Long/Short.parseX: optional sign, decimal digits only. */
static bool parse_java_integer(const char *s, size_t len, int64_t lo, int64_t hi, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if (i == len)
        return false;
    /* Accumulate negatively so INT64_MIN parses without overflow. */
    int64_t acc = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        int digit = s[i] - '0';
        if (acc < (INT64_MIN + digit) / 10)
            return false;
        acc = acc * 10 - digit;
    }
    if (!neg) {
        if (acc == INT64_MIN)
            return false;
        acc = -acc;
    }
    if (acc < lo || acc > hi)
        return false;
    *out = acc;
    return true;
}

/* Java's Double.parseDouble: decimal or exponent notation, an optional
 * trailing type letter (f, F, d, D), and the spellings NaN and Infinity.
 * Hexadecimal floats are accepted by Java but never seen in configs; they
 * are refused rather than half-supported. */
static bool parse_java_double(const char *s, size_t len, double *out)
{
    char buf[128];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    const char *body = buf + (buf[0] == '+' || buf[0] == '-');
    if (strcmp(body, "NaN") == 0) {
        *out = NAN;
        return true;
    }
    if (strcmp(body, "Infinity") == 0) {
        *out = buf[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    size_t n = len;
    if (n > 1 && strchr("fFdD", buf[n - 1]))
        buf[--n] = '\0';
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
            return false;
    }
    char *end = NULL;
    errno = 0;
    double d = strtod(buf, &end);
    if (end == buf || *end != '\0')
        return false;
    *out = d;
    return true;
}

const char *od_config_parse_scalar(od_config_type type, const char *text, od_config_parsed *out)
{
    memset(out, 0, sizeof *out);
    if (!text) {
        out->is_null = true;
        return NULL;
    }
    const char *s;
    size_t len;
    trim_bounds(text, &s, &len);
    switch (type) {
    case OD_CONFIG_TYPE_BOOLEAN:
        if (len == 4 && strncasecmp(s, "true", 4) == 0)
            out->b = true;
        else if (len == 5 && strncasecmp(s, "false", 5) == 0)
            out->b = false;
        else
            return "Expected value to be either true or false";
        return NULL;
    case OD_CONFIG_TYPE_INT:
        return parse_java_integer(s, len, INT32_MIN, INT32_MAX, &out->i) ? NULL
                                                                         : "Not a number of type INT";
    case OD_CONFIG_TYPE_SHORT:
        return parse_java_integer(s, len, INT16_MIN, INT16_MAX, &out->i) ? NULL
                                                                         : "Not a number of type SHORT";
    case OD_CONFIG_TYPE_LONG:
        return parse_java_integer(s, len, INT64_MIN, INT64_MAX, &out->i) ? NULL
                                                                         : "Not a number of type LONG";
    case OD_CONFIG_TYPE_DOUBLE:
        return parse_java_double(s, len, &out->d) ? NULL : "Not a number of type DOUBLE";
    default:
        return NULL;
    }
}

long od_config_split_list(const char *text, char ***out_items)
{
    const char *s;
    size_t len;
    trim_bounds(text ? text : "", &s, &len);
    size_t count = 0;
    if (len > 0) {
        count = 1;
        for (size_t i = 0; i < len; i++)
            count += s[i] == ',';
    }
    /* One block: pointer array, then the NUL-terminated items. */
    char **items = malloc(count * sizeof(char *) + len + count + 1);
    if (!items)
        return -1;
    char *store = (char *)(items + count);
    size_t item = 0, start = 0;
    for (size_t i = 0; count && i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        size_t b = start, e = i;
        /* Kafka splits on \s*,\s*: only whitespace next to commas goes, and
         * the ends were trimmed already. */
        while (b < e && b > 0 && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r' ||
                                  s[b] == '\f' || s[b] == '\v'))
            b++;
        while (e > b && i < len && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' ||
                                    s[e - 1] == '\r' || s[e - 1] == '\f' || s[e - 1] == '\v'))
            e--;
        items[item++] = store;
        memcpy(store, s + b, e - b);
        store += e - b;
        *store++ = '\0';
        start = i + 1;
    }
    *out_items = items;
    return (long)count;
}

static bool in_choices(const char *const *choices, const char *s, bool ignore_case)
{
    for (size_t i = 0; choices[i]; i++)
        if (ignore_case ? strcasecmp(choices[i], s) == 0 : strcmp(choices[i], s) == 0)
            return true;
    return false;
}

static void join_choices(const char *const *choices, bool upper, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; choices[i] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", choices[i]);
        if (n < 0)
            break;
        if (upper)
            for (size_t k = used; k < used + (size_t)n && k < len; k++)
                if (buf[k] >= 'a' && buf[k] <= 'z')
                    buf[k] = (char)(buf[k] - 'a' + 'A');
        used += (size_t)n;
    }
}

/* The versions Kafka 3.9.2 accepts for inter.broker.protocol.version and
 * the message format keys: the exact names below, or a release "X.Y" (or
 * "X.Y.Z", patch ignored from 1.0 on) that names one of them. 4.0 is
 * listed only by its exact names because it was unreleased in 3.9. */
static const char *const metadata_versions[] = {
    "0.8.0", "0.8.1", "0.8.2", "0.9.0", "0.10.0-IV0", "0.10.0-IV1", "0.10.1-IV0", "0.10.1-IV1",
    "0.10.1-IV2", "0.10.2-IV0", "0.11.0-IV0", "0.11.0-IV1", "0.11.0-IV2", "1.0-IV0", "1.1-IV0",
    "2.0-IV0", "2.0-IV1", "2.1-IV0", "2.1-IV1", "2.1-IV2", "2.2-IV0", "2.2-IV1", "2.3-IV0",
    "2.3-IV1", "2.4-IV0", "2.4-IV1", "2.5-IV0", "2.6-IV0", "2.7-IV0", "2.7-IV1", "2.7-IV2",
    "2.8-IV0", "2.8-IV1", "3.0-IV0", "3.0-IV1", "3.1-IV0", "3.2-IV0", "3.3-IV0", "3.3-IV1",
    "3.3-IV2", "3.3-IV3", "3.4-IV0", "3.5-IV0", "3.5-IV1", "3.5-IV2", "3.6-IV0", "3.6-IV1",
    "3.6-IV2", "3.7-IV0", "3.7-IV1", "3.7-IV2", "3.7-IV3", "3.7-IV4", "3.8-IV0", "3.9-IV0",
    "4.0-IV0", "4.0-IV1", NULL};

static bool is_metadata_version(const char *s)
{
    if (in_choices(metadata_versions, s, false))
        return true;
    if (strchr(s, '-') || strlen(s) > 16)
        return false;
    /* A release name: drop a patch number after 1.0, then look for an
     * exact version of that release. */
    char release[20];
    memcpy(release, s, strlen(s) + 1); /* length checked above */
    char *first_dot = strchr(release, '.');
    char *second_dot = first_dot ? strchr(first_dot + 1, '.') : NULL;
    if (second_dot && strncmp(release, "0.", 2) != 0) {
        for (const char *p = second_dot + 1; *p; p++)
            if (*p < '0' || *p > '9')
                return false;
        *second_dot = '\0';
    }
    if (strcmp(release, "4.0") == 0)
        return false;
    size_t n = strlen(release);
    for (size_t i = 0; metadata_versions[i]; i++)
        if (strncmp(metadata_versions[i], release, n) == 0 &&
            (metadata_versions[i][n] == '\0' || strncmp(metadata_versions[i] + n, "-IV", 3) == 0))
            return true;
    return false;
}

/* Range bounds print as Kafka prints its boxed numbers: whole ones bare. */
static void format_bound(double d, char *buf, size_t len)
{
    if (d == (double)(int64_t)d)
        snprintf(buf, len, "%" PRId64, (int64_t)d);
    else
        od_config_format_double(d, buf, len);
}

const char *od_config_validate(const od_config_validator *v, od_config_type type, const char *text,
                               char *why, size_t why_len, char *bad_item, size_t bad_item_len)
{
    if (bad_item && bad_item_len)
        bad_item[0] = '\0';
    const char *s;
    size_t len;
    trim_bounds(text, &s, &len);
    char trimmed[1024];
    snprintf(trimmed, sizeof trimmed, "%.*s", (int)len, s);
    od_config_parsed p;
    switch (v->kind) {
    case OD_VALIDATOR_NONE:
        return NULL;
    case OD_VALIDATOR_RANGE:
    case OD_VALIDATOR_DOUBLE_RANGE: {
        if (od_config_parse_scalar(type, text, &p))
            return NULL; /* type errors are reported by the parser */
        double value = type == OD_CONFIG_TYPE_DOUBLE ? p.d : (double)p.i;
        bool low, high;
        if (v->kind == OD_VALIDATOR_RANGE && type != OD_CONFIG_TYPE_DOUBLE) {
            low = p.i < v->min;
            high = v->has_max && p.i > v->max;
        } else {
            double lo = v->kind == OD_VALIDATOR_RANGE ? (double)v->min : v->dmin;
            double hi = v->kind == OD_VALIDATOR_RANGE ? (double)v->max : v->dmax;
            low = value < lo;
            high = v->has_max && value > hi;
        }
        if (low) {
            if (v->kind == OD_VALIDATOR_RANGE)
                snprintf(why, why_len, "Value must be at least %" PRId64, v->min);
            else {
                char b[40];
                format_bound(v->dmin, b, sizeof b);
                snprintf(why, why_len, "Value must be at least %s", b);
            }
            return why;
        }
        if (high) {
            if (v->kind == OD_VALIDATOR_RANGE)
                snprintf(why, why_len, "Value must be no more than %" PRId64, v->max);
            else {
                char b[40];
                format_bound(v->dmax, b, sizeof b);
                snprintf(why, why_len, "Value must be no more than %s", b);
            }
            return why;
        }
        return NULL;
    }
    case OD_VALIDATOR_ENUM:
    case OD_VALIDATOR_ENUM_IGNORE_CASE: {
        bool ci = v->kind == OD_VALIDATOR_ENUM_IGNORE_CASE;
        if (in_choices(v->choices, trimmed, ci))
            return NULL;
        char list[512];
        join_choices(v->choices, ci, list, sizeof list);
        snprintf(why, why_len, "String must be one of%s: %s", ci ? " (case insensitive)" : "", list);
        return why;
    }
    case OD_VALIDATOR_ENUM_LIST: {
        char **items;
        long n = od_config_split_list(text, &items);
        if (n < 0) {
            snprintf(why, why_len, "out of memory");
            return why;
        }
        for (long i = 0; i < n; i++) {
            if (!in_choices(v->choices, items[i], false)) {
                char list[512];
                join_choices(v->choices, false, list, sizeof list);
                snprintf(why, why_len, "String must be one of: %s", list);
                if (bad_item)
                    snprintf(bad_item, bad_item_len, "%s", items[i]);
                free(items);
                return why;
            }
        }
        free(items);
        return NULL;
    }
    case OD_VALIDATOR_NONEMPTY_LIST:
        /* Kafka's default for these keys is the empty list, so an empty
         * value means "not configured"; cross-key checks report it. */
        return NULL;
    case OD_VALIDATOR_NONEMPTY_STRING:
        if (len > 0)
            return NULL;
        snprintf(why, why_len, "String must be non-empty");
        return why;
    case OD_VALIDATOR_GZIP_LEVEL:
        if (od_config_parse_scalar(type, text, &p) || p.i == -1 || (p.i >= 1 && p.i <= 9))
            return NULL;
        snprintf(why, why_len, "Value must be between 1 and 9 or equal to -1");
        return why;
    case OD_VALIDATOR_METADATA_VERSION:
        if (is_metadata_version(trimmed))
            return NULL;
        snprintf(why, why_len, "Version %s is not a valid version", trimmed);
        return why;
    case OD_VALIDATOR_CUSTOM: {
        const char *rule = v->custom(trimmed);
        if (!rule)
            return NULL;
        snprintf(why, why_len, "%s", rule);
        return why;
    }
    }
    return NULL;
}

bool od_config_check_value(const char *key, od_config_type type, const od_config_validator *v,
                           const char *text, char *err, size_t err_len)
{
    od_config_parsed p;
    const char *reason = od_config_parse_scalar(type, text, &p);
    if (reason) {
        /* Kafka quotes the text as given when it does not parse... */
        snprintf(err, err_len, "Invalid value %s for configuration %s: %s", text, key, reason);
        return false;
    }
    char why[640], item[256];
    if (!od_config_validate(v, type, text, why, sizeof why, item, sizeof item))
        return true;
    /* ...but the parsed value when a validator refuses it, and only the
     * offending item of a list. */
    if (item[0] || v->kind == OD_VALIDATOR_ENUM_LIST) {
        snprintf(err, err_len, "Invalid value %s for configuration %s: %s", item, key, why);
        return false;
    }
    char *shown = od_config_canonical(type, text);
    snprintf(err, err_len, "Invalid value %s for configuration %s: %s", shown ? shown : text, key, why);
    free(shown);
    return false;
}

void od_config_format_double(double d, char *buf, size_t len)
{
    if (isnan(d)) {
        snprintf(buf, len, "NaN");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, len, "%sInfinity", d < 0 ? "-" : "");
        return;
    }
    if (d == 0) {
        snprintf(buf, len, "%s0.0", signbit(d) ? "-" : "");
        return;
    }
    /* Shortest digit string that reads back as the same double, which is
     * what Java's Double.toString prints. */
    char sci[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec - 1, d);
        if (strtod(sci, NULL) == d)
            break;
    }
    char digits[24];
    size_t nd = 0;
    const char *p = sci;
    bool neg = *p == '-';
    if (neg)
        p++;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    char out[64];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    double mag = fabs(d);
    if (mag >= 1e-3 && mag < 1e7) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                out[o++] = (size_t)i < nd ? digits[i] : '0';
            out[o++] = '.';
            if ((size_t)exp10 + 1 < nd)
                for (size_t i = (size_t)exp10 + 1; i < nd; i++)
                    out[o++] = digits[i];
            else
                out[o++] = '0';
        } else {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -exp10 - 1; i++)
                out[o++] = '0';
            for (size_t i = 0; i < nd; i++)
                out[o++] = digits[i];
        }
        out[o] = '\0';
    } else {
        out[o++] = digits[0];
        out[o++] = '.';
        if (nd > 1)
            for (size_t i = 1; i < nd; i++)
                out[o++] = digits[i];
        else
            out[o++] = '0';
        snprintf(out + o, sizeof out - o, "E%d", exp10);
    }
    snprintf(buf, len, "%s", out);
}

char *od_config_canonical(od_config_type type, const char *text)
{
    const char *s;
    size_t len;
    trim_bounds(text ? text : "", &s, &len);
    char buf[64];
    od_config_parsed p;
    switch (type) {
    case OD_CONFIG_TYPE_BOOLEAN:
        od_config_parse_scalar(type, text, &p);
        return strdup(p.b ? "true" : "false");
    case OD_CONFIG_TYPE_INT:
    case OD_CONFIG_TYPE_SHORT:
    case OD_CONFIG_TYPE_LONG:
        od_config_parse_scalar(type, text, &p);
        snprintf(buf, sizeof buf, "%" PRId64, p.i);
        return strdup(buf);
    case OD_CONFIG_TYPE_DOUBLE:
        od_config_parse_scalar(type, text, &p);
        od_config_format_double(p.d, buf, sizeof buf);
        return strdup(buf);
    case OD_CONFIG_TYPE_LIST: {
        char **items;
        long n = od_config_split_list(text, &items);
        if (n < 0)
            return NULL;
        char *out = malloc(len + 1);
        if (out) {
            size_t o = 0;
            for (long i = 0; i < n; i++) {
                if (i)
                    out[o++] = ',';
                size_t l = strlen(items[i]);
                memcpy(out + o, items[i], l);
                o += l;
            }
            out[o] = '\0';
        }
        free(items);
        return out;
    }
    default:
        return strndup(s, len);
    }
}

const char *od_config_type_name(od_config_type type)
{
    switch (type) {
    case OD_CONFIG_TYPE_BOOLEAN: return "BOOLEAN";
    case OD_CONFIG_TYPE_STRING: return "STRING";
    case OD_CONFIG_TYPE_INT: return "INT";
    case OD_CONFIG_TYPE_SHORT: return "SHORT";
    case OD_CONFIG_TYPE_LONG: return "LONG";
    case OD_CONFIG_TYPE_DOUBLE: return "DOUBLE";
    case OD_CONFIG_TYPE_LIST: return "LIST";
    case OD_CONFIG_TYPE_CLASS: return "CLASS";
    case OD_CONFIG_TYPE_PASSWORD: return "PASSWORD";
    default: return "UNKNOWN";
    }
}
