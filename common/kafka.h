/* librdkafka configuration shared by both services: brokers, client id, and logs routed through
 * our logger. Each service adds its own producer or consumer settings. */
#ifndef BK_COMMON_KAFKA_H
#define BK_COMMON_KAFKA_H

#include "common/cfg.h"
#include "common/err.h"

#include <librdkafka/rdkafka.h>

/* A new configuration with bootstrap.servers, client.id and the log callback set; NULL with err
 * filled on failure. */
rd_kafka_conf_t *bk_kafka_conf_new(const bk_cfg *cfg, const char *client_id, bk_err *err);

/* Sets one property; the error names the key and carries librdkafka's errstr. */
int bk_kafka_set(rd_kafka_conf_t *conf, const char *key, const char *value, bk_err *err) BK_WARN_UNUSED;

#endif
