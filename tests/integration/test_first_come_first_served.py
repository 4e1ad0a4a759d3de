"""First come, first served within a tier (docs/design.md): whatever the processor batches, each booking gets the
outcome it would get if the messages were applied one by one in offset order. The requests are sent one
after another (each after the previous 202, so offsets follow send order) without waiting for outcomes.
"live": the processor runs and may or may not batch them; "batched": it is stopped (cleanly) while they
are sent, so on restart they are all waiting and land in one batch — the batch decision is what decides."""

import pytest

from helpers import PRICE, SOLD_OUT_MESSAGE, assert_final_booking, assert_tier_consistent

C, R = "confirmed", "rejected"

# (capacity, quantities in send order, expected outcomes, seats left)
SEQUENCES = [
    pytest.param(5, [3, 3, 2, 1], [C, R, C, R], 0, id="3-3-2-1_of_5", marks=pytest.mark.happy),
    pytest.param(20, [10, 10, 1], [C, C, R], 0, id="exact_sell_out"),
    pytest.param(6, [4, 2, 5, 1, 1], [C, C, R, R, R], 0, id="nothing_after_zero"),
    pytest.param(7, [5, 3, 2, 1], [C, R, C, R], 0, id="smaller_fits_after_rejection"),
    pytest.param(5, [1] * 7, [C] * 5 + [R] * 2, 0, id="singles"),
    pytest.param(9, [10, 9], [R, C], 0, id="too_big_first"),
    pytest.param(12, [2, 10, 1], [C, C, R], 0, id="fill_then_reject"),
    pytest.param(12, [4, 4, 5, 5], [C, C, R, R], 4, id="seats_left_over"),
]


@pytest.mark.parametrize("mode", ["live", "batched"])
@pytest.mark.parametrize("capacity, quantities, outcomes, left", SEQUENCES)
def test_outcomes_follow_arrival_order(stack, api, db, drain, reset_tier, capacity, quantities, outcomes, left, mode):
    reset_tier("FRONT_ROW", capacity)
    if mode == "batched":
        stack.processor.stop()
    ids = [api.accepted("FRONT_ROW", q)["booking_id"] for q in quantities]
    if mode == "batched":
        assert db.count_tier("FRONT_ROW") == 0
        stack.start_processor()

    finals = [api.wait_final(booking_id) for booking_id in ids]
    for body, quantity, outcome in zip(finals, quantities, outcomes):
        assert_final_booking(body, "FRONT_ROW", quantity, status=outcome)
        if outcome == R:
            assert body["message"] == SOLD_OUT_MESSAGE
        else:
            assert body["amount_cents"] == quantity * PRICE["FRONT_ROW"]

    drain()
    rows = {r.booking_id: r for r in assert_tier_consistent(db, "FRONT_ROW", capacity, capacity)}
    assert [rows[i].status for i in ids] == outcomes
    offsets = [rows[i].kafka_offset for i in ids]
    assert offsets == sorted(offsets), "offsets do not follow the order the 202s came back in"
    assert db.tier("FRONT_ROW") == (capacity, left)
