/* Abuse limits of the ingress: a token bucket per client address (429 + Retry-After), a cap on
 * connections per client address, a soft global connection limit (503 rather than falling
 * over), and a deadline on receiving each request, so a client that sends a byte a second is
 * cut off. Clients inside BK_TRUSTED_NETS (default loopback: the load balancer, health checks,
 * our own load tests) are exempt from the per-client limits. */
#ifndef BK_INGRESS_LIMITS_H
#define BK_INGRESS_LIMITS_H

#include "common/cfg.h"
#include "common/err.h"

#include <stddef.h>
#include <sys/socket.h>

typedef struct bk_limits bk_limits;
typedef struct bk_limits_conn bk_limits_conn;

/* Parses BK_TRUSTED_NETS (comma-separated IPv4 CIDRs) and starts the deadline thread. */
bk_limits *bk_limits_new(const bk_cfg *cfg, bk_err *err);
void bk_limits_free(bk_limits *limits);

/* Accept policy: 1 to accept a connection from addr, 0 when the client is at its cap. */
int bk_limits_accept(bk_limits *limits, const struct sockaddr *addr);

/* A connection started (fd, client addr) / closed. The handle lives in MHD's socket context. */
bk_limits_conn *bk_limits_open(bk_limits *limits, int fd, const struct sockaddr *addr);
void bk_limits_close(bk_limits *limits, bk_limits_conn *conn);

/* The request on conn is fully received (busy=1: it is ours now, no deadline) or answered
 * (busy=0: the next request's deadline starts). NULL-safe. */
void bk_limits_busy(bk_limits *limits, bk_limits_conn *conn, int busy);

/* Connections open now, and the most open at once since start. */
void bk_limits_connections(bk_limits *limits, size_t *open, size_t *peak);

/* True when more connections are open than BK_HTTP_MAX_CONNS: answer 503. */
int bk_limits_overloaded(bk_limits *limits);

/* Takes a token for a request from addr: 0 when allowed, else the Retry-After seconds. */
int bk_limits_take(bk_limits *limits, const struct sockaddr *addr);

#endif
