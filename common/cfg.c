/* The configuration table and its loader. Adding a setting is adding one row below, with the
 * services that read it (ING: bk-ingress, PROC: bk-processor, BOTH). */
#include "common/cfg.h"

#include "common/booking.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_INT, T_STR, T_SECRET, T_DSN, T_LEVEL } setting_type;

typedef struct setting {
    const char *name;
    unsigned services; /* bk_cfg_service flags */
    setting_type type;
    const char *def; /* default, parsed like the environment; NULL: required */
    long min;        /* T_INT: bounds; strings: minimum length */
    long max;
    size_t offset; /* where the value lands in bk_cfg */
    size_t size;   /* strings: the buffer's size */
} setting;

#define ING  BK_CFG_INGRESS
#define PROC BK_CFG_PROCESSOR
#define BOTH (BK_CFG_INGRESS | BK_CFG_PROCESSOR)

/* clang-format off */
#define INT(svc, name, field, def, min, max) {name, svc, T_INT, def, min, max, offsetof(bk_cfg, field), sizeof(int)}
#define STR(svc, name, type, field, def, min) \
    {name, svc, type, def, min, 0, offsetof(bk_cfg, field), sizeof(((bk_cfg *)0)->field)}
/* clang-format on */

static const setting settings[] = {
    STR(ING, "BK_HTTP_ADDR", T_STR, http_addr, "0.0.0.0", 1),
    INT(ING, "BK_HTTP_PORT", http_port, "8080", 1, 65535),
    INT(ING, "BK_HTTP_THREADS", http_threads, "2", 1, 64),
    INT(ING, "BK_HTTP_MAX_CONNS", http_max_conns, "16384", 16, 1000000),
    INT(ING, "BK_HTTP_CONN_TIMEOUT_S", http_conn_timeout_s, "30", 1, 3600),
    STR(ING, "BK_STATIC_DIR", T_STR, static_dir, "frontend/dist", 1),
    INT(ING, "BK_TICKETS_CACHE_MS", tickets_cache_ms, "250", 0, 1000),
    INT(ING, "BK_MAX_QUANTITY", max_quantity, "10", 1, BK_BOOKING_QUANTITY_MAX),
    INT(ING, "BK_RATE_PER_S", rate_per_s, "20", 0, 1000000),
    INT(ING, "BK_RATE_BURST", rate_burst, "40", 1, 1000000),
    INT(ING, "BK_CONNS_PER_CLIENT", conns_per_client, "64", 0, 1000000),
    INT(ING, "BK_REQUEST_TIMEOUT_S", request_timeout_s, "10", 1, 3600),
    INT(ING, "BK_HTTP_CONN_MEMORY", http_conn_memory, "16384", 4096, 1048576),
    INT(ING, "BK_CLIENT_SLOTS", client_slots, "65536", 16, 16777216),
    STR(ING, "BK_TRUSTED_PROXIES", T_STR, trusted_proxies, "", 0),
    STR(ING, "BK_METRICS_ALLOW", T_STR, metrics_allow, "127.0.0.0/8", 0),
    STR(ING, "BK_CORS_ORIGINS", T_STR, cors_origins, "", 0),
    STR(BOTH, "BK_KAFKA_BROKERS", T_STR, kafka_brokers, "127.0.0.1:19092", 1),
    STR(BOTH, "BK_KAFKA_TOPIC", T_STR, kafka_topic, "bookings", 1),
    STR(PROC, "BK_GROUP_ID", T_STR, group_id, "bk-processor", 1),
    INT(ING, "BK_PRODUCE_TIMEOUT_MS", produce_timeout_ms, "5000", 100, 300000),
    INT(ING, "BK_LINGER_MS", linger_ms, "2", 0, 1000),
    INT(PROC, "BK_BATCH_MAX", batch_max, "500", 1, 10000),
    INT(PROC, "BK_BATCH_WAIT_MS", batch_wait_ms, "5", 0, 10000),
    INT(PROC, "BK_METRICS_PORT", metrics_port, "9464", 0, 65535),
    STR(PROC, "BK_METRICS_ADDR", T_STR, metrics_addr, "127.0.0.1", 1),
    STR(BOTH, "BK_PG_DSN", T_DSN, pg_dsn, "postgresql://booking:booking@127.0.0.1:54329/booking", 1),
    STR(ING, "BK_ID_SECRET", T_SECRET, id_secret, NULL, 16),
    {"BK_LOG_LEVEL", BOTH, T_LEVEL, "info", 0, 0, offsetof(bk_cfg, log_level), sizeof(int)},
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

const char *bk_cfg_env(const char *name)
{
    return getenv(name);
}

int bk_cfg_load(bk_cfg *cfg, bk_cfg_service service, bk_cfg_lookup lookup, bk_err *err)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t k = 0; k < sizeof(settings) / sizeof(settings[0]); k++) {
        const setting *s = &settings[k];
        if ((s->services & service) == 0) {
            continue;
        }
        const char *value = lookup(s->name);
        /* Empty means the default, except for lists that may be empty (minimum length 0). */
        if (value == NULL || (value[0] == '\0' && !(s->type == T_STR && s->min == 0))) {
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

/* Appends n bytes of s to out (len bytes, used so far), truncating; out stays terminated. */
static size_t append(char *out, size_t len, size_t used, const char *s, size_t n)
{
    if (len == 0 || used >= len - 1) {
        return used;
    }
    size_t room = len - 1 - used;
    size_t k = n < room ? n : room;
    memcpy(out + used, s, k);
    out[used + k] = '\0';
    return used + k;
}

/* libpq's keywords that hold secrets: password, sslpassword. */
static int is_secret_keyword(const char *kw, size_t len)
{
    return len >= 8 && memcmp(kw + len - 8, "password", 8) == 0;
}

void bk_cfg_mask_dsn(const char *dsn, char *out, size_t len)
{
    size_t used = 0;
    if (len > 0) {
        out[0] = '\0';
    }
    const char *p = dsn;
    /* URI form: scheme://user:password@host/...?key=value&... */
    const char *scheme = strstr(dsn, "://");
    if (scheme != NULL) {
        const char *auth = scheme + 3;
        size_t auth_len = strcspn(auth, "/?");
        const char *at = memchr(auth, '@', auth_len);
        const char *colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon != NULL) {
            used = append(out, len, used, dsn, (size_t)(colon - dsn) + 1);
            used = append(out, len, used, "***", 3);
            p = at;
        }
        /* Query parameters: mask the value of any *password up to the next '&'. */
        while (*p != '\0') {
            size_t n = strcspn(p, "?&");
            used = append(out, len, used, p, n);
            p += n;
            if (*p == '\0') {
                break;
            }
            used = append(out, len, used, p, 1);
            p++;
            const char *kw = p;
            size_t kw_len = strcspn(p, "=&");
            if (kw[kw_len] == '=' && is_secret_keyword(kw, kw_len)) {
                used = append(out, len, used, kw, kw_len + 1);
                used = append(out, len, used, "***", 3);
                p = kw + kw_len + 1;
                p += strcspn(p, "&");
            }
        }
        return;
    }
    /* key=value form (libpq): blanks around '=' are allowed, a value may be single-quoted with
     * backslash escapes. Copy everything but the values of secret keywords. */
    while (*p != '\0') {
        const char *start = p;
        while (isspace((unsigned char)*p)) {
            p++;
        }
        const char *kw = p;
        while (*p != '\0' && *p != '=' && !isspace((unsigned char)*p)) {
            p++;
        }
        size_t kw_len = (size_t)(p - kw);
        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == '=') {
            p++;
            while (isspace((unsigned char)*p)) {
                p++;
            }
        }
        const char *value = p;
        if (*p == '\'') {
            for (p++; *p != '\0' && *p != '\''; p++) {
                if (*p == '\\' && p[1] != '\0') {
                    p++;
                }
            }
            if (*p == '\'') {
                p++;
            }
        } else {
            while (*p != '\0' && !isspace((unsigned char)*p)) {
                p++;
            }
        }
        used = append(out, len, used, start, (size_t)(value - start));
        if (is_secret_keyword(kw, kw_len)) {
            used = append(out, len, used, "***", 3);
        } else {
            used = append(out, len, used, value, (size_t)(p - value));
        }
    }
}

void bk_cfg_log(const bk_cfg *cfg, bk_cfg_service service)
{
    char line[2048];
    size_t used = 0;
    for (size_t k = 0; k < sizeof(settings) / sizeof(settings[0]) && used < sizeof(line); k++) {
        const setting *s = &settings[k];
        if ((s->services & service) == 0) {
            continue;
        }
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
