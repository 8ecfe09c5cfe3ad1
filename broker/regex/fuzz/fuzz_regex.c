/*
 * libFuzzer target: od_regex_compile over arbitrary pattern bytes, then full
 * matches of the compiled program against subjects taken from the input.
 *
 * Input: pattern bytes, then optionally a NUL and subjects separated by
 * NULs (each cut at 64 bytes, at most 8). Without a NUL the pattern is
 * matched against a few fixed topic names. Checks: no crash, no leak, no
 * undefined behaviour; compile either succeeds or reports an error with an
 * offset inside the pattern; matching the same subject twice agrees.
 */
#include "od_regex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_subject(od_regex *re, const char *s, size_t n)
{
    bool first = od_regex_full_match(re, s, n);
    if (od_regex_full_match(re, s, n) != first)
        abort(); /* the scratch state must not leak between matches */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nul = memchr(in, 0, size);
    size_t pattern_len = nul ? (size_t)(nul - in) : size;
    od_regex *re = NULL;
    od_regex_error err = {0};
    od_regex_status st = od_regex_compile(in, pattern_len, &re, &err);
    if (st != OD_REGEX_OK) {
        if (!err.message || err.offset > pattern_len)
            abort();
        return 0;
    }
    if (!nul) {
        static const char *const names[] = {"", "a", "topic-1", "__consumer_offsets", "A.b_c-9"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            check_subject(re, names[i], strlen(names[i]));
    } else {
        const char *p = nul + 1, *end = in + size;
        for (int k = 0; k < 8 && p <= end; k++) {
            const char *q = memchr(p, 0, (size_t)(end - p));
            size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
            check_subject(re, p, n > 64 ? 64 : n);
            if (!q)
                break;
            p = q + 1;
        }
    }
    od_regex_free(re);
    return 0;
}
