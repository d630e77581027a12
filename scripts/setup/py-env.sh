#!/usr/bin/env bash
# Create or update the Python test venv .venv/ at the repository root for every project of
# lambdas-src: lambdas-src/requirements-dev.txt (which takes in api/ and streamlit/ requirements
# and the test tools) plus lambdas-src/sandbox/requirements-test.txt when that file exists.
#
# Idempotent and fast when nothing changed: a stamp file in .venv holds the hash of the Python
# version, the requirement files and this script; pip runs only when that hash changes.
# Last, it puts the shared test machinery (tests/support, the package week_testkit) on the
# venv's path. Uses the local package mirror file:///opt/pypi/simple (alone, ignoring pip config files) when
# it exists, pip's usual configuration otherwise. Safe to run concurrently (flock).
#
#   bash scripts/setup/py-env.sh          # then: .venv/bin/python, .venv/bin/pytest, ...
#   PYTHON=python3.11 bash scripts/setup/py-env.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"
src="$root/lambdas-src"

requirements=("$src/requirements-dev.txt")
if [[ -f "$src/sandbox/requirements-test.txt" ]]; then
  requirements+=("$src/sandbox/requirements-test.txt")
fi
# files whose content decides the stamp: the ones above and those requirements-dev.txt includes
hashed=("${requirements[@]}" "$src/api/requirements.txt" "$src/streamlit/requirements.txt" "${BASH_SOURCE[0]}")
for file in "${hashed[@]}"; do
  [[ -f "$file" ]] || { echo "py-env: missing requirement file $file" >&2; exit 1; }
done

if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "py-env: warning: $python is not Python 3.11; the pinned wheels target 3.11" >&2
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

pip_args=(install --quiet --disable-pip-version-check --no-input)
for file in "${requirements[@]}"; do pip_args+=(-r "$file"); done

echo "py-env: installing ${requirements[*]#"$root/"}" >&2
if [[ -d /opt/pypi/simple ]]; then
  PIP_CONFIG_FILE=/dev/null PIP_INDEX_URL="file:///opt/pypi/simple" PIP_FIND_LINKS="" \
    "$venv/bin/python" -m pip "${pip_args[@]}"
else
  "$venv/bin/python" -m pip "${pip_args[@]}"
fi
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
