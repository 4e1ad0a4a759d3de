/* Token bucket arithmetic. */
#include "common/rate.h"

#include <math.h>

int bk_rate_take(bk_rate *bucket, double rate, double burst, int64_t now_ms)
{
    if (bucket->last_ms == 0) {
        bucket->tokens = burst;
        bucket->last_ms = now_ms;
    } else if (now_ms > bucket->last_ms) {
        bucket->tokens += rate * (double)(now_ms - bucket->last_ms) / 1000.0;
        if (bucket->tokens > burst) {
            bucket->tokens = burst;
        }
        bucket->last_ms = now_ms;
    }
    if (bucket->tokens >= 1.0) {
        bucket->tokens -= 1.0;
        return 0;
    }
    int wait = (int)ceil((1.0 - bucket->tokens) / rate);
    return wait > 0 ? wait : 1;
}
