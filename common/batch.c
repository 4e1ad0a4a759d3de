/* The batch decision: one pass in offset order with a set of the ids seen. */
#include "common/batch.h"

#include "common/idset.h"

#include <string.h>

/* The log's names of the verdicts, in enum order. */
static const char *const verdict_names[] = {
    [BK_VERDICT_UNDECODABLE] = "undecodable", [BK_VERDICT_PENDING] = "pending",
    [BK_VERDICT_CONFIRMED] = "confirmed",     [BK_VERDICT_REJECTED] = "rejected",
    [BK_VERDICT_DUPLICATE] = "duplicate",     [BK_VERDICT_APPLIED] = "applied",
    [BK_VERDICT_INVALID] = "invalid",
};

const char *bk_batch_verdict_name(bk_verdict verdict)
{
    return verdict_names[verdict];
}

int bk_batch_decide(bk_batch_item *items, size_t n_items, int32_t available, int64_t stored_offset,
                    bk_batch_result *result, bk_err *err)
{
    memset(result, 0, sizeof(*result));
    result->next_offset = stored_offset;

    /* Sized for every item: an add never has to grow it, so never fails. */
    bk_idset *seen = bk_idset_new(n_items);
    if (seen == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "id set of %zu ids", n_items);
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
                bk_idset_add(seen, it->booking_id, k) == 0) {
                it->verdict = BK_VERDICT_INVALID;
                result->n_invalid++;
            }
        } else if (it->known || bk_idset_add(seen, it->booking_id, k) != 0) {
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
    bk_idset_free(seen);
    return BK_OK;
}
