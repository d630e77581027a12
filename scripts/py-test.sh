#!/usr/bin/env bash
# Test every Python project of lambdas-src in the shared venv (.venv, built by py-env.sh):
#   1. ruff check and ruff format --check over lambdas-src and tests
#   2. mypy per project (its own [tool.mypy] if its pyproject.toml has one, else the shared
#      lambdas-src/pyproject.toml)
#   3. pytest per project that has a tests/ folder, one invocation each (no module-name
#      clashes), with a throw-away PostgreSQL cluster (initdb in a temp dir, loopback port, stopped
#      and removed on exit) whose URL is exported as TEST_POSTGRES_URL. The API's tests also run
#      lambdas-src/api/test/test_api.sh against a real server process.
# Every step runs; the script exits 1 if any failed and says which. Extra arguments go to every
# pytest run (e.g. -x, -k crud).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/py-env.sh
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
pg_bin=""
for dir in "" /usr/lib/postgresql/*/bin; do
  if [[ -z "$dir" ]] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    pg_bin="$(dirname "$(command -v pg_ctl)")"
    break
  elif [[ -n "$dir" && -x "$dir/initdb" ]]; then
    pg_bin="$dir"
    break
  fi
done
[[ -n "$pg_bin" ]] || { echo "py-test: initdb/pg_ctl not found (install PostgreSQL server binaries)" >&2; exit 1; }

pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/py-test-pg.XXXXXX")"
as_pg=()
if [[ $EUID -eq 0 ]]; then # initdb and postgres refuse to run as root
  pg_user=postgres
  id -u "$pg_user" >/dev/null 2>&1 || pg_user=nobody
  chown "$pg_user:" "$pg_dir"
  as_pg=(setpriv --reuid="$pg_user" --regid="$(id -g "$pg_user")" --clear-groups)
fi
pg() { (cd "$pg_dir" && "${as_pg[@]}" "$pg_bin/$1" "${@:2}"); }

stop_postgres() {
  if [[ -f "$pg_dir/data/postmaster.pid" ]]; then
    pg pg_ctl -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$pg_dir"
}
trap stop_postgres EXIT
trap 'exit 130' INT # so that the EXIT trap also runs on Ctrl-C and on kill
trap 'exit 143' TERM

pg initdb -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$pg_dir/initdb.log" 2>&1 \
  || { cat "$pg_dir/initdb.log" >&2; echo "py-test: initdb failed" >&2; exit 1; }
for attempt in 1 2 3; do
  pg_port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  if pg pg_ctl -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 30 -o \
    "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
    start >/dev/null; then
    break
  fi
  [[ $attempt -lt 3 ]] || { tail -n 20 "$pg_dir/server.log" >&2; echo "py-test: PostgreSQL did not start" >&2; exit 1; }
done
export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
export TEST_POSTGRES_SOCKET="$pg_dir/.s.PGSQL.$pg_port" # for the Cloud SQL socket-form test
echo "py-test: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port ($pg_dir)" >&2

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

# The test suites outside lambdas-src (tests/load, tests/images) are type-checked too; their
# tests run in scripts/load-test.sh and scripts/image-test.sh.
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

for dir in "${projects[@]}"; do
  if [[ -d "$dir/tests" ]]; then
    step "pytest $dir" run_pytest "$dir" "$@"
  fi
done

# ------------------------------------------------------------------ summary
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "py-test: FAILED after $((SECONDS - started)) s: ${failed[*]}" >&2
  exit 1
fi
echo "py-test: all checks passed in $((SECONDS - started)) s (${projects[*]})" >&2
