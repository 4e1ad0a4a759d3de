/* Unit tests of common/booking: the booking as the API shows it. The booking made from an announced
 * outcome is the one the database row would give, and the status and reason names are the API's,
 * read back from the database's text the same way they are written. */
#include "unit.h"

#include "catalogue.h"

#include "common/booking.h"
#include "common/outcome.h"

#include <stdio.h>

#define ID_A "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq"

/* An outcome, and the booking it makes when announced (final) or remembered as pending. */
static void test_from_outcome(void **state)
{
    (void)state;
    enum { CONFIRMED, SOLD_OUT, INVALID };
    static const struct {
        const char *name;
        int kind;
        const char *tier;
        int32_t quantity;
        const char *customer; /* NULL: none */
        int final;
        bk_booking_status want_status;
        int64_t want_amount;
        const char *want_decided_at;
    } cases[] = {
        {"confirmed VIP", CONFIRMED, "VIP", 2, NULL, 1, BK_BOOKING_CONFIRMED, 20000, "2025-11-22T16:00:00.456Z"},
        {"sold out GA with customer", SOLD_OUT, "GA", 3, "Ada", 1, BK_BOOKING_SOLD_OUT, 3000,
         "2025-11-22T16:00:00.456Z"},
        {"invalid costs nothing", INVALID, "FRONT_ROW", 4, NULL, 1, BK_BOOKING_INVALID, 0, "2025-11-22T16:00:00.456Z"},
        {"invalid, quantity unreadable", INVALID, "VIP", 0, NULL, 1, BK_BOOKING_INVALID, 0, "2025-11-22T16:00:00.456Z"},
        {"pending ignores the verdict", CONFIRMED, "VIP", 1, "Zo\xc3\xab", 0, BK_BOOKING_PENDING, 10000, ""},
        {"pending ignores sold out", SOLD_OUT, "GA", 5, NULL, 0, BK_BOOKING_PENDING, 5000, ""},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        bk_outcome o = {.tier = bk_tier_find(bk_test_tiers(), cases[k].tier, strlen(cases[k].tier)),
                        .quantity = cases[k].quantity,
                        .confirmed = cases[k].kind == CONFIRMED,
                        .invalid = cases[k].kind == INVALID,
                        .created_ms = 1763827200123,
                        .decided_ms = 1763827200456,
                        .has_customer = cases[k].customer != NULL};
        snprintf(o.booking_id, sizeof(o.booking_id), "%s", ID_A);
        snprintf(o.customer, sizeof(o.customer), "%s", cases[k].customer != NULL ? cases[k].customer : "");
        bk_booking b;
        memset(&b, 0x5a, sizeof(b));
        bk_booking_from_outcome(&o, cases[k].final, &b);
        EXPECT_STR(cases[k].name, "booking_id", b.booking_id, ID_A);
        EXPECT_STR(cases[k].name, "tier", b.tier->code, cases[k].tier);
        EXPECT_INT(cases[k].name, "quantity", b.quantity, cases[k].quantity);
        EXPECT_INT(cases[k].name, "status", b.status, cases[k].want_status);
        EXPECT_INT(cases[k].name, "amount_cents", b.amount_cents, cases[k].want_amount);
        EXPECT_STR(cases[k].name, "customer", b.customer, cases[k].customer != NULL ? cases[k].customer : "");
        EXPECT_STR(cases[k].name, "created_at", b.created_at, "2025-11-22T16:00:00.123Z");
        EXPECT_STR(cases[k].name, "decided_at", b.decided_at, cases[k].want_decided_at);
    }
}

/* The API's names of each status, and the text the database stores (status, reason). */
static void test_names(void **state)
{
    (void)state;
    static const struct {
        bk_booking_status status;
        const char *want_name;
        const char *want_reason; /* NULL: none */
        int want_final;
    } cases[] = {
        {BK_BOOKING_PENDING, "pending", NULL, 0},
        {BK_BOOKING_CONFIRMED, "confirmed", NULL, 1},
        {BK_BOOKING_SOLD_OUT, "rejected", "sold_out", 1},
        {BK_BOOKING_INVALID, "rejected", "invalid", 1},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        const char *name = cases[k].want_name;
        EXPECT_STR(name, "status name", bk_booking_status_name(cases[k].status), cases[k].want_name);
        EXPECT_STR(name, "reason", bk_booking_reason(cases[k].status), cases[k].want_reason);
        bk_booking b = {.status = cases[k].status};
        EXPECT_INT(name, "final", bk_booking_final(&b), cases[k].want_final);
    }
}

/* A stored row's status and reason ("" for SQL NULL) back into a status; anything the schema
 * would not store is refused. */
static void test_status_parse(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *status;
        const char *reason;
        int want_rc;
        bk_booking_status want;
    } cases[] = {
        {"confirmed", "confirmed", "", BK_OK, BK_BOOKING_CONFIRMED},
        {"rejected sold out", "rejected", "sold_out", BK_OK, BK_BOOKING_SOLD_OUT},
        {"rejected invalid", "rejected", "invalid", BK_OK, BK_BOOKING_INVALID},
        {"rejected without a reason", "rejected", "", BK_E_INVAL, BK_BOOKING_PENDING},
        {"rejected, unknown reason", "rejected", "full", BK_E_INVAL, BK_BOOKING_PENDING},
        {"confirmed with a reason", "confirmed", "sold_out", BK_E_INVAL, BK_BOOKING_PENDING},
        {"pending is never stored", "pending", "", BK_E_INVAL, BK_BOOKING_PENDING},
        {"case matters", "Confirmed", "", BK_E_INVAL, BK_BOOKING_PENDING},
        {"empty", "", "", BK_E_INVAL, BK_BOOKING_PENDING},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        bk_booking_status got = BK_BOOKING_PENDING;
        EXPECT_INT(cases[k].name, "rc", bk_booking_status_parse(cases[k].status, cases[k].reason, &got, NULL),
                   cases[k].want_rc);
        EXPECT_INT(cases[k].name, "status", got, cases[k].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_outcome),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_status_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
