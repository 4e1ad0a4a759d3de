/* The booking's conversions: one table of names, read both ways. */
#include "common/booking.h"

#include "common/clock.h"
#include "common/outcome.h"

#include <string.h>

static const struct {
    const char *name;
    const char *reason; /* NULL: none */
} names[] = {
    [BK_BOOKING_PENDING] = {"pending", NULL},
    [BK_BOOKING_CONFIRMED] = {"confirmed", NULL},
    [BK_BOOKING_SOLD_OUT] = {"rejected", "sold_out"},
    [BK_BOOKING_INVALID] = {"rejected", "invalid"},
};

void bk_booking_from_outcome(const bk_outcome *o, int final, bk_booking *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->booking_id, o->booking_id, sizeof(out->booking_id));
    out->tier = o->tier;
    out->quantity = o->quantity;
    out->amount_cents = bk_booking_amount(o->tier, o->quantity, o->invalid ? BK_BOOKING_INVALID : BK_BOOKING_PENDING);
    if (o->has_customer) {
        memcpy(out->customer, o->customer, sizeof(out->customer));
    }
    bk_clock_format(o->created_ms, out->created_at, sizeof(out->created_at));
    if (final) {
        out->status = o->confirmed ? BK_BOOKING_CONFIRMED : o->invalid ? BK_BOOKING_INVALID : BK_BOOKING_SOLD_OUT;
        bk_clock_format(o->decided_ms, out->decided_at, sizeof(out->decided_at));
    }
}

int64_t bk_booking_amount(const bk_tier *tier, int quantity, bk_booking_status status)
{
    return status == BK_BOOKING_INVALID ? 0 : (int64_t)quantity * tier->price_cents;
}

int bk_booking_final(const bk_booking *booking)
{
    return booking->status != BK_BOOKING_PENDING;
}

const char *bk_booking_status_name(bk_booking_status status)
{
    return names[status].name;
}

const char *bk_booking_reason(bk_booking_status status)
{
    return names[status].reason;
}

int bk_booking_status_parse(const char *status, const char *reason, bk_booking_status *out, bk_err *err)
{
    for (size_t k = BK_BOOKING_CONFIRMED; k < sizeof(names) / sizeof(names[0]); k++) {
        const char *want_reason = names[k].reason != NULL ? names[k].reason : "";
        if (strcmp(status, names[k].name) == 0 && strcmp(reason, want_reason) == 0) {
            *out = (bk_booking_status)k;
            return BK_OK;
        }
    }
    return bk_err_set(err, BK_E_INVAL, "no booking has status=%s reason=%s", status, reason);
}
