/* Recently accepted bookings, in memory: so that a pending booking can be shown with its tier and
 * quantity, and a retried Idempotency-Key answered without publishing again. A direct-mapped
 * table: a collision evicts the older entry, which only costs a less detailed "pending" answer
 * or one more (deduplicated) message. Thread-safe. */
#ifndef BK_INGRESS_RECENT_H
#define BK_INGRESS_RECENT_H

#include "ingress/lookup.h"

#include <stddef.h>

typedef struct bk_recent bk_recent;

/* A table of n_slots entries (rounded up to a power of two). NULL on allocation failure. */
bk_recent *bk_recent_new(size_t n_slots);
void bk_recent_free(bk_recent *recent);

/* Remembers a pending booking (id, tier, quantity, created_at). */
void bk_recent_put(bk_recent *recent, const bk_booking *booking);

/* Fills out (pending, without customer) and returns 1 if id is remembered, else 0. */
int bk_recent_get(bk_recent *recent, const char *id, bk_booking *out);

#endif
