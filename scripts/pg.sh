# shellcheck shell=bash
# Our own PostgreSQL 15 cluster in the state folder: initdb once, start/stop with pg_ctl, role and
# database "booking", and the forward-only migrations in sql/. Debian's system cluster (port 5432)
# is never touched.

# PostgreSQL refuses to run as root. As root, every server-side command therefore runs in a user
# namespace of its own, where root appears as the unprivileged "postgres" OS user (Debian's package
# creates it) while keeping root's access outside: the cluster stays in the state folder, owned by
# the caller, wherever the repository was cloned — a mode-700 home folder included — and no
# permission of the caller's folders is loosened. Peer authentication on the private socket sees
# "postgres", the cluster's superuser. As any other user the cluster simply belongs to that user.
readonly PG_OS_USER=postgres

as_pg() {
    if ((EUID == 0)); then
        unshare --user --map-user="$PG_OS_USER" --map-group="$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

# The postmaster's pid, when it really runs. Not `pg_ctl status`: that counts a killed postmaster
# that is still a zombie (not yet reaped by its parent) as running.
pg_pid() {
    local pid
    pid=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 1
    pid_is "$pid" "*/postgres *" || return 1
    printf '%s\n' "$pid"
}
pg_running() { pg_pid >/dev/null; }
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$BK_PG_PORT" -d postgres; }
pg_log() { printf '%s\n' "$LOG_DIR/postgres.log"; }

# psql as the booking role over TCP, exactly as the services connect.
psql_booking() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$BK_PG_DSN" "$@"; }

# psql as the superuser over the private unix socket (peer authentication), SQL on stdin.
psql_super() { as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$BK_PG_PORT" -d postgres; }

pg_up() {
    [[ -x $PG_BIN/initdb ]] || die "PostgreSQL 15 is not installed ($PG_BIN); run ./bk deps"
    pg_prepare_dirs
    if [[ ! -f $PG_DATA/PG_VERSION ]]; then
        log "initialising PostgreSQL cluster in $PG_DATA"
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
            --auth-local=peer --auth-host=scram-sha-256 >>"$(pg_log)" ||
            die "initdb failed; see $(pg_log)"
        # Port, addresses and socket come from bk.conf, rewritten on every start (see below).
        printf "\n# Settings of ./bk (scripts/pg.sh)\ninclude_if_exists = 'bk.conf'\n" |
            as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    fi

    if pg_running; then
        log "postgres already running"
    else
        pg_wait_old_postmaster
        require_free_port "$BK_PG_PORT" "BK_PG_PORT"
        pg_write_conf
        log "starting postgres on 127.0.0.1:$BK_PG_PORT"
        # pg_ctl puts the postmaster in its own session, so Ctrl-C in ./bk run does not reach it.
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$(pg_log)" -W start >/dev/null ||
            { log_tail "$(pg_log)"; die "pg_ctl start failed"; }
    fi
    if ! wait_until 60 pg_ready; then
        log_tail "$(pg_log)"
        die "postgres did not accept connections on 127.0.0.1:$BK_PG_PORT within 60 s"
    fi
    pg_create_db
    pg_migrate
}

# After a kill -9 the old postmaster may linger as a zombie until its parent reaps it, and
# PostgreSQL refuses to start while the pid in postmaster.pid exists. Wait for it, bounded.
pg_wait_old_postmaster() {
    local old
    old=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 0
    [[ $old =~ ^[0-9]+$ ]] || return 0
    kill -0 "$old" 2>/dev/null || return 0
    pid_is "$old" '*' && return 0 # a live, unrelated process that reused the pid: postgres copes
    log "waiting for the killed postmaster $old to be reaped"
    wait_until 60 pid_vanished "$old" || die "the old postmaster (pid $old) is still a zombie after 60 s"
}

pid_vanished() { ! kill -0 "$1" 2>/dev/null; }

pg_prepare_dirs() {
    local sock_path=$PG_SOCK/.s.PGSQL.$BK_PG_PORT
    # A unix socket path has a hard limit of 107 bytes.
    ((${#sock_path} <= 107)) ||
        die "state folder path too long for a unix socket ($sock_path); set BK_STATE_DIR to a shorter path"
    mkdir -p "$BK_STATE_DIR" "$LOG_DIR" "$PG_DATA" "$PG_SOCK"
    touch "$(pg_log)"
    if ((EUID == 0)); then
        as_pg true || die "cannot create a user namespace (unshare --user) to run PostgreSQL, which" \
            "refuses to run as root; run ./bk as an ordinary user instead"
        # A cluster made by an earlier version of this script belongs to the real postgres user,
        # which the namespace does not map: hand it back to its owner, root.
        [[ $(stat -c %u "$PG_DATA") == 0 ]] || chown -R 0:0 "$PG_DATA" "$PG_SOCK" "$(pg_log)"
    fi
    chmod 700 "$PG_DATA" "$PG_SOCK"
}

# Rewritten before every start so that a changed BK_PG_PORT or state path simply applies.
pg_write_conf() {
    cat <<EOF | as_pg tee "$PG_DATA/bk.conf" >/dev/null
# Written by scripts/pg.sh before every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $BK_PG_PORT
unix_socket_directories = '$PG_SOCK'
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

pg_create_db() {
    psql_super <<'SQL'
SELECT 'CREATE ROLE booking LOGIN PASSWORD ''booking'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'booking') \gexec
SELECT 'CREATE DATABASE booking OWNER booking'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'booking') \gexec
SQL
}

# Applies each sql/NNN_*.sql whose version is not yet in schema_migrations, in numeric order.
# Every file is one transaction and records its own version (001 creates the table itself).
pg_migrate() {
    local applied=" " file base version
    if [[ $(psql_booking -tAc "SELECT to_regclass('public.schema_migrations') IS NOT NULL") == t ]]; then
        applied=" $(psql_booking -tAc 'SELECT version FROM schema_migrations ORDER BY 1' | tr '\n' ' ') "
    fi
    while IFS= read -r file; do
        base=$(basename "$file")
        version=$((10#${base%%_*}))
        [[ $applied == *" $version "* ]] && continue
        log "applying migration $base"
        psql_booking -f "$file" || die "migration $base failed"
        [[ $(psql_booking -tAc "SELECT count(*) FROM schema_migrations WHERE version = $version") == 1 ]] ||
            die "migration $base did not insert version $version into schema_migrations"
    done < <(find "$BK_REPO/sql" -maxdepth 1 -name '[0-9][0-9][0-9]_*.sql' | LC_ALL=C sort)
}

pg_stop() {
    [[ -f $PG_DATA/PG_VERSION ]] || return 0
    pg_running || return 0
    log "stopping postgres (pid $(pg_pid))"
    # fast = roll back open transactions and shut down cleanly; immediate = crash-like stop
    # (recovered by WAL replay on the next start); SIGKILL of the postmaster as the last resort.
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -t 60 -w stop >/dev/null && return 0
    warn "postgres did not stop within 60 s; trying immediate shutdown"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -t 30 -w stop >/dev/null && return 0
    local pid
    pid=$(pg_pid) || return 0
    warn "sending SIGKILL to postmaster $pid"
    kill -KILL "$pid" 2>/dev/null || true
}

pg_status() {
    local pid state=starting
    if pid=$(pg_pid); then
        pg_ready && state=ready
        printf '%-12s running  pid %-8s 127.0.0.1:%s (%s)\n' postgres "$pid" "$BK_PG_PORT" "$state"
    else
        printf '%-12s stopped\n' postgres
    fi
}
