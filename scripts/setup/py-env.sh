#!/usr/bin/env bash
# Create or update the Python test venv .venv/ at the repository root from
# lambdas-src/requirements-dev.lock (made by scripts/lock.sh from requirements-dev.in: the API's
# and the Streamlit app's run-time pins plus the test tools), every package at its exact version
# and checked against its hashes (pip --require-hashes --no-deps: nothing is resolved here).
#
# Idempotent and fast when nothing changed: a stamp file in .venv holds the hash of the Python
# version, the lock and this script; pip runs only when that hash changes. Packages come from
# pip's own configuration: PyPI unless PIP_INDEX_URL (or a pip.conf) names a mirror. No wheel
# folder is needed. Last, it puts the shared test machinery (tests/support, the package
# week_testkit) on the venv's path. Safe to run concurrently (flock).
#
#   bash scripts/setup/py-env.sh          # then: .venv/bin/python, .venv/bin/pytest, ...
#   PYTHON=python3.11 bash scripts/setup/py-env.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"
lock="$root/lambdas-src/requirements-dev.lock"
hashed=("$lock" "${BASH_SOURCE[0]}")
[[ -f "$lock" ]] || { echo "py-env: missing $lock (bash scripts/lock.sh makes it)" >&2; exit 1; }

if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "py-env: warning: $python is not Python 3.11; the locks are tested on 3.11" >&2
fi

stamp_of() {
  { "$python" --version 2>&1; cat "${hashed[@]}"; } | sha256sum | cut -d' ' -f1
}

mkdir -p "$venv"
exec 9>"$venv/.py-env.lock"
flock 9

wanted="$(stamp_of)"
if [[ -x "$venv/bin/python" && -f "$venv/.py-env.stamp" && "$(cat "$venv/.py-env.stamp")" == "$wanted" ]]; then
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  echo "py-env: creating $venv" >&2
  "$python" -m venv "$venv"
fi

echo "py-env: installing ${lock#"$root/"}" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --no-deps --only-binary :all: -r "$lock"
"$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null \
  || { "$venv/bin/python" -m pip check; exit 1; }

# The shared test machinery (tests/support/week_testkit, imported by every suite and the
# benchmarks): put on the venv's path by a .pth file rather than `pip install -e`, because an
# editable install needs a build backend (setuptools plus wheel) that the venv may lack and pip
# would otherwise fetch, and a hash-locked `pip install --require-hashes` cannot take a local
# path. The folder is read in place, so edits to the package need no reinstall; this script is
# in the stamp, so a venv made before this step gets the file on its next run.
purelib="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
echo "$root/tests/support" >"$purelib/week_testkit.pth"

echo "$wanted" >"$venv/.py-env.stamp"
echo "py-env: $venv is up to date" >&2
