/* Wall-clock and monotonic time in milliseconds, and RFC 3339 formatting (UTC, milliseconds). */
#ifndef BK_COMMON_CLOCK_H
#define BK_COMMON_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define BK_CLOCK_RFC3339_LEN 25 /* "2026-11-22T16:00:00.123Z" plus NUL */

/* Milliseconds since the Unix epoch (CLOCK_REALTIME): for timestamps that leave the process. */
int64_t bk_clock_wall_ms(void);

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and durations. */
int64_t bk_clock_mono_ms(void);

/* Microseconds of CLOCK_MONOTONIC: for latency measurements. */
int64_t bk_clock_mono_us(void);

/* Formats epoch milliseconds (0 up to year 9999) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf, which
 * should hold BK_CLOCK_RFC3339_LEN bytes; a shorter one gets the truncated text, terminated. */
void bk_clock_format(int64_t wall_ms, char *buf, size_t len);

#endif
