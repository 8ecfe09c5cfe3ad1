/*
 * RE2-syntax regular expressions: parser, NFA compiler, full-match
 * simulation. See od_regex.h for the accepted syntax and the invariants.
 *
 * Internal invariants (beyond the header's):
 *   A. The parser follows RE2's stack discipline, so every quirk of what is
 *      accepted matches RE2/J: the parse stack holds finished expressions
 *      and two pseudo-operators, '(' (with the flags to restore at ')') and
 *      '|'; a repetition operator applies to whatever finished expression is
 *      on top (so "a(?i)*" is "a*"), alternatives gather below the '|'.
 *   B. Groups that do not capture and the flag groups add no tree node; a
 *      concatenation or alternation of the same operator is spliced into its
 *      parent (sibling lists, O(1)), so tree height grows only with
 *      captures, repetitions and operator changes, as in RE2/J.
 *   C. Program size is computed from the tree before any instruction is
 *      emitted; emission fills exactly that many.
 *   D. Instruction 0 is FAIL, so 0 is never a real target and serves as the
 *      empty patch list.
 */
#include "od_regex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNE 0x10FFFFu
#define RUNE_ERROR 0xFFFDu
#define NO_RUNE UINT32_MAX

/* ---------- UTF-8 ---------- */

/* Decodes one rune at s[0..n) (n > 0); an invalid or truncated sequence
 * reads as U+FFFD of width 1. */
static uint32_t utf8_decode(const unsigned char *s, size_t n, size_t *width)
{
    unsigned char c = s[0];
    *width = 1;
    if (c < 0x80)
        return c;
    uint32_t r;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        r = c & 0x1Fu;
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        r = c & 0x0Fu;
        need = 2;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        r = c & 0x07u;
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return RUNE_ERROR;
    }
    if (n < need + 1)
        return RUNE_ERROR;
    for (size_t i = 1; i <= need; i++) {
        unsigned char b = s[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
            return RUNE_ERROR;
        r = (r << 6) | (b & 0x3Fu);
    }
    *width = need + 1;
    return r;
}

/* ---------- character classes (sorted, merged [lo, hi] pairs) ---------- */

typedef struct range_vec {
    uint32_t *v; /* pairs */
    size_t n;    /* pairs */
    size_t cap;  /* pairs */
    bool nomem;
} range_vec;

static void rv_add(range_vec *rv, uint32_t lo, uint32_t hi)
{
    if (rv->nomem)
        return;
    if (rv->n == rv->cap) {
        size_t cap = rv->cap ? rv->cap * 2 : 16;
        uint32_t *v = realloc(rv->v, cap * 2 * sizeof *v);
        if (!v) {
            rv->nomem = true;
            return;
        }
        rv->v = v;
        rv->cap = cap;
    }
    rv->v[2 * rv->n] = lo;
    rv->v[2 * rv->n + 1] = hi;
    rv->n++;
}

static int cmp_pair(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Sorts the pairs from index `from` on and merges overlapping or adjacent ones. */
static void rv_clean_from(range_vec *rv, size_t from)
{
    size_t n = rv->n - from;
    if (n < 2)
        return;
    uint32_t *p = rv->v + 2 * from;
    qsort(p, n, 2 * sizeof *p, cmp_pair);
    size_t w = 0;
    for (size_t i = 1; i < n; i++) {
        if (p[2 * i] <= p[2 * w + 1] + 1) {
            if (p[2 * i + 1] > p[2 * w + 1])
                p[2 * w + 1] = p[2 * i + 1];
        } else {
            w++;
            p[2 * w] = p[2 * i];
            p[2 * w + 1] = p[2 * i + 1];
        }
    }
    rv->n = from + w + 1;
}

/* Replaces the clean pairs from index `from` on by their complement in [0, MAX_RUNE]. */
static void rv_negate_from(range_vec *rv, size_t from)
{
    size_t n = rv->n - from;
    uint32_t *tmp = malloc((n + 1) * 2 * sizeof *tmp);
    if (!tmp) {
        rv->nomem = true;
        return;
    }
    size_t k = 0;
    uint32_t next = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t lo = rv->v[2 * (from + i)], hi = rv->v[2 * (from + i) + 1];
        if (lo > next) {
            tmp[2 * k] = next;
            tmp[2 * k + 1] = lo - 1;
            k++;
        }
        next = hi + 1;
    }
    if (next <= MAX_RUNE) {
        tmp[2 * k] = next;
        tmp[2 * k + 1] = MAX_RUNE;
        k++;
    }
    rv->n = from;
    for (size_t i = 0; i < k; i++)
        rv_add(rv, tmp[2 * i], tmp[2 * i + 1]);
    free(tmp);
}

/* Case folding: ASCII letters, plus U+017F (long s) and U+212A (Kelvin
 * sign), the only runes outside ASCII whose simple fold orbit holds an ASCII
 * letter (s S U+017F and k K U+212A). */
static void rv_add_folded(range_vec *rv, uint32_t lo, uint32_t hi)
{
    rv_add(rv, lo, hi);
    uint32_t a = lo > 'A' ? lo : 'A', b = hi < 'Z' ? hi : 'Z';
    if (a <= b)
        rv_add(rv, a + 32, b + 32);
    a = lo > 'a' ? lo : 'a';
    b = hi < 'z' ? hi : 'z';
    if (a <= b)
        rv_add(rv, a - 32, b - 32);
#define OD_IN(x) ((x) >= lo && (x) <= hi)
    if (OD_IN('s') || OD_IN('S') || OD_IN(0x17Fu)) {
        rv_add(rv, 's', 's');
        rv_add(rv, 'S', 'S');
        rv_add(rv, 0x17F, 0x17F);
    }
    if (OD_IN('k') || OD_IN('K') || OD_IN(0x212Au)) {
        rv_add(rv, 'k', 'k');
        rv_add(rv, 'K', 'K');
        rv_add(rv, 0x212A, 0x212A);
    }
#undef OD_IN
}

/* Appends an ASCII set given as two 64-bit masks. */
static void rv_add_mask(range_vec *rv, const uint64_t mask[2])
{
    uint32_t c = 0;
    while (c < 128) {
        if (!((mask[c / 64] >> (c % 64)) & 1u)) {
            c++;
            continue;
        }
        uint32_t start = c;
        while (c < 128 && ((mask[c / 64] >> (c % 64)) & 1u))
            c++;
        rv_add(rv, start, c - 1);
    }
}

/* A named group: its ASCII ranges (lo, hi pairs) and whether it is negated. */
typedef struct char_group {
    const char *name;
    unsigned char pairs[8];
    unsigned npairs;
    bool negated;
} char_group;

#define OD_GROUP(name, neg_name, n, ...) \
    {name, {__VA_ARGS__}, n, false}, {neg_name, {__VA_ARGS__}, n, true}

static const char_group perl_groups[] = {
    OD_GROUP("\\d", "\\D", 1, '0', '9'),
    OD_GROUP("\\s", "\\S", 3, '\t', '\n', '\f', '\r', ' ', ' '),
    OD_GROUP("\\w", "\\W", 4, '0', '9', 'A', 'Z', '_', '_', 'a', 'z'),
};

static const char_group posix_groups[] = {
    OD_GROUP("[:alnum:]", "[:^alnum:]", 3, '0', '9', 'A', 'Z', 'a', 'z'),
    OD_GROUP("[:alpha:]", "[:^alpha:]", 2, 'A', 'Z', 'a', 'z'),
    OD_GROUP("[:ascii:]", "[:^ascii:]", 1, 0x00, 0x7f),
    OD_GROUP("[:blank:]", "[:^blank:]", 2, '\t', '\t', ' ', ' '),
    OD_GROUP("[:cntrl:]", "[:^cntrl:]", 2, 0x00, 0x1f, 0x7f, 0x7f),
    OD_GROUP("[:digit:]", "[:^digit:]", 1, '0', '9'),
    OD_GROUP("[:graph:]", "[:^graph:]", 1, '!', '~'),
    OD_GROUP("[:lower:]", "[:^lower:]", 1, 'a', 'z'),
    OD_GROUP("[:print:]", "[:^print:]", 1, ' ', '~'),
    OD_GROUP("[:punct:]", "[:^punct:]", 4, '!', '/', ':', '@', '[', '`', '{', '~'),
    OD_GROUP("[:space:]", "[:^space:]", 2, '\t', '\r', ' ', ' '),
    OD_GROUP("[:upper:]", "[:^upper:]", 1, 'A', 'Z'),
    OD_GROUP("[:word:]", "[:^word:]", 4, '0', '9', 'A', 'Z', '_', '_', 'a', 'z'),
    OD_GROUP("[:xdigit:]", "[:^xdigit:]", 3, '0', '9', 'A', 'F', 'a', 'f'),
};

/* Appends group g (folded under (?i) before any negation, as RE2/J does). */
static void group_append(range_vec *rv, const char_group *g, bool fold)
{
    size_t from = rv->n;
    for (unsigned i = 0; i < g->npairs; i++) {
        uint32_t lo = g->pairs[2 * i], hi = g->pairs[2 * i + 1];
        if (fold)
            rv_add_folded(rv, lo, hi);
        else
            rv_add(rv, lo, hi);
    }
    if (g->negated) {
        rv_clean_from(rv, from);
        rv_negate_from(rv, from);
    }
}

/* Unicode categories and scripts RE2/J 1.8 knows, by their ASCII members;
 * `fold` is the ASCII part of RE2/J's fold-equivalence table for the name
 * (applied under (?i)). Names not listed in unicode_tables below are valid
 * and have no ASCII member. */
typedef struct unicode_table {
    const char *name;
    uint64_t ascii[2];
    uint64_t fold[2];
} unicode_table;

static const unicode_table unicode_tables[] = {
    {"C", {0xffffffffull, 0x8000000000000000ull}, {0x0ull, 0x0ull}},
    {"Cc", {0xffffffffull, 0x8000000000000000ull}, {0x0ull, 0x0ull}},
    {"L", {0x0ull, 0x7fffffe07fffffeull}, {0x0ull, 0x0ull}},
    {"Ll", {0x0ull, 0x7fffffe00000000ull}, {0x0ull, 0x80800ull}},
    {"Lu", {0x0ull, 0x7fffffeull}, {0x0ull, 0x7fffffe00000000ull}},
    {"N", {0x3ff000000000000ull, 0x0ull}, {0x0ull, 0x0ull}},
    {"Nd", {0x3ff000000000000ull, 0x0ull}, {0x0ull, 0x0ull}},
    {"P", {0x8c00f7ee00000000ull, 0x28000000b8000001ull}, {0x0ull, 0x0ull}},
    {"Pc", {0x0ull, 0x80000000ull}, {0x0ull, 0x0ull}},
    {"Pd", {0x200000000000ull, 0x0ull}, {0x0ull, 0x0ull}},
    {"Pe", {0x20000000000ull, 0x2000000020000000ull}, {0x0ull, 0x0ull}},
    {"Po", {0x8c00d4ee00000000ull, 0x10000001ull}, {0x0ull, 0x0ull}},
    {"Ps", {0x10000000000ull, 0x800000008000000ull}, {0x0ull, 0x0ull}},
    {"S", {0x7000081000000000ull, 0x5000000140000000ull}, {0x0ull, 0x0ull}},
    {"Sc", {0x1000000000ull, 0x0ull}, {0x0ull, 0x0ull}},
    {"Sk", {0x0ull, 0x140000000ull}, {0x0ull, 0x0ull}},
    {"Sm", {0x7000080000000000ull, 0x5000000000000000ull}, {0x0ull, 0x0ull}},
    {"Z", {0x100000000ull, 0x0ull}, {0x0ull, 0x0ull}},
    {"Zs", {0x100000000ull, 0x0ull}, {0x0ull, 0x0ull}},
    {"Common", {0xffffffffffffffffull, 0xf8000001f8000001ull}, {0x0ull, 0x0ull}},
    {"Latin", {0x0ull, 0x7fffffe07fffffeull}, {0x0ull, 0x0ull}},
};

static const char *const unicode_names_without_ascii[] = {
    "Cf", "Co", "Cs", "Lm", "Lo", "Lt", "M", "Mc", "Me", "Mn", "Nl", "No", "Pf", "Pi", "So", "Zl",
    "Zp", "Arabic", "Armenian", "Avestan", "Balinese", "Bamum", "Batak", "Bengali", "Bopomofo",
    "Brahmi", "Braille", "Buginese", "Buhid", "Canadian_Aboriginal", "Carian", "Cham", "Cherokee",
    "Coptic", "Cuneiform", "Cypriot", "Cyrillic", "Deseret", "Devanagari", "Egyptian_Hieroglyphs",
    "Ethiopic", "Georgian", "Glagolitic", "Gothic", "Greek", "Gujarati", "Gurmukhi", "Han",
    "Hangul", "Hanunoo", "Hebrew", "Hiragana", "Imperial_Aramaic", "Inherited",
    "Inscriptional_Pahlavi", "Inscriptional_Parthian", "Javanese", "Kaithi", "Kannada", "Katakana",
    "Kayah_Li", "Kharoshthi", "Khmer", "Lao", "Lepcha", "Limbu", "Linear_B", "Lisu", "Lycian",
    "Lydian", "Malayalam", "Mandaic", "Meetei_Mayek", "Mongolian", "Myanmar", "New_Tai_Lue", "Nko",
    "Ogham", "Ol_Chiki", "Old_Italic", "Old_Persian", "Old_South_Arabian", "Old_Turkic", "Oriya",
    "Osmanya", "Phags_Pa", "Phoenician", "Rejang", "Runic", "Samaritan", "Saurashtra", "Shavian",
    "Sinhala", "Sundanese", "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa", "Tai_Le", "Tai_Tham",
    "Tai_Viet", "Tamil", "Telugu", "Thaana", "Thai", "Tibetan", "Tifinagh", "Ugaritic", "Unknown",
    "Vai", "Yi",
};

static bool name_eq(const char *name, const unsigned char *s, size_t n)
{
    return strlen(name) == n && memcmp(name, s, n) == 0;
}

/* ---------- parse tree ---------- */

enum node_op {
    N_CLASS, /* ranges: a literal is a one-rune (or folded) class */
    N_ANY,
    N_ANY_NOT_NL,
    N_BEGIN_LINE,
    N_END_LINE,
    N_BEGIN_TEXT,
    N_END_TEXT,
    N_WORD_BOUNDARY,
    N_NO_WORD_BOUNDARY,
    N_EMPTY,
    N_CONCAT,
    N_ALTERNATE,
    N_STAR,
    N_PLUS,
    N_QUEST,
    N_REPEAT,
    N_CAPTURE,
    /* pseudo-operators, only on the parse stack */
    N_LEFT_PAREN,
    N_VERTICAL_BAR,
};

enum { F_FOLD = 1, F_DOT_NL = 2, F_MULTI_LINE = 4, F_NON_GREEDY = 8 };

typedef struct node {
    uint8_t op;
    uint8_t capture; /* N_LEFT_PAREN: a capturing group */
    uint8_t flags;   /* N_LEFT_PAREN: the flags to restore at ')' */
    int32_t min, max; /* N_REPEAT; max -1 = unbounded */
    uint32_t ranges, nranges; /* N_CLASS: pairs in parser.classes */
    int32_t first, last; /* children (sub for repetitions and captures) */
    int32_t next;        /* next sibling */
    uint32_t height;
} node;

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    node *nodes;
    size_t nnodes, cap_nodes;
    int32_t *stack;
    size_t nstack, cap_stack;
    range_vec classes; /* every class's pairs */
    range_vec scratch; /* the class being built */
    size_t *names;     /* (offset, length) of each group name */
    size_t nnames, cap_names;
    unsigned flags;
    od_regex_status status;
    const char *message;
    size_t err_offset;
} parser;

static int fail(parser *p, od_regex_status status, const char *message, size_t offset)
{
    if (p->status == OD_REGEX_OK) {
        p->status = status;
        p->message = message;
        p->err_offset = offset;
    }
    return -1;
}

static int nomem(parser *p)
{
    return fail(p, OD_REGEX_NOMEM, "out of memory", p->pos);
}

static const char ERR_INVALID_CHAR_RANGE[] = "invalid character class range";
static const char ERR_INVALID_ESCAPE[] = "invalid escape sequence";
static const char ERR_INVALID_NAMED_CAPTURE[] = "invalid named capture";
static const char ERR_INVALID_PERL_OP[] = "invalid or unsupported Perl syntax";
static const char ERR_INVALID_REPEAT_OP[] = "invalid nested repetition operator";
static const char ERR_INVALID_REPEAT_SIZE[] = "invalid repeat count";
static const char ERR_MISSING_BRACKET[] = "missing closing ]";
static const char ERR_MISSING_PAREN[] = "missing closing )";
static const char ERR_INTERNAL[] = "regexp/syntax: internal error";
static const char ERR_MISSING_REPEAT_ARGUMENT[] = "missing argument to repetition operator";
static const char ERR_TRAILING_BACKSLASH[] = "trailing backslash at end of expression";
static const char ERR_DUPLICATE_NAMED_CAPTURE[] = "duplicate capture group name";
static const char ERR_NESTING_DEPTH[] = "expression nests too deeply";
static const char ERR_TOO_LARGE[] = "expression too large";

static bool more(const parser *p)
{
    return p->pos < p->len;
}

static bool looking_at(const parser *p, const char *lit)
{
    size_t n = strlen(lit);
    return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

static uint32_t peek_rune(const parser *p, size_t *width)
{
    return utf8_decode(p->s + p->pos, p->len - p->pos, width);
}

static uint32_t pop_rune(parser *p)
{
    size_t w;
    uint32_t r = peek_rune(p, &w);
    p->pos += w;
    return r;
}

static int32_t new_node(parser *p, uint8_t op)
{
    if (p->nnodes == p->cap_nodes) {
        size_t cap = p->cap_nodes ? p->cap_nodes * 2 : 64;
        node *v = realloc(p->nodes, cap * sizeof *v);
        if (!v)
            return nomem(p);
        p->nodes = v;
        p->cap_nodes = cap;
    }
    node *n = &p->nodes[p->nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->first = n->last = n->next = -1;
    n->height = 1;
    return (int32_t)p->nnodes++;
}

static int push(parser *p, int32_t id)
{
    if (id < 0)
        return -1;
    if (p->nstack == p->cap_stack) {
        size_t cap = p->cap_stack ? p->cap_stack * 2 : 32;
        int32_t *v = realloc(p->stack, cap * sizeof *v);
        if (!v)
            return nomem(p);
        p->stack = v;
        p->cap_stack = cap;
    }
    p->stack[p->nstack++] = id;
    return 0;
}

static int push_op(parser *p, uint8_t op)
{
    return push(p, new_node(p, op));
}

static bool is_pseudo(const parser *p, int32_t id)
{
    return p->nodes[id].op >= N_LEFT_PAREN;
}

/* Makes a class node of scratch's pairs (cleaned), and resets scratch. */
static int32_t class_node(parser *p)
{
    rv_clean_from(&p->scratch, 0);
    if (p->scratch.nomem)
        return nomem(p);
    int32_t id = new_node(p, N_CLASS);
    if (id < 0)
        return -1;
    p->nodes[id].ranges = (uint32_t)p->classes.n;
    p->nodes[id].nranges = (uint32_t)p->scratch.n;
    for (size_t i = 0; i < p->scratch.n; i++)
        rv_add(&p->classes, p->scratch.v[2 * i], p->scratch.v[2 * i + 1]);
    p->scratch.n = 0;
    if (p->classes.nomem)
        return nomem(p);
    return id;
}

static int literal(parser *p, uint32_t r)
{
    p->scratch.n = 0;
    if (p->flags & F_FOLD)
        rv_add_folded(&p->scratch, r, r);
    else
        rv_add(&p->scratch, r, r);
    return push(p, class_node(p));
}

static int set_height(parser *p, int32_t id, uint32_t height)
{
    p->nodes[id].height = height;
    if (height > OD_REGEX_MAX_HEIGHT)
        return fail(p, OD_REGEX_TOO_LARGE, ERR_NESTING_DEPTH, p->pos);
    return 0;
}

/* Wraps `sub` in a one-child node (repetition or capture). */
static int32_t wrap(parser *p, uint8_t op, int32_t sub)
{
    int32_t id = new_node(p, op);
    if (id < 0)
        return -1;
    p->nodes[id].first = p->nodes[id].last = sub;
    p->nodes[sub].next = -1;
    if (set_height(p, id, p->nodes[sub].height + 1) < 0)
        return -1;
    return id;
}

/* Pops the finished expressions above the topmost pseudo-operator and
 * returns them as one `op` node (or the single one, or -2 when none),
 * splicing children that are the same operator (invariant B). */
static int32_t collapse_top(parser *p, uint8_t op)
{
    size_t i = p->nstack;
    while (i > 0 && !is_pseudo(p, p->stack[i - 1]))
        i--;
    size_t count = p->nstack - i;
    if (count == 0)
        return -2;
    if (count == 1) {
        p->nstack--;
        return p->stack[i];
    }
    int32_t id = new_node(p, op);
    if (id < 0)
        return -1;
    uint32_t height = 0;
    for (size_t k = i; k < p->nstack; k++) {
        int32_t sub = p->stack[k];
        node *n = &p->nodes[id];
        node *s = &p->nodes[sub];
        int32_t head = sub, tail = sub;
        uint32_t h = s->height;
        if (s->op == op) {
            head = s->first;
            tail = s->last;
            h = s->height - 1;
        } else {
            s->next = -1;
        }
        if (n->last < 0)
            n->first = head;
        else
            p->nodes[n->last].next = head;
        n->last = tail;
        if (h > height)
            height = h;
    }
    p->nstack = i;
    if (set_height(p, id, height + 1) < 0)
        return -1;
    return id;
}

static int concat(parser *p)
{
    int32_t id = collapse_top(p, N_CONCAT);
    if (id == -2)
        id = new_node(p, N_EMPTY);
    return push(p, id);
}

static int alternate(parser *p)
{
    int32_t id = collapse_top(p, N_ALTERNATE);
    if (id == -2) /* not reached: concat always leaves one expression */
        id = new_node(p, N_EMPTY);
    return push(p, id);
}

/* If '|' is just below the top, moves the top below it (alternatives
 * gather under the bar) and returns true. */
static bool swap_vertical_bar(parser *p)
{
    size_t n = p->nstack;
    if (n >= 2 && p->nodes[p->stack[n - 2]].op == N_VERTICAL_BAR) {
        int32_t top = p->stack[n - 1];
        p->stack[n - 1] = p->stack[n - 2];
        p->stack[n - 2] = top;
        return true;
    }
    return false;
}

static int parse_vertical_bar(parser *p)
{
    if (concat(p) < 0)
        return -1;
    if (!swap_vertical_bar(p))
        return push_op(p, N_VERTICAL_BAR);
    return 0;
}

static int parse_right_paren(parser *p)
{
    size_t at = p->pos;
    if (concat(p) < 0)
        return -1;
    if (swap_vertical_bar(p))
        p->nstack--;
    if (alternate(p) < 0)
        return -1;
    if (p->nstack < 2) /* RE2/J's words for a ')' with nothing open */
        return fail(p, OD_REGEX_SYNTAX, ERR_INTERNAL, at);
    int32_t sub = p->stack[--p->nstack];
    int32_t paren = p->stack[--p->nstack];
    if (p->nodes[paren].op != N_LEFT_PAREN)
        return fail(p, OD_REGEX_SYNTAX, ERR_MISSING_PAREN, at);
    p->flags = p->nodes[paren].flags;
    if (!p->nodes[paren].capture)
        return push(p, sub);
    return push(p, wrap(p, N_CAPTURE, sub));
}

/* Applies a repetition to the top of the stack. `op_at` is where the
 * operator starts; `after_repeat` says the previous item was a repetition
 * (Perl forbids stacking them: a** and a++). */
static int repeat(parser *p, uint8_t op, int32_t min, int32_t max, size_t op_at, bool after_repeat)
{
    if (more(p) && p->s[p->pos] == '?')
        p->pos++; /* non-greedy: irrelevant to whether a match exists */
    if (after_repeat)
        return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_REPEAT_OP, op_at);
    if (p->nstack == 0 || is_pseudo(p, p->stack[p->nstack - 1]))
        return fail(p, OD_REGEX_SYNTAX, ERR_MISSING_REPEAT_ARGUMENT, op_at);
    int32_t id = wrap(p, op, p->stack[p->nstack - 1]);
    if (id < 0)
        return -1;
    p->nodes[id].min = min;
    p->nodes[id].max = max;
    p->stack[p->nstack - 1] = id;
    return 0;
}

/* A decimal number without a leading zero: -1 when malformed, -2 when over
 * eight digits, as RE2/J reads repeat counts. */
static int32_t parse_int(parser *p)
{
    size_t start = p->pos;
    while (more(p) && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++;
    size_t n = p->pos - start;
    if (n == 0 || (n > 1 && p->s[start] == '0'))
        return -1;
    if (n > 8)
        return -2;
    int32_t v = 0;
    for (size_t i = start; i < p->pos; i++)
        v = v * 10 + (p->s[i] - '0');
    return v;
}

/* At '{': 1 with *min and *max set (max -1: unbounded) after a well-formed
 * count, 0 when '{' is a literal, -1 on a bad count. */
static int parse_repeat(parser *p, int32_t *min, int32_t *max)
{
    size_t start = p->pos;
    p->pos++; /* '{' */
    int32_t lo = parse_int(p), hi;
    if (lo == -1 || !more(p))
        return 0;
    if (p->s[p->pos] != ',') {
        hi = lo;
    } else {
        p->pos++;
        if (!more(p))
            return 0;
        if (p->s[p->pos] == '}')
            hi = -1;
        else if ((hi = parse_int(p)) == -1)
            return 0;
    }
    if (!more(p) || p->s[p->pos] != '}')
        return 0;
    p->pos++;
    if (lo < 0 || lo > OD_REGEX_MAX_REPEAT || hi == -2 || hi > OD_REGEX_MAX_REPEAT ||
        (hi >= 0 && lo > hi))
        return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_REPEAT_SIZE, start);
    *min = lo;
    *max = hi;
    return 1;
}

static bool is_alnum_ascii(uint32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int unhex(uint32_t c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* At '\': the rune an ordinary escape stands for, or -1 (error set). */
static int64_t parse_escape(parser *p)
{
    size_t start = p->pos;
    p->pos++; /* '\' */
    if (!more(p))
        return fail(p, OD_REGEX_SYNTAX, ERR_TRAILING_BACKSLASH, start);
    uint32_t c = pop_rune(p);
    switch (c) {
    case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        /* A lone \1..\7 is a backreference; with a second octal digit it
         * is an octal escape. */
        if (!more(p) || p->s[p->pos] < '0' || p->s[p->pos] > '7')
            break;
        /* fall through */
    case '0': {
        uint32_t r = c - '0';
        for (int i = 1; i < 3 && more(p) && p->s[p->pos] >= '0' && p->s[p->pos] <= '7'; i++)
            r = r * 8 + (uint32_t)(p->s[p->pos++] - '0');
        return r;
    }
    case 'x': {
        if (!more(p))
            break;
        c = pop_rune(p);
        if (c == '{') {
            uint32_t r = 0;
            int digits = 0;
            for (;;) {
                if (!more(p))
                    goto bad;
                c = pop_rune(p);
                if (c == '}')
                    break;
                int v = unhex(c);
                if (v < 0)
                    goto bad;
                r = r * 16 + (uint32_t)v;
                if (r > MAX_RUNE)
                    goto bad;
                digits++;
            }
            if (digits == 0)
                break;
            return r;
        }
        int x = unhex(c);
        if (!more(p))
            break;
        int y = unhex(pop_rune(p));
        if (x < 0 || y < 0)
            break;
        return x * 16 + y;
    }
    case 'a': return 7;
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return 11;
    default:
        /* RE2/J 1.8 takes any escaped rune but an ASCII letter or digit
         * as itself, non-ASCII ones included (Go's RE2 refuses those). */
        if (!is_alnum_ascii(c))
            return c;
        break;
    }
bad:
    return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_ESCAPE, start);
}

/* At \p or \P (caller checked): appends the Unicode class. -1 on error. */
static int parse_unicode_class(parser *p, range_vec *rv)
{
    size_t start = p->pos;
    p->pos++; /* '\' */
    bool negated = pop_rune(p) == 'P';
    if (!more(p))
        return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_CHAR_RANGE, start);
    size_t name_at = p->pos, name_len;
    uint32_t c = pop_rune(p);
    if (c != '{') {
        name_len = p->pos - name_at;
    } else {
        name_at = p->pos;
        const unsigned char *close = memchr(p->s + p->pos, '}', p->len - p->pos);
        if (!close)
            return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_CHAR_RANGE, start);
        name_len = (size_t)(close - (p->s + name_at));
        p->pos = name_at + name_len + 1;
    }
    const unsigned char *name = p->s + name_at;
    if (name_len > 0 && name[0] == '^') {
        negated = !negated;
        name++;
        name_len--;
    }
    size_t from = rv->n;
    if (name_eq("Any", name, name_len)) {
        rv_add(rv, 0, MAX_RUNE);
    } else {
        const unicode_table *t = NULL;
        for (size_t i = 0; i < sizeof unicode_tables / sizeof unicode_tables[0]; i++)
            if (name_eq(unicode_tables[i].name, name, name_len))
                t = &unicode_tables[i];
        bool known = t != NULL;
        for (size_t i = 0; !known && i < sizeof unicode_names_without_ascii / sizeof(char *); i++)
            known = name_eq(unicode_names_without_ascii[i], name, name_len);
        if (!known)
            return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_CHAR_RANGE, start);
        if (t) {
            rv_add_mask(rv, t->ascii);
            if (p->flags & F_FOLD)
                rv_add_mask(rv, t->fold);
        }
    }
    if (negated) {
        rv_clean_from(rv, from);
        rv_negate_from(rv, from);
    }
    return 0;
}

/* At '\': appends a Perl class (\d \D \s \S \w \W) and returns 1, or
 * returns 0 leaving the position unchanged. */
static int parse_perl_class(parser *p, range_vec *rv)
{
    if (p->len - p->pos < 2 || p->s[p->pos] != '\\')
        return 0;
    for (size_t i = 0; i < sizeof perl_groups / sizeof perl_groups[0]; i++) {
        if (p->s[p->pos + 1] == (unsigned char)perl_groups[i].name[1]) {
            group_append(rv, &perl_groups[i], p->flags & F_FOLD);
            p->pos += 2;
            return 1;
        }
    }
    return 0;
}

/* At "[:": appends a POSIX class and returns 1; returns 0 when no ":]"
 * follows anywhere (then "[" is an ordinary class character); -1 when the
 * text up to the first ":]" is not a class name. */
static int parse_named_class(parser *p, range_vec *rv)
{
    const unsigned char *rest = p->s + p->pos;
    size_t n = p->len - p->pos;
    /* RE2/J takes the text up to the first ":]" after "[", even the one
     * of "[:]". */
    size_t i;
    for (i = 0; i + 1 < n; i++)
        if (rest[i] == ':' && rest[i + 1] == ']')
            break;
    if (i + 1 >= n)
        return 0;
    size_t name_len = i + 2;
    for (size_t k = 0; k < sizeof posix_groups / sizeof posix_groups[0]; k++) {
        if (name_eq(posix_groups[k].name, rest, name_len)) {
            group_append(rv, &posix_groups[k], p->flags & F_FOLD);
            p->pos += name_len;
            return 1;
        }
    }
    return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_CHAR_RANGE, p->pos);
}

/* A class character (possibly escaped), or -1. */
static int64_t parse_class_char(parser *p, size_t class_at)
{
    if (!more(p))
        return fail(p, OD_REGEX_SYNTAX, ERR_MISSING_BRACKET, class_at);
    if (p->s[p->pos] == '\\')
        return parse_escape(p);
    return pop_rune(p);
}

static int parse_class(parser *p)
{
    size_t start = p->pos;
    p->pos++; /* '[' */
    range_vec *rv = &p->scratch;
    rv->n = 0;
    bool negated = false;
    if (more(p) && p->s[p->pos] == '^') {
        negated = true; /* [^...] may match \n (RE2's ClassNL in Perl mode) */
        p->pos++;
    }
    bool first = true; /* ']' and '-' are literal first */
    while (!more(p) || p->s[p->pos] != ']' || first) {
        first = false;
        size_t before = p->pos;
        if (looking_at(p, "[:")) {
            int r = parse_named_class(p, rv);
            if (r < 0)
                return -1;
            if (r > 0)
                continue;
            p->pos = before;
        }
        if (looking_at(p, "\\p") || looking_at(p, "\\P")) {
            if (parse_unicode_class(p, rv) < 0)
                return -1;
            continue;
        }
        if (parse_perl_class(p, rv))
            continue;
        int64_t lo = parse_class_char(p, start);
        if (lo < 0)
            return -1;
        int64_t hi = lo;
        if (more(p) && p->s[p->pos] == '-') {
            p->pos++;
            if (more(p) && p->s[p->pos] == ']') {
                p->pos--; /* [a-] means a or - */
            } else {
                hi = parse_class_char(p, start);
                if (hi < 0)
                    return -1;
                if (hi < lo)
                    return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_CHAR_RANGE, before);
            }
        }
        if (p->flags & F_FOLD)
            rv_add_folded(rv, (uint32_t)lo, (uint32_t)hi);
        else
            rv_add(rv, (uint32_t)lo, (uint32_t)hi);
    }
    p->pos++; /* ']' */
    rv_clean_from(rv, 0);
    if (negated)
        rv_negate_from(rv, 0);
    return push(p, class_node(p));
}

static bool valid_capture_name(const unsigned char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_' && !is_alnum_ascii(s[i]))
            return false;
    return true;
}

/* At "(?": a named group, a non-capturing group, or a flag change. */
static int parse_perl_flags(parser *p)
{
    size_t start = p->pos;
    if (looking_at(p, "(?P<") || looking_at(p, "(?<")) {
        size_t begin = p->pos + (p->s[p->pos + 2] == 'P' ? 4 : 3);
        const unsigned char *end = memchr(p->s + begin, '>', p->len - begin);
        if (!end)
            return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_NAMED_CAPTURE, start);
        size_t name_len = (size_t)(end - (p->s + begin));
        if (!valid_capture_name(p->s + begin, name_len))
            return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_NAMED_CAPTURE, start);
        for (size_t i = 0; i < p->nnames; i++)
            if (p->names[2 * i + 1] == name_len &&
                memcmp(p->s + p->names[2 * i], p->s + begin, name_len) == 0)
                return fail(p, OD_REGEX_SYNTAX, ERR_DUPLICATE_NAMED_CAPTURE, start);
        if (p->nnames == p->cap_names) {
            size_t cap = p->cap_names ? p->cap_names * 2 : 8;
            size_t *v = realloc(p->names, cap * 2 * sizeof *v);
            if (!v)
                return nomem(p);
            p->names = v;
            p->cap_names = cap;
        }
        p->names[2 * p->nnames] = begin;
        p->names[2 * p->nnames + 1] = name_len;
        p->nnames++;
        p->pos = begin + name_len + 1;
        int32_t id = new_node(p, N_LEFT_PAREN);
        if (id < 0)
            return -1;
        p->nodes[id].capture = 1;
        p->nodes[id].flags = (uint8_t)p->flags;
        return push(p, id);
    }

    p->pos += 2; /* "(?" */
    unsigned flags = p->flags;
    bool negate = false, saw_flag = false;
    while (more(p)) {
        uint32_t c = pop_rune(p);
        unsigned bit = 0;
        switch (c) {
        case 'i': bit = F_FOLD; break;
        case 'm': bit = F_MULTI_LINE; break;
        case 's': bit = F_DOT_NL; break;
        case 'U': bit = F_NON_GREEDY; break;
        case '-':
            if (negate)
                goto bad;
            negate = true;
            saw_flag = false;
            continue;
        case ':':
        case ')':
            if (negate && !saw_flag)
                goto bad;
            if (c == ':') {
                int32_t id = new_node(p, N_LEFT_PAREN);
                if (id < 0)
                    return -1;
                p->nodes[id].flags = (uint8_t)p->flags;
                if (push(p, id) < 0)
                    return -1;
            }
            p->flags = flags;
            return 0;
        default:
            goto bad;
        }
        if (negate)
            flags &= ~bit;
        else
            flags |= bit;
        saw_flag = true;
    }
bad:
    return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_PERL_OP, start);
}

/* At '\' outside a class. */
static int parse_backslash(parser *p)
{
    size_t start = p->pos;
    if (p->len - p->pos >= 2) {
        switch (p->s[p->pos + 1]) {
        case 'A':
            p->pos += 2;
            return push_op(p, N_BEGIN_TEXT);
        case 'b':
            p->pos += 2;
            return push_op(p, N_WORD_BOUNDARY);
        case 'B':
            p->pos += 2;
            return push_op(p, N_NO_WORD_BOUNDARY);
        case 'z':
            p->pos += 2;
            return push_op(p, N_END_TEXT);
        case 'C':
            return fail(p, OD_REGEX_SYNTAX, ERR_INVALID_ESCAPE, start);
        case 'Q': {
            /* \Q...\E: everything up to \E (or the end) is literal. */
            size_t from = p->pos + 2, to = p->len, resume = p->len;
            for (size_t i = from; i + 1 < p->len; i++) {
                if (p->s[i] == '\\' && p->s[i + 1] == 'E') {
                    to = i;
                    resume = i + 2;
                    break;
                }
            }
            p->pos = from;
            while (p->pos < to) {
                size_t w;
                uint32_t r = utf8_decode(p->s + p->pos, to - p->pos, &w);
                p->pos += w;
                if (literal(p, r) < 0)
                    return -1;
            }
            p->pos = resume;
            return 0;
        }
        default:
            break;
        }
    }
    if (looking_at(p, "\\p") || looking_at(p, "\\P")) {
        p->scratch.n = 0;
        if (parse_unicode_class(p, &p->scratch) < 0)
            return -1;
        return push(p, class_node(p));
    }
    p->scratch.n = 0;
    if (parse_perl_class(p, &p->scratch))
        return push(p, class_node(p));
    int64_t r = parse_escape(p);
    if (r < 0)
        return -1;
    return literal(p, (uint32_t)r);
}

/* Parses the whole pattern; on success returns the root node. */
static int32_t parse(parser *p)
{
    bool after_repeat = false;
    while (more(p)) {
        bool is_repeat = false;
        unsigned char c = p->s[p->pos];
        int rc = 0;
        switch (c) {
        case '(':
            if (looking_at(p, "(?")) {
                rc = parse_perl_flags(p);
            } else {
                int32_t id = new_node(p, N_LEFT_PAREN);
                if (id < 0)
                    return -1;
                p->nodes[id].capture = 1;
                p->nodes[id].flags = (uint8_t)p->flags;
                p->pos++;
                rc = push(p, id);
            }
            break;
        case '|':
            rc = parse_vertical_bar(p);
            p->pos++;
            break;
        case ')':
            rc = parse_right_paren(p);
            p->pos++;
            break;
        case '^':
            rc = push_op(p, (p->flags & F_MULTI_LINE) ? N_BEGIN_LINE : N_BEGIN_TEXT);
            p->pos++;
            break;
        case '$':
            rc = push_op(p, (p->flags & F_MULTI_LINE) ? N_END_LINE : N_END_TEXT);
            p->pos++;
            break;
        case '.':
            rc = push_op(p, (p->flags & F_DOT_NL) ? N_ANY : N_ANY_NOT_NL);
            p->pos++;
            break;
        case '[':
            rc = parse_class(p);
            break;
        case '*':
        case '+':
        case '?': {
            size_t at = p->pos++;
            uint8_t op = c == '*' ? N_STAR : c == '+' ? N_PLUS : N_QUEST;
            rc = repeat(p, op, 0, 0, at, after_repeat);
            is_repeat = true;
            break;
        }
        case '{': {
            size_t at = p->pos;
            int32_t min = 0, max = 0;
            int r = parse_repeat(p, &min, &max);
            if (r < 0)
                return -1;
            is_repeat = true; /* even as a literal: RE2/J refuses "a{*" */
            if (r == 0) {
                p->pos = at + 1;
                rc = literal(p, '{');
                break;
            }
            rc = repeat(p, N_REPEAT, min, max, at, after_repeat);
            break;
        }
        case '\\':
            rc = parse_backslash(p);
            break;
        default:
            rc = literal(p, pop_rune(p));
            break;
        }
        if (rc < 0)
            return -1;
        after_repeat = is_repeat;
    }
    if (concat(p) < 0)
        return -1;
    if (swap_vertical_bar(p))
        p->nstack--;
    if (alternate(p) < 0)
        return -1;
    if (p->nstack != 1)
        return fail(p, OD_REGEX_SYNTAX, ERR_MISSING_PAREN, p->len);
    return p->stack[0];
}

/* ---------- program ---------- */

enum inst_op {
    I_FAIL,
    I_MATCH,
    I_RANGES, /* arg: first pair in ranges, n: pairs */
    I_ANY,
    I_ANY_NOT_NL,
    I_SPLIT, /* out, arg */
    I_NOP,
    I_ASSERT, /* n: an N_BEGIN_LINE..N_NO_WORD_BOUNDARY op */
};

typedef struct inst {
    uint8_t op;
    uint32_t out;
    uint32_t arg;
    uint32_t n;
} inst;

struct od_regex {
    inst *prog;
    uint32_t ninst;
    uint32_t start;
    uint32_t *ranges; /* pairs */
    /* matching scratch: two sparse sets and the closure stack */
    uint32_t *sparse[2], *dense[2], nset[2];
    uint32_t *work;
};

static uint64_t prog_size_raw(const parser *p, int32_t id);

/* Instruction count of node id's code, saturated just above the limit so
 * nested counts cannot overflow. */
static uint64_t prog_size(const parser *p, int32_t id)
{
    const uint64_t over = (uint64_t)OD_REGEX_MAX_INSTS + 1;
    uint64_t s = prog_size_raw(p, id);
    return s > over ? over : s;
}

static uint64_t prog_size_raw(const parser *p, int32_t id)
{
    const uint64_t over = (uint64_t)OD_REGEX_MAX_INSTS + 1;
    const node *n = &p->nodes[id];
    uint64_t s = 0, k = 0;
    switch (n->op) {
    case N_CONCAT:
    case N_ALTERNATE:
        for (int32_t c = n->first; c >= 0; c = p->nodes[c].next) {
            s += prog_size(p, c);
            k++;
            if (s > over)
                return over;
        }
        return n->op == N_ALTERNATE ? s + k - 1 : s;
    case N_STAR:
    case N_PLUS:
    case N_QUEST:
        return prog_size(p, n->first) + 1;
    case N_CAPTURE:
        return prog_size(p, n->first);
    case N_REPEAT:
        s = prog_size(p, n->first);
        if (n->max == 0)
            return 1;
        if (n->max < 0)
            return n->min == 0 ? s + 1 : (uint64_t)n->min * s + 1;
        return (uint64_t)n->min * s + (uint64_t)(n->max - n->min) * (s + 1);
    default:
        return 1;
    }
}

typedef struct frag {
    uint32_t start;
    uint32_t head, tail; /* patch list: (inst << 1 | 1 for arg) ; 0 = empty */
} frag;

typedef struct compiler {
    const parser *p;
    od_regex *re;
    uint32_t n;
} compiler;

static uint32_t *slot(compiler *c, uint32_t l)
{
    inst *i = &c->re->prog[l >> 1];
    return (l & 1) ? &i->arg : &i->out;
}

static frag append(compiler *c, frag a, frag b)
{
    if (a.head == 0) {
        a.head = b.head;
        a.tail = b.tail;
    } else if (b.head != 0) {
        *slot(c, a.tail) = b.head;
        a.tail = b.tail;
    }
    return a;
}

static void patch(compiler *c, frag f, uint32_t target)
{
    uint32_t l = f.head;
    while (l != 0) {
        uint32_t *s = slot(c, l);
        uint32_t next = *s;
        *s = target;
        l = next;
    }
}

static uint32_t emit(compiler *c, uint8_t op)
{
    uint32_t i = c->n++;
    c->re->prog[i] = (inst){.op = op};
    return i;
}

static frag single(compiler *c, uint8_t op)
{
    uint32_t i = emit(c, op);
    return (frag){i, i << 1, i << 1};
}

static frag compile_node(compiler *c, int32_t id);

static frag cat(compiler *c, frag a, frag b)
{
    patch(c, a, b.start);
    a.head = b.head;
    a.tail = b.tail;
    return a;
}

static frag quest(compiler *c, frag x)
{
    uint32_t i = emit(c, I_SPLIT);
    c->re->prog[i].out = x.start;
    frag r = append(c, x, (frag){0, (i << 1) | 1, (i << 1) | 1});
    r.start = i;
    return r;
}

static frag star(compiler *c, frag x)
{
    uint32_t i = emit(c, I_SPLIT);
    c->re->prog[i].out = x.start;
    patch(c, x, i);
    return (frag){i, (i << 1) | 1, (i << 1) | 1};
}

static frag plus(compiler *c, frag x)
{
    uint32_t i = emit(c, I_SPLIT);
    c->re->prog[i].out = x.start;
    patch(c, x, i);
    return (frag){x.start, (i << 1) | 1, (i << 1) | 1};
}

static frag compile_node(compiler *c, int32_t id)
{
    const parser *p = c->p;
    const node *n = &p->nodes[id];
    frag f;
    switch (n->op) {
    case N_CLASS: {
        f = single(c, I_RANGES);
        c->re->prog[f.start].arg = n->ranges;
        c->re->prog[f.start].n = n->nranges;
        return f;
    }
    case N_ANY:
        return single(c, I_ANY);
    case N_ANY_NOT_NL:
        return single(c, I_ANY_NOT_NL);
    case N_BEGIN_LINE:
    case N_END_LINE:
    case N_BEGIN_TEXT:
    case N_END_TEXT:
    case N_WORD_BOUNDARY:
    case N_NO_WORD_BOUNDARY:
        f = single(c, I_ASSERT);
        c->re->prog[f.start].n = n->op;
        return f;
    case N_CONCAT: {
        int32_t ch = n->first;
        f = compile_node(c, ch);
        for (ch = p->nodes[ch].next; ch >= 0; ch = p->nodes[ch].next)
            f = cat(c, f, compile_node(c, ch));
        return f;
    }
    case N_ALTERNATE: {
        /* a|b|c: SPLIT(a, SPLIT(b, c)); every branch's exits leave. */
        frag acc = {0, 0, 0};
        uint32_t prev_split = 0;
        for (int32_t ch = n->first; ch >= 0; ch = p->nodes[ch].next) {
            frag b = compile_node(c, ch);
            uint32_t entry = b.start;
            if (p->nodes[ch].next >= 0) {
                uint32_t s = emit(c, I_SPLIT);
                c->re->prog[s].out = b.start;
                entry = s;
            }
            if (prev_split)
                c->re->prog[prev_split].arg = entry;
            else
                acc.start = entry;
            prev_split = p->nodes[ch].next >= 0 ? entry : 0;
            acc = append(c, acc, b);
        }
        return acc;
    }
    case N_STAR:
        return star(c, compile_node(c, n->first));
    case N_PLUS:
        return plus(c, compile_node(c, n->first));
    case N_QUEST:
        return quest(c, compile_node(c, n->first));
    case N_CAPTURE:
        return compile_node(c, n->first);
    case N_REPEAT: {
        if (n->max == 0)
            return single(c, I_NOP);
        if (n->max < 0) {
            if (n->min == 0)
                return star(c, compile_node(c, n->first));
            f = (frag){0, 0, 0};
            bool have = false;
            for (int32_t k = 1; k < n->min; k++) {
                frag x = compile_node(c, n->first);
                f = have ? cat(c, f, x) : x;
                have = true;
            }
            frag last = plus(c, compile_node(c, n->first));
            return have ? cat(c, f, last) : last;
        }
        bool have = false;
        f = (frag){0, 0, 0};
        for (int32_t k = 0; k < n->min; k++) {
            frag x = compile_node(c, n->first);
            f = have ? cat(c, f, x) : x;
            have = true;
        }
        if (n->max > n->min) {
            /* (x(x(x)?)?)? built from the innermost: each level is x then
             * the next level, all optional. */
            frag tail = quest(c, compile_node(c, n->first));
            for (int32_t k = n->min + 1; k < n->max; k++) {
                frag x = compile_node(c, n->first);
                tail = quest(c, cat(c, x, tail));
            }
            f = have ? cat(c, f, tail) : tail;
        }
        return f;
    }
    case N_EMPTY:
    default:
        return single(c, I_NOP);
    }
}

static void parser_free(parser *p)
{
    free(p->nodes);
    free(p->stack);
    free(p->scratch.v);
    free(p->names);
    free(p->classes.v);
}

void od_regex_free(od_regex *re)
{
    if (!re)
        return;
    free(re->prog);
    free(re->ranges);
    for (int k = 0; k < 2; k++) {
        free(re->sparse[k]);
        free(re->dense[k]);
    }
    free(re->work);
    free(re);
}

od_regex_status od_regex_compile(const char *pattern, size_t len, od_regex **out,
                                 od_regex_error *err)
{
    parser p = {.s = (const unsigned char *)pattern, .len = len};
    od_regex *re = NULL;
    int32_t root = parse(&p);
    if (root >= 0) {
        uint64_t size = prog_size(&p, root) + 2; /* FAIL at 0, MATCH at the end */
        if (size > OD_REGEX_MAX_INSTS)
            fail(&p, OD_REGEX_TOO_LARGE, ERR_TOO_LARGE, 0);
        else if (!(re = calloc(1, sizeof *re)) ||
                 !(re->prog = calloc(size, sizeof *re->prog)) ||
                 !(re->ranges = malloc((p.classes.n + 1) * 2 * sizeof *re->ranges)) ||
                 !(re->work = malloc((2 * size + 2) * sizeof *re->work)) ||
                 !(re->sparse[0] = calloc(size, sizeof(uint32_t))) ||
                 !(re->dense[0] = calloc(size, sizeof(uint32_t))) ||
                 !(re->sparse[1] = calloc(size, sizeof(uint32_t))) ||
                 !(re->dense[1] = calloc(size, sizeof(uint32_t))))
            nomem(&p);
        else {
            if (p.classes.n)
                memcpy(re->ranges, p.classes.v, p.classes.n * 2 * sizeof *re->ranges);
            compiler c = {.p = &p, .re = re, .n = 0};
            emit(&c, I_FAIL);
            frag f = compile_node(&c, root);
            uint32_t m = emit(&c, I_MATCH);
            patch(&c, f, m);
            re->start = f.start;
            re->ninst = c.n;
            if (c.n > size) /* invariant C */
                abort();
        }
    }
    od_regex_status status = p.status;
    if (status != OD_REGEX_OK) {
        if (err) {
            err->message = p.message;
            err->offset = p.err_offset;
        }
        od_regex_free(re);
    } else {
        *out = re;
    }
    parser_free(&p);
    return status;
}

size_t od_regex_program_size(const od_regex *re)
{
    return re->ninst;
}

/* ---------- matching ---------- */

static bool is_word(uint32_t r)
{
    return r != NO_RUNE && (is_alnum_ascii(r) || r == '_');
}

static bool in_ranges(const uint32_t *v, uint32_t n, uint32_t r)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r < v[2 * mid])
            hi = mid;
        else if (r > v[2 * mid + 1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

static bool set_has(const od_regex *re, int k, uint32_t i)
{
    uint32_t d = re->sparse[k][i];
    return d < re->nset[k] && re->dense[k][d] == i;
}

/* Adds the epsilon closure of `from` to set k, at the position between
 * runes `before` and `after` (NO_RUNE at either end of the subject). */
static void add_closure(od_regex *re, int k, uint32_t from, uint32_t before, uint32_t after)
{
    uint32_t top = 0;
    re->work[top++] = from;
    while (top > 0) {
        uint32_t i = re->work[--top];
        if (set_has(re, k, i))
            continue;
        re->sparse[k][i] = re->nset[k];
        re->dense[k][re->nset[k]++] = i;
        const inst *in = &re->prog[i];
        switch (in->op) {
        case I_NOP:
            re->work[top++] = in->out;
            break;
        case I_SPLIT:
            re->work[top++] = in->arg;
            re->work[top++] = in->out;
            break;
        case I_ASSERT: {
            bool ok = false;
            switch (in->n) {
            case N_BEGIN_TEXT: ok = before == NO_RUNE; break;
            case N_END_TEXT: ok = after == NO_RUNE; break;
            case N_BEGIN_LINE: ok = before == NO_RUNE || before == '\n'; break;
            case N_END_LINE: ok = after == NO_RUNE || after == '\n'; break;
            case N_WORD_BOUNDARY: ok = is_word(before) != is_word(after); break;
            case N_NO_WORD_BOUNDARY: ok = is_word(before) == is_word(after); break;
            default: break;
            }
            if (ok)
                re->work[top++] = in->out;
            break;
        }
        default:
            break;
        }
    }
}

bool od_regex_full_match(od_regex *re, const char *subject, size_t len)
{
    const unsigned char *s = (const unsigned char *)subject;
    int cur = 0;
    size_t pos = 0, w = 0;
    uint32_t before = NO_RUNE;
    uint32_t r = len ? utf8_decode(s, len, &w) : NO_RUNE;
    re->nset[0] = re->nset[1] = 0;
    add_closure(re, cur, re->start, before, r);
    while (pos < len) {
        if (re->nset[cur] == 0)
            return false;
        size_t next_pos = pos + w, next_w = 0;
        uint32_t next = next_pos < len ? utf8_decode(s + next_pos, len - next_pos, &next_w) : NO_RUNE;
        int nxt = 1 - cur;
        re->nset[nxt] = 0;
        for (uint32_t k = 0; k < re->nset[cur]; k++) {
            const inst *in = &re->prog[re->dense[cur][k]];
            bool step = false;
            switch (in->op) {
            case I_RANGES: step = in_ranges(re->ranges + 2 * in->arg, in->n, r); break;
            case I_ANY: step = true; break;
            case I_ANY_NOT_NL: step = r != '\n'; break;
            default: break;
            }
            if (step)
                add_closure(re, nxt, in->out, r, next);
        }
        cur = nxt;
        before = r;
        r = next;
        pos = next_pos;
        w = next_w;
    }
    return set_has(re, cur, re->ninst - 1);
}
