/*
 * java.util.Properties.load semantics: each case is a shape of input a
 * hand-edited server.properties can contain.
 */
#include "od_test.h"
#include "properties.h"

static od_properties parse_ok(const char *text)
{
    od_properties p = {0};
    char err[256] = "";
    od_config_status st = od_properties_parse(&p, text, strlen(text), "t.properties", err, sizeof err);
    CHECKF(st == OD_CONFIG_OK, "parse failed: %s", err);
    return p;
}

#define CHECK_PROP(p, key, want)                                                      \
    do {                                                                              \
        const char *got_ = od_properties_get(&(p), key);                              \
        CHECKF(got_ && strcmp(got_, want) == 0, "%s: got [%s] want [%s]", key,        \
               got_ ? got_ : "(absent)", want);                                       \
    } while (0)

static void separators(void)
{
    od_properties p = parse_ok("a=1\n"
                               "b:2\n"
                               "c 3\n"
                               "d   =   4\n"
                               "e\t:\t5\n"
                               "f\f6\n"
                               "g\n"
                               "h=\n"
                               "i=j=k\n"
                               "l == m\n"
                               "n  :  = o\n"
                               "p=trailing   \n");
    CHECK_PROP(p, "a", "1");
    CHECK_PROP(p, "b", "2");
    CHECK_PROP(p, "c", "3");
    CHECK_PROP(p, "d", "4");
    CHECK_PROP(p, "e", "5");
    CHECK_PROP(p, "f", "6");
    CHECK_PROP(p, "g", "");
    CHECK_PROP(p, "h", "");
    CHECK_PROP(p, "i", "j=k");
    CHECK_PROP(p, "l", "= m");     /* only one separator is consumed */
    CHECK_PROP(p, "n", "= o");     /* whitespace, ':', whitespace, then value */
    CHECK_PROP(p, "p", "trailing   "); /* trailing whitespace is kept */
    CHECK_EQ_INT(p.count, 12);
    od_properties_free(&p);
}

static void comments_and_blank_lines(void)
{
    od_properties p = parse_ok("# comment\n"
                               "! bang comment\n"
                               "   # indented comment\n"
                               "\t\f\n"
                               "# a comment ending in backslash does not continue \\\n"
                               "a=1\n"
                               "b=#not a comment\n");
    CHECK_PROP(p, "a", "1");
    CHECK_PROP(p, "b", "#not a comment");
    CHECK_EQ_INT(p.count, 2);
    od_properties_free(&p);
}

static void continuations(void)
{
    od_properties p = parse_ok("a=one,\\\n"
                               "     two,\\\n"
                               "\t# three\n"
                               "b=x\\\\\n"           /* even run: a literal backslash, no join */
                               "c=y\\\\\\\n"         /* odd run: literal backslash, then join */
                               "  z\n"
                               "d=crlf\\\r\n"
                               "   joined\r\n"
                               "e=cr\\\r"
                               "  only\r"
                               "f=empty\\\n"
                               "\n"
                               "g=after\n"
                               "\\\n"
                               "  h=from continued nothing\n"
                               "i=end\\");
    CHECK_PROP(p, "a", "one,two,# three");
    CHECK_PROP(p, "b", "x\\");
    CHECK_PROP(p, "c", "y\\z");
    CHECK_PROP(p, "d", "crlfjoined");
    CHECK_PROP(p, "e", "cronly");
    CHECK_PROP(p, "f", "empty"); /* an empty continuation line ends the logical line */
    CHECK_PROP(p, "g", "after");
    CHECK_PROP(p, "h", "from continued nothing");
    CHECK_PROP(p, "i", "end"); /* a backslash at end of input is dropped */
    od_properties_free(&p);
}

/* Found by differential testing against java.util.Properties: '#' opening a
 * logical line that a lone backslash continued is still a comment. */
static void comment_after_empty_continuation_is_a_comment(void)
{
    od_properties p = parse_ok("\\\n"
                               "#=not a key\n"
                               "a=1\n"
                               "b=x\\\n"
                               "#=part of b\n");
    CHECK(od_properties_get(&p, "#") == NULL);
    CHECK_PROP(p, "a", "1");
    CHECK_PROP(p, "b", "x#=part of b");
    CHECK_EQ_INT(p.count, 2);
    od_properties_free(&p);
}

/* Found by differential testing: input ending in a continuation backslash
 * on an otherwise empty line stores an empty key, as Java does. */
static void trailing_lone_backslash_is_an_empty_key(void)
{
    static const char *const inputs[] = {"a=1\n\\", "a=1\n\\\r", "a=1\n\\\n", "a=1\n\t\\"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        od_properties p = parse_ok(inputs[i]);
        CHECKF(od_properties_get(&p, "") != NULL, "input %zu", i);
        CHECK_EQ_INT(p.count, 2);
        od_properties_free(&p);
    }
    od_properties p = parse_ok("a=1\n\\\r\n"); /* after CRLF Java has moved on: nothing */
    CHECK(od_properties_get(&p, "") == NULL);
    CHECK_EQ_INT(p.count, 1);
    od_properties_free(&p);
    p = parse_ok("a=1\n\\\n\nb=2\n"); /* mid-file it is dropped */
    CHECK(od_properties_get(&p, "") == NULL);
    CHECK_EQ_INT(p.count, 2);
    od_properties_free(&p);
}

static void escapes(void)
{
    od_properties p = parse_ok("tabs=a\\tb\\nc\\rd\\fe\n"
                               "unicode=\\u0041\\u00e9\\u20AC\n"
                               "pair=\\uD83D\\uDE00\n"
                               "lone=\\uD83Dx\n"
                               "other=\\q\\\\\\#\\!\n"
                               "key\\=with\\:seps\\ and\\ space=v\n"
                               "\\#notcomment=1\n"
                               "\\u006b\\u0065y=escaped key\n");
    CHECK_PROP(p, "tabs", "a\tb\nc\rd\fe");
    CHECK_PROP(p, "unicode", "A\xC3\xA9\xE2\x82\xAC");
    CHECK_PROP(p, "pair", "\xF0\x9F\x98\x80");
    CHECK_PROP(p, "lone", "\xEF\xBF\xBDx");
    CHECK_PROP(p, "other", "q\\#!");
    CHECK_PROP(p, "key=with:seps and space", "v");
    CHECK_PROP(p, "#notcomment", "1");
    CHECK_PROP(p, "key", "escaped key");
    od_properties_free(&p);
}

static void raw_utf8_passes_through(void)
{
    od_properties p = parse_ok("name=caf\xC3\xA9\n");
    CHECK_PROP(p, "name", "caf\xC3\xA9");
    od_properties_free(&p);
}

static void later_duplicates_override(void)
{
    od_properties p = parse_ok("a=1\nb=2\na=3\n");
    CHECK_PROP(p, "a", "3");
    CHECK_EQ_INT(p.count, 2);
    CHECK_EQ_INT(od_properties_find(&p, "a")->line, 3);
    CHECK(strcmp(p.items[0].key, "a") == 0); /* first-definition order */
    od_properties_free(&p);
}

static void errors_name_file_and_line(void)
{
    od_properties p = {0};
    char err[256];
    const char *text = "a=1\n# c\nb=\\\n  bad\\u12x\n";
    od_config_status st = od_properties_parse(&p, text, strlen(text), "server.properties", err, sizeof err);
    CHECK_EQ_INT(st, OD_CONFIG_ERR_SYNTAX);
    CHECKF(strncmp(err, "server.properties:3: ", 21) == 0, "got: %s", err);
    CHECKF(strstr(err, "\\uXXXX") != NULL, "got: %s", err);
    CHECK_EQ_INT(p.count, 0);

    const char *nul = "a=\\u0000\n";
    st = od_properties_parse(&p, nul, strlen(nul), "x", err, sizeof err);
    CHECK_EQ_INT(st, OD_CONFIG_ERR_SYNTAX);

    st = od_properties_load_file(&p, "fixtures/does-not-exist.properties", err, sizeof err);
    CHECK_EQ_INT(st, OD_CONFIG_ERR_IO);
    CHECKF(strstr(err, "fixtures/does-not-exist.properties") != NULL, "got: %s", err);
}

static void shipped_kraft_file_loads(void)
{
    od_properties p = {0};
    char err[256];
    od_config_status st = od_properties_load_file(&p, "fixtures/kraft_server.properties", err, sizeof err);
    REQUIRE(st == OD_CONFIG_OK);
    CHECK_EQ_INT(p.count, 22);
    CHECK_PROP(p, "process.roles", "broker,controller");
    CHECK_PROP(p, "listener.security.protocol.map",
               "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL");
    CHECK(od_properties_get(&p, "log.flush.interval.ms") == NULL);
    od_properties_free(&p);
}

OD_TEST_MAIN(OD_CASE(separators), OD_CASE(comments_and_blank_lines), OD_CASE(continuations),
             OD_CASE(comment_after_empty_continuation_is_a_comment),
             OD_CASE(trailing_lone_backslash_is_an_empty_key), OD_CASE(escapes), OD_CASE(raw_utf8_passes_through), OD_CASE(later_duplicates_override),
             OD_CASE(errors_name_file_and_line), OD_CASE(shipped_kraft_file_loads))
