#!/usr/bin/env bash
# tests/contract/run.sh [pytest args] — the contract stage: openapi.yaml against a live bk-ingress.
# Needs the test stack's PostgreSQL and Kafka up and its environment exported (`bk_load_env test`: BK_PG_DSN,
# BK_HTTP_PORT, BK_BIN_DIR, BK_STATE_DIR, BK_VENV, ...). Starts bk-processor and bk-ingress itself (through
# tests/integration's harness), runs schemathesis (pinned in tests/requirements.txt; bounded by
# BK_CONTRACT_MAX_EXAMPLES, default 30, with the fixed seed BK_CONTRACT_SEED) plus tests/contract's own
# checks, stops both services (clean exit required) and leaves the database as seeded. It books seats.
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
: "${BK_VENV:?export the test stack environment first (bk_load_env test)}"
if ! "$BK_VENV/bin/python" -c 'import schemathesis, yaml' 2>/dev/null; then
    echo "contract: schemathesis is not installed in $BK_VENV; run ./bk deps (tests/requirements.txt)" >&2
    exit 2
fi
cd "$repo"
exec "$BK_VENV/bin/python" -m pytest -q -s tests/contract "$@"
