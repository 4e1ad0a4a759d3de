# shellcheck shell=bash
# ./bk build — configures and builds the C code with CMake + Ninja into build/ (binaries land in
# build/bin), then builds the SPA when frontend/package.json exists.

bk_build() {
    [[ -f $BK_REPO/CMakeLists.txt ]] || die "no CMakeLists.txt in $BK_REPO: nothing to build"
    log "building C code into build/"
    cmake -S "$BK_REPO" -B "$BK_REPO/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build "$BK_REPO/build"
    build_frontend
}

# The sanitizer build used by ./bk test (address + undefined behaviour, see CMakeLists.txt).
bk_build_asan() {
    cmake -S "$BK_REPO" -B "$BK_REPO/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBK_SANITIZE=ON
    cmake --build "$BK_REPO/build-asan"
}

build_frontend() {
    local dir=$BK_REPO/frontend
    [[ -f $dir/package.json ]] || return 0
    log "building the frontend in frontend/"
    frontend_install
    if jq -e '.scripts.build' "$dir/package.json" >/dev/null; then
        (cd "$dir" && npm run build)
    else
        warn "frontend/package.json has no build script; serving frontend/public"
    fi
}

# `npm ci` wipes node_modules, so it only runs when the lockfile changed since the last install.
frontend_install() {
    local dir=$BK_REPO/frontend stamp want
    stamp=$dir/node_modules/.bk-lock.sha256
    if [[ -f $dir/package-lock.json ]]; then
        want=$(sha256sum <"$dir/package-lock.json" | cut -d' ' -f1)
        [[ -f $stamp && $(<"$stamp") == "$want" ]] && return 0
        (cd "$dir" && npm ci --no-audit --no-fund)
        printf '%s\n' "$want" >"$stamp"
    else
        warn "frontend/package-lock.json is missing; running npm install (commit the lockfile)"
        (cd "$dir" && npm install --no-audit --no-fund)
    fi
}
