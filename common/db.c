/* PostgreSQL connection handling: connect, prepare, execute, notice when the link is gone. Every
 * call sends its query and waits for the answer with poll(), so no wait outlasts the bound. */
#include "common/db.h"

#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bk_db {
    char *dsn;
    const bk_db_stmt *stmts;
    int n_stmts;
    int statement_timeout_ms;
    int seqscan_off; /* bk_db_forbid_seqscan: enable_seqscan=off on every connection of this handle */
    PGconn *conn;    /* NULL when not connected; non-blocking */
    unsigned generation;
    int timed_out;
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
    db->statement_timeout_ms = BK_DB_STATEMENT_TIMEOUT_MS;
    return db;
}

void bk_db_set_timeout(bk_db *db, int statement_timeout_ms)
{
    db->statement_timeout_ms = statement_timeout_ms;
}

void bk_db_forbid_seqscan(bk_db *db)
{
    db->seqscan_off = 1;
}

static void disconnect(bk_db *db)
{
    if (db->conn != NULL) {
        PQfinish(db->conn); /* non-blocking: a server that does not read never holds us here */
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

unsigned bk_db_generation(const bk_db *db)
{
    return db->generation;
}

int bk_db_timed_out(const bk_db *db)
{
    return db->timed_out;
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
    /* 57014: canceled, here by our statement_timeout: the server did not answer in time either. */
    db->timed_out = strcmp(db->sqlstate, "57014") == 0;
    const char *text = res != NULL ? PQresultErrorMessage(res) : "";
    if (text[0] == '\0' && db->conn != NULL) {
        text = PQerrorMessage(db->conn);
    }
    int rc =
        bk_err_set(err, BK_E_DB, "%s failed: sqlstate=%s %.*s", what, db->sqlstate, (int)strcspn(text, "\n"), text);
    PQclear(res);
    if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK) {
        disconnect(db);
    }
    return rc;
}

/* Waits for every result of the query just sent, until the client's bound: BK_OK with *out the
 * result to report (the first error, else the last), or BK_E_DB when the server did not answer in
 * time (the connection is then dropped: its state is unknown) or the link broke. */
static int await_result(bk_db *db, const char *what, PGresult **out, bk_err *err)
{
    int timeout_ms = db->statement_timeout_ms + BK_DB_GRACE_MS;
    int64_t deadline = bk_clock_mono_ms() + timeout_ms;
    PGresult *keep = NULL;
    const char *broken = NULL;
    int rc = BK_OK;
    for (;;) {
        int pending = PQflush(db->conn); /* 0: all sent, 1: more to send, -1: failed */
        if (pending < 0) {
            broken = "PQflush";
            break;
        }
        if (pending == 0 && !PQisBusy(db->conn)) {
            PGresult *res = PQgetResult(db->conn);
            if (res == NULL) {
                break; /* every result is in */
            }
            ExecStatusType status = PQresultStatus(keep);
            if (keep != NULL && status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
                PQclear(res); /* the first error is the one to report */
            } else {
                PQclear(keep);
                keep = res;
            }
            continue;
        }
        int64_t left = deadline - bk_clock_mono_ms();
        if (left <= 0) {
            db->timed_out = 1;
            rc = bk_err_set(err, BK_E_DB, "%s failed: no answer from the server within %d ms", what, timeout_ms);
            break;
        }
        struct pollfd fds[1] = {{.fd = PQsocket(db->conn), .events = (short)(POLLIN | (pending ? POLLOUT : 0))}};
        int n = poll(fds, 1, (int)left);
        if (n < 0 && errno != EINTR) {
            broken = "poll";
            break;
        }
        if (n > 0 && PQconsumeInput(db->conn) == 0) {
            broken = "PQconsumeInput";
            break;
        }
    }
    if (broken != NULL) {
        const char *text = PQerrorMessage(db->conn);
        db->timed_out = 0;
        rc = bk_err_set(err, BK_E_DB, "%s failed: %s: %.*s", what, broken, (int)strcspn(text, "\n"), text);
    }
    if (rc != BK_OK) {
        PQclear(keep);
        keep = NULL;
        db->sqlstate[0] = '\0';
        disconnect(db);
    }
    *out = keep;
    return rc;
}

/* The result of a query just sent (sent: what PQsend* returned): BK_OK with *res when it
 * succeeded, else the error recorded and *res NULL. */
static int finish_query(bk_db *db, int sent, const char *what, PGresult **res, bk_err *err)
{
    *res = NULL;
    if (!sent) {
        return fail(db, NULL, what, err);
    }
    PGresult *r = NULL;
    int rc = await_result(db, what, &r, err);
    if (rc != BK_OK) {
        return rc;
    }
    ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        return fail(db, r, what, err);
    }
    db->sqlstate[0] = '\0';
    db->timed_out = 0;
    *res = r;
    return BK_OK;
}

int bk_db_connect(bk_db *db, bk_err *err)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
        return BK_OK;
    }
    disconnect(db);
    /* The DSN may set its own values. Otherwise, on our side: an unreachable or frozen server
     * costs at most BK_DB_CONNECT_TIMEOUT_S to connect, a dead peer is found by keepalives (5 s
     * idle, then 3 probes 2 s apart) or, while data is unacknowledged, by tcp_user_timeout. On the
     * server's side, the same for its socket: a client that stops reading (a frozen ingress's
     * LISTEN session, whose backend then blocks on a full socket and holds the notification queue
     * for every session) is dropped after 10 s of zero window. A statement that runs too long is
     * canceled by the server (statement_timeout). A process frozen inside a transaction (a
     * SIGSTOPped zombie processor) loses it after 5 s instead of holding its row locks, and so the
     * whole pipeline, for as long as it is frozen. The planner keeps its defaults (see
     * bk_db_forbid_seqscan for the one handle that turns sequential scans off). */
    char connect_timeout[16], options[320];
    snprintf(connect_timeout, sizeof(connect_timeout), "%d", BK_DB_CONNECT_TIMEOUT_S);
    snprintf(options, sizeof(options),
             "-c idle_in_transaction_session_timeout=5s -c statement_timeout=%dms "
             "-c tcp_user_timeout=10000 -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 "
             "-c tcp_keepalives_count=3%s",
             db->statement_timeout_ms, db->seqscan_off ? " -c enable_seqscan=off" : "");
    const char *const keys[] = {"connect_timeout",
                                "keepalives",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "tcp_user_timeout",
                                "options",
                                "dbname",
                                NULL};
    const char *const values[] = {connect_timeout, "1", "5", "2", "3", "5000", options, db->dsn, NULL};
    db->conn = PQconnectdbParams(keys, values, 1);
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK || PQsetnonblocking(db->conn, 1) != 0) {
        const char *text = db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory";
        int rc = bk_err_set(err, BK_E_DB, "PQconnectdbParams failed: %.*s", (int)strcspn(text, "\n"), text);
        disconnect(db);
        return rc;
    }
    PQsetNoticeProcessor(db->conn, on_notice, NULL);
    for (int k = 0; k < db->n_stmts; k++) {
        PGresult *res = NULL;
        int sent = PQsendPrepare(db->conn, db->stmts[k].name, db->stmts[k].sql, 0, NULL);
        int rc = finish_query(db, sent, db->stmts[k].name, &res, err);
        PQclear(res);
        if (rc != BK_OK) {
            disconnect(db);
            return rc;
        }
    }
    db->generation++;
    return BK_OK;
}

int bk_db_exec(bk_db *db, const char *name, int n_params, const char *const *values, PGresult **res, bk_err *err)
{
    *res = NULL;
    if (db->conn == NULL) {
        return bk_err_set(err, BK_E_DB, "%s: not connected", name);
    }
    int sent = PQsendQueryPrepared(db->conn, name, n_params, values, NULL, NULL, 0);
    return finish_query(db, sent, name, res, err);
}

int bk_db_exec_reconnecting(bk_db *db, const char *name, int n_params, const char *const *values, PGresult **res,
                            bk_err *err)
{
    bk_err first;
    bk_err_clear(&first);
    int rc = bk_db_connect(db, err);
    if (rc == BK_OK) {
        rc = bk_db_exec(db, name, n_params, values, res, &first);
    }
    if (rc != BK_OK && first.code != BK_OK && !bk_db_connected(db) && !bk_db_timed_out(db)) {
        rc = bk_db_connect(db, err);
        if (rc == BK_OK) {
            rc = bk_db_exec(db, name, n_params, values, res, err);
        }
    } else if (rc != BK_OK && first.code != BK_OK) {
        rc = bk_err_set(err, first.code, "%s", first.msg);
    }
    return rc;
}

int bk_db_command(bk_db *db, const char *sql, bk_err *err)
{
    if (db->conn == NULL) {
        return bk_err_set(err, BK_E_DB, "%s: not connected", sql);
    }
    PGresult *res = NULL;
    int rc = finish_query(db, PQsendQuery(db->conn, sql), sql, &res, err);
    PQclear(res);
    return rc;
}

void bk_db_rollback(bk_db *db)
{
    if (db->conn == NULL) {
        return;
    }
    /* The failure that made the caller roll back stays the one bk_db_last_sqlstate and
     * bk_db_timed_out report. */
    char sqlstate[sizeof(db->sqlstate)];
    memcpy(sqlstate, db->sqlstate, sizeof(sqlstate));
    int timed_out = db->timed_out;
    PGresult *res = NULL;
    if (finish_query(db, PQsendQuery(db->conn, "ROLLBACK"), "ROLLBACK", &res, NULL) == BK_OK) {
        PQclear(res);
    }
    memcpy(db->sqlstate, sqlstate, sizeof(sqlstate));
    db->timed_out = timed_out;
}
