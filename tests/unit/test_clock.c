/* Unit tests of common/clock: RFC 3339 formatting (UTC, milliseconds) against known instants,
 * and sanity of the two clocks. No timing assertions: those belong to benchmarks. */
#include "unit.h"

#include "common/clock.h"

#include <stdio.h>
#include <time.h>

static void test_format(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t wall_ms;
        const char *want;
    } cases[] = {
        {"epoch", 0, "1970-01-01T00:00:00.000Z"},
        {"one millisecond", 1, "1970-01-01T00:00:00.001Z"},
        {"the message example", 1763827200123, "2025-11-22T16:00:00.123Z"},
        {"leap day 2000", 951782400000, "2000-02-29T00:00:00.000Z"},
        {"last millisecond before a leap day", 1709164799999, "2024-02-28T23:59:59.999Z"},
        {"end of 2038 (past 32-bit time_t)", 2177452799999, "2038-12-31T23:59:59.999Z"},
        {"year 9999", 253402300799999, "9999-12-31T23:59:59.999Z"},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        char buf[BK_CLOCK_RFC3339_LEN];
        bk_clock_format(cases[k].wall_ms, buf, sizeof(buf));
        EXPECT_STR(cases[k].name, "text", buf, cases[k].want);
    }
}

/* A short buffer truncates and stays terminated. */
static void test_format_truncates(void **state)
{
    (void)state;
    char buf[16];
    memset(buf, 'x', sizeof(buf));
    bk_clock_format(1763827200123, buf, 11);
    EXPECT_STR("11 bytes", "text", buf, "2025-11-22");
    EXPECT_INT("11 bytes", "byte past len", buf[11], 'x');
}

/* Every day from 1970 to 2517 and of 9990 to 9999, every 97th day between, at a varying time of
 * day, against the C library's calendar. */
static void test_format_agrees_with_gmtime(void **state)
{
    (void)state;
    for (int64_t day = 0; day <= 2932896; day += day < 200000 || day > 2929000 ? 1 : 97) {
        int64_t wall_ms = day * 86400000 + (day * 7919 % 86400) * 1000 + day % 1000;
        time_t secs = (time_t)(wall_ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        char want[128], got[BK_CLOCK_RFC3339_LEN];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
        bk_clock_format(wall_ms, got, sizeof(got));
        if (strcmp(got, want) != 0) {
            fail_msg("day %lld: got %s, want %s", (long long)day, got, want);
        }
    }
}

static void test_clocks(void **state)
{
    (void)state;
    int64_t before = (int64_t)time(NULL);
    int64_t wall = bk_clock_wall_ms();
    int64_t after = (int64_t)time(NULL);
    /* time() reads the coarse clock, which may lag by a tick across a second boundary: allow one. */
    EXPECT_TRUE("wall", "wall clock agrees with time()", wall / 1000 >= before - 1 && wall / 1000 <= after + 1);

    int64_t last = bk_clock_mono_ms();
    EXPECT_TRUE("mono", "a non-negative monotonic clock", last >= 0);
    for (int k = 0; k < 1000; k++) {
        int64_t now = bk_clock_mono_ms();
        EXPECT_TRUE("mono", "a monotonic clock that never goes back", now >= last);
        last = now;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_truncates),
        cmocka_unit_test(test_format_agrees_with_gmtime),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
