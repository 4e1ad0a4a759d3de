/* The processor's PostgreSQL side: one transaction per batch.
 *
 * A batch is a run of messages of one partition, in offset order. bk_store_apply() locks the
 * partition's stored offset (the fence), locks the tier row, lets bk_batch_decide() pick the
 * verdicts, then writes the booking rows, the guarded decrement, the dead letters and the next
 * offset, and commits. The offset is stored in the same transaction as the bookings it covers:
 * a crash anywhere means redelivery, never loss and never a second decrement.
 *
 * A dead letter whose booking id can be read ends that booking in the same transaction: a row
 * with status rejected, reason invalid, the tier of the partition, the message's quantity when it
 * could be read (else NULL), no customer, amount 0; it is announced like any outcome. */
#ifndef BK_PROCESSOR_STORE_H
#define BK_PROCESSOR_STORE_H

#include "common/batch.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/tier.h"

#include <stddef.h>
#include <stdint.h>

#define BK_STORE_PAYLOAD_MAX 1024 /* bytes of an undecodable message kept in dead_letters */

typedef struct bk_store bk_store;

/* One consumed message, decoded or not. */
typedef struct bk_store_msg {
    int64_t offset;
    int decoded; /* 1: msg is valid; 0: payload and error say why it is dead (msg keeps what could be read) */
    int refused; /* PostgreSQL refused: 1 its booking (dead-letter it, end the booking invalid);
                  * 2 even that (only record the dead letter). payload and error then say why. */
    bk_msg msg;
    size_t payload_len;
    char payload[BK_STORE_PAYLOAD_MAX]; /* kept only when undecodable, truncated to the cap */
    char error[256];                    /* plain ASCII, never PostgreSQL's text nor the customer */
    bk_verdict verdict;                 /* out: set by bk_store_apply */
} bk_store_msg;

typedef struct bk_store_stats {
    bk_batch_result result; /* counts of the last applied batch */
    int64_t stored_offset;  /* the fence found when the transaction started */
} bk_store_stats;

/* A store for topic on dsn; not connected until first used. NULL on allocation failure. */
bk_store *bk_store_new(const char *dsn, const char *topic);
void bk_store_free(bk_store *store);

/* (Re)connects if needed. */
int bk_store_connect(bk_store *store, bk_err *err) BK_WARN_UNUSED;

/* The next offset to apply for partition (0 when the partition was never applied). */
int bk_store_load_offset(bk_store *store, int32_t partition, int64_t *next_offset, bk_err *err) BK_WARN_UNUSED;

/* Applies msgs[0..n) of partition (carrying tier, NULL if the partition has none) in one
 * transaction and sets each verdict. On any failure the transaction is rolled back and nothing is
 * applied. BK_E_INVAL: PostgreSQL refused the batch for its data (processor/refusal.h), err says
 * so in a fixed sentence with the SQLSTATE; retrying the same batch would fail again. Any other
 * error (connection, timeout, a tier without its row): retry the same batch later. */
int bk_store_apply(bk_store *store, int32_t partition, const bk_tier *tier, bk_store_msg *msgs, size_t n,
                   bk_store_stats *stats, bk_err *err) BK_WARN_UNUSED;

#endif
