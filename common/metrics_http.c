/* GET /metrics on a libmicrohttpd connection. */
#include "common/metrics_http.h"

#include "common/metrics.h"

#include <stdlib.h>

enum MHD_Result bk_metrics_queue(struct MHD_Connection *conn, char *body, size_t len)
{
    if (body == NULL) {
        return MHD_NO;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, BK_METRICS_CONTENT_TYPE);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}
