/* The ingress's reads from PostgreSQL: bookings by id and the tier table. Each HTTP thread has its
 * own connection (created on first use, reconnected after a failure). */
#ifndef BK_INGRESS_LOOKUP_H
#define BK_INGRESS_LOOKUP_H

#include "common/booking.h"
#include "common/db.h"
#include "common/err.h"
#include "common/tier.h"

#include <stdint.h>

/* The statement timeout of the ingress's connections (the client waits BK_DB_GRACE_MS longer):
 * its reads are by key and take milliseconds, and an HTTP thread or the watch that waits longer
 * for an answer keeps everyone else waiting too. */
#define BK_LOOKUP_TIMEOUT_MS 1500

/* A database handle prepared with the lookup statements, statement timeout BK_LOOKUP_TIMEOUT_MS. */
bk_db *bk_lookup_db_new(const char *dsn);

/* Every read below fails at once (BK_E_DB) when db is NULL: the caller knows the database is away. */

/* The booking with this id: BK_OK and *found=1 if decided, *found=0 if it has no row yet. */
int bk_lookup_booking(bk_db *db, const bk_tier_catalogue *tiers, const char *id, bk_booking *out, int *found,
                      bk_err *err) BK_WARN_UNUSED;

/* Calls fn for each decided booking among ids (a PostgreSQL text array literal "{id,id}"). */
typedef void (*bk_lookup_fn)(const bk_booking *booking, void *arg);
int bk_lookup_bookings(bk_db *db, const bk_tier_catalogue *tiers, const char *ids_literal, bk_lookup_fn fn, void *arg,
                       bk_err *err) BK_WARN_UNUSED;

/* Capacity and availability of each tier of the catalogue, in catalogue order. */
typedef struct bk_tier_state {
    int32_t capacity;
    int32_t available;
} bk_tier_state;
int bk_lookup_tiers(bk_db *db, const bk_tier_catalogue *tiers, bk_tier_state states[BK_TIER_PARTITIONS_MAX],
                    bk_err *err) BK_WARN_UNUSED;

/* SELECT 1: is the database there? */
int bk_lookup_ping(bk_db *db, bk_err *err) BK_WARN_UNUSED;

#endif
