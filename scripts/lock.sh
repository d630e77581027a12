#!/usr/bin/env bash
# Regenerate every Python lock of the repository: for each requirements*.in (direct
# dependencies, exact pins), the requirements*.lock beside it, with every dependency at an exact
# version and the hashes of its files, which images and the test venv install with
# `pip install --require-hashes --no-deps -r <lock>`. Add a new environment by adding its
# requirements.in anywhere (e.g. tools/checkov/requirements.in) and running this script.
#
#   bash scripts/lock.sh                          # lock every requirements*.in
#   bash scripts/lock.sh lambdas-src/api          # only those under these paths
#   UV_ARGS="--upgrade-package httpx" bash scripts/lock.sh   # extra uv pip compile options
#
# The tool is uv (pinned below), installed on first use into a venv under ~/.cache (PIP_INDEX_URL
# honoured). The options, and why:
#   --universal               one lock for every platform and Python >= the version below:
#                             images are built on x86_64 and arm64 (a Mac), the sandbox runs
#                             Ubuntu 24.04's Python 3.12, everything else 3.11; markers in the
#                             lock choose, and the hashes of every file of each version are kept
#   --python-version 3.11     the lowest Python that runs these (python:3.11-slim-bookworm,
#                             Debian 12's python3)
#   --generate-hashes         pip's --require-hashes refuses a file whose hash is not listed
#   --custom-compile-command  the header of each lock names this script, the one way to redo it
#   --excludes X.excludes     when requirements-X.excludes (or requirements.excludes) lies beside
#                             the .in: packages left out of the resolution, each with its reason
# A lock already there is the starting point (its versions are kept unless an .in pin changes
# or UV_ARGS asks for an upgrade), so re-running is a no-op when nothing changed. Locks name no
# index: whoever installs uses PyPI or their own mirror (PIP_INDEX_URL).
set -euo pipefail

UV_VERSION=0.13.9
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tools="${XDG_CACHE_HOME:-$HOME/.cache}/week-environments/uv-$UV_VERSION"
uv="$tools/bin/uv"
if [[ ! -x "$uv" ]] || [[ "$("$uv" --version 2>/dev/null)" != "uv $UV_VERSION"* ]]; then
  echo "lock: installing uv==$UV_VERSION into $tools" >&2
  python3 -m venv --clear "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

paths=("${@:-.}")
mapfile -t inputs < <(find "${paths[@]}" \
  \( -name node_modules -o -name .git -o -name '.venv*' -o -name cdktf.out -o -name __pycache__ \) -prune \
  -o -type f -name 'requirements*.in' -print | sed 's|^\./||' | sort)
((${#inputs[@]})) || { echo "lock: no requirements*.in under ${paths[*]}" >&2; exit 1; }

read -r -a extra <<<"${UV_ARGS:-}"
for input in "${inputs[@]}"; do
  lock="${input%.in}.lock"
  excludes=()
  if [[ -f "${input%.in}.excludes" ]]; then excludes=(--excludes "${input%.in}.excludes"); fi
  echo "lock: $input -> $lock${excludes:+ (excluding what ${input%.in}.excludes lists)}" >&2
  "$uv" pip compile --quiet --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "bash scripts/lock.sh" --no-config \
    "${excludes[@]}" "${extra[@]}" "$input" --output-file "$lock"
done
