/* The publisher: a librdkafka producer (acks=all, idempotent) and the thread that serves its
 * delivery reports. A booking is promised (202) only from the delivery report, never before. */
#ifndef BK_INGRESS_PUB_H
#define BK_INGRESS_PUB_H

#include "common/cfg.h"
#include "common/err.h"
#include "common/tier.h"

#include <signal.h>

#include <stddef.h>
#include <stdint.h>

typedef struct bk_pub bk_pub;

/* How a message ended. */
typedef enum bk_pub_result {
    BK_PUB_FAILED = 0, /* not written: nothing promised */
    BK_PUB_DELIVERED,  /* the broker acknowledged it (acks=all) */
    BK_PUB_MAYBE,      /* failed after it was sent (a timeout): the broker may have written it */
} bk_pub_result;

/* Called on the publisher's thread once per message with its result; reason is librdkafka's text
 * ("" when delivered). opaque is what bk_pub_send was given. */
typedef void (*bk_pub_done_fn)(void *opaque, bk_pub_result result, const char *reason);

/* Creates the producer and starts its delivery-report thread; cfg must outlive it. After a fatal
 * error of the idempotent producer (rd_kafka_fatal_error) that thread fails every message the
 * dead producer held and creates a new one; meanwhile bk_pub_send and bk_pub_ping fail with the
 * reason. NULL with err on failure. */
bk_pub *bk_pub_new(const bk_cfg *cfg, bk_pub_done_fn done, bk_err *err);

/* Enqueues payload (copied) for partition with key; done() follows exactly once on success.
 * On failure nothing was enqueued and done() is not called. */
int bk_pub_send(bk_pub *pub, int32_t partition, const char *key, const void *payload, size_t len, void *opaque,
                bk_err *err) BK_WARN_UNUSED;

/* At start, before the ingress serves: waits (until *stop) for the broker to describe our topic,
 * then BK_E_INVAL unless it has one partition per tier of the catalogue (common/tierload.h). */
int bk_pub_check_topic(bk_pub *pub, const bk_tier_catalogue *tiers, volatile sig_atomic_t *stop,
                       bk_err *err) BK_WARN_UNUSED;

/* Checks the broker answers metadata for our topic within timeout_ms; reason (len bytes) says
 * what failed. Used by the health monitor. */
int bk_pub_ping(bk_pub *pub, int timeout_ms, char *reason, size_t len);

/* For tests: raises a fatal error in the producer, as the idempotent producer does when the broker
 * reports what it cannot recover from (a sequence gap, a fenced producer id). */
void bk_pub_test_fatal(bk_pub *pub, const char *reason);

/* Messages enqueued and not yet reported (librdkafka's out queue). */
int bk_pub_queue_len(bk_pub *pub);

/* Waits (bounded) for every enqueued message's delivery report, then stops the thread and
 * destroys the producer (NULL-safe). */
void bk_pub_free(bk_pub *pub);

#endif
