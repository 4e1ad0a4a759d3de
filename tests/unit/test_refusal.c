/* Unit tests of processor/refusal: which failures of a batch transaction are the data's fault
 * (the processor then applies the batch one message at a time and dead-letters the refused one)
 * and which mean "retry the same batch later". Getting this wrong either stops a partition for
 * ever or dead-letters a good booking; the sentences that replace PostgreSQL's text must never
 * quote the row. */
#include "unit.h"

#include "processor/refusal.h"

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int connected;
        const char *sqlstate;
        bk_refusal want;
    } cases[] = {
        {"check violation", 1, "23514", BK_REFUSAL_DATA},
        {"unique violation", 1, "23505", BK_REFUSAL_DATA},
        {"invalid byte sequence", 1, "22021", BK_REFUSAL_DATA},
        {"numeric out of range", 1, "22003", BK_REFUSAL_DATA},
        /* A failed connect leaves the SQLSTATE of an earlier failure in place: never the data's fault. */
        {"connection gone, stale check violation", 0, "23514", BK_REFUSAL_RETRY},
        {"connection gone, stale data exception", 0, "22021", BK_REFUSAL_RETRY},
        {"connection gone, no sqlstate", 0, "", BK_REFUSAL_RETRY},
        {"admin shutdown", 1, "57P01", BK_REFUSAL_RETRY},
        {"serialization failure", 1, "40001", BK_REFUSAL_RETRY},
        {"deadlock", 1, "40P01", BK_REFUSAL_RETRY},
        {"idle in transaction timeout", 1, "25P03", BK_REFUSAL_RETRY},
        {"too many connections", 1, "53300", BK_REFUSAL_RETRY},
        {"connected, no sqlstate (our own check failed)", 1, "", BK_REFUSAL_RETRY},
        {"NULL sqlstate", 1, NULL, BK_REFUSAL_RETRY},
        {"class prefix only", 1, "23", BK_REFUSAL_RETRY},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        EXPECT_INT(cases[k].name, "refusal", bk_refusal_classify(cases[k].connected, cases[k].sqlstate), cases[k].want);
    }
}

static void test_describe(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *sqlstate;
        const char *want;
    } cases[] = {
        {"check violation", "23514", "refused by postgresql: sqlstate=23514 (a check constraint refused the row)"},
        {"invalid UTF-8", "22021", "refused by postgresql: sqlstate=22021 (a text value is not valid UTF-8)"},
        {"other integrity", "23001", "refused by postgresql: sqlstate=23001 (an integrity constraint refused the row)"},
        {"other data exception", "22012",
         "refused by postgresql: sqlstate=22012 (a value was refused (data exception))"},
        {"not a sqlstate", "x\xc3\xa9z\"", "refused by postgresql: sqlstate=????? (the row was refused)"},
        {"NULL", NULL, "refused by postgresql: sqlstate=????? (the row was refused)"},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        char buf[160];
        bk_refusal_describe(cases[k].sqlstate, buf, sizeof(buf));
        EXPECT_STR(cases[k].name, "sentence", buf, cases[k].want);
    }
    /* A short buffer cuts, terminated, and the text is ASCII so no cut can split a character. */
    char small[10];
    bk_refusal_describe("23514", small, sizeof(small));
    EXPECT_STR("cap 10", "sentence", small, "refused b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
