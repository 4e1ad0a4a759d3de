"""Contract tests of the HTTP API against openapi.yaml: schemathesis (test_schemathesis.py) and the methods
and paths the schema cannot express (test_methods.py). The services come from tests/integration's harness,
loaded under another module name and reused as is: the same `stack` (bk-processor + bk-ingress, started
here, stopped at the end with a clean-exit check, the database left as seeded) and the same autouse
`services` guard. Environment: as tests/integration (`bk_load_env test` exported, BK_VENV for schemathesis).
"""

import importlib.util
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ITEST_DIR = REPO / "tests" / "integration"
sys.path.insert(0, str(ITEST_DIR))

# A browser origin the contract ingress allows, so the CORS answers (204 preflight) are exercised too.
CORS_ORIGIN = "https://app.example"
os.environ.setdefault("BK_CORS_ORIGINS", CORS_ORIGIN)

_spec = importlib.util.spec_from_file_location("bk_itest_conftest", ITEST_DIR / "conftest.py")
itest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(itest)

# The integration fixtures, re-exported (services is autouse: every test starts with both services up
# and ends with neither crashed).
cfg = itest.cfg
db = itest.db
kafka = itest.kafka
drain = itest.drain
stack = itest.stack
services = itest.services
api = itest.api
