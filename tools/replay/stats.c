/* Exact percentiles over kept samples. Summaries sort a copy, so the recorder stays append-only
 * and a summary can be taken at any time. */
#include "tools/replay/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct sample {
    int64_t at_ms;
    int64_t value_us;
} sample;

struct bk_stats_lat {
    sample *samples;
    size_t n_samples;
    size_t cap;
};

bk_stats_lat *bk_stats_lat_new(void)
{
    return calloc(1, sizeof(bk_stats_lat));
}

void bk_stats_lat_free(bk_stats_lat *lat)
{
    if (lat == NULL) {
        return;
    }
    free(lat->samples);
    free(lat);
}

int bk_stats_lat_add(bk_stats_lat *lat, int64_t at_ms, int64_t value_us, bk_err *err)
{
    if (lat->n_samples == lat->cap) {
        size_t cap = lat->cap > 0 ? 2 * lat->cap : 1024;
        sample *grown = realloc(lat->samples, cap * sizeof(*grown));
        if (grown == NULL) {
            return bk_err_set(err, BK_E_NOMEM, "realloc of %zu latency samples", cap);
        }
        lat->samples = grown;
        lat->cap = cap;
    }
    lat->samples[lat->n_samples++] = (sample){.at_ms = at_ms, .value_us = value_us};
    return BK_OK;
}

size_t bk_stats_lat_count(const bk_stats_lat *lat)
{
    return lat->n_samples;
}

size_t bk_stats_lat_count_between(const bk_stats_lat *lat, int64_t from_ms, int64_t to_ms)
{
    size_t n = 0;
    for (size_t k = 0; k < lat->n_samples; k++) {
        n += lat->samples[k].at_ms >= from_ms && lat->samples[k].at_ms < to_ms;
    }
    return n;
}

int64_t bk_stats_percentile(const int64_t *sorted, size_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    /* Rank ceil(p/100 * n), 1-based. The epsilon keeps 99.9% of 1000 at rank 999, not 1000,
     * when the product comes out as 999.0000000001. */
    double rank = ceil(p / 100.0 * (double)n - 1e-9);
    size_t k = rank < 1.0 ? 1 : (size_t)rank;
    if (k > n) {
        k = n;
    }
    return sorted[k - 1];
}

void bk_stats_summarize_sorted(const int64_t *sorted, size_t n, bk_stats_summary *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 0) {
        return;
    }
    double sum = 0;
    for (size_t k = 0; k < n; k++) {
        sum += (double)sorted[k];
    }
    out->n = n;
    out->min_us = sorted[0];
    out->max_us = sorted[n - 1];
    out->mean_us = sum / (double)n;
    out->p50_us = bk_stats_percentile(sorted, n, 50);
    out->p90_us = bk_stats_percentile(sorted, n, 90);
    out->p99_us = bk_stats_percentile(sorted, n, 99);
    out->p999_us = bk_stats_percentile(sorted, n, 99.9);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int bk_stats_lat_summarize(const bk_stats_lat *lat, bk_stats_summary *out, bk_err *err)
{
    return bk_stats_lat_buckets(lat, INT64_MIN / 2, INT64_MAX, 1, out, err);
}

int bk_stats_lat_buckets(const bk_stats_lat *lat, int64_t t0_ms, int64_t bucket_ms, size_t n_buckets,
                         bk_stats_summary *out, bk_err *err)
{
    int rc = BK_OK;
    size_t *counts = NULL, *starts = NULL;
    int64_t *values = NULL;
    for (size_t b = 0; b < n_buckets; b++) {
        memset(&out[b], 0, sizeof(out[b]));
    }
    if (n_buckets == 0 || lat->n_samples == 0) {
        return BK_OK;
    }
    if (bucket_ms <= 0) {
        return bk_err_set(err, BK_E_INVAL, "bucket of %lld ms", (long long)bucket_ms);
    }
    counts = calloc(n_buckets, sizeof(*counts));
    starts = calloc(n_buckets, sizeof(*starts));
    values = malloc(lat->n_samples * sizeof(*values));
    if (counts == NULL || starts == NULL || values == NULL) {
        rc = bk_err_set(err, BK_E_NOMEM, "buckets for %zu samples", lat->n_samples);
        goto out;
    }
    /* Counting sort by bucket, then an ordinary sort inside each bucket. */
    for (size_t k = 0; k < lat->n_samples; k++) {
        int64_t at = lat->samples[k].at_ms;
        if (at >= t0_ms && (uint64_t)(at - t0_ms) / (uint64_t)bucket_ms < n_buckets) {
            counts[(uint64_t)(at - t0_ms) / (uint64_t)bucket_ms]++;
        }
    }
    for (size_t b = 1; b < n_buckets; b++) {
        starts[b] = starts[b - 1] + counts[b - 1];
    }
    for (size_t b = 0; b < n_buckets; b++) {
        counts[b] = 0; /* reused as the fill position */
    }
    for (size_t k = 0; k < lat->n_samples; k++) {
        int64_t at = lat->samples[k].at_ms;
        if (at >= t0_ms && (uint64_t)(at - t0_ms) / (uint64_t)bucket_ms < n_buckets) {
            size_t b = (size_t)((uint64_t)(at - t0_ms) / (uint64_t)bucket_ms);
            values[starts[b] + counts[b]++] = lat->samples[k].value_us;
        }
    }
    for (size_t b = 0; b < n_buckets; b++) {
        qsort(values + starts[b], counts[b], sizeof(*values), cmp_i64);
        bk_stats_summarize_sorted(values + starts[b], counts[b], &out[b]);
    }

out:
    free(counts);
    free(starts);
    free(values);
    return rc;
}
