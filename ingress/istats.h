/* The ingress's Prometheus metrics (GET /metrics): requests by route and status, request
 * latency per route, Kafka delivery latency, the producer queue and the long-poll waiters.
 * The routes are the router's (ingress/http.h); this module only labels them. */
#ifndef BK_INGRESS_ISTATS_H
#define BK_INGRESS_ISTATS_H

#include <stddef.h>

#define BK_ISTATS_MAX_ROUTES 16

typedef struct bk_istats bk_istats;

/* The metrics, zeroed, with their label tables built for n_routes routes (at most
 * BK_ISTATS_MAX_ROUTES) named route_names[0..n_routes-1] (borrowed, must outlive the metrics).
 * NULL on allocation failure. */
bk_istats *bk_istats_new(const char *const *route_names, size_t n_routes);
void bk_istats_free(bk_istats *stats);

/* One finished request: its route (an index into route_names), the status sent (0 if none) and
 * its duration. Thread-safe. */
void bk_istats_request(bk_istats *stats, size_t route, unsigned status, double seconds);

/* One delivery report: acknowledged or not, and the time from produce to report. Thread-safe. */
void bk_istats_delivery(bk_istats *stats, int ok, double seconds);

/* Values other modules own, sampled when /metrics is asked. */
typedef struct bk_istats_gauges {
    long long producer_queue;   /* messages not yet acknowledged by the broker */
    long long waiters;          /* requests long-polling for an outcome */
    long long connections;      /* open HTTP connections */
    long long connections_peak; /* the most open at once since start */
} bk_istats_gauges;

/* The exposition text (malloc'd, *len bytes), or NULL on allocation failure. */
char *bk_istats_render(bk_istats *stats, const bk_istats_gauges *gauges, size_t *len);

#endif
