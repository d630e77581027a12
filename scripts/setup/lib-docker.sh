# shellcheck shell=bash
# Shared helpers for scripts/setup/docker-*.sh and scripts/setup/pip-mirror.sh.
# Source it: . "$(dirname "${BASH_SOURCE[0]}")/lib-docker.sh"

# log LINE... : progress to stderr, prefixed with the calling script's name.
log() { printf '[%s] %s\n' "$(basename "${0}")" "$*" >&2; }

# die LINE... : one clear line to stderr, exit 1.
die() { printf '[%s] ERROR: %s\n' "$(basename "${0}")" "$*" >&2; exit 1; }

# now_s : seconds since the epoch (for timings).
now_s() { date +%s; }

# need_root : most of these scripts install packages or talk to the engine.
need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (got uid $(id -u))"; }

# apt_install PKG... : install Debian packages that are not installed yet,
# quietly, with a single `apt-get update` per process.
_APT_UPDATED=""
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "apt-get not found; cannot install ${missing[*]}"
  if [ -z "$_APT_UPDATED" ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    _APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# docker_ok : does a Docker engine answer?
docker_ok() { timeout 20 docker info >/dev/null 2>&1; }

# human_size BYTES : e.g. 123.4MB
human_size() { awk -v b="$1" 'BEGIN{ if (b>=1e9) printf "%.2fGB", b/1e9; else printf "%.1fMB", b/1e6 }'; }
