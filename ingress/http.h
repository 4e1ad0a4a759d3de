/* The HTTP front of bk-ingress (docs/api.md) on libmicrohttpd: the router, the request state machine and the
 * handlers. epoll, a small thread pool, an explicit connection limit, timeouts and a body cap. A
 * request that waits for the broker's acknowledgement or for an outcome is suspended, never blocks
 * a thread. It creates none of its peers: main builds them, lends them in bk_http_deps, and frees
 * them in the order of the shutdown contract below. */
#ifndef BK_INGRESS_HTTP_H
#define BK_INGRESS_HTTP_H

#include "common/cfg.h"
#include "common/err.h"
#include "common/id.h"
#include "ingress/claim.h"
#include "ingress/health.h"
#include "ingress/istats.h"
#include "ingress/limits.h"
#include "ingress/lookup.h"
#include "ingress/pub.h"
#include "ingress/recent.h"
#include "ingress/tickets.h"
#include "ingress/watch.h"

/* What the router tells apart; the metrics count requests per route. */
typedef enum bk_route {
    BK_ROUTE_HEALTH,
    BK_ROUTE_TICKETS,
    BK_ROUTE_BOOK,
    BK_ROUTE_BOOKING,
    BK_ROUTE_STATIC,
    BK_ROUTE_METRICS,
    BK_ROUTE_UNKNOWN,
    BK_ROUTE_COUNT,
} bk_route;

/* Each route's name: the `route` label of its metrics (pass to bk_istats_new). */
extern const char *const bk_route_names[BK_ROUTE_COUNT];

/* The peers the HTTP front works with, all borrowed: each must outlive its use as the shutdown
 * contract below says. */
typedef struct bk_http_deps {
    const bk_cfg *cfg;
    const bk_id_key *key;
    const bk_tier_catalogue *tiers; /* read at start, never changed */
    bk_pub *pub;                    /* created with bk_http_published as its callback */
    bk_watch *watch;                /* created with bk_http_watched as its callback, feeding recent */
    bk_health *health;
    bk_recent *recent;
    bk_tickets *tickets;
    bk_istats *stats; /* created with bk_route_names */
    bk_limits *limits;
    bk_claims *claims;
} bk_http_deps;

typedef struct bk_http bk_http;

/* The publisher's and the watch's callbacks: each finishes the suspended request it is handed (its
 * opaque), on the caller's thread. */
void bk_http_published(void *opaque, bk_pub_result result, const char *reason);
void bk_http_watched(void *opaque, const bk_booking *booking);

/* Starts listening on cfg->http_addr:cfg->http_port (deps is copied). NULL with err on failure. */
bk_http *bk_http_new(const bk_http_deps *deps, bk_err *err);

/* The shutdown contract, in this order. libmicrohttpd keeps serving kept-alive connections until
 * its daemon stops, so no HTTP thread may reach a peer after it is freed.
 * 1. bk_http_close: stops accepting connections and closes the gate: a request that arrives from
 *    then on gets 503 + Connection: close without touching a peer. Returns once the handlers
 *    already inside have left (each bounded by the database and producer timeouts); from then on
 *    no HTTP thread touches the publisher, the watch or the health monitor.
 * 2. main frees the health monitor (it pings the publisher), then the publisher, then the watch:
 *    flushing the producer delivers every report (a purge after FLUSH_TIMEOUT_MS of ingress/pub.c
 *    reports failure: 503), a report may hand its request to the watch, and freeing the watch
 *    hands back every waiter. Every suspended request is resumed.
 * 3. bk_http_free: gives the answers in flight a bounded moment (2 s) to leave, stops the daemon
 *    (closing what is left, idle kept-alive connections included) and frees the HTTP front; from
 *    then on no thread uses the tickets cache, the booking memory, the metrics, the limits or the
 *    claims.
 * 4. main frees those.
 * Both are NULL-safe; bk_http_free closes first if bk_http_close was not called. */
void bk_http_close(bk_http *http);
void bk_http_free(bk_http *http);

#endif
