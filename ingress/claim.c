/* Key claims in PostgreSQL (table booking_claims, sql/010_booking_claims.sql), through one
 * connection per HTTP thread. */
#include "ingress/claim.h"

#include "common/db.h"
#include "common/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bk_claims {
    char *dsn;
    pthread_key_t db_key; /* each thread's own bk_db */
};

static const bk_db_stmt stmts[] = {
    /* The first claim wins: a concurrent INSERT of the same id waits for ours to commit, then
     * does nothing. RETURNING tells us whether ours was the one. */
    {"claim", "INSERT INTO booking_claims (booking_id, fingerprint) VALUES ($1, $2) ON CONFLICT DO NOTHING "
              "RETURNING fingerprint"},
    /* A statement of its own, so that its snapshot sees the claim that won (the INSERT's did not). */
    {"claimed", "SELECT fingerprint FROM booking_claims WHERE booking_id = $1"},
};

static void free_db(void *db)
{
    bk_db_free(db);
}

bk_claims *bk_claims_new(const char *dsn, bk_err *err)
{
    bk_claims *claims = calloc(1, sizeof(*claims));
    if (claims != NULL) {
        claims->dsn = strdup(dsn);
    }
    if (claims == NULL || claims->dsn == NULL) {
        free(claims);
        bk_err_set(err, BK_E_NOMEM, "calloc bk_claims");
        return NULL;
    }
    if (pthread_key_create(&claims->db_key, free_db) != 0) {
        free(claims->dsn);
        free(claims);
        bk_err_set(err, BK_E_IO, "pthread_key_create for the claims connections failed");
        return NULL;
    }
    return claims;
}

void bk_claims_free(bk_claims *claims)
{
    if (claims == NULL) {
        return;
    }
    /* The threads that used it have ended, and their connections with them. */
    pthread_key_delete(claims->db_key);
    free(claims->dsn);
    free(claims);
}

static bk_db *thread_db(bk_claims *claims)
{
    bk_db *db = pthread_getspecific(claims->db_key);
    if (db == NULL) {
        db = bk_db_new(claims->dsn, stmts, (int)(sizeof(stmts) / sizeof(stmts[0])));
        pthread_setspecific(claims->db_key, db);
    }
    return db;
}

int bk_claims_claim(bk_claims *claims, const char *id, const char *fingerprint, bk_claim_verdict *verdict, bk_err *err)
{
    bk_db *db = thread_db(claims);
    if (db == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "claims connection for booking=%s", id);
    }
    PGresult *res = NULL;
    const char *values[] = {id, fingerprint};
    /* Safe to run twice: a claim that committed before the link broke is found by the second run,
     * which then reads it as ours (the same fingerprint). */
    int rc = bk_db_exec_reconnecting(db, "claim", 2, values, &res, err);
    if (rc == BK_OK && PQntuples(res) == 1) {
        *verdict = BK_CLAIM_NEW;
        goto out;
    }
    PQclear(res);
    res = NULL;
    if (rc == BK_OK) {
        rc = bk_db_exec_reconnecting(db, "claimed", 1, values, &res, err);
    }
    if (rc == BK_OK && PQntuples(res) != 1) {
        /* Claims are never deleted while the ingress runs: a lost row is a bug, not a retry. */
        rc = bk_err_set(err, BK_E_DB, "claim of booking=%s conflicted but cannot be read", id);
    }
    if (rc == BK_OK) {
        *verdict = strcmp(PQgetvalue(res, 0, 0), fingerprint) == 0 ? BK_CLAIM_SAME : BK_CLAIM_OTHER;
    }
out:
    PQclear(res);
    return rc;
}

int bk_claim_fingerprint(const bk_id_key *key, const bk_book_req *req, char *out, bk_err *err)
{
    /* tier NUL quantity NUL then "-" (no customer) or "+" and the customer: no two requests that
     * differ give the same bytes. */
    char data[sizeof(req->customer) + 64];
    int n = snprintf(data, sizeof(data), "%s%c%d%c%s%s", req->tier->code, '\0', req->quantity, '\0',
                     req->has_customer ? "+" : "-", req->has_customer ? req->customer : "");
    if (n < 0 || (size_t)n >= sizeof(data)) {
        return bk_err_set(err, BK_E_TOOBIG, "fingerprint of tier=%s does not fit", req->tier->code);
    }
    return bk_id_digest(key, data, (size_t)n, out, err);
}

int bk_claim_matches(const bk_book_req *req, const bk_booking *booking)
{
    return booking->tier == req->tier && booking->quantity == req->quantity &&
           strcmp(booking->customer, req->has_customer ? req->customer : "") == 0;
}
