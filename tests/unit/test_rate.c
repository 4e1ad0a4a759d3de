/* bk_rate_take: the token bucket behind the ingress's per-client rate limit, driven by a table of
 * steps (time, expected answer) so every case reads as a timeline. */
#include "common/rate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

typedef struct step {
    int64_t now_ms;
    int want; /* 0 allowed, else Retry-After seconds */
} step;

typedef struct rate_case {
    const char *name;
    double rate;
    double burst;
    step steps[12];
    int n_steps;
} rate_case;

static const rate_case cases[] = {
    {"a new bucket is full: burst requests at once", 1, 3, {{1000, 0}, {1000, 0}, {1000, 0}, {1000, 1}}, 4},
    {"refills at the rate", 2, 2, {{1000, 0}, {1000, 0}, {1000, 1}, {1500, 0}, {1500, 1}, {2000, 0}}, 6},
    {"never above burst after a long idle", 10, 2, {{1000, 0}, {1000, 0}, {60000, 0}, {60000, 0}, {60000, 1}}, 5},
    {"retry-after rounds up to whole seconds", 0.25, 1, {{1000, 0}, {1000, 4}, {2000, 3}}, 3},
    {"a clock that goes back refills nothing", 1, 1, {{5000, 0}, {4000, 1}, {5000, 1}, {6000, 0}}, 4},
};

static void test_timelines(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        bk_rate bucket = {0};
        for (int k = 0; k < cases[c].n_steps; k++) {
            const step *s = &cases[c].steps[k];
            int got = bk_rate_take(&bucket, cases[c].rate, cases[c].burst, s->now_ms);
            if (got != s->want) {
                print_error("case \"%s\" step %d (t=%lld ms): got %d, want %d\n", cases[c].name, k,
                            (long long)s->now_ms, got, s->want);
                fail();
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_timelines)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
