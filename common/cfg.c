/* The configuration table and its loader. Adding a setting is adding one row below. */
#include "common/cfg.h"

#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_INT, T_STR, T_SECRET, T_DSN, T_LEVEL } setting_type;

typedef struct setting {
    const char *name;
    setting_type type;
    const char *def; /* default, parsed like the environment; NULL: required */
    long min;        /* T_INT: bounds; strings: minimum length */
    long max;
    size_t offset; /* where the value lands in bk_cfg */
    size_t size;   /* strings: the buffer's size */
} setting;

#define INT(name, field, def, min, max) {name, T_INT, def, min, max, offsetof(bk_cfg, field), sizeof(int)}
#define STR(name, type, field, def, min) {name, type, def, min, 0, offsetof(bk_cfg, field), sizeof(((bk_cfg *)0)->field)}

static const setting settings[] = {
    STR("BK_HTTP_ADDR", T_STR, http_addr, "0.0.0.0", 1),
    INT("BK_HTTP_PORT", http_port, "8080", 1, 65535),
    INT("BK_HTTP_THREADS", http_threads, "2", 1, 64),
    INT("BK_HTTP_MAX_CONNS", http_max_conns, "16384", 16, 1000000),
    INT("BK_HTTP_CONN_TIMEOUT_S", http_conn_timeout_s, "30", 1, 3600),
    STR("BK_STATIC_DIR", T_STR, static_dir, "frontend/dist", 1),
    INT("BK_TICKETS_CACHE_MS", tickets_cache_ms, "250", 0, 1000),
    INT("BK_MAX_QUANTITY", max_quantity, "10", 1, 1000),
    STR("BK_KAFKA_BROKERS", T_STR, kafka_brokers, "127.0.0.1:19092", 1),
    STR("BK_KAFKA_TOPIC", T_STR, kafka_topic, "bookings", 1),
    STR("BK_GROUP_ID", T_STR, group_id, "bk-processor", 1),
    INT("BK_PRODUCE_TIMEOUT_MS", produce_timeout_ms, "5000", 100, 300000),
    INT("BK_LINGER_MS", linger_ms, "2", 0, 1000),
    INT("BK_BATCH_MAX", batch_max, "500", 1, 10000),
    INT("BK_BATCH_WAIT_MS", batch_wait_ms, "5", 0, 10000),
    STR("BK_PG_DSN", T_DSN, pg_dsn, "postgresql://booking:booking@127.0.0.1:54329/booking", 1),
    STR("BK_ID_SECRET", T_SECRET, id_secret, NULL, 16),
    {"BK_LOG_LEVEL", T_LEVEL, "info", 0, 0, offsetof(bk_cfg, log_level), sizeof(int)},
};

static int load_one(bk_cfg *cfg, const setting *s, const char *value, bk_err *err)
{
    char *dst = (char *)cfg + s->offset;
    if (s->type == T_INT) {
        char *end = NULL;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || v < s->min || v > s->max) {
            return bk_err_set(err, BK_E_INVAL, "%s=%s is not an integer from %ld to %ld", s->name, value, s->min,
                              s->max);
        }
        *(int *)(void *)dst = (int)v;
        return BK_OK;
    }
    if (s->type == T_LEVEL) {
        int level = bk_log_level_parse(value);
        if (level < 0) {
            return bk_err_set(err, BK_E_INVAL, "%s=%s is not one of debug, info, warn, error", s->name, value);
        }
        *(int *)(void *)dst = level;
        return BK_OK;
    }
    size_t len = strlen(value);
    if ((long)len < s->min || len >= s->size) {
        /* Never echo a secret, not even a wrong one. */
        return bk_err_set(err, BK_E_INVAL, "%s must be %ld to %zu characters long", s->name, s->min, s->size - 1);
    }
    memcpy(dst, value, len + 1);
    return BK_OK;
}

int bk_cfg_load(bk_cfg *cfg, bk_cfg_lookup lookup, bk_err *err)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t k = 0; k < sizeof(settings) / sizeof(settings[0]); k++) {
        const setting *s = &settings[k];
        const char *value = lookup(s->name);
        if (value == NULL || value[0] == '\0') {
            value = s->def;
        }
        if (value == NULL) {
            return bk_err_set(err, BK_E_INVAL, "%s is required", s->name);
        }
        int rc = load_one(cfg, s, value, err);
        if (rc != BK_OK) {
            return rc;
        }
    }
    return BK_OK;
}

void bk_cfg_mask_dsn(const char *dsn, char *out, size_t len)
{
    /* URI form: scheme://user:password@host/... — mask what sits between ':' and '@'. */
    const char *scheme = strstr(dsn, "://");
    const char *at = scheme != NULL ? strchr(scheme + 3, '@') : NULL;
    const char *colon = at != NULL ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (colon != NULL) {
        snprintf(out, len, "%.*s:***%s", (int)(colon - dsn), dsn, at);
        return;
    }
    /* key=value form: mask the value of password=. */
    const char *pw = strstr(dsn, "password=");
    if (pw != NULL) {
        const char *end = strchr(pw, ' ');
        snprintf(out, len, "%.*spassword=***%s", (int)(pw - dsn), dsn, end != NULL ? end : "");
        return;
    }
    snprintf(out, len, "%s", dsn);
}

void bk_cfg_log(const bk_cfg *cfg)
{
    char line[2048];
    size_t used = 0;
    for (size_t k = 0; k < sizeof(settings) / sizeof(settings[0]) && used < sizeof(line); k++) {
        const setting *s = &settings[k];
        const char *src = (const char *)cfg + s->offset;
        char value[1100];
        if (s->type == T_INT) {
            snprintf(value, sizeof(value), "%d", *(const int *)(const void *)src);
        } else if (s->type == T_LEVEL) {
            snprintf(value, sizeof(value), "%s", bk_log_level_name(*(const int *)(const void *)src));
        } else if (s->type == T_SECRET) {
            snprintf(value, sizeof(value), "***");
        } else if (s->type == T_DSN) {
            bk_cfg_mask_dsn(src, value, sizeof(value));
        } else {
            snprintf(value, sizeof(value), "%s", src);
        }
        int n = snprintf(line + used, sizeof(line) - used, " %s=%s", s->name, value);
        used += n > 0 ? (size_t)n : 0;
    }
    bk_log_info("event=config%s", line);
}
