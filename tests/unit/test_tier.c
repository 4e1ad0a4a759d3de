/* Unit tests of common/tier: the catalogue of the three tiers, exact-code lookup (the API is
 * case-sensitive and codes need not be NUL-terminated) and the tier <-> partition mapping. */
#include "unit.h"

#include "common/tier.h"

/* The concert's tiers, in display order. */
static const struct {
    const char *code;
    const char *name;
    int32_t price_cents;
    int32_t partition;
} catalogue[] = {
    {"VIP", "VIP", 10000, 0},
    {"FRONT_ROW", "Front Row", 5000, 1},
    {"GA", "General Admission", 1000, 2},
};

static void test_catalogue(void **state)
{
    (void)state;
    assert_int_equal(N_ELEMS(catalogue), BK_TIER_COUNT);
    for (int i = 0; i < BK_TIER_COUNT; i++) {
        const char *name = catalogue[i].code;
        const bk_tier *tier = bk_tier_at(i);
        EXPECT_TRUE(name, "bk_tier_at to find it", tier != NULL);
        EXPECT_STR(name, "code", tier->code, catalogue[i].code);
        EXPECT_STR(name, "name", tier->name, catalogue[i].name);
        EXPECT_INT(name, "price_cents", tier->price_cents, catalogue[i].price_cents);
        EXPECT_INT(name, "partition", tier->partition, catalogue[i].partition);
        EXPECT_TRUE(name, "find by code", bk_tier_find(catalogue[i].code, strlen(catalogue[i].code)) == tier);
        EXPECT_TRUE(name, "find by partition", bk_tier_by_partition(catalogue[i].partition) == tier);
        EXPECT_CONTAINS(name, "BK_TIER_CODES", BK_TIER_CODES, catalogue[i].code);
    }
}

static void test_find(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *code;
        size_t len;
        const char *want; /* NULL: not found */
    } cases[] = {
        {"VIP", "VIP", 3, "VIP"},
        {"GA", "GA", 2, "GA"},
        {"not NUL-terminated", "VIPX", 3, "VIP"},
        {"prefix of a code", "VI", 2, NULL},
        {"code plus a byte", "VIPX", 4, NULL},
        {"code plus NUL", "VIP", 4, NULL},
        {"lower case", "vip", 3, NULL},
        {"mixed case", "Front_Row", 9, NULL},
        {"display name", "Front Row", 9, NULL},
        {"empty", "", 0, NULL},
        {"unknown", "BALCONY", 7, NULL},
        {"GA with len 1", "GA", 1, NULL},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        const bk_tier *tier = bk_tier_find(cases[k].code, cases[k].len);
        EXPECT_STR(cases[k].name, "found", tier != NULL ? tier->code : NULL, cases[k].want);
    }
}

static void test_out_of_range(void **state)
{
    (void)state;
    static const int32_t partitions[] = {-1, 3, 4, INT32_MAX, INT32_MIN};
    for (size_t k = 0; k < N_ELEMS(partitions); k++) {
        EXPECT_TRUE("partition", "no tier", bk_tier_by_partition(partitions[k]) == NULL);
    }
    static const int indexes[] = {-1, BK_TIER_COUNT, 100};
    for (size_t k = 0; k < N_ELEMS(indexes); k++) {
        EXPECT_TRUE("index", "no tier", bk_tier_at(indexes[k]) == NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
