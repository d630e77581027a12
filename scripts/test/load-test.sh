#!/usr/bin/env bash
# Load and fault tests of the prediction API (tests/load, run by npm test after the Python tests).
# Each run starts its own throw-away PostgreSQL cluster and real servers of the API on loopback
# ports, then, with wrk (32 connections, 2 threads):
#   1. POST /predict for LOAD_SECONDS (default 60) after a warm-up, then GET / (hello world, the
#      baseline) as long: every answer must be a 2xx and stored, and the server's memory must
#      level off; requests/s, p50/p99 latency and memory are printed, never judged;
#   2. POST /predict for FAULT_SECONDS (default 20) while PostgreSQL is stopped and started
#      again: predictions must go on (stored: false), /health say degraded, storage resume by
#      itself, and wrk see no error. The figures and the timeline are printed at the end.
#
# Usage: scripts/test/load-test.sh [PYTEST_ARGS...]
#        LOAD_SECONDS=10 FAULT_SECONDS=12 bash scripts/test/load-test.sh     # a quicker local run
#
# Needs wrk (apt-get install -y wrk): without it the load tests are reported skipped, or fail
# when CI=true. Builds the test venv (scripts/setup/py-env.sh) first. Exit status: pytest's, except
# that "no test collected" (5) is a failure. Nothing is left running: pytest stops what it
# started, and on exit this script kills any process group recorded in its run folder and
# stops a PostgreSQL still running there.
set -euo pipefail

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
started=$SECONDS

if ! command -v wrk >/dev/null; then
  if [[ "${CI:-}" == true ]]; then
    echo "load-test: wrk is not installed (apt-get install -y wrk), and CI=true requires the load tests" >&2
    exit 1
  fi
  echo "load-test: wrk is not installed (apt-get install -y wrk): the load tests are skipped" >&2
fi

bash scripts/setup/py-env.sh
py="$root/.venv/bin/python"

run_dir="$(mktemp -d "${TMPDIR:-/tmp}/load-test.XXXXXX")"
export LOAD_TEST_RUN_DIR="$run_dir"

clean_up() { # what pytest could not stop (killed, crashed): by recorded group and pid only
  local code=$? record pid
  for record in "$run_dir"/groups/*; do
    [[ -f "$record" ]] || continue
    pid="$(cat "$record")"
    if kill -KILL -- "-$pid" 2>/dev/null; then
      echo "load-test: killed the left-over process group $pid (${record##*/})" >&2
    fi
  done
  if [[ -f "$run_dir/pg/data/postmaster.pid" ]]; then
    pid="$(head -n 1 "$run_dir/pg/data/postmaster.pid")"
    if kill -QUIT "$pid" 2>/dev/null; then # SIGQUIT: PostgreSQL's immediate shutdown
      echo "load-test: stopped the left-over PostgreSQL $pid" >&2
      for _ in {1..50}; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
    fi
  fi
  rm -rf "$run_dir"
  exit "$code"
}
trap clean_up EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

code=0
"$py" -m pytest -p no:cacheprovider -q -s tests/load "$@" || code=$?
case $code in
  0) echo "load-test: passed in $((SECONDS - started)) s" >&2 ;;
  5)
    echo "load-test: FAILED: no test collected in tests/load (pytest exit 5)" >&2
    code=1
    ;;
  *) echo "load-test: FAILED (pytest exit $code) after $((SECONDS - started)) s" >&2 ;;
esac
exit "$code"
