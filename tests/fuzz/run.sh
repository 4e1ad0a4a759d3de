#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] — builds the libFuzzer harnesses (clang, AddressSanitizer + UndefinedBehavior-
# Sanitizer + LeakSanitizer) against the common/ sources they test, replays the seed corpus and every
# regression input, then fuzzes each harness for SECONDS (default 30). Exits non-zero on any crash, leak,
# sanitizer report or failed check, and names the input that caused it. Prints executions and corpus size.
#
#   harness   tests                                           seeds / regressions
#   fuzz_req  Content-Type, Idempotency-Key, ?wait, POST body  tests/fuzz/corpus/req, tests/fuzz/regressions/req
#   fuzz_msg  the Kafka message decoder (+ encode round trip)  tests/fuzz/corpus/msg, tests/fuzz/regressions/msg
#
# Output (binaries, the growing corpus, crash artifacts, logs) goes to build-fuzz/ (BK_FUZZ_OUT), never into
# the seed corpus. A crash found here becomes a regression: copy the artifact into tests/fuzz/regressions/<h>/.
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
seconds=${1:-30}
out=${BK_FUZZ_OUT:-$repo/build-fuzz}
cc=${BK_FUZZ_CC:-clang}
harnesses=(req msg)
# The pure modules the harnesses reach (no I/O, no logger): see tests/fuzz/README.md.
sources=(err json req tier msg id)
declare -A max_len=([req]=5000 [msg]=1200) # a little past each hard cap (4 KiB body, 1 KiB message)

[[ $seconds =~ ^[0-9]+$ ]] || {
    echo "usage: $0 [seconds]" >&2
    exit 2
}
command -v "$cc" >/dev/null || {
    echo "fuzz: $cc not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
}

build() {
    local h=$1 srcs=()
    local s
    for s in "${sources[@]}"; do
        srcs+=("$repo/common/$s.c")
    done
    # shellcheck disable=SC2046  # pkg-config prints several words on purpose
    "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror \
        -I"$repo" $(pkg-config --cflags yajl libcrypto) \
        "$repo/tests/fuzz/fuzz_$h.c" "${srcs[@]}" \
        $(pkg-config --libs yajl libcrypto) -o "$out/fuzz_$h"
}

# fuzz H ARGS... — runs harness H with its corpus directories, logging to $out/logs/fuzz_H.log.
run() {
    local h=$1
    shift
    local dirs=("$out/corpus/$h" "$repo/tests/fuzz/corpus/$h")
    if compgen -G "$repo/tests/fuzz/regressions/$h/*" >/dev/null; then
        dirs+=("$repo/tests/fuzz/regressions/$h")
    fi
    mkdir -p "$out/corpus/$h" "$out/artifacts/$h"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$out/fuzz_$h" -max_len="${max_len[$h]}" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$h/" "$@" "${dirs[@]}" >"$out/logs/fuzz_$h.log" 2>&1
}

report_failure() {
    local h=$1 what=$2
    echo "fuzz: fuzz_$h FAILED during $what; last lines of $out/logs/fuzz_$h.log:" >&2
    tail -n 40 "$out/logs/fuzz_$h.log" >&2
    local artifact
    for artifact in "$out/artifacts/$h"/*; do
        [[ -e $artifact ]] || continue
        echo "fuzz: input: $artifact ($(stat -c %s "$artifact") bytes) — reproduce with $out/fuzz_$h $artifact;" \
            "keep it as tests/fuzz/regressions/$h/$(basename "$artifact")" >&2
    done
}

mkdir -p "$out/logs"
status=0
for h in "${harnesses[@]}"; do
    build "$h"
    rm -rf "$out/artifacts/$h"
    # Every seed and regression input once: a regression that crashes again fails here, at once.
    if ! run "$h" -runs=0; then
        report_failure "$h" "the replay of seeds and regressions"
        status=1
        continue
    fi
    if ((seconds == 0)); then
        echo "fuzz: fuzz_$h replayed $(grep -o 'INITED.*' "$out/logs/fuzz_$h.log" | head -n1)"
        continue
    fi
    if ! run "$h" -max_total_time="$seconds"; then
        report_failure "$h" "fuzzing"
        status=1
        continue
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/fuzz_$h.log" | tail -n1)
    corpus=$(find "$out/corpus/$h" "$repo/tests/fuzz/corpus/$h" -type f | wc -l)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$out/logs/fuzz_$h.log" | tail -n1)
    seed=$(sed -n 's/.*Seed: \([0-9]*\).*/\1/p' "$out/logs/fuzz_$h.log" | head -n1)
    echo "fuzz: fuzz_$h ok: ${execs:-?} executions in ${seconds} s, corpus ${corpus} files" \
        "(${cov:-no stats}), seed ${seed:-?}, no crash"
done
exit "$status"
