#!/usr/bin/env bash
# tests/firstrun/run.sh — the README's run command as a new user meets it: a fresh clone of HEAD in
# a folder only its owner may enter (mktemp -d makes it mode 700, like /root on Debian), `./bk run`
# in the background on ports of its own, then, on that first run: the app at /, /health ok and
# one booking decided. `./bk stop` in the clone ends it; the clone is removed.
#
# Uncommitted changes are not in the clone: on a clean checkout (CI) that is the whole tree. The
# Kafka jars and the Python venv of the caller's state are reused (BK_KAFKA_LIBS, BK_VENV) so the
# check costs a build, not downloads; everything else is the clone's own.
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
# shellcheck source=/dev/null
source "$repo/scripts/lib.sh"
: "${BK_KAFKA_LIBS:?export the environment of ./bk first}" "${BK_VENV:?}"

home=$(mktemp -d /tmp/bk-firstrun.XXXXXX)
clone=$home/booking
port=${BK_FIRSTRUN_HTTP_PORT:-18380}
url=http://127.0.0.1:$port
run_log=$home/run.log
run_pid=

# Everything ./bk run reads from the environment, and nothing of the caller's stack.
run_env=(env -u BK_STATE_DIR -u BK_STATIC_DIR -u BK_ID_SECRET -u BK_BIN_DIR -u BK_PG_DSN -u BK_KAFKA_BROKERS
    BK_KAFKA_LIBS="$BK_KAFKA_LIBS" BK_VENV="$BK_VENV" BK_PG_PORT=$((port - 18380 + 54379))
    BK_KAFKA_PORT=$((port - 18380 + 19382)) BK_KAFKA_CONTROLLER_PORT=$((port - 18380 + 19383))
    BK_HTTP_PORT="$port" BK_METRICS_PORT=$((port + 1)))

finish() {
    local rc=$?
    if [[ -x $clone/bk ]]; then
        "${run_env[@]}" "$clone/bk" stop >>"$run_log" 2>&1 || warn "./bk stop in the clone failed"
    fi
    [[ -z $run_pid ]] || wait "$run_pid" 2>/dev/null || true
    if ((rc != 0)); then
        log_tail "$run_log" 60
    fi
    rm -rf "$home"
    exit "$rc"
}
trap finish EXIT

git clone -q "$repo" "$clone"
[[ $(stat -c %a "$home") == 700 ]] || die "mktemp -d did not make a private folder"
log "first run of ./bk run in $clone (a mode-700 parent), ports $port and up"
(cd "$clone" && exec "${run_env[@]}" ./bk run) >"$run_log" 2>&1 &
run_pid=$!

run_alive() { kill -0 "$run_pid" 2>/dev/null; }
app_served() {
    run_alive || die "./bk run exited before the app was served"
    curl -fsS --max-time 2 "$url/" 2>/dev/null | grep -q '<div id="root">'
}
wait_until 600 app_served || die "./bk run did not serve the app at $url/ within 600 s"
log "the app is served at / on the first run"

health=$(curl -sS --max-time 5 "$url/health")
[[ $(jq -r .status <<<"$health") == ok ]] || die "/health is not ok on the first run: $health"

booking=$(curl -sS --max-time 10 -X POST "$url/book?wait=5000" -H 'Content-Type: application/json' \
    -d '{"tier":"GA","quantity":1,"customer":"First Run"}')
[[ $(jq -r .status <<<"$booking") == confirmed ]] || die "the first booking was not confirmed: $booking"
log "health ok and a booking confirmed on the first run"
