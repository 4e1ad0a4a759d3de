/* The batch decision: one pass in offset order with a small hash set of the ids seen. */
#include "common/batch.h"

#include "common/id.h"

#include <stdlib.h>
#include <string.h>

/* Inserts id into the open-addressing set; returns 1 if it was already there. */
static int seen_before(const char **slots, size_t mask, const char *id)
{
    for (size_t k = bk_id_hash(id) & mask;; k = (k + 1) & mask) {
        if (slots[k] == NULL) {
            slots[k] = id;
            return 0;
        }
        if (strcmp(slots[k], id) == 0) {
            return 1;
        }
    }
}

int bk_batch_decide(bk_batch_item *items, size_t n_items, int32_t available, int64_t stored_offset,
                    bk_batch_result *result, bk_err *err)
{
    memset(result, 0, sizeof(*result));
    result->next_offset = stored_offset;

    size_t n_slots = 16;
    while (n_slots < 2 * n_items) {
        n_slots *= 2;
    }
    const char **slots = calloc(n_slots, sizeof(*slots));
    if (slots == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "calloc of %zu id slots failed", n_slots);
    }

    int32_t left = available;
    for (size_t k = 0; k < n_items; k++) {
        bk_batch_item *it = &items[k];
        if (it->offset < stored_offset) {
            it->verdict = BK_VERDICT_APPLIED;
            result->n_applied++;
            continue;
        }
        result->next_offset = it->offset + 1;
        if (it->verdict == BK_VERDICT_UNDECODABLE) {
            /* A readable id takes its place in offset order like any booking: the first message of
             * an id decides it, whether it could be applied or not. */
            result->n_undecodable++;
            if (it->booking_id != NULL && it->booking_id[0] != '\0' && !it->known &&
                !seen_before(slots, n_slots - 1, it->booking_id)) {
                it->verdict = BK_VERDICT_INVALID;
                result->n_invalid++;
            }
        } else if (it->known || seen_before(slots, n_slots - 1, it->booking_id)) {
            it->verdict = BK_VERDICT_DUPLICATE;
            result->n_duplicate++;
        } else if (it->quantity <= left) {
            it->verdict = BK_VERDICT_CONFIRMED;
            left -= it->quantity;
            result->n_confirmed++;
        } else {
            it->verdict = BK_VERDICT_REJECTED;
            result->n_rejected++;
        }
    }
    result->seats_sold = available - left;
    free(slots);
    return BK_OK;
}
