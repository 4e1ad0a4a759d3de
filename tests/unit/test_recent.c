/* Unit tests of ingress/recent: the booking memory that answers most status questions. A final
 * outcome is kept and never downgraded by a late "pending", a pending entry is trusted only within
 * its window, a collision evicts, and what comes out is the booking the database would give. */
#include "unit.h"

#include "catalogue.h"

#include "ingress/recent.h"

#include <stdio.h>

#define ID_A "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq"
#define ID_B "AAECAwQFBgcICQoLDA0OD0ZL0x2eePkH"

static const bk_tier *tier(const char *code)
{
    return bk_tier_find(bk_test_tiers(), code, strlen(code));
}

static bk_outcome outcome(const char *id, int confirmed, const char *customer)
{
    bk_outcome o = {.tier = tier("VIP"),
                    .quantity = 2,
                    .confirmed = confirmed,
                    .created_ms = 1763827200123,
                    .decided_ms = 1763827200456,
                    .has_customer = customer != NULL};
    snprintf(o.booking_id, sizeof(o.booking_id), "%s", id);
    snprintf(o.customer, sizeof(o.customer), "%s", customer != NULL ? customer : "");
    return o;
}

/* Sequences of puts on one id, and what a get answers after them. */
static void test_states(void **state)
{
    (void)state;
    enum { PENDING, CONFIRMED, REJECTED, END };
    static const struct {
        const char *name;
        int trust_ms;
        int puts[4]; /* ended by END */
        bk_recent_state want;
        bk_booking_status want_status;
    } cases[] = {
        {"nothing put", 2000, {END}, BK_RECENT_MISS, BK_BOOKING_PENDING},
        {"pending within the window", 2000, {PENDING, END}, BK_RECENT_PENDING, BK_BOOKING_PENDING},
        {"pending outside the window", -1, {PENDING, END}, BK_RECENT_STALE, BK_BOOKING_PENDING},
        {"pending, then confirmed", 2000, {PENDING, CONFIRMED, END}, BK_RECENT_FINAL, BK_BOOKING_CONFIRMED},
        {"pending, then rejected", 2000, {PENDING, REJECTED, END}, BK_RECENT_FINAL, BK_BOOKING_SOLD_OUT},
        {"confirmed before the broker's ack reached us",
         2000,
         {CONFIRMED, PENDING, END},
         BK_RECENT_FINAL,
         BK_BOOKING_CONFIRMED},
        {"final is never stale", -1, {CONFIRMED, END}, BK_RECENT_FINAL, BK_BOOKING_CONFIRMED},
        {"a retried key's second pending", 2000, {PENDING, PENDING, END}, BK_RECENT_PENDING, BK_BOOKING_PENDING},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        bk_recent *recent = bk_recent_new(16, cases[k].trust_ms);
        assert_non_null(recent);
        for (int p = 0; cases[k].puts[p] != END; p++) {
            if (cases[k].puts[p] == PENDING) {
                bk_recent_put_pending(recent, ID_A, tier("VIP"), 2, NULL, 1763827200123);
            } else {
                bk_outcome o = outcome(ID_A, cases[k].puts[p] == CONFIRMED, NULL);
                bk_recent_put_final(recent, &o);
            }
        }
        bk_booking b;
        memset(&b, 0x5a, sizeof(b));
        bk_recent_state got = bk_recent_get(recent, ID_A, &b);
        EXPECT_INT(cases[k].name, "state", got, cases[k].want);
        if (got != BK_RECENT_MISS) {
            EXPECT_STR(cases[k].name, "booking_id", b.booking_id, ID_A);
            EXPECT_STR(cases[k].name, "tier", b.tier->code, "VIP");
            EXPECT_INT(cases[k].name, "quantity", b.quantity, 2);
            EXPECT_INT(cases[k].name, "amount_cents", b.amount_cents, 20000);
            EXPECT_STR(cases[k].name, "created_at", b.created_at, "2025-11-22T16:00:00.123Z");
            EXPECT_INT(cases[k].name, "status", b.status, cases[k].want_status);
        }
        if (got == BK_RECENT_FINAL) {
            EXPECT_STR(cases[k].name, "decided_at", b.decided_at, "2025-11-22T16:00:00.456Z");
        } else if (got != BK_RECENT_MISS) {
            EXPECT_STR(cases[k].name, "decided_at", b.decided_at, "");
        }
        bk_recent_free(recent);
    }
}

/* The customer comes back byte for byte, and an entry without one carries none. */
static void test_customer(void **state)
{
    (void)state;
    bk_recent *recent = bk_recent_new(16, 2000);
    assert_non_null(recent);
    bk_outcome with = outcome(ID_A, 1, "Zo\xc3\xab \"x\" \\");
    bk_recent_put_final(recent, &with);
    bk_booking b;
    assert_int_equal(bk_recent_get(recent, ID_A, &b), BK_RECENT_FINAL);
    assert_string_equal(b.customer, "Zo\xc3\xab \"x\" \\");

    bk_outcome without = outcome(ID_A, 0, NULL); /* the same slot, overwritten: the customer goes */
    bk_recent_put_final(recent, &without);
    assert_int_equal(bk_recent_get(recent, ID_A, &b), BK_RECENT_FINAL);
    assert_string_equal(b.customer, "");

    /* A pending entry keeps its customer too (a retried key is compared with it), and loses it
     * when the outcome without one arrives. */
    bk_recent_put_pending(recent, ID_B, tier("GA"), 1, "Ada", 1);
    assert_int_equal(bk_recent_get(recent, ID_B, &b), BK_RECENT_PENDING);
    assert_string_equal(b.customer, "Ada");
    bk_recent_put_pending(recent, ID_B, tier("GA"), 1, NULL, 1);
    assert_int_equal(bk_recent_get(recent, ID_B, &b), BK_RECENT_PENDING);
    assert_string_equal(b.customer, "");
    bk_recent_free(recent);
}

/* With one slot, every id collides: the newer entry evicts the older, and the older is a miss. */
static void test_collision_evicts(void **state)
{
    (void)state;
    bk_recent *recent = bk_recent_new(1, 2000);
    assert_non_null(recent);
    bk_outcome a = outcome(ID_A, 1, "a customer");
    bk_recent_put_final(recent, &a);
    bk_recent_put_pending(recent, ID_B, tier("GA"), 1, NULL, 1);
    bk_booking b;
    assert_int_equal(bk_recent_get(recent, ID_A, &b), BK_RECENT_MISS);
    assert_int_equal(bk_recent_get(recent, ID_B, &b), BK_RECENT_PENDING);
    assert_string_equal(b.tier->code, "GA");
    bk_recent_free(recent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_customer),
        cmocka_unit_test(test_collision_evicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
