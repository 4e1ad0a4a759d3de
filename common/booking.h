/* The booking: the core domain value both services speak of, and the limits every booking obeys.
 * Pure: no I/O. The ingress fills one from the database, from an announced outcome or from what
 * it just accepted, and renders it as the API's booking object; the processor writes the same
 * status and reason names into the database. */
#ifndef BK_COMMON_BOOKING_H
#define BK_COMMON_BOOKING_H

#include "common/err.h"
#include "common/tier.h"

#include <stdint.h>

/* The limits of a booking, defined here once and used everywhere. */
#define BK_BOOKING_ID_LEN         32   /* characters of a booking id, without the terminator */
#define BK_BOOKING_CUSTOMER_MAX   128  /* characters (code points) of a customer name, not bytes */
#define BK_BOOKING_CUSTOMER_BYTES 512  /* 128 characters of at most 4 UTF-8 bytes */
#define BK_BOOKING_QUANTITY_MAX   1000 /* seats of one booking, whatever the ingress's per-order limit */
#define BK_BOOKING_BODY_MAX       4096 /* bytes of a booking request body; larger bodies get 413 */

/* Where a booking stands. PENDING is 0, so a zeroed booking is pending. */
typedef enum bk_booking_status {
    BK_BOOKING_PENDING = 0, /* accepted, not decided yet */
    BK_BOOKING_CONFIRMED,   /* seats taken */
    BK_BOOKING_SOLD_OUT,    /* rejected: not enough seats left */
    BK_BOOKING_INVALID,     /* rejected: its message could not be applied (dead-lettered) */
} bk_booking_status;

/* A booking as the API shows it: decided as stored, or pending as accepted. */
typedef struct bk_booking {
    char booking_id[BK_BOOKING_ID_LEN + 1];
    const bk_tier *tier;
    int quantity; /* 0 only for an invalid booking whose quantity could not be read */
    bk_booking_status status;
    int64_t amount_cents;
    char customer[BK_BOOKING_CUSTOMER_BYTES + 1]; /* "" when none */
    char created_at[32];                          /* RFC 3339 UTC, milliseconds */
    char decided_at[32];                          /* "" while pending */
} bk_booking;

struct bk_outcome; /* common/outcome.h */

/* The booking of an announced outcome (final = 1), or of a pending one known from memory
 * (final = 0: the outcome's verdict and decided_ms are ignored). */
void bk_booking_from_outcome(const struct bk_outcome *o, int final, bk_booking *out);

/* What a booking costs, the one place it is computed (the ingress's replies and the processor's
 * rows both use it): quantity seats at the tier's catalogue price; 0 for an invalid booking. */
int64_t bk_booking_amount(const bk_tier *tier, int quantity, bk_booking_status status);

/* 1 if the booking is decided (confirmed or rejected). */
int bk_booking_final(const bk_booking *booking);

/* The API's and the database's status: "pending", "confirmed" or "rejected". */
const char *bk_booking_status_name(bk_booking_status status);

/* The reason of a rejected booking: "sold_out" or "invalid"; NULL for any other status. */
const char *bk_booking_reason(bk_booking_status status);

/* The status of a stored row from its status and reason texts (reason "" for none): BK_OK, or
 * BK_E_INVAL for a pair that bk_booking_status_name and bk_booking_reason never write. */
int bk_booking_status_parse(const char *status, const char *reason, bk_booking_status *out, bk_err *err) BK_WARN_UNUSED;

#endif
