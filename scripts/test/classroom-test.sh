#!/usr/bin/env bash
# The teacher's checks against real servers (tests/classroom, pytest): `npm run classroom --
# check TP3/TP4/TP5 --url ...` against the API of lambdas-src/api and a throw-away PostgreSQL
# (the load tests' machinery, tests/load/loadkit.py), the starter edition's API failing where its
# TODOs are, and `check TP3` over 25 APIs, measured (printed as "classroom figures", not judged).
#
# Usage: bash scripts/test/classroom-test.sh [PYTEST_ARGS...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash scripts/setup/py-env.sh
exec "$root/.venv/bin/python" -m pytest -p no:cacheprovider -s tests/classroom "$@"
