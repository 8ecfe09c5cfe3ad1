/*
 * RE2-syntax regular expressions, as Kafka resolves KIP-848 regex
 * subscriptions (ConsumerGroupHeartbeat's SubscribedTopicRegex): Kafka 4.x
 * compiles them with Google RE2/J 1.8 (com.google.re2j.Pattern.compile, no
 * flags) and keeps the topics whose whole name matches (Matcher.matches()).
 * This module accepts exactly the patterns RE2/J 1.8 accepts, refuses the
 * ones it refuses (so the broker answers INVALID_REGULAR_EXPRESSION where
 * Kafka does), and answers full-match queries the way RE2/J does.
 * compat-tests/regex compares both on a corpus of patterns and names.
 *
 * Accepted syntax (RE2/J's Perl mode: Perl classes, non-greedy operators,
 * \A \z \b \B, Unicode groups, single-line ^ and $ unless (?m)):
 *   literals; \ before any rune but an ASCII letter or digit is that rune
 *     (\_ and \é included); \a \f \n \r \t \v;
 *     octal \0, \0oo, \1oo..\7oo (a lone \1..\7 is a backreference: refused);
 *     \xhh, \x{h...} up to 10FFFF; \Q...\E (or \Q to the end)
 *   .   [abc] [a-z] [^...] (']' or '-' first, '-' last), escapes in classes,
 *     \d \D \s \S \w \W (ASCII), [[:alpha:]] and the other POSIX names incl.
 *     [[:^alpha:]] and [[:word:]], \pL \p{Greek} \PL \p{^L} \p{Any}
 *   (re) (?:re) (?P<name>re) (?<name>re), flags i m s U with '-' as
 *     (?flags) or (?flags:re); alternation |
 *   * + ? {n} {n,} {n,m} (n, m <= 1000) and their lazy forms *? +? ?? {n}?;
 *     '{' that does not start a well-formed count is a literal
 *   ^ $ \A \z \b \B
 * Refused as RE2/J refuses: backreferences, lookaround (?= (?! (?<= (?<!,
 * atomic and possessive forms (a*+, a++), stacked repeats (a**, a{2}{3}),
 * \Z \C \G \K \R \X \e \cX \N \o and other unknown letter escapes, unknown
 * flags and (?#...), invalid or duplicate group names, invalid or reversed
 * ranges, unknown class names, counts over 1000, unbalanced parentheses,
 * unterminated classes, a trailing backslash.
 *
 * Invariants:
 *   1. Matching is a Thompson/Pike NFA simulation without backtracking:
 *      time O(len(subject) * program size), memory O(program size),
 *      allocated once at compile time.
 *   2. Memory is bounded by the pattern: the program has at most
 *      OD_REGEX_MAX_INSTS instructions (counted before any is emitted), the
 *      parse tree at most a few nodes per pattern byte.
 *   3. No recursion depth depends on the input beyond a bound: the parser
 *      keeps an explicit stack; the tree walks recurse at most
 *      OD_REGEX_MAX_HEIGHT levels (the tree height is checked while parsing);
 *      the epsilon closure uses an explicit stack.
 *   4. Every pattern byte sequence either compiles or returns an error; no
 *      input crashes, loops or reads out of bounds (fuzz/fuzz_regex.c).
 *
 * Where it differs from RE2/J 1.8, on purpose (outside what topic names use):
 *   - Patterns nested deeper than OD_REGEX_MAX_HEIGHT, or whose program would
 *     exceed OD_REGEX_MAX_INSTS (e.g. ((a{1000}){1000}){1000}), are refused
 *     ("expression too large"); RE2/J 1.8 overflows its stack (between 2000
 *     and 3000 nested groups with a 1 MiB stack) or its heap on those.
 *   - Subjects are meant to be topic names (ASCII). Case folding knows ASCII
 *     letters and the two non-ASCII runes that fold to them (U+017F long s,
 *     U+212A Kelvin sign); Unicode classes (\p{...}) are exact on ASCII and
 *     contain no other rune. The pattern's own runes are full UTF-8; an
 *     invalid UTF-8 byte reads as U+FFFD.
 *
 * Thread safety: a compiled od_regex keeps its matching scratch inside, so
 * one thread at a time matches with it (its owner's thread).
 */
#ifndef ODRADEK_REGEX_H
#define ODRADEK_REGEX_H

#include <stdbool.h>
#include <stddef.h>

/* Bounds (invariants 2 and 3). */
#define OD_REGEX_MAX_INSTS (1u << 20)
#define OD_REGEX_MAX_HEIGHT 2048
/* RE2/J's largest repeat count. */
#define OD_REGEX_MAX_REPEAT 1000

typedef struct od_regex od_regex;

typedef enum od_regex_status {
    OD_REGEX_OK = 0,
    OD_REGEX_SYNTAX,    /* RE2/J refuses the pattern */
    OD_REGEX_TOO_LARGE, /* over OD_REGEX_MAX_INSTS or OD_REGEX_MAX_HEIGHT */
    OD_REGEX_NOMEM,
} od_regex_status;

typedef struct od_regex_error {
    /* RE2/J's description ("invalid escape sequence", "missing closing )",
     * ...): a static string. */
    const char *message;
    /* Byte offset in the pattern where the offending piece starts. */
    size_t offset;
} od_regex_error;

/* Compiles pattern[0..len). Returns OD_REGEX_OK and sets *out (free it with
 * od_regex_free), or an error status and fills *err (when err is non-null);
 * *out is untouched on error. */
od_regex_status od_regex_compile(const char *pattern, size_t len, od_regex **out,
                                 od_regex_error *err);

/* True when the whole subject[0..len) matches (RE2/J Matcher.matches()). */
bool od_regex_full_match(od_regex *re, const char *subject, size_t len);

/* Number of instructions in the compiled program (for tests and limits). */
size_t od_regex_program_size(const od_regex *re);

void od_regex_free(od_regex *re);

#endif
