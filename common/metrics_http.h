/* The answer to GET /metrics, one for both services: libmicrohttpd's edge of common/metrics. A
 * library of its own (bk_metrics_http) so that the pure modules of bk_common never link the HTTP
 * library. */
#ifndef BK_COMMON_METRICS_HTTP_H
#define BK_COMMON_METRICS_HTTP_H

#include <microhttpd.h>
#include <stddef.h>

/* Queues 200 with body (len bytes, malloc'd by bk_metrics_render; taken over and freed) as
 * BK_METRICS_CONTENT_TYPE. MHD_NO when body is NULL or the answer cannot be queued. */
enum MHD_Result bk_metrics_queue(struct MHD_Connection *conn, char *body, size_t len);

#endif
