#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine (no registry reachable).
#
# Usage: scripts/setup/docker-engine.sh            # ensure the engine is up, print its version
#        scripts/setup/docker-engine.sh check-net  # also check bridge DNS + -p 127.0.0.1 publishing
#
# - If `docker info` already answers: print the version line, exit 0.
# - Else: apt-get install docker.io if dockerd is missing, start
#     dockerd $DOCKERD_FLAGS
#       (default: --iptables=false --ip-forward=false --storage-driver=vfs)
#   detached, logging to $DOCKERD_LOG (default /tmp/dockerd.log), wait up to
#   $DOCKERD_WAIT seconds (default 60) for `docker info`.
# Nothing destructive: it never stops, restarts or prunes an engine.
#
# Why these flags (checked with `check-net`):
# - --iptables=false: the host has no iptables rules to manage and no NAT is
#   wanted. Still works without any extra flag: published ports
#   (`-p 127.0.0.1:X:Y`) through docker-proxy (userland proxy, on by default),
#   and containers on a user-defined bridge reaching each other by name
#   (embedded DNS 127.0.0.11; its rules live inside the container's netns).
# - --ip-forward=false: dockerd would otherwise turn on net.ipv4.ip_forward and
#   the host would route un-NATed container packets (private source address)
#   out of the machine. With it, bridge containers reach only each other and
#   the host; `docker run` prints "WARNING: IPv4 forwarding is disabled.
#   Networking will not work." -- expected, ignore it.
#   So builds that need apt/pip use `docker build --network host`.
# - --storage-driver=overlay2: layers are shared, not copied (a cold API image build: 51 s on
#   overlay2 against 332 s on vfs, measured on these machines). Before starting, a throw-away
#   overlay mount is tried under /var/lib/docker; where it is refused, vfs (always works, every
#   layer a full copy) is used instead and said so. An engine already running keeps its driver.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib-docker.sh"

# overlay_works: can this machine mount an overlay filesystem where the engine keeps its data?
overlay_works() {
  local base=/var/lib/docker/.overlay-probe.$$ rc=1
  mkdir -p "$base"/{lower,upper,work,merged} || return 1
  if mount -t overlay overlay -o "lowerdir=$base/lower,upperdir=$base/upper,workdir=$base/work" "$base/merged" 2>/dev/null; then
    umount "$base/merged" && rc=0
  fi
  rm -rf "$base"
  return "$rc"
}
default_flags() {
  local driver=overlay2
  if ! overlay_works; then
    driver=vfs
    log "overlay mounts are refused here: falling back to --storage-driver=vfs (slower builds)"
  fi
  echo "--iptables=false --ip-forward=false --storage-driver=${driver}"
}
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"
DOCKERD_WAIT="${DOCKERD_WAIT:-60}"

version_line() {
  local sv cv drv
  sv=$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')
  cv=$(docker version --format '{{.Client.Version}}' 2>/dev/null || echo '?')
  drv=$(docker info --format '{{.Driver}}' 2>/dev/null || echo '?')
  echo "docker engine ${sv} (client ${cv}, storage ${drv}) is up"
}

ensure_engine() {
  if docker_ok; then version_line; return 0; fi
  need_root
  # one starter at a time (parallel callers wait here, then find the engine up)
  exec 9>/tmp/week-docker-engine.lock
  flock -w 300 9 || die "another docker-engine.sh holds /tmp/week-docker-engine.lock"
  if docker_ok; then version_line; return 0; fi
  command -v docker >/dev/null || apt_install docker.io
  command -v dockerd >/dev/null || apt_install docker.io
  command -v dockerd >/dev/null || die "dockerd not found even after installing docker.io"

  [ -n "${DOCKERD_FLAGS:-}" ] || DOCKERD_FLAGS="$(default_flags)"
  if pgrep -x dockerd >/dev/null; then
    log "a dockerd process exists but does not answer yet; waiting for it (not starting a second one)"
  else
    log "starting: dockerd ${DOCKERD_FLAGS} (log: ${DOCKERD_LOG})"
    # setsid+nohup: the engine outlives this script and its shell/session.
    # shellcheck disable=SC2086
    setsid nohup dockerd ${DOCKERD_FLAGS} >>"${DOCKERD_LOG}" 2>&1 </dev/null 9>&- &
  fi
  local i
  for ((i = 0; i < DOCKERD_WAIT; i++)); do
    if docker_ok; then version_line; return 0; fi
    if ! pgrep -x dockerd >/dev/null; then
      tail -n 15 "${DOCKERD_LOG}" >&2 || true
      die "dockerd exited during start-up; see ${DOCKERD_LOG}"
    fi
    sleep 1
  done
  tail -n 15 "${DOCKERD_LOG}" >&2 || true
  die "docker engine did not answer within ${DOCKERD_WAIT}s; see ${DOCKERD_LOG}"
}

# A ~2 MB test image from Debian's busybox-static (no registry needed).
# (Its wget segfaults in a bare rootfs, so the checks use nc.)
TEST_IMAGE="week-local/busybox:net-test"
ensure_test_image() {
  docker image inspect "${TEST_IMAGE}" >/dev/null 2>&1 && return 0
  apt_install busybox-static
  local d; d=$(mktemp -d)
  mkdir -p "$d/bin" "$d/tmp" "$d/www"
  cp /bin/busybox "$d/bin/busybox"
  local a
  for a in sh nc nslookup httpd ping cat echo printf sleep hostname; do ln -s busybox "$d/bin/$a"; done
  echo "hello from busybox" >"$d/www/index.html"
  tar -C "$d" -c . | docker import -c 'ENV PATH=/bin' - "${TEST_IMAGE}" >/dev/null
  rm -rf "$d"
}

NET="" C1="" C2=""
cleanup_net() {
  [ -n "$C1" ] && docker rm -f "$C1" "$C2" >/dev/null 2>&1
  [ -n "$NET" ] && docker network rm "$NET" >/dev/null 2>&1
  return 0
}
check_net() {
  ensure_test_image
  local port="${CHECK_NET_PORT:-18089}" rc=0
  NET="week-netcheck-$$" C1="wnc-srv-$$" C2="wnc-cli-$$"
  local net="$NET" c1="$C1" c2="$C2"
  trap cleanup_net EXIT
  docker network create "$net" >/dev/null
  docker run -d --name "$c1" --network "$net" -p "127.0.0.1:${port}:8000" "${TEST_IMAGE}" \
    httpd -f -p 8000 -h /www >/dev/null
  sleep 1
  if docker run --rm --name "$c2" --network "$net" "${TEST_IMAGE}" \
      sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $c1 8000" 2>/dev/null | grep -q hello; then
    echo "net: user-defined bridge, container->container by name: OK"
  else
    echo "net: user-defined bridge, container->container by name: FAILED"; rc=1
  fi
  if curl -fsS -m 5 "http://127.0.0.1:${port}/" 2>/dev/null | grep -q hello; then
    echo "net: -p 127.0.0.1:${port}:8000 from the host (userland proxy): OK"
  else
    echo "net: -p 127.0.0.1:${port}:8000 from the host (userland proxy): FAILED"; rc=1
  fi
  return "$rc"
}

case "${1:-up}" in
  up|start|"") ensure_engine ;;
  check-net) ensure_engine; check_net ;;
  -h|--help|help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
  *) die "unknown command '$1' (use: up | check-net)" ;;
esac
