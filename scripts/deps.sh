# shellcheck shell=bash
# ./bk deps — installs only what is missing: Debian packages, the Kafka jars (Maven Central) and
# the Python venv for the integration tests. Every step is skipped when already done, so it is
# cheap enough to run before every build, run and test.

readonly APT_PACKAGES=(
    build-essential cmake ninja-build pkg-config
    librdkafka-dev libpq-dev libmicrohttpd-dev libyajl-dev libcmocka-dev libcurl4-openssl-dev libssl-dev
    clang clang-format clang-tidy libclang-rt-14-dev
    postgresql postgresql-contrib
    openjdk-17-jre-headless maven
    curl jq python3-venv nginx docker-compose
)

bk_deps() {
    deps_apt
    deps_kafka_jars
    deps_venv
}

deps_apt() {
    local pkg missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        pkg_installed "$pkg" || missing+=("$pkg")
    done
    # Node, and Chromium for the browser tests, are only needed once the frontend exists.
    if [[ -f $BK_REPO/frontend/package.json ]]; then
        command -v npm >/dev/null || missing+=(nodejs npm)
        pkg_installed chromium || missing+=(chromium)
    fi
    ((${#missing[@]} == 0)) && return 0

    log "installing Debian packages: ${missing[*]}"
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "not root and no sudo: install as root: apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    # --no-install-recommends keeps docker-compose from pulling in the Docker engine. Installing
    # postgresql also creates and may start Debian's own cluster on port 5432; we ignore it.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

pkg_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

kafka_version() {
    sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$BK_REPO/scripts/pom.xml"
}

# The jars are keyed on the Kafka version and the pom's hash: a changed pom re-resolves them.
# They are copied into a temporary folder first, so an interrupted download never looks complete.
deps_kafka_jars() {
    local stamp want tmp
    stamp=$BK_KAFKA_LIBS/.bk-stamp
    want="kafka $(kafka_version) pom $(sha256sum <"$BK_REPO/scripts/pom.xml" | cut -d' ' -f1)"
    if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
        return 0
    fi
    log "resolving Kafka $(kafka_version) jars with Maven into $BK_KAFKA_LIBS"
    tmp=$BK_KAFKA_LIBS.tmp.$$
    rm -rf "$tmp"
    mkdir -p "$(dirname "$BK_KAFKA_LIBS")"
    # Maven reports errors on stdout, so its output is kept and shown only when it fails.
    if ! mvn -B -q -f "$BK_REPO/scripts/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" -DincludeScope=runtime >"$tmp.log" 2>&1; then
        cat "$tmp.log" >&2
        die "Maven could not resolve the Kafka jars (is Maven Central reachable?)"
    fi
    rm -f "$tmp.log"
    printf '%s\n' "$want" >"$tmp/.bk-stamp"
    rm -rf "$BK_KAFKA_LIBS"
    mv "$tmp" "$BK_KAFKA_LIBS"
}

# The venv is reinstalled only when tests/requirements.txt changes (its hash is kept in the venv).
deps_venv() {
    local req=$BK_REPO/tests/requirements.txt stamp want
    if [[ ! -x $BK_VENV/bin/python ]]; then
        log "creating Python venv in $BK_VENV"
        python3 -m venv "$BK_VENV"
    fi
    [[ -f $req ]] || return 0
    stamp=$BK_VENV/.bk-requirements.sha256
    want=$(sha256sum <"$req" | cut -d' ' -f1)
    if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
        return 0
    fi
    log "installing tests/requirements.txt into $BK_VENV"
    "$BK_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    printf '%s\n' "$want" >"$stamp"
}
