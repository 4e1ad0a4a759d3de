/* The logger: one key=value line per event on stderr, written with a single write(2) so lines
 * from different threads never interleave. Library logs (librdkafka, libpq, libmicrohttpd) are
 * routed here too. The level and the service name are the only mutable globals of the project. */
#ifndef BK_COMMON_LOG_H
#define BK_COMMON_LOG_H

#include "common/err.h"

enum { BK_LOG_DEBUG = 0, BK_LOG_INFO = 1, BK_LOG_WARN = 2, BK_LOG_ERROR = 3 };

/* Sets the service name printed on every line and the minimum level. Call once, before threads. */
void bk_log_init(const char *service, int level);

/* Parses "debug", "info", "warn" or "error"; returns the level or BK_E_INVAL. */
int bk_log_level_parse(const char *name);

/* The name of a level ("info"). */
const char *bk_log_level_name(int level);

/* True when a line at this level would be written (to skip building expensive fields). */
int bk_log_enabled(int level);

/* Writes "ts=… level=… svc=… <fmt>": fmt carries the event's key=value fields,
 * e.g. bk_log(BK_LOG_INFO, "event=booking_accepted booking=%s tier=%s", id, tier). */
void bk_log(int level, const char *fmt, ...) BK_PRINTF(2, 3);

#define bk_log_debug(...) bk_log(BK_LOG_DEBUG, __VA_ARGS__)
#define bk_log_info(...)  bk_log(BK_LOG_INFO, __VA_ARGS__)
#define bk_log_warn(...)  bk_log(BK_LOG_WARN, __VA_ARGS__)
#define bk_log_error(...) bk_log(BK_LOG_ERROR, __VA_ARGS__)

#endif
