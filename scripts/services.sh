# shellcheck shell=bash
# Our own services as background processes: BK_PROCESSORS bk-processor instances (one consumer
# group; Kafka spreads the partitions over them) and BK_INGRESSES bk-ingress instances, the
# i-th listening on BK_HTTP_PORT + i - 1 (put a load balancer in front of several). Default 1 + 1.

# processor, processor-2, ...: the name of the pidfile and the log of instance I.
instance_name() {
    if (($2 == 1)); then printf '%s\n' "$1"; else printf '%s-%s\n' "$1" "$2"; fi
}

service_pattern() { printf '*/bk-%s *\n' "$1"; }

services_start() {
    local kind i n_processors=${BK_PROCESSORS:-1} n_ingresses=${BK_INGRESSES:-1}
    for kind in processor ingress; do
        [[ -x $BK_BIN_DIR/bk-$kind ]] ||
            die "$BK_BIN_DIR/bk-$kind does not exist: the C build has not produced it yet (./bk build)." \
                "PostgreSQL and Kafka are up; ./bk stop stops them."
    done
    for ((i = 1; i <= n_processors; i++)); do
        service_start processor "$i"
    done
    for ((i = 1; i <= n_ingresses; i++)); do
        service_start ingress "$i" BK_HTTP_PORT=$((BK_HTTP_PORT + i - 1))
    done
    for ((i = 1; i <= n_ingresses; i++)); do
        ingress_wait_healthy "$(instance_name ingress "$i")" $((BK_HTTP_PORT + i - 1))
    done
}

# service_start KIND I [VAR=VALUE...] — starts instance I of bk-KIND unless it already runs.
service_start() {
    local kind=$1 i=$2 name pid
    shift 2
    name=$(instance_name "$kind" "$i")
    if pid=$(pid_alive "$RUN_DIR/$name.pid" "$(service_pattern "$kind")"); then
        log "$name already running (pid $pid)"
        return 0
    fi
    log "starting $name (log: $LOG_DIR/$name.log)"
    start_daemon "$RUN_DIR/$name.pid" "$LOG_DIR/$name.log" env "$@" "$BK_BIN_DIR/bk-$kind"
}

ingress_healthy() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/health" 2>/dev/null; }

ingress_wait_healthy() {
    local name=$1 port=$2 deadline=$((SECONDS + 60))
    until ingress_healthy "$port"; do
        if ! pid_alive "$RUN_DIR/$name.pid" "$(service_pattern ingress)" >/dev/null; then
            log_tail "$LOG_DIR/$name.log"
            services_stop
            die "$name exited during start-up. PostgreSQL and Kafka are still up; ./bk stop stops them."
        fi
        if ((SECONDS >= deadline)); then
            log_tail "$LOG_DIR/$name.log"
            curl -sS --max-time 2 "http://127.0.0.1:$port/health" >&2 || true
            services_stop
            die "$name did not report healthy on http://127.0.0.1:$port/health within 60 s." \
                "PostgreSQL and Kafka are still up; ./bk stop stops them."
        fi
        sleep 0.3
    done
}

# Ingresses first (no new bookings accepted), then processors (each drains and commits the batch
# in hand). Both stop cleanly on SIGTERM; SIGKILL only after 30 s.
services_stop() {
    local kind pidfile
    for kind in ingress processor; do
        for pidfile in "$RUN_DIR/$kind".pid "$RUN_DIR/$kind"-*.pid; do
            [[ -e $pidfile ]] || continue
            stop_pid "$(basename "$pidfile" .pid)" "$pidfile" "$(service_pattern "$kind")" 30
        done
    done
}

services_status() {
    local kind pidfile name pid found extra
    for kind in processor ingress; do
        found=0
        for pidfile in "$RUN_DIR/$kind".pid "$RUN_DIR/$kind"-*.pid; do
            [[ -e $pidfile ]] || continue
            name=$(basename "$pidfile" .pid)
            if pid=$(pid_alive "$pidfile" "$(service_pattern "$kind")"); then
                found=1
                extra=""
                if [[ $kind == ingress ]]; then
                    extra=$(ingress_status_line "$pid")
                fi
                printf '%-12s running  pid %-8s %s\n' "$name" "$pid" "$extra"
            fi
        done
        ((found)) || printf '%-12s stopped\n' "$kind"
    done
}

# The port an ingress instance listens on comes from its environment, so status can show it.
ingress_status_line() {
    local pid=$1 port code
    port=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | sed -n 's/^BK_HTTP_PORT=//p' | tail -n1)
    port=${port:-$BK_HTTP_PORT}
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/health" || true)
    printf 'http://127.0.0.1:%s (/health: %s)' "$port" "${code:-no answer}"
}
