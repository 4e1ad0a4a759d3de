/* bk_edge_head_refusal: which request heads bk-ingress refuses before libmicrohttpd's pool runs out
 * (ingress/edge.c), as a table of heads against a 16 KiB pool; and the JSON of every refusal. */
#include "ingress/edge.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define POOL 16384

typedef struct head_case {
    const char *name;
    bk_edge_head head;
    unsigned want;
} head_case;

static const head_case cases[] = {
    {"an ordinary request", {60, 300, 6}, 0},
    {"a request line of exactly half the pool", {POOL / 2, POOL / 2, 0}, 0},
    {"a request line one byte over half the pool", {POOL / 2 + 1, POOL / 2 + 1, 0}, 414},
    {"a request line filling the pool", {POOL - 40, POOL - 20, 1}, 414},
    {"a long line is 414 even with large headers", {POOL / 2 + 1, POOL, 50}, 414},
    {"headers over half the pool", {60, POOL / 2 + 1, 4}, 431},
    {"headers just within half the pool", {60, POOL / 2 - 4 * BK_EDGE_RECORD_BYTES, 4}, 0},
    {"the records count: many small headers", {60, 2000, 100}, 431},
    {"query arguments count as records too", {4000, 4200, 80}, 431},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        unsigned got = bk_edge_head_refusal(&cases[c].head, POOL);
        if (got != cases[c].want) {
            fail_msg("%s: got %u, want %u", cases[c].name, got, cases[c].want);
        }
    }
}

static void test_every_refusal_is_a_json_error(void **state)
{
    (void)state;
    static const unsigned statuses[] = {400, 404, 405, 413, 414, 431, 500, 503, 505};
    for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++) {
        const char *body = bk_edge_error_body(statuses[k]);
        assert_true(strncmp(body, "{\"error\":\"", 10) == 0);
        assert_true(strcmp(body + strlen(body) - 2, "\"}") == 0);
    }
    assert_string_equal(bk_edge_error_body(414), "{\"error\":\"request line is too long\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_every_refusal_is_a_json_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
