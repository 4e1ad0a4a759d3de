#!/usr/bin/env bash
# Fault injection on the PostgreSQL and Kafka that `./bk up` started, for tests/faults. It sources
# the project's own scripts (pidfiles, pg_ctl as the postgres OS user, the broker's command line), so
# it kills exactly what they started; restarting is `./bk up` again, never a private recipe.
#
#   infra.sh pids               postgres=<pid> kafka=<pid> (empty when not running)
#   infra.sh kafka-kill         kill -9 of the broker; returns once it is gone and its port is closed
#   infra.sh pg-stop-immediate  pg_ctl stop -m immediate (a crash: WAL replay on the next start)
#
# The BK_* environment is the caller's (e.g. `bk_load_env test` exported, or `eval "$(./bk env)"`).
set -euo pipefail

BK_REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
for part in lib pg kafka; do
    # shellcheck source=/dev/null
    source "$BK_REPO/scripts/$part.sh"
done
[[ -n ${BK_STATE_DIR-} ]] || die "BK_STATE_DIR is not set: export the stack's environment first"
bk_load_env dev # honours the caller's BK_STATE_DIR, ports and paths

port_closed() { ! port_open "$1"; }

case ${1-} in
pids)
    printf 'postgres=%s kafka=%s\n' "$(pg_pid || true)" "$(kafka_pid || true)"
    ;;
kafka-kill)
    pid=$(kafka_pid) || die "kafka is not running (pidfile $(kafka_pidfile))"
    kill -KILL "$pid"
    wait_until 30 proc_gone "$pid" || die "kafka (pid $pid) survived SIGKILL for 30 s"
    wait_until 30 port_closed "$BK_KAFKA_PORT" || die "port $BK_KAFKA_PORT still open 30 s after SIGKILL"
    log "killed kafka (pid $pid)"
    ;;
pg-stop-immediate)
    pid=$(pg_pid) || die "postgres is not running ($PG_DATA)"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -t 30 -w stop >/dev/null
    wait_until 30 proc_gone "$pid" || die "postmaster $pid still there 30 s after an immediate stop"
    log "stopped postgres (pid $pid) with -m immediate"
    ;;
*)
    printf 'usage: %s pids|kafka-kill|pg-stop-immediate\n' "$0" >&2
    exit 2
    ;;
esac
