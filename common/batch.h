/* The per-batch decision: who gets seats. Pure: no I/O, driven by cmocka tables.
 *
 * The processor reads a batch of messages of one partition (one tier) in offset order, locks the
 * tier's row, and asks this module for each message's verdict. The result is, by construction,
 * the one that applying the messages one by one in offset order would give: first come, first
 * served; an order too large for what is left is rejected and a later smaller one that still
 * fits is confirmed. */
#ifndef BK_COMMON_BATCH_H
#define BK_COMMON_BATCH_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

typedef enum bk_verdict {
    BK_VERDICT_UNDECODABLE = 0, /* in: set by the caller for a message that failed to decode; out: only
                                 * recorded (no readable id, or its booking was already decided) */
    BK_VERDICT_PENDING,         /* in: a decoded message awaiting its verdict */
    BK_VERDICT_CONFIRMED,       /* seats taken */
    BK_VERDICT_REJECTED,        /* not enough seats left: sold_out */
    BK_VERDICT_DUPLICATE,       /* this booking id was already decided (in the database or earlier in the batch) */
    BK_VERDICT_APPLIED,         /* offset below the stored next offset: applied before, by us or another owner */
    BK_VERDICT_INVALID,         /* undecodable, but its booking id can be read: recorded, and that booking
                                 * ends rejected (reason "invalid") unless it was decided before */
} bk_verdict;

typedef struct bk_batch_item {
    int64_t offset;         /* in: Kafka offset, strictly increasing along the batch */
    const char *booking_id; /* in: NUL-terminated; for UNDECODABLE, NULL or "" when it cannot be read */
    int32_t quantity;       /* in */
    int known;              /* in: the booking id already has a row in the database */
    bk_verdict verdict;     /* in: PENDING or UNDECODABLE; out: the verdict */
} bk_batch_item;

typedef struct bk_batch_result {
    int32_t seats_sold; /* seats confirmed by this batch: the guarded decrement's amount */
    size_t n_confirmed;
    size_t n_rejected;
    size_t n_duplicate;
    size_t n_undecodable; /* undecodable messages at or past the stored offset: to dead-letter */
    size_t n_invalid;     /* of those, the ones whose booking ends invalid (verdict INVALID) */
    size_t n_applied;     /* messages skipped because the stored offset is past them */
    int64_t next_offset;  /* the offset to store: max(stored, last offset + 1) */
} bk_batch_result;

/* The verdict's name for logs: "confirmed", "duplicate", … */
const char *bk_batch_verdict_name(bk_verdict verdict);

/* Decides items[0..n_items) against `available` seats and the partition's stored next offset.
 * Messages below stored_offset are APPLIED and change nothing (fencing: a second owner of the
 * partition, or a redelivery after a crash). Returns BK_OK, or BK_E_NOMEM. */
int bk_batch_decide(bk_batch_item *items, size_t n_items, int32_t available, int64_t stored_offset,
                    bk_batch_result *result, bk_err *err) BK_WARN_UNUSED;

#endif
