/* Configuration: one table of BK_* environment variables (name, type, default, bounds, where the
 * value lands), read once at start, validated, logged with secrets masked, then passed down as
 * `const bk_cfg *`. Both services share the table; each uses the settings it needs. */
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

/* Looks up a variable by name; NULL when unset. main passes getenv, tests a table. */
typedef const char *(*bk_cfg_lookup)(const char *name);

/* Fills cfg from defaults and lookup; BK_E_INVAL names the first variable that is wrong. */
int bk_cfg_load(bk_cfg *cfg, bk_cfg_lookup lookup, bk_err *err) BK_WARN_UNUSED;

/* Logs one line with every setting; secrets (BK_ID_SECRET, the DSN's password) masked. */
void bk_cfg_log(const bk_cfg *cfg);

/* Copies dsn into out (len bytes) with any password replaced by "***". */
void bk_cfg_mask_dsn(const char *dsn, char *out, size_t len);

#endif
