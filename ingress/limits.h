/* Abuse limits of the ingress: a token bucket per client address (429 + Retry-After), a cap on
 * connections per client address, a soft global connection limit (503 rather than falling
 * over), and a deadline on receiving each request, so a client that sends a byte a second is
 * cut off. No address is exempt (docs/api.md "Limits").
 *
 * The client is the peer address, except behind a configured proxy (BK_TRUSTED_PROXIES): then it
 * is the rightmost address of X-Forwarded-For that is not itself a configured proxy, since only
 * what the proxies appended can be believed. /metrics is served only to clients in
 * BK_METRICS_ALLOW (default loopback). The per-client table (BK_CLIENT_SLOTS) never fails open:
 * a new client takes the slot of the stalest client without a connection, and when every slot
 * it may use holds connections it shares one overflow slot (and its limits) with its like. */
#ifndef BK_INGRESS_LIMITS_H
#define BK_INGRESS_LIMITS_H

#include "common/cfg.h"
#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct bk_limits bk_limits;
typedef struct bk_limits_conn bk_limits_conn;

/* Parses BK_TRUSTED_PROXIES and BK_METRICS_ALLOW (comma-separated IPv4 CIDRs) and starts the
 * deadline thread. */
bk_limits *bk_limits_new(const bk_cfg *cfg, bk_err *err);
void bk_limits_free(bk_limits *limits);

/* Accept policy: whether a new connection from peer is allowed (false: the client is at its cap,
 * logged here). A predicate, not a status: a refusal is a decision, not a failure. A configured
 * proxy carries many clients: its connections are not capped per client. */
bool bk_limits_allow(bk_limits *limits, const struct sockaddr *peer);

/* A connection started (fd, peer) / closed. The handle lives in MHD's socket context. */
bk_limits_conn *bk_limits_open(bk_limits *limits, int fd, const struct sockaddr *peer);
void bk_limits_close(bk_limits *limits, bk_limits_conn *conn);

/* The request on conn is fully received (busy=1: it is ours now, no deadline) or answered
 * (busy=0: the next request's deadline starts). NULL-safe. */
void bk_limits_busy(bk_limits *limits, bk_limits_conn *conn, int busy);

/* Connections open now, and the most open at once since start. */
void bk_limits_connections(bk_limits *limits, size_t *open, size_t *peak);

/* True when more connections are open than BK_HTTP_MAX_CONNS: answer 503. */
int bk_limits_overloaded(bk_limits *limits);

/* The client of a request (IPv4, network order; 0 for a peer that is not IPv4): peer, or when
 * peer is a configured proxy the rightmost address of the request's X-Forwarded-For headers
 * (forwarded[0..n_forwarded), in the order received) that is not a configured proxy. A value
 * that is not an IPv4 address ends the walk: the last proxy seen is then the client. */
uint32_t bk_limits_client(const bk_limits *limits, const struct sockaddr *peer, const char *const *forwarded,
                          size_t n_forwarded);

/* True if client may read /metrics (BK_METRICS_ALLOW). */
int bk_limits_metrics_allowed(const bk_limits *limits, uint32_t client);

/* Takes a token for a request from client: 0 when allowed, else the Retry-After seconds. */
int bk_limits_take(bk_limits *limits, uint32_t client);

#endif
