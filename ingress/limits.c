/* Per-client state lives in a fixed open-addressing table keyed by IPv4 address; connections
 * are a list the deadline thread walks. One mutex guards both: every operation is a few loads. */
#include "ingress/limits.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/rate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_CLIENTS      (1 << 16)
#define PROBES         16
#define IDLE_CLIENT_MS 60000 /* a client with no connection, unseen this long, frees its slot */
#define SWEEP_MS       250
#define MAX_TRUSTED    16

typedef struct client {
    uint32_t addr; /* network order */
    int used;
    int n_conns;
    int64_t seen_ms;
    bk_rate bucket;
} client;

struct bk_limits_conn {
    int fd;
    uint32_t addr;
    int tracked; /* counted in a client slot */
    int busy;
    int cut;
    int64_t since_ms;
    bk_limits_conn *prev, *next;
};

struct bk_limits {
    const bk_cfg *cfg;
    uint32_t trusted_net[MAX_TRUSTED], trusted_mask[MAX_TRUSTED];
    int n_trusted;
    pthread_mutex_t lock;
    client *clients;
    bk_limits_conn *conns;
    size_t n_open;
    size_t n_peak;
    pthread_t thread;
    int thread_started;
    atomic_int stop;
};

static int parse_nets(bk_limits *limits, const char *list, bk_err *err)
{
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", list);
    char *save = NULL;
    for (char *item = strtok_r(copy, ", ", &save); item != NULL; item = strtok_r(NULL, ", ", &save)) {
        char *slash = strchr(item, '/');
        int bits = 32;
        if (slash != NULL) {
            *slash = '\0';
            bits = atoi(slash + 1);
        }
        struct in_addr net;
        if (limits->n_trusted == MAX_TRUSTED || inet_pton(AF_INET, item, &net) != 1 || bits < 0 || bits > 32) {
            return bk_err_set(err, BK_E_INVAL, "BK_TRUSTED_NETS: %s is not an IPv4 CIDR (at most %d)", item,
                              MAX_TRUSTED);
        }
        uint32_t mask = bits == 0 ? 0 : htonl(~(uint32_t)0 << (32 - bits));
        limits->trusted_net[limits->n_trusted] = net.s_addr & mask;
        limits->trusted_mask[limits->n_trusted++] = mask;
    }
    return BK_OK;
}

/* The client's IPv4 address, or 0 when exempt (trusted, or not IPv4). */
static uint32_t client_addr(const bk_limits *limits, const struct sockaddr *addr)
{
    if (addr == NULL || addr->sa_family != AF_INET) {
        return 0;
    }
    uint32_t a = ((const struct sockaddr_in *)(const void *)addr)->sin_addr.s_addr;
    for (int k = 0; k < limits->n_trusted; k++) {
        if ((a & limits->trusted_mask[k]) == limits->trusted_net[k]) {
            return 0;
        }
    }
    return a;
}

/* The client's slot (claimed if new), or NULL when the neighbourhood is full: then the client
 * goes unlimited rather than wrongly refused. Call with the lock held. */
static client *slot(bk_limits *limits, uint32_t addr, int64_t now)
{
    uint32_t h = (addr * 2654435761u) >> 16;
    client *spare = NULL;
    for (int k = 0; k < PROBES; k++) {
        client *c = &limits->clients[(h + (uint32_t)k) & (N_CLIENTS - 1)];
        if (c->used && c->addr == addr) {
            c->seen_ms = now;
            return c;
        }
        if (spare == NULL && (!c->used || (c->n_conns == 0 && now - c->seen_ms > IDLE_CLIENT_MS))) {
            spare = c;
        }
    }
    if (spare != NULL) {
        *spare = (client){.addr = addr, .used = 1, .seen_ms = now};
    }
    return spare;
}

static void *sweep(void *arg)
{
    bk_limits *limits = arg;
    int64_t timeout_ms = (int64_t)limits->cfg->request_timeout_s * 1000;
    while (!atomic_load(&limits->stop)) {
        nanosleep(&(struct timespec){.tv_nsec = SWEEP_MS * 1000000L}, NULL);
        int64_t now = bk_clock_mono_ms();
        int n_cut = 0;
        pthread_mutex_lock(&limits->lock);
        for (bk_limits_conn *c = limits->conns; c != NULL; c = c->next) {
            if (!c->busy && !c->cut && now - c->since_ms > timeout_ms) {
                /* shutdown, not close: libmicrohttpd owns the descriptor and sees the end of the
                 * stream; it cannot be reused meanwhile, as it is closed only after
                 * bk_limits_close has taken it off this list under the same lock. */
                shutdown(c->fd, SHUT_RDWR);
                c->cut = 1;
                n_cut++;
            }
        }
        pthread_mutex_unlock(&limits->lock);
        if (n_cut > 0) {
            bk_log_info("event=request_timeout connections_cut=%d timeout_s=%d", n_cut, limits->cfg->request_timeout_s);
        }
    }
    return NULL;
}

bk_limits *bk_limits_new(const bk_cfg *cfg, bk_err *err)
{
    bk_limits *limits = calloc(1, sizeof(*limits));
    if (limits == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_limits");
        return NULL;
    }
    limits->cfg = cfg;
    pthread_mutex_init(&limits->lock, NULL);
    limits->clients = calloc(N_CLIENTS, sizeof(*limits->clients));
    if (limits->clients == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc of %d client slots", N_CLIENTS);
        goto fail;
    }
    if (parse_nets(limits, cfg->trusted_nets, err) != BK_OK) {
        goto fail;
    }
    if (pthread_create(&limits->thread, NULL, sweep, limits) != 0) {
        bk_err_set(err, BK_E_IO, "pthread_create for the request deadline thread failed");
        goto fail;
    }
    limits->thread_started = 1;
    return limits;

fail:
    bk_limits_free(limits);
    return NULL;
}

void bk_limits_free(bk_limits *limits)
{
    if (limits == NULL) {
        return;
    }
    if (limits->thread_started) {
        atomic_store(&limits->stop, 1);
        pthread_join(limits->thread, NULL);
    }
    while (limits->conns != NULL) {
        bk_limits_conn *next = limits->conns->next;
        free(limits->conns);
        limits->conns = next;
    }
    free(limits->clients);
    pthread_mutex_destroy(&limits->lock);
    free(limits);
}

int bk_limits_accept(bk_limits *limits, const struct sockaddr *addr)
{
    uint32_t a = client_addr(limits, addr);
    if (a == 0 || limits->cfg->conns_per_client == 0) {
        return 1;
    }
    pthread_mutex_lock(&limits->lock);
    client *c = slot(limits, a, bk_clock_mono_ms());
    int ok = c == NULL || c->n_conns < limits->cfg->conns_per_client;
    pthread_mutex_unlock(&limits->lock);
    if (!ok) {
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, text, sizeof(text));
        bk_log_warn("event=connection_refused client=%s reason=per_client_cap cap=%d", text,
                    limits->cfg->conns_per_client);
    }
    return ok;
}

bk_limits_conn *bk_limits_open(bk_limits *limits, int fd, const struct sockaddr *addr)
{
    bk_limits_conn *conn = calloc(1, sizeof(*conn));
    if (conn == NULL) {
        return NULL; /* untracked: no deadline, not counted */
    }
    conn->fd = fd;
    conn->addr = client_addr(limits, addr);
    pthread_mutex_lock(&limits->lock);
    int64_t now = bk_clock_mono_ms();
    conn->since_ms = now;
    client *c = conn->addr != 0 ? slot(limits, conn->addr, now) : NULL;
    if (c != NULL) {
        c->n_conns++;
        conn->tracked = 1;
    }
    conn->next = limits->conns;
    if (limits->conns != NULL) {
        limits->conns->prev = conn;
    }
    limits->conns = conn;
    limits->n_open++;
    limits->n_peak = limits->n_open > limits->n_peak ? limits->n_open : limits->n_peak;
    pthread_mutex_unlock(&limits->lock);
    return conn;
}

void bk_limits_close(bk_limits *limits, bk_limits_conn *conn)
{
    if (conn == NULL) {
        return;
    }
    pthread_mutex_lock(&limits->lock);
    if (conn->tracked) {
        client *c = slot(limits, conn->addr, bk_clock_mono_ms());
        if (c != NULL && c->n_conns > 0) {
            c->n_conns--;
        }
    }
    if (conn->prev != NULL) {
        conn->prev->next = conn->next;
    } else {
        limits->conns = conn->next;
    }
    if (conn->next != NULL) {
        conn->next->prev = conn->prev;
    }
    limits->n_open--;
    pthread_mutex_unlock(&limits->lock);
    free(conn);
}

void bk_limits_busy(bk_limits *limits, bk_limits_conn *conn, int busy)
{
    if (conn == NULL) {
        return;
    }
    pthread_mutex_lock(&limits->lock);
    conn->busy = busy;
    conn->since_ms = bk_clock_mono_ms();
    pthread_mutex_unlock(&limits->lock);
}

void bk_limits_connections(bk_limits *limits, size_t *open, size_t *peak)
{
    pthread_mutex_lock(&limits->lock);
    *open = limits->n_open;
    *peak = limits->n_peak;
    pthread_mutex_unlock(&limits->lock);
}

int bk_limits_overloaded(bk_limits *limits)
{
    pthread_mutex_lock(&limits->lock);
    int over = limits->n_open > (size_t)limits->cfg->http_max_conns;
    pthread_mutex_unlock(&limits->lock);
    return over;
}

int bk_limits_take(bk_limits *limits, const struct sockaddr *addr)
{
    uint32_t a = client_addr(limits, addr);
    if (a == 0 || limits->cfg->rate_per_s == 0) {
        return 0;
    }
    pthread_mutex_lock(&limits->lock);
    int64_t now = bk_clock_mono_ms();
    client *c = slot(limits, a, now);
    int wait = c != NULL ? bk_rate_take(&c->bucket, limits->cfg->rate_per_s, limits->cfg->rate_burst, now) : 0;
    pthread_mutex_unlock(&limits->lock);
    return wait;
}
