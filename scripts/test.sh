# shellcheck shell=bash
# ./bk test — exactly what CI runs (.ci/run): deps, build, format check, unit tests, integration
# tests against a fresh test stack (own state folder and ports), the browser tests on the same
# stack, the same under the sanitizers, and the frontend unit tests. Every stage prints one
# summary line; any failure makes the exit non-zero. A suite that is missing (no tests, no
# package.json, no script) fails its stage: a test run that silently ran less is not a pass.

TEST_RESULTS=()
TEST_FAILED=0
TEST_STACK_STARTED=0

# stage NAME COMMAND... — runs COMMAND in a subshell with errexit on, so a failing stage stops
# itself but not the stages that do not depend on it; STAGE_RC holds its status. Never call stage
# in a condition (if, ||, &&): bash would then silently disable errexit inside the stage, and a
# failing command would not fail it.
stage() {
    local name=$1 t0=$SECONDS rc
    shift
    printf '\n==> %s\n' "$name" >&2
    TEST_CURRENT=$name
    set +e
    (
        set -e
        "$@"
    )
    rc=$?
    set -e
    TEST_CURRENT=
    STAGE_RC=$rc
    if ((rc == 0)); then
        test_record PASS "$name" "$((SECONDS - t0)) s"
    else
        test_record FAIL "$name" "$((SECONDS - t0)) s, exit status $rc"
        TEST_FAILED=1
    fi
}

stage_ok() { ((STAGE_RC == 0)); }

test_record() { TEST_RESULTS+=("$(printf '%-4s  %-32s %s' "$1" "$2" "$3")"); }
not_run() { test_record '----' "$1" "not run: $2"; }

bk_test() {
    local t0=$SECONDS
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap test_finish EXIT

    stage deps bk_deps
    stage_ok || exit 1
    stage build bk_build
    stage_ok || exit 1
    stage "format (clang-format, lint, clang-tidy)" test_format
    stage "docker-compose config" test_compose
    stage "unit tests" ctest --test-dir "$BK_REPO/build" --output-on-failure --no-tests=error
    stage "fuzz (30 s per harness)" "$BK_REPO/tests/fuzz/run.sh" 30
    stage "first run (./bk run, clean clone)" "$BK_REPO/tests/firstrun/run.sh"

    # From here on the test profile: state in .state/test, ports 54339/19192/19193/18080.
    bk_load_env test
    TEST_STACK_STARTED=1
    local stack_ok=0
    stage "test stack up (fresh state)" test_stack_up
    # The stage ran in a subshell: read the id secret it generated in the fresh state folder.
    unset BK_ID_SECRET
    bk_load_secret
    if stage_ok; then
        stack_ok=1
        stage "integration tests" test_pytest
        stage "browser tests" test_browser
        stage "replay smoke" "$BK_REPO/tests/replay/smoke.sh"
        stage "contract (schemathesis)" "$BK_REPO/tests/contract/run.sh"
        # Last on the stack: they kill and restart Kafka and PostgreSQL (and leave both up).
        stage "fault tests" "$BK_VENV/bin/python" -m pytest -q "$BK_REPO/tests/faults"
    else
        not_run "integration tests" "the test stack did not start"
        not_run "browser tests" "the test stack did not start"
        not_run "replay smoke" "the test stack did not start"
        not_run "contract (schemathesis)" "the test stack did not start"
        not_run "fault tests" "the test stack did not start"
    fi

    stage "asan build" bk_build_asan
    if stage_ok; then
        stage "asan unit tests" test_asan ctest --test-dir "$BK_REPO/build-asan" --output-on-failure --no-tests=error
        if ((stack_ok)); then
            stage "asan integration tests (happy)" test_pytest_asan
        else
            not_run "asan integration tests (happy)" "the test stack did not start"
        fi
    else
        not_run "asan unit tests" "the asan build failed"
        not_run "asan integration tests (happy)" "the asan build failed"
    fi

    stage "frontend tests" test_frontend
    log "test run took $((SECONDS - t0)) s"
}

# EXIT trap: always stop the test stack, then print the summary and set the exit status.
test_finish() {
    local rc=$? line
    trap - EXIT INT TERM
    if [[ -n ${TEST_CURRENT-} ]]; then
        test_record FAIL "$TEST_CURRENT" "interrupted"
    fi
    if ((TEST_STACK_STARTED)); then
        printf '\n==> stopping the test stack\n' >&2
        (stack_stop) || warn "could not stop the test stack cleanly"
    fi
    printf '\n==> summary\n' >&2
    for line in "${TEST_RESULTS[@]}"; do
        printf 'bk test: %s\n' "$line" >&2
    done
    if ((rc == 0 && TEST_FAILED == 0)); then
        printf 'bk test: ALL PASSED\n' >&2
        exit 0
    fi
    printf 'bk test: FAILED\n' >&2
    exit 1
}

# The format stage checks the code without running it: clang-format (.clang-format), the house
# rules of scripts/lint.py, and clang-tidy (.clang-tidy) on every .c file with the flags of the
# build's compile_commands.json. Each of the three fails the stage.
test_format() {
    "$BK_REPO/scripts/check-standalone.sh"
    local files=() sources=() f rc=0
    cd "$BK_REPO"
    mapfile -t files < <(find common ingress processor tests tools -type f \( -name '*.c' -o -name '*.h' \) |
        LC_ALL=C sort)
    ((${#files[@]})) || die "no C sources found under common ingress processor tests tools"
    [[ -f .clang-format ]] || die "no .clang-format"
    [[ -f .clang-tidy ]] || die "no .clang-tidy"
    [[ -f build/compile_commands.json ]] || die "no build/compile_commands.json: the build stage makes it"
    clang-format --dry-run --Werror "${files[@]}" || rc=1
    python3 scripts/lint.py "${files[@]}" || rc=1
    for f in "${files[@]}"; do
        if [[ $f == *.c ]]; then
            sources+=("$f")
        fi
    done
    # clang-tidy reports on stdout; its stderr only counts the (suppressed) compiler warnings.
    clang-tidy -p build --quiet "${sources[@]}" 2> >(grep -v ' generated\.$' >&2) || rc=1
    ((rc == 0)) || die "the format stage found problems (above)"
    log "${#files[@]} files formatted, linted and clang-tidy clean"
}

# Stops leftovers of an interrupted run, then starts from an empty state folder. The Kafka jars
# and the venv live outside it (see bk_load_env), so nothing is downloaded again.
test_stack_up() {
    stack_stop
    case $BK_STATE_DIR in
    / | "$BK_REPO" | "$BK_REPO/" | "$HOME") die "refusing to wipe BK_TEST_STATE_DIR=$BK_STATE_DIR" ;;
    esac
    if [[ $BK_KAFKA_LIBS == "$BK_STATE_DIR"/* || $BK_VENV == "$BK_STATE_DIR"/* ]]; then
        die "refusing to wipe $BK_STATE_DIR: it holds the Kafka jars or the venv"
    fi
    rm -rf "$BK_STATE_DIR"
    unset BK_ID_SECRET # the old state's secret is gone with it; stack_up makes a new one
    stack_up
}

# docker compose cannot run here (no Docker engine); Debian's docker-compose still validates the file.
test_compose() {
    cd "$BK_REPO"
    BK_ID_SECRET=${BK_ID_SECRET:-validation-only-secret-0123456789} docker-compose config -q
    log "docker-compose.yml is valid"
}

test_has_integration() {
    compgen -G "$BK_REPO/tests/integration/test_*.py" >/dev/null ||
        compgen -G "$BK_REPO/tests/integration/*_test.py" >/dev/null
}

test_pytest() {
    test_has_integration || die "no tests in tests/integration"
    cd "$BK_REPO"
    "$BK_VENV/bin/python" -m pytest -q tests/integration "$@"
}

# The sanitizers abort on the first report, and LeakSanitizer checks every exit.
test_asan() {
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} "$@"
}

test_pytest_asan() {
    test_has_integration || die "no tests in tests/integration"
    local rc=0
    cd "$BK_REPO"
    BK_BIN_DIR=$BK_REPO/build-asan/bin test_asan "$BK_VENV/bin/python" -m pytest -q tests/integration -m happy ||
        rc=$?
    # pytest's status 5 means no test carries the marker.
    ((rc != 5)) || die "no integration test is marked happy"
    return "$rc"
}

# Headless Chromium (Debian's, driven by playwright-core) against the built app, served by a
# bk-ingress + bk-processor on the test stack. The tests reset the tiers they use through psql.
test_browser() {
    local dir=$BK_REPO/frontend rc=0
    [[ -f $dir/package.json ]] || die "no frontend/package.json"
    jq -e '.scripts.e2e' "$dir/package.json" >/dev/null || die "frontend/package.json has no e2e script"
    [[ -f $dir/dist/index.html ]] || die "frontend/dist/index.html is missing: the build stage did not build the app"
    # The ingress serves what the build stage just built (an env prefix on a function is exported
    # to the processes it starts); the browser is on 127.0.0.1, a client like any other, and the
    # tests reload pages faster than a person would: no per-client limits.
    BK_STATIC_DIR=$dir/dist BK_RATE_PER_S=0 BK_CONNS_PER_CLIENT=0 services_start
    (cd "$dir" && BK_E2E_BASE_URL=http://127.0.0.1:$BK_HTTP_PORT BK_PSQL=$PG_BIN/psql npm run e2e) || rc=$?
    services_stop
    return "$rc"
}

test_frontend() {
    local dir=$BK_REPO/frontend
    [[ -f $dir/package.json ]] || die "no frontend/package.json"
    jq -e '.scripts.test' "$dir/package.json" >/dev/null || die "frontend/package.json has no test script"
    cd "$dir"
    npm test
}
