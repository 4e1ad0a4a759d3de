# shellcheck shell=bash
# The whole local stack: ./bk up (PostgreSQL + Kafka), ./bk run (also the services, in the
# foreground), ./bk stop, ./bk status and ./bk logs. Stop order is the reverse of the data flow:
# ingress, processor, Kafka, PostgreSQL.

RUN_PATTERN='*bk*run *' # the command line of a ./bk run process

stack_up() {
    local t0=$SECONDS
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    bk_ensure_secret
    pg_up
    kafka_up
    log "infrastructure up in $((SECONDS - t0)) s: postgres 127.0.0.1:$BK_PG_PORT," \
        "kafka $BK_KAFKA_BROKERS, state in $BK_STATE_DIR"
}

stack_stop() {
    local pid
    [[ -d $BK_STATE_DIR ]] || return 0
    # A ./bk run in another terminal owns the stack: ask it to stop (it runs this same function
    # from its trap) and wait, so two stops never race.
    if pid=$(pid_alive "$RUN_DIR/run.pid" "$RUN_PATTERN") && [[ $pid != "$$" ]]; then
        log "asking ./bk run (pid $pid) to stop the stack"
        kill -TERM "$pid" 2>/dev/null || true
        wait_until 180 proc_gone "$pid" || warn "./bk run (pid $pid) is still running after 180 s"
    fi
    services_stop
    kafka_stop
    pg_stop
}

stack_status() {
    printf '%-12s %s (state %s)\n' profile "$BK_PROFILE" "$BK_STATE_DIR"
    pg_status
    kafka_status
    services_status
}

stack_run() {
    local pid
    if pid=$(pid_alive "$RUN_DIR/run.pid" "$RUN_PATTERN"); then
        die "./bk run is already running (pid $pid); use ./bk stop first"
    fi
    # Registered first, so ./bk stop can end this run at any point, even during the build.
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    printf '%s\n' "$$" >"$RUN_DIR/run.pid"
    trap run_shutdown INT TERM
    trap 'rm -f "$RUN_DIR/run.pid"' EXIT

    bk_deps
    if [[ -f $BK_REPO/CMakeLists.txt ]]; then
        bk_build
    else
        warn "no CMakeLists.txt yet: skipping the C build"
        build_frontend
    fi
    stack_up
    services_start

    local url=http://localhost:$BK_HTTP_PORT
    cat >&2 <<EOF

bk: the booking pipeline is running: open $url
bk:   curl -s $url/tickets
bk:   curl -s -H 'Content-Type: application/json' -d '{"tier":"GA","quantity":2}' $url/book
bk: following the processor and ingress logs; Ctrl-C here or ./bk stop elsewhere stops everything.

EOF
    run_follow_logs
}

# Follows the service logs until a signal arrives; reports (once) any service that exits on its
# own, but keeps the rest running so a crash can be looked at or a restart tested.
run_follow_logs() {
    local pidfile name kind reported=" "
    local logs=()
    for pidfile in "$RUN_DIR"/processor*.pid "$RUN_DIR"/ingress*.pid; do
        [[ -e $pidfile ]] && logs+=("$LOG_DIR/$(basename "$pidfile" .pid).log")
    done
    tail -n 0 -F "${logs[@]}" &
    RUN_TAIL_PID=$!
    while :; do
        for pidfile in "$RUN_DIR"/processor*.pid "$RUN_DIR"/ingress*.pid; do
            [[ -e $pidfile ]] || continue
            name=$(basename "$pidfile" .pid)
            kind=${name%%-*}
            [[ $reported == *" $name "* ]] && continue
            if ! pid_alive "$pidfile" "$(service_pattern "$kind")" >/dev/null; then
                warn "$name exited; see $LOG_DIR/$name.log (./bk stop, then ./bk run, restarts it)"
                reported+="$name "
            fi
        done
        # Backgrounded sleep + wait: a trapped signal interrupts `wait` at once.
        sleep 1 &
        wait $! || true
    done
}

run_shutdown() {
    trap - INT TERM
    printf '\n' >&2
    log "stopping the stack"
    if [[ -n ${RUN_TAIL_PID-} ]]; then
        kill "$RUN_TAIL_PID" 2>/dev/null || true
    fi
    stack_stop
    log "stopped"
    exit 0
}

stack_logs() {
    local which=${1:-services} pattern
    case $which in
    services) pattern='processor*.log ingress*.log' ;;
    processor | ingress) pattern="$which*.log" ;;
    kafka) pattern='kafka.log kafka.out' ;;
    postgres) pattern='postgres.log' ;;
    all) pattern='*.log *.out' ;;
    *) die "usage: ./bk logs [services|processor|ingress|kafka|postgres|all]" ;;
    esac
    local files=() p f
    for p in $pattern; do
        for f in "$LOG_DIR"/$p; do
            [[ -f $f ]] && files+=("$f")
        done
    done
    ((${#files[@]})) || die "no $which logs yet in $LOG_DIR"
    exec tail -n 50 -F "${files[@]}"
}
