/* The engine's loop, on libcurl's socket interface and epoll: a wake-up costs the sockets that
 * are ready, not every connection (curl_multi_perform and curl_multi_poll walk all of them, which
 * at 1,024 connections made the load generator the busiest process of a benchmark). The slots are
 * split into shards of SHARD_SLOTS, each with its own multi handle and so its own connection
 * cache: libcurl looks for a reusable connection by walking every connection to the same host,
 * which with 10,000 connections in one cache cost more than the request. There are
 * `connections` slots, one reusable easy handle each; a slot carries
 * one request at a time, so there are never more transfers than connections and libcurl never
 * queues one behind another (a queued request would look slower than the server made it). Free
 * slots go to outcome polls first, then to POSTs that are due: a booking is followed to its end
 * before a new one starts, as a user with one browser tab would (closed loop). When the server
 * cannot keep up, POSTs start late; that lag is recorded and reported, never hidden. */
#include "tools/replay/engine.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#define RESP_MAX          8192 /* bytes of an answer kept; ours are a few hundred */
#define URL_MAX           512
#define POST_TIMEOUT_MS   30000  /* a POST waits at most BK_PRODUCE_TIMEOUT_MS (5 s) for the broker */
#define POLL_SLACK_MS     10000  /* a long-poll may take ?wait plus this */
#define POLL_RETRY_US     200000 /* back-off after a failed poll */
#define IDLE_WAIT_MS      50     /* longest epoll_wait when nothing is due */
#define MAX_EVENTS        256
#define SHARD_SLOTS       128
#define CONNECT_TIMEOUT_S 10L

typedef enum job { JOB_POST, JOB_POLL } job;

typedef struct shard {
    struct engine *e;
    CURLM *multi;
    uint32_t index;
    int64_t timer_us; /* when libcurl wants CURL_SOCKET_TIMEOUT, or -1 */
} shard;

typedef struct slot {
    CURL *easy;
    shard *shard;
    struct curl_slist *headers; /* owned: this POST's headers, when they differ from the shared ones */
    size_t rec;
    job kind;
    size_t resp_len;
    int resp_over; /* the answer was longer than RESP_MAX */
    char resp[RESP_MAX + 1];
    char url[URL_MAX];
} slot;

/* A poll that may start at not_before_us. */
typedef struct pending_poll {
    size_t rec;
    int64_t not_before_us;
} pending_poll;

typedef struct engine {
    const bk_engine_opts *opts;
    const bk_trace *trace;
    bk_engine_rec *recs;
    bk_engine_totals *totals;
    size_t n_recs;
    shard *shards;
    size_t n_shards;
    int epoll_fd;
    struct curl_slist *json_headers; /* shared by every POST without a key or own content type */
    slot *slots;
    size_t n_slots;
    size_t *free_slots; /* a stack of slot indices */
    size_t n_free;
    pending_poll *polls; /* FIFO ring; each record has at most one poll queued or running */
    size_t poll_head;
    size_t n_polls;
    size_t next_post;
    int64_t t0_us;
} engine;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t cpu_used_us(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return 0;
    }
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int64_t now_us(const engine *e)
{
    return mono_us() - e->t0_us;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    slot *s = arg;
    size_t len = size * nmemb;
    size_t room = RESP_MAX - s->resp_len;
    size_t take = len < room ? len : room;
    memcpy(s->resp + s->resp_len, data, take);
    s->resp_len += take;
    s->resp_over |= take < len;
    return len;
}

/* Reads "booking_id" and "status" from a JSON answer; absent fields stay "". */
static void parse_answer(slot *s, char *id, size_t id_len, char *status, size_t status_len)
{
    const char *id_path[] = {"booking_id", NULL}; /* yajl_tree_get takes const char ** */
    const char *status_path[] = {"status", NULL};
    id[0] = status[0] = '\0';
    if (s->resp_over) {
        return;
    }
    s->resp[s->resp_len] = '\0';
    yajl_val root = yajl_tree_parse(s->resp, NULL, 0);
    if (root == NULL) {
        return;
    }
    yajl_val v = yajl_tree_get(root, id_path, yajl_t_string);
    if (v != NULL) {
        snprintf(id, id_len, "%s", YAJL_GET_STRING(v));
    }
    v = yajl_tree_get(root, status_path, yajl_t_string);
    if (v != NULL) {
        snprintf(status, status_len, "%s", YAJL_GET_STRING(v));
    }
    yajl_tree_free(root);
}

static int outcome_of(const char *status)
{
    return strcmp(status, "confirmed") == 0  ? BK_VERIFY_CONFIRMED
           : strcmp(status, "rejected") == 0 ? BK_VERIFY_REJECTED
                                             : BK_VERIFY_NONE;
}

/* Records a final outcome; a different one later is a conflict, never an overwrite. */
static void set_outcome(bk_engine_rec *rec, int outcome, int64_t at_us)
{
    if (rec->outcome == BK_VERIFY_NONE) {
        rec->outcome = outcome;
        rec->final_us = at_us;
    } else if (rec->outcome != outcome) {
        rec->conflict = 1;
    }
}

static void queue_poll(engine *e, size_t rec, int64_t not_before_us)
{
    /* Capacity is n_recs: a record is queued at most once at a time. */
    size_t tail = (e->poll_head + e->n_polls) % e->n_recs;
    e->polls[tail] = (pending_poll){.rec = rec, .not_before_us = not_before_us};
    e->n_polls++;
}

static int start_transfer(slot *s, bk_err *err)
{
    s->resp_len = 0;
    s->resp_over = 0;
    CURLMcode mc = curl_multi_add_handle(s->shard->multi, s->easy);
    if (mc != CURLM_OK) {
        return bk_err_set(err, BK_E_IO, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
    }
    return BK_OK;
}

static int start_poll(engine *e, size_t rec, bk_err *err)
{
    slot *s = &e->slots[e->free_slots[--e->n_free]];
    s->kind = JOB_POLL;
    s->rec = rec;
    snprintf(s->url, sizeof(s->url), "%s/bookings/%s?wait=%d", e->opts->base_url, e->recs[rec].booking_id,
             e->opts->wait_ms);
    curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
    curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)(e->opts->wait_ms + POLL_SLACK_MS));
    e->recs[rec].n_polls++;
    e->totals->n_polls++;
    return start_transfer(s, err);
}

static int start_post(engine *e, size_t i, int64_t planned_us, int64_t now, bk_err *err)
{
    const bk_trace_req *req = bk_trace_at(e->trace, i);
    bk_engine_rec *rec = &e->recs[i];
    slot *s = &e->slots[e->free_slots[--e->n_free]];
    s->kind = JOB_POST;
    s->rec = i;
    s->headers = NULL;
    struct curl_slist *headers = e->json_headers;
    if (req->key[0] != '\0' || req->content_type != NULL) {
        char line[BK_TRACE_KEY_MAX + 128];
        snprintf(line, sizeof(line), "Content-Type: %s",
                 req->content_type != NULL ? req->content_type : "application/json");
        s->headers = curl_slist_append(NULL, line);
        if (s->headers != NULL && curl_slist_append(s->headers, "Expect:") == NULL) {
            curl_slist_free_all(s->headers);
            s->headers = NULL;
        }
        if (s->headers != NULL && req->key[0] != '\0') {
            snprintf(rec->key, sizeof(rec->key), "%s%s", e->opts->key_prefix, req->key);
            snprintf(line, sizeof(line), "Idempotency-Key: %s", rec->key);
            if (curl_slist_append(s->headers, line) == NULL) {
                curl_slist_free_all(s->headers);
                s->headers = NULL;
            }
        }
        if (s->headers == NULL) {
            e->free_slots[e->n_free++] = (size_t)(s - e->slots);
            return bk_err_set(err, BK_E_NOMEM, "headers of request %zu", i);
        }
        headers = s->headers;
    }
    snprintf(s->url, sizeof(s->url), "%s/book", e->opts->base_url);
    curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS);
    rec->planned_us = planned_us;
    rec->sent_us = now;
    if (e->totals->n_sent == 0) {
        e->totals->first_sent_us = now;
    }
    e->totals->last_sent_us = now;
    e->totals->n_sent++;
    return start_transfer(s, err);
}

/* When request i is due, in run microseconds. */
static int64_t due_us(const engine *e, size_t i)
{
    switch (e->opts->mode) {
    case BK_ENGINE_PACED:
        return bk_trace_at(e->trace, i)->at_ms * 1000;
    case BK_ENGINE_RATE:
        return (int64_t)((double)i * 1e6 / e->opts->max_rate);
    default:
        return 0;
    }
}

static int sending_over(const engine *e, int64_t now)
{
    return e->next_post >= e->n_recs || (e->opts->duration_ms > 0 && now >= e->opts->duration_ms * 1000);
}

/* How many slots may carry requests at now: all of them, or during --ramp a share growing with
 * time, so that thousands of connections do not all knock at once (the listen backlog would drop
 * their SYNs, and they would retry a second later). */
static size_t usable_slots(const engine *e, int64_t now)
{
    if (e->opts->ramp_ms <= 0 || now >= e->opts->ramp_ms * 1000) {
        return e->n_slots;
    }
    size_t n = (size_t)((double)e->n_slots * (double)now / ((double)e->opts->ramp_ms * 1000));
    return n > 0 ? n : 1;
}

/* Hands free slots to due polls first, then to due POSTs. */
static int start_jobs(engine *e, int64_t now, bk_err *err)
{
    int rc = BK_OK;
    while (rc == BK_OK && e->n_free > 0 && e->n_polls > 0 && e->polls[e->poll_head].not_before_us <= now) {
        size_t rec = e->polls[e->poll_head].rec;
        e->poll_head = (e->poll_head + 1) % e->n_recs;
        e->n_polls--;
        rc = start_poll(e, rec, err);
    }
    while (rc == BK_OK && e->n_free > 0 && !sending_over(e, now) && due_us(e, e->next_post) <= now &&
           e->n_slots - e->n_free < usable_slots(e, now)) {
        size_t i = e->next_post++;
        /* As fast as possible: a request is due when a connection is free, so it has no lag. */
        rc = start_post(e, i, e->opts->mode == BK_ENGINE_ASAP ? now : due_us(e, i), now, err);
    }
    return rc;
}

static void finish_post(engine *e, slot *s, CURLcode result, long code, int64_t now)
{
    bk_engine_rec *rec = &e->recs[s->rec];
    char status[32];
    rec->answered_us = now;
    rec->curl_code = (int)result;
    rec->status = result == CURLE_OK ? (int)code : 0;
    if (rec->status != 200 && rec->status != 202) {
        return;
    }
    parse_answer(s, rec->booking_id, sizeof(rec->booking_id), status, sizeof(status));
    if (rec->booking_id[0] == '\0') {
        return; /* verify reports a 2xx without an id */
    }
    int outcome = outcome_of(status);
    if (outcome != BK_VERIFY_NONE) {
        set_outcome(rec, outcome, now); /* a retry of a decided booking: 200 with the outcome */
    } else {
        queue_poll(e, s->rec, now);
    }
}

static void finish_poll(engine *e, slot *s, CURLcode result, long code, int64_t now)
{
    bk_engine_rec *rec = &e->recs[s->rec];
    char id[BK_VERIFY_ID_MAX], status[32];
    rec->last_poll_status = result == CURLE_OK ? (int)code : 0;
    if (result != CURLE_OK || code != 200) {
        rec->n_poll_errors++;
        e->totals->n_poll_errors++;
        queue_poll(e, s->rec, now + POLL_RETRY_US);
        return;
    }
    parse_answer(s, id, sizeof(id), status, sizeof(status));
    int outcome = outcome_of(status);
    if (outcome != BK_VERIFY_NONE && strcmp(id, rec->booking_id) == 0) {
        set_outcome(rec, outcome, now);
    } else if (strcmp(status, "pending") == 0) {
        queue_poll(e, s->rec, now); /* the long-poll ran out: ask again */
    } else {
        rec->n_poll_errors++;
        e->totals->n_poll_errors++;
        queue_poll(e, s->rec, now + POLL_RETRY_US);
    }
}

static void drain_shard(engine *e, shard *sh)
{
    int left = 0;
    for (CURLMsg *msg = curl_multi_info_read(sh->multi, &left); msg != NULL;
         msg = curl_multi_info_read(sh->multi, &left)) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        slot *s = NULL;
        long code = 0, n_connects = 0;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &n_connects);
        curl_multi_remove_handle(sh->multi, easy);
        e->totals->n_connects += (size_t)n_connects;
        int64_t now = now_us(e);
        if (s->kind == JOB_POST) {
            finish_post(e, s, result, code, now);
            curl_slist_free_all(s->headers);
            s->headers = NULL;
        } else {
            finish_poll(e, s, result, code, now);
        }
        e->free_slots[e->n_free++] = (size_t)(s - e->slots);
    }
}

static void drain_done(engine *e)
{
    for (size_t k = 0; k < e->n_shards; k++) {
        drain_shard(e, &e->shards[k]);
    }
}

/* How long epoll_wait may sleep: until libcurl's timer, or the next POST or retry is due, at most
 * IDLE_WAIT_MS. */
static int idle_ms(const engine *e, int64_t now)
{
    int64_t next = now + IDLE_WAIT_MS * 1000;
    if (e->n_free > 0) {
        if (e->n_polls > 0 && e->polls[e->poll_head].not_before_us < next) {
            next = e->polls[e->poll_head].not_before_us;
        }
        if (!sending_over(e, now) && e->n_slots - e->n_free >= usable_slots(e, now)) {
            next = next < now + 1000 ? next : now + 1000; /* ramping up: another slot soon */
        } else if (!sending_over(e, now) && due_us(e, e->next_post) < next) {
            next = due_us(e, e->next_post);
        }
    }
    if (e->opts->duration_ms > 0 && e->opts->duration_ms * 1000 > now && e->opts->duration_ms * 1000 < next) {
        next = e->opts->duration_ms * 1000;
    }
    for (size_t k = 0; k < e->n_shards; k++) {
        if (e->shards[k].timer_us >= 0 && e->shards[k].timer_us < next) {
            next = e->shards[k].timer_us;
        }
    }
    int64_t wait = (next - now + 999) / 1000;
    return wait < 0 ? 0 : (int)wait;
}

static void print_progress(const engine *e, int64_t now)
{
    size_t n_final = 0, n_accepted = 0;
    for (size_t k = 0; k < e->n_recs; k++) {
        n_final += e->recs[k].outcome != BK_VERIFY_NONE;
        n_accepted += e->recs[k].status == 202;
    }
    fprintf(stderr, "bk-replay: t=%.1fs sent=%zu accepted=%zu final=%zu in_flight=%zu polls_queued=%zu\n",
            (double)now / 1e6, e->totals->n_sent, n_accepted, n_final, e->n_slots - e->n_free, e->n_polls);
}

/* libcurl tells which events a socket waits for; epoll watches exactly those. The event carries
 * the shard in its upper half and the socket in its lower. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socket_arg)
{
    (void)easy;
    shard *sh = arg;
    struct epoll_event ev = {.data.u64 = (uint64_t)sh->index << 32 | (uint32_t)fd};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(sh->e->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(sh->multi, fd, NULL);
    } else if (socket_arg == NULL) {
        epoll_ctl(sh->e->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
        curl_multi_assign(sh->multi, fd, sh); /* any non-NULL mark: "registered" */
    } else {
        epoll_ctl(sh->e->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    (void)multi;
    shard *sh = arg;
    sh->timer_us = timeout_ms < 0 ? -1 : now_us(sh->e) + (int64_t)timeout_ms * 1000;
    return 0;
}

/* One round: wait for ready sockets or the next deadline, let libcurl act on them. */
static CURLMcode serve(engine *e)
{
    struct epoll_event events[MAX_EVENTS];
    int running = 0;
    int n = epoll_wait(e->epoll_fd, events, MAX_EVENTS, idle_ms(e, now_us(e)));
    CURLMcode mc = CURLM_OK;
    for (int k = 0; mc == CURLM_OK && k < n; k++) {
        int mask = (events[k].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                   (events[k].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                   (events[k].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        shard *sh = &e->shards[events[k].data.u64 >> 32];
        mc = curl_multi_socket_action(sh->multi, (curl_socket_t)(uint32_t)events[k].data.u64, mask, &running);
    }
    int64_t now = now_us(e);
    for (size_t k = 0; mc == CURLM_OK && k < e->n_shards; k++) {
        shard *sh = &e->shards[k];
        if (sh->timer_us >= 0 && now >= sh->timer_us) {
            sh->timer_us = -1;
            mc = curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
    }
    return mc;
}

static int setup(engine *e, bk_err *err)
{
    e->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epoll_fd < 0) {
        return bk_err_set(err, BK_E_IO, "epoll_create1 failed");
    }
    e->n_shards = (e->n_slots + SHARD_SLOTS - 1) / SHARD_SLOTS;
    e->shards = calloc(e->n_shards, sizeof(*e->shards));
    e->slots = calloc(e->n_slots, sizeof(*e->slots));
    e->free_slots = calloc(e->n_slots, sizeof(*e->free_slots));
    e->polls = calloc(e->n_recs, sizeof(*e->polls));
    e->json_headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (e->json_headers != NULL && curl_slist_append(e->json_headers, "Expect:") == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "shared headers");
    }
    if (e->shards == NULL || e->slots == NULL || e->free_slots == NULL || e->polls == NULL || e->json_headers == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "engine of %zu slots and %zu requests", e->n_slots, e->n_recs);
    }
    for (size_t k = 0; k < e->n_shards; k++) {
        shard *sh = &e->shards[k];
        *sh = (shard){.e = e, .multi = curl_multi_init(), .index = (uint32_t)k, .timer_us = -1};
        if (sh->multi == NULL) {
            return bk_err_set(err, BK_E_NOMEM, "curl_multi_init of shard %zu", k);
        }
        curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
        curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
        /* Keep every connection open between requests. */
        curl_multi_setopt(sh->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)SHARD_SLOTS);
        curl_multi_setopt(sh->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)SHARD_SLOTS);
        curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, (long)SHARD_SLOTS);
    }
    for (size_t k = 0; k < e->n_slots; k++) {
        slot *s = &e->slots[k];
        s->shard = &e->shards[k / SHARD_SLOTS];
        s->easy = curl_easy_init();
        if (s->easy == NULL) {
            return bk_err_set(err, BK_E_NOMEM, "curl_easy_init of slot %zu", k);
        }
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
        curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        e->free_slots[e->n_free++] = k;
    }
    return BK_OK;
}

static void teardown(engine *e)
{
    for (size_t k = 0; e->slots != NULL && k < e->n_slots; k++) {
        slot *s = &e->slots[k];
        if (s->easy != NULL) {
            curl_multi_remove_handle(s->shard->multi, s->easy); /* harmless when not added */
            curl_easy_cleanup(s->easy);
        }
        curl_slist_free_all(s->headers);
    }
    for (size_t k = 0; e->shards != NULL && k < e->n_shards; k++) {
        if (e->shards[k].multi != NULL) {
            curl_multi_cleanup(e->shards[k].multi);
        }
    }
    free(e->shards);
    if (e->epoll_fd >= 0) {
        close(e->epoll_fd);
    }
    curl_slist_free_all(e->json_headers);
    free(e->slots);
    free(e->free_slots);
    free(e->polls);
}

int bk_engine_run(const bk_engine_opts *opts, const bk_trace *trace, bk_engine_rec *recs, bk_engine_totals *totals,
                  bk_err *err)
{
    engine e = {
        .opts = opts, .trace = trace, .recs = recs, .totals = totals, .n_recs = bk_trace_count(trace), .epoll_fd = -1};
    e.n_slots = (size_t)(opts->connections > 0 ? opts->connections : 1);
    memset(totals, 0, sizeof(*totals));
    totals->first_sent_us = totals->last_sent_us = -1;
    for (size_t k = 0; k < e.n_recs; k++) {
        memset(&recs[k], 0, sizeof(recs[k]));
        recs[k].planned_us = recs[k].sent_us = recs[k].answered_us = recs[k].final_us = -1;
    }
    int rc = e.n_recs == 0 ? BK_OK : setup(&e, err);
    int64_t cpu0 = cpu_used_us();
    e.t0_us = mono_us();
    totals->wall_t0_ms = wall_ms();
    int64_t next_progress = 1000000;
    while (rc == BK_OK && e.n_recs > 0) {
        int64_t now = now_us(&e);
        if (*opts->stop) {
            totals->end = BK_ENGINE_SIGNAL;
            break;
        }
        if (now >= opts->timeout_ms * 1000) {
            totals->end = BK_ENGINE_TIMEOUT;
            break;
        }
        rc = start_jobs(&e, now, err);
        if (rc != BK_OK) {
            break;
        }
        if (e.n_free == e.n_slots && e.n_polls == 0 && sending_over(&e, now)) {
            totals->end = BK_ENGINE_DONE;
            break;
        }
        CURLMcode mc = serve(&e);
        drain_done(&e);
        if (mc != CURLM_OK) {
            rc = bk_err_set(err, BK_E_IO, "curl_multi: %s", curl_multi_strerror(mc));
            break;
        }
        if (opts->progress && now >= next_progress) {
            print_progress(&e, now);
            next_progress += 1000000;
        }
    }
    totals->elapsed_us = now_us(&e);
    totals->cpu_us = cpu_used_us() - cpu0;
    teardown(&e);
    return rc;
}
