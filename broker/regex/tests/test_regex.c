/*
 * od_regex: what RE2/J 1.8 accepts and refuses, and Matcher.matches()
 * results. Every expectation here was checked against RE2/J 1.8 itself;
 * compat-tests/regex repeats the comparison on a larger generated corpus.
 */
#include "od_regex.h"
#include "od_test.h"

#include <dirent.h>
#include <stdbool.h>

/* Compiles pattern; NULL when refused. */
static od_regex *compile(const char *pattern, od_regex_status *status)
{
    od_regex *re = NULL;
    od_regex_error err = {0};
    od_regex_status st = od_regex_compile(pattern, strlen(pattern), &re, &err);
    if (status)
        *status = st;
    return st == OD_REGEX_OK ? re : NULL;
}

static bool matches(const char *pattern, const char *subject)
{
    od_regex *re = compile(pattern, NULL);
    if (!re) {
        CHECKF(false, "pattern %s did not compile", pattern);
        return false;
    }
    bool m = od_regex_full_match(re, subject, strlen(subject));
    od_regex_free(re);
    return m;
}

static bool matches_n(const char *pattern, const char *subject, size_t n)
{
    od_regex *re = compile(pattern, NULL);
    if (!re)
        return false;
    bool m = od_regex_full_match(re, subject, n);
    od_regex_free(re);
    return m;
}

#define MATCH(p, s) CHECKF(matches(p, s), "%s should match \"%s\"", p, s)
#define NO_MATCH(p, s) CHECKF(!matches(p, s), "%s should not match \"%s\"", p, s)

static void expect_refused(const char *pattern, const char *message)
{
    od_regex *re = NULL;
    od_regex_error err = {0};
    od_regex_status st = od_regex_compile(pattern, strlen(pattern), &re, &err);
    CHECKF(st == OD_REGEX_SYNTAX, "%s should be refused (status %d)", pattern, (int)st);
    if (st == OD_REGEX_SYNTAX && message)
        CHECKF(strcmp(err.message, message) == 0, "%s: \"%s\", RE2/J says \"%s\"", pattern,
               err.message, message);
    if (st == OD_REGEX_OK)
        od_regex_free(re);
}

static void expect_accepted(const char *pattern)
{
    od_regex_status st;
    od_regex *re = compile(pattern, &st);
    CHECKF(re != NULL, "%s should compile (status %d)", pattern, (int)st);
    od_regex_free(re);
}

static void test_literals_and_escapes(void)
{
    MATCH("orders", "orders");
    NO_MATCH("orders", "orders-1"); /* matches() is a whole-name match */
    NO_MATCH("orders", "my-orders");
    MATCH("a\\.b", "a.b");
    NO_MATCH("a\\.b", "axb");
    MATCH("\\_\\-\\.", "_-.");
    MATCH("\\x41\\x{62}\\x{0000063}", "Abc");
    MATCH("\\101", "A");
    CHECK(matches_n("a\\0b", "a\0b", 3)); /* \0 is NUL */
    MATCH("\\141", "a"); /* octal with a leading 1..7 and two more digits */
    MATCH("\\12", "\n");
    MATCH("\\Q.*+\\E-x", ".*+-x");
    MATCH("a\\Qb", "ab"); /* \Q to the end */
    MATCH("\\t\\n\\f\\r\\v\\a", "\t\n\f\r\v\a");
    MATCH("}]", "}]"); /* unpaired closers are literals */
    MATCH("x{,3}", "x{,3}"); /* not a count: '{' is literal */
    MATCH("x{01}", "x{01}");
    MATCH("x{1,02}", "x{1,02}");
    expect_refused("\\1", "invalid escape sequence");
    expect_refused("\\8", "invalid escape sequence");
    expect_refused("\\Z", "invalid escape sequence");
    expect_refused("\\C", "invalid escape sequence");
    expect_refused("\\G", NULL);
    expect_refused("\\K", NULL);
    expect_refused("\\R", NULL);
    expect_refused("\\X", NULL);
    expect_refused("\\e", NULL);
    expect_refused("\\ca", NULL);
    expect_refused("\\k<n>", NULL);
    expect_refused("\\N{U+41}", NULL);
    expect_refused("\\o{101}", NULL);
    expect_refused("\\x{}", NULL);
    expect_refused("\\x{110000}", NULL);
    expect_refused("\\x4", NULL);
    expect_refused("\\xG1", NULL);
    MATCH("\\\xc3\xa9", "\xc3\xa9"); /* RE2/J 1.8 takes an escaped non-ASCII rune as itself */
    expect_refused("ab\\", "trailing backslash at end of expression");
    expect_accepted("\\x{10FFFF}");
    expect_accepted("\\Q");
}

static void test_classes(void)
{
    MATCH("[a-c]x", "bx");
    NO_MATCH("[a-c]x", "dx");
    MATCH("[^a-c]", "d");
    NO_MATCH("[^a-c]", "b");
    MATCH("[]a]", "]");
    MATCH("[a-]", "-");
    MATCH("[--/]", ".");
    MATCH("[\\d-z]", "-"); /* after a class escape '-' is a literal */
    MATCH("[a&&b]", "&");
    MATCH("[[a]]", "a]");
    MATCH("[a[b]", "[");
    MATCH("\\d\\D\\s\\S\\w\\W", "1x ._-");
    NO_MATCH("\\w", "-");
    NO_MATCH("\\s", "\v"); /* RE2's \s has no \v */
    MATCH("[[:alpha:]][[:digit:]][[:^alnum:]][[:word:]]", "a1-_");
    MATCH("[[:space:]]", "\v");
    NO_MATCH("[[:upper:]]", "a");
    MATCH("[[:punct:]]{5}", "!/:@~");
    MATCH("[[:foo]", "f"); /* no ":]" anywhere: an ordinary class */
    MATCH("\\pL\\p{Lu}\\PL\\p{^L}\\pN", "aB1-7");
    MATCH("\\pLu", "Au"); /* one-letter name, then a literal u */
    MATCH("\\p{Latin}\\p{Common}", "a-");
    NO_MATCH("\\p{Greek}", "a");
    MATCH("\\P{Greek}", "a");
    MATCH("\\p{Any}", "x");
    MATCH("[\\p{Nd}\\PL]", "-");
    expect_refused("[z-a]", "invalid character class range");
    expect_refused("[a-\\d]", "invalid escape sequence");
    expect_refused("[^]", "missing closing ]");
    expect_refused("[]", "missing closing ]");
    expect_refused("[abc", "missing closing ]");
    expect_refused("[[:Alpha:]]", "invalid character class range");
    expect_refused("[[:]]", "invalid character class range");
    expect_refused("[[:a]b:]]", "invalid character class range");
    expect_refused("[\\b]", "invalid escape sequence");
    expect_refused("[\\Q]", "invalid escape sequence");
    expect_refused("\\p{Cn}", "invalid character class range");
    expect_refused("\\p{LC}", "invalid character class range");
    expect_refused("\\p{}", NULL);
    expect_refused("\\p{", NULL);
    expect_refused("\\p", NULL);
    expect_refused("\\pX", NULL);
    expect_refused("\\p^L", NULL);
}

static void test_case_folding(void)
{
    MATCH("(?i)orders", "OrDeRs");
    NO_MATCH("(?i:a)b", "AB");
    MATCH("(?i:a)b", "Ab");
    MATCH("(?:(?i)a|b)", "B"); /* a flag lasts to the end of its group, across | */
    MATCH("a(?i)b|c", "C");
    NO_MATCH("(?i)(?-i)a", "A");
    MATCH("(?i)[k]", "K");
    NO_MATCH("(?i)[^k]", "K");
    MATCH("(?i)\\x{212A}", "k"); /* Kelvin sign folds to k */
    MATCH("(?i)\\x{17F}", "S");  /* long s folds to s */
    MATCH("(?i)[\\x{100}-\\x{200}]", "s");
    NO_MATCH("(?i)\\W", "k");
    MATCH("(?i)[[:lower:]]", "A");
    NO_MATCH("(?i)[[:^lower:]]", "A");
    MATCH("(?i)\\p{Lu}", "a");
    /* RE2/J 1.8's fold table for Ll holds only K and S among ASCII. */
    MATCH("(?i)\\p{Ll}", "K");
    NO_MATCH("(?i)\\p{Ll}", "A");
    NO_MATCH("(?i)\\P{Ll}", "K");
}

static void test_groups_and_flags(void)
{
    MATCH("(a)(?:b)(?P<n>c)(?<m>d)", "abcd");
    MATCH("(|a)", "");
    MATCH("()", "");
    MATCH("(?)x", "x");
    MATCH("(?:)", "");
    MATCH("(?s).", "\n");
    NO_MATCH(".", "\n");
    MATCH("(?U)a+", "aaa");
    MATCH("(?ims-U)a", "A");
    expect_refused("(?P<n>a)(?P<n>b)", "duplicate capture group name");
    expect_refused("(?<n>a)(?P<n>b)", "duplicate capture group name");
    expect_refused("(?P<>a)", "invalid named capture");
    expect_refused("(?P<a-b>a)", "invalid named capture");
    expect_refused("(?P<a", "invalid named capture");
    expect_refused("(?P=n)", "invalid or unsupported Perl syntax");
    expect_refused("(?=a)", "invalid or unsupported Perl syntax");
    expect_refused("(?!a)", "invalid or unsupported Perl syntax");
    expect_refused("(?<=a)", "invalid named capture");
    expect_refused("(?<!a)", "invalid named capture");
    expect_refused("(?>a)", "invalid or unsupported Perl syntax");
    expect_refused("(?|a)", "invalid or unsupported Perl syntax");
    expect_refused("(?#c)", "invalid or unsupported Perl syntax");
    expect_refused("(?x)", "invalid or unsupported Perl syntax");
    expect_refused("(?i-)", "invalid or unsupported Perl syntax");
    expect_refused("(?i--s)", "invalid or unsupported Perl syntax");
    expect_refused("(?i", "invalid or unsupported Perl syntax");
    expect_refused("(a", "missing closing )");
    expect_refused("a)", NULL);
    expect_refused(")", NULL);
    expect_refused("x(a|b))", NULL);
}

static void test_repetition(void)
{
    MATCH("a*", "");
    MATCH("a+b?c{2}d{1,}e{0,2}f{0}", "abccdd");
    NO_MATCH("a+b?c{2}d{1,}e{0,2}f{0}", "abccddeee");
    MATCH("a*?b+?c??d{2}?", "bdd");
    MATCH("a|ab", "ab"); /* a full match, not the leftmost-first one */
    MATCH("(a|ab)(c|bcd)", "abcd");
    MATCH("a(?i)*", "aaa"); /* the repetition applies to the a */
    MATCH("a*(?i)*", "aaa");
    MATCH("x\\Q\\E*", "xxx");
    MATCH("a{2}\\Q\\E{3}", "aaaaaa");
    MATCH("^*$+\\b*", "");
    NO_MATCH("x{1000}", "");
    MATCH("(?:ab){2,3}", "ababab");
    NO_MATCH("(?:ab){2,3}", "abababab");
    expect_accepted("x{0,1000}");
    expect_accepted("x{1000,}");
    expect_accepted("(a{1000}){1000}");
    expect_refused("x{1001}", "invalid repeat count");
    expect_refused("x{2,1}", "invalid repeat count");
    expect_refused("x{123456789}", "invalid repeat count");
    expect_refused("a**", "invalid nested repetition operator");
    expect_refused("a*+", "invalid nested repetition operator");
    expect_refused("a++", "invalid nested repetition operator");
    expect_refused("a{1}+", "invalid nested repetition operator");
    expect_refused("x{2}{3}", "invalid nested repetition operator");
    expect_refused("a*??", "invalid nested repetition operator");
    /* RE2/J counts even a literal '{' as a repetition for this check. */
    expect_refused("a{*", "invalid nested repetition operator");
    expect_refused("{*", "invalid nested repetition operator");
    expect_accepted("a{x*");
    expect_refused("*", "missing argument to repetition operator");
    expect_refused("{2}", "missing argument to repetition operator");
    expect_refused("a|{2}", "missing argument to repetition operator");
    expect_refused("({2})", "missing argument to repetition operator");
    expect_refused("(?i)*", "missing argument to repetition operator");
    expect_refused("\\Q\\E*", "missing argument to repetition operator");
}

static void test_anchors(void)
{
    MATCH("^a$", "a");
    MATCH("\\Aa\\z", "a");
    NO_MATCH("a$b", "ab");
    MATCH("(?m)a$\\nb", "a\nb");
    NO_MATCH("a$\\nb", "a\nb"); /* single-line: $ is the end of text only */
    MATCH("(?m)^b", "b");
}

static void test_word_boundaries(void)
{
    MATCH("a\\Bb\\b", "ab");
    NO_MATCH("a\\bb", "ab");
    MATCH("a\\b-", "a-");
    NO_MATCH("-\\b-", "--");
    MATCH("\\B", "");
    NO_MATCH("\\b", "");
    MATCH("\\b_9\\b", "_9");
}

/* Limits: deep nesting and huge programs are refused, never crash. */
static void test_limits(void)
{
    char *deep = malloc(2 * 5000 + 2);
    REQUIRE(deep);
    for (int depth = 2000; depth <= 5000; depth += 3000) {
        memset(deep, '(', (size_t)depth);
        deep[depth] = 'a';
        memset(deep + depth + 1, ')', (size_t)depth);
        deep[2 * depth + 1] = 0;
        od_regex_status st;
        od_regex *re = compile(deep, &st);
        if (depth == 2000) {
            CHECKF(re && od_regex_full_match(re, "a", 1), "2000 nested groups compile and match");
        } else {
            CHECK_EQ_INT(st, OD_REGEX_TOO_LARGE);
        }
        od_regex_free(re);
    }
    /* Non-capturing groups add no depth (RE2/J flattens them too). */
    int depth = 5000;
    char *flat = malloc((size_t)depth * 4 + 2);
    REQUIRE(flat);
    for (int i = 0; i < depth; i++)
        memcpy(flat + 3 * i, "(?:", 3);
    flat[3 * depth] = 'a';
    memset(flat + 3 * depth + 1, ')', (size_t)depth);
    flat[4 * depth + 1] = 0;
    MATCH(flat, "a");
    free(flat);
    free(deep);

    od_regex_status st;
    od_regex *re = compile("((a{1000}){1000}){1000}", &st);
    CHECK(re == NULL);
    CHECK_EQ_INT(st, OD_REGEX_TOO_LARGE);
    re = compile("(a{1000}){1000}", &st);
    REQUIRE(re != NULL);
    CHECK(od_regex_program_size(re) <= OD_REGEX_MAX_INSTS);
    CHECK(!od_regex_full_match(re, "aaa", 3));
    od_regex_free(re);
}

/* Pathological patterns for backtracking engines stay linear here. */
static void test_linear_time(void)
{
    char subject[250];
    memset(subject, 'a', sizeof subject - 1);
    subject[sizeof subject - 1] = 0;
    NO_MATCH("(a*)*b", subject);
    NO_MATCH("(a|aa)+b", subject);
    NO_MATCH("(?:a?){200}a{200}b", subject);
    MATCH("(?:a?){200}a{49}", subject);
}

/* Replays the fuzz target's kept corpus: every input compiles or fails
 * cleanly, and matching its subjects terminates. */
static void test_fuzz_corpus(void)
{
    DIR *dir = opendir(OD_REGEX_CORPUS_DIR);
    REQUIRE(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", OD_REGEX_CORPUS_DIR, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        const char *nul = memchr(buf, 0, n);
        size_t plen = nul ? (size_t)(nul - buf) : n;
        od_regex *re = NULL;
        od_regex_error err = {0};
        if (od_regex_compile(buf, plen, &re, &err) == OD_REGEX_OK) {
            const char *p = nul ? nul + 1 : buf + n;
            while (p < buf + n) {
                const char *q = memchr(p, 0, (size_t)(buf + n - p));
                size_t len = q ? (size_t)(q - p) : (size_t)(buf + n - p);
                (void)od_regex_full_match(re, p, len);
                p += len + 1;
            }
            od_regex_free(re);
        } else {
            CHECK(err.message != NULL && err.offset <= plen);
        }
        files++;
    }
    closedir(dir);
    CHECK(files > 0);
}

OD_TEST_MAIN(OD_CASE(test_literals_and_escapes), OD_CASE(test_classes), OD_CASE(test_case_folding),
             OD_CASE(test_groups_and_flags), OD_CASE(test_repetition), OD_CASE(test_anchors),
             OD_CASE(test_word_boundaries), OD_CASE(test_limits), OD_CASE(test_linear_time),
             OD_CASE(test_fuzz_corpus))
