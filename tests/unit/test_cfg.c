/* Unit tests of common/cfg: defaults, every integer bound, the required secret (never echoed),
 * the log level, which service reads and logs which setting, and DSN masking -- including that
 * the config log line never shows a secret. */
#include "unit.h"

#include "common/cfg.h"
#include "common/log.h"

#include <stdio.h>
#include <unistd.h>

#define SECRET "unit-test-secret-0123456789"
static int load_for(bk_cfg_service service, const unit_env_var *env, bk_cfg *cfg, bk_err *err)
{
    return unit_cfg_load(service, env, cfg, err);
}

/* Most cases are about the table itself: load it as the ingress, which reads the most settings. */
static int load(const unit_env_var *env, bk_cfg *cfg, bk_err *err)
{
    return load_for(BK_CFG_INGRESS, env, cfg, err);
}

#define INT_AT(cfg, offset) (*(const int *)(const void *)((const char *)(cfg) + (offset)))
#define STR_AT(cfg, offset) ((const char *)(cfg) + (offset))

#define INGRESS   BK_CFG_INGRESS
#define PROCESSOR BK_CFG_PROCESSOR
#define BOTH      (BK_CFG_INGRESS | BK_CFG_PROCESSOR)

/* The defaults when only the required secret is set, each read by a service that uses it. */
static void test_defaults(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bk_cfg_service service;
        size_t offset;
        int is_int;
        int want_int;
        const char *want_str;
    } cases[] = {
        {"BK_HTTP_ADDR", INGRESS, offsetof(bk_cfg, http_addr), 0, 0, "0.0.0.0"},
        {"BK_HTTP_PORT", INGRESS, offsetof(bk_cfg, http_port), 1, 8080, NULL},
        {"BK_HTTP_THREADS", INGRESS, offsetof(bk_cfg, http_threads), 1, 2, NULL},
        {"BK_HTTP_MAX_CONNS", INGRESS, offsetof(bk_cfg, http_max_conns), 1, 16384, NULL},
        {"BK_HTTP_CONN_TIMEOUT_S", INGRESS, offsetof(bk_cfg, http_conn_timeout_s), 1, 30, NULL},
        {"BK_STATIC_DIR", INGRESS, offsetof(bk_cfg, static_dir), 0, 0, "frontend/dist"},
        {"BK_TICKETS_CACHE_MS", INGRESS, offsetof(bk_cfg, tickets_cache_ms), 1, 250, NULL},
        {"BK_MAX_QUANTITY", INGRESS, offsetof(bk_cfg, max_quantity), 1, 10, NULL},
        {"BK_KAFKA_BROKERS", INGRESS, offsetof(bk_cfg, kafka_brokers), 0, 0, "127.0.0.1:19092"},
        {"BK_KAFKA_BROKERS", PROCESSOR, offsetof(bk_cfg, kafka_brokers), 0, 0, "127.0.0.1:19092"},
        {"BK_KAFKA_TOPIC", PROCESSOR, offsetof(bk_cfg, kafka_topic), 0, 0, "bookings"},
        {"BK_GROUP_ID", PROCESSOR, offsetof(bk_cfg, group_id), 0, 0, "bk-processor"},
        {"BK_PRODUCE_TIMEOUT_MS", INGRESS, offsetof(bk_cfg, produce_timeout_ms), 1, 5000, NULL},
        {"BK_LINGER_MS", INGRESS, offsetof(bk_cfg, linger_ms), 1, 2, NULL},
        {"BK_BATCH_MAX", PROCESSOR, offsetof(bk_cfg, batch_max), 1, 500, NULL},
        {"BK_BATCH_WAIT_MS", PROCESSOR, offsetof(bk_cfg, batch_wait_ms), 1, 5, NULL},
        {"BK_METRICS_PORT", PROCESSOR, offsetof(bk_cfg, metrics_port), 1, 9464, NULL},
        {"BK_PG_DSN", PROCESSOR, offsetof(bk_cfg, pg_dsn), 0, 0,
         "postgresql://booking:booking@127.0.0.1:54329/booking"},
        {"BK_ID_SECRET", INGRESS, offsetof(bk_cfg, id_secret), 0, 0, SECRET},
        {"BK_LOG_LEVEL", INGRESS, offsetof(bk_cfg, log_level), 1, BK_LOG_INFO, NULL},
        {"BK_LOG_LEVEL", PROCESSOR, offsetof(bk_cfg, log_level), 1, BK_LOG_INFO, NULL},
    };
    static const unit_env_var env[UNIT_ENV_MAX] = {{"BK_ID_SECRET", SECRET}};
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        bk_cfg cfg;
        bk_err err;
        memset(&cfg, 0x5a, sizeof(cfg));
        EXPECT_RC(cases[k].name, load_for(cases[k].service, env, &cfg, &err), BK_OK, &err);
        if (cases[k].is_int) {
            EXPECT_INT(cases[k].name, "value", INT_AT(&cfg, cases[k].offset), cases[k].want_int);
        } else {
            EXPECT_STR(cases[k].name, "value", STR_AT(&cfg, cases[k].offset), cases[k].want_str);
        }
    }
}

/* Every integer setting with its bounds; each gets the same battery of values below. */
typedef struct int_setting {
    const char *name;
    bk_cfg_service service; /* one that reads it */
    size_t offset;
    long min;
    long max;
} int_setting;

static const int_setting int_settings[] = {
    {"BK_HTTP_PORT", INGRESS, offsetof(bk_cfg, http_port), 1, 65535},
    {"BK_HTTP_THREADS", INGRESS, offsetof(bk_cfg, http_threads), 1, 64},
    {"BK_HTTP_MAX_CONNS", INGRESS, offsetof(bk_cfg, http_max_conns), 16, 1000000},
    {"BK_HTTP_CONN_TIMEOUT_S", INGRESS, offsetof(bk_cfg, http_conn_timeout_s), 1, 3600},
    {"BK_TICKETS_CACHE_MS", INGRESS, offsetof(bk_cfg, tickets_cache_ms), 0, 1000},
    {"BK_MAX_QUANTITY", INGRESS, offsetof(bk_cfg, max_quantity), 1, 1000},
    {"BK_PRODUCE_TIMEOUT_MS", INGRESS, offsetof(bk_cfg, produce_timeout_ms), 100, 300000},
    {"BK_LINGER_MS", INGRESS, offsetof(bk_cfg, linger_ms), 0, 1000},
    {"BK_BATCH_MAX", PROCESSOR, offsetof(bk_cfg, batch_max), 1, 10000},
    {"BK_BATCH_WAIT_MS", PROCESSOR, offsetof(bk_cfg, batch_wait_ms), 0, 10000},
    {"BK_RATE_PER_S", INGRESS, offsetof(bk_cfg, rate_per_s), 0, 1000000},
    {"BK_RATE_BURST", INGRESS, offsetof(bk_cfg, rate_burst), 1, 1000000},
    {"BK_CONNS_PER_CLIENT", INGRESS, offsetof(bk_cfg, conns_per_client), 0, 1000000},
    {"BK_REQUEST_TIMEOUT_S", INGRESS, offsetof(bk_cfg, request_timeout_s), 1, 3600},
    {"BK_HTTP_CONN_MEMORY", INGRESS, offsetof(bk_cfg, http_conn_memory), 4096, 1048576},
    {"BK_CLIENT_SLOTS", INGRESS, offsetof(bk_cfg, client_slots), 16, 16777216},
    {"BK_METRICS_PORT", PROCESSOR, offsetof(bk_cfg, metrics_port), 0, 65535},
};

/* A value for a setting: min + delta_min, max + delta_max, or a literal. */
typedef struct int_value {
    const char *label;
    enum { AT_MIN, AT_MAX, LITERAL } kind;
    long delta;
    const char *literal;
    int want_rc;
} int_value;

static const int_value int_values[] = {
    {"min", AT_MIN, 0, NULL, BK_OK},
    {"max", AT_MAX, 0, NULL, BK_OK},
    {"below min", AT_MIN, -1, NULL, BK_E_INVAL},
    {"above max", AT_MAX, 1, NULL, BK_E_INVAL},
    {"far above max", AT_MAX, 1000000000L, NULL, BK_E_INVAL},
    {"not a number", LITERAL, 0, "abc", BK_E_INVAL},
    {"trailing junk", LITERAL, 0, "12x", BK_E_INVAL},
    {"trailing space", LITERAL, 0, "12 ", BK_E_INVAL},
    {"fraction", LITERAL, 0, "12.5", BK_E_INVAL},
    {"hex", LITERAL, 0, "0x10", BK_E_INVAL},
    {"only a sign", LITERAL, 0, "-", BK_E_INVAL},
    {"past long", LITERAL, 0, "99999999999999999999999", BK_E_INVAL},
    {"past int, wraps to 16 if truncated", LITERAL, 0, "4294967312", BK_E_INVAL},
    {"very negative", LITERAL, 0, "-99999999999999999999999", BK_E_INVAL},
};

static void test_int_bounds(void **state)
{
    (void)state;
    for (size_t s = 0; s < N_ELEMS(int_settings); s++) {
        const int_setting *is = &int_settings[s];
        for (size_t v = 0; v < N_ELEMS(int_values); v++) {
            const int_value *iv = &int_values[v];
            char value[32];
            long n = iv->kind == AT_MIN ? is->min + iv->delta : is->max + iv->delta;
            if (iv->kind == LITERAL) {
                snprintf(value, sizeof(value), "%s", iv->literal);
            } else {
                snprintf(value, sizeof(value), "%ld", n);
            }
            char name[96];
            snprintf(name, sizeof(name), "%s=%s (%s)", is->name, value, iv->label);
            const unit_env_var env[UNIT_ENV_MAX] = {{"BK_ID_SECRET", SECRET}, {is->name, value}};
            bk_cfg cfg;
            bk_err err;

            EXPECT_RC(name, load_for(is->service, env, &cfg, &err), iv->want_rc, &err);
            if (iv->want_rc == BK_OK) {
                EXPECT_INT(name, "value", INT_AT(&cfg, is->offset), n);
            } else {
                EXPECT_CONTAINS(name, "err.msg", err.msg, is->name);
            }
        }
    }
}

typedef struct env_case {
    const char *name;
    unit_env_var env[UNIT_ENV_MAX];
    int want_rc;
    const char *want_msg; /* a substring of err.msg */
    const char *secret;   /* must not appear in err.msg */
} env_case;

#define SECRET_15  "fifteen-chars!!"
#define SECRET_16  "sixteen-chars!!!"
#define CHARS_64   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SECRET_256 CHARS_64 CHARS_64 CHARS_64 CHARS_64

static const env_case env_cases[] = {
    {"secret missing", {{NULL, NULL}}, BK_E_INVAL, "BK_ID_SECRET", NULL},
    {"secret empty", {{"BK_ID_SECRET", ""}}, BK_E_INVAL, "BK_ID_SECRET", NULL},
    {"secret of 15 characters", {{"BK_ID_SECRET", SECRET_15}}, BK_E_INVAL, "BK_ID_SECRET", SECRET_15},
    {"secret of 16 characters", {{"BK_ID_SECRET", SECRET_16}}, BK_OK, NULL, NULL},
    {"secret of 256 characters", {{"BK_ID_SECRET", SECRET_256}}, BK_OK, NULL, NULL},
    {"secret of 257 characters", {{"BK_ID_SECRET", SECRET_256 "x"}}, BK_E_INVAL, "BK_ID_SECRET", CHARS_64},
    {"log level debug", {{"BK_ID_SECRET", SECRET}, {"BK_LOG_LEVEL", "debug"}}, BK_OK, NULL, NULL},
    {"log level warn", {{"BK_ID_SECRET", SECRET}, {"BK_LOG_LEVEL", "warn"}}, BK_OK, NULL, NULL},
    {"log level verbose", {{"BK_ID_SECRET", SECRET}, {"BK_LOG_LEVEL", "verbose"}}, BK_E_INVAL, "BK_LOG_LEVEL", NULL},
    {"log level warning", {{"BK_ID_SECRET", SECRET}, {"BK_LOG_LEVEL", "warning"}}, BK_E_INVAL, "BK_LOG_LEVEL", NULL},
    {"log level with a space", {{"BK_ID_SECRET", SECRET}, {"BK_LOG_LEVEL", "info "}}, BK_E_INVAL, "BK_LOG_LEVEL", NULL},
    {"empty value means the default", {{"BK_ID_SECRET", SECRET}, {"BK_HTTP_PORT", ""}}, BK_OK, NULL, NULL},
    {"address of 63 characters", {{"BK_ID_SECRET", SECRET}, {"BK_HTTP_ADDR", CHARS_64 + 1}}, BK_OK, NULL, NULL},
    {"address of 64 characters",
     {{"BK_ID_SECRET", SECRET}, {"BK_HTTP_ADDR", CHARS_64}},
     BK_E_INVAL,
     "BK_HTTP_ADDR",
     NULL},
    {"DSN too long, password not echoed",
     {{"BK_ID_SECRET", SECRET},
      {"BK_PG_DSN", "postgresql://u:pw-never-echoed@h/db?x=" SECRET_256 SECRET_256 SECRET_256 SECRET_256}},
     BK_E_INVAL,
     "BK_PG_DSN",
     "pw-never-echoed"},
    {"bad port and bad secret: the first in table order is reported, secret not echoed",
     {{"BK_ID_SECRET", SECRET_15}, {"BK_HTTP_PORT", "0"}},
     BK_E_INVAL,
     "BK_HTTP_PORT",
     SECRET_15},
};

static void test_env_cases(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(env_cases); k++) {
        const env_case *c = &env_cases[k];
        bk_cfg cfg;
        bk_err err;
        EXPECT_RC(c->name, load(c->env, &cfg, &err), c->want_rc, &err);
        if (c->want_msg != NULL) {
            EXPECT_CONTAINS(c->name, "err.msg", err.msg, c->want_msg);
        }
        if (c->secret != NULL) {
            EXPECT_NOT_CONTAINS(c->name, "err.msg", err.msg, c->secret);
        }
    }
}

static void test_log_level(void **state)
{
    (void)state;
    static const struct {
        const char *value; /* NULL: unset */
        int want;
    } cases[] = {
        {NULL, BK_LOG_INFO},   {"debug", BK_LOG_DEBUG}, {"info", BK_LOG_INFO},
        {"warn", BK_LOG_WARN}, {"error", BK_LOG_ERROR}, {"", BK_LOG_INFO},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        const char *name = cases[k].value != NULL ? cases[k].value : "(unset)";
        const unit_env_var env[UNIT_ENV_MAX] = {{"BK_ID_SECRET", SECRET}, {"BK_LOG_LEVEL", cases[k].value}};
        bk_cfg cfg;
        bk_err err;
        EXPECT_RC(name, load(env, &cfg, &err), BK_OK, &err);
        EXPECT_INT(name, "log_level", cfg.log_level, cases[k].want);
    }
}

/* Every setting and the services that read it; the README's configuration table says the same
 * (test_readme_agrees). */
static const struct {
    const char *name;
    unsigned services;
} service_rows[] = {
    {"BK_HTTP_ADDR", INGRESS},
    {"BK_HTTP_PORT", INGRESS},
    {"BK_HTTP_THREADS", INGRESS},
    {"BK_HTTP_MAX_CONNS", INGRESS},
    {"BK_HTTP_CONN_TIMEOUT_S", INGRESS},
    {"BK_STATIC_DIR", INGRESS},
    {"BK_TICKETS_CACHE_MS", INGRESS},
    {"BK_MAX_QUANTITY", INGRESS},
    {"BK_RATE_PER_S", INGRESS},
    {"BK_RATE_BURST", INGRESS},
    {"BK_CONNS_PER_CLIENT", INGRESS},
    {"BK_REQUEST_TIMEOUT_S", INGRESS},
    {"BK_HTTP_CONN_MEMORY", INGRESS},
    {"BK_CLIENT_SLOTS", INGRESS},
    {"BK_TRUSTED_PROXIES", INGRESS},
    {"BK_METRICS_ALLOW", INGRESS},
    {"BK_CORS_ORIGINS", INGRESS},
    {"BK_KAFKA_BROKERS", BOTH},
    {"BK_KAFKA_TOPIC", BOTH},
    {"BK_GROUP_ID", PROCESSOR},
    {"BK_PRODUCE_TIMEOUT_MS", INGRESS},
    {"BK_LINGER_MS", INGRESS},
    {"BK_BATCH_MAX", PROCESSOR},
    {"BK_BATCH_WAIT_MS", PROCESSOR},
    {"BK_METRICS_PORT", PROCESSOR},
    {"BK_METRICS_ADDR", PROCESSOR},
    {"BK_PG_DSN", BOTH},
    {"BK_ID_SECRET", INGRESS},
    {"BK_LOG_LEVEL", BOTH},
};

static const struct {
    const char *name;
    bk_cfg_service service;
} services[] = {{"ingress", BK_CFG_INGRESS}, {"processor", BK_CFG_PROCESSOR}};

/* A value no setting accepts: not a number, not a level, longer than every string buffer. */
static const char *bad_value(void)
{
    static char value[2048];
    memset(value, 'x', sizeof(value) - 1);
    return value;
}

/* Captures what bk_cfg_log writes to stderr into line (len bytes). */
static void capture_log(const bk_cfg *cfg, bk_cfg_service service, char *line, size_t len)
{
    FILE *capture = tmpfile();
    assert_non_null(capture);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
    bk_cfg_log(cfg, service);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(capture);
    size_t n = fread(line, 1, len - 1, capture);
    line[n] = '\0';
    fclose(capture);
}

/* Each service reads, requires and logs only its own settings: a wrong value of another service's
 * setting is never looked at, and the processor starts without BK_ID_SECRET. */
static void test_services(void **state)
{
    (void)state;
    for (size_t v = 0; v < N_ELEMS(services); v++) {
        char line[4096];
        bk_cfg cfg;
        bk_err err;
        const unit_env_var no_secret[UNIT_ENV_MAX] = {{NULL, NULL}};
        int wants_secret = services[v].service == BK_CFG_INGRESS;
        char name[96];
        snprintf(name, sizeof(name), "%s without BK_ID_SECRET", services[v].name);
        EXPECT_RC(name, load_for(services[v].service, no_secret, &cfg, &err), wants_secret ? BK_E_INVAL : BK_OK, &err);

        const unit_env_var env[UNIT_ENV_MAX] = {{"BK_ID_SECRET", SECRET}};
        EXPECT_RC(services[v].name, load_for(services[v].service, env, &cfg, &err), BK_OK, &err);
        capture_log(&cfg, services[v].service, line, sizeof(line));
        for (size_t k = 0; k < N_ELEMS(service_rows); k++) {
            int reads = (service_rows[k].services & services[v].service) != 0;
            snprintf(name, sizeof(name), "%s, %s", services[v].name, service_rows[k].name);
            /* The first match wins: the bad value, also when the row is BK_ID_SECRET's. */
            const unit_env_var bad[UNIT_ENV_MAX] = {{service_rows[k].name, bad_value()}, {"BK_ID_SECRET", SECRET}};
            EXPECT_RC(name, load_for(services[v].service, bad, &cfg, &err), reads ? BK_E_INVAL : BK_OK, &err);
            char logged[64];
            snprintf(logged, sizeof(logged), " %s=", service_rows[k].name);
            if (reads) {
                EXPECT_CONTAINS(name, "config log", line, logged);
            } else {
                EXPECT_NOT_CONTAINS(name, "config log", line, logged);
            }
        }
    }
}

/* The README's configuration table names each setting's service ("ingress", "processor" or
 * "both") in its third column: it must say what the loader does. */
static void test_readme_agrees(void **state)
{
    (void)state;
    FILE *readme = fopen(BK_SOURCE_DIR "/README.md", "r");
    assert_non_null(readme);
    int seen[N_ELEMS(service_rows)] = {0};
    char row[2048];
    while (fgets(row, sizeof(row), readme) != NULL) {
        if (strncmp(row, "| `BK_", 6) != 0) {
            continue;
        }
        /* | `BK_A` / `BK_B` | default | service | meaning | */
        char *cells[4] = {NULL};
        char *save = NULL;
        char *cell = strtok_r(row, "|", &save);
        for (int c = 0; c < 4 && cell != NULL; c++, cell = strtok_r(NULL, "|", &save)) {
            cells[c] = cell;
        }
        assert_non_null(cells[2]);
        char used_by[32] = "";
        sscanf(cells[2], " %31s", used_by);
        unsigned want = strcmp(used_by, "both") == 0        ? BOTH
                        : strcmp(used_by, "ingress") == 0   ? INGRESS
                        : strcmp(used_by, "processor") == 0 ? PROCESSOR
                                                            : 0;
        for (char *tick = strchr(cells[0], '`'); tick != NULL; tick = strchr(tick + 1, '`')) {
            char *end = strchr(tick + 1, '`');
            assert_non_null(end);
            *end = '\0';
            size_t k = 0;
            while (k < N_ELEMS(service_rows) && strcmp(service_rows[k].name, tick + 1) != 0) {
                k++;
            }
            EXPECT_TRUE(tick + 1, "a setting of the table", k < N_ELEMS(service_rows));
            EXPECT_INT(tick + 1, "README's service column", want, service_rows[k].services);
            seen[k] = 1;
            tick = end;
        }
    }
    fclose(readme);
    for (size_t k = 0; k < N_ELEMS(service_rows); k++) {
        EXPECT_TRUE(service_rows[k].name, "a row in the README's configuration table", seen[k]);
    }
}

typedef struct dsn_case {
    const char *name;
    const char *dsn;
    const char *want;   /* the exact masked text, or NULL to check only secret */
    const char *secret; /* must not appear in the masked text, or NULL */
} dsn_case;

static const dsn_case dsn_cases[] = {
    {"URI with password", "postgresql://booking:s3cret@127.0.0.1:54329/booking",
     "postgresql://booking:***@127.0.0.1:54329/booking", "s3cret"},
    {"URI with password, postgres:// scheme", "postgres://u:p@h/d", "postgres://u:***@h/d", NULL},
    {"URI with empty password", "postgresql://booking:@h/db", "postgresql://booking:***@h/db", NULL},
    {"URI without password", "postgresql://booking@127.0.0.1:54329/booking",
     "postgresql://booking@127.0.0.1:54329/booking", NULL},
    {"URI without user", "postgresql://127.0.0.1:54329/booking", "postgresql://127.0.0.1:54329/booking", NULL},
    {"URI with password as a parameter", "postgresql://booking@h/db?password=s3cret",
     "postgresql://booking@h/db?password=***", "s3cret"},
    {"key=value with password", "host=127.0.0.1 port=54329 user=booking password=s3cret dbname=booking",
     "host=127.0.0.1 port=54329 user=booking password=*** dbname=booking", "s3cret"},
    {"key=value with password last", "host=h password=s3cret", "host=h password=***", "s3cret"},
    {"key=value with password first", "password=s3cret host=h", "password=*** host=h", "s3cret"},
    {"key=value without password", "host=h user=u dbname=d", "host=h user=u dbname=d", NULL},
    {"empty", "", "", NULL},
    /* Regression (was a bug): common/cfg.c bk_cfg_mask_dsn() finds "password=" with strstr and masks up to the next
     * space; libpq also allows quoted values with spaces, spaces around '=' and the sslpassword
     * keyword, and each leaks the secret into the config log line. */
    {"key=value with a quoted password holding a space", "host=h password='s3 cret' dbname=d", NULL, "cret"},
    {"key=value with spaces around =", "host=h password = s3cret dbname=d", NULL, "s3cret"},
    {"key=value with sslpassword before password", "sslpassword=k3y password=s3cret host=h", NULL, "s3cret"},
};

static void test_mask_dsn(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(dsn_cases); k++) {
        const dsn_case *c = &dsn_cases[k];
        char out[256];
        memset(out, 'x', sizeof(out));
        bk_cfg_mask_dsn(c->dsn, out, sizeof(out));
        EXPECT_TRUE(c->name, "a terminated string", memchr(out, '\0', sizeof(out)) != NULL);
        if (c->want != NULL) {
            EXPECT_STR(c->name, "masked", out, c->want);
        }
        if (c->secret != NULL) {
            EXPECT_NOT_CONTAINS(c->name, "masked", out, c->secret);
        }
    }
}

/* A small output buffer truncates but stays terminated and still hides the password. */
static void test_mask_dsn_truncates(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 8, 16, 22, 23, 30};
    for (size_t k = 0; k < N_ELEMS(lens); k++) {
        char out[64];
        char name[32];
        memset(out, 'x', sizeof(out));
        snprintf(name, sizeof(name), "out of %zu bytes", lens[k]);
        bk_cfg_mask_dsn("postgresql://booking:s3cret@h/db", out, lens[k]);
        EXPECT_INT(name, "strlen", strlen(out), lens[k] - 1);
        EXPECT_INT(name, "byte past len", out[lens[k]], 'x');
        EXPECT_NOT_CONTAINS(name, "masked", out, "s3c");
    }
}

/* The config line goes to stderr: capture it and look for secrets. */
static void test_log_masks_secrets(void **state)
{
    (void)state;
    static const unit_env_var env[UNIT_ENV_MAX] = {
        {"BK_ID_SECRET", SECRET},
        {"BK_PG_DSN", "postgresql://booking:pg-pass-word@127.0.0.1:54329/booking"},
    };
    bk_cfg cfg;
    bk_err err;
    EXPECT_RC("log", load(env, &cfg, &err), BK_OK, &err);

    char line[4096];
    capture_log(&cfg, BK_CFG_INGRESS, line, sizeof(line));
    size_t n = strlen(line);

    static const struct {
        const char *name;
        const char *text;
        int want_present;
    } cases[] = {
        {"event", "event=config", 1},
        {"secret masked", "BK_ID_SECRET=***", 1},
        {"DSN masked", "BK_PG_DSN=postgresql://booking:***@127.0.0.1:54329/booking", 1},
        {"a plain setting", "BK_HTTP_PORT=8080", 1},
        {"the secret", SECRET, 0},
        {"the DSN password", "pg-pass-word", 0},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        if (cases[k].want_present) {
            EXPECT_CONTAINS(cases[k].name, "log line", line, cases[k].text);
        } else {
            EXPECT_NOT_CONTAINS(cases[k].name, "log line", line, cases[k].text);
        }
    }
    EXPECT_INT("log", "lines", strchr(line, '\n') - line, (long long)n - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_int_bounds),
        cmocka_unit_test(test_env_cases),         cmocka_unit_test(test_log_level),
        cmocka_unit_test(test_mask_dsn),          cmocka_unit_test(test_mask_dsn_truncates),
        cmocka_unit_test(test_log_masks_secrets), cmocka_unit_test(test_services),
        cmocka_unit_test(test_readme_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
