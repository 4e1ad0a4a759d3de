/* PostgreSQL connection handling: connect, prepare, execute, notice when the link is gone. */
#include "common/db.h"

#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bk_db {
    char *dsn;
    const bk_db_stmt *stmts;
    int n_stmts;
    PGconn *conn; /* NULL when not connected */
    char sqlstate[6];
};

/* libpq prints notices to stderr by default; route them through our logger instead. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    bk_log_info("event=pg_notice msg=\"%.*s\"", (int)strcspn(message, "\n"), message);
}

bk_db *bk_db_new(const char *dsn, const bk_db_stmt *stmts, int n_stmts)
{
    bk_db *db = calloc(1, sizeof(*db));
    if (db == NULL) {
        return NULL;
    }
    db->dsn = strdup(dsn);
    if (db->dsn == NULL) {
        free(db);
        return NULL;
    }
    db->stmts = stmts;
    db->n_stmts = n_stmts;
    return db;
}

static void disconnect(bk_db *db)
{
    if (db->conn != NULL) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
}

void bk_db_free(bk_db *db)
{
    if (db == NULL) {
        return;
    }
    disconnect(db);
    free(db->dsn);
    free(db);
}

int bk_db_connected(const bk_db *db)
{
    return db->conn != NULL;
}

PGconn *bk_db_conn(bk_db *db)
{
    return db->conn;
}

const char *bk_db_last_sqlstate(const bk_db *db)
{
    return db->sqlstate;
}

/* Records a failed result: its message and SQLSTATE, and whether the connection survived. */
static int fail(bk_db *db, PGresult *res, const char *what, bk_err *err)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state != NULL ? state : "");
    const char *text = res != NULL ? PQresultErrorMessage(res) : "";
    if (text[0] == '\0' && db->conn != NULL) {
        text = PQerrorMessage(db->conn);
    }
    int rc = bk_err_set(err, BK_E_DB, "%s failed: sqlstate=%s %s", what, db->sqlstate, text);
    PQclear(res);
    if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK) {
        disconnect(db);
    }
    return rc;
}

int bk_db_connect(bk_db *db, bk_err *err)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
        return BK_OK;
    }
    disconnect(db);
    /* The DSN may set its own values; otherwise an unreachable server costs at most 3 s, and a
     * process frozen inside a transaction (a SIGSTOPped zombie processor) loses it after 5 s
     * instead of holding its row locks, and so the whole pipeline, for as long as it is frozen.
     * Every statement of ours reads by key. At an on-sale the bookings table grows by tens of
     * thousands of rows between two ANALYZEs; the planner, still believing it tiny, would scan it
     * for every "= ANY(ids)" lookup (measured: half the machine's CPU). No sequential scans, then. */
    const char *const keys[] = {"connect_timeout", "options", "dbname", NULL};
    const char *const values[] = {"3", "-c idle_in_transaction_session_timeout=5s -c enable_seqscan=off", db->dsn,
                                  NULL};
    db->conn = PQconnectdbParams(keys, values, 1);
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
        int rc = bk_err_set(err, BK_E_DB, "PQconnectdbParams failed: %s",
                            db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory");
        disconnect(db);
        return rc;
    }
    PQsetNoticeProcessor(db->conn, on_notice, NULL);
    for (int k = 0; k < db->n_stmts; k++) {
        PGresult *res = PQprepare(db->conn, db->stmts[k].name, db->stmts[k].sql, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            int rc = fail(db, res, db->stmts[k].name, err);
            disconnect(db);
            return rc;
        }
        PQclear(res);
    }
    return BK_OK;
}

int bk_db_exec(bk_db *db, const char *name, int n_params, const char *const *values, PGresult **res, bk_err *err)
{
    *res = NULL;
    if (db->conn == NULL) {
        return bk_err_set(err, BK_E_DB, "%s: not connected", name);
    }
    PGresult *r = PQexecPrepared(db->conn, name, n_params, values, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        return fail(db, r, name, err);
    }
    db->sqlstate[0] = '\0';
    *res = r;
    return BK_OK;
}

int bk_db_command(bk_db *db, const char *sql, bk_err *err)
{
    if (db->conn == NULL) {
        return bk_err_set(err, BK_E_DB, "%s: not connected", sql);
    }
    PGresult *res = PQexec(db->conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        return fail(db, res, sql, err);
    }
    PQclear(res);
    return BK_OK;
}

void bk_db_rollback(bk_db *db)
{
    if (db->conn == NULL) {
        return;
    }
    PGresult *res = PQexec(db->conn, "ROLLBACK");
    PQclear(res);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        disconnect(db);
    }
}
