/* Shared librdkafka setup. */
#include "common/kafka.h"

#include "common/log.h"

#include <string.h>

/* librdkafka logs with syslog levels from its own threads; bk_log is thread-safe. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    int our = level <= 3 ? BK_LOG_ERROR : level == 4 ? BK_LOG_WARN : level <= 6 ? BK_LOG_INFO : BK_LOG_DEBUG;
    bk_log(our, "event=rdkafka client=%s facility=%s msg=\"%s\"", rd_kafka_name(rk), fac, buf);
}

int bk_kafka_set(rd_kafka_conf_t *conf, const char *key, const char *value, bk_err *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        return bk_err_set(err, BK_E_KAFKA, "rd_kafka_conf_set %s failed: %s", key, errstr);
    }
    return BK_OK;
}

rd_kafka_conf_t *bk_kafka_conf_new(const bk_cfg *cfg, const char *client_id, bk_err *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (conf == NULL) {
        bk_err_set(err, BK_E_NOMEM, "rd_kafka_conf_new failed");
        return NULL;
    }
    if (bk_kafka_set(conf, "bootstrap.servers", cfg->kafka_brokers, err) != BK_OK ||
        bk_kafka_set(conf, "client.id", client_id, err) != BK_OK ||
        /* Nagle's algorithm holds a small request back until the previous one is acknowledged,
         * and the peer delays that acknowledgement: tens of milliseconds per produce or fetch. */
        bk_kafka_set(conf, "socket.nagle.disable", "true", err) != BK_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, on_log);
    return conf;
}
