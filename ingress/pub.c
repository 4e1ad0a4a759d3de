/* Producer and delivery-report thread. librdkafka calls dr_msg_cb from rd_kafka_poll(), which
 * only our thread calls, so done() always runs on that thread. The same thread replaces the
 * producer after a fatal error: it swaps the handle out under the write lock (the HTTP threads,
 * the health monitor and /metrics use it under the read lock), fails every message the dead one
 * held, destroys it and creates a new one. */
#include "ingress/pub.h"

#include "common/clock.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/tierload.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FLUSH_TIMEOUT_MS 10000
#define RECREATE_MS      1000 /* between two attempts to create a producer after a fatal error */

struct bk_pub {
    const bk_cfg *cfg;
    bk_pub_done_fn done;
    pthread_t thread;
    int thread_started;
    atomic_int stop;

    pthread_rwlock_t lock; /* write: the thread swapping the producer; read: everyone using it */
    rd_kafka_t *rk;        /* NULL while replaced after a fatal error */
    rd_kafka_topic_t *rkt;
    char fatal[256]; /* the last fatal error, while no producer replaced the one it killed */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    bk_pub *pub = opaque;
    bk_pub_result result = BK_PUB_DELIVERED;
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* A timeout (or a purge) after the message was sent: the broker may have written it. */
        result = rd_kafka_message_status(rkm) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED ? BK_PUB_MAYBE : BK_PUB_FAILED;
    }
    pub->done(rkm->_private, result, result == BK_PUB_DELIVERED ? "" : rd_kafka_err2str(rkm->err));
}

/* A producer and its topic handle for pub's settings. */
static int create(bk_pub *pub, rd_kafka_t **rk_out, rd_kafka_topic_t **rkt_out, bk_err *err)
{
    char errstr[512], linger[16], timeout[16];
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    int rc = BK_E_KAFKA;
    rd_kafka_conf_t *conf = bk_kafka_conf_new(pub->cfg, "bk-ingress", err);
    snprintf(linger, sizeof(linger), "%d", pub->cfg->linger_ms);
    snprintf(timeout, sizeof(timeout), "%d", pub->cfg->produce_timeout_ms);
    if (conf == NULL ||
        /* acks=all and idempotence: an acknowledged message is on every in-sync replica, once. */
        bk_kafka_set(conf, "acks", "all", err) != BK_OK ||
        bk_kafka_set(conf, "enable.idempotence", "true", err) != BK_OK ||
        bk_kafka_set(conf, "linger.ms", linger, err) != BK_OK ||
        /* The bound on how long a client waits for a promise: past it, 503 and nothing promised. */
        bk_kafka_set(conf, "message.timeout.ms", timeout, err) != BK_OK ||
        bk_kafka_set(conf, "queue.buffering.max.messages", "1000000", err) != BK_OK ||
        /* Messages queued when the broker dies time out only when the broker thread wakes from
         * its reconnect backoff: keep that short so a 503 comes close to the produce timeout. */
        bk_kafka_set(conf, "reconnect.backoff.max.ms", "1000", err) != BK_OK) {
        goto out;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, pub);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rc = bk_err_set(err, BK_E_KAFKA, "rd_kafka_new producer failed: %s", errstr);
        goto out;
    }
    conf = NULL; /* owned by rk */
    rkt = rd_kafka_topic_new(rk, pub->cfg->kafka_topic, NULL);
    if (rkt == NULL) {
        rc = bk_err_set(err, BK_E_KAFKA, "rd_kafka_topic_new %s failed: %s", pub->cfg->kafka_topic,
                        rd_kafka_err2str(rd_kafka_last_error()));
        goto out;
    }
    *rk_out = rk;
    *rkt_out = rkt;
    rk = NULL;
    rc = BK_OK;

out:
    if (conf != NULL) {
        rd_kafka_conf_destroy(conf);
    }
    if (rk != NULL) {
        rd_kafka_destroy(rk);
    }
    return rc;
}

/* Every message of rk hears back (a purged one as failed or possibly persisted), within a bound;
 * then rk is destroyed. On the publisher's thread, or at the end when it has stopped. */
static void drain_and_destroy(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int flush_first)
{
    if (!flush_first || rd_kafka_flush(rk, FLUSH_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (flush_first) {
            bk_log_warn("event=producer_flush_timeout in_queue=%d", rd_kafka_outq_len(rk));
        }
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        for (int64_t until = bk_clock_mono_ms() + FLUSH_TIMEOUT_MS;
             rd_kafka_outq_len(rk) > 0 && bk_clock_mono_ms() < until;) {
            rd_kafka_poll(rk, 100);
        }
    }
    if (rkt != NULL) {
        rd_kafka_topic_destroy(rkt);
    }
    rd_kafka_destroy(rk);
}

/* The idempotent producer is dead after a fatal error (every produce fails with _FATAL): the
 * supported way on is a new one. Clients of the dead one get 503 (possibly persisted ones with
 * their booking id); a retry with the same Idempotency-Key is safe either way. */
static void replace_dead(bk_pub *pub, const char *reason)
{
    bk_log_error("event=producer_fatal msg=\"%s\" in_queue=%d", reason, rd_kafka_outq_len(pub->rk));
    pthread_rwlock_wrlock(&pub->lock);
    rd_kafka_t *rk = pub->rk;
    rd_kafka_topic_t *rkt = pub->rkt;
    pub->rk = NULL;
    pub->rkt = NULL;
    snprintf(pub->fatal, sizeof(pub->fatal), "producer failed: %.200s", reason);
    pthread_rwlock_unlock(&pub->lock);
    drain_and_destroy(rk, rkt, 0);
}

/* Creates the producer that replaces a dead one; on failure the next pass tries again. */
static void recreate(bk_pub *pub)
{
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    bk_err err;
    bk_err_clear(&err);
    if (create(pub, &rk, &rkt, &err) != BK_OK) {
        bk_log_error("event=producer_recreate_failed msg=\"%s\"", err.msg);
        return;
    }
    pthread_rwlock_wrlock(&pub->lock);
    pub->rk = rk;
    pub->rkt = rkt;
    pub->fatal[0] = '\0';
    pthread_rwlock_unlock(&pub->lock);
    bk_log_info("event=producer_recreated");
}

static void *run(void *arg)
{
    bk_pub *pub = arg;
    char reason[256];
    int64_t next_attempt = 0;
    /* Only this thread writes pub->rk, so it reads it without the lock. */
    while (!atomic_load(&pub->stop)) {
        if (pub->rk != NULL) {
            rd_kafka_poll(pub->rk, 100);
            if (rd_kafka_fatal_error(pub->rk, reason, sizeof(reason)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                replace_dead(pub, reason);
                next_attempt = bk_clock_mono_ms();
            }
        } else if (bk_clock_mono_ms() >= next_attempt) {
            next_attempt = bk_clock_mono_ms() + RECREATE_MS;
            recreate(pub);
        } else {
            nanosleep(&(struct timespec){.tv_nsec = 100 * 1000000L}, NULL);
        }
    }
    return NULL;
}

bk_pub *bk_pub_new(const bk_cfg *cfg, bk_pub_done_fn done, bk_err *err)
{
    bk_pub *pub = calloc(1, sizeof(*pub));
    if (pub == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_pub");
        return NULL;
    }
    pub->cfg = cfg;
    pub->done = done;
    pthread_rwlock_init(&pub->lock, NULL);
    if (create(pub, &pub->rk, &pub->rkt, err) != BK_OK) {
        goto fail;
    }
    int rc = pthread_create(&pub->thread, NULL, run, pub);
    if (rc != 0) {
        char msg[128];
        strerror_r(rc, msg, sizeof(msg));
        bk_err_set(err, BK_E_IO, "pthread_create for the delivery-report thread failed: %s", msg);
        goto fail;
    }
    pub->thread_started = 1;
    return pub;

fail:
    bk_pub_free(pub);
    return NULL;
}

int bk_pub_check_topic(bk_pub *pub, const bk_tier_catalogue *tiers, volatile sig_atomic_t *stop, bk_err *err)
{
    pthread_rwlock_rdlock(&pub->lock);
    int rc = pub->rk != NULL ? bk_tierload_check_topic(pub->rk, pub->cfg->kafka_topic, tiers, stop, err)
                             : bk_err_set(err, BK_E_KAFKA, "no producer: %s", pub->fatal);
    pthread_rwlock_unlock(&pub->lock);
    return rc;
}

int bk_pub_send(bk_pub *pub, int32_t partition, const char *key, const void *payload, size_t len, void *opaque,
                bk_err *err)
{
    int rc = BK_OK;
    pthread_rwlock_rdlock(&pub->lock);
    if (pub->rk == NULL) {
        rc = bk_err_set(err, BK_E_KAFKA, "no producer: %s, partition=%d key=%s", pub->fatal, partition, key);
    } else if (rd_kafka_produce(pub->rkt, partition, RD_KAFKA_MSG_F_COPY, (void *)payload, len, key, strlen(key),
                                opaque) != 0) {
        rc = bk_err_set(err, BK_E_KAFKA, "rd_kafka_produce failed: %s, partition=%d key=%s",
                        rd_kafka_err2str(rd_kafka_last_error()), partition, key);
    }
    pthread_rwlock_unlock(&pub->lock);
    return rc;
}

int bk_pub_ping(bk_pub *pub, int timeout_ms, char *reason, size_t len)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR__FATAL;
    pthread_rwlock_rdlock(&pub->lock);
    if (pub->rk != NULL) {
        kerr = rd_kafka_metadata(pub->rk, 0, pub->rkt, &md, timeout_ms);
    }
    if (pub->rk == NULL) {
        snprintf(reason, len, "%s", pub->fatal);
    } else if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(reason, len, "%s", kerr == RD_KAFKA_RESP_ERR__TIMED_OUT ? "unreachable" : rd_kafka_err2str(kerr));
    } else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(reason, len, "topic %s unavailable", rd_kafka_topic_name(pub->rkt));
        kerr = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    }
    pthread_rwlock_unlock(&pub->lock);
    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    return kerr == RD_KAFKA_RESP_ERR_NO_ERROR ? BK_OK : BK_E_KAFKA;
}

void bk_pub_test_fatal(bk_pub *pub, const char *reason)
{
    pthread_rwlock_rdlock(&pub->lock);
    if (pub->rk != NULL) {
        rd_kafka_test_fatal_error(pub->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, reason);
    }
    pthread_rwlock_unlock(&pub->lock);
}

int bk_pub_queue_len(bk_pub *pub)
{
    pthread_rwlock_rdlock(&pub->lock);
    int n = pub->rk != NULL ? rd_kafka_outq_len(pub->rk) : 0;
    pthread_rwlock_unlock(&pub->lock);
    return n;
}

void bk_pub_free(bk_pub *pub)
{
    if (pub == NULL) {
        return;
    }
    if (pub->thread_started) {
        /* Flush from our own thread's point of view: stop it first, then serve reports here.
         * Every waiting client must still hear back: purged messages report failure (503). */
        atomic_store(&pub->stop, 1);
        pthread_join(pub->thread, NULL);
    }
    if (pub->rk != NULL) {
        drain_and_destroy(pub->rk, pub->rkt, 1);
    }
    pthread_rwlock_destroy(&pub->lock);
    free(pub);
}
