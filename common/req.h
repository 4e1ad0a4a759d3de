/* Validation of what clients send (docs/api.md): the POST /book body, the Idempotency-Key header,
 * the ?wait parameter and the Content-Type. Pure functions; every failure is BK_E_INVAL (or
 * BK_E_TOOBIG) with a sentence for the client in err->msg and the field at fault in err->field. */
#ifndef BK_COMMON_REQ_H
#define BK_COMMON_REQ_H

#include "common/booking.h"
#include "common/err.h"
#include "common/tier.h"

#include <stddef.h>

#define BK_REQ_IDEM_KEY_MIN 8 /* a shorter key is guessed too easily: it names, and reads, a booking */
#define BK_REQ_IDEM_KEY_MAX 64
#define BK_REQ_WAIT_MAX_MS  5000

typedef struct bk_book_req {
    const bk_tier *tier;
    int quantity;
    int has_customer;
    char customer[BK_BOOKING_CUSTOMER_BYTES + 1]; /* UTF-8, no control characters */
} bk_book_req;

/* Validates a POST /book body of len bytes: a JSON object with "tier" (a code of tiers),
 * "quantity" (integer 1..max_quantity) and optional "customer" (string of 1..128 characters,
 * no control characters). Unknown fields are ignored. */
int bk_req_parse_book(const bk_tier_catalogue *tiers, const char *body, size_t len, int max_quantity, bk_book_req *out,
                      bk_err *err) BK_WARN_UNUSED;

/* Checks an Idempotency-Key header value: 8..64 characters of [A-Za-z0-9_-]. */
int bk_req_check_idem_key(const char *key, bk_err *err) BK_WARN_UNUSED;

/* Parses ?wait=MS: NULL means 0; otherwise decimal digits only, 0..5000. */
int bk_req_parse_wait(const char *value, int *wait_ms, bk_err *err) BK_WARN_UNUSED;

/* Checks a request Content-Type: application/json, any case, optional parameters of which a
 * charset must be utf-8. NULL (missing) fails. */
int bk_req_check_content_type(const char *value, bk_err *err) BK_WARN_UNUSED;

#endif
