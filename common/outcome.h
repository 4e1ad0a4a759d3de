/* Booking outcomes as the processor announces them to every ingress, so that an ingress can answer
 * "is my booking decided?" from memory instead of asking PostgreSQL on every poll. They travel in
 * the payload of NOTIFY bk_decided, sent inside the transaction that stored them (so an ingress
 * never hears of an outcome that was rolled back). One line per booking, fields separated by one
 * space, the customer last:
 *
 *   <booking_id> <confirmed|rejected|invalid> <tier> <quantity> <created_ms> <decided_ms>[ <customer>]\n
 *
 * "rejected" is a booking that did not fit (reason sold_out). "invalid" is a booking whose Kafka
 * message the processor could not apply (reason invalid, dead-lettered): its tier is the one of
 * its partition, its quantity is 0 when the message's could not be read, and it has no customer.
 *
 * The customer is escaped so that a line never holds a control character: "\\" for a backslash
 * and "\xHH" for bytes below 0x20 and 0x7f. A payload is a run of whole lines. */
#ifndef BK_COMMON_OUTCOME_H
#define BK_COMMON_OUTCOME_H

#include "common/booking.h"
#include "common/err.h"
#include "common/tier.h"

#include <stddef.h>
#include <stdint.h>

/* PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; keep a margin. */
#define BK_OUTCOME_PAYLOAD_MAX 7900
/* The longest line: every customer byte escaped to four. */
#define BK_OUTCOME_LINE_MAX (BK_BOOKING_ID_LEN + 64 + 4 * BK_BOOKING_CUSTOMER_BYTES)

typedef struct bk_outcome {
    char booking_id[BK_BOOKING_ID_LEN + 1];
    const bk_tier *tier;
    int32_t quantity; /* 1..BK_BOOKING_QUANTITY_MAX; 0 only for an invalid booking whose quantity was unreadable */
    int confirmed;    /* 1: confirmed; 0: rejected, sold out (or invalid, below) */
    int invalid;      /* 1: rejected because its message could not be applied; confirmed is 0 */
    int64_t created_ms;
    int64_t decided_ms;
    int has_customer;
    char customer[BK_BOOKING_CUSTOMER_BYTES + 1];
} bk_outcome;

/* Appends the line of o (with its '\n') to buf at *len, within cap bytes; *len grows. */
int bk_outcome_format(const bk_outcome *o, char *buf, size_t cap, size_t *len, bk_err *err) BK_WARN_UNUSED;

/* Appends the line of o to a run of payloads in buf (at *len, within cap; *len grows). When the
 * line would take the current payload (*payload_len bytes so far) past BK_OUTCOME_PAYLOAD_MAX, an
 * empty line ends that payload first, which no outcome line can hold: one NOTIFY statement splits
 * the run again on "\n\n". On failure buf, *len and *payload_len are unchanged. */
int bk_outcome_append(const bk_outcome *o, char *buf, size_t cap, size_t *len, size_t *payload_len,
                      bk_err *err) BK_WARN_UNUSED;

/* Parses one line of len bytes (without its '\n') into o; BK_E_INVAL with the reason if it is not
 * a well-formed outcome. */
int bk_outcome_parse(const bk_tier_catalogue *tiers, const char *line, size_t len, bk_outcome *o,
                     bk_err *err) BK_WARN_UNUSED;

#endif
