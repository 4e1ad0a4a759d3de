/* Producer and delivery-report thread. librdkafka calls dr_msg_cb from rd_kafka_poll(), which
 * only our thread calls, so done() always runs on that thread. */
#include "ingress/pub.h"

#include "common/kafka.h"
#include "common/log.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_TIMEOUT_MS 10000

struct bk_pub {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    bk_pub_done_fn done;
    pthread_t thread;
    int thread_started;
    atomic_int stop;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    bk_pub *pub = opaque;
    int ok = rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    pub->done(rkm->_private, ok, ok ? "" : rd_kafka_err2str(rkm->err));
}

static void *run(void *arg)
{
    bk_pub *pub = arg;
    while (!atomic_load(&pub->stop)) {
        rd_kafka_poll(pub->rk, 100);
    }
    return NULL;
}

bk_pub *bk_pub_new(const bk_cfg *cfg, bk_pub_done_fn done, bk_err *err)
{
    char errstr[512], linger[16], timeout[16];
    rd_kafka_conf_t *conf = NULL;
    bk_pub *pub = calloc(1, sizeof(*pub));
    if (pub == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_pub");
        goto fail;
    }
    pub->done = done;
    snprintf(linger, sizeof(linger), "%d", cfg->linger_ms);
    snprintf(timeout, sizeof(timeout), "%d", cfg->produce_timeout_ms);

    conf = bk_kafka_conf_new(cfg, "bk-ingress", err);
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
        goto fail;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, pub);
    pub->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (pub->rk == NULL) {
        bk_err_set(err, BK_E_KAFKA, "rd_kafka_new producer failed: %s", errstr);
        goto fail;
    }
    conf = NULL; /* owned by rk */
    pub->rkt = rd_kafka_topic_new(pub->rk, cfg->kafka_topic, NULL);
    if (pub->rkt == NULL) {
        bk_err_set(err, BK_E_KAFKA, "rd_kafka_topic_new %s failed: %s", cfg->kafka_topic,
                   rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    if (pthread_create(&pub->thread, NULL, run, pub) != 0) {
        bk_err_set(err, BK_E_IO, "pthread_create for the delivery-report thread failed");
        goto fail;
    }
    pub->thread_started = 1;
    return pub;

fail:
    rd_kafka_conf_destroy(conf);
    bk_pub_free(pub);
    return NULL;
}

int bk_pub_send(bk_pub *pub, int32_t partition, const char *key, const void *payload, size_t len, void *opaque,
                bk_err *err)
{
    int rc = rd_kafka_produce(pub->rkt, partition, RD_KAFKA_MSG_F_COPY, (void *)payload, len, key, strlen(key), opaque);
    if (rc != 0) {
        return bk_err_set(err, BK_E_KAFKA, "rd_kafka_produce failed: %s, partition=%d key=%s",
                          rd_kafka_err2str(rd_kafka_last_error()), partition, key);
    }
    return BK_OK;
}

int bk_pub_ping(bk_pub *pub, int timeout_ms, char *reason, size_t len)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t rc = rd_kafka_metadata(pub->rk, 0, pub->rkt, &md, timeout_ms);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(reason, len, "%s", rc == RD_KAFKA_RESP_ERR__TIMED_OUT ? "unreachable" : rd_kafka_err2str(rc));
    } else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(reason, len, "topic %s unavailable", rd_kafka_topic_name(pub->rkt));
        rc = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    }
    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    return rc == RD_KAFKA_RESP_ERR_NO_ERROR ? BK_OK : BK_E_KAFKA;
}

int bk_pub_queue_len(bk_pub *pub)
{
    return rd_kafka_outq_len(pub->rk);
}

void bk_pub_free(bk_pub *pub)
{
    if (pub == NULL) {
        return;
    }
    if (pub->thread_started) {
        /* Flush from our own thread's point of view: stop it first, then serve reports here. */
        atomic_store(&pub->stop, 1);
        pthread_join(pub->thread, NULL);
    }
    if (pub->rk != NULL) {
        if (rd_kafka_flush(pub->rk, FLUSH_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* Every waiting client must still hear back: purged messages report failure (503). */
            bk_log_warn("event=producer_flush_timeout in_queue=%d", rd_kafka_outq_len(pub->rk));
            rd_kafka_purge(pub->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_flush(pub->rk, 1000);
        }
        if (pub->rkt != NULL) {
            rd_kafka_topic_destroy(pub->rkt);
        }
        rd_kafka_destroy(pub->rk);
    }
    free(pub);
}
