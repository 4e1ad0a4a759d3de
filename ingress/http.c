/* Routing and the request state machine. Per-request state lives in *req_cls from the first
 * callback, collects the body, is handled when *upload_data_size == 0, and is freed only in the
 * completed callback. The publisher and the watch threads finish a suspended request by filling
 * its outcome and calling MHD_resume_connection; the handler then queues the answer. */
#include "ingress/http.h"

#include "common/booking.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/req.h"
#include "common/metrics_http.h"
#include "ingress/edge.h"
#include "ingress/files.h"
#include "ingress/reply.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* BK_HTTP_MAX_CONNS is the soft limit, answered with 503; libmicrohttpd refuses past this margin. */
#define HARD_LIMIT_MARGIN 1024
#define DRAIN_MS          2000
/* The 413 message, built from the limit itself. */
#define TEXT_OF(n) #n
#define TEXT(n)    TEXT_OF(n)
#define TOO_LARGE  "body is larger than " TEXT(BK_BOOKING_BODY_MAX) " bytes"

struct bk_http {
    const bk_cfg *cfg;
    const bk_id_key *key;
    const bk_tier_catalogue *tiers;
    struct MHD_Daemon *daemon;
    bk_pub *pub;
    bk_watch *watch;
    bk_health *health;
    bk_tickets *tickets;
    bk_recent *recent;
    bk_istats *stats;
    bk_limits *limits;
    bk_claims *claims;
    char cors[8][128]; /* BK_CORS_ORIGINS, split */
    int n_cors;
    pthread_key_t db_key; /* each HTTP thread's own bk_db */
    int db_key_created;
    int closed; /* bk_http_close ran */
    /* The shutdown gate (see bk_http_close): handlers that may touch the publisher, the watch or the
     * health monitor run between gate_enter and gate_leave; once draining is set, none starts. */
    atomic_int draining;
    atomic_int in_gate;
};

/* How a suspended request ended, set by another thread before it resumes the connection. */
typedef enum outcome {
    O_NONE,        /* not suspended yet */
    O_WAITING,     /* suspended: publishing, or waiting for the outcome */
    O_ACCEPTED,    /* the broker acknowledged; not decided within ?wait */
    O_UNAVAILABLE, /* the broker did not acknowledge: nothing promised */
    O_DECIDED,     /* the booking is final */
    O_PENDING,     /* GET ?wait ran out while pending */
} outcome;

typedef struct request {
    bk_http *http;
    struct MHD_Connection *conn;
    bk_route route;
    bk_reply_ctx reply;     /* CORS origin in, status queued out */
    bk_limits_conn *limits; /* this connection's limits state (MHD socket context) */
    int64_t started_us;     /* headers received */
    int64_t published_us;   /* handed to the producer */
    int64_t accepted_ms;    /* wall clock when accepted: the booking's created_at */
    outcome outcome;
    int maybe_persisted; /* O_UNAVAILABLE, but the broker may have written the booking */
    int wait_ms;
    bk_booking booking; /* pending as published, or final as decided */
    size_t body_len;
    int body_too_big;
    char body[BK_BOOKING_BODY_MAX];
} request;

/* The *req_cls of a request whose line was answered before its headers arrived. */
static request refused_line;

/* This HTTP thread's database handle, or NULL while the health monitor knows the database is away
 * (the reads then fail at once instead of each holding an HTTP thread for the timeout). */
static bk_db *thread_db(bk_http *http)
{
    bk_health_state health;
    bk_health_get(http->health, &health);
    if (!health.db_ok) {
        return NULL;
    }
    bk_db *db = pthread_getspecific(http->db_key);
    if (db == NULL) {
        db = bk_lookup_db_new(http->cfg->pg_dsn);
        pthread_setspecific(http->db_key, db);
    }
    return db;
}

static void free_thread_db(void *db)
{
    bk_db_free(db);
}

/* Sequentially consistent on both sides: either the handler sees draining and stays out, or
 * bk_http_close sees it inside and waits for it to leave. */
static int gate_enter(bk_http *http)
{
    atomic_fetch_add(&http->in_gate, 1);
    if (atomic_load(&http->draining)) {
        atomic_fetch_sub(&http->in_gate, 1);
        return 0;
    }
    return 1;
}

static void gate_leave(bk_http *http)
{
    atomic_fetch_sub(&http->in_gate, 1);
}

/* A request that arrives on a kept-alive connection while the ingress shuts down: nothing is
 * done, the client retries elsewhere, and the connection closes after this answer. */
static enum MHD_Result reply_draining(request *req)
{
    static const char body[] = "{\"error\":\"server shutting down, retry shortly\"}";
    static const char *const extra[] = {MHD_HTTP_HEADER_RETRY_AFTER, "1", MHD_HTTP_HEADER_CONNECTION, "close", NULL};
    return bk_reply_json(req->conn, &req->reply, 503, body, sizeof(body) - 1, extra);
}

const char *const bk_route_names[BK_ROUTE_COUNT] = {"health", "tickets", "book",   "booking",
                                                    "static", "metrics", "unknown"};

static bk_route route_of(const char *url)
{
    if (strcmp(url, "/health") == 0) {
        return BK_ROUTE_HEALTH;
    }
    if (strcmp(url, "/tickets") == 0) {
        return BK_ROUTE_TICKETS;
    }
    if (strcmp(url, "/book") == 0) {
        return BK_ROUTE_BOOK;
    }
    if (strcmp(url, "/metrics") == 0) {
        return BK_ROUTE_METRICS;
    }
    if (strncmp(url, "/bookings/", 10) == 0) {
        return BK_ROUTE_BOOKING;
    }
    if (strcmp(url, "/") == 0 || strncmp(url, "/assets/", 8) == 0 || strchr(url + 1, '/') == NULL) {
        return BK_ROUTE_STATIC;
    }
    return BK_ROUTE_UNKNOWN;
}

static int is_get(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/* Suspends the request until another thread calls finish(). Must run on the MHD thread, before
 * handing the request to that thread, so the resume can never precede the suspend. */
static void suspend(request *req)
{
    req->outcome = O_WAITING;
    MHD_suspend_connection(req->conn);
}

static void finish(request *req, outcome result)
{
    req->outcome = result;
    MHD_resume_connection(req->conn);
}

/* Hands the suspended req to the watch: bk_http_watched finishes it. If the outcome is known already,
 * or the watch cannot take it (then `otherwise`), finishes it at once. */
static void watch_outcome(bk_http *http, request *req, outcome otherwise)
{
    int decided = 0;
    bk_booking booking;
    if (bk_watch_add(http->watch, req->booking.booking_id, bk_clock_mono_ms() + req->wait_ms, req, &booking, &decided,
                     NULL) != BK_OK) {
        finish(req, otherwise);
    } else if (decided) {
        req->booking = booking;
        finish(req, O_DECIDED);
    }
}

/* Publisher thread: the broker acknowledged the booking, or gave up on it. A booking that may
 * nevertheless have been written is not put in the booking memory either way: the memory says
 * neither "pending" (that would promise it to a retry with its key) nor anything final, so
 * GET /bookings/{id} asks the database and answers pending until the processor decides it. */
void bk_http_published(void *opaque, bk_pub_result result, const char *reason)
{
    request *req = opaque;
    bk_http *http = req->http;
    const bk_booking *b = &req->booking;
    int ok = result == BK_PUB_DELIVERED;
    bk_istats_delivery(http->stats, ok, (double)(bk_clock_mono_us() - req->published_us) / 1e6);
    if (!ok) {
        req->maybe_persisted = result == BK_PUB_MAYBE;
        bk_log_warn("event=publish_failed booking=%s tier=%s maybe_persisted=%d reason=\"%s\"", b->booking_id,
                    b->tier->code, req->maybe_persisted, reason);
        finish(req, O_UNAVAILABLE);
        return;
    }
    bk_log_debug("event=booking_accepted booking=%s tier=%s quantity=%d", b->booking_id, b->tier->code, b->quantity);
    bk_recent_put_pending(http->recent, b->booking_id, b->tier, b->quantity,
                          b->customer[0] != '\0' ? b->customer : NULL, req->accepted_ms);
    if (req->wait_ms > 0) {
        watch_outcome(http, req, O_ACCEPTED);
    } else {
        finish(req, O_ACCEPTED);
    }
}

/* Watch thread: the booking was decided, or the wait ran out (booking NULL). */
void bk_http_watched(void *opaque, const bk_booking *booking)
{
    request *req = opaque;
    if (booking != NULL) {
        req->booking = *booking;
        finish(req, O_DECIDED);
    } else {
        finish(req, req->route == BK_ROUTE_BOOK ? O_ACCEPTED : O_PENDING);
    }
}

/* Suspends req until its booking is decided or ?wait runs out; if the watch cannot take it,
 * answers at once with `otherwise`. */
static enum MHD_Result wait_for_outcome(bk_http *http, request *req, outcome otherwise)
{
    suspend(req);
    watch_outcome(http, req, otherwise);
    return MHD_YES;
}

/* A request with an Idempotency-Key: the key's first request, a retry of it, or another request
 * (docs/api.md "Idempotency-Key"). Memory answers first where it can tell: an outcome, or this
 * ingress's own acceptance of the key a moment ago; otherwise the claim in PostgreSQL decides.
 * Returns 1 with *ret set when it answered, 0 when the request is to be published (first, or a
 * retry of a booking not decided yet: publishing again is safe, the processor keeps one). */
static int check_key(bk_http *http, request *req, const bk_book_req *book, const char *key, enum MHD_Result *ret)
{
    static const char other[] = "this Idempotency-Key was used for another request; send a new key with a new request";
    bk_err err;
    bk_err_clear(&err);
    bk_booking *b = &req->booking;
    if (bk_req_check_idem_key(key, &err) != BK_OK) {
        *ret = bk_reply_error(req->conn, &req->reply, 400, err.msg, err.field);
        return 1;
    }
    if (bk_id_from_idem_key(http->key, key, b->booking_id, &err) != BK_OK) {
        bk_log_error("event=id_failed msg=\"%s\"", err.msg);
        *ret = bk_reply_error(req->conn, &req->reply, 503, "cannot accept bookings right now", NULL);
        return 1;
    }
    bk_booking known;
    bk_recent_state state = bk_recent_get(http->recent, b->booking_id, &known);
    if (state == BK_RECENT_FINAL || state == BK_RECENT_PENDING) {
        if (!bk_claim_matches(book, &known)) {
            *ret = bk_reply_error(req->conn, &req->reply, 422, other, "Idempotency-Key");
        } else if (state == BK_RECENT_FINAL) {
            *ret = bk_reply_booking(req->conn, &req->reply, &known);
        } else {
            *b = known;
            *ret = req->wait_ms > 0 ? wait_for_outcome(http, req, O_ACCEPTED)
                                    : bk_reply_accepted(req->conn, &req->reply, b);
        }
        return 1;
    }

    char fingerprint[BK_ID_DIGEST_LEN + 1];
    bk_claim_verdict verdict = BK_CLAIM_OTHER;
    if (bk_claim_fingerprint(http->key, book, fingerprint, &err) != BK_OK ||
        bk_claims_claim(http->claims, b->booking_id, fingerprint, &verdict, &err) != BK_OK) {
        /* Without the claim a retry cannot be told from another request: promise nothing. */
        bk_log_warn("event=claim_failed booking=%s msg=\"%s\"", b->booking_id, err.msg);
        *ret = bk_reply_error(req->conn, &req->reply, 503, "cannot check the Idempotency-Key right now, retry shortly",
                              NULL);
        return 1;
    }
    if (verdict == BK_CLAIM_OTHER) {
        *ret = bk_reply_error(req->conn, &req->reply, 422, other, "Idempotency-Key");
        return 1;
    }
    int found = 0;
    if (verdict == BK_CLAIM_SAME &&
        bk_lookup_booking(thread_db(http), http->tiers, b->booking_id, &known, &found, &err) != BK_OK) {
        found = 0; /* not known to be decided: publishing again is safe, and the 202 true */
    }
    if (found) {
        /* A booking the claim did not cover (made before claims existed) is compared as it is. */
        *ret = bk_claim_matches(book, &known) ? bk_reply_booking(req->conn, &req->reply, &known)
                                              : bk_reply_error(req->conn, &req->reply, 422, other, "Idempotency-Key");
        return 1;
    }
    return 0;
}

static enum MHD_Result handle_book(bk_http *http, request *req)
{
    bk_err err;
    bk_err_clear(&err);
    bk_book_req book;
    if (req->body_too_big) {
        return bk_reply_error(req->conn, &req->reply, 413, TOO_LARGE, NULL);
    }
    if (bk_req_parse_book(http->tiers, req->body, req->body_len, http->cfg->max_quantity, &book, &err) != BK_OK) {
        return bk_reply_error(req->conn, &req->reply, 400, err.msg, err.field);
    }

    bk_booking *b = &req->booking;
    const char *key = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Idempotency-Key");
    enum MHD_Result ret = MHD_YES;
    if (key != NULL) {
        if (check_key(http, req, &book, key, &ret)) {
            return ret;
        }
    } else if (bk_id_random(http->key, b->booking_id, &err) != BK_OK) {
        bk_log_error("event=id_failed msg=\"%s\"", err.msg);
        return bk_reply_error(req->conn, &req->reply, 503, "cannot accept bookings right now", NULL);
    }

    bk_health_state health;
    bk_health_get(http->health, &health);
    if (!health.kafka_ok) {
        return bk_reply_error(req->conn, &req->reply, 503, "booking queue unavailable, retry shortly", NULL);
    }

    bk_msg msg = {.tier = book.tier, .quantity = book.quantity, .has_customer = book.has_customer};
    memcpy(msg.booking_id, b->booking_id, sizeof(msg.booking_id));
    memcpy(msg.customer, book.customer, sizeof(msg.customer));
    msg.accepted_at_ms = bk_clock_wall_ms();
    req->accepted_ms = msg.accepted_at_ms;
    b->tier = book.tier;
    b->quantity = book.quantity;
    b->amount_cents = bk_booking_amount(book.tier, book.quantity, BK_BOOKING_PENDING);
    memcpy(b->customer, book.customer, sizeof(b->customer)); /* "" when none */
    bk_clock_format(msg.accepted_at_ms, b->created_at, sizeof(b->created_at));

    char payload[BK_MSG_MAX];
    size_t len = 0;
    if (bk_msg_encode(&msg, payload, sizeof(payload), &len, &err) != BK_OK) {
        bk_log_error("event=encode_failed booking=%s msg=\"%s\"", b->booking_id, err.msg);
        return bk_reply_error(req->conn, &req->reply, 500, "internal error", NULL);
    }
    suspend(req);
    req->published_us = bk_clock_mono_us();
    if (bk_pub_send(http->pub, book.tier->partition, b->booking_id, payload, len, req, &err) != BK_OK) {
        bk_log_warn("event=publish_failed booking=%s tier=%s msg=\"%s\"", b->booking_id, book.tier->code, err.msg);
        finish(req, O_UNAVAILABLE);
    }
    return MHD_YES;
}

static enum MHD_Result handle_booking(bk_http *http, request *req, const char *url)
{
    const char *id = url + strlen("/bookings/");
    bk_booking *b = &req->booking;
    int rc = bk_id_check(http->key, id, strlen(id));
    if (rc == BK_E_INVAL) {
        return bk_reply_error(req->conn, &req->reply, 400, "malformed booking id", NULL);
    }
    if (rc == BK_E_NOMEM) { /* the tag could not be computed: neither valid nor forged */
        return bk_reply_error(req->conn, &req->reply, 503, "booking status unavailable, retry shortly", NULL);
    }
    if (rc != BK_OK) {
        return bk_reply_error(req->conn, &req->reply, 404, "no such booking", NULL);
    }
    /* Most questions are answered from memory: a final outcome, or a booking accepted here a
     * moment ago. The rest go to the database. */
    bk_recent_state known = bk_recent_get(http->recent, id, b);
    if (known == BK_RECENT_FINAL) {
        return bk_reply_booking(req->conn, &req->reply, b);
    }
    if (known != BK_RECENT_PENDING) {
        bk_err err;
        bk_err_clear(&err);
        int found = 0;
        if (bk_lookup_booking(thread_db(http), http->tiers, id, b, &found, &err) != BK_OK) {
            bk_log_warn("event=lookup_failed booking=%s msg=\"%s\"", id, err.msg);
            return bk_reply_error(req->conn, &req->reply, 503, "booking status unavailable, retry shortly", NULL);
        }
        if (found) {
            return bk_reply_booking(req->conn, &req->reply, b);
        }
    }
    /* Signed by us and not decided yet: pending. What this ingress remembers adds the details. */
    if (known == BK_RECENT_MISS) {
        memset(b, 0, sizeof(*b));
        memcpy(b->booking_id, id, BK_BOOKING_ID_LEN + 1);
    }
    return req->wait_ms > 0 ? wait_for_outcome(http, req, O_PENDING) : bk_reply_booking(req->conn, &req->reply, b);
}

static enum MHD_Result handle_tickets(bk_http *http, request *req)
{
    bk_err err;
    bk_err_clear(&err);
    size_t len = 0;
    char *body = bk_tickets_get(http->tickets, thread_db(http), &len, &err);
    if (body == NULL) {
        bk_log_warn("event=tickets_failed msg=\"%s\"", err.msg);
        return bk_reply_error(req->conn, &req->reply, 503, "availability unavailable, retry shortly", NULL);
    }
    enum MHD_Result ret = bk_reply_json(req->conn, &req->reply, 200, body, len, NULL);
    free(body);
    return ret;
}

static enum MHD_Result handle_metrics(bk_http *http, request *req)
{
    size_t len = 0;
    size_t open = 0, peak = 0;
    bk_limits_connections(http->limits, &open, &peak);
    bk_istats_gauges gauges = {.producer_queue = bk_pub_queue_len(http->pub),
                               .waiters = (long long)bk_watch_count(http->watch),
                               .connections = (long long)open,
                               .connections_peak = (long long)peak};
    char *body = bk_istats_render(http->stats, &gauges, &len);
    if (body == NULL) {
        return bk_reply_error(req->conn, &req->reply, 500, "internal error", NULL);
    }
    req->reply.status = 200;
    return bk_metrics_queue(req->conn, body, len);
}

/* 503: nothing promised. When the broker may have written the booking nevertheless (it timed out
 * after it was sent), the answer names the booking_id it would have, so the client can look it up
 * (or retry with its Idempotency-Key, which finds the same booking). */
static enum MHD_Result reply_unavailable(request *req)
{
    static const char *const retry[] = {MHD_HTTP_HEADER_RETRY_AFTER, "1", NULL};
    if (!req->maybe_persisted) {
        return bk_reply_error(req->conn, &req->reply, 503, "booking queue unavailable, retry shortly", NULL);
    }
    char body[128]; /* booking ids are [A-Za-z0-9_-]: nothing to escape */
    int len =
        snprintf(body, sizeof(body), "{\"error\":\"booking queue unavailable, retry shortly\",\"booking_id\":\"%s\"}",
                 req->booking.booking_id);
    return bk_reply_json(req->conn, &req->reply, 503, body, (size_t)len, retry);
}

/* The answer of a request that was suspended. */
static enum MHD_Result handle_resumed(request *req)
{
    switch (req->outcome) {
    case O_ACCEPTED:
        return bk_reply_accepted(req->conn, &req->reply, &req->booking);
    case O_DECIDED:
    case O_PENDING:
        return bk_reply_booking(req->conn, &req->reply, &req->booking);
    default:
        return reply_unavailable(req);
    }
}

#define MAX_FORWARDED 8 /* X-Forwarded-For headers read per request: the last ones */

typedef struct forwarded {
    const char *values[MAX_FORWARDED];
    size_t n;
} forwarded;

static enum MHD_Result collect_forwarded(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    forwarded *f = cls;
    if (value != NULL && strcasecmp(key, "X-Forwarded-For") == 0) {
        if (f->n == MAX_FORWARDED) { /* the rightmost count: drop the oldest */
            memmove(f->values, f->values + 1, (MAX_FORWARDED - 1) * sizeof(f->values[0]));
            f->n--;
        }
        f->values[f->n++] = value;
    }
    return MHD_YES;
}

/* Who sent the request: the peer, or behind a configured proxy the client it names. */
static uint32_t client_of(bk_http *http, request *req)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    forwarded f = {.n = 0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_forwarded, &f);
    return bk_limits_client(http->limits, info != NULL ? info->client_addr : NULL, f.values, f.n);
}

/* Everything decided from the request line and headers alone. Returns 1 with *ret set when it
 * answered, 0 when the request proceeds. */
static int check_headers(request *req, const char *url, const char *method, enum MHD_Result *ret)
{
    static const char *const allow[] = {
        [BK_ROUTE_HEALTH] = "GET, HEAD",  [BK_ROUTE_TICKETS] = "GET, HEAD", [BK_ROUTE_BOOK] = "POST",
        [BK_ROUTE_BOOKING] = "GET, HEAD", [BK_ROUTE_STATIC] = "GET, HEAD",  [BK_ROUTE_METRICS] = "GET, HEAD"};
    bk_err err;
    bk_err_clear(&err);
    bk_http *http = req->http;
    int want_post = req->route == BK_ROUTE_BOOK;
    int api = req->route == BK_ROUTE_BOOK || req->route == BK_ROUTE_BOOKING || req->route == BK_ROUTE_TICKETS;
    if (bk_limits_overloaded(http->limits)) {
        *ret = bk_reply_limited(req->conn, &req->reply, 503, 1);
        return 1;
    }
    if (api && strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0 && req->reply.cors_origin != NULL) {
        *ret = bk_reply_preflight(req->conn, &req->reply);
        return 1;
    }
    uint32_t client = client_of(http, req);
    /* A file path is only known if it is the app's root: POST /anything-else is 404, not 405.
     * /metrics does not exist for a client outside BK_METRICS_ALLOW. */
    if (req->route == BK_ROUTE_UNKNOWN || (req->route == BK_ROUTE_STATIC && !is_get(method) && strcmp(url, "/") != 0) ||
        (req->route == BK_ROUTE_METRICS && !bk_limits_metrics_allowed(http->limits, client))) {
        *ret = bk_reply_error(req->conn, &req->reply, 404, "not found", NULL);
        return 1;
    }
    if (want_post ? strcmp(method, MHD_HTTP_METHOD_POST) != 0 : !is_get(method)) {
        *ret = bk_reply_not_allowed(req->conn, &req->reply, allow[req->route]);
        return 1;
    }
    if (api) {
        int retry_after = bk_limits_take(http->limits, client);
        if (retry_after > 0) {
            *ret = bk_reply_limited(req->conn, &req->reply, 429, retry_after);
            return 1;
        }
    }
    if (req->route == BK_ROUTE_BOOK || req->route == BK_ROUTE_BOOKING) {
        const char *wait = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "wait");
        if (bk_req_parse_wait(wait, &req->wait_ms, &err) != BK_OK) {
            *ret = bk_reply_error(req->conn, &req->reply, 400, err.msg, err.field);
            return 1;
        }
    }
    if (req->route == BK_ROUTE_BOOK) {
        const char *length = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length != NULL && strtoull(length, NULL, 10) > BK_BOOKING_BODY_MAX) {
            *ret = bk_reply_error(req->conn, &req->reply, 413, TOO_LARGE, NULL);
            return 1;
        }
        const char *type = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (bk_req_check_content_type(type, &err) != BK_OK) {
            *ret = bk_reply_error(req->conn, &req->reply, 415, err.msg, NULL);
            return 1;
        }
    }
    return 0;
}

/* The request's Origin, if BK_CORS_ORIGINS allows it. */
static const char *allowed_origin(bk_http *http, struct MHD_Connection *conn)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    for (int k = 0; origin != NULL && k < http->n_cors; k++) {
        if (strcmp(origin, http->cors[k]) == 0) {
            return http->cors[k];
        }
    }
    return NULL;
}

/* Answers a request that has no body to wait for. */
static enum MHD_Result handle_bodiless(bk_http *http, request *req, const char *url)
{
    switch (req->route) {
    case BK_ROUTE_HEALTH: {
        bk_health_state state;
        bk_health_get(http->health, &state);
        return bk_reply_health(req->conn, &req->reply, &state);
    }
    case BK_ROUTE_TICKETS:
        return handle_tickets(http, req);
    case BK_ROUTE_BOOKING:
        return handle_booking(http, req, url);
    case BK_ROUTE_METRICS:
        return handle_metrics(http, req);
    default:
        return bk_files_reply(req->conn, &req->reply, http->cfg->static_dir, url);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version;
    bk_http *http = cls;
    request *req = *req_cls;
    enum MHD_Result ret = MHD_YES;

    if (req == &refused_line) {
        return MHD_NO; /* answered by on_request_line: close */
    }
    if (req == NULL) {
        req = calloc(1, sizeof(*req));
        if (req == NULL) {
            return MHD_NO;
        }
        req->http = http;
        req->conn = conn;
        req->route = route_of(url);
        req->started_us = bk_clock_mono_us();
        req->reply.cors_origin = allowed_origin(http, conn);
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        req->limits = info != NULL ? info->socket_context : NULL;
        *req_cls = req;
        bk_edge_head head;
        bk_edge_measure(conn, method, url, &head);
        unsigned refusal = bk_edge_head_refusal(&head, (size_t)http->cfg->http_conn_memory);
        if (refusal != 0) {
            req->reply.status = refusal;
            bk_edge_answer(conn, refusal);
            return MHD_NO;
        }
        /* Only a booking's headers are judged before its body: refusing it then (and closing the
         * connection) spares reading a body we would throw away. Anything else is answered on
         * the next call, since libmicrohttpd closes a connection answered on the first one. */
        if (req->route == BK_ROUTE_BOOK && check_headers(req, url, method, &ret)) {
            return ret;
        }
        return MHD_YES;
    }
    if (req->outcome != O_NONE) {
        return handle_resumed(req);
    }
    if (*upload_data_size > 0) {
        /* Chunked bodies have no Content-Length to refuse early: keep reading, keep nothing. */
        if (req->route != BK_ROUTE_BOOK || req->body_len + *upload_data_size > sizeof(req->body)) {
            req->body_too_big = req->route == BK_ROUTE_BOOK;
        } else {
            memcpy(req->body + req->body_len, upload_data, *upload_data_size);
            req->body_len += *upload_data_size;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->route != BK_ROUTE_BOOK && check_headers(req, url, method, &ret)) {
        return ret;
    }
    if (!gate_enter(http)) {
        return reply_draining(req);
    }
    bk_limits_busy(http->limits, req->limits, 1); /* received in full: no deadline while we work */
    ret = req->route == BK_ROUTE_BOOK ? handle_book(http, req) : handle_bodiless(http, req, url);
    gate_leave(http);
    return ret;
}

/* Called with the raw request target as soon as the request line is read, before libmicrohttpd
 * parses its query string into the pool; what it returns becomes the request's *req_cls. A target
 * over half the pool is answered 414 here: later may be too late (see ingress/edge.h). */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    bk_http *http = cls;
    if (strlen(uri) <= (size_t)http->cfg->http_conn_memory / 2) {
        return NULL;
    }
    bk_istats_request(http->stats, BK_ROUTE_UNKNOWN, 414, 0.0);
    bk_edge_answer(conn, 414);
    return &refused_line;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    bk_http *http = cls;
    request *req = *req_cls;
    if (req != NULL && req != &refused_line) {
        bk_istats_request(http->stats, req->route, req->reply.status,
                          (double)(bk_clock_mono_us() - req->started_us) / 1e6);
        bk_limits_busy(http->limits, req->limits, 0); /* the next request's deadline starts now */
        free(req);
    }
    *req_cls = NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    bk_http *http = cls;
    return bk_limits_allow(http->limits, addr) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    bk_http *http = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        *socket_context =
            bk_limits_open(http->limits, fd != NULL ? fd->connect_fd : -1, addr != NULL ? addr->client_addr : NULL);
    } else {
        bk_limits_close(http->limits, *socket_context);
        *socket_context = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    bk_log_warn("event=mhd msg=\"%s\"", text);
}

bk_http *bk_http_new(const bk_http_deps *deps, bk_err *err)
{
    const bk_cfg *cfg = deps->cfg;
    bk_http *http = calloc(1, sizeof(*http));
    if (http == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_http");
        return NULL;
    }
    http->cfg = cfg;
    http->key = deps->key;
    http->tiers = deps->tiers;
    http->pub = deps->pub;
    http->watch = deps->watch;
    http->health = deps->health;
    http->tickets = deps->tickets;
    http->recent = deps->recent;
    http->stats = deps->stats;
    http->limits = deps->limits;
    http->claims = deps->claims;
    if (pthread_key_create(&http->db_key, free_thread_db) != 0) {
        bk_err_set(err, BK_E_IO, "pthread_key_create failed");
        goto fail;
    }
    http->db_key_created = 1;
    char origins[sizeof(cfg->cors_origins)];
    snprintf(origins, sizeof(origins), "%s", cfg->cors_origins);
    char *save = NULL;
    for (char *o = strtok_r(origins, ", ", &save); o != NULL && http->n_cors < 8; o = strtok_r(NULL, ", ", &save)) {
        snprintf(http->cors[http->n_cors++], sizeof(http->cors[0]), "%s", o);
    }

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->http_port)};
    if (inet_pton(AF_INET, cfg->http_addr, &addr.sin_addr) != 1) {
        bk_err_set(err, BK_E_INVAL, "BK_HTTP_ADDR=%s is not an IPv4 address", cfg->http_addr);
        goto fail;
    }
    /* epoll, not select: libmicrohttpd's default limit is FD_SETSIZE (about 1,020 connections). */
    http->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, (uint16_t)cfg->http_port,
        on_accept, http, on_request, http, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, http, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->http_max_conns + HARD_LIMIT_MARGIN, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->http_conn_timeout_s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)cfg->http_conn_memory, MHD_OPTION_NOTIFY_CONNECTION, on_connection, http, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, http, MHD_OPTION_URI_LOG_CALLBACK, on_request_line, http, MHD_OPTION_END);
    if (http->daemon == NULL) {
        bk_err_set(err, BK_E_IO, "MHD_start_daemon failed on %s:%d", cfg->http_addr, cfg->http_port);
        goto fail;
    }
    bk_log_info("event=listening addr=%s port=%d threads=%d max_conns=%d", cfg->http_addr, cfg->http_port,
                cfg->http_threads, cfg->http_max_conns);
    return http;

fail:
    bk_http_free(http);
    return NULL;
}

/* Step 1 of the shutdown contract (ingress/http.h): stop accepting, close the gate, wait. */
void bk_http_close(bk_http *http)
{
    if (http == NULL || http->closed) {
        return;
    }
    http->closed = 1;
    if (http->daemon != NULL) {
        MHD_socket listener = MHD_quiesce_daemon(http->daemon);
        if (listener != MHD_INVALID_SOCKET) {
            close(listener);
        }
    }
    atomic_store(&http->draining, 1);
    while (atomic_load(&http->in_gate) > 0) {
        nanosleep(&(struct timespec){.tv_nsec = 1000000L}, NULL);
    }
}

/* Step 3 of the shutdown contract: the peers that resume suspended requests are gone, so every
 * request left is answered or idle. */
void bk_http_free(bk_http *http)
{
    if (http == NULL) {
        return;
    }
    bk_http_close(http);
    if (http->daemon != NULL) {
        int64_t until = bk_clock_mono_ms() + DRAIN_MS;
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        while (info != NULL && info->num_connections > 0 && bk_clock_mono_ms() < until) {
            nanosleep(&(struct timespec){.tv_nsec = 20 * 1000000L}, NULL);
            info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        }
        MHD_stop_daemon(http->daemon);
    }
    if (http->db_key_created) {
        pthread_key_delete(http->db_key);
    }
    free(http);
}
