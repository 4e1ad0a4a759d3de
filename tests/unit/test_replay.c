/* Unit tests of the replayer's pure modules (tools/replay): exact percentiles and per-second
 * buckets (stats), trace-line parsing and loading (trace), the --reset spec (pgstate's parser) and
 * every invariant check (verify), each a table of cases. The HTTP engine and libpq edge are
 * exercised by tests/replay/smoke.sh against the real stack. */
#include "unit.h"

#include "tools/replay/pgstate.h"
#include "tools/replay/stats.h"
#include "tools/replay/trace.h"
#include "tools/replay/verify.h"

#include <stdio.h>
#include <unistd.h>

/* --- stats -------------------------------------------------------------------------------- */

typedef struct percentile_case {
    const char *name;
    size_t n; /* values are 1..n, or `values` when given */
    int64_t values[4];
    double p;
    int64_t want;
} percentile_case;

static const percentile_case percentile_cases[] = {
    {"empty", 0, {0}, 50, 0},
    {"one value, median", 1, {7}, 50, 7},
    {"one value, p99.9", 1, {7}, 99.9, 7},
    {"two values, median is the lower", 2, {1, 2}, 50, 1},
    {"1..10 median", 10, {0}, 50, 5},
    {"1..10 p99 rounds the rank up", 10, {0}, 99, 10},
    {"1..100 p1", 100, {0}, 1, 1},
    {"1..100 p90", 100, {0}, 90, 90},
    {"1..100 p99", 100, {0}, 99, 99},
    {"1..100 p100", 100, {0}, 100, 100},
    {"1..1000 p99.9 is rank 999, not 1000", 1000, {0}, 99.9, 999},
    {"1..1001 p99.9 is rank 1000", 1001, {0}, 99.9, 1000},
    {"tiny p is the minimum", 100, {0}, 0.0001, 1},
};

static void test_percentile(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_ELEMS(percentile_cases); c++) {
        const percentile_case *tc = &percentile_cases[c];
        int64_t *values = calloc(tc->n + 1, sizeof(*values));
        assert_non_null(values);
        for (size_t k = 0; k < tc->n; k++) {
            values[k] = tc->values[0] != 0 ? tc->values[k] : (int64_t)k + 1;
        }
        EXPECT_INT(tc->name, "percentile", bk_stats_percentile(values, tc->n, tc->p), tc->want);
        free(values);
    }
}

static void test_summarize_and_buckets(void **state)
{
    (void)state;
    bk_err err;
    bk_err_clear(&err);
    bk_stats_lat *lat = bk_stats_lat_new();
    assert_non_null(lat);
    /* Second 0: 1..100 us; second 2: 1000 and 3000 us; one sample before t0 and one far after. */
    for (int k = 1; k <= 100; k++) {
        EXPECT_RC("add", bk_stats_lat_add(lat, k * 9, k, &err), BK_OK, &err);
    }
    EXPECT_RC("add", bk_stats_lat_add(lat, 2500, 3000, &err), BK_OK, &err);
    EXPECT_RC("add", bk_stats_lat_add(lat, 2000, 1000, &err), BK_OK, &err);
    EXPECT_RC("add", bk_stats_lat_add(lat, -5, 1, &err), BK_OK, &err);
    EXPECT_RC("add", bk_stats_lat_add(lat, 99000, 1, &err), BK_OK, &err);
    EXPECT_INT("count", "samples", bk_stats_lat_count(lat), 104);
    EXPECT_INT("count_between", "second 2", bk_stats_lat_count_between(lat, 2000, 3000), 2);
    EXPECT_INT("count_between", "second 0", bk_stats_lat_count_between(lat, 0, 1000), 100);

    bk_stats_summary all;
    EXPECT_RC("summarize", bk_stats_lat_summarize(lat, &all, &err), BK_OK, &err);
    EXPECT_INT("summarize", "n", all.n, 104);
    EXPECT_INT("summarize", "min", all.min_us, 1);
    EXPECT_INT("summarize", "max", all.max_us, 3000);

    bk_stats_summary b[3];
    EXPECT_RC("buckets", bk_stats_lat_buckets(lat, 0, 1000, 3, b, &err), BK_OK, &err);
    EXPECT_INT("bucket 0", "n", b[0].n, 100);
    EXPECT_INT("bucket 0", "p50", b[0].p50_us, 50);
    EXPECT_INT("bucket 0", "p99", b[0].p99_us, 99);
    EXPECT_INT("bucket 0", "max", b[0].max_us, 100);
    EXPECT_TRUE("bucket 0", "mean 50.5", b[0].mean_us > 50.49 && b[0].mean_us < 50.51);
    EXPECT_INT("bucket 1", "n (empty)", b[1].n, 0);
    EXPECT_INT("bucket 1", "p99 (empty)", b[1].p99_us, 0);
    EXPECT_INT("bucket 2", "n", b[2].n, 2);
    EXPECT_INT("bucket 2", "p50", b[2].p50_us, 1000);
    EXPECT_INT("bucket 2", "p99", b[2].p99_us, 3000);

    bk_err_clear(&err);
    EXPECT_RC("zero bucket", bk_stats_lat_buckets(lat, 0, 0, 3, b, &err), BK_E_INVAL, &err);

    bk_stats_lat *empty = bk_stats_lat_new();
    assert_non_null(empty);
    EXPECT_RC("empty", bk_stats_lat_summarize(empty, &all, &err), BK_OK, &err);
    EXPECT_INT("empty", "n", all.n, 0);
    EXPECT_INT("empty", "p99", all.p99_us, 0);
    bk_stats_lat_free(empty);
    bk_stats_lat_free(lat);
}

/* --- trace -------------------------------------------------------------------------------- */

typedef struct line_case {
    const char *name;
    const char *line;
    int want_rc;
    int want_req;
    int64_t at_ms;
    int malformed;
    const char *tier;
    int quantity;
    const char *key;
    const char *body;
    const char *content_type; /* NULL: none */
    const char *err_has;      /* for failures */
} line_case;

static const line_case line_cases[] = {
    {"plain request", "{\"at_ms\":12,\"tier\":\"VIP\",\"quantity\":2}", BK_OK, 1, 12, 0, "VIP", 2, "",
     "{\"tier\":\"VIP\",\"quantity\":2}", NULL, NULL},
    {"key and customer, escaped once",
     "{\"at_ms\":0,\"tier\":\"GA\",\"quantity\":1,\"key\":\"k-1_A\",\"customer\":\"Zo\xc3\xab \\\"Z\\\"\"}", BK_OK, 1,
     0, 0, "GA", 1, "k-1_A", "{\"tier\":\"GA\",\"quantity\":1,\"customer\":\"Zo\xc3\xab \\\"Z\\\"\"}", NULL, NULL},
    {"field order does not matter", "{\"quantity\":10,\"tier\":\"FRONT_ROW\",\"at_ms\":3}", BK_OK, 1, 3, 0, "FRONT_ROW",
     10, "", "{\"tier\":\"FRONT_ROW\",\"quantity\":10}", NULL, NULL},
    {"malformed body", "{\"at_ms\":7,\"body\":\"{\\\"tier\\\":\"}", BK_OK, 1, 7, 1, "", 0, "", "{\"tier\":", NULL,
     NULL},
    {"malformed body, own content type and key",
     "{\"at_ms\":7,\"body\":\"x\",\"content_type\":\"text/plain\",\"key\":\"a\"}", BK_OK, 1, 7, 1, "", 0, "a", "x",
     "text/plain", NULL},
    {"empty malformed body", "{\"at_ms\":1,\"body\":\"\"}", BK_OK, 1, 1, 1, "", 0, "", "", NULL, NULL},
    {"meta line", "{\"meta\":{\"seed\":1}}", BK_OK, 0, 0, 0, NULL, 0, NULL, NULL, NULL, NULL},
    {"blank line", "  \r", BK_OK, 0, 0, 0, NULL, 0, NULL, NULL, NULL, NULL},
    {"not JSON", "{\"at_ms\":", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL, NULL, "not JSON"},
    {"not an object", "[1,2]", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL, NULL, "JSON object"},
    {"missing at_ms", "{\"tier\":\"VIP\",\"quantity\":1}", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL, NULL, "at_ms"},
    {"negative at_ms", "{\"at_ms\":-1,\"tier\":\"VIP\",\"quantity\":1}", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL, NULL,
     "at_ms"},
    {"fractional at_ms", "{\"at_ms\":1.5,\"tier\":\"VIP\",\"quantity\":1}", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL,
     NULL, "at_ms"},
    {"unknown field", "{\"at_ms\":1,\"tier\":\"VIP\",\"qty\":1}", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL, NULL,
     "unknown field \"qty\""},
    {"tier not a code", "{\"at_ms\":1,\"tier\":\"vip\",\"quantity\":1}", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL, NULL,
     "tier"},
    {"quantity zero", "{\"at_ms\":1,\"tier\":\"VIP\",\"quantity\":0}", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL, NULL,
     "quantity"},
    {"quantity as a string", "{\"at_ms\":1,\"tier\":\"VIP\",\"quantity\":\"2\"}", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL,
     NULL, NULL, "quantity"},
    {"body with a tier", "{\"at_ms\":1,\"tier\":\"VIP\",\"body\":\"x\"}", BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL,
     NULL, "takes no tier"},
    {"content type without body", "{\"at_ms\":1,\"tier\":\"VIP\",\"quantity\":1,\"content_type\":\"text/plain\"}",
     BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL, NULL, "content_type"},
    {"key with a space", "{\"at_ms\":1,\"tier\":\"VIP\",\"quantity\":1,\"key\":\"a b\"}", BK_E_INVAL, 0, 0, 0, NULL, 0,
     NULL, NULL, NULL, "key"},
    {"key of 49 characters",
     "{\"at_ms\":1,\"tier\":\"VIP\",\"quantity\":1,\"key\":\"0123456789012345678901234567890123456789012345678\"}",
     BK_E_INVAL, 0, 0, 0, NULL, 0, NULL, NULL, NULL, "key"},
    {"empty customer", "{\"at_ms\":1,\"tier\":\"VIP\",\"quantity\":1,\"customer\":\"\"}", BK_E_INVAL, 0, 0, 0, NULL, 0,
     NULL, NULL, NULL, "customer"},
};

static void test_parse_line(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_ELEMS(line_cases); c++) {
        const line_case *tc = &line_cases[c];
        bk_trace_req req;
        int is_req = -1;
        bk_err err;
        bk_err_clear(&err);
        EXPECT_RC(tc->name, bk_trace_parse_line(tc->line, strlen(tc->line), &req, &is_req, &err), tc->want_rc, &err);
        EXPECT_INT(tc->name, "is_req", is_req, tc->want_req);
        if (tc->err_has != NULL) {
            EXPECT_CONTAINS(tc->name, "error", err.msg, tc->err_has);
        }
        if (tc->want_req) {
            EXPECT_INT(tc->name, "at_ms", req.at_ms, tc->at_ms);
            EXPECT_INT(tc->name, "malformed", req.malformed, tc->malformed);
            EXPECT_STR(tc->name, "tier", req.tier, tc->tier);
            EXPECT_INT(tc->name, "quantity", req.quantity, tc->quantity);
            EXPECT_STR(tc->name, "key", req.key, tc->key);
            EXPECT_STR(tc->name, "body", req.body, tc->body);
            EXPECT_INT(tc->name, "body_len", req.body_len, strlen(tc->body));
            EXPECT_STR(tc->name, "content_type", req.content_type, tc->content_type);
        }
        bk_trace_req_clear(&req);
    }
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/bk-test-replay-XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_load(void **state)
{
    (void)state;
    bk_err err;
    bk_err_clear(&err);
    /* Out of order, with a meta line, a blank line and equal offsets (file order must hold). */
    char *path = write_temp("{\"meta\":{\"profile\":\"test\"}}\n"
                            "{\"at_ms\":30,\"tier\":\"GA\",\"quantity\":1}\n"
                            "\n"
                            "{\"at_ms\":10,\"tier\":\"VIP\",\"quantity\":1,\"key\":\"first\"}\n"
                            "{\"at_ms\":10,\"tier\":\"VIP\",\"quantity\":2,\"key\":\"second\"}\n"
                            "{\"at_ms\":0,\"body\":\"[]\"}");
    bk_trace *trace = bk_trace_load(path, 0, &err);
    assert_non_null(trace);
    EXPECT_INT("load", "count", bk_trace_count(trace), 4);
    EXPECT_INT("load", "first offset", bk_trace_at(trace, 0)->at_ms, 0);
    EXPECT_STR("load", "stable order 1", bk_trace_at(trace, 1)->key, "first");
    EXPECT_STR("load", "stable order 2", bk_trace_at(trace, 2)->key, "second");
    EXPECT_INT("load", "last offset", bk_trace_at(trace, 3)->at_ms, 30);
    bk_trace_free(trace);

    trace = bk_trace_load(path, 2, &err);
    assert_non_null(trace);
    EXPECT_INT("load with a cap", "count", bk_trace_count(trace), 2);
    EXPECT_INT("load with a cap", "sorted after the cap", bk_trace_at(trace, 0)->at_ms, 10);
    bk_trace_free(trace);
    unlink(path);
    free(path);

    path = write_temp("{\"at_ms\":1,\"tier\":\"VIP\",\"quantity\":1}\n{\"at_ms\":2,\"tier\":\"VIP\"}\n");
    bk_err_clear(&err);
    assert_null(bk_trace_load(path, 0, &err));
    EXPECT_INT("bad line", "code", err.code, BK_E_INVAL);
    EXPECT_CONTAINS("bad line", "error", err.msg, ":2: ");
    unlink(path);
    free(path);

    bk_err_clear(&err);
    assert_null(bk_trace_load("/nonexistent/trace.jsonl", 0, &err));
    EXPECT_INT("missing file", "code", err.code, BK_E_IO);
}

/* --- the --reset spec --------------------------------------------------------------------- */

typedef struct caps_case {
    const char *name;
    const char *spec;
    int want_rc;
    size_t want_n;
    const char *tier1;
    int64_t cap1;
    const char *tier3;
    int64_t cap3;
} caps_case;

static const caps_case caps_cases[] = {
    {"three tiers", "VIP=100,FRONT_ROW=200,GA=1000", BK_OK, 3, "VIP", 100, "GA", 1000},
    {"one tier, zero seats", "VIP=0", BK_OK, 1, "VIP", 0, NULL, 0},
    {"ten million", "VIP=10000000,FRONT_ROW=1,GA=2000000000", BK_OK, 3, "VIP", 10000000, "GA", 2000000000},
    {"empty", "", BK_E_INVAL, 0, NULL, 0, NULL, 0},
    {"missing number", "VIP=", BK_E_INVAL, 0, NULL, 0, NULL, 0},
    {"negative", "VIP=-1", BK_E_INVAL, 0, NULL, 0, NULL, 0},
    {"over the cap", "VIP=2000000001", BK_E_INVAL, 0, NULL, 0, NULL, 0},
    {"lower case", "vip=1", BK_E_INVAL, 0, NULL, 0, NULL, 0},
    {"trailing comma", "VIP=1,", BK_E_INVAL, 0, NULL, 0, NULL, 0},
    {"tier twice", "VIP=1,VIP=2", BK_E_INVAL, 0, NULL, 0, NULL, 0},
    {"space", "VIP=1, GA=2", BK_E_INVAL, 0, NULL, 0, NULL, 0},
    {"too many tiers", "A=1,B=1,C=1,D=1,E=1", BK_E_INVAL, 0, NULL, 0, NULL, 0},
};

static void test_parse_caps(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_ELEMS(caps_cases); c++) {
        const caps_case *tc = &caps_cases[c];
        bk_pgstate_cap caps[4];
        size_t n = 0;
        bk_err err;
        bk_err_clear(&err);
        EXPECT_RC(tc->name, bk_pgstate_parse_caps(tc->spec, caps, N_ELEMS(caps), &n, &err), tc->want_rc, &err);
        if (tc->want_rc != BK_OK) {
            continue;
        }
        EXPECT_INT(tc->name, "n", n, tc->want_n);
        EXPECT_STR(tc->name, "first tier", caps[0].tier, tc->tier1);
        EXPECT_INT(tc->name, "first capacity", caps[0].capacity, tc->cap1);
        if (tc->tier3 != NULL) {
            EXPECT_STR(tc->name, "third tier", caps[2].tier, tc->tier3);
            EXPECT_INT(tc->name, "third capacity", caps[2].capacity, tc->cap3);
        }
    }
}

/* --- verify ------------------------------------------------------------------------------- */

#define V_MAX 4
enum { C = BK_VERIFY_CONFIRMED, R = BK_VERIFY_REJECTED, N = BK_VERIFY_NONE };

/* A reply as a table row: sent, malformed, key, tier, quantity, status, id, outcome, conflict. */
#define OK202(id, out)                                                                                                 \
    {                                                                                                                  \
        1, 0, NULL, "VIP", 1, 202, id, out, 0                                                                          \
    }
#define KEYED(key, status, id, out)                                                                                    \
    {                                                                                                                  \
        1, 0, key, "VIP", 1, status, id, out, 0                                                                        \
    }

typedef struct verify_case {
    const char *name;
    size_t n_replies;
    bk_verify_reply replies[V_MAX];
    int no_db;
    size_t n_rows;
    bk_verify_row rows[V_MAX];
    int64_t capacity; /* of the one tier, VIP */
    int64_t available;
    int allow_unavailable;
    size_t want[BK_VERIFY_N_CHECKS]; /* breaches per check */
    int64_t want_sold;
} verify_case;

static const verify_case verify_cases[] = {
    {"all good: one confirmed, one rejected",
     2,
     {OK202("a", C), OK202("b", R)},
     0,
     2,
     {{"a", "VIP", 1, 1}, {"b", "VIP", 1, 0}},
     1,
     0,
     0,
     {0},
     1},
    {"oversell",
     3,
     {OK202("a", C), OK202("b", C), OK202("c", C)},
     0,
     3,
     {{"a", "VIP", 1, 1}, {"b", "VIP", 1, 1}, {"c", "VIP", 1, 1}},
     2,
     0,
     0,
     {[BK_VERIFY_OVERSELL] = 1, [BK_VERIFY_BALANCE] = 1},
     3},
    {"available does not match the rows",
     1,
     {OK202("a", C)},
     0,
     1,
     {{"a", "VIP", 1, 1}},
     5,
     5,
     0,
     {[BK_VERIFY_BALANCE] = 1},
     1},
    {"a 202 without an outcome", 1, {OK202("a", N)}, 0, 0, {{"", "", 0, 0}}, 1, 1, 0, {[BK_VERIFY_NO_OUTCOME] = 1}, 0},
    {"the API said confirmed, the row says rejected",
     1,
     {OK202("a", C)},
     0,
     1,
     {{"a", "VIP", 1, 0}},
     1,
     1,
     0,
     {[BK_VERIFY_STATUS_MISMATCH] = 1},
     0},
    {"the API said confirmed, no row",
     1,
     {OK202("a", C)},
     0,
     0,
     {{"", "", 0, 0}},
     1,
     1,
     0,
     {[BK_VERIFY_MISSING_ROW] = 1},
     0},
    {"row for another tier", 1, {OK202("a", C)}, 0, 1, {{"a", "GA", 1, 1}}, 1, 1, 0, {[BK_VERIFY_ROW_MISMATCH] = 1}, 0},
    {"retries of one key share a booking",
     3,
     {KEYED("k", 202, "a", C), KEYED("k", 202, "a", C), KEYED("k", 200, "a", C)},
     0,
     1,
     {{"a", "VIP", 1, 1}},
     1,
     0,
     0,
     {0},
     1},
    {"one key booked twice",
     2,
     {KEYED("k", 202, "a", C), KEYED("k", 202, "b", C)},
     0,
     2,
     {{"a", "VIP", 1, 1}, {"b", "VIP", 1, 1}},
     2,
     0,
     0,
     {[BK_VERIFY_KEY_TWICE] = 1},
     2},
    {"two requests without a key, one id",
     2,
     {OK202("a", C), OK202("a", C)},
     0,
     1,
     {{"a", "VIP", 1, 1}},
     1,
     0,
     0,
     {[BK_VERIFY_ID_SHARED] = 1},
     1},
    {"outcomes disagree across retries",
     2,
     {KEYED("k", 202, "a", C), KEYED("k", 200, "a", R)},
     0,
     1,
     {{"a", "VIP", 1, 1}},
     1,
     0,
     0,
     {[BK_VERIFY_CONFLICT] = 1},
     1},
    {"the engine saw a conflict",
     1,
     {{1, 0, NULL, "VIP", 1, 202, "a", C, 1}},
     0,
     1,
     {{"a", "VIP", 1, 1}},
     1,
     0,
     0,
     {[BK_VERIFY_CONFLICT] = 1},
     1},
    {"malformed refused",
     2,
     {{1, 1, NULL, NULL, 0, 400, "", N, 0}, {1, 1, NULL, NULL, 0, 415, "", N, 0}},
     0,
     0,
     {{"", "", 0, 0}},
     1,
     1,
     0,
     {0},
     0},
    {"malformed accepted",
     1,
     {{1, 1, NULL, NULL, 0, 202, "", N, 0}},
     0,
     0,
     {{"", "", 0, 0}},
     1,
     1,
     0,
     {[BK_VERIFY_MALFORMED_NOT_4XX] = 1},
     0},
    {"malformed answered 500",
     1,
     {{1, 1, NULL, NULL, 0, 500, "", N, 0}},
     0,
     0,
     {{"", "", 0, 0}},
     1,
     1,
     0,
     {[BK_VERIFY_MALFORMED_NOT_4XX] = 1},
     0},
    {"valid request refused",
     1,
     {{1, 0, NULL, "VIP", 1, 400, "", N, 0}},
     0,
     0,
     {{"", "", 0, 0}},
     1,
     1,
     0,
     {[BK_VERIFY_VALID_REFUSED] = 1},
     0},
    {"a 202 without an id",
     1,
     {{1, 0, NULL, "VIP", 1, 202, "", N, 0}},
     0,
     0,
     {{"", "", 0, 0}},
     1,
     1,
     0,
     {[BK_VERIFY_BAD_REPLY] = 1},
     0},
    {"503 is a breach by default",
     1,
     {{1, 0, NULL, "VIP", 1, 503, "", N, 0}},
     0,
     0,
     {{"", "", 0, 0}},
     1,
     1,
     0,
     {[BK_VERIFY_UNAVAILABLE] = 1},
     0},
    {"503 allowed, and it may explain one row",
     1,
     {{1, 0, NULL, "VIP", 1, 503, "", N, 0}},
     0,
     1,
     {{"x", "VIP", 1, 1}},
     1,
     0,
     1,
     {0},
     1},
    {"no answer allowed, but two unexplained rows",
     1,
     {{1, 0, NULL, "VIP", 1, 0, "", N, 0}},
     0,
     2,
     {{"x", "VIP", 1, 1}, {"y", "VIP", 1, 1}},
     2,
     0,
     1,
     {[BK_VERIFY_UNEXPLAINED_ROWS] = 1},
     2},
    {"a row nobody asked for",
     1,
     {OK202("a", R)},
     0,
     2,
     {{"a", "VIP", 1, 0}, {"z", "VIP", 1, 1}},
     1,
     0,
     0,
     {[BK_VERIFY_UNEXPLAINED_ROWS] = 1},
     1},
    {"requests never sent are not judged",
     1,
     {{0, 0, NULL, "VIP", 1, 0, "", N, 0}},
     0,
     0,
     {{"", "", 0, 0}},
     1,
     1,
     0,
     {0},
     0},
    {"without the database only the API is checked",
     2,
     {OK202("a", C), OK202("b", N)},
     1,
     0,
     {{"", "", 0, 0}},
     1,
     1,
     0,
     {[BK_VERIFY_NO_OUTCOME] = 1},
     0},
};

static void test_verify(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_ELEMS(verify_cases); c++) {
        const verify_case *tc = &verify_cases[c];
        bk_verify_tier tier = {.tier = "VIP", .capacity = tc->capacity, .available = tc->available};
        bk_verify_input in = {
            .replies = tc->replies,
            .n_replies = tc->n_replies,
            .rows = tc->no_db ? NULL : tc->rows,
            .n_rows = tc->n_rows,
            .tiers = tc->no_db ? NULL : &tier,
            .n_tiers = tc->no_db ? 0 : 1,
            .allow_unavailable = tc->allow_unavailable,
        };
        bk_verify_report out;
        bk_err err;
        bk_err_clear(&err);
        EXPECT_RC(tc->name, bk_verify_run(&in, &out, &err), BK_OK, &err);
        size_t want_total = 0;
        for (int k = 0; k < BK_VERIFY_N_CHECKS; k++) {
            EXPECT_INT(tc->name, bk_verify_check_name((bk_verify_check)k), out.breaches[k], tc->want[k]);
            want_total += tc->want[k];
        }
        EXPECT_INT(tc->name, "n_breaches", out.n_breaches, want_total);
        EXPECT_INT(tc->name, "examples", out.n_examples,
                   want_total < BK_VERIFY_EXAMPLES ? want_total : BK_VERIFY_EXAMPLES);
        EXPECT_INT(tc->name, "db_checked", out.db_checked, !tc->no_db);
        if (!tc->no_db) {
            EXPECT_INT(tc->name, "sold", tier.sold, tc->want_sold);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile), cmocka_unit_test(test_summarize_and_buckets),
        cmocka_unit_test(test_parse_line), cmocka_unit_test(test_load),
        cmocka_unit_test(test_parse_caps), cmocka_unit_test(test_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
