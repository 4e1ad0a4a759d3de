/* Logger implementation: format the whole line in a stack buffer, then one write(2). */
#include "common/log.h"

#include "common/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN 2048

static const char *log_service = "bk";
static int log_level = BK_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void bk_log_init(const char *service, int level)
{
    log_service = service;
    log_level = level;
}

int bk_log_level_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            return i;
        }
    }
    return BK_E_INVAL;
}

const char *bk_log_level_name(int level)
{
    return level_names[level];
}

int bk_log_enabled(int level)
{
    return level >= log_level;
}

void bk_log(int level, const char *fmt, ...)
{
    if (!bk_log_enabled(level)) {
        return;
    }
    char line[LINE_MAX_LEN];
    char ts[BK_CLOCK_RFC3339_LEN];
    bk_clock_format(bk_clock_wall_ms(), ts, sizeof(ts));
    int n = snprintf(line, sizeof(line), "ts=%s level=%s svc=%s ", ts, level_names[level], log_service);

    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);

    size_t len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2; /* truncate long lines */
    line[len++] = '\n';
    /* A short write to stderr cannot be recovered from here; there is nowhere else to report it. */
    ssize_t rc = write(STDERR_FILENO, line, len);
    (void)rc;
}
