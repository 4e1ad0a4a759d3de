/* Prometheus metrics: counters and histograms updated with atomics from any thread, rendered in
 * the text exposition format for GET /metrics. Metrics are static objects of the module that
 * owns them; a registry lists them for rendering. No allocation on the hot path. */
#ifndef BK_COMMON_METRICS_H
#define BK_COMMON_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define BK_METRICS_BUCKETS 14

/* A counter or gauge. `labels` is the fixed label set in exposition syntax ("" or
 * `route="book",status="202"`), so a family is an array of these with the same name. */
typedef struct bk_counter {
    const char *name;
    const char *help;
    const char *labels;
    int is_gauge;
    atomic_llong value;
} bk_counter;

/* A histogram of seconds (or of counts, for batch sizes) with fixed bucket bounds. */
typedef struct bk_histogram {
    const char *name;
    const char *help;
    const char *labels;
    const double *bounds;                          /* BK_METRICS_BUCKETS ascending upper bounds */
    atomic_ullong buckets[BK_METRICS_BUCKETS + 1]; /* the last is +Inf */
    atomic_ullong count;
    atomic_ullong sum_micro; /* sum of observations × 1e6 */
} bk_histogram;

/* Bounds for latencies in seconds (0.5 ms … 10 s) and for sizes (1 … 10,000). */
extern const double bk_metrics_seconds[BK_METRICS_BUCKETS];
extern const double bk_metrics_sizes[BK_METRICS_BUCKETS];

static inline void bk_counter_add(bk_counter *c, long long n)
{
    atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

static inline void bk_counter_set(bk_counter *c, long long v)
{
    atomic_store_explicit(&c->value, v, memory_order_relaxed);
}

void bk_histogram_observe(bk_histogram *h, double value);

/* What a /metrics answer lists: arrays of counters and histograms. */
typedef struct bk_metrics_set {
    bk_counter *const *counters;
    size_t n_counters;
    bk_histogram *const *histograms;
    size_t n_histograms;
} bk_metrics_set;

/* The Content-Type of every /metrics answer: the text exposition format, version 0.0.4. */
#define BK_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Renders the set into a malloc'd buffer (*len bytes), or NULL on allocation failure. HELP and
 * TYPE lines are written once per metric name. */
char *bk_metrics_render(const bk_metrics_set *set, size_t *len);

#endif
