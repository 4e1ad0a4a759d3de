/* Unit tests of common/cfg: defaults, every integer bound, the required secret (never echoed),
 * the log level, and DSN masking -- including that the config log line never shows a secret. */
#include "unit.h"

#include "common/cfg.h"
#include "common/log.h"

#include <stdio.h>
#include <unistd.h>

#define SECRET  "unit-test-secret-0123456789"
#define MAX_ENV 4

typedef struct env_var {
    const char *name;
    const char *value;
} env_var;

/* bk_cfg_lookup takes no context: the environment of the case being run. */
static const env_var *test_env;

static const char *lookup(const char *name)
{
    for (size_t k = 0; test_env != NULL && k < MAX_ENV && test_env[k].name != NULL; k++) {
        if (strcmp(test_env[k].name, name) == 0) {
            return test_env[k].value;
        }
    }
    return NULL;
}

static int load(const env_var *env, bk_cfg *cfg, bk_err *err)
{
    test_env = env;
    bk_err_clear(err);
    int rc = bk_cfg_load(cfg, lookup, err);
    test_env = NULL;
    return rc;
}

#define INT_AT(cfg, offset) (*(const int *)(const void *)((const char *)(cfg) + (offset)))
#define STR_AT(cfg, offset) ((const char *)(cfg) + (offset))

/* The defaults when only the required secret is set. */
static void test_defaults(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t offset;
        int is_int;
        int want_int;
        const char *want_str;
    } cases[] = {
        {"BK_HTTP_ADDR", offsetof(bk_cfg, http_addr), 0, 0, "0.0.0.0"},
        {"BK_HTTP_PORT", offsetof(bk_cfg, http_port), 1, 8080, NULL},
        {"BK_HTTP_THREADS", offsetof(bk_cfg, http_threads), 1, 2, NULL},
        {"BK_HTTP_MAX_CONNS", offsetof(bk_cfg, http_max_conns), 1, 16384, NULL},
        {"BK_HTTP_CONN_TIMEOUT_S", offsetof(bk_cfg, http_conn_timeout_s), 1, 30, NULL},
        {"BK_STATIC_DIR", offsetof(bk_cfg, static_dir), 0, 0, "frontend/dist"},
        {"BK_TICKETS_CACHE_MS", offsetof(bk_cfg, tickets_cache_ms), 1, 250, NULL},
        {"BK_MAX_QUANTITY", offsetof(bk_cfg, max_quantity), 1, 10, NULL},
        {"BK_KAFKA_BROKERS", offsetof(bk_cfg, kafka_brokers), 0, 0, "127.0.0.1:19092"},
        {"BK_KAFKA_TOPIC", offsetof(bk_cfg, kafka_topic), 0, 0, "bookings"},
        {"BK_GROUP_ID", offsetof(bk_cfg, group_id), 0, 0, "bk-processor"},
        {"BK_PRODUCE_TIMEOUT_MS", offsetof(bk_cfg, produce_timeout_ms), 1, 5000, NULL},
        {"BK_LINGER_MS", offsetof(bk_cfg, linger_ms), 1, 2, NULL},
        {"BK_BATCH_MAX", offsetof(bk_cfg, batch_max), 1, 500, NULL},
        {"BK_BATCH_WAIT_MS", offsetof(bk_cfg, batch_wait_ms), 1, 5, NULL},
        {"BK_PG_DSN", offsetof(bk_cfg, pg_dsn), 0, 0, "postgresql://booking:booking@127.0.0.1:54329/booking"},
        {"BK_ID_SECRET", offsetof(bk_cfg, id_secret), 0, 0, SECRET},
        {"BK_LOG_LEVEL", offsetof(bk_cfg, log_level), 1, BK_LOG_INFO, NULL},
    };
    static const env_var env[MAX_ENV] = {{"BK_ID_SECRET", SECRET}};
    bk_cfg cfg;
    bk_err err;
    memset(&cfg, 0x5a, sizeof(cfg));
    EXPECT_RC("defaults", load(env, &cfg, &err), BK_OK, &err);
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
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
    size_t offset;
    long min;
    long max;
} int_setting;

static const int_setting int_settings[] = {
    {"BK_HTTP_PORT", offsetof(bk_cfg, http_port), 1, 65535},
    {"BK_HTTP_THREADS", offsetof(bk_cfg, http_threads), 1, 64},
    {"BK_HTTP_MAX_CONNS", offsetof(bk_cfg, http_max_conns), 16, 1000000},
    {"BK_HTTP_CONN_TIMEOUT_S", offsetof(bk_cfg, http_conn_timeout_s), 1, 3600},
    {"BK_TICKETS_CACHE_MS", offsetof(bk_cfg, tickets_cache_ms), 0, 1000},
    {"BK_MAX_QUANTITY", offsetof(bk_cfg, max_quantity), 1, 1000},
    {"BK_PRODUCE_TIMEOUT_MS", offsetof(bk_cfg, produce_timeout_ms), 100, 300000},
    {"BK_LINGER_MS", offsetof(bk_cfg, linger_ms), 0, 1000},
    {"BK_BATCH_MAX", offsetof(bk_cfg, batch_max), 1, 10000},
    {"BK_BATCH_WAIT_MS", offsetof(bk_cfg, batch_wait_ms), 0, 10000},
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
            const env_var env[MAX_ENV] = {{"BK_ID_SECRET", SECRET}, {is->name, value}};
            bk_cfg cfg;
            bk_err err;

            EXPECT_RC(name, load(env, &cfg, &err), iv->want_rc, &err);
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
    env_var env[MAX_ENV];
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
        const env_var env[MAX_ENV] = {{"BK_ID_SECRET", SECRET}, {"BK_LOG_LEVEL", cases[k].value}};
        bk_cfg cfg;
        bk_err err;
        EXPECT_RC(name, load(env, &cfg, &err), BK_OK, &err);
        EXPECT_INT(name, "log_level", cfg.log_level, cases[k].want);
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
    static const env_var env[MAX_ENV] = {
        {"BK_ID_SECRET", SECRET},
        {"BK_PG_DSN", "postgresql://booking:pg-pass-word@127.0.0.1:54329/booking"},
    };
    bk_cfg cfg;
    bk_err err;
    EXPECT_RC("log", load(env, &cfg, &err), BK_OK, &err);

    FILE *capture = tmpfile();
    assert_non_null(capture);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
    bk_cfg_log(&cfg);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);

    char line[4096];
    rewind(capture);
    size_t n = fread(line, 1, sizeof(line) - 1, capture);
    line[n] = '\0';
    fclose(capture);

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
        cmocka_unit_test(test_log_masks_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
