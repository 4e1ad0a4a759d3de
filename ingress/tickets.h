/* GET /tickets: availability per tier, served from a cache no older than BK_TICKETS_CACHE_MS
 * (at most 1 s), so an on-sale crowd refreshing the page costs one query per period. */
#ifndef BK_INGRESS_TICKETS_H
#define BK_INGRESS_TICKETS_H

#include "common/db.h"
#include "common/err.h"
#include "common/tier.h"

#include <stddef.h>

typedef struct bk_tickets bk_tickets;

/* Refreshes the body once it is max_age_ms old. A caller that finds no body young enough to serve
 * while another refreshes it waits for that refresh, at most wait_ms (the query itself is
 * bounded: common/db.c), rather than answer 503 at once. */
bk_tickets *bk_tickets_new(const bk_tier_catalogue *tiers, int max_age_ms, int wait_ms);
void bk_tickets_free(bk_tickets *tickets);

/* No body older than this is served (the API promises at most 1 s). */
#define BK_TICKETS_MAX_AGE_MS 1000
/* How long a caller waits for a refresh in flight: a healthy database answers in a few ms, a loaded
 * machine may take a few hundred; past this the HTTP thread stops waiting (503). */
#define BK_TICKETS_WAIT_MS 250

/* A malloc'd copy of the current body (*len bytes). When it is older than max_age_ms, one caller
 * refreshes it through db (NULL: the database is known to be away) without holding the lock;
 * callers meanwhile get the cached body while younger than BK_TICKETS_MAX_AGE_MS, else wait for
 * the refresh (at most wait_ms). NULL with err when there is no body young enough. Thread-safe. */
char *bk_tickets_get(bk_tickets *tickets, bk_db *db, size_t *len, bk_err *err);

/* How many callers wait for a refresh in flight right now. */
int bk_tickets_waiting(bk_tickets *tickets);

#endif
