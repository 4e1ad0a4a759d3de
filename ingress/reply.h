/* HTTP responses of the API: JSON bodies rendered with yajl_gen (so every string is escaped) and
 * queued on a libmicrohttpd connection with the headers every API answer carries. */
#ifndef BK_INGRESS_REPLY_H
#define BK_INGRESS_REPLY_H

#include "common/booking.h"
#include "ingress/health.h"
#include "ingress/lookup.h"

#include <microhttpd.h>

/* What a reply needs from its request, and what it tells back. */
typedef struct bk_reply_ctx {
    const char *cors_origin; /* in: an allowed Origin to echo in Access-Control-Allow-Origin, or NULL */
    unsigned status;         /* out: the status queued, for the metrics */
} bk_reply_ctx;

/* Queues body (copied) with status and Content-Type: application/json; charset=utf-8.
 * extra is NULL or a NULL-terminated list of header name, value, name, value… */
enum MHD_Result bk_reply_json(struct MHD_Connection *conn, bk_reply_ctx *ctx, unsigned status, const char *body,
                              size_t len, const char *const *extra);

/* {"error": msg} (plus "field" when field is not empty). 503s also carry Retry-After: 1. */
enum MHD_Result bk_reply_error(struct MHD_Connection *conn, bk_reply_ctx *ctx, unsigned status, const char *msg,
                               const char *field);

/* 429 (rate limited) or 503 (overloaded, connection closed after) with Retry-After: seconds. */
enum MHD_Result bk_reply_limited(struct MHD_Connection *conn, bk_reply_ctx *ctx, unsigned status, int retry_after_s);

/* 204 answer to a CORS preflight from an allowed origin (ctx->cors_origin). */
enum MHD_Result bk_reply_preflight(struct MHD_Connection *conn, bk_reply_ctx *ctx);

/* 405 with Allow. */
enum MHD_Result bk_reply_not_allowed(struct MHD_Connection *conn, bk_reply_ctx *ctx, const char *allow);

/* 200 with the booking object (pending, confirmed or rejected). */
enum MHD_Result bk_reply_booking(struct MHD_Connection *conn, bk_reply_ctx *ctx, const bk_booking *booking);

/* 202 {"booking_id","status":"pending","tier","quantity"} with Location: /bookings/{id}. */
enum MHD_Result bk_reply_accepted(struct MHD_Connection *conn, bk_reply_ctx *ctx, const bk_booking *booking);

/* 200 or 503 with {"status","kafka","database"}. */
enum MHD_Result bk_reply_health(struct MHD_Connection *conn, bk_reply_ctx *ctx, const bk_health_state *state);

/* The GET /tickets body for these states, malloc'd (*len bytes), or NULL. */
char *bk_reply_render_tickets(const bk_tier_catalogue *tiers, const bk_tier_state states[BK_TIER_PARTITIONS_MAX],
                              size_t *len);

#endif
