/*
 * A minimal test harness: CHECK records a failure and continues, REQUIRE
 * stops the current test, and od_test_main prints one summary line and
 * returns non-zero when anything failed.
 */
#ifndef ODRADEK_TEST_H
#define ODRADEK_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int od_test_failures;
extern int od_test_checks;

#define OD_CHECK_AT(cond, file, line, ...)                                           \
    do {                                                                             \
        od_test_checks++;                                                            \
        if (!(cond)) {                                                               \
            od_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s: ", file, line, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
        }                                                                            \
    } while (0)

#define CHECK(cond) OD_CHECK_AT(cond, __FILE__, __LINE__, "%s", "")
#define CHECKF(cond, ...) OD_CHECK_AT(cond, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ_INT(a, b)                                                           \
    OD_CHECK_AT((long long)(a) == (long long)(b), __FILE__, __LINE__, "%lld != %lld", \
                (long long)(a), (long long)(b))
#define CHECK_MEM(a, b, n) CHECKF(memcmp((a), (b), (n)) == 0, "memory differs")

/* Stops the current test function on failure. */
#define REQUIRE(cond)                                                                \
    do {                                                                             \
        int od_require_ok_ = !!(cond); /* evaluated once: cond may have effects */    \
        OD_CHECK_AT(od_require_ok_, __FILE__, __LINE__, "%s", #cond);                \
        if (!od_require_ok_)                                                         \
            return;                                                                  \
    } while (0)

typedef struct od_test_case {
    const char *name;
    void (*run)(void);
} od_test_case;

#define OD_TEST_MAIN(...)                                                            \
    int od_test_failures, od_test_checks;                                            \
    int main(void)                                                                   \
    {                                                                                \
        static const od_test_case cases[] = {__VA_ARGS__};                           \
        size_t n = sizeof cases / sizeof cases[0];                                   \
        int failed_cases = 0;                                                        \
        for (size_t i = 0; i < n; i++) {                                             \
            int before = od_test_failures;                                           \
            cases[i].run();                                                          \
            int bad = od_test_failures != before;                                    \
            failed_cases += bad;                                                     \
            printf("%s %s\n", bad ? "FAIL" : "ok  ", cases[i].name);                 \
        }                                                                            \
        printf("%d checks, %zu cases, %d failed\n", od_test_checks, n, failed_cases); \
        return failed_cases ? 1 : 0;                                                 \
    }

#define OD_CASE(fn) {#fn, fn}

#endif
