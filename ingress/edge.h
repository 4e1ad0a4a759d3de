/* The requests libmicrohttpd cannot answer the way the API answers: every refusal leaves as a JSON
 * error, whatever the size of the request.
 *
 * libmicrohttpd keeps a request's line and headers in a per-connection memory pool
 * (BK_HTTP_CONN_MEMORY). A head larger than the pool it refuses itself (414 or 431), a malformed
 * one too (400, 505), with a fixed HTML body; bk-ingress turns those into JSON (see edge.c). A
 * head that fits but leaves too little of the pool to build any answer would get none at all (and a
 * request line with a query string that fills the pool leaves the connection hanging in
 * libmicrohttpd 0.9.75): bk_edge_head_refusal refuses heads above half the pool first, and
 * bk_edge_answer answers them without the pool. */
#ifndef BK_INGRESS_EDGE_H
#define BK_INGRESS_EDGE_H

#include <microhttpd.h>
#include <stddef.h>

/* What libmicrohttpd keeps of one header (or query argument) beside its bytes: the record in the
 * pool. An estimate on the safe side (the record is 48 bytes on x86-64, plus alignment). */
#define BK_EDGE_RECORD_BYTES 64

/* The sizes of a request head, as libmicrohttpd holds it. */
typedef struct bk_edge_head {
    size_t line;   /* the request line: method, target (path and query), version */
    size_t bytes;  /* the whole head: request line and header lines */
    size_t fields; /* headers plus query arguments plus cookies: one pool record each */
} bk_edge_head;

/* 0 when an answer fits in what the head leaves of a pool of conn_memory bytes; otherwise the
 * status to refuse it with: 414 for a request line over half the pool, 431 for a head (its bytes
 * plus a record per field) over half the pool. Pure. */
unsigned bk_edge_head_refusal(const bk_edge_head *head, size_t conn_memory);

/* Measures the head of the request on conn (its method and url as libmicrohttpd passed them). */
void bk_edge_measure(struct MHD_Connection *conn, const char *method, const char *url, bk_edge_head *head);

/* Answers a head that leaves no room in the pool: writes the JSON error for status (414 or 431)
 * straight to the connection's socket and shuts the socket's sending side, so the client has its
 * answer and the end of the connection whatever libmicrohttpd does next. The caller then makes
 * libmicrohttpd close it (MHD_NO). Only before any answer was queued on conn. */
void bk_edge_answer(struct MHD_Connection *conn, unsigned status);

/* The JSON body of the error a refusal with status carries: {"error": "..."}. Pure. */
const char *bk_edge_error_body(unsigned status);

#endif
