/*
 * The C half of the RE2/J differential test (see README.md): reads one
 * request per line on stdin, "<pattern hex> <subject hex>..." ("-" for an
 * empty subject), compiles the pattern with od_regex and answers one line:
 * "OK <one 0/1 per subject>" (od_regex_full_match), or "ERR <status>
 * <message>" when the pattern is refused.
 */
#include "od_regex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the hex token [s, s+n) in place into out; returns its length or -1. */
static long unhex_token(const char *s, size_t n, char *out)
{
    if (n == 1 && s[0] == '-')
        return 0;
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (char)(hi * 16 + lo);
    }
    return (long)(n / 2);
}

int main(void)
{
    size_t cap = 0;
    char *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = 0;
        char *buf = malloc((size_t)got + 1);
        if (!buf)
            return 2;
        char *tok = line, *end = line + got;
        char *sp = memchr(tok, ' ', (size_t)(end - tok));
        size_t n = sp ? (size_t)(sp - tok) : (size_t)(end - tok);
        long plen = unhex_token(tok, n, buf);
        if (plen < 0) {
            printf("BAD request\n");
            fflush(stdout);
            free(buf);
            continue;
        }
        od_regex *re = NULL;
        od_regex_error err = {0};
        od_regex_status st = od_regex_compile(buf, (size_t)plen, &re, &err);
        if (st != OD_REGEX_OK) {
            printf("ERR %s %s\n", st == OD_REGEX_SYNTAX ? "SYNTAX" : st == OD_REGEX_TOO_LARGE ? "TOO_LARGE" : "NOMEM",
                   err.message);
        } else {
            fputs("OK ", stdout);
            tok = sp ? sp + 1 : end;
            while (tok < end) {
                sp = memchr(tok, ' ', (size_t)(end - tok));
                n = sp ? (size_t)(sp - tok) : (size_t)(end - tok);
                long slen = unhex_token(tok, n, buf);
                putchar(slen < 0 ? '?' : od_regex_full_match(re, buf, (size_t)slen) ? '1' : '0');
                tok = sp ? sp + 1 : end;
            }
            putchar('\n');
            od_regex_free(re);
        }
        fflush(stdout);
        free(buf);
    }
    free(line);
    return 0;
}
