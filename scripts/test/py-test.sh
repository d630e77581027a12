#!/usr/bin/env bash
# Test every Python project of lambdas-src in the shared venv (.venv, built by py-env.sh):
#   1. ruff check and ruff format --check over lambdas-src and tests
#   2. mypy per project (its own [tool.mypy] if its pyproject.toml has one, else the shared
#      lambdas-src/pyproject.toml)
#   3. pytest per project that has a tests/ folder (and tests/support, the shared test
#      machinery), one invocation each (no module-name clashes), with a throw-away PostgreSQL
#      cluster (week_testkit.postgres: initdb in a temp dir, loopback port, stopped and removed
#      on exit) whose URL is exported as TEST_POSTGRES_URL. The API's tests also run
#      lambdas-src/api/test/test_api.sh against a real server process.
# Every step runs; the script exits 1 if any failed and says which. Extra arguments go to every
# pytest run (e.g. -x, -k crud).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash scripts/setup/py-env.sh
export PATH="$root/.venv/bin:$PATH"
py="$root/.venv/bin/python"
failed=()
started=$SECONDS

step() { # step NAME COMMAND...: run, remember a failure
  local name="$1"
  shift
  echo "==> $name" >&2
  if "$@"; then
    return 0
  fi
  failed+=("$name")
}

# ------------------------------------------------------------------ throw-away PostgreSQL
# The whole run goes on inside week_testkit's wrapper, which starts the cluster, exports
# TEST_POSTGRES_URL and TEST_POSTGRES_SOCKET (for the Cloud SQL socket-form test), and stops and
# removes it when this script ends, Ctrl-C and kill included.
if [[ -z "${PY_TEST_POSTGRES:-}" ]]; then
  export PY_TEST_POSTGRES=1
  exec "$py" -m week_testkit.postgres --max-connections 50 -- bash "${BASH_SOURCE[0]}" "$@"
fi

# ------------------------------------------------------------------ lint and types
step "ruff check" ruff check lambdas-src tests
step "ruff format --check" ruff format --check lambdas-src tests

projects=()
for dir in lambdas-src/*/; do
  dir="${dir%/}"
  if [[ -n "$(find "$dir" -name '*.py' -not -path '*/.*' -print -quit)" ]]; then
    projects+=("$dir")
  fi
done

mypy_mode() { # own-files | own | shared
  "$py" - "$1/pyproject.toml" <<'PY'
import sys, tomllib
try:
    with open(sys.argv[1], "rb") as f:
        mypy = tomllib.load(f).get("tool", {}).get("mypy")
except FileNotFoundError:
    mypy = None
print("shared" if mypy is None else "own-files" if mypy.get("files") else "own")
PY
}

# The test suites outside lambdas-src (tests/load, tests/images, tests/support) are type-checked
# too; the load and image tests run in scripts/test/load-test.sh and scripts/test/image-test.sh.
checked=("${projects[@]}")
for dir in tests/*/; do
  dir="${dir%/}"
  [[ -z "$(find "$dir" -name '*.py' -print -quit)" ]] || checked+=("$dir")
done

for dir in "${checked[@]}"; do
  case "$(mypy_mode "$dir")" in
    own-files) step "mypy $dir" bash -c 'cd "$1" && mypy' _ "$dir" ;;
    own) step "mypy $dir" bash -c 'cd "$1" && mypy .' _ "$dir" ;;
    shared) step "mypy $dir" bash -c 'cd "$1" && mypy --config-file "$2" .' _ "$dir" "$root/lambdas-src/pyproject.toml" ;;
  esac
done

# ------------------------------------------------------------------ tests
run_pytest() { # exit 5 (no test collected) is a warning, not a failure
  local dir="$1" code=0
  shift
  (cd "$dir" && "$py" -m pytest -p no:cacheprovider tests "$@") || code=$?
  if [[ $code -eq 5 ]]; then
    echo "py-test: warning: no test collected in $dir/tests" >&2
    return 0
  fi
  return "$code"
}

for dir in "${projects[@]}" tests/support; do
  if [[ -d "$dir/tests" ]]; then
    step "pytest $dir" run_pytest "$dir" "$@"
  fi
done

# ------------------------------------------------------------------ summary
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "py-test: FAILED after $((SECONDS - started)) s: ${failed[*]}" >&2
  exit 1
fi
echo "py-test: all checks passed in $((SECONDS - started)) s (${projects[*]} tests/support)" >&2
