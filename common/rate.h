/* A token bucket, pure: the per-client rate limit of the ingress. A bucket holds up to `burst`
 * tokens and refills at `rate` tokens a second; each request takes one. */
#ifndef BK_COMMON_RATE_H
#define BK_COMMON_RATE_H

#include <stdint.h>

typedef struct bk_rate {
    double tokens;
    int64_t last_ms; /* 0: a new bucket, full */
} bk_rate;

/* Takes a token at now_ms (monotonic). Returns 0 when allowed, otherwise the whole seconds
 * (at least 1) until a token will be there: the Retry-After of a 429. */
int bk_rate_take(bk_rate *bucket, double rate, double burst, int64_t now_ms);

#endif
