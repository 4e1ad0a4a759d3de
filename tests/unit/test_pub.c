/* Unit tests of ingress/pub: what the publisher does when the idempotent producer hits a fatal
 * error (librdkafka's rd_kafka_fatal_error, raised here with its test hook). No broker is needed:
 * the brokers are a closed port, so messages wait in the queue until they are failed. */
#include "unit.h"

#include "common/cfg.h"
#include "ingress/pub.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static atomic_int n_done;
static atomic_int n_failed;

static void on_done(void *opaque, bk_pub_result result, const char *reason)
{
    (void)opaque;
    (void)reason;
    atomic_fetch_add(&n_done, 1);
    if (result != BK_PUB_DELIVERED) {
        atomic_fetch_add(&n_failed, 1);
    }
}

/* Polls cond every 10 ms for up to 30 s (a bound against a hang, not a timing assertion). */
static int eventually(int (*cond)(bk_pub *), bk_pub *pub)
{
    for (int k = 0; k < 3000; k++) {
        if (cond(pub)) {
            return 1;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    }
    return 0;
}

static int first_reported(bk_pub *pub)
{
    (void)pub;
    return atomic_load(&n_done) >= 1;
}

static int sends_again(bk_pub *pub)
{
    return bk_pub_send(pub, 0, "key-2", "{}", 2, NULL, NULL) == BK_OK;
}

/* After a fatal error every message of the dead producer hears back (a failure: 503), and a new
 * producer takes over, so POST /book does not answer 503 for ever. */
static void test_fatal_error(void **state)
{
    (void)state;
    bk_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.kafka_brokers, sizeof(cfg.kafka_brokers), "127.0.0.1:1");
    snprintf(cfg.kafka_topic, sizeof(cfg.kafka_topic), "bookings");
    cfg.produce_timeout_ms = 1000;
    bk_err err;
    bk_err_clear(&err);
    bk_pub *pub = bk_pub_new(&cfg, on_done, &err);
    assert_non_null(pub);
    EXPECT_RC("send before", bk_pub_send(pub, 0, "key-1", "{}", 2, NULL, &err), BK_OK, &err);

    bk_pub_test_fatal(pub, "unit test");
    EXPECT_TRUE("fatal error", "the queued message to hear back", eventually(first_reported, pub));
    EXPECT_INT("fatal error", "failed reports", atomic_load(&n_failed), 1);
    EXPECT_TRUE("fatal error", "a new producer to accept messages", eventually(sends_again, pub));

    bk_pub_free(pub); /* the last message times out without a broker: a failure too */
    EXPECT_INT("after free", "reports", atomic_load(&n_done), 2);
    EXPECT_INT("after free", "failed reports", atomic_load(&n_failed), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fatal_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
