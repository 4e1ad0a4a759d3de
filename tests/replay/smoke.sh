#!/usr/bin/env bash
# tests/replay/smoke.sh — replays a small on-sale burst through the real services and checks every
# invariant (bk-replay --pg). Assumes PostgreSQL and Kafka are up and the environment of
# `bk_load_env` is exported (BK_PG_DSN, BK_KAFKA_BROKERS, BK_HTTP_PORT, BK_ID_SECRET, BK_BIN_DIR,
# BK_STATE_DIR, BK_STATIC_DIR): it starts its own bk-processor and bk-ingress, waits until they are
# ready (by polling, never by sleeping), replays, stops them, and exits non-zero on any breach, an
# unclean service exit or a sanitizer report.
# The tools it drives, tools/replay/gen and bk-replay, are described in tools/replay/README.md.
#
# DESTRUCTIVE: the replay empties the bookings table and resets the tiers (--reset); at the end the
# tiers are put back as they were before and the bookings table is emptied again. Use it on test
# and bench stacks only.
#
#   tests/replay/smoke.sh                      # 2,000 generated requests (seed 1) in ~2 s
#   tests/replay/smoke.sh --count 50000 --seconds 5 --connections 1024 --timeout 300
#   tests/replay/smoke.sh --trace my.jsonl -- --asap
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BK_REPO=${BK_REPO:-$(cd "$here/../.." && pwd)}
# shellcheck source=/dev/null
source "$BK_REPO/scripts/lib.sh"

usage() {
    cat <<'EOF'
usage: tests/replay/smoke.sh [options] [-- bk-replay options]

  --trace FILE        replay FILE instead of a generated burst
  --count N           generated burst: requests (default 2000)
  --seconds S         generated burst: length in seconds (default 2)
  --seed N            generated burst: seed (default 1)
  --connections N     bk-replay connections (default 64)
  --reset SPEC        tiers for the run (default VIP=100,FRONT_ROW=200,GA=1000)
  --timeout S         bk-replay's hard bound (default 120)
  --json FILE         JSON report (default $BK_STATE_DIR/replay/smoke.json)
EOF
}

trace="" count=2000 seconds=2 seed=1 connections=64 timeout=120 json=""
reset_spec=VIP=100,FRONT_ROW=200,GA=1000
extra=()
while (($#)); do
    case $1 in
    --trace) trace=$2 && shift 2 ;;
    --count) count=$2 && shift 2 ;;
    --seconds) seconds=$2 && shift 2 ;;
    --seed) seed=$2 && shift 2 ;;
    --connections) connections=$2 && shift 2 ;;
    --reset) reset_spec=$2 && shift 2 ;;
    --timeout) timeout=$2 && shift 2 ;;
    --json) json=$2 && shift 2 ;;
    --) shift && extra=("$@") && break ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && die "unknown option $1" ;;
    esac
done

for name in BK_PG_DSN BK_KAFKA_BROKERS BK_HTTP_PORT BK_ID_SECRET BK_BIN_DIR BK_STATE_DIR; do
    [[ -n ${!name-} ]] || die "smoke.sh needs $name in the environment (export the env of ./bk, see docs/running.md)"
done
replay_bin=${BK_REPLAY_BIN:-$BK_BIN_DIR/bk-replay}
for bin in "$BK_BIN_DIR/bk-processor" "$BK_BIN_DIR/bk-ingress" "$replay_bin"; do
    [[ -x $bin ]] || die "$bin is missing: build first (./bk build)"
done

RUN_DIR=$BK_STATE_DIR/run
LOG_DIR=$BK_STATE_DIR/logs
out_dir=$BK_STATE_DIR/replay
mkdir -p "$RUN_DIR" "$LOG_DIR" "$out_dir"
json=${json:-$out_dir/smoke.json}
stamp=$(date +%Y%m%d-%H%M%S)-$$
proc_log=$LOG_DIR/replay-$stamp-processor.log
ingress_log=$LOG_DIR/replay-$stamp-ingress.log
proc_pidfile=$RUN_DIR/replay-processor.pid
ingress_pidfile=$RUN_DIR/replay-ingress.pid
psql_cmd=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$BK_PG_DSN")
SANITIZER_RE='ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|UndefinedBehaviorSanitizer'

require_free_port "$BK_HTTP_PORT" "BK_HTTP_PORT (bk-ingress of the smoke test)"

if [[ -z $trace ]]; then
    trace=$out_dir/burst-$count-$seconds-s$seed.jsonl
    "$BK_REPO/tools/replay/gen" --profile burst --count "$count" --seconds "$seconds" --seed "$seed" --out "$trace"
fi

# The tiers as they are now, restored at the end: later tests find the database as they left it.
saved_tiers=$("${psql_cmd[@]}" -tA -F ' ' -c 'SELECT tier, capacity FROM tiers ORDER BY position')
started=()
failed=0

# Stops what this script started (ingress first, then the processor, as ./bk stop does), insists on
# exit status 0 and no sanitizer report, and restores the tiers.
finish() {
    local rc=$? name pidfile pid status
    trap - EXIT INT TERM
    for name in ingress processor; do
        [[ " ${started[*]} " == *" $name "* ]] || continue
        pidfile=$RUN_DIR/replay-$name.pid
        pid=$(<"$pidfile")
        stop_pid "smoke $name" "$pidfile" "*/bk-$name *" 30
        status=0
        wait "$pid" 2>/dev/null || status=$?
        if ((status != 0)); then
            warn "bk-$name exited with status $status (log: $LOG_DIR/replay-$stamp-$name.log)"
            log_tail "$LOG_DIR/replay-$stamp-$name.log"
            rc=1
        fi
    done
    for file in "$proc_log" "$ingress_log"; do
        if [[ -f $file ]] && grep -Eq "$SANITIZER_RE" "$file"; then
            warn "sanitizer report in $file"
            log_tail "$file" 60
            rc=1
        fi
    done
    if [[ -n $saved_tiers ]] && ! restore_tiers; then
        warn "could not restore the tiers"
        rc=1
    fi
    ((rc == 0 && failed == 0)) || exit 1
    exit 0
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

restore_tiers() {
    local tier capacity
    {
        printf 'BEGIN;\nTRUNCATE bookings;\n'
        while read -r tier capacity; do
            [[ $tier =~ ^[A-Z_]+$ && $capacity =~ ^[0-9]+$ ]] || return 1
            printf "UPDATE tiers SET capacity = %s, available = %s WHERE tier = '%s';\n" "$capacity" "$capacity" "$tier"
        done <<<"$saved_tiers"
        printf 'COMMIT;\n'
    } | "${psql_cmd[@]}"
}

# alive NAME — the process this script started as NAME still runs.
alive() { pid_alive "$RUN_DIR/replay-$1.pid" "*/bk-$1 *" >/dev/null; }

processor_ready() {
    alive processor || die "bk-processor exited during start-up; see $proc_log"
    grep -q 'event=partitions_assigned' "$proc_log"
}

ingress_ready() {
    alive ingress || die "bk-ingress exited during start-up; see $ingress_log"
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$BK_HTTP_PORT/health" 2>/dev/null
}

log "starting bk-processor (log: $proc_log)"
start_daemon "$proc_pidfile" "$proc_log" env BK_LOG_LEVEL=info "$BK_BIN_DIR/bk-processor"
started+=(processor)
# The first assignment of the three partitions; after a kill -9 elsewhere it can take a session
# timeout (45 s), hence the generous bound.
wait_until 120 processor_ready || { log_tail "$proc_log"; die "bk-processor got no partitions within 120 s"; }

log "starting bk-ingress on 127.0.0.1:$BK_HTTP_PORT (log: $ingress_log)"
# The replay's thousands of connections all come from 127.0.0.1, which has no exemption from the
# per-client limits: switch them off for this ingress.
start_daemon "$ingress_pidfile" "$ingress_log" env BK_LOG_LEVEL=info BK_RATE_PER_S=0 BK_CONNS_PER_CLIENT=0 \
    "$BK_BIN_DIR/bk-ingress"
started+=(ingress)
wait_until 60 ingress_ready || { log_tail "$ingress_log"; die "bk-ingress was not healthy within 60 s"; }

log "replaying $trace ($(($(wc -l <"$trace") - 1)) requests) with --reset $reset_spec"
status=0
"$replay_bin" --trace "$trace" --url "http://127.0.0.1:$BK_HTTP_PORT" --connections "$connections" \
    --pg "$BK_PG_DSN" --reset "$reset_spec" --timeout "$timeout" --json "$json" "${extra[@]}" || status=$?
log "report: $json"
if ((status != 0)); then
    warn "bk-replay exited with status $status"
    failed=1
fi
