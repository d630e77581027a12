#!/usr/bin/env bash
# npm run bench [-- NAME... | --size tiny | --readme]: the benchmark harness in the test venv.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup/py-env.sh
exec "$root/.venv/bin/python" -m bench "$@"
