/* Per-client state lives in a fixed open-addressing table keyed by IPv4 address, plus one shared
 * overflow slot; connections are a list the deadline thread walks. One mutex guards both: every
 * operation is a few loads. */
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

#define PROBES   16 /* slots a client may use: a neighbourhood of the table */
#define SWEEP_MS 250
#define MAX_NETS 16

typedef struct entry {
    uint32_t addr; /* network order */
    int used;
    int n_conns; /* a slot with connections is never given to another client */
    int64_t seen_ms;
    bk_rate bucket;
} entry;

struct bk_limits_conn {
    int fd;
    uint32_t addr;
    entry *slot; /* counted here; NULL: not counted (a configured proxy) */
    int busy;
    int cut;
    int64_t since_ms;
    bk_limits_conn *prev, *next;
};

typedef struct nets {
    uint32_t net[MAX_NETS], mask[MAX_NETS]; /* network order */
    int n;
} nets;

struct bk_limits {
    const bk_cfg *cfg;
    nets proxies;
    nets metrics;
    pthread_mutex_t lock;
    entry *clients;
    uint32_t mask;  /* slots - 1 */
    int shift;      /* 32 - log2(slots): the hash's top bits pick the home slot */
    entry overflow; /* shared by clients that find every slot they may use holding connections */
    bk_limits_conn *conns;
    size_t n_open;
    size_t n_peak;
    pthread_t thread;
    int thread_started;
    atomic_int stop;
};

static int parse_nets(nets *out, const char *name, const char *list, bk_err *err)
{
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", list);
    char *save = NULL;
    for (char *item = strtok_r(copy, ", ", &save); item != NULL; item = strtok_r(NULL, ", ", &save)) {
        char *slash = strchr(item, '/');
        int bits = 32;
        if (slash != NULL) {
            *slash = '\0';
            char *end = NULL;
            long v = strtol(slash + 1, &end, 10);
            bits = end != slash + 1 && *end == '\0' && v >= 0 && v <= 32 ? (int)v : -1;
        }
        struct in_addr net;
        if (out->n == MAX_NETS || inet_pton(AF_INET, item, &net) != 1 || bits < 0) {
            return bk_err_set(err, BK_E_INVAL, "%s: %s is not an IPv4 CIDR (at most %d)", name, item, MAX_NETS);
        }
        uint32_t mask = bits == 0 ? 0 : htonl(~(uint32_t)0 << (32 - bits));
        out->net[out->n] = net.s_addr & mask;
        out->mask[out->n++] = mask;
    }
    return BK_OK;
}

static int in_nets(const nets *list, uint32_t addr)
{
    for (int k = 0; k < list->n; k++) {
        if ((addr & list->mask[k]) == list->net[k]) {
            return 1;
        }
    }
    return 0;
}

/* The peer's IPv4 address; 0 (one shared client) for anything else. */
static uint32_t peer_addr(const struct sockaddr *peer)
{
    if (peer == NULL || peer->sa_family != AF_INET) {
        return 0;
    }
    return ((const struct sockaddr_in *)(const void *)peer)->sin_addr.s_addr;
}

/* The client's slot: its own, else a free one, else the stalest slot without connections in its
 * neighbourhood (that client starts afresh when it comes back), else the shared overflow slot.
 * Never NULL: a client always meets some limit. Call with the lock held. */
static entry *slot(bk_limits *limits, uint32_t addr, int64_t now)
{
    uint32_t home = (uint32_t)(addr * 2654435761u) >> limits->shift;
    int probes = limits->mask + 1 < PROBES ? (int)limits->mask + 1 : PROBES;
    entry *spare = NULL;
    for (int k = 0; k < probes; k++) {
        entry *c = &limits->clients[(home + (uint32_t)k) & limits->mask];
        if (c->used && c->addr == addr) {
            c->seen_ms = now;
            return c;
        }
        if (!c->used) {
            if (spare == NULL || spare->used) {
                spare = c;
            }
        } else if (c->n_conns == 0 && (spare == NULL || (spare->used && c->seen_ms < spare->seen_ms))) {
            spare = c;
        }
    }
    if (spare == NULL) {
        limits->overflow.seen_ms = now;
        return &limits->overflow;
    }
    *spare = (entry){.addr = addr, .used = 1, .seen_ms = now};
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
    uint32_t n_slots = 1;
    limits->shift = 32;
    while (n_slots < (uint32_t)cfg->client_slots) {
        n_slots *= 2;
        limits->shift--;
    }
    limits->mask = n_slots - 1;
    limits->overflow.used = 1;
    limits->clients = calloc(n_slots, sizeof(*limits->clients));
    if (limits->clients == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc of %u client slots", n_slots);
        goto fail;
    }
    if (parse_nets(&limits->proxies, "BK_TRUSTED_PROXIES", cfg->trusted_proxies, err) != BK_OK ||
        parse_nets(&limits->metrics, "BK_METRICS_ALLOW", cfg->metrics_allow, err) != BK_OK) {
        goto fail;
    }
    int rc = pthread_create(&limits->thread, NULL, sweep, limits);
    if (rc != 0) {
        char msg[128];
        strerror_r(rc, msg, sizeof(msg));
        bk_err_set(err, BK_E_IO, "pthread_create for the request deadline thread failed: %s", msg);
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

bool bk_limits_allow(bk_limits *limits, const struct sockaddr *peer)
{
    uint32_t a = peer_addr(peer);
    if (limits->cfg->conns_per_client == 0 || in_nets(&limits->proxies, a)) {
        return true;
    }
    pthread_mutex_lock(&limits->lock);
    entry *c = slot(limits, a, bk_clock_mono_ms());
    bool ok = c->n_conns < limits->cfg->conns_per_client;
    int shared = c == &limits->overflow;
    pthread_mutex_unlock(&limits->lock);
    if (!ok) {
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, text, sizeof(text));
        bk_log_warn("event=connection_refused client=%s reason=per_client_cap cap=%d shared=%d", text,
                    limits->cfg->conns_per_client, shared);
    }
    return ok;
}

bk_limits_conn *bk_limits_open(bk_limits *limits, int fd, const struct sockaddr *peer)
{
    bk_limits_conn *conn = calloc(1, sizeof(*conn));
    if (conn == NULL) {
        return NULL; /* untracked: no deadline, not counted */
    }
    conn->fd = fd;
    conn->addr = peer_addr(peer);
    pthread_mutex_lock(&limits->lock);
    int64_t now = bk_clock_mono_ms();
    conn->since_ms = now;
    if (!in_nets(&limits->proxies, conn->addr)) {
        conn->slot = slot(limits, conn->addr, now);
        conn->slot->n_conns++;
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
    /* The slot is still this client's: a slot with connections is never reassigned. */
    if (conn->slot != NULL && conn->slot->n_conns > 0) {
        conn->slot->n_conns--;
        conn->slot->seen_ms = bk_clock_mono_ms();
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

/* Walks one X-Forwarded-For value from the right. Returns 1 with *client set when an address that
 * is not a proxy was found, or the walk must end (a value that is not an IPv4 address); 0 to go on
 * with the previous header. */
static int walk_forwarded(const nets *proxies, const char *value, uint32_t *client)
{
    size_t end = strlen(value);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && value[start - 1] != ',') {
            start--;
        }
        size_t from = start, to = end;
        while (from < to && (value[from] == ' ' || value[from] == '\t')) {
            from++;
        }
        while (to > from && (value[to - 1] == ' ' || value[to - 1] == '\t')) {
            to--;
        }
        char text[INET_ADDRSTRLEN];
        struct in_addr addr;
        if (to - from >= sizeof(text)) {
            return 1;
        }
        memcpy(text, value + from, to - from);
        text[to - from] = '\0';
        if (inet_pton(AF_INET, text, &addr) != 1) {
            return 1;
        }
        *client = addr.s_addr;
        if (!in_nets(proxies, addr.s_addr)) {
            return 1;
        }
        end = start > 0 ? start - 1 : 0;
    }
    return 0;
}

uint32_t bk_limits_client(const bk_limits *limits, const struct sockaddr *peer, const char *const *forwarded,
                          size_t n_forwarded)
{
    uint32_t client = peer_addr(peer);
    if (!in_nets(&limits->proxies, client)) {
        return client;
    }
    for (size_t k = n_forwarded; k > 0; k--) {
        if (walk_forwarded(&limits->proxies, forwarded[k - 1], &client)) {
            break;
        }
    }
    return client;
}

int bk_limits_metrics_allowed(const bk_limits *limits, uint32_t client)
{
    return in_nets(&limits->metrics, client);
}

int bk_limits_take(bk_limits *limits, uint32_t client)
{
    if (limits->cfg->rate_per_s == 0) {
        return 0;
    }
    pthread_mutex_lock(&limits->lock);
    int64_t now = bk_clock_mono_ms();
    entry *c = slot(limits, client, now);
    int wait = bk_rate_take(&c->bucket, limits->cfg->rate_per_s, limits->cfg->rate_burst, now);
    pthread_mutex_unlock(&limits->lock);
    return wait;
}
