/* A PostgreSQL connection with its prepared statements, for both services.
 *
 * Statements are prepared once per connection and again after every reconnect; SQL text is
 * never built at runtime. A failed call whose connection is gone marks it broken, and the next
 * bk_db_connect() reconnects: callers retry at their own pace (the processor with backoff). */
#ifndef BK_COMMON_DB_H
#define BK_COMMON_DB_H

#include "common/err.h"

#include <libpq-fe.h>

typedef struct bk_db bk_db;

typedef struct bk_db_stmt {
    const char *name;
    const char *sql;
} bk_db_stmt;

/* Every wait on the server is bounded (docs/running.md "Database timeouts"):
 * - connecting: connect_timeout (BK_DB_CONNECT_TIMEOUT_S);
 * - a statement: the session's statement_timeout, and the client's own bound BK_DB_GRACE_MS later,
 *   for a server that cannot even cancel (frozen, or the network gone): then the connection is
 *   dropped, the call fails and bk_db_timed_out() says why;
 * - a dead peer: TCP keepalives and tcp_user_timeout close the socket within seconds.
 * The DSN may override the server-side settings; the client's bound always holds. */
#define BK_DB_CONNECT_TIMEOUT_S    2     /* libpq's minimum */
#define BK_DB_STATEMENT_TIMEOUT_MS 10000 /* default: the processor's batch statements */
#define BK_DB_GRACE_MS             500

/* A handle that is not connected yet, with BK_DB_STATEMENT_TIMEOUT_MS. stmts must outlive the
 * handle. NULL on allocation failure. */
bk_db *bk_db_new(const char *dsn, const bk_db_stmt *stmts, int n_stmts);

/* Sets the statement timeout of this handle (the client gives up BK_DB_GRACE_MS later); applies
 * from the next connection on, so call it before the first bk_db_connect. */
void bk_db_set_timeout(bk_db *db, int statement_timeout_ms);

/* Turns sequential scans off (enable_seqscan=off) on every connection of this handle, from the
 * next one on: for a handle whose every statement reads by key with "= ANY(ids)". At an on-sale
 * the bookings table grows by tens of thousands of rows between two ANALYZEs, and the planner,
 * still believing it tiny, would scan it for each such lookup (measured: half the machine's CPU).
 * Only where needed: any other query keeps the planner's defaults. A transaction that needs it
 * for a statement uses SET LOCAL enable_seqscan = off instead. */
void bk_db_forbid_seqscan(bk_db *db);

/* Frees the handle and closes its connection (NULL-safe). */
void bk_db_free(bk_db *db);

/* Connects (or reconnects if broken) and prepares the statements. Cheap when already connected. */
int bk_db_connect(bk_db *db, bk_err *err) BK_WARN_UNUSED;

/* True while the connection is believed good. */
int bk_db_connected(const bk_db *db);

/* How many connections this handle has made: a caller that set up session state (LISTEN) tells
 * from a changed value that it runs on a new connection without it. */
unsigned bk_db_generation(const bk_db *db);

/* True when the last failed call failed because the server did not answer within the bound. */
int bk_db_timed_out(const bk_db *db);

/* Runs prepared statement `name` with text parameters. On success *res is the result (the caller
 * PQclears it) and its status was PGRES_TUPLES_OK or PGRES_COMMAND_OK. On failure *res is NULL,
 * the result is already cleared and err carries the message with its SQLSTATE. */
int bk_db_exec(bk_db *db, const char *name, int n_params, const char *const *values, PGresult **res,
               bk_err *err) BK_WARN_UNUSED;

/* bk_db_exec on a connection made first if needed; when the statement fails because a connection
 * that died since its last use (a database restart) was only noticed then, connects again and runs
 * it once more. Not after a timeout: the server is not answering. Only for statements that are
 * safe to run twice (reads, and writes that find their own first run). */
int bk_db_exec_reconnecting(bk_db *db, const char *name, int n_params, const char *const *values, PGresult **res,
                            bk_err *err) BK_WARN_UNUSED;

/* Runs a parameterless command (BEGIN, COMMIT, ROLLBACK, LISTEN x) and discards its result. */
int bk_db_command(bk_db *db, const char *sql, bk_err *err) BK_WARN_UNUSED;

/* Rolls back the open transaction, if the connection is still there. Its own failure is not
 * reported: the error that made the caller roll back is the one that matters. */
void bk_db_rollback(bk_db *db);

/* The underlying connection (for LISTEN/NOTIFY sockets), or NULL when not connected. It is in
 * non-blocking mode: read it with PQconsumeInput and PQnotifies only. */
PGconn *bk_db_conn(bk_db *db);

/* The SQLSTATE of the last failed call ("" if none): callers tell constraint violations apart. */
const char *bk_db_last_sqlstate(const bk_db *db);

#endif
