/* The tier catalogue's I/O: each service reads the tiers table once at start, before it serves or
 * consumes, and checks that the topic has one partition per tier. Both wait, with a backoff capped
 * at BK_TIERLOAD_BACKOFF_MAX_MS, for a database or a broker that is not there yet; neither ever
 * lets a service start with a catalogue it did not read. The catalogue itself is common/tier.h. */
#ifndef BK_COMMON_TIERLOAD_H
#define BK_COMMON_TIERLOAD_H

#include "common/err.h"
#include "common/tier.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>

#define BK_TIERLOAD_BACKOFF_MIN_MS 100
#define BK_TIERLOAD_BACKOFF_MAX_MS 2000
#define BK_TIERLOAD_METADATA_MS    2000 /* one metadata request */

/* Reads the tiers table of dsn into cat, retrying database failures (logged event=tiers_unavailable)
 * until it succeeds or *stop is set (then BK_E_DB). A table that cannot be a catalogue
 * (bk_tier_build) is not retried: BK_E_INVAL at once. */
int bk_tierload_read(const char *dsn, volatile sig_atomic_t *stop, bk_tier_catalogue *cat, bk_err *err) BK_WARN_UNUSED;

/* Asks the broker how many partitions topic has (librdkafka metadata on rk), retrying while the
 * broker or the topic is not there (logged event=topic_unavailable) until *stop is set (then
 * BK_E_KAFKA); then BK_E_INVAL if that count is not the catalogue's (bk_tier_check_partitions). */
int bk_tierload_check_topic(rd_kafka_t *rk, const char *topic, const bk_tier_catalogue *cat,
                            volatile sig_atomic_t *stop, bk_err *err) BK_WARN_UNUSED;

#endif
