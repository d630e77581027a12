#!/usr/bin/env bash
# Optional: the wheels the Python locks name (every requirements*.lock of the repository),
# downloaded once by the host's pip into a folder and served over loopback as a package index,
# for `docker build --network host` where the build cannot reach the index itself: a proxy whose
# TLS certificate only the host trusts, a classroom lab with a slow or no connection (30 sandbox
# builds read the folder, not the network). Never required: unset, the Dockerfiles use PyPI. The
# builds still install with --require-hashes, so the lock's hashes check every file served here.
# The image tests and the bench use it (scripts/test/image-test.sh); nothing else.
#
# Usage: scripts/setup/pip-mirror.sh start   # fill the folder from the locks, serve it, print the URL
#        scripts/setup/pip-mirror.sh url     # print the index URL if it is serving (exit 1 if not)
#        scripts/setup/pip-mirror.sh stop    # stop the server this script started
#        scripts/setup/pip-mirror.sh status
#
# The folder holds the files for the host's Python and platform (Debian 12: CPython 3.11,
# the stand-in bases of the image tests); the host's pip downloads them with its own settings
# (PIP_INDEX_URL, a proxy, a CA). The URL is http://127.0.0.1:PORT/simple; pip treats loopback
# as a secure origin. In a Dockerfile:  ARG PIP_INDEX_URL  (pip reads it from the environment)
#   docker build --network host --build-arg PIP_INDEX_URL="$(scripts/setup/pip-mirror.sh start)" ...
#
# Env: PIP_MIRROR_DIR (default ~/.cache/week-environments/wheels), PIP_MIRROR_PORT (default: a
# free port, trying 8765 first), PIP_MIRROR_STATE (default /tmp/week-lock-wheels.state: "PID PORT").
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
. "${HERE}/lib-docker.sh"

DIR="${PIP_MIRROR_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/week-environments/wheels}"
STATE="${PIP_MIRROR_STATE:-/tmp/week-lock-wheels.state}"
LOGF="${STATE%.state}.log"
PROBE="fastapi"   # a project every API lock names

PY=""
find_python() {
  local c
  for c in python3 /usr/bin/python3 python; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import http.server' 2>/dev/null; then
      # the real interpreter (not a pyenv shim), so the pid we store is the server's own
      PY=$("$c" -c 'import sys; print(sys.executable)'); return 0
    fi
  done
  die "no python3 to serve the mirror with"
}

http_ok() { # http_ok URL : 2xx?
  if command -v curl >/dev/null; then curl -fsS -o /dev/null -m 5 "$1" 2>/dev/null
  else "${PY:-python3}" -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$1" 2>/dev/null
  fi
}

# read_state : sets PID PORT if the state file names a live server of ours.
PID="" PORT=""
read_state() {
  PID="" PORT=""
  [ -s "$STATE" ] || return 1
  read -r PID PORT <"$STATE" || true
  [ -n "$PID" ] && [ -n "$PORT" ] || return 1
  kill -0 "$PID" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$PID/cmdline" 2>/dev/null | grep -q "http.server" || return 1
}

url_of() { echo "http://127.0.0.1:$1/simple"; }

serving() { read_state && http_ok "$(url_of "$PORT")/${PROBE}/"; }

free_port() {
  "$PY" - "${PIP_MIRROR_PORT:-}" <<'EOF'
import socket, sys
want = [int(sys.argv[1])] if sys.argv[1] else [8765, 0]
for p in want:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does (TIME_WAIT ok)
    try:
        s.bind(("127.0.0.1", p)); print(s.getsockname()[1]); break
    except OSError:
        if sys.argv[1]: sys.exit("port %s is taken" % p)
    finally:
        s.close()
EOF
}

# fill : download what the locks name into $DIR/files (pip skips files already there, checking
# their hashes) and write the simple index $DIR/simple/<project>/index.html. The locks are
# universal: a marker may choose another version per Python (soupsieve differs below 3.11.5), so
# each lock is read for each Python the images run (Debian 12's 3.11.2, the python:3.11 images'
# latest 3.11, Ubuntu 24.04's 3.12.3) on Linux, and pip downloads that selection for it.
TARGETS=(3.11.2 3.11.14 3.12.3)
fill() {
  local locks=() lock target selection
  mapfile -t locks < <(find "$ROOT" \( -name node_modules -o -name .git -o -name '.venv*' -o -name cdktf.out \) -prune \
    -o -type f -name 'requirements*.lock' -print | sort)
  ((${#locks[@]})) || die "no requirements*.lock under ${ROOT}"
  mkdir -p "${DIR}/files"
  selection="$(mktemp)"
  # $DIR/done-<python>.sha256: the hashes of the entries already downloaded for that Python
  for lock in "${locks[@]}"; do
    for target in "${TARGETS[@]}"; do
      select_for "$lock" "$target" >"$selection"
      [[ -s "$selection" ]] || continue
      "$PY" -m pip download --quiet --disable-pip-version-check --require-hashes --no-deps \
        --only-binary :all: --python-version "$target" -r "$selection" -d "${DIR}/files" >&2 \
        || { rm -f "$selection"; die "pip download -r ${lock#"$ROOT/"} for Python ${target} failed"; }
      grep -o 'sha256:[0-9a-f]*' "$selection" | cut -d: -f2 >>"${DIR}/done-${target}.sha256"
    done
  done
  rm -f "$selection"
  "$PY" - "$DIR" <<'PY'
import hashlib, html, pathlib, re, shutil, sys
root = pathlib.Path(sys.argv[1])
simple = root / "simple"
shutil.rmtree(simple, ignore_errors=True)
projects: dict[str, list[pathlib.Path]] = {}
for f in sorted((root / "files").iterdir()):
    name = re.sub(r"[-_.]+", "-", f.name.split("-", 1)[0]).lower()
    projects.setdefault(name, []).append(f)
for name, files in projects.items():
    (simple / name).mkdir(parents=True)
    links = "".join(
        f'<a href="../../files/{html.escape(f.name)}#sha256={hashlib.sha256(f.read_bytes()).hexdigest()}">'
        f"{html.escape(f.name)}</a>\n"
        for f in files
    )
    (simple / name / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
PY
}

# select_for LOCK VERSION : the lock's entries whose markers hold for CPython VERSION on Linux
# (the host's machine), markers removed, hashes kept; those not downloaded for it yet.
select_for() {
  touch "${DIR}/done-$2.sha256"
  "$PY" - "$1" "$2" "${DIR}/done-$2.sha256" <<'PY'
import platform, re, sys
try:
    from packaging.markers import Marker
except ImportError:  # pip carries its own copy
    from pip._vendor.packaging.markers import Marker
lock, version = sys.argv[1], sys.argv[2]
have = set(open(sys.argv[3]).read().split())
env = {
    "python_version": ".".join(version.split(".")[:2]), "python_full_version": version,
    "implementation_name": "cpython", "platform_python_implementation": "CPython",
    "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
    "platform_machine": platform.machine(),
}
entries = re.split(r"\n(?=[A-Za-z0-9])", open(lock).read())
for entry in entries:
    if entry.startswith("#") or not entry.strip():
        continue
    first, _, rest = entry.partition("\n")
    requirement, _, marker = first.rstrip(" \\").partition(";")
    if marker.strip() and not Marker(marker.strip()).evaluate(env):
        continue
    if have & set(re.findall(r"--hash=sha256:([0-9a-f]{64})", rest)):
        continue
    print(f"{requirement.strip()} \\\n{rest}")
PY
}

start() {
  exec 8>"${STATE}.lock"   # one starter at a time
  flock -w 600 8 || die "another pip-mirror.sh holds ${STATE}.lock"
  find_python
  fill
  if serving; then url_of "$PORT"; return 0; fi
  local try
  for try in 1 2 3; do
    PORT=$(free_port) || die "no free port"
    setsid nohup "$PY" -m http.server --bind 127.0.0.1 --directory "$DIR" "$PORT" \
      >>"$LOGF" 2>&1 </dev/null 8>&- &
    PID=$!
    echo "$PID $PORT" >"$STATE"
    local i
    for ((i = 0; i < 100; i++)); do
      if http_ok "$(url_of "$PORT")/${PROBE}/"; then url_of "$PORT"; return 0; fi
      kill -0 "$PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$PID" 2>/dev/null || true   # lost a race for the port, or too slow: try again
    rm -f "$STATE"
    [ -n "${PIP_MIRROR_PORT:-}" ] && break
  done
  tail -n 5 "$LOGF" >&2 || true
  die "mirror did not answer at $(url_of "${PORT:-?}")/${PROBE}/; see ${LOGF}"
}

stop() {
  if read_state; then
    kill "$PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    log "stopped mirror (pid ${PID}, port ${PORT})"
  else
    log "no mirror of ours is running"
  fi
  rm -f "$STATE"
}


case "${1:-}" in
  start) start ;;
  url) if serving; then url_of "$PORT"; else die "mirror not running (scripts/setup/pip-mirror.sh start)"; fi ;;
  stop) stop ;;
  status) if serving; then echo "serving ${DIR} at $(url_of "$PORT") (pid ${PID})"; else echo "not running"; exit 1; fi ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2 ;;
esac
