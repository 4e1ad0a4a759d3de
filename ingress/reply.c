/* JSON rendering and response queueing. */
#include "ingress/reply.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#define JSON_TYPE "application/json; charset=utf-8"

/* The emitters' results go unchecked here: these objects have a fixed shape and yajl_gen does not
 * validate UTF-8 unless asked, so it never refuses them. */

/* Queues g's buffer and frees g. */
static enum MHD_Result send_gen(struct MHD_Connection *conn, bk_reply_ctx *ctx, unsigned status, yajl_gen g,
                                const char *const *extra)
{
    const unsigned char *buf = NULL;
    size_t len = 0;
    enum MHD_Result ret;
    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
        ret = bk_reply_json(conn, ctx, status, (const char *)buf, len, extra);
    } else {
        static const char fallback[] = "{\"error\":\"internal error\"}";
        ret = bk_reply_json(conn, ctx, 500, fallback, sizeof(fallback) - 1, NULL);
    }
    yajl_gen_free(g);
    return ret;
}

enum MHD_Result bk_reply_json(struct MHD_Connection *conn, bk_reply_ctx *ctx, unsigned status, const char *body,
                              size_t len, const char *const *extra)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (int k = 0; extra != NULL && extra[k] != NULL; k += 2) {
        MHD_add_response_header(resp, extra[k], extra[k + 1]);
    }
    if (ctx->cors_origin != NULL) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", ctx->cors_origin);
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Location, Retry-After");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    ctx->status = status;
    return ret;
}

/* Queues {"error": msg} (plus "field" when field is not NULL or empty). */
static enum MHD_Result send_error(struct MHD_Connection *conn, bk_reply_ctx *ctx, unsigned status, const char *msg,
                                  const char *field, const char *const *extra)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return MHD_NO;
    }
    yajl_gen_map_open(g);
    bk_json_put_str(g, "error", msg);
    if (field != NULL && field[0] != '\0') {
        bk_json_put_str(g, "field", field);
    }
    yajl_gen_map_close(g);
    return send_gen(conn, ctx, status, g, extra);
}

enum MHD_Result bk_reply_error(struct MHD_Connection *conn, bk_reply_ctx *ctx, unsigned status, const char *msg,
                               const char *field)
{
    static const char *const retry[] = {MHD_HTTP_HEADER_RETRY_AFTER, "1", NULL};
    return send_error(conn, ctx, status, msg, field, status == 503 ? retry : NULL);
}

enum MHD_Result bk_reply_limited(struct MHD_Connection *conn, bk_reply_ctx *ctx, unsigned status, int retry_after_s)
{
    char seconds[16];
    snprintf(seconds, sizeof(seconds), "%d", retry_after_s);
    const char *const rate[] = {MHD_HTTP_HEADER_RETRY_AFTER, seconds, NULL};
    const char *const busy[] = {MHD_HTTP_HEADER_RETRY_AFTER, seconds, MHD_HTTP_HEADER_CONNECTION, "close", NULL};
    return send_error(conn, ctx, status, status == 429 ? "too many requests, slow down" : "server busy, retry shortly",
                      NULL, status == 429 ? rate : busy);
}

enum MHD_Result bk_reply_preflight(struct MHD_Connection *conn, bk_reply_ctx *ctx)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", ctx->cors_origin);
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, POST");
    MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Content-Type, Idempotency-Key");
    MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, resp);
    MHD_destroy_response(resp);
    ctx->status = MHD_HTTP_NO_CONTENT;
    return ret;
}

enum MHD_Result bk_reply_not_allowed(struct MHD_Connection *conn, bk_reply_ctx *ctx, const char *allow)
{
    const char *const extra[] = {MHD_HTTP_HEADER_ALLOW, allow, NULL};
    return send_error(conn, ctx, 405, "method not allowed on this path", NULL, extra);
}

enum MHD_Result bk_reply_booking(struct MHD_Connection *conn, bk_reply_ctx *ctx, const bk_booking *b)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return MHD_NO;
    }
    yajl_gen_map_open(g);
    bk_json_put_str(g, "booking_id", b->booking_id);
    if (b->tier != NULL) {
        bk_json_put_str(g, "tier", b->tier->code);
    }
    if (b->tier != NULL && b->quantity > 0) { /* an invalid booking's may be unknown */
        bk_json_put_int(g, "quantity", b->quantity);
    }
    bk_json_put_str(g, "status", bk_booking_status_name(b->status));
    if (bk_booking_reason(b->status) != NULL) {
        bk_json_put_str(g, "reason", bk_booking_reason(b->status));
        bk_json_put_str(g, "message",
                        b->status == BK_BOOKING_INVALID ? "This booking could not be processed"
                                                        : "Not enough tickets available");
    }
    if (b->tier != NULL) {
        bk_json_put_int(g, "amount_cents", b->amount_cents);
        bk_json_put_str(g, "currency", "USD");
    }
    if (b->customer[0] != '\0') {
        bk_json_put_str(g, "customer", b->customer);
    }
    if (b->created_at[0] != '\0') {
        bk_json_put_str(g, "created_at", b->created_at);
    }
    if (bk_booking_final(b)) {
        bk_json_put_str(g, "decided_at", b->decided_at);
    }
    yajl_gen_map_close(g);
    return send_gen(conn, ctx, 200, g, NULL);
}

enum MHD_Result bk_reply_accepted(struct MHD_Connection *conn, bk_reply_ctx *ctx, const bk_booking *b)
{
    char location[sizeof("/bookings/") + BK_BOOKING_ID_LEN];
    snprintf(location, sizeof(location), "/bookings/%s", b->booking_id);
    const char *const extra[] = {MHD_HTTP_HEADER_LOCATION, location, NULL};
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return MHD_NO;
    }
    yajl_gen_map_open(g);
    bk_json_put_str(g, "booking_id", b->booking_id);
    bk_json_put_str(g, "status", bk_booking_status_name(BK_BOOKING_PENDING));
    bk_json_put_str(g, "tier", b->tier->code);
    bk_json_put_int(g, "quantity", b->quantity);
    yajl_gen_map_close(g);
    return send_gen(conn, ctx, 202, g, extra);
}

enum MHD_Result bk_reply_health(struct MHD_Connection *conn, bk_reply_ctx *ctx, const bk_health_state *state)
{
    int ok = state->kafka_ok && state->db_ok;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return MHD_NO;
    }
    yajl_gen_map_open(g);
    bk_json_put_str(g, "status", ok ? "ok" : "degraded");
    bk_json_put_str(g, "kafka", state->kafka);
    bk_json_put_str(g, "database", state->db);
    yajl_gen_map_close(g);
    return send_gen(conn, ctx, ok ? 200 : 503, g, NULL);
}

char *bk_reply_render_tickets(const bk_tier_catalogue *tiers, const bk_tier_state states[BK_TIER_PARTITIONS_MAX],
                              size_t *len)
{
    char *out = NULL;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return NULL;
    }
    yajl_gen_array_open(g);
    for (int k = 0; k < tiers->count; k++) {
        const bk_tier *t = bk_tier_at(tiers, k);
        yajl_gen_map_open(g);
        bk_json_put_str(g, "tier", t->code);
        bk_json_put_str(g, "name", t->name);
        bk_json_put_int(g, "price_cents", t->price_cents);
        bk_json_put_str(g, "currency", "USD");
        bk_json_put_int(g, "capacity", states[k].capacity);
        bk_json_put_int(g, "available", states[k].available);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    const unsigned char *buf = NULL;
    if (yajl_gen_get_buf(g, &buf, len) == yajl_gen_status_ok) {
        out = malloc(*len);
    }
    if (out != NULL) {
        memcpy(out, buf, *len);
    }
    yajl_gen_free(g);
    return out;
}
