/* Metric updates and the text exposition format (version 0.0.4). */
#include "common/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double bk_metrics_seconds[BK_METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const double bk_metrics_sizes[BK_METRICS_BUCKETS] = {1,   2,   5,    10,   20,   50,    100,
                                                     200, 500, 1000, 2000, 5000, 10000, 20000};

void bk_histogram_observe(bk_histogram *h, double value)
{
    int k = 0;
    while (k < BK_METRICS_BUCKETS && value > h->bounds[k]) {
        k++;
    }
    atomic_fetch_add_explicit(&h->buckets[k], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_micro, (unsigned long long)(value * 1e6), memory_order_relaxed);
}

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
    int failed;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf *b, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2 && !b->failed; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = 2 * b->cap + (size_t)(n > 0 ? n : 0);
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
}

/* HELP/TYPE once per family: only when the previous metric had another name. */
static void header(buf *b, const char *name, const char *help, const char *type, const char **last)
{
    if (*last == NULL || strcmp(*last, name) != 0) {
        put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    }
    *last = name;
}

char *bk_metrics_render(const bk_metrics_set *set, size_t *len)
{
    buf b = {.data = malloc(4096), .cap = 4096};
    b.failed = b.data == NULL;
    const char *last = NULL;
    for (size_t k = 0; k < set->n_counters; k++) {
        bk_counter *c = set->counters[k];
        header(&b, c->name, c->help, c->is_gauge ? "gauge" : "counter", &last);
        put(&b, "%s%s%s%s %lld\n", c->name, c->labels[0] ? "{" : "", c->labels, c->labels[0] ? "}" : "",
            (long long)atomic_load(&c->value));
    }
    for (size_t k = 0; k < set->n_histograms; k++) {
        bk_histogram *h = set->histograms[k];
        const char *sep = h->labels[0] ? "," : "";
        header(&b, h->name, h->help, "histogram", &last);
        unsigned long long cumulative = 0;
        for (int i = 0; i <= BK_METRICS_BUCKETS; i++) {
            cumulative += atomic_load(&h->buckets[i]);
            if (i < BK_METRICS_BUCKETS) {
                put(&b, "%s_bucket{%s%sle=\"%g\"} %llu\n", h->name, h->labels, sep, h->bounds[i], cumulative);
            } else {
                put(&b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", h->name, h->labels, sep, cumulative);
            }
        }
        const char *open = h->labels[0] ? "{" : "", *close = h->labels[0] ? "}" : "";
        put(&b, "%s_sum%s%s%s %.6f\n", h->name, open, h->labels, close, (double)atomic_load(&h->sum_micro) / 1e6);
        put(&b, "%s_count%s%s%s %llu\n", h->name, open, h->labels, close, atomic_load(&h->count));
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
