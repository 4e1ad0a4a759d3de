#!/usr/bin/env bash
# bench/run.sh — the benchmark of the performance targets (bench/README.md), in one run on one machine:
#   (a) the seeds' design ceiling: pgbench, one guarded UPDATE + one INSERT per transaction, at 1, 8
#       and 64 clients, in a separate database "bench" of our PostgreSQL cluster;
#   (b) our end-to-end sustained outcomes/s (POST in, decision committed, outcome seen) with bk-replay
#       as fast as possible at 64, 256 and 1,024 connections, accept and outcome p50/p99;
#   (c) GET /tickets through the ingress versus nginx serving the same bytes (wrk, 64 connections);
#   (d) 10,000 concurrent keep-alive connections booking through one ingress (bk-replay, ramped).
# (a) and (b) alternate for --rounds rounds (default 2) and each setting keeps its best round: on
# a shared virtual machine the CPU the hypervisor steals comes and goes within minutes.
# It prints a Markdown table with the ratios and writes bench/results/latest.{json,md,png}.
#
#   bench/run.sh            # the benchmark (about 4 minutes; --quick: 5-second runs, about 2.5)
#   bench/run.sh burst      # the on-sale burst: 50,000 requests in 5 s, mostly VIP, checked
#
# It uses its OWN stack (state .state/bench, ports 54369/19492/19493/18200; override with
# BK_BENCH_STATE_DIR, BK_BENCH_PG_PORT, BK_BENCH_KAFKA_PORT, BK_BENCH_KAFKA_CONTROLLER_PORT,
# BK_BENCH_HTTP_PORT — never the dev or test settings), starts what is not running and stops what it
# started. DESTRUCTIVE for that stack: bk-replay --reset empties its bookings table between runs.
# BK_* tuning variables in the caller's environment (BK_HTTP_THREADS, BK_BATCH_MAX, ...) reach the
# services. All load is on 127.0.0.1; every load loop is bounded in time and count.
set -euo pipefail

BK_REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
for part in lib deps build pg kafka services stack; do
    # shellcheck source=/dev/null
    source "$BK_REPO/scripts/$part.sh"
done

usage() {
    cat <<'EOF'
usage: bench/run.sh [bench] [options]
       bench/run.sh burst [--count N] [--seconds S] [--connections N]

bench options:
  --quick                 5-second runs instead of 10
  --rounds N              alternate (a) and (b) N times and keep each setting's best (default 2)
  --duration S            seconds of each pgbench, bk-replay and wrk run (default 10)
  --clients "1 8 64"      pgbench client counts
  --connections "64 256 1024"   bk-replay connection counts
  --hold N                connections of run (d) (default 10000; 0 skips it)
  --keep-up               leave the stack running at the end
  --no-build              use the binaries in BK_BENCH_BIN_DIR (default build/bin) as they are
EOF
}

orig_args=("$@")
mode=bench
if [[ ${1-} == burst || ${1-} == bench ]]; then
    mode=$1
    shift
fi
duration=10 rounds=2 clients="1 8 64" connections="64 256 1024" hold=10000 keep_up=0 build=1
burst_count=50000 burst_seconds=5 burst_connections=1024
while (($#)); do
    case $mode:$1 in
    bench:--quick) duration=5 && shift ;;
    bench:--duration) duration=$2 && shift 2 ;;
    bench:--clients) clients=$2 && shift 2 ;;
    bench:--connections) connections=$2 && shift 2 ;;
    bench:--hold) hold=$2 && shift 2 ;;
    bench:--rounds) rounds=$2 && shift 2 ;;
    burst:--count) burst_count=$2 && shift 2 ;;
    burst:--seconds) burst_seconds=$2 && shift 2 ;;
    burst:--connections) burst_connections=$2 && shift 2 ;;
    *:--keep-up) keep_up=1 && shift ;;
    *:--no-build) build=0 && shift ;;
    *:-h | *:--help) usage && exit 0 ;;
    *) usage >&2 && die "unknown option $1" ;;
    esac
done
if ! [[ $duration =~ ^[0-9]+$ ]] || ((duration < 1 || duration > 600)); then
    die "--duration wants 1..600 seconds"
fi
[[ $hold =~ ^[0-9]+$ ]] && ((hold <= 15000)) || die "--hold wants 0..15000 connections"
[[ $rounds =~ ^[0-9]+$ ]] && ((rounds >= 1 && rounds <= 10)) || die "--rounds wants 1..10"

# The bench profile: its own state and ports. Nothing of the caller's dev or test stack leaks in.
export BK_STATE_DIR=${BK_BENCH_STATE_DIR:-$BK_REPO/.state/bench}
export BK_PG_PORT=${BK_BENCH_PG_PORT:-54369}
export BK_KAFKA_PORT=${BK_BENCH_KAFKA_PORT:-19492}
export BK_KAFKA_CONTROLLER_PORT=${BK_BENCH_KAFKA_CONTROLLER_PORT:-19493}
export BK_HTTP_PORT=${BK_BENCH_HTTP_PORT:-18200}
export BK_BIN_DIR=${BK_BENCH_BIN_DIR:-$BK_REPO/build/bin}
# The load comes from 127.0.0.1, which is a client like any other: no per-client limits here.
export BK_RATE_PER_S=0 BK_CONNS_PER_CLIENT=0
# The Kafka jars are a download, shared with the dev profile (.state/kafka/libs) when present.
if [[ -z ${BK_KAFKA_LIBS-} && -f $BK_REPO/.state/kafka/libs/.bk-stamp ]]; then
    export BK_KAFKA_LIBS=$BK_REPO/.state/kafka/libs
fi
unset BK_ID_SECRET BK_PG_DSN BK_KAFKA_BROKERS
bk_load_env dev
cd "$BK_REPO"

readonly NGINX_PORT=$((BK_HTTP_PORT + 1))
readonly BIG=10000000 # seats per tier for the throughput runs: every booking succeeds
readonly SEEDS=VIP=100,FRONT_ROW=200,GA=1000
stamp=$(date +%Y%m%d-%H%M%S)
raw=$BK_STATE_DIR/bench-out/$stamp
results=$BK_REPO/bench/results
mkdir -p "$raw" "$results"
replay_bin=$BK_BIN_DIR/bk-replay
infra_started=0 services_started=0 nginx_started=0

bench_tools() {
    local missing=()
    [[ -x $PG_BIN/pgbench ]] || missing+=(postgresql-client-15)
    command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
    [[ $mode == burst ]] || command -v wrk >/dev/null || missing+=(wrk) # bench only, not in ./bk deps
    ((${#missing[@]} == 0)) && return 0
    log "installing for the benchmark: ${missing[*]}"
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "not root and no sudo: apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; }
}

bench_build() {
    ((build)) || return 0
    local dir
    dir=$(dirname "$BK_BIN_DIR")
    log "building into $dir"
    cmake -S "$BK_REPO" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$dir"
}

# A venv for the chart (matplotlib), reinstalled only when bench/requirements.txt changes.
bench_venv() {
    local venv=$BK_STATE_DIR/bench-venv req=$BK_REPO/bench/requirements.txt want
    want=$(sha256sum <"$req" | cut -d' ' -f1)
    if [[ -x $venv/bin/python && -f $venv/.bk-requirements.sha256 && $(<"$venv/.bk-requirements.sha256") == "$want" ]]; then
        printf '%s\n' "$venv/bin/python"
        return 0
    fi
    log "installing bench/requirements.txt into $venv (for the chart)"
    if python3 -m venv "$venv" >&2 && "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2; then
        printf '%s\n' "$want" >"$venv/.bk-requirements.sha256"
        printf '%s\n' "$venv/bin/python"
    else
        warn "could not install matplotlib: the report is written without the chart"
        printf '%s\n' python3
    fi
}

# --- CPU accounting: who burned the two cores during each run -------------------------------

# Prints "component ticks" for our processes and the machine ("busy" = every process on it).
cpu_sample() {
    local pid name ticks pidfile
    read -r _ user nice system _ _ irq softirq steal _ </proc/stat
    printf 'machine %s\n' $((user + nice + system + irq + softirq))
    # Time the hypervisor gave our virtual cores to someone else: work we could not do.
    printf 'steal %s\n' "$steal"
    for name in ingress processor; do
        for pidfile in "$RUN_DIR/$name".pid "$RUN_DIR/$name"-*.pid; do
            [[ -e $pidfile ]] || continue
            pid=$(<"$pidfile")
            printf '%s %s\n' "$name" "$(proc_ticks "$pid")"
        done
    done
    if pid=$(kafka_pid); then
        printf 'kafka %s\n' "$(proc_ticks "$pid")"
    fi
    if pid=$(pg_pid); then
        # The postmaster's own time plus its children's: the exited ones (a pgbench run's backends
        # are gone by the second sample) through its cutime/cstime, the living ones one by one.
        ticks=$(proc_ticks "$pid" with-children)
        for child in $(pgrep -P "$pid" || true); do
            ticks=$((ticks + $(proc_ticks "$child")))
        done
        printf 'postgres %s\n' "$ticks"
    fi
}

# proc_ticks PID [with-children] — CPU ticks of a process, optionally plus its exited children's.
proc_ticks() {
    local stat f
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return
    }
    stat=${stat##*) }
    # Fields after the command: state is 1, utime 12, stime 13, cutime 14, cstime 15.
    read -r -a f <<<"$stat"
    if [[ ${2-} == with-children ]]; then
        echo $((f[11] + f[12] + f[13] + f[14]))
    else
        echo $((f[11] + f[12]))
    fi
}

# --- (a) the seeds' design, pgbench ----------------------------------------------------------

# pgbench_series ROUND — one pgbench per client count; files are named <what>-<clients>.r<ROUND>.
pgbench_series() {
    log "(a) round $1: pgbench, the seed design at $clients clients, ${duration} s each"
    psql_super <<'SQL'
SELECT 'CREATE DATABASE bench OWNER booking' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'bench') \gexec
SQL
    local dsn=${BK_PG_DSN%/*}/bench c jobs run
    for c in $clients; do
        run=pgbench-$c.r$1
        PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$dsn" \
            -f "$BK_REPO/bench/pgbench_schema.sql"
        printf 'CHECKPOINT;\n' | as_pg "$PG_BIN/psql" -X -q -h "$PG_SOCK" -p "$BK_PG_PORT" -d bench
        jobs=$((c < $(nproc) ? c : $(nproc)))
        cpu_sample >"$raw/cpu-$run.before"
        (cd "$raw" && PGPASSWORD=booking "$PG_BIN/pgbench" -h 127.0.0.1 -p "$BK_PG_PORT" -U booking -n -M prepared \
            -f "$BK_REPO/bench/seed_design.sql" -c "$c" -j "$jobs" -T "$duration" -P 1 \
            -l --log-prefix="$run" bench >"$run.out" 2>&1) ||
            { cat "$raw/$run.out" >&2; die "pgbench at $c clients failed"; }
        cpu_sample >"$raw/cpu-$run.after"
        "$PG_BIN/psql" -X -tA "$dsn" -c 'SELECT count(*) FROM bench_bookings' >"$raw/$run.rows"
        log "    $c clients: $(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$raw/$run.out") bookings/s"
    done
}

# --- (b) end to end, bk-replay ---------------------------------------------------------------

start_services() {
    if pid_alive "$RUN_DIR/ingress.pid" "$(service_pattern ingress)" >/dev/null; then
        log "the bench services already run: using them"
        ingress_wait_healthy ingress "$BK_HTTP_PORT"
        return 0
    fi
    services_started=1
    services_start
}

replay_warm_up() {
    local trace=$raw/steady.jsonl max_rate=${BK_BENCH_MAX_RATE:-20000}
    # Enough requests for the fastest run we expect (BK_BENCH_MAX_RATE per second); the rest stay unsent.
    "$BK_REPO/tools/replay/gen" --profile steady --count $((max_rate * duration)) --rate "$max_rate" \
        --mix VIP=1,FRONT_ROW=1,GA=1 --key-pct 0 --retry-pct 0 --malformed-pct 0 --customer-pct 0 --seed 1 \
        --out "$trace"
    # Warm-up: connections, the broker, the processor's partitions, PostgreSQL's caches.
    log "(b) warm-up: 2,000 bookings"
    "$replay_bin" --trace "$trace" --count 2000 --asap --connections 64 --timeout 120 --pg "$BK_PG_DSN" \
        --reset "VIP=$BIG,FRONT_ROW=$BIG,GA=$BIG" --quiet >"$raw/replay-warmup.out" ||
        { cat "$raw/replay-warmup.out" >&2; die "the warm-up replay failed"; }
}

# replay_series ROUND — one bk-replay per connection count; files are named replay-<conns>.r<ROUND>.
replay_series() {
    local trace=$raw/steady.jsonl c status run
    for c in $connections; do
        run=replay-$c.r$1
        log "(b) round $1: bk-replay as fast as possible, $c connections, ${duration} s"
        cpu_sample >"$raw/cpu-$run.before"
        status=0
        "$replay_bin" --trace "$trace" --asap --connections "$c" --duration "$duration" \
            --timeout $((duration + 90)) --pg "$BK_PG_DSN" --reset "VIP=$BIG,FRONT_ROW=$BIG,GA=$BIG" \
            --allow-unavailable --quiet --json "$raw/$run.json" >"$raw/$run.out" || status=$?
        cpu_sample >"$raw/cpu-$run.after"
        printf '%s\n' "$status" >"$raw/$run.status"
        sed -n 's/^throughput: /    /p; s/^verdict: /    verdict: /p' "$raw/$run.out" >&2
        ((status != 2)) || { cat "$raw/$run.out" >&2; die "bk-replay could not run at $c connections"; }
    done
}

# --- (d) many connections: 10,000 keep-alive connections booking at once ----------------------

hold_series() {
    ((hold > 0)) || return 0
    local trace=$raw/steady.jsonl status
    log "(d) bk-replay with $hold keep-alive connections (ramped over 5 s), ${duration} s"
    curl -fsS "http://127.0.0.1:$BK_HTTP_PORT/metrics" >"$raw/hold-metrics.before"
    cpu_sample >"$raw/cpu-hold.before"
    status=0
    "$replay_bin" --trace "$trace" --asap --connections "$hold" --ramp 5 --duration $((duration + 5)) \
        --timeout $((duration + 120)) --pg "$BK_PG_DSN" --reset "VIP=$BIG,FRONT_ROW=$BIG,GA=$BIG" \
        --quiet --json "$raw/hold.json" >"$raw/hold.out" || status=$?
    cpu_sample >"$raw/cpu-hold.after"
    curl -fsS "http://127.0.0.1:$BK_HTTP_PORT/metrics" >"$raw/hold-metrics.after"
    printf '%s\n' "$status" >"$raw/hold.status"
    sed -n 's/^run: /    /p; s/^throughput: /    /p; s/^verdict: /    verdict: /p' "$raw/hold.out" >&2
}

# --- (c) GET /tickets: the ingress versus nginx ----------------------------------------------

nginx_conf() {
    local dir=$1
    mkdir -p "$dir/www" "$dir/tmp" "$dir/logs"
    cat >"$dir/nginx.conf" <<EOF
# Written by bench/run.sh: serves the bytes of the ingress's GET /tickets, for comparison.
worker_processes ${BK_HTTP_THREADS:-2};
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /tickets {
            default_type "application/json; charset=utf-8";
            add_header Cache-Control no-store;
            alias $dir/www/tickets.json;
        }
    }
}
EOF
}

tickets_series() {
    local dir=$raw/nginx nginx_bin
    nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
    log "(c) GET /tickets: bk-ingress versus nginx, wrk 64 connections, ${duration} s each"
    nginx_conf "$dir"
    curl -fsS "http://127.0.0.1:$BK_HTTP_PORT/tickets" >"$dir/www/tickets.json"
    chmod -R a+rX "$dir"
    require_free_port "$NGINX_PORT" "nginx of the benchmark (BK_BENCH_HTTP_PORT + 1)"
    start_daemon "$RUN_DIR/bench-nginx.pid" "$dir/logs/nginx.out" "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" \
        -g 'daemon off;'
    nginx_started=1
    wait_until 20 port_open "$NGINX_PORT" || { log_tail "$dir/logs/error.log"; die "nginx did not start"; }
    cmp -s <(curl -fsS "http://127.0.0.1:$NGINX_PORT/tickets") "$dir/www/tickets.json" ||
        die "nginx does not serve the same bytes as the ingress"
    cpu_sample >"$raw/cpu-wrk-ingress.before"
    wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$BK_HTTP_PORT/tickets" >"$raw/wrk-ingress.out" 2>&1
    cpu_sample >"$raw/cpu-wrk-ingress.after"
    wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$NGINX_PORT/tickets" >"$raw/wrk-nginx.out" 2>&1
    stop_nginx
    sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$raw/wrk-ingress.out" "$raw/wrk-nginx.out" |
        paste -sd ' ' | { read -r a b && log "    ingress $a req/s, nginx $b req/s"; }
}

stop_nginx() {
    ((nginx_started)) || return 0
    nginx_started=0
    stop_pid nginx "$RUN_DIR/bench-nginx.pid" '*nginx*' 20
}

# --- bring-up, tear-down, the record of the run ----------------------------------------------

bring_up() {
    bench_tools
    bench_build
    [[ -x $BK_BIN_DIR/bk-replay ]] || die "$BK_BIN_DIR/bk-replay is missing (build without --no-build)"
    if ! pg_running || ! kafka_pid >/dev/null; then
        infra_started=1
    fi
    stack_up
}

# EXIT trap: stop what this run started, in the reverse order.
tear_down() {
    local rc=$?
    trap - EXIT INT TERM
    stop_nginx || true
    if ((services_started)); then
        services_stop || true
    fi
    if ((infra_started && !keep_up)); then
        kafka_stop || true
        pg_stop || true
    elif ((infra_started)); then
        log "the bench stack keeps running (--keep-up); stop it with: BK_STATE_DIR=$BK_STATE_DIR ./bk stop"
    fi
    exit "$rc"
}

write_meta() {
    local rev dirty=false
    rev=$(git -C "$BK_REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    [[ -z $(git -C "$BK_REPO" status --porcelain -- common ingress processor 2>/dev/null) ]] || dirty=true
    {
        printf 'started_at=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        printf 'command=%s\n' "bench/run.sh${*:+ $*}"
        printf 'git_rev=%s\ngit_services_dirty=%s\n' "$rev" "$dirty"
        printf 'duration_s=%s\nrounds=%s\nclients=%s\nconnections=%s\nhold=%s\n' "$duration" "$rounds" "$clients" \
            "$connections" "$hold"
        printf 'loadavg_start=%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
        printf 'clk_tck=%s\n' "$(getconf CLK_TCK)"
        printf 'bin_dir=%s\nbin_default=%s\n' "$BK_BIN_DIR" "$([[ -z ${BK_BENCH_BIN_DIR-} ]] && echo true || echo false)"
        printf 'tuning=%s\n' "$(env | grep -E '^BK_(HTTP_THREADS|HTTP_MAX_CONNS|LINGER_MS|BATCH_MAX|BATCH_WAIT_MS|PRODUCE_TIMEOUT_MS|TICKETS_CACHE_MS|PROCESSORS|INGRESSES)=' | sort | paste -sd ' ' || true)"
        # Other busy processes: on a shared machine they compete for the same cores.
        printf 'busy_at_start=%s\n' "$(ps -eo pcpu=,comm= --sort=-pcpu | head -n 8 | awk '{printf "%s %s%%; ", $2, $1}')"
    } >"$raw/meta.env"
}

run_bench() {
    write_meta "$@"
    bring_up
    start_services
    replay_warm_up
    # (a) and (b) alternate, so that both see the same moments of a shared machine.
    local r
    for ((r = 1; r <= rounds; r++)); do
        pgbench_series "$r"
        replay_series "$r"
    done
    hold_series
    tickets_series
    printf 'loadavg_end=%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw/meta.env"
    local python
    python=$(bench_venv)
    "$python" "$BK_REPO/bench/report.py" "$raw" "$results"
    log "raw outputs: $raw"
    local c status failed=0
    for ((r = 1; r <= rounds; r++)); do
        for c in $connections; do
            status=$(<"$raw/replay-$c.r$r.status")
            if ((status != 0)); then
                warn "bk-replay at $c connections reported a breach or an incomplete run: $raw/replay-$c.r$r.out"
                failed=1
            fi
        done
    done
    if ((hold > 0)) && (($(<"$raw/hold.status") != 0)); then
        warn "bk-replay with $hold connections reported a breach, an error or an incomplete run: $raw/hold.out"
        failed=1
    fi
    return "$failed"
}

run_burst() {
    bring_up
    if pid_alive "$RUN_DIR/ingress.pid" "$(service_pattern ingress)" >/dev/null; then
        die "bench services run on port $BK_HTTP_PORT: stop them first (BK_STATE_DIR=$BK_STATE_DIR ./bk stop)"
    fi
    log "the on-sale burst: $burst_count requests in ${burst_seconds} s, $burst_connections connections, tiers $SEEDS"
    BK_REPLAY_BIN=$replay_bin "$BK_REPO/tests/replay/smoke.sh" --count "$burst_count" --seconds "$burst_seconds" \
        --seed 42 --connections "$burst_connections" --reset "$SEEDS" --timeout 600 --json "$results/burst.json"
    log "report: bench/results/burst.json"
}

trap tear_down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [[ $mode == burst ]]; then
    run_burst
else
    run_bench "${orig_args[@]}"
fi
