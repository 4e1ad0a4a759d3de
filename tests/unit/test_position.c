/* Unit tests of processor/position: the stored next offset against the log's watermarks. A stored
 * offset outside [low, high] means the log no longer holds what the offset counts (a recreated
 * topic, or messages deleted before they were applied); consuming anyway would skip bookings
 * without a word, so the processor refuses the partition instead. */
#include "unit.h"

#include "processor/position.h"

static void test_check(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t stored, low, high;
        bk_position want;
    } cases[] = {
        {"new topic, nothing applied", 0, 0, 0, BK_POSITION_OK},
        {"caught up", 42, 0, 42, BK_POSITION_OK},
        {"behind, messages waiting", 10, 0, 42, BK_POSITION_OK},
        {"retention deleted only applied messages", 30, 30, 42, BK_POSITION_OK},
        {"at the log start", 30, 30, 30, BK_POSITION_OK},
        {"topic recreated, empty", 42, 0, 0, BK_POSITION_PAST_END},
        {"topic recreated, refilled less", 42, 0, 41, BK_POSITION_PAST_END},
        {"one past the end", 43, 0, 42, BK_POSITION_PAST_END},
        {"retention deleted unapplied messages", 29, 30, 42, BK_POSITION_GONE},
        {"nothing applied, log start moved", 0, 1, 5, BK_POSITION_GONE},
        {"huge offsets", INT64_MAX - 1, 0, INT64_MAX - 1, BK_POSITION_OK},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        EXPECT_INT(cases[k].name, "position", bk_position_check(cases[k].stored, cases[k].low, cases[k].high),
                   cases[k].want);
    }
}

static void test_names(void **state)
{
    (void)state;
    EXPECT_STR("ok", "name", bk_position_name(BK_POSITION_OK), "ok");
    EXPECT_STR("past end", "name", bk_position_name(BK_POSITION_PAST_END), "past_log_end");
    EXPECT_STR("gone", "name", bk_position_name(BK_POSITION_GONE), "before_log_start");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
