/* Unit tests of common/tier: the catalogue built from the tiers table's rows (in any order, refused
 * when it cannot be the catalogue), exact-code lookup (the API is case-sensitive and codes need not
 * be NUL-terminated), the tier <-> partition mapping and the partition check. */
#include "unit.h"

#include "catalogue.h"

#include <limits.h>
#include <stdio.h>

static void test_catalogue(void **state)
{
    (void)state;
    const bk_tier_catalogue *cat = bk_test_tiers();
    assert_int_equal(cat->count, N_ELEMS(bk_test_tier_rows));
    for (int i = 0; i < cat->count; i++) {
        const bk_tier_row *row = &bk_test_tier_rows[i];
        const char *name = row->code;
        const bk_tier *tier = bk_tier_at(cat, i);
        EXPECT_TRUE(name, "bk_tier_at to find it", tier != NULL);
        EXPECT_STR(name, "code", tier->code, row->code);
        EXPECT_STR(name, "name", tier->name, row->name);
        EXPECT_INT(name, "price_cents", tier->price_cents, row->price_cents);
        EXPECT_INT(name, "capacity", tier->capacity, row->capacity);
        EXPECT_INT(name, "partition", tier->partition, row->position);
        EXPECT_TRUE(name, "find by code", bk_tier_find(cat, row->code, strlen(row->code)) == tier);
        EXPECT_TRUE(name, "find by partition", bk_tier_by_partition(cat, (int32_t)row->position) == tier);
    }
    EXPECT_STR("codes", "bk_tier_codes", bk_tier_codes(cat), "VIP, FRONT_ROW, GA");
}

/* Rows in any order: the catalogue is in position order, which is GET /tickets' order. */
static void test_order_is_position(void **state)
{
    (void)state;
    static const bk_tier_row rows[] = {
        {"GA", "General Admission", 1000, 1000, 2},
        {"BALCONY", "Balcony", 2500, 50, 3},
        {"VIP", "VIP", 10000, 100, 0},
        {"FRONT_ROW", "Front Row", 7500, 200, 1},
    };
    bk_tier_catalogue cat;
    bk_err err;
    bk_err_clear(&err);
    EXPECT_RC("four tiers", bk_tier_build(&cat, rows, N_ELEMS(rows), &err), BK_OK, &err);
    EXPECT_STR("four tiers", "codes", bk_tier_codes(&cat), "VIP, FRONT_ROW, GA, BALCONY");
    EXPECT_INT("four tiers", "FRONT_ROW price", bk_tier_find(&cat, "FRONT_ROW", 9)->price_cents, 7500);
    EXPECT_STR("four tiers", "partition 3", bk_tier_by_partition(&cat, 3)->code, "BALCONY");
    EXPECT_RC("four partitions", bk_tier_check_partitions(&cat, 4, &err), BK_OK, &err);
    EXPECT_RC("three partitions", bk_tier_check_partitions(&cat, 3, &err), BK_E_INVAL, &err);
    EXPECT_CONTAINS("three partitions", "message", err.msg, "3 partitions");
    EXPECT_CONTAINS("three partitions", "message", err.msg, "4 tiers");
}

static void test_refused(void **state)
{
    (void)state;
    static const char long_code[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG"; /* 33 bytes */
    static const struct {
        const char *name;
        bk_tier_row rows[3];
        size_t n;
        const char *want_msg;
    } cases[] = {
        {"no rows", {{0}}, 0, "0 tiers"},
        {"position gap", {{"VIP", "VIP", 1, 1, 0}, {"GA", "GA", 1, 1, 2}}, 2, "position 2"},
        {"position twice", {{"VIP", "VIP", 1, 1, 0}, {"GA", "GA", 1, 1, 0}}, 2, "taken"},
        {"negative position", {{"VIP", "VIP", 1, 1, -1}}, 1, "position -1"},
        {"code twice", {{"VIP", "VIP", 1, 1, 0}, {"VIP", "Again", 1, 1, 1}}, 2, "twice"},
        {"empty code", {{"", "Nothing", 1, 1, 0}}, 1, "1 to 32 bytes"},
        {"code too long", {{long_code, "Long", 1, 1, 0}}, 1, "1 to 32 bytes"},
        {"negative price", {{"VIP", "VIP", -1, 1, 0}}, 1, "out of range"},
        {"price over int32", {{"VIP", "VIP", (int64_t)INT32_MAX + 1, 1, 0}}, 1, "out of range"},
        {"negative capacity", {{"VIP", "VIP", 1, -5, 0}}, 1, "out of range"},
        {"no name", {{"VIP", NULL, 1, 1, 0}}, 1, "name"},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        bk_tier_catalogue cat;
        bk_err err;
        bk_err_clear(&err);
        EXPECT_RC(cases[k].name, bk_tier_build(&cat, cases[k].rows, cases[k].n, &err), BK_E_INVAL, &err);
        EXPECT_CONTAINS(cases[k].name, "message", err.msg, cases[k].want_msg);
        EXPECT_INT(cases[k].name, "count", cat.count, 0);
        EXPECT_TRUE(cases[k].name, "no tier", bk_tier_find(&cat, "VIP", 3) == NULL);
    }
    bk_tier_row many[BK_TIER_PARTITIONS_MAX + 1];
    char codes[BK_TIER_PARTITIONS_MAX + 1][8];
    for (int i = 0; i < BK_TIER_PARTITIONS_MAX + 1; i++) {
        snprintf(codes[i], sizeof(codes[i]), "T%d", i);
        many[i] = (bk_tier_row){codes[i], codes[i], 1, 1, i};
    }
    bk_tier_catalogue cat;
    bk_err err;
    bk_err_clear(&err);
    EXPECT_RC("the cap", bk_tier_build(&cat, many, BK_TIER_PARTITIONS_MAX, &err), BK_OK, &err);
    EXPECT_RC("over the cap", bk_tier_build(&cat, many, BK_TIER_PARTITIONS_MAX + 1, &err), BK_E_INVAL, &err);
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
        const bk_tier *tier = bk_tier_find(bk_test_tiers(), cases[k].code, cases[k].len);
        EXPECT_STR(cases[k].name, "found", tier != NULL ? tier->code : NULL, cases[k].want);
    }
}

static void test_out_of_range(void **state)
{
    (void)state;
    const bk_tier_catalogue *cat = bk_test_tiers();
    static const int32_t partitions[] = {-1, 3, 4, INT32_MAX, INT32_MIN};
    for (size_t k = 0; k < N_ELEMS(partitions); k++) {
        EXPECT_TRUE("partition", "no tier", bk_tier_by_partition(cat, partitions[k]) == NULL);
    }
    static const int indexes[] = {-1, 3, 100};
    for (size_t k = 0; k < N_ELEMS(indexes); k++) {
        EXPECT_TRUE("index", "no tier", bk_tier_at(cat, indexes[k]) == NULL);
    }
    bk_err err;
    bk_err_clear(&err);
    EXPECT_RC("three partitions", bk_tier_check_partitions(cat, 3, &err), BK_OK, &err);
    EXPECT_RC("one partition", bk_tier_check_partitions(cat, 1, &err), BK_E_INVAL, &err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue), cmocka_unit_test(test_order_is_position), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_find),      cmocka_unit_test(test_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
