/* The Kafka message codec: one booking request per message, versioned JSON.
 *
 *   {"v":1,"booking_id":"…","tier":"VIP","quantity":2,"customer":"…","accepted_at":1763827200123}
 *
 * The message carries everything the processor needs, so the processor never calls back into
 * the ingress. Decoding validates like a trust boundary: a message that fails is dead-lettered. */
#ifndef BK_COMMON_MSG_H
#define BK_COMMON_MSG_H

#include "common/booking.h"
#include "common/err.h"
#include "common/tier.h"

#include <stddef.h>
#include <stdint.h>

#define BK_MSG_VERSION         1
#define BK_MSG_MAX             1024              /* encoded size cap; a full-length customer fits */
#define BK_MSG_ACCEPTED_AT_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z, PostgreSQL's range */

typedef struct bk_msg {
    char booking_id[BK_BOOKING_ID_LEN + 1];
    const bk_tier *tier;
    int32_t quantity;
    int has_customer;
    char customer[BK_BOOKING_CUSTOMER_BYTES + 1];
    int64_t accepted_at_ms; /* wall clock of the ingress when it accepted the request */
} bk_msg;

/* Encodes msg into buf (cap bytes); *len gets the encoded length. */
int bk_msg_encode(const bk_msg *msg, char *buf, size_t cap, size_t *len, bk_err *err) BK_WARN_UNUSED;

/* Decodes and validates len bytes into msg; BK_E_INVAL with the reason if undecodable. Even then,
 * msg keeps what could be read, so that the booking can still be ended: booking_id ("" if the
 * payload is not a JSON object with a well-formed id), quantity (0 unless in 1..BK_BOOKING_QUANTITY_MAX)
 * and accepted_at_ms (0 unless valid). tier and customer are set only on success. */
int bk_msg_decode(const bk_tier_catalogue *tiers, const char *buf, size_t len, bk_msg *msg, bk_err *err) BK_WARN_UNUSED;

#endif
