# shellcheck shell=bash
# Environment defaults and small helpers shared by every bk command. Sourced by ./bk, never run.
# Two profiles exist: "dev" (./bk run, ./bk up ...) and "test" (./bk test, ./bk --test ...). They
# use separate state folders and ports so a test run never disturbs a running dev stack.

# shellcheck disable=SC2034  # used by the other scripts/*.sh
readonly PG_BIN=/usr/lib/postgresql/15/bin

log() { printf 'bk: %s\n' "$*" >&2; }
warn() { printf 'bk: warning: %s\n' "$*" >&2; }
die() {
    printf 'bk: error: %s\n' "$*" >&2
    exit 1
}

# shellcheck disable=SC2034  # the path variables below are used by the other scripts/*.sh
# bk_load_env PROFILE — sets and exports every BK_* variable the scripts, services and tests use.
# Dev settings honour the caller's BK_* overrides; test settings come only from BK_TEST_*, so a
# shell that did `eval "$(./bk env)"` cannot point ./bk test at the dev stack by accident.
bk_load_env() {
    local profile=$1
    local main_state=${BK_STATE_DIR:-$BK_REPO/.state}

    # Kafka jars and the Python venv are downloads, not state: the test profile reuses the dev
    # profile's copies, so wiping the test state never downloads them again.
    BK_KAFKA_LIBS=${BK_KAFKA_LIBS:-$main_state/kafka/libs}
    BK_VENV=${BK_VENV:-$main_state/venv}

    if [[ $profile == test ]]; then
        BK_STATE_DIR=${BK_TEST_STATE_DIR:-$BK_REPO/.state/test}
        BK_PG_PORT=${BK_TEST_PG_PORT:-54339}
        BK_KAFKA_PORT=${BK_TEST_KAFKA_PORT:-19192}
        BK_KAFKA_CONTROLLER_PORT=${BK_TEST_KAFKA_CONTROLLER_PORT:-19193}
        BK_HTTP_PORT=${BK_TEST_HTTP_PORT:-18080}
        BK_BIN_DIR=$BK_REPO/build/bin
        unset BK_ID_SECRET # always the test state's own secret, see bk_load_secret
    else
        BK_STATE_DIR=$main_state
        BK_PG_PORT=${BK_PG_PORT:-54329}
        BK_KAFKA_PORT=${BK_KAFKA_PORT:-19092}
        BK_KAFKA_CONTROLLER_PORT=${BK_KAFKA_CONTROLLER_PORT:-19093}
        BK_HTTP_PORT=${BK_HTTP_PORT:-8080}
        BK_BIN_DIR=${BK_BIN_DIR:-$BK_REPO/build/bin}
    fi
    BK_PROFILE=$profile
    BK_PG_DSN=postgresql://booking:booking@127.0.0.1:$BK_PG_PORT/booking
    BK_KAFKA_BROKERS=127.0.0.1:$BK_KAFKA_PORT
    # The build makes frontend/dist; it is chosen here even before it exists, so a first run
    # serves the app it is about to build.
    BK_STATIC_DIR=${BK_STATIC_DIR:-$BK_REPO/frontend/dist}
    export BK_REPO BK_PROFILE BK_STATE_DIR BK_PG_PORT BK_KAFKA_PORT BK_KAFKA_CONTROLLER_PORT \
        BK_HTTP_PORT BK_BIN_DIR BK_PG_DSN BK_KAFKA_BROKERS BK_STATIC_DIR BK_KAFKA_LIBS BK_VENV

    # Derived paths inside the state folder.
    RUN_DIR=$BK_STATE_DIR/run   # pidfiles
    LOG_DIR=$BK_STATE_DIR/logs  # one log per process
    PG_DATA=$BK_STATE_DIR/pg    # the PostgreSQL cluster
    PG_SOCK=$BK_STATE_DIR/pg-socket
    KAFKA_DIR=$BK_STATE_DIR/kafka

    bk_load_secret
}

# The id-signing secret must survive restarts (booking ids stay valid), so it is generated once
# per state folder and kept there, readable by its owner only.
bk_load_secret() {
    local file=$BK_STATE_DIR/id_secret
    if [[ -n ${BK_ID_SECRET-} ]]; then
        export BK_ID_SECRET
    elif [[ -s $file ]]; then
        BK_ID_SECRET=$(<"$file")
        export BK_ID_SECRET
    fi
}

bk_ensure_secret() {
    local file=$BK_STATE_DIR/id_secret
    [[ -n ${BK_ID_SECRET-} ]] && return 0
    mkdir -p "$BK_STATE_DIR"
    (
        umask 077
        od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file.tmp"
    )
    mv "$file.tmp" "$file"
    bk_load_secret
}

# Prints the environment as shell code, for `eval "$(./bk env)"` before starting extra
# ingress or processor instances by hand.
bk_print_env() {
    local name
    for name in BK_REPO BK_STATE_DIR BK_PG_PORT BK_KAFKA_PORT BK_KAFKA_CONTROLLER_PORT BK_HTTP_PORT \
        BK_BIN_DIR BK_PG_DSN BK_KAFKA_BROKERS BK_STATIC_DIR BK_ID_SECRET; do
        [[ -n ${!name-} ]] && printf 'export %s=%q\n' "$name" "${!name}"
    done
    return 0
}

# --- processes -------------------------------------------------------------------------------

# pid_is PID PATTERN — succeeds when PID runs and its command line matches the glob PATTERN, so a
# stale pidfile whose pid was reused does not count. A zombie has an empty command line: not running.
pid_is() {
    local pid=$1 pattern=$2 cmdline
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    # shellcheck disable=SC2053  # PATTERN is a glob on purpose
    [[ -n $cmdline && $cmdline == $pattern ]]
}

# pid_alive PIDFILE PATTERN — prints the pid in PIDFILE when pid_is says it runs.
pid_alive() {
    local pidfile=$1 pid
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    pid_is "$pid" "$2" || return 1
    printf '%s\n' "$pid"
}

# stop_pid NAME PIDFILE PATTERN TIMEOUT_S — SIGTERM, a bounded wait, SIGKILL as a last resort.
stop_pid() {
    local name=$1 pidfile=$2 pattern=$3 timeout=$4 pid
    if ! pid=$(pid_alive "$pidfile" "$pattern"); then
        rm -f "$pidfile"
        return 0
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$timeout" proc_gone "$pid"; then
        warn "$name (pid $pid) did not stop within ${timeout}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_until 10 proc_gone "$pid" || warn "$name (pid $pid) survived SIGKILL"
    fi
    rm -f "$pidfile"
}

# Gone = no such process, or a zombie that only waits for its parent to reap it.
proc_gone() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [[ ${stat%% *} == Z ]]
}

# wait_until TIMEOUT_S COMMAND... — polls COMMAND every 0.2 s until it succeeds; fails after the
# timeout. Every wait in these scripts goes through here: no bare sleeps as synchronisation.
wait_until() {
    local timeout=$1 deadline
    shift
    deadline=$((SECONDS + timeout))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# Starts COMMAND... in its own session, detached from the terminal (Ctrl-C in ./bk run reaches
# only bk, which then stops everything in order), appending output to LOGFILE; writes PIDFILE.
start_daemon() {
    local pidfile=$1 logfile=$2
    shift 2
    mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
    setsid "$@" </dev/null >>"$logfile" 2>&1 &
    local pid=$! i exe
    printf '%s\n' "$pid" >"$pidfile"
    # Return only once the child has exec'd its program: until then its command line is bash's
    # (then setsid's, env's), and a caller checking "is it running?" would take it for dead.
    for ((i = 0; i < 100; i++)); do
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || break
        case ${exe##*/} in
        bash | setsid | env) sleep 0.05 ;;
        *) break ;;
        esac
    done
}

port_open() { timeout 1 bash -c ">/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Dies when something that is not ours already listens on PORT.
require_free_port() {
    local port=$1 what=$2
    if port_open "$port"; then
        die "port $port ($what) is already in use by another process; stop it or choose another port (see docs/running.md)"
    fi
}

log_tail() {
    local file=$1
    [[ -f $file ]] || return 0
    printf -- '--- last lines of %s ---\n' "$file" >&2
    tail -n "${2:-30}" "$file" >&2
    printf -- '---\n' >&2
}
