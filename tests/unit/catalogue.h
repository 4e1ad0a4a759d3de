/* The concert's tier catalogue as the tests build it: the rows sql/002_seed_tiers.sql seeds, turned
 * into a bk_tier_catalogue with the services' own builder. For the unit tests and the fuzzers. */
#ifndef BK_TESTS_UNIT_CATALOGUE_H
#define BK_TESTS_UNIT_CATALOGUE_H

#include "common/tier.h"

#include <stdlib.h>

static const bk_tier_row bk_test_tier_rows[] = {
    {"VIP", "VIP", 10000, 100, 0},
    {"FRONT_ROW", "Front Row", 5000, 200, 1},
    {"GA", "General Admission", 1000, 1000, 2},
};

/* The catalogue of bk_test_tier_rows, built on first use; aborts if the builder refuses it. */
static inline const bk_tier_catalogue *bk_test_tiers(void)
{
    static bk_tier_catalogue cat;
    if (cat.count == 0 && bk_tier_build(&cat, bk_test_tier_rows,
                                        sizeof(bk_test_tier_rows) / sizeof(bk_test_tier_rows[0]), NULL) != BK_OK) {
        abort();
    }
    return &cat;
}

#endif
