/* HTTP responses of the API: JSON bodies rendered with yajl_gen (so every string is escaped) and
 * queued on a libmicrohttpd connection with the headers every API answer carries. Every function
 * stores the status it queued in *sent (for the request metrics). */
#ifndef BK_INGRESS_REPLY_H
#define BK_INGRESS_REPLY_H

#include "ingress/health.h"
#include "ingress/lookup.h"

#include <microhttpd.h>

/* Queues body (copied) with status and Content-Type: application/json; charset=utf-8.
 * extra is NULL or a NULL-terminated list of header name, value, name, value… */
enum MHD_Result bk_reply_json(struct MHD_Connection *conn, unsigned *sent, unsigned status, const char *body,
                              size_t len, const char *const *extra);

/* {"error": msg} (plus "field" when field is not empty). 503s also carry Retry-After: 1. */
enum MHD_Result bk_reply_error(struct MHD_Connection *conn, unsigned *sent, unsigned status, const char *msg,
                               const char *field);

/* 405 with Allow. */
enum MHD_Result bk_reply_not_allowed(struct MHD_Connection *conn, unsigned *sent, const char *allow);

/* 200 with the booking object (pending, confirmed or rejected). */
enum MHD_Result bk_reply_booking(struct MHD_Connection *conn, unsigned *sent, const bk_booking *booking);

/* 202 {"booking_id","status":"pending","tier","quantity"} with Location: /bookings/{id}. */
enum MHD_Result bk_reply_accepted(struct MHD_Connection *conn, unsigned *sent, const bk_booking *booking);

/* 200 or 503 with {"status","kafka","database"}. */
enum MHD_Result bk_reply_health(struct MHD_Connection *conn, unsigned *sent, const bk_health_state *state);

/* The GET /tickets body for these states, malloc'd (*len bytes), or NULL. */
char *bk_reply_render_tickets(const bk_tier_state states[BK_TIER_COUNT], size_t *len);

#endif
