/* GET /tickets: availability per tier, served from a cache no older than BK_TICKETS_CACHE_MS
 * (SPEC allows up to 1 s), so an on-sale crowd refreshing the page costs one query per period. */
#ifndef BK_INGRESS_TICKETS_H
#define BK_INGRESS_TICKETS_H

#include "common/db.h"
#include "common/err.h"

#include <stddef.h>

typedef struct bk_tickets bk_tickets;

bk_tickets *bk_tickets_new(int max_age_ms);
void bk_tickets_free(bk_tickets *tickets);

/* A malloc'd copy of the current body (*len bytes); refreshes it through db when too old.
 * NULL with err when the database cannot be read and the cache is too old. */
char *bk_tickets_get(bk_tickets *tickets, bk_db *db, size_t *len, bk_err *err);

#endif
