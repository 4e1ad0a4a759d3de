/* Unit tests of common/json: the strict flat-object parser behind request and message decoding,
 * and the key/value emitters every JSON writer shares. Each parser row parses a body with two known
 * fields, "a" and "b", and states what each must hold. */
#include "unit.h"

#include "common/json.h"

#include <stdio.h>

typedef struct json_case {
    const char *name;
    unit_text body;
    int want_rc;
    const char *want_field; /* errors: err.field */
    const char *want_msg;   /* errors: a substring of err.msg */
    bk_json_type want_type; /* field "a" */
    long long want_i;       /* BK_JSON_INT and BK_JSON_BOOL */
    unit_text want_str;     /* BK_JSON_STRING: the bytes kept */
    size_t want_len;        /* BK_JSON_STRING: the full length */
    bk_json_type want_type_b;
} json_case;

/* Row builders (clang-format would spread each one-liner over four lines). TYPE: field "a" has
 * that type; INT and BOOL: and that value; STRING: and those bytes kept, of that full length;
 * BAD: BK_E_INVAL with that err.field and a piece of the message. */
/* clang-format off */
#define BODY(s) {.head = (s)}
#define RAW(s) {.head = (s), .head_len = sizeof(s) - 1}
#define BYTES(s) {.head = (s), .head_len = sizeof(s) - 1}
#define REPEAT(unit, n) {.rep = (unit), .n_rep = (n)}
#define A_STRING_OF(n) {.head = "{\"a\":\"", .rep = "x", .n_rep = (n), .tail = "\"}"}
#define NESTED(head_, open_, close_, n, tail_) {.head = head_, .rep = open_, .n_rep = n, .close = close_, .tail = tail_}

#define TYPE(name_, body_, type_) {.name = name_, .body = body_, .want_type = type_}
#define INT(name_, body_, i_) {.name = name_, .body = body_, .want_type = BK_JSON_INT, .want_i = i_}
#define BOOL(name_, body_, i_) {.name = name_, .body = body_, .want_type = BK_JSON_BOOL, .want_i = i_}
#define STRING(name_, body_, str_, len_)                                                                               \
    {.name = name_, .body = body_, .want_type = BK_JSON_STRING, .want_str = str_, .want_len = len_}
#define BAD(name_, body_, field_, msg_) {.name = name_, .body = body_, .want_rc = BK_E_INVAL, .want_field = field_, .want_msg = msg_}
/* clang-format on */

#define NOT_JSON   "not valid JSON"
#define NOT_OBJECT "must be a JSON object"

static const json_case json_cases[] = {
    /* Numbers: only an integer literal that fits in a long long is an int, never rounded. */
    INT("int", BODY("{\"a\":42}"), 42),
    INT("negative int", BODY("{\"a\":-7}"), -7),
    INT("zero", BODY("{\"a\":0}"), 0),
    INT("minus zero", BODY("{\"a\":-0}"), 0),
    INT("LLONG_MAX", BODY("{\"a\":9223372036854775807}"), 9223372036854775807LL),
    INT("LLONG_MIN", BODY("{\"a\":-9223372036854775808}"), -9223372036854775807LL - 1),
    TYPE("2^63 is a number, not a clamped int", BODY("{\"a\":9223372036854775808}"), BK_JSON_NUMBER),
    TYPE("-2^63-1 is a number", BODY("{\"a\":-9223372036854775809}"), BK_JSON_NUMBER),
    TYPE("30 digits", BODY("{\"a\":123456789012345678901234567890}"), BK_JSON_NUMBER),
    TYPE("fraction", BODY("{\"a\":1.5}"), BK_JSON_NUMBER),
    TYPE("1.0 is not an int", BODY("{\"a\":1.0}"), BK_JSON_NUMBER),
    TYPE("exponent", BODY("{\"a\":1e2}"), BK_JSON_NUMBER),
    TYPE("negative exponent", BODY("{\"a\":-1E-2}"), BK_JSON_NUMBER),
    TYPE("huge exponent", BODY("{\"a\":1e400}"), BK_JSON_NUMBER),

    /* Strings: escapes decoded, UTF-8 kept as bytes, len in bytes. */
    STRING("string", BODY("{\"a\":\"hi\"}"), BYTES("hi"), 2),
    STRING("empty string", BODY("{\"a\":\"\"}"), BYTES(""), 0),
    STRING("escapes decoded", BODY("{\"a\":\"x\\ny\\t\\\"\\\\\\/\\r\\b\\f\"}"), BYTES("x\ny\t\"\\/\r\b\f"), 10),
    STRING("\\u00e9 decoded to UTF-8", BODY("{\"a\":\"caf\\u00e9\"}"), BYTES("caf\xc3\xa9"), 5),
    STRING("\\u20AC decoded to 3 bytes", BODY("{\"a\":\"\\u20AC\"}"), BYTES("\xe2\x82\xac"), 3),
    STRING("surrogate pair decoded to 4 bytes", BODY("{\"a\":\"\\ud83d\\ude00\"}"), BYTES("\xf0\x9f\x98\x80"), 4),
    STRING("\\u0000 kept as a NUL byte, counted in len", BODY("{\"a\":\"x\\u0000y\"}"), BYTES("x\0y"), 3),
    STRING("raw UTF-8 kept", BODY("{\"a\":\"Zo\xc3\xab \xf0\x9f\x98\x80\"}"), BYTES("Zo\xc3\xab \xf0\x9f\x98\x80"), 9),
    STRING("string of BK_JSON_STR_MAX bytes", A_STRING_OF(BK_JSON_STR_MAX), REPEAT("x", BK_JSON_STR_MAX),
           BK_JSON_STR_MAX),
    STRING("string of BK_JSON_STR_MAX + 1 bytes: truncated, full len", A_STRING_OF(BK_JSON_STR_MAX + 1),
           REPEAT("x", BK_JSON_STR_MAX), BK_JSON_STR_MAX + 1),
    STRING("string of 3000 bytes: truncated, full len", A_STRING_OF(3000), REPEAT("x", BK_JSON_STR_MAX), 3000),

    /* The other types. */
    BOOL("true", BODY("{\"a\":true}"), 1),
    BOOL("false", BODY("{\"a\":false}"), 0),
    TYPE("null", BODY("{\"a\":null}"), BK_JSON_NULL),
    TYPE("array", BODY("{\"a\":[1,\"b\",{\"b\":1}]}"), BK_JSON_ARRAY),
    TYPE("empty array", BODY("{\"a\":[]}"), BK_JSON_ARRAY),
    TYPE("object", BODY("{\"a\":{\"x\":1}}"), BK_JSON_OBJECT),
    TYPE("empty object", BODY("{\"a\":{}}"), BK_JSON_OBJECT),
    TYPE("absent", BODY("{\"z\":1}"), BK_JSON_ABSENT),
    TYPE("empty body object", BODY("{}"), BK_JSON_ABSENT),
    {.name = "both fields",
     .body = BODY("{\"b\":null,\"a\":3}"),
     .want_type = BK_JSON_INT,
     .want_i = 3,
     .want_type_b = BK_JSON_NULL},
    {.name = "whitespace everywhere",
     .body = BODY(" \t\r\n{ \"a\" :\n1 , \"b\" : [ ] }\n"),
     .want_type = BK_JSON_INT,
     .want_i = 1,
     .want_type_b = BK_JSON_ARRAY},
    INT("escaped key matches its decoded name", BODY("{\"\\u0061\":5}"), 5),
    TYPE("keys that only start with a known name", BODY("{\"ab\":5,\"a\\u0000\":6}"), BK_JSON_ABSENT),

    /* Duplicates: only a known field at the top level is ambiguous. */
    BAD("known field twice", BODY("{\"a\":1,\"a\":2}"), "a", "field a "),
    BAD("known field twice, different types", BODY("{\"a\":null,\"a\":\"x\"}"), "a", "field a "),
    BAD("second known field twice", BODY("{\"a\":1,\"b\":1,\"b\":1}"), "b", "field b "),
    INT("unknown field twice is allowed", BODY("{\"z\":1,\"z\":[],\"a\":1,\"z\":{}}"), 1),
    INT("known name nested at depth 2 is ignored", BODY("{\"o\":{\"a\":5},\"a\":1}"), 1),
    TYPE("known name only nested", BODY("{\"o\":{\"a\":5,\"b\":6}}"), BK_JSON_ABSENT),
    INT("known name nested after the top-level one", BODY("{\"a\":1,\"o\":{\"a\":5}}"), 1),
    STRING("known names in objects inside an array", BODY("{\"l\":[{\"a\":1},{\"a\":2}],\"a\":\"x\"}"), BYTES("x"), 1),
    TYPE("duplicates inside a known field's object", BODY("{\"a\":{\"a\":1,\"a\":2}}"), BK_JSON_OBJECT),
    TYPE("5000 nested arrays", NESTED("{\"a\":", "[", "]", 5000, "}"), BK_JSON_ARRAY),

    /* Not JSON: comments, trailing garbage and invalid UTF-8 included. */
    BAD("empty", BODY(""), "", NOT_JSON),
    BAD("open brace", BODY("{"), "", NOT_JSON),
    BAD("missing value", BODY("{\"a\":}"), "", NOT_JSON),
    BAD("trailing comma", BODY("{\"a\":1,}"), "", NOT_JSON),
    BAD("bare word", BODY("{\"a\":nul}"), "", NOT_JSON),
    BAD("leading zero", BODY("{\"a\":01}"), "", NOT_JSON),
    BAD("plus sign", BODY("{\"a\":+1}"), "", NOT_JSON),
    BAD("NaN", BODY("{\"a\":NaN}"), "", NOT_JSON),
    BAD("trailing garbage", BODY("{\"a\":1}x"), "", NOT_JSON),
    BAD("second value", BODY("{\"a\":1} {}"), "", NULL),
    BAD("block comment", BODY("{/**/\"a\":1}"), "", NOT_JSON),
    BAD("line comment", BODY("{\"a\":1}//"), "", NOT_JSON),
    BAD("bad escape", BODY("{\"a\":\"\\x41\"}"), "", NOT_JSON),
    BAD("short \\u escape", BODY("{\"a\":\"\\u12\"}"), "", NOT_JSON),
    BAD("raw control byte in a string", BODY("{\"a\":\"x\x01\"}"), "", NOT_JSON),
    BAD("raw NUL in a string", RAW("{\"a\":\"x\0\"}"), "", NULL),
    BAD("invalid UTF-8 in a value", BODY("{\"a\":\"\xff\"}"), "", NOT_JSON),
    BAD("invalid UTF-8 in a key", BODY("{\"\xc3\":1}"), "", NOT_JSON),
    BAD("invalid UTF-8 in an unknown nested value", BODY("{\"z\":[\"\x80\"]}"), "", NOT_JSON),
    /* Regression (was a bug): common/json.c trusts yajl's UTF-8 check, which looks only at the shape of each sequence,
     * while json.h promises valid UTF-8. */
    BAD("overlong UTF-8 in a value", BODY("{\"a\":\"\xc0\x80\"}"), "", NOT_JSON),
    BAD("UTF-8 encoded surrogate in a value", BODY("{\"a\":\"\xed\xa0\x80\"}"), "", NOT_JSON),
    BAD("lone \\udc00 escape in a value", BODY("{\"a\":\"\\udc00\"}"), "", NOT_JSON),
    BAD("overlong UTF-8 in a key", BODY("{\"\xc0\xaf\":1}"), "", NOT_JSON),
    BAD("unterminated string", BODY("{\"a\":\"abc"), "", NOT_JSON),

    /* Not an object. */
    BAD("array", BODY("[{\"a\":1}]"), "", NOT_OBJECT),
    BAD("number", BODY("1"), "", NOT_OBJECT),
    BAD("string", BODY("\"a\""), "", NOT_OBJECT),
    BAD("null", BODY("null"), "", NOT_OBJECT),
    BAD("true", BODY("true"), "", NOT_OBJECT),
};

static void check_field(const char *name, const char *what, const bk_json_field *f, bk_json_type type, long long i,
                        const unit_text *str, size_t len)
{
    if (f->type != type) {
        fail_msg("case \"%s\": %s is %s, want %s", name, what, bk_json_type_name(f->type), bk_json_type_name(type));
    }
    if (type == BK_JSON_INT || type == BK_JSON_BOOL) {
        EXPECT_INT(name, "value", f->i, i);
    }
    if (type == BK_JSON_STRING) {
        size_t want_kept = 0;
        char *want = unit_text_build(str, &want_kept);
        EXPECT_INT(name, "len", f->len, len);
        EXPECT_TRUE(name, "the kept bytes to match", memcmp(f->str, want, want_kept) == 0);
        EXPECT_INT(name, "terminator after the kept bytes", f->str[want_kept], '\0');
        free(want);
    }
}

static void test_parse_object(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(json_cases); k++) {
        const json_case *c = &json_cases[k];
        size_t len = 0;
        char *body = unit_text_build(&c->body, &len);
        /* Filled with junk first: the parser must reset every field. */
        bk_json_field fields[2];
        memset(fields, 0x5a, sizeof(fields));
        fields[0].name = "a";
        fields[1].name = "b";
        bk_err err;
        bk_err_clear(&err);

        int rc = bk_json_parse_object(body, len, fields, N_ELEMS(fields), &err);
        free(body);

        EXPECT_RC(c->name, rc, c->want_rc, &err);
        if (rc != BK_OK) {
            EXPECT_INT(c->name, "err.code", err.code, rc);
            EXPECT_STR(c->name, "err.field", err.field, c->want_field != NULL ? c->want_field : "");
            if (c->want_msg != NULL) {
                EXPECT_CONTAINS(c->name, "err.msg", err.msg, c->want_msg);
            }
            EXPECT_TRUE(c->name, "a message without newline", strchr(err.msg, '\n') == NULL);
            continue;
        }
        check_field(c->name, "a", &fields[0], c->want_type, c->want_i, &c->want_str, c->want_len);
        check_field(c->name, "b", &fields[1], c->want_type_b, 0, NULL, 0);
    }
}

/* No field list at all: the parser still checks syntax and shape. */
static void test_parse_object_no_fields(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int want_rc;
    } cases[] = {{"{\"a\":1,\"a\":2}", BK_OK}, {"{}", BK_OK}, {"[]", BK_E_INVAL}, {"{", BK_E_INVAL}};
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        bk_err err;
        bk_err_clear(&err);
        int rc = bk_json_parse_object(cases[k].body, strlen(cases[k].body), NULL, 0, &err);
        EXPECT_RC(cases[k].body, rc, cases[k].want_rc, &err);
        /* NULL err is allowed too. */
        EXPECT_INT(cases[k].body, "rc with NULL err",
                   bk_json_parse_object(cases[k].body, strlen(cases[k].body), NULL, 0, NULL), cases[k].want_rc);
    }
}

static void test_type_name(void **state)
{
    (void)state;
    static const struct {
        bk_json_type type;
        const char *want;
    } cases[] = {
        {BK_JSON_ABSENT, "absent"},  {BK_JSON_NULL, "null"},        {BK_JSON_BOOL, "a boolean"},
        {BK_JSON_INT, "an integer"}, {BK_JSON_NUMBER, "a number"},  {BK_JSON_STRING, "a string"},
        {BK_JSON_ARRAY, "an array"}, {BK_JSON_OBJECT, "an object"},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        EXPECT_STR(cases[k].want, "name", bk_json_type_name(cases[k].type), cases[k].want);
    }
}

/* Each row emits one pair into an open map; the object's text is what yajl makes of it. */
static void test_put(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *key;
        const char *str; /* NULL: emit the integer */
        long long i;
        const char *want;
    } cases[] = {
        {"string", "status", "confirmed", 0, "{\"status\":\"confirmed\"}"},
        {"empty string", "customer", "", 0, "{\"customer\":\"\"}"},
        {"escaped string", "customer", "Zo\xc3\xab \"x\" \\\n", 0, "{\"customer\":\"Zo\xc3\xab \\\"x\\\" \\\\\\n\"}"},
        {"integer", "quantity", NULL, 2, "{\"quantity\":2}"},
        {"negative integer", "n", NULL, -7, "{\"n\":-7}"},
        {"epoch milliseconds", "accepted_at", NULL, 253402300799999LL, "{\"accepted_at\":253402300799999}"},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        yajl_gen g = yajl_gen_alloc(NULL);
        assert_non_null(g);
        EXPECT_INT(cases[k].name, "map open", yajl_gen_map_open(g), yajl_gen_status_ok);
        int ok = cases[k].str != NULL ? bk_json_put_str(g, cases[k].key, cases[k].str)
                                      : bk_json_put_int(g, cases[k].key, cases[k].i);
        EXPECT_INT(cases[k].name, "put", ok, 1);
        EXPECT_INT(cases[k].name, "map close", yajl_gen_map_close(g), yajl_gen_status_ok);
        const unsigned char *buf = NULL;
        size_t len = 0;
        EXPECT_INT(cases[k].name, "get_buf", yajl_gen_get_buf(g, &buf, &len), yajl_gen_status_ok);
        char text[256];
        snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)buf);
        EXPECT_STR(cases[k].name, "text", text, cases[k].want);
        yajl_gen_free(g);
    }
}

/* A generator that has completed its one value refuses more: the emitters say so. */
static void test_put_refused(void **state)
{
    (void)state;
    yajl_gen g = yajl_gen_alloc(NULL);
    assert_non_null(g);
    assert_int_equal(yajl_gen_map_open(g), yajl_gen_status_ok);
    assert_int_equal(yajl_gen_map_close(g), yajl_gen_status_ok);
    assert_int_equal(bk_json_put_str(g, "a", "b"), 0);
    assert_int_equal(bk_json_put_int(g, "a", 1), 0);
    yajl_gen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_object), cmocka_unit_test(test_parse_object_no_fields),
        cmocka_unit_test(test_type_name),    cmocka_unit_test(test_put),
        cmocka_unit_test(test_put_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
