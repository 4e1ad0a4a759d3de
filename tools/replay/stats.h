/* Latency samples and their percentiles, overall and per time bucket. Pure: no clocks, no I/O.
 * Every sample is kept (a few million fit easily), so percentiles are exact (nearest rank), not
 * estimated from a histogram; the count of samples in a bucket doubles as a rate (events/s). */
#ifndef BK_TOOLS_REPLAY_STATS_H
#define BK_TOOLS_REPLAY_STATS_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bk_stats_lat bk_stats_lat;

/* A distribution; all values in microseconds; everything 0 when n == 0. */
typedef struct bk_stats_summary {
    size_t n;
    int64_t min_us;
    int64_t p50_us;
    int64_t p90_us;
    int64_t p99_us;
    int64_t p999_us;
    int64_t max_us;
    double mean_us;
} bk_stats_summary;

bk_stats_lat *bk_stats_lat_new(void);

void bk_stats_lat_free(bk_stats_lat *lat);

/* Records one sample: the event happened at at_ms (run time) and took value_us. */
int bk_stats_lat_add(bk_stats_lat *lat, int64_t at_ms, int64_t value_us, bk_err *err) BK_WARN_UNUSED;

size_t bk_stats_lat_count(const bk_stats_lat *lat);

/* Counts the samples with from_ms <= at_ms < to_ms. */
size_t bk_stats_lat_count_between(const bk_stats_lat *lat, int64_t from_ms, int64_t to_ms);

/* Summarizes every sample. */
int bk_stats_lat_summarize(const bk_stats_lat *lat, bk_stats_summary *out, bk_err *err) BK_WARN_UNUSED;

/* Summarizes the samples of each bucket [t0 + i*bucket_ms, t0 + (i+1)*bucket_ms), i < n_buckets,
 * into out[i]; samples outside every bucket are ignored. */
int bk_stats_lat_buckets(const bk_stats_lat *lat, int64_t t0_ms, int64_t bucket_ms, size_t n_buckets,
                         bk_stats_summary *out, bk_err *err) BK_WARN_UNUSED;

/* The nearest-rank percentile p (0 < p <= 100) of n ascending values: the smallest value with at
 * least p% of the values at or below it. 0 when n == 0. */
int64_t bk_stats_percentile(const int64_t *sorted, size_t n, double p);

/* Fills out from n ascending values (sorted need not outlive the call). */
void bk_stats_summarize_sorted(const int64_t *sorted, size_t n, bk_stats_summary *out);

#endif
