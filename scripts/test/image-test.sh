#!/usr/bin/env bash
# Build and run the local stack's images and check them (tests/images, pytest):
#
#   bash scripts/test/image-test.sh [PYTEST ARGS...]      e.g. -x, -k sandbox
#
# 1. No Docker engine answering (`docker info`): one line saying so, the tests are SKIPPED,
#    exit 0 -- unless CI=true and REQUIRE_DOCKER=1, where that is a failure (exit 1). This
#    script never installs or starts an engine (.ci/run does, with scripts/setup/docker-engine.sh).
# 2. Prepares: the test venv (scripts/setup/py-env.sh), the stand-in bases (scripts/setup/docker-bases.sh,
#    only what is missing), the wheels the Python locks name, downloaded by the host and served
#    on loopback to the builds (scripts/setup/pip-mirror.sh start; left running, it is shared; the
#    builds still check the locks' hashes; the first time it downloads ~430 MB, 4 to 8 min here,
#    then ~10 s), `npm run synth` into a private folder (CDKTF_OUTDIR: the shared cdktf.out is
#    left alone).
# 3. Runs .venv/bin/python -m pytest tests/images -q -rfEs, which builds the three images from the
#    synthesised contexts (re-using an image whose tag, a content hash, is already built), runs
#    them on a private bridge network with ports on 127.0.0.1 and checks them; the summary has
#    build times, sizes above base and time to healthy. Then the whole week (test_week.py): the
#    four containers of the synthesised stack, the database on the PostgreSQL stand-in
#    (week-local/postgres-standin, scripts/setup/docker-bases.sh), its expressions resolved by
#    terraform (skipped, saying so, without it on the PATH); and the course's
#    docker-compose.yml with docker-compose (test_compose.py; skipped, saying so, without it).
# Exit status: pytest's, except that "no tests ran" (5) is a failure. Containers, network and
# volumes of the run are removed on exit, failure, Ctrl-C or SIGTERM.
#
# Env: IMAGE_TEST_PIP_INDEX_URL (the builds' package index instead of the locks' wheels;
#      `none`: the builds reach PyPI, or the PIP_INDEX_URL given to them, themselves),
#      IMAGE_TEST_REBUILD=1 (build with --no-cache), IMAGE_TEST_BUILD_JOBS (default 2),
#      IMAGE_TEST_PRUNE=0 (keep images of superseded tags), IMAGE_TEST_NAME_PREFIX (names of
#      containers, networks, volumes; default week-it). On 2 cores with vfs storage: cold
#      (nothing built yet) 11-14 min, builds ~9.5 of them; warm (images re-used) ~2 min. With
#      overlay2: cold builds ~6 min of an ~11 min run on a machine shared with other jobs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source=scripts/setup/lib-docker.sh
. scripts/setup/lib-docker.sh

case "${1:-}" in
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
esac

started=$(now_s)
say() { printf '[image-test %4ss] %s\n' "$(($(now_s) - started))" "$*" >&2; }

if ! docker_ok; then
  if [[ "${CI:-}" == "true" && "${REQUIRE_DOCKER:-}" == "1" ]]; then
    echo "image tests: FAILED: no Docker engine answers (docker info failed) and CI=true REQUIRE_DOCKER=1 require one" >&2
    exit 1
  fi
  echo "image tests: SKIPPED: no Docker engine answers (docker info failed); start one with scripts/setup/docker-engine.sh"
  exit 0
fi

run_id="$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d "${TMPDIR:-/tmp}/image-test.XXXXXX")"
pytest_pid=""

# shellcheck disable=SC2317 # called through the traps below
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$pytest_pid" ]] && kill -0 "$pytest_pid" 2>/dev/null; then
    kill -TERM "$pytest_pid" 2>/dev/null || true # pytest's finalizers remove what it made
    wait "$pytest_pid" 2>/dev/null || true
  fi
  # whatever is still there (pytest killed hard): everything labelled with this run
  local filter="label=week.image-test.run=$run_id" ids=()
  mapfile -t ids < <(docker ps -aq --filter "$filter" 2>/dev/null)
  ((${#ids[@]})) && docker rm -f -v "${ids[@]}" >/dev/null 2>&1 && say "removed ${#ids[@]} left-over container(s)"
  mapfile -t ids < <(docker network ls -q --filter "$filter" 2>/dev/null)
  ((${#ids[@]})) && docker network rm "${ids[@]}" >/dev/null 2>&1 && say "removed ${#ids[@]} left-over network(s)"
  mapfile -t ids < <(docker volume ls -q --filter "$filter" 2>/dev/null)
  ((${#ids[@]})) && docker volume rm -f "${ids[@]}" >/dev/null 2>&1 && say "removed ${#ids[@]} left-over volume(s)"
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

say "docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) (storage $(docker info --format '{{.Driver}}' 2>/dev/null)); run $run_id"

step() { # step NAME COMMAND... : run with timing, stop on failure
  local name="$1" t0
  shift
  t0=$(now_s)
  say "$name ..."
  "$@" || { say "$name FAILED"; return 1; }
  say "$name done in $(($(now_s) - t0)) s"
}

step "test venv (scripts/setup/py-env.sh)" bash scripts/setup/py-env.sh
step "stand-in bases (scripts/setup/docker-bases.sh)" bash scripts/setup/docker-bases.sh
if [[ -z "${IMAGE_TEST_PIP_INDEX_URL:-}" ]]; then
  t0=$(now_s)
  say "the locks' wheels (scripts/setup/pip-mirror.sh start) ..."
  IMAGE_TEST_PIP_INDEX_URL="$(bash scripts/setup/pip-mirror.sh start)" || { say "the locks' wheels (scripts/setup/pip-mirror.sh start) FAILED"; exit 1; }
  say "the locks' wheels served at $IMAGE_TEST_PIP_INDEX_URL in $(($(now_s) - t0)) s"
fi
step "npm run synth (into $work/cdktf.out)" env CDKTF_OUTDIR="$work/cdktf.out" npm run --silent synth

export IMAGE_TEST_SYNTH_DIR="$work/cdktf.out"
export IMAGE_TEST_PIP_INDEX_URL
export IMAGE_TEST_RUN_ID="$run_id"
export IMAGE_TEST_T0="$started" # pytest's progress lines count from the same start
say "pytest tests/images (builds, then checks) ..."
# In the background so that the traps run at once on a signal (bash defers them while a
# foreground child runs); pytest then gets SIGTERM and runs its finalizers.
set +e
.venv/bin/python -m pytest tests/images -q -rfEs -p no:cacheprovider --basetemp "$work/pytest" "$@" &
pytest_pid=$!
wait "$pytest_pid"
rc=$?
pytest_pid=""
set -e
case $rc in
  0) say "image tests passed in $(($(now_s) - started)) s" ;;
  5)
    say "image tests FAILED: pytest collected no test (exit 5)"
    rc=1
    ;;
  *) say "image tests FAILED (pytest exit $rc) after $(($(now_s) - started)) s" ;;
esac
exit "$rc"
