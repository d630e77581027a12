#!/usr/bin/env bash
# Create or update the checkov venv .venv-checkov/ from tools/checkov/requirements.lock (hashes
# required, no dependency resolution at install time). Idempotent: pip runs only when the lock or
# this script changed (stamp file). Needs the package index once; `npm run checkov` then runs
# offline.
#
#   bash scripts/setup/checkov-env.sh     # then: .venv-checkov/bin/checkov
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv-checkov"
lock="$root/tools/checkov/requirements.lock"
python="${PYTHON:-python3}"

stamp="$({ "$python" --version 2>&1; cat "$lock" "${BASH_SOURCE[0]}"; } | sha256sum | cut -d' ' -f1)"
mkdir -p "$venv"
exec 9>"$venv/.checkov-env.lock"
flock 9
if [[ -x "$venv/bin/checkov" && "$(cat "$venv/.stamp" 2>/dev/null)" == "$stamp" ]]; then
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$lock"
echo "$stamp" >"$venv/.stamp"
