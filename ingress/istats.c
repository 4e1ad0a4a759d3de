/* Ingress metrics: one object holding every metric, labels built once at start. */
#include "ingress/istats.h"

#include "common/metrics.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

static const unsigned statuses[] = {200, 202, 400, 404, 405, 413, 415, 429, 500, 503, 0};
#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0])) /* the last, 0, is "other" */

struct bk_istats {
    size_t n_routes;
    char request_labels[BK_ISTATS_MAX_ROUTES][N_STATUSES][48];
    char route_labels[BK_ISTATS_MAX_ROUTES][24];
    bk_counter requests[BK_ISTATS_MAX_ROUTES][N_STATUSES];
    bk_histogram durations[BK_ISTATS_MAX_ROUTES];
    bk_counter delivered;
    bk_counter undelivered;
    bk_histogram delivery;
    bk_counter queue;
    bk_counter waiting;
    bk_counter connections;
    bk_counter connections_peak;
};

bk_istats *bk_istats_new(const char *const *route_names, size_t n_routes)
{
    assert(n_routes <= BK_ISTATS_MAX_ROUTES);
    bk_istats *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return NULL;
    }
    st->n_routes = n_routes;
    for (size_t r = 0; r < n_routes; r++) {
        snprintf(st->route_labels[r], sizeof(st->route_labels[r]), "route=\"%s\"", route_names[r]);
        st->durations[r] = (bk_histogram){.name = "bk_http_request_duration_seconds",
                                          .help = "Request latency, headers received to answer queued.",
                                          .labels = st->route_labels[r],
                                          .bounds = bk_metrics_seconds};
        for (size_t s = 0; s < N_STATUSES; s++) {
            char status[8];
            snprintf(status, sizeof(status), statuses[s] != 0 ? "%u" : "other", statuses[s]);
            snprintf(st->request_labels[r][s], sizeof(st->request_labels[r][s]), "route=\"%s\",status=\"%s\"",
                     route_names[r], status);
            st->requests[r][s] = (bk_counter){.name = "bk_http_requests_total",
                                              .help = "HTTP requests by route and status.",
                                              .labels = st->request_labels[r][s]};
        }
    }
    st->delivered = (bk_counter){
        .name = "bk_kafka_deliveries_total", .help = "Kafka delivery reports by result.", .labels = "result=\"acked\""};
    st->undelivered = st->delivered;
    st->undelivered.labels = "result=\"failed\"";
    st->delivery = (bk_histogram){.name = "bk_kafka_delivery_seconds",
                                  .help = "Produce to the broker's acknowledgement (acks=all).",
                                  .labels = "",
                                  .bounds = bk_metrics_seconds};
    st->queue = (bk_counter){.name = "bk_kafka_producer_queue",
                             .help = "Messages in the producer queue, not yet acknowledged.",
                             .labels = "",
                             .is_gauge = 1};
    st->waiting = (bk_counter){
        .name = "bk_outcome_waiters", .help = "Requests long-polling for an outcome.", .labels = "", .is_gauge = 1};
    st->connections =
        (bk_counter){.name = "bk_http_connections", .help = "Open HTTP connections.", .labels = "", .is_gauge = 1};
    st->connections_peak = (bk_counter){.name = "bk_http_connections_peak",
                                        .help = "The most HTTP connections open at once since start.",
                                        .labels = "",
                                        .is_gauge = 1};
    return st;
}

void bk_istats_free(bk_istats *stats)
{
    free(stats);
}

void bk_istats_request(bk_istats *stats, size_t route, unsigned status, double seconds)
{
    assert(route < stats->n_routes);
    size_t s = 0;
    while (s < N_STATUSES - 1 && statuses[s] != status) {
        s++;
    }
    bk_counter_add(&stats->requests[route][s], 1);
    bk_histogram_observe(&stats->durations[route], seconds);
}

void bk_istats_delivery(bk_istats *stats, int ok, double seconds)
{
    bk_counter_add(ok ? &stats->delivered : &stats->undelivered, 1);
    bk_histogram_observe(&stats->delivery, seconds);
}

char *bk_istats_render(bk_istats *stats, const bk_istats_gauges *gauges, size_t *len)
{
    bk_counter *counters[BK_ISTATS_MAX_ROUTES * N_STATUSES + 6];
    bk_histogram *histograms[BK_ISTATS_MAX_ROUTES + 1];
    size_t n_counters = 0, n_histograms = 0;
    for (size_t r = 0; r < stats->n_routes; r++) {
        for (size_t s = 0; s < N_STATUSES; s++) {
            counters[n_counters++] = &stats->requests[r][s];
        }
    }
    for (size_t r = 0; r < stats->n_routes; r++) {
        histograms[n_histograms++] = &stats->durations[r];
    }
    bk_counter_set(&stats->queue, gauges->producer_queue);
    bk_counter_set(&stats->waiting, gauges->waiters);
    bk_counter_set(&stats->connections, gauges->connections);
    bk_counter_set(&stats->connections_peak, gauges->connections_peak);
    counters[n_counters++] = &stats->delivered;
    counters[n_counters++] = &stats->undelivered;
    counters[n_counters++] = &stats->queue;
    counters[n_counters++] = &stats->waiting;
    counters[n_counters++] = &stats->connections;
    counters[n_counters++] = &stats->connections_peak;
    histograms[n_histograms++] = &stats->delivery;
    bk_metrics_set set = {counters, n_counters, histograms, n_histograms};
    return bk_metrics_render(&set, len);
}
