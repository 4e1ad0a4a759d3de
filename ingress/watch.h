/* Long-poll support: requests waiting for a booking's outcome (?wait=MS) register here. One
 * thread LISTENs on PostgreSQL channel bk_decided, where the processors announce every outcome at
 * commit (common/outcome.h); it writes each into the booking memory (recent.h) and hands the
 * booking back to its waiters. A new waiter is first checked against that memory. PostgreSQL is
 * asked only as a safety net: for waiters older than two seconds, and for every waiter during the
 * two seconds after LISTEN was (re)established on a new connection (notifications sent meanwhile
 * are gone). A waiter whose deadline passes is handed back with NULL. */
#ifndef BK_INGRESS_WATCH_H
#define BK_INGRESS_WATCH_H

#include "common/err.h"
#include "ingress/lookup.h"
#include "ingress/recent.h"

#include <stdint.h>

typedef struct bk_watch bk_watch;

/* Called on the watch thread, exactly once per bk_watch_add: with the decided booking, or NULL
 * when the deadline passed or the watch is shutting down. */
typedef void (*bk_watch_done_fn)(void *opaque, const bk_booking *booking);

/* Starts the watch thread on its own connection to dsn, feeding recent (borrowed, must outlive
 * the watch). NULL with err on failure. */
bk_watch *bk_watch_new(const char *dsn, const bk_tier_catalogue *tiers, bk_recent *recent, bk_watch_done_fn done,
                       bk_err *err);

/* Waits for booking id until deadline_ms (monotonic); thread-safe. If the booking memory already
 * holds the outcome, nothing is registered: *decided = 1, out holds the booking, and done() is not
 * called. */
int bk_watch_add(bk_watch *watch, const char *id, int64_t deadline_ms, void *opaque, bk_booking *out, int *decided,
                 bk_err *err) BK_WARN_UNUSED;

/* How many requests are waiting now. */
size_t bk_watch_count(bk_watch *watch);

/* Stops the thread, hands back every remaining waiter with NULL, frees (NULL-safe). */
void bk_watch_free(bk_watch *watch);

#endif
