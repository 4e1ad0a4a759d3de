/* libpq edge of the replayer: one connection, fixed SQL texts with $n parameters (never built with
 * printf), every PGresult cleared. Reading is done once, after the run, so a plain PQexecParams
 * that holds the whole result is simplest; a million rows is about 100 MB, which is acceptable
 * for a test tool. */
#include "tools/replay/pgstate.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPACITY_MAX 2000000000LL

struct bk_pgstate {
    PGconn *conn;
    char **baseline; /* sorted booking ids that existed before the run */
    size_t n_baseline;
};

int bk_pgstate_parse_caps(const char *spec, bk_pgstate_cap *caps, size_t max_caps, size_t *n_caps, bk_err *err)
{
    const char *p = spec;
    *n_caps = 0;
    if (spec == NULL || spec[0] == '\0') {
        return bk_err_set(err, BK_E_INVAL, "empty reset spec, want e.g. VIP=100,FRONT_ROW=200,GA=1000");
    }
    while (*p != '\0') {
        size_t len = 0;
        while ((p[len] >= 'A' && p[len] <= 'Z') || p[len] == '_') {
            len++;
        }
        if (len == 0 || len >= BK_VERIFY_TIER_MAX || p[len] != '=') {
            return bk_err_set(err, BK_E_INVAL, "reset spec \"%s\": want TIER=CAPACITY items at \"%s\"", spec, p);
        }
        if (*n_caps == max_caps) {
            return bk_err_set(err, BK_E_INVAL, "reset spec \"%s\" names more than %zu tiers", spec, max_caps);
        }
        bk_pgstate_cap *cap = &caps[*n_caps];
        memcpy(cap->tier, p, len);
        cap->tier[len] = '\0';
        for (size_t k = 0; k < *n_caps; k++) {
            if (strcmp(caps[k].tier, cap->tier) == 0) {
                return bk_err_set(err, BK_E_INVAL, "reset spec \"%s\" names %s twice", spec, cap->tier);
            }
        }
        p += len + 1;
        int64_t value = 0;
        size_t digits = 0;
        while (p[digits] >= '0' && p[digits] <= '9') {
            value = value * 10 + (p[digits] - '0');
            if (value > CAPACITY_MAX) {
                return bk_err_set(err, BK_E_INVAL, "reset spec \"%s\": capacity of %s over %lld", spec, cap->tier,
                                  CAPACITY_MAX);
            }
            digits++;
        }
        if (digits == 0 || (p[digits] != ',' && p[digits] != '\0')) {
            return bk_err_set(err, BK_E_INVAL, "reset spec \"%s\": capacity of %s is not a number", spec, cap->tier);
        }
        cap->capacity = value;
        (*n_caps)++;
        p += digits;
        if (*p == ',') {
            p++;
            if (*p == '\0') {
                return bk_err_set(err, BK_E_INVAL, "reset spec \"%s\" ends with a comma", spec);
            }
        }
    }
    return BK_OK;
}

bk_pgstate *bk_pgstate_new(const char *dsn, bk_err *err)
{
    bk_pgstate *pg = calloc(1, sizeof(*pg));
    if (pg == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_pgstate");
        return NULL;
    }
    pg->conn = PQconnectdb(dsn);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        const char *msg = pg->conn != NULL ? PQerrorMessage(pg->conn) : "out of memory";
        bk_err_set(err, BK_E_DB, "PQconnectdb: %.*s", (int)strcspn(msg, "\n"), msg);
        bk_pgstate_free(pg);
        return NULL;
    }
    return pg;
}

void bk_pgstate_free(bk_pgstate *pg)
{
    if (pg == NULL) {
        return;
    }
    for (size_t k = 0; k < pg->n_baseline; k++) {
        free(pg->baseline[k]);
    }
    free(pg->baseline);
    PQfinish(pg->conn);
    free(pg);
}

/* Runs one statement; *res (if res is not NULL) takes the result on success. */
static int exec(bk_pgstate *pg, const char *what, const char *sql, int n_params, const char *const *params,
                PGresult **res, bk_err *err)
{
    PGresult *r = PQexecParams(pg->conn, sql, n_params, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *msg = r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn);
        const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        int rc = bk_err_set(err, BK_E_DB, "%s: %.*s (sqlstate %s)", what, (int)strcspn(msg, "\n"), msg,
                            state != NULL ? state : "none");
        PQclear(r);
        return rc;
    }
    if (res != NULL) {
        *res = r;
    } else {
        PQclear(r);
    }
    return BK_OK;
}

int bk_pgstate_reset(bk_pgstate *pg, const bk_pgstate_cap *caps, size_t n_caps, bk_err *err)
{
    int rc = exec(pg, "begin", "BEGIN", 0, NULL, NULL, err);
    if (rc != BK_OK) {
        return rc;
    }
    /* TRUNCATE, not DELETE: no dead tuples left to slow the next run down. It waits for the
     * services' open statements, so it is bounded. */
    rc = exec(pg, "set lock_timeout", "SET LOCAL lock_timeout = '10s'", 0, NULL, NULL, err);
    if (rc == BK_OK) {
        rc = exec(pg, "truncate bookings", "TRUNCATE bookings", 0, NULL, NULL, err);
    }
    if (rc == BK_OK) {
        rc = exec(pg, "refill tiers", "UPDATE tiers SET available = capacity", 0, NULL, NULL, err);
    }
    if (rc != BK_OK) {
        goto out;
    }
    for (size_t k = 0; k < n_caps; k++) {
        char capacity[24];
        snprintf(capacity, sizeof(capacity), "%lld", (long long)caps[k].capacity);
        const char *params[] = {caps[k].tier, capacity};
        PGresult *res = NULL;
        rc =
            exec(pg, "set capacity", "UPDATE tiers SET capacity = $2::integer, available = $2::integer WHERE tier = $1",
                 2, params, &res, err);
        if (rc == BK_OK && strcmp(PQcmdTuples(res), "1") != 0) {
            rc = bk_err_set(err, BK_E_NOTFOUND, "reset: no tier %s in the tiers table", caps[k].tier);
        }
        PQclear(res);
        if (rc != BK_OK) {
            goto out;
        }
    }
    rc = exec(pg, "commit", "COMMIT", 0, NULL, NULL, err);

out:
    if (rc != BK_OK) {
        PGresult *res = PQexec(pg->conn, "ROLLBACK");
        PQclear(res);
    }
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int bk_pgstate_take_baseline(bk_pgstate *pg, bk_err *err)
{
    PGresult *res = NULL;
    int rc = exec(pg, "read baseline", "SELECT booking_id FROM bookings", 0, NULL, &res, err);
    if (rc != BK_OK) {
        return rc;
    }
    size_t n = (size_t)PQntuples(res);
    pg->baseline = calloc(n + 1, sizeof(*pg->baseline));
    if (pg->baseline == NULL) {
        rc = bk_err_set(err, BK_E_NOMEM, "baseline of %zu ids", n);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        pg->baseline[k] = strdup(PQgetvalue(res, (int)k, 0));
        if (pg->baseline[k] == NULL) {
            rc = bk_err_set(err, BK_E_NOMEM, "baseline id %zu", k);
            goto out;
        }
        pg->n_baseline++;
    }
    qsort(pg->baseline, pg->n_baseline, sizeof(*pg->baseline), cmp_str);

out:
    PQclear(res);
    return rc;
}

int bk_pgstate_read_tiers(bk_pgstate *pg, bk_verify_tier *tiers, size_t max_tiers, size_t *n_tiers, bk_err *err)
{
    PGresult *res = NULL;
    *n_tiers = 0;
    int rc =
        exec(pg, "read tiers", "SELECT tier, capacity, available FROM tiers ORDER BY position", 0, NULL, &res, err);
    if (rc != BK_OK) {
        return rc;
    }
    for (int k = 0; k < PQntuples(res) && *n_tiers < max_tiers; k++) {
        bk_verify_tier *t = &tiers[(*n_tiers)++];
        memset(t, 0, sizeof(*t));
        snprintf(t->tier, sizeof(t->tier), "%s", PQgetvalue(res, k, 0));
        t->capacity = strtoll(PQgetvalue(res, k, 1), NULL, 10);
        t->available = strtoll(PQgetvalue(res, k, 2), NULL, 10);
    }
    PQclear(res);
    return BK_OK;
}

int bk_pgstate_read_rows(bk_pgstate *pg, bk_verify_row **rows, size_t *n_rows, bk_pgstate_span *span, bk_err *err)
{
    PGresult *res = NULL;
    *rows = NULL;
    *n_rows = 0;
    memset(span, 0, sizeof(*span));
    int rc = exec(pg, "read bookings",
                  "SELECT booking_id, tier, quantity, status = 'confirmed', "
                  "(extract(epoch FROM decided_at) * 1000)::bigint FROM bookings",
                  0, NULL, &res, err);
    if (rc != BK_OK) {
        return rc;
    }
    size_t n = (size_t)PQntuples(res);
    bk_verify_row *out = calloc(n + 1, sizeof(*out));
    if (out == NULL) {
        rc = bk_err_set(err, BK_E_NOMEM, "%zu booking rows", n);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        const char *id = PQgetvalue(res, (int)k, 0);
        if (pg->n_baseline > 0 && bsearch(&id, pg->baseline, pg->n_baseline, sizeof(*pg->baseline), cmp_str) != NULL) {
            continue;
        }
        bk_verify_row *row = &out[(*n_rows)++];
        snprintf(row->booking_id, sizeof(row->booking_id), "%s", id);
        snprintf(row->tier, sizeof(row->tier), "%s", PQgetvalue(res, (int)k, 1));
        row->quantity = atoi(PQgetvalue(res, (int)k, 2));
        row->confirmed = strcmp(PQgetvalue(res, (int)k, 3), "t") == 0;
        int64_t decided = strtoll(PQgetvalue(res, (int)k, 4), NULL, 10);
        if (span->n_rows == 0 || decided < span->first_decided_ms) {
            span->first_decided_ms = decided;
        }
        if (span->n_rows == 0 || decided > span->last_decided_ms) {
            span->last_decided_ms = decided;
        }
        span->n_rows++;
    }
    *rows = out;

out:
    PQclear(res);
    return rc;
}
