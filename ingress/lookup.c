/* Booking and tier reads. Timestamps are formatted by PostgreSQL in UTC, so no time zone rules
 * live in C. */
#include "ingress/lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOOKING_COLUMNS                                                                                                \
    "booking_id, tier, quantity, status, coalesce(reason, ''), amount_cents, coalesce(customer, ''), "                 \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "                                    \
    "to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static const bk_db_stmt stmts[] = {
    {"booking", "SELECT " BOOKING_COLUMNS " FROM bookings WHERE booking_id = $1"},
    {"bookings", "SELECT " BOOKING_COLUMNS " FROM bookings WHERE booking_id = ANY ($1::text[])"},
    {"tiers", "SELECT tier, capacity, available FROM tiers"},
    {"ping", "SELECT 1"},
};

/* Runs a read (safe to run twice), or fails at once on the NULL handle of a database known away. */
static int read_exec(bk_db *db, const char *name, int n, const char *const *values, PGresult **res, bk_err *err)
{
    if (db == NULL) {
        return bk_err_set(err, BK_E_DB, "%s: the database is away (GET /health)", name);
    }
    return bk_db_exec_reconnecting(db, name, n, values, res, err);
}

bk_db *bk_lookup_db_new(const char *dsn)
{
    bk_db *db = bk_db_new(dsn, stmts, (int)(sizeof(stmts) / sizeof(stmts[0])));
    if (db != NULL) {
        bk_db_set_timeout(db, BK_LOOKUP_TIMEOUT_MS);
    }
    return db;
}

/* Fills b from a row; 0 if the row holds a tier the catalogue or a status this build does not know. */
static int read_row(const bk_tier_catalogue *tiers, PGresult *res, int row, bk_booking *b)
{
    memset(b, 0, sizeof(*b));
    snprintf(b->booking_id, sizeof(b->booking_id), "%s", PQgetvalue(res, row, 0));
    b->tier = bk_tier_find(tiers, PQgetvalue(res, row, 1), strlen(PQgetvalue(res, row, 1)));
    b->quantity = atoi(PQgetvalue(res, row, 2));
    int known = bk_booking_status_parse(PQgetvalue(res, row, 3), PQgetvalue(res, row, 4), &b->status, NULL) == BK_OK;
    b->amount_cents = strtoll(PQgetvalue(res, row, 5), NULL, 10);
    snprintf(b->customer, sizeof(b->customer), "%s", PQgetvalue(res, row, 6));
    snprintf(b->created_at, sizeof(b->created_at), "%s", PQgetvalue(res, row, 7));
    snprintf(b->decided_at, sizeof(b->decided_at), "%s", PQgetvalue(res, row, 8));
    return known && b->tier != NULL;
}

int bk_lookup_booking(bk_db *db, const bk_tier_catalogue *tiers, const char *id, bk_booking *out, int *found,
                      bk_err *err)
{
    PGresult *res = NULL;
    const char *values[] = {id};
    *found = 0;
    int rc = read_exec(db, "booking", 1, values, &res, err);
    if (rc == BK_OK && PQntuples(res) == 1) {
        *found = read_row(tiers, res, 0, out);
    }
    PQclear(res);
    return rc;
}

int bk_lookup_bookings(bk_db *db, const bk_tier_catalogue *tiers, const char *ids_literal, bk_lookup_fn fn, void *arg,
                       bk_err *err)
{
    PGresult *res = NULL;
    const char *values[] = {ids_literal};
    int rc = read_exec(db, "bookings", 1, values, &res, err);
    for (int row = 0; rc == BK_OK && row < PQntuples(res); row++) {
        bk_booking b;
        if (read_row(tiers, res, row, &b)) {
            fn(&b, arg);
        }
    }
    PQclear(res);
    return rc;
}

int bk_lookup_tiers(bk_db *db, const bk_tier_catalogue *tiers, bk_tier_state states[BK_TIER_PARTITIONS_MAX],
                    bk_err *err)
{
    PGresult *res = NULL;
    int rc = read_exec(db, "tiers", 0, NULL, &res, err);
    int n_found = 0;
    for (int row = 0; rc == BK_OK && row < PQntuples(res); row++) {
        const bk_tier *tier = bk_tier_find(tiers, PQgetvalue(res, row, 0), strlen(PQgetvalue(res, row, 0)));
        if (tier != NULL) {
            states[tier->partition].capacity = (int32_t)atol(PQgetvalue(res, row, 1));
            states[tier->partition].available = (int32_t)atol(PQgetvalue(res, row, 2));
            n_found++;
        }
    }
    if (rc == BK_OK && n_found != tiers->count) {
        rc = bk_err_set(err, BK_E_DB, "tiers table holds %d of the %d tiers of the catalogue", n_found, tiers->count);
    }
    PQclear(res);
    return rc;
}

int bk_lookup_ping(bk_db *db, bk_err *err)
{
    PGresult *res = NULL;
    int rc = read_exec(db, "ping", 0, NULL, &res, err);
    PQclear(res);
    return rc;
}
