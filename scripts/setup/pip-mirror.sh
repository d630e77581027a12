#!/usr/bin/env bash
# Serve the local wheel mirror (/opt/pypi: simple/ + files/) over loopback for pip,
# including pip inside `docker build --network host`.
#
# Usage: scripts/setup/pip-mirror.sh start   # start (or re-use) the server, print the index URL
#        scripts/setup/pip-mirror.sh url     # print the index URL if it is serving (exit 1 if not)
#        scripts/setup/pip-mirror.sh stop    # stop the server this script started
#        scripts/setup/pip-mirror.sh check   # start, then check links + `pip download fastapi`
#        scripts/setup/pip-mirror.sh status
#
# The URL is http://127.0.0.1:PORT/simple . pip treats 127.0.0.0/8 and localhost as
# secure origins, so plain http needs no --trusted-host (setting
# PIP_TRUSTED_HOST=127.0.0.1 does no harm).
# In a Dockerfile:  ARG PIP_INDEX_URL  (pip reads it from the environment)
#   docker build --network host --build-arg PIP_INDEX_URL="$(scripts/setup/pip-mirror.sh url)" ...
#
# Env: PYPI_MIRROR_DIR (default /opt/pypi), PIP_MIRROR_PORT (default: a free port, trying
# 8765 first), PIP_MIRROR_STATE (default /tmp/week-pip-mirror.state: "PID PORT").
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "${HERE}/lib-docker.sh"

DIR="${PYPI_MIRROR_DIR:-/opt/pypi}"
STATE="${PIP_MIRROR_STATE:-/tmp/week-pip-mirror.state}"
LOGF="${STATE%.state}.log"
PROBE="fastapi"   # a project the mirror must have

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

start() {
  if serving; then url_of "$PORT"; return 0; fi
  exec 8>"${STATE}.lock"   # one starter at a time
  flock -w 60 8 || die "another pip-mirror.sh holds ${STATE}.lock"
  if serving; then url_of "$PORT"; return 0; fi
  [ -f "${DIR}/simple/${PROBE}/index.html" ] || die "no wheel mirror at ${DIR} (missing simple/${PROBE}/index.html)"
  find_python
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

check() {
  local url; url=$(start)
  find_python
  # 1) the relative links (../../files/NAME.whl#sha256=...) resolve over HTTP
  local href
  href=$(curl -fsS -m 5 "${url}/${PROBE}/" | grep -o 'href="[^"]*"' | head -n 1 | sed 's/^href="//; s/"$//')
  [ -n "$href" ] || die "no link in ${url}/${PROBE}/"
  local abs
  abs=$("$PY" -c 'import sys, urllib.parse as u; print(u.urldefrag(u.urljoin(sys.argv[1], sys.argv[2]))[0])' \
        "${url}/${PROBE}/" "$href")
  http_ok "$abs" || die "link ${href} -> ${abs} does not resolve"
  echo "links: ${href%%#*} -> ${abs}: OK"
  # 2) pip from the host, with no pip config/env of this machine (PIP_CONFIG_FILE=/dev/null)
  local d; d=$(mktemp -d)
  if env -i PATH="$PATH" HOME="$d" PIP_CONFIG_FILE=/dev/null \
       "$PY" -m pip download -q --no-deps --disable-pip-version-check \
       --index-url "$url" "$PROBE" -d "$d/dl" >"$d/pip.log" 2>&1; then
    echo "pip download --no-deps --index-url ${url} ${PROBE}: OK ($(ls "$d/dl"))"
    rm -rf "$d"
  else
    cat "$d/pip.log" >&2; rm -rf "$d"
    die "pip download from ${url} failed"
  fi
}

case "${1:-}" in
  start) start ;;
  url) if serving; then url_of "$PORT"; else die "mirror not running (scripts/setup/pip-mirror.sh start)"; fi ;;
  stop) stop ;;
  status) if serving; then echo "serving ${DIR} at $(url_of "$PORT") (pid ${PID})"; else echo "not running"; exit 1; fi ;;
  check) check ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2 ;;
esac
