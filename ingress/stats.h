/* The ingress's Prometheus metrics (GET /metrics): requests by route and status, request
 * latency per route, Kafka delivery latency, the producer queue and the long-poll waiters. */
#ifndef BK_INGRESS_STATS_H
#define BK_INGRESS_STATS_H

#include <stddef.h>

typedef enum bk_stats_route {
    BK_STATS_HEALTH,
    BK_STATS_TICKETS,
    BK_STATS_BOOK,
    BK_STATS_BOOKING,
    BK_STATS_STATIC,
    BK_STATS_METRICS,
    BK_STATS_UNKNOWN,
    BK_STATS_N_ROUTES,
} bk_stats_route;

typedef struct bk_stats bk_stats;

/* The metrics, zeroed, with their label tables built. NULL on allocation failure. */
bk_stats *bk_stats_new(void);
void bk_stats_free(bk_stats *stats);

/* One finished request: its route, the status sent (0 if none) and its duration. Thread-safe. */
void bk_stats_request(bk_stats *stats, bk_stats_route route, unsigned status, double seconds);

/* One delivery report: acknowledged or not, and the time from produce to report. Thread-safe. */
void bk_stats_delivery(bk_stats *stats, int ok, double seconds);

/* Values other modules own, sampled when /metrics is asked. */
typedef struct bk_stats_gauges {
    long long producer_queue;   /* messages not yet acknowledged by the broker */
    long long waiters;          /* requests long-polling for an outcome */
    long long connections;      /* open HTTP connections */
    long long connections_peak; /* the most open at once since start */
} bk_stats_gauges;

/* The exposition text (malloc'd, *len bytes). */
char *bk_stats_render(bk_stats *stats, const bk_stats_gauges *gauges, size_t *len);

#endif
