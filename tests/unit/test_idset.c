/* Unit tests of common/idset: the set of booking ids a batch or a lookup works on. An id is added
 * once (a second add says so and keeps the first index), every id added is found with its index and
 * no other is, the set holds more ids than its first table, and its PostgreSQL array literal names
 * each id once. */
#include "unit.h"

#include "common/booking.h"
#include "common/idset.h"

#include <stdio.h>

#define ID_A "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq"
#define ID_B "AAECAwQFBgcICQoLDA0OD0ZL0x2eePkH"
#define ID_C "CCECAwQFBgcICQoLDA0OD0ZL0x2eePkH"

/* Sequences of adds, and what each add and a find of each id answer. */
static void test_add_find(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t n_ids;         /* the size hint */
        const char *adds[5];  /* ended by NULL */
        int want_seen[5];     /* what each add returns */
        const char *finds[3]; /* ended by NULL */
        int want_found[3];
        size_t want_index[3];
        const char *want_literal;
    } cases[] = {
        /* clang-format off */
        {"empty", 0, {NULL}, {0}, {ID_A, NULL}, {0}, {0}, "{}"},
        {"one id", 1, {ID_A, NULL}, {0}, {ID_A, ID_B, NULL}, {1, 0}, {0, 0}, "{" ID_A "}"},
        {"one id twice keeps its first index", 2, {ID_A, ID_A, NULL}, {0, 1}, {ID_A, NULL}, {1}, {0}, "{" ID_A "}"},
        {"three ids, one twice", 4, {ID_A, ID_B, ID_C, ID_B, NULL}, {0, 0, 0, 1}, {ID_A, ID_B, ID_C}, {1, 1, 1}, {0, 1, 2}, NULL},
        {"a hint too small", 0, {ID_A, ID_B, ID_C, NULL}, {0, 0, 0}, {ID_C, ID_A, NULL}, {1, 1}, {2, 0}, NULL},
        /* clang-format on */
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        bk_idset *set = bk_idset_new(cases[k].n_ids);
        assert_non_null(set);
        for (size_t a = 0; cases[k].adds[a] != NULL; a++) {
            EXPECT_INT(cases[k].name, "add", bk_idset_add(set, cases[k].adds[a], a), cases[k].want_seen[a]);
        }
        for (size_t f = 0; f < 3 && cases[k].finds[f] != NULL; f++) {
            size_t index = 99;
            EXPECT_INT(cases[k].name, "found", bk_idset_find(set, cases[k].finds[f], &index), cases[k].want_found[f]);
            if (cases[k].want_found[f]) {
                EXPECT_INT(cases[k].name, "index", index, cases[k].want_index[f]);
            }
        }
        char *lit = bk_idset_literal(set);
        assert_non_null(lit);
        if (cases[k].want_literal != NULL) {
            EXPECT_STR(cases[k].name, "literal", lit, cases[k].want_literal);
        }
        free(lit);
        bk_idset_free(set);
    }
}

/* Many ids past the first table: every one is found, and the literal names each exactly once. */
static void test_grows(void **state)
{
    (void)state;
    enum { N = 1000 };
    static char ids[N][BK_BOOKING_ID_LEN + 1];
    bk_idset *set = bk_idset_new(4);
    assert_non_null(set);
    for (size_t k = 0; k < N; k++) {
        snprintf(ids[k], sizeof(ids[k]), "%032zu", k);
        assert_int_equal(bk_idset_add(set, ids[k], k), 0);
    }
    for (size_t k = 0; k < N; k++) {
        size_t index = 0;
        assert_int_equal(bk_idset_find(set, ids[k], &index), 1);
        assert_int_equal(index, k);
    }
    char *lit = bk_idset_literal(set);
    assert_non_null(lit);
    assert_int_equal(strlen(lit), N * (BK_BOOKING_ID_LEN + 1) + 1);
    assert_int_equal(lit[0], '{');
    assert_int_equal(lit[strlen(lit) - 1], '}');
    for (size_t k = 0; k < N; k++) {
        char *at = strstr(lit, ids[k]);
        assert_non_null(at);
        assert_null(strstr(at + 1, ids[k]));
    }
    free(lit);
    bk_idset_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find),
        cmocka_unit_test(test_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
