/* Unit tests of ingress/limits: the per-client table never fails open (more clients than it has
 * slots still each meet their rate and connection limits, or a stricter shared one, never none),
 * X-Forwarded-For names the client only behind a configured proxy, and /metrics is for the
 * configured clients only. */
#include "unit.h"

#include "common/cfg.h"
#include "ingress/limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#define N_CLIENTS 70000 /* more than any table size under test */

static void load_cfg(const unit_env_var *env, bk_cfg *cfg)
{
    bk_err err;
    int rc = unit_cfg_load(BK_CFG_INGRESS, env, cfg, &err);
    EXPECT_RC("config", rc, BK_OK, &err);
}

/* The limits of the ingress configured by env; cfg (which they keep) must outlive them. */
static bk_limits *new_limits(const unit_env_var *env, bk_cfg *cfg)
{
    load_cfg(env, cfg);
    bk_limits *limits = bk_limits_new(cfg, NULL);
    assert_non_null(limits);
    return limits;
}

/* Client k: 10.x.y.z, all distinct. */
static struct sockaddr_in client(uint32_t k)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(0x0a000000u + k + 1);
    return addr;
}

static void test_full_table_keeps_rate_limits(void **state)
{
    (void)state;
    static const unit_env_var env[] = {{"BK_ID_SECRET", "unit-test-secret-0123456789"},
                                       {"BK_RATE_PER_S", "1"},
                                       {"BK_RATE_BURST", "1"},
                                       {"BK_CLIENT_SLOTS", "64"},
                                       {NULL, NULL}};
    bk_cfg cfg;
    bk_limits *limits = new_limits(env, &cfg);
    int n_open = 0;
    for (uint32_t k = 0; k < N_CLIENTS; k++) {
        struct sockaddr_in addr = client(k);
        (void)bk_limits_take(limits, addr.sin_addr.s_addr); /* the burst: allowed, or shared */
        if (bk_limits_take(limits, addr.sin_addr.s_addr) == 0) {
            n_open++;
        }
    }
    bk_limits_free(limits);
    EXPECT_INT("70,000 clients, burst 1", "clients allowed a second request at once", n_open, 0);
}

static void test_full_table_keeps_connection_caps(void **state)
{
    (void)state;
    static const unit_env_var env[] = {{"BK_ID_SECRET", "unit-test-secret-0123456789"},
                                       {"BK_CONNS_PER_CLIENT", "1"},
                                       {"BK_CLIENT_SLOTS", "64"},
                                       {NULL, NULL}};
    bk_cfg cfg;
    bk_limits *limits = new_limits(env, &cfg);
    bk_limits_conn **conns = calloc(N_CLIENTS, sizeof(*conns));
    assert_non_null(conns);
    int n_over = 0;
    for (uint32_t k = 0; k < N_CLIENTS; k++) {
        struct sockaddr_in addr = client(k);
        if (bk_limits_allow(limits, (const struct sockaddr *)&addr)) {
            conns[k] = bk_limits_open(limits, -1, (const struct sockaddr *)&addr);
        }
        /* Holding one connection (or sharing a full overflow): a second is refused. */
        n_over += bk_limits_allow(limits, (const struct sockaddr *)&addr);
    }
    for (uint32_t k = 0; k < N_CLIENTS; k++) {
        bk_limits_close(limits, conns[k]);
    }
    size_t open = 0, peak = 0;
    bk_limits_connections(limits, &open, &peak);
    EXPECT_INT("70,000 clients, cap 1", "connections still counted open", open, 0);
    struct sockaddr_in addr = client(1);
    EXPECT_INT("after every close", "a client may connect again",
               bk_limits_allow(limits, (const struct sockaddr *)&addr), true);
    free(conns);
    bk_limits_free(limits);
    EXPECT_INT("70,000 clients, cap 1", "clients allowed a second connection", n_over, 0);
}

static uint32_t ip(const char *text)
{
    struct in_addr addr;
    assert_int_equal(inet_pton(AF_INET, text, &addr), 1);
    return addr.s_addr;
}

typedef struct forwarded_case {
    const char *name;
    const char *peer;
    const char *headers[3]; /* X-Forwarded-For values in the order received; NULL ends */
    const char *want;
} forwarded_case;

/* Proxies: 10.0.0.0/8 and 192.168.1.1. */
static const forwarded_case forwarded_cases[] = {
    {"no header, untrusted peer", "203.0.113.1", {NULL}, "203.0.113.1"},
    {"header from an untrusted peer is ignored", "203.0.113.1", {"198.51.100.7", NULL}, "203.0.113.1"},
    {"loopback is no proxy unless configured", "127.0.0.1", {"198.51.100.7", NULL}, "127.0.0.1"},
    {"proxy without a header: the proxy", "10.1.2.3", {NULL}, "10.1.2.3"},
    {"proxy: the address it appended", "10.1.2.3", {"198.51.100.7", NULL}, "198.51.100.7"},
    {"the client's own entries on the left are not believed",
     "10.1.2.3",
     {"1.2.3.4, 198.51.100.7", NULL},
     "198.51.100.7"},
    {"a chain of proxies is skipped from the right",
     "192.168.1.1",
     {"198.51.100.7, 10.9.9.9,10.0.0.1", NULL},
     "198.51.100.7"},
    {"a forged proxy address left of the client does not help",
     "10.1.2.3",
     {"10.0.0.5, 198.51.100.7", NULL},
     "198.51.100.7"},
    {"only proxies: the leftmost", "10.1.2.3", {"10.0.0.5, 10.0.0.6", NULL}, "10.0.0.5"},
    {"a second header (HAProxy appends its own): the last counts",
     "10.1.2.3",
     {"1.2.3.4", "198.51.100.7", NULL},
     "198.51.100.7"},
    {"the walk goes on into the previous header", "10.1.2.3", {"198.51.100.7", "10.0.0.8", NULL}, "198.51.100.7"},
    {"garbage ends the walk at the last proxy", "10.1.2.3", {"198.51.100.7, unknown", NULL}, "10.1.2.3"},
    {"IPv6 ends the walk at the last proxy", "10.1.2.3", {"2001:db8::1, 10.0.0.8", NULL}, "10.0.0.8"},
    {"blanks and tabs around entries", "10.1.2.3", {" 198.51.100.7 ,\t10.0.0.8\t", NULL}, "198.51.100.7"},
    {"empty header: the proxy", "10.1.2.3", {"", NULL}, "10.1.2.3"},
    {"a port is not an address", "10.1.2.3", {"198.51.100.7:4711", NULL}, "10.1.2.3"},
    {"a too long entry", "10.1.2.3", {"198.51.100.7.198.51.100.7.198.51", NULL}, "10.1.2.3"},
};

static void test_forwarded_for(void **state)
{
    (void)state;
    static const unit_env_var env[] = {{"BK_ID_SECRET", "unit-test-secret-0123456789"},
                                       {"BK_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"},
                                       {NULL, NULL}};
    bk_cfg cfg;
    bk_limits *limits = new_limits(env, &cfg);
    for (size_t k = 0; k < N_ELEMS(forwarded_cases); k++) {
        const forwarded_case *c = &forwarded_cases[k];
        size_t n = 0;
        while (n < N_ELEMS(c->headers) && c->headers[n] != NULL) {
            n++;
        }
        struct sockaddr_in peer = {.sin_family = AF_INET};
        peer.sin_addr.s_addr = ip(c->peer);
        uint32_t got = bk_limits_client(limits, (const struct sockaddr *)&peer, c->headers, n);
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &got, text, sizeof(text));
        EXPECT_STR(c->name, "client", text, c->want);
    }
    bk_limits_free(limits);
}

static void test_metrics_allowed(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *allow; /* NULL: the default */
        const char *client;
        int want;
    } cases[] = {
        {"default: loopback", NULL, "127.0.0.1", 1},
        {"default: all of 127/8", NULL, "127.1.2.3", 1},
        {"default: another host", NULL, "192.0.2.2", 0},
        {"default: a forwarded client", NULL, "203.0.113.20", 0},
        {"configured host", "127.0.0.0/8,192.0.2.2", "192.0.2.2", 1},
        {"configured host's neighbour", "127.0.0.0/8,192.0.2.2", "192.0.2.3", 0},
        {"configured network", "10.0.0.0/8", "10.200.0.1", 1},
        {"empty: nobody", "", "127.0.0.1", 0},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        unit_env_var env[] = {
            {"BK_ID_SECRET", "unit-test-secret-0123456789"}, {"BK_METRICS_ALLOW", cases[k].allow}, {NULL, NULL}};
        if (cases[k].allow == NULL) {
            env[1] = env[2];
        }
        bk_cfg cfg;
        bk_limits *limits = new_limits(env, &cfg);
        EXPECT_INT(cases[k].name, "allowed", bk_limits_metrics_allowed(limits, ip(cases[k].client)), cases[k].want);
        bk_limits_free(limits);
    }
}

static void test_bad_networks_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0", "::1", "localhost"};
    for (size_t k = 0; k < N_ELEMS(bad); k++) {
        const unit_env_var env[] = {
            {"BK_ID_SECRET", "unit-test-secret-0123456789"}, {"BK_TRUSTED_PROXIES", bad[k]}, {NULL, NULL}};
        bk_cfg cfg;
        load_cfg(env, &cfg);
        bk_err err;
        bk_err_clear(&err);
        bk_limits *limits = bk_limits_new(&cfg, &err);
        EXPECT_TRUE(bad[k], "refused", limits == NULL);
        EXPECT_CONTAINS(bad[k], "err.msg", err.msg, "BK_TRUSTED_PROXIES");
        bk_limits_free(limits);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_table_keeps_rate_limits),
        cmocka_unit_test(test_full_table_keeps_connection_caps),
        cmocka_unit_test(test_forwarded_for),
        cmocka_unit_test(test_metrics_allowed),
        cmocka_unit_test(test_bad_networks_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
