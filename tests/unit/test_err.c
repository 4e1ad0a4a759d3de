/* Unit tests of common/err: the first error wins, the field is recorded, messages stay one
 * bounded line, and a NULL err is allowed everywhere. */
#include "unit.h"

#include <stdio.h>

#define MAX_STEPS 3

/* One call: bk_err_set, bk_err_set_field or bk_err_clear; END (all zero) ends the list. */
typedef struct err_step {
    enum { END = 0, SET, SET_FIELD, CLEAR } op;
    int code;
    const char *field;
    const char *msg;
} err_step;

typedef struct err_case {
    const char *name;
    err_step steps[MAX_STEPS];
    int want_code;
    const char *want_field;
    const char *want_msg;
} err_case;

static const err_case err_cases[] = {
    {"one error", {{SET, BK_E_DB, NULL, "pq failed"}}, BK_E_DB, "", "pq failed"},
    {"one error with field", {{SET_FIELD, BK_E_INVAL, "tier", "unknown tier"}}, BK_E_INVAL, "tier", "unknown tier"},
    {"first error wins",
     {{SET, BK_E_IO, NULL, "read failed"}, {SET, BK_E_DB, NULL, "wrapper"}},
     BK_E_IO,
     "",
     "read failed"},
    {"first error wins over a later field",
     {{SET, BK_E_KAFKA, NULL, "broker down"}, {SET_FIELD, BK_E_INVAL, "quantity", "bad quantity"}},
     BK_E_KAFKA,
     "",
     "broker down"},
    {"first field wins",
     {{SET_FIELD, BK_E_INVAL, "tier", "bad tier"},
      {SET_FIELD, BK_E_INVAL, "quantity", "bad quantity"},
      {SET, BK_E_TOOBIG, NULL, "big"}},
     BK_E_INVAL,
     "tier",
     "bad tier"},
    {"NULL field is recorded as empty", {{SET_FIELD, BK_E_INVAL, NULL, "m"}}, BK_E_INVAL, "", "m"},
    {"clear resets", {{SET_FIELD, BK_E_IO, "x", "old"}, {.op = CLEAR}}, BK_OK, "", ""},
    {"clear, then a new first error",
     {{SET_FIELD, BK_E_IO, "x", "old"}, {.op = CLEAR}, {SET, BK_E_NOTFOUND, NULL, "new"}},
     BK_E_NOTFOUND,
     "",
     "new"},
    {"newline flattened",
     {{SET, BK_E_DB, NULL, "ERROR:  relation missing\nLINE 1: select"}},
     BK_E_DB,
     "",
     "ERROR:  relation missing LINE 1: select"},
    {"CR LF flattened", {{SET, BK_E_DB, NULL, "a\r\nb"}}, BK_E_DB, "", "a  b"},
    {"trailing newline dropped",
     {{SET, BK_E_DB, NULL, "server closed the connection\n"}},
     BK_E_DB,
     "",
     "server closed the connection"},
    {"trailing newlines and spaces dropped", {{SET, BK_E_DB, NULL, "x \n\r\n "}}, BK_E_DB, "", "x"},
    {"only newlines", {{SET, BK_E_DB, NULL, "\n\n"}}, BK_E_DB, "", ""},
    {"leading newline", {{SET, BK_E_DB, NULL, "\nx"}}, BK_E_DB, "", " x"},
    {"newline in the field's message too", {{SET_FIELD, BK_E_INVAL, "tier", "a\nb"}}, BK_E_INVAL, "tier", "a b"},
    {"field longer than its buffer is truncated",
     {{SET_FIELD, BK_E_INVAL, "a-field-name-of-more-than-thirty-two-characters", "m"}},
     BK_E_INVAL,
     "a-field-name-of-more-than-thirt",
     "m"},
};

static void test_set_sequences(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(err_cases); k++) {
        const err_case *c = &err_cases[k];
        bk_err err;
        memset(&err, 0x5a, sizeof(err));
        bk_err_clear(&err);
        for (size_t s = 0; s < MAX_STEPS && c->steps[s].op != END; s++) {
            const err_step *step = &c->steps[s];
            if (step->op == CLEAR) {
                bk_err_clear(&err);
                continue;
            }
            int rc = step->op == SET_FIELD ? bk_err_set_field(&err, step->code, step->field, "%s", step->msg)
                                           : bk_err_set(&err, step->code, "%s", step->msg);
            EXPECT_INT(c->name, "returned code", rc, step->code);
        }
        EXPECT_INT(c->name, "code", err.code, c->want_code);
        EXPECT_STR(c->name, "field", err.field, c->want_field);
        EXPECT_STR(c->name, "msg", err.msg, c->want_msg);
    }
}

/* Formatting goes through printf, bounded by the buffer. */
static void test_format_and_bounds(void **state)
{
    (void)state;
    bk_err err;
    bk_err_clear(&err);
    (void)bk_err_set(&err, BK_E_DB, "insert failed booking=%s partition=%d", "abc", 2);
    EXPECT_STR("printf formatting", "msg", err.msg, "insert failed booking=abc partition=2");

    char long_msg[2 * BK_ERR_MSG_MAX];
    memset(long_msg, 'm', sizeof(long_msg) - 1);
    long_msg[sizeof(long_msg) - 1] = '\0';
    bk_err_clear(&err);
    (void)bk_err_set(&err, BK_E_DB, "%s", long_msg);
    EXPECT_INT("long message", "strlen", strlen(err.msg), BK_ERR_MSG_MAX - 1);

    /* Newlines past the cut are irrelevant; those before it are still flattened. */
    long_msg[10] = '\n';
    bk_err_clear(&err);
    (void)bk_err_set(&err, BK_E_DB, "%s", long_msg);
    EXPECT_TRUE("long message with newline", "no newline", strchr(err.msg, '\n') == NULL);
}

static void test_null_err(void **state)
{
    (void)state;
    static const int codes[] = {BK_E_INVAL, BK_E_NOMEM,    BK_E_IO,     BK_E_DB,
                                BK_E_KAFKA, BK_E_NOTFOUND, BK_E_TOOBIG, BK_E_FENCED};
    bk_err_clear(NULL);
    for (size_t k = 0; k < N_ELEMS(codes); k++) {
        const char *name = bk_err_name(codes[k]);
        EXPECT_INT(name, "bk_err_set(NULL)", bk_err_set(NULL, codes[k], "x %d", 1), codes[k]);
        EXPECT_INT(name, "bk_err_set_field(NULL)", bk_err_set_field(NULL, codes[k], "f", "x"), codes[k]);
    }
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *want;
    } cases[] = {
        {BK_OK, "ok"},
        {BK_E_INVAL, "inval"},
        {BK_E_NOMEM, "nomem"},
        {BK_E_IO, "io"},
        {BK_E_DB, "db"},
        {BK_E_KAFKA, "kafka"},
        {BK_E_NOTFOUND, "notfound"},
        {BK_E_TOOBIG, "toobig"},
        {BK_E_FENCED, "fenced"},
        {-42, "unknown"},
        {1, "unknown"},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        EXPECT_STR(cases[k].want, "name", bk_err_name(cases[k].code), cases[k].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_sequences),
        cmocka_unit_test(test_format_and_bounds),
        cmocka_unit_test(test_null_err),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
