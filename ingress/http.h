/* The HTTP front of bk-ingress (docs/api.md) on libmicrohttpd: epoll, a small thread pool, an
 * explicit connection limit, timeouts and a body cap. A request that waits for the broker's
 * acknowledgement or for an outcome is suspended, never blocks a thread. */
#ifndef BK_INGRESS_HTTP_H
#define BK_INGRESS_HTTP_H

#include "common/cfg.h"
#include "common/err.h"
#include "common/id.h"

typedef struct bk_http bk_http;

/* Creates the publisher, the watch, the health monitor and starts listening. */
bk_http *bk_http_new(const bk_cfg *cfg, const bk_id_key *key, bk_err *err);

/* Drains and frees (NULL-safe): stop accepting, let every suspended request get its answer
 * (publisher flushed, waiters handed back), give open responses a bounded moment, then stop. */
void bk_http_free(bk_http *http);

#endif
