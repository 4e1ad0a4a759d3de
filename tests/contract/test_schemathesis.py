"""schemathesis against the live ingress: every operation of openapi.yaml, examples + coverage + fuzzing +
stateful phases (POST /book -> GET /bookings/{id} through the schema's link), bounded and seeded. Checks: no
5xx but the documented 503s, every status code, content type, header and body as documented."""

import os
import re
import subprocess

from conftest import CORS_ORIGIN, REPO

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "response_headers_conformance")
MAX_EXAMPLES = os.environ.get("BK_CONTRACT_MAX_EXAMPLES", "30")
SEED = os.environ.get("BK_CONTRACT_SEED", "20261122")
# No answer of the ingress takes longer than a ?wait of 5 s; a request left unanswered costs this
# much. Requests that got no answer until the head limits of ingress/edge.c once made this stage
# five times slower (each one waited out a 15 s timeout).
REQUEST_TIMEOUT_S = 8
STAGE_TIMEOUT_S = 300


def test_ingress_conforms_to_openapi(stack, cfg):
    venv = os.environ.get("BK_VENV")
    assert venv, "BK_VENV is not set: run with the stack's environment (tests/contract/run.sh)"
    report = os.path.join(cfg["BK_STATE_DIR"], "logs", "contract-junit.xml")
    args = [os.path.join(venv, "bin", "schemathesis"), "run", str(REPO / "openapi.yaml"), "--url", stack.base_url,
            "--checks", CHECKS, "--max-examples", MAX_EXAMPLES, "--seed", SEED, "--workers", "1",
            "--generation-database", "none", "--request-timeout", str(REQUEST_TIMEOUT_S), "--no-color",
            "--report", "junit", "--report-junit-path", report]
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.run(args, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=STAGE_TIMEOUT_S)
    print(proc.stdout[-6000:])
    cases = re.search(r"(\d+) generated, (\d+) passed", proc.stdout)
    assert proc.returncode == 0, f"schemathesis found problems (exit {proc.returncode}):\n{proc.stdout[-8000:]}" \
                                 f"\n{proc.stderr[-2000:]}"
    assert cases and int(cases.group(1)) > 0, f"schemathesis generated no test case:\n{proc.stdout[-3000:]}"
    print(f"\ncontract: schemathesis {cases.group(0)} (max examples {MAX_EXAMPLES}, seed {SEED}, "
          f"origin {CORS_ORIGIN}); junit report {report}")
