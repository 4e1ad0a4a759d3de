/* Configuration: one table of BK_* environment variables (name, services, type, default, bounds,
 * where the value lands), read once at start, validated, logged with secrets masked, then passed
 * down as `const bk_cfg *`. Both services share the table; each row names the services that read
 * it, and each service loads, requires and logs only its own rows. */
#ifndef BK_COMMON_CFG_H
#define BK_COMMON_CFG_H

#include "common/err.h"

typedef struct bk_cfg {
    /* ingress: HTTP */
    char http_addr[64];
    int http_port;
    int http_threads;
    int http_max_conns;
    int http_conn_timeout_s;
    char static_dir[512];
    int tickets_cache_ms;
    int max_quantity;
    /* ingress: abuse limits (no client is exempt; see ingress/limits.h) */
    int rate_per_s; /* 0: no rate limit */
    int rate_burst;
    int conns_per_client; /* 0: no cap */
    int request_timeout_s;
    int http_conn_memory;
    int client_slots;          /* clients tracked at once (rounded up to a power of two) */
    char trusted_proxies[256]; /* X-Forwarded-For is believed only from these peers */
    char metrics_allow[256];   /* clients that may read the ingress's /metrics */
    char cors_origins[512];
    /* Kafka */
    char kafka_brokers[512];
    char kafka_topic[128];
    char group_id[128];
    int produce_timeout_ms;
    int linger_ms;
    /* processor */
    int batch_max;
    int batch_wait_ms;
    int metrics_port; /* 0: no metrics endpoint */
    char metrics_addr[64];
    /* both */
    char pg_dsn[1024];
    char id_secret[257];
    int log_level;
} bk_cfg;

/* The service a setting belongs to; a row of the table may belong to both. */
typedef enum bk_cfg_service {
    BK_CFG_INGRESS = 1 << 0,
    BK_CFG_PROCESSOR = 1 << 1,
} bk_cfg_service;

/* Looks up a variable by name; NULL when unset. main passes bk_cfg_env, tests a table. */
typedef const char *(*bk_cfg_lookup)(const char *name);

/* The process environment (getenv) as a bk_cfg_lookup. */
const char *bk_cfg_env(const char *name);

/* Fills cfg with service's settings from defaults and lookup; the other service's settings are
 * neither read nor required and stay zero. BK_E_INVAL names the first variable that is wrong. */
int bk_cfg_load(bk_cfg *cfg, bk_cfg_service service, bk_cfg_lookup lookup, bk_err *err) BK_WARN_UNUSED;

/* Logs one line with service's settings; secrets (BK_ID_SECRET, the DSN's password) masked. */
void bk_cfg_log(const bk_cfg *cfg, bk_cfg_service service);

/* Copies dsn into out (len bytes) with any password replaced by "***". */
void bk_cfg_mask_dsn(const char *dsn, char *out, size_t len);

#endif
