/* Unit tests of ingress/tickets: the GET /tickets cache. One caller refreshes a stale body, and
 * the database query runs without the cache's lock: a caller that comes while the query is in
 * flight gets the cached body if young enough, else waits for that query (at most the cache's
 * wait bound, 0 here: nothing at once) and gets its body, never a 503 while an answer is on its
 * way. The database and the renderer are stubs here. */
#include "unit.h"

#include "catalogue.h"

#include "ingress/lookup.h"
#include "ingress/reply.h"
#include "ingress/tickets.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

/* What the stubbed database does on the next queries. */
enum { DB_OK, DB_FAIL, DB_NESTED, DB_AWAITED };

static struct {
    int script[8]; /* one entry per query, in order */
    int n_queries;
    bk_tickets *tickets;
    char *nested_body; /* what a caller that came during the query got */
    int nested_done;
    pthread_t awaiting; /* DB_AWAITED: the caller that waits for the query, joined after it */
    int awaiting_started;
} stub;

/* Another caller while the query is in flight, on its own thread so that a cache that held its
 * lock across the query shows as a failure (after a generous bound) instead of a hang. */
static void *nested_get(void *arg)
{
    sem_t *done = arg;
    size_t len = 0;
    bk_err err;
    bk_err_clear(&err);
    stub.nested_body = bk_tickets_get(stub.tickets, (bk_db *)&stub, &len, &err);
    if (done != NULL) {
        sem_post(done);
    }
    return NULL;
}

int bk_lookup_tiers(bk_db *db, const bk_tier_catalogue *tiers, bk_tier_state states[BK_TIER_PARTITIONS_MAX],
                    bk_err *err)
{
    (void)db;
    assert_ptr_equal(tiers, bk_test_tiers()); /* the catalogue bk_tickets_new was given */
    int what = stub.script[stub.n_queries++];
    memset(states, 0, sizeof(bk_tier_state) * BK_TIER_PARTITIONS_MAX);
    states[0].available = stub.n_queries; /* the body says which query made it */
    if (what == DB_NESTED) {
        sem_t done;
        pthread_t thread;
        sem_init(&done, 0, 0);
        int rc = pthread_create(&thread, NULL, nested_get, &done);
        assert_int_equal(rc, 0);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 30;
        stub.nested_done = sem_timedwait(&done, &until) == 0;
        if (stub.nested_done) {
            pthread_join(thread, NULL);
        } else {
            pthread_detach(thread); /* stuck on the lock we hold: the test fails below */
        }
        sem_destroy(&done);
    }
    if (what == DB_AWAITED) {
        /* The other caller comes during the query and finds nothing young enough: it must wait
         * for this query (seen through bk_tickets_waiting), and gets its body once it ends. */
        int rc = pthread_create(&stub.awaiting, NULL, nested_get, NULL);
        assert_int_equal(rc, 0);
        stub.awaiting_started = 1;
        for (int k = 0; k < 30000 && bk_tickets_waiting(stub.tickets) == 0; k++) {
            nanosleep(&(struct timespec){.tv_nsec = 1000000L}, NULL); /* polling, bounded: 30 s */
        }
        stub.nested_done = bk_tickets_waiting(stub.tickets) == 1;
    }
    return what == DB_FAIL ? bk_err_set(err, BK_E_DB, "stub: database away") : BK_OK;
}

char *bk_reply_render_tickets(const bk_tier_catalogue *tiers, const bk_tier_state states[BK_TIER_PARTITIONS_MAX],
                              size_t *len)
{
    assert_ptr_equal(tiers, bk_test_tiers());
    char text[32];
    *len = (size_t)snprintf(text, sizeof(text), "query %d", (int)states[0].available) + 1;
    char *body = malloc(*len);
    assert_non_null(body);
    memcpy(body, text, *len);
    return body;
}

/* Two calls in a row; the second may come during the first one's query (DB_NESTED). */
static void test_cache(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int max_age_ms;
        int script[4];     /* what the database does on each query */
        int calls;         /* bk_tickets_get calls after the first */
        const char *first; /* body of the first call (NULL: none) */
        const char *last;  /* body of the last call */
        int n_queries;
        const char *nested; /* body the caller during the query got; "-" when there was none */
        int wait_ms;
    } cases[] = {
        {"first call queries", 250, {DB_OK}, 0, "query 1", "query 1", 1, "-", 0},
        {"young body: no query", 1000, {DB_OK}, 1, "query 1", "query 1", 1, "-", 0},
        {"stale body: queried again", 0, {DB_OK, DB_OK}, 1, "query 1", "query 2", 2, "-", 0},
        {"refresh failed: the cached body, still young enough",
         0,
         {DB_OK, DB_FAIL},
         1,
         "query 1",
         "query 1",
         2,
         "-",
         0},
        {"no body and the database away", 0, {DB_FAIL}, 0, NULL, NULL, 1, "-", 0},
        {"during the first query, no wait allowed: nothing", 0, {DB_NESTED}, 0, "query 1", "query 1", 1, NULL, 0},
        {"during the first query: waits for it, gets its body",
         0,
         {DB_AWAITED},
         0,
         "query 1",
         "query 1",
         1,
         "query 1",
         30000},
        {"during a refresh: the cached body, no wait",
         0,
         {DB_OK, DB_NESTED},
         1,
         "query 1",
         "query 2",
         2,
         "query 1",
         30000},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        memset(&stub, 0, sizeof(stub));
        memcpy(stub.script, cases[k].script, sizeof(cases[k].script));
        stub.tickets = bk_tickets_new(bk_test_tiers(), cases[k].max_age_ms, cases[k].wait_ms);
        assert_non_null(stub.tickets);
        char *body = NULL;
        for (int call = 0; call <= cases[k].calls; call++) {
            bk_err err;
            bk_err_clear(&err);
            size_t len = 0;
            free(body);
            body = bk_tickets_get(stub.tickets, (bk_db *)&stub, &len, &err);
            const char *want = call == 0 ? cases[k].first : cases[k].last;
            EXPECT_STR(cases[k].name, "body", body, want);
            EXPECT_TRUE(cases[k].name, "an error when there is no body", body != NULL || err.code == BK_E_DB);
        }
        if (stub.awaiting_started) {
            pthread_join(stub.awaiting, NULL);
        }
        EXPECT_INT(cases[k].name, "queries", stub.n_queries, cases[k].n_queries);
        if (strcmp(cases[k].nested != NULL ? cases[k].nested : "", "-") != 0) {
            EXPECT_TRUE(cases[k].name, "the caller during the query: answered at once, or waiting for that query",
                        stub.nested_done);
            EXPECT_STR(cases[k].name, "body during the query", stub.nested_body, cases[k].nested);
        }
        free(body);
        free(stub.nested_body);
        bk_tickets_free(stub.tickets);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
