/* Time helpers: one place that knows about clock_gettime and the civil calendar. */
#include "common/clock.h"

#include <string.h>
#include <time.h>

static int64_t now_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bk_clock_wall_ms(void)
{
    return now_ms(CLOCK_REALTIME);
}

int64_t bk_clock_mono_ms(void)
{
    return now_ms(CLOCK_MONOTONIC);
}

int64_t bk_clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 to the civil date (proleptic Gregorian), after Howard Hinnant's
 * days_from_civil inverse: pure arithmetic, where gmtime_r takes glibc's time zone lock. */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    days += 719468; /* from 0000-03-01, so that leap days fall at the end of a cycle year */
    int64_t era = days / 146097;
    int64_t doe = days - era * 146097;                                   /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365, from March */
    int64_t mp = (5 * doy + 2) / 153;                                    /* 0..11, March = 0 */
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

static char *digits(char *at, int64_t value, int width)
{
    for (int k = width - 1; k >= 0; k--) {
        at[k] = (char)('0' + value % 10);
        value /= 10;
    }
    return at + width;
}

void bk_clock_format(int64_t wall_ms, char *buf, size_t len)
{
    char text[BK_CLOCK_RFC3339_LEN];
    int64_t secs = wall_ms / 1000, year = 0;
    int64_t sod = secs % 86400;
    int month = 0, day = 0;
    civil_from_days(secs / 86400, &year, &month, &day);
    char *at = digits(text, year, 4);
    *at++ = '-';
    at = digits(at, month, 2);
    *at++ = '-';
    at = digits(at, day, 2);
    *at++ = 'T';
    at = digits(at, sod / 3600, 2);
    *at++ = ':';
    at = digits(at, sod / 60 % 60, 2);
    *at++ = ':';
    at = digits(at, sod % 60, 2);
    *at++ = '.';
    at = digits(at, wall_ms % 1000, 3);
    *at++ = 'Z';
    *at = '\0';
    if (len > 0) {
        size_t n = (size_t)(at - text) < len - 1 ? (size_t)(at - text) : len - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
}
