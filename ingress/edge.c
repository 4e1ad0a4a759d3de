/* Refusals in the API's shape at every size: heads that fill libmicrohttpd's pool are answered on
 * the socket, and the library's own refusals are rewritten on their way out. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "ingress/edge.h"

#include "common/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define JSON_TYPE "application/json; charset=utf-8"

unsigned bk_edge_head_refusal(const bk_edge_head *head, size_t conn_memory)
{
    size_t budget = conn_memory / 2;
    if (head->line > budget) {
        return 414;
    }
    if (head->bytes + head->fields * BK_EDGE_RECORD_BYTES > budget) {
        return 431;
    }
    return 0;
}

const char *bk_edge_error_body(unsigned status)
{
    switch (status) {
    case 400:
        return "{\"error\":\"malformed HTTP request\"}";
    case 413:
        return "{\"error\":\"request body is too large\"}";
    case 414:
        return "{\"error\":\"request line is too long\"}";
    case 431:
        return "{\"error\":\"request header fields are too large\"}";
    case 505:
        return "{\"error\":\"HTTP version not supported\"}";
    default:
        return status >= 500 ? "{\"error\":\"internal error\"}" : "{\"error\":\"request refused\"}";
    }
}

typedef struct measure {
    size_t header_bytes; /* header lines as sent: name, ": ", value, CRLF */
    size_t fields;
} measure;

static enum MHD_Result count_field(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                   const char *value, size_t value_size)
{
    (void)key;
    (void)value;
    measure *m = cls;
    m->fields++;
    if (kind == MHD_HEADER_KIND) {
        m->header_bytes += key_size + value_size + 4;
    }
    return MHD_YES;
}

void bk_edge_measure(struct MHD_Connection *conn, const char *method, const char *url, bk_edge_head *head)
{
    measure m = {0, 0};
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND | MHD_COOKIE_KIND, count_field, &m);
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    /* The raw head, when libmicrohttpd tells it; else the request line as decoded plus the headers. */
    size_t line_guess = strlen(method) + strlen(url) + sizeof(" HTTP/1.1\r\n");
    head->bytes = info != NULL ? info->header_size : line_guess + m.header_bytes;
    head->line = head->bytes > m.header_bytes + 2 ? head->bytes - m.header_bytes - 2 : line_guess;
    head->fields = m.fields;
}

void bk_edge_answer(struct MHD_Connection *conn, unsigned status)
{
    const char *body = bk_edge_error_body(status);
    char reply[512];
    int len = snprintf(reply, sizeof(reply),
                       "HTTP/1.1 %u %s\r\nContent-Type: " JSON_TYPE "\r\nCache-Control: no-store\r\n"
                       "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                       status, status == 414 ? "URI Too Long" : "Request Header Fields Too Large", strlen(body), body);
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info == NULL) {
        return;
    }
    /* Nothing was sent on this request yet, so the socket's send buffer has room for these few
     * hundred bytes; a socket that cannot take them is closed unanswered, as libmicrohttpd would. */
    ssize_t sent = send(info->connect_fd, reply, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent != len) {
        char msg[128] = "short write";
        if (sent < 0) {
            strerror_r(errno, msg, sizeof(msg));
        }
        bk_log_warn("event=refusal_unsent status=%u msg=\"%s\"", status, msg);
    }
    shutdown(info->connect_fd, SHUT_WR);
}

/* libmicrohttpd queues its own refusals (a head larger than its pool, a malformed request line, a
 * missing Host, an unknown HTTP version) through its exported MHD_queue_response, with a fixed
 * HTML body and no Content-Type. This definition in the executable precedes the library's in
 * symbol lookup, so those refusals pass through here and leave with the JSON body instead; every
 * answer of ours carries a Content-Type and passes unchanged. tests/integration/test_oversized.py
 * sends each kind and fails if one ever leaves as HTML. */
typedef enum MHD_Result (*queue_fn)(struct MHD_Connection *, unsigned int, struct MHD_Response *);

static queue_fn library_queue;
static pthread_once_t library_queue_once = PTHREAD_ONCE_INIT;

static void find_library_queue(void)
{
    /* POSIX's way to take a function from dlsym (ISO C has no object-to-function cast). */
    *(void **)&library_queue = dlsym(RTLD_NEXT, "MHD_queue_response");
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    pthread_once(&library_queue_once, find_library_queue);
    if (library_queue == NULL) {
        return MHD_NO;
    }
    if (status_code < 400 || MHD_get_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE) != NULL) {
        return library_queue(connection, status_code, response);
    }
    const char *body = bk_edge_error_body(status_code);
    struct MHD_Response *json = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (json == NULL) {
        return library_queue(connection, status_code, response);
    }
    MHD_add_response_header(json, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
    MHD_add_response_header(json, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = library_queue(connection, status_code, json);
    MHD_destroy_response(json);
    return ret;
}
