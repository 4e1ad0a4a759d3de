/* The ingress's memory of bookings: those it accepted (pending) and every outcome the processors
 * announced (final, from NOTIFY bk_decided), so that most status questions are answered without
 * PostgreSQL. A direct-mapped table: a collision evicts the older entry, which only sends that
 * booking's next question to the database. A final entry is the truth (outcomes never change);
 * a pending one is trusted only for a short while, since a notification lost while the watch
 * reconnects would otherwise leave it pending here forever. Thread-safe. */
#ifndef BK_INGRESS_RECENT_H
#define BK_INGRESS_RECENT_H

#include "common/booking.h"
#include "common/outcome.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bk_recent bk_recent;

typedef enum bk_recent_state {
    BK_RECENT_MISS = 0, /* not remembered */
    BK_RECENT_STALE,    /* pending when last heard of, longer ago than the trust window: ask the database */
    BK_RECENT_PENDING,  /* accepted within the trust window and not decided since */
    BK_RECENT_FINAL,    /* decided */
} bk_recent_state;

/* A table of n_slots entries (rounded up to a power of two) that trusts a pending entry for
 * trust_ms after it was put. NULL on allocation failure. */
bk_recent *bk_recent_new(size_t n_slots, int trust_ms);
void bk_recent_free(bk_recent *recent);

/* Remembers a booking this ingress just accepted, with its customer (NULL: none), so that a retry
 * with the same Idempotency-Key can be told from another request with that key. */
void bk_recent_put_pending(bk_recent *recent, const char *id, const bk_tier *tier, int quantity, const char *customer,
                           int64_t created_ms);

/* Remembers an announced outcome. */
void bk_recent_put_final(bk_recent *recent, const bk_outcome *outcome);

/* What the table knows of id; out is filled unless BK_RECENT_MISS. */
bk_recent_state bk_recent_get(bk_recent *recent, const char *id, bk_booking *out);

#endif
