/* Booking and tier reads. Timestamps are formatted by PostgreSQL in UTC, so no time zone rules
 * live in C. */
#include "ingress/lookup.h"

#include "common/clock.h"

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

void bk_lookup_from_outcome(const bk_outcome *o, int final, bk_booking *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->booking_id, o->booking_id, sizeof(out->booking_id));
    out->tier = o->tier;
    out->quantity = o->quantity;
    out->amount_cents = o->invalid ? 0 : (int64_t)o->quantity * o->tier->price_cents;
    if (o->has_customer) {
        memcpy(out->customer, o->customer, sizeof(out->customer));
    }
    bk_clock_format(o->created_ms, out->created_at, sizeof(out->created_at));
    if (final) {
        out->final = 1;
        out->confirmed = o->confirmed;
        if (!o->confirmed) {
            snprintf(out->reason, sizeof(out->reason), "%s", o->invalid ? "invalid" : "sold_out");
        }
        bk_clock_format(o->decided_ms, out->decided_at, sizeof(out->decided_at));
    }
}

static void read_row(PGresult *res, int row, bk_booking *b)
{
    memset(b, 0, sizeof(*b));
    snprintf(b->booking_id, sizeof(b->booking_id), "%s", PQgetvalue(res, row, 0));
    b->tier = bk_tier_find(PQgetvalue(res, row, 1), strlen(PQgetvalue(res, row, 1)));
    b->quantity = atoi(PQgetvalue(res, row, 2));
    b->final = 1;
    b->confirmed = strcmp(PQgetvalue(res, row, 3), "confirmed") == 0;
    snprintf(b->reason, sizeof(b->reason), "%s", PQgetvalue(res, row, 4));
    b->amount_cents = strtoll(PQgetvalue(res, row, 5), NULL, 10);
    snprintf(b->customer, sizeof(b->customer), "%s", PQgetvalue(res, row, 6));
    snprintf(b->created_at, sizeof(b->created_at), "%s", PQgetvalue(res, row, 7));
    snprintf(b->decided_at, sizeof(b->decided_at), "%s", PQgetvalue(res, row, 8));
}

int bk_lookup_booking(bk_db *db, const char *id, bk_booking *out, int *found, bk_err *err)
{
    PGresult *res = NULL;
    const char *values[] = {id};
    *found = 0;
    int rc = read_exec(db, "booking", 1, values, &res, err);
    if (rc == BK_OK && PQntuples(res) == 1) {
        read_row(res, 0, out);
        *found = out->tier != NULL;
    }
    PQclear(res);
    return rc;
}

int bk_lookup_bookings(bk_db *db, const char *ids_literal, bk_lookup_fn fn, void *arg, bk_err *err)
{
    PGresult *res = NULL;
    const char *values[] = {ids_literal};
    int rc = read_exec(db, "bookings", 1, values, &res, err);
    for (int row = 0; rc == BK_OK && row < PQntuples(res); row++) {
        bk_booking b;
        read_row(res, row, &b);
        if (b.tier != NULL) {
            fn(&b, arg);
        }
    }
    PQclear(res);
    return rc;
}

int bk_lookup_tiers(bk_db *db, bk_tier_state states[BK_TIER_COUNT], bk_err *err)
{
    PGresult *res = NULL;
    int rc = read_exec(db, "tiers", 0, NULL, &res, err);
    int n_found = 0;
    for (int row = 0; rc == BK_OK && row < PQntuples(res); row++) {
        const bk_tier *tier = bk_tier_find(PQgetvalue(res, row, 0), strlen(PQgetvalue(res, row, 0)));
        if (tier != NULL) {
            states[tier->partition].capacity = (int32_t)atol(PQgetvalue(res, row, 1));
            states[tier->partition].available = (int32_t)atol(PQgetvalue(res, row, 2));
            n_found++;
        }
    }
    if (rc == BK_OK && n_found != BK_TIER_COUNT) {
        rc = bk_err_set(err, BK_E_DB, "tiers table holds %d of the %d tiers", n_found, BK_TIER_COUNT);
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
