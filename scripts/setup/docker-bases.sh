#!/usr/bin/env bash
# Build local stand-in base images (no image registry is reachable here).
#
# Usage: scripts/setup/docker-bases.sh [--rebuild | --refresh]
#   (no flag)  build only what is missing (or built by an older recipe); fast on re-run
#   --rebuild  rebuild both images (re-using the cached debootstrap tarball)
#   --refresh  also re-run debootstrap (new tarball)
#
# Images:
#   week-local/debian:bookworm             minbase bookworm from debootstrap + `docker import`
#                                          (stands in for ubuntu:24.04 / debian:bookworm)
#   week-local/python:3.11-slim-bookworm   FROM the above: Debian's python3 (3.11), venv, pip,
#                                          python/pip on PATH in /usr/local/bin, LANG=C.UTF-8
#                                          (stands in for python:3.11-slim-bookworm)
#   week-local/postgres-standin:15-bookworm       FROM the debian one: Debian's PostgreSQL 15 and
#   week-local/postgres-standin:15-bookworm-next  an entrypoint doing what the stack needs of the
#                                          official image (scripts/setup/postgres-standin/). A STAND-IN
#                                          for tests: the stack and docker-compose.yml keep the
#                                          real postgres:17.6-bookworm. "-next" is the same
#                                          server in a second image, so that a test can replace
#                                          the database's image on the same volume.
#
# Cache: $WEEK_BASES_CACHE (default /var/cache/week-bases) keeps the rootfs tarball so that
# a lost image store does not mean another debootstrap. A fresh machine builds it all.
#
# Builds FROM these images need `docker build --network host ...` for apt/pip to reach
# anything: the engine runs with --iptables=false, so bridge networks have no NAT.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "${HERE}/lib-docker.sh"

# Bump when the recipe below changes: images with another label get rebuilt. The PostgreSQL
# stand-in has its own number (its recipe is scripts/setup/postgres-standin/), so that adding it did
# not rebuild the shared Debian and Python bases: a new base id would invalidate every image
# built on them on this engine.
RECIPE=3
POSTGRES_RECIPE=4
DEBIAN_IMAGE="week-local/debian:bookworm"
PYTHON_IMAGE="week-local/python:3.11-slim-bookworm"
POSTGRES_IMAGE="week-local/postgres-standin:15-bookworm"
POSTGRES_NEXT_IMAGE="week-local/postgres-standin:15-bookworm-next"
SUITE=bookworm
MIRROR="http://deb.debian.org/debian"
CACHE="${WEEK_BASES_CACHE:-/var/cache/week-bases}"
TARBALL="${CACHE}/debian-${SUITE}-minbase-r${RECIPE}.tar"

MODE="${1:-}"
case "$MODE" in
  ""|--rebuild|--refresh) ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) die "unknown option '$MODE' (use --rebuild or --refresh)" ;;
esac

need_root
"${HERE}/docker-engine.sh" >/dev/null || die "no docker engine (scripts/setup/docker-engine.sh failed)"
mkdir -p "$CACHE"

# One builder at a time on this machine (colleagues share the engine and the cache).
exec 9>"${CACHE}/.lock"
flock -w 1800 9 || die "another docker-bases.sh holds ${CACHE}/.lock"

image_ok() { # image_ok NAME [RECIPE] : exists and was built by this recipe
  local r
  r=$(docker image inspect -f '{{ index .Config.Labels "week.recipe" }}' "$1" 2>/dev/null) || return 1
  [ "$r" = "${2:-$RECIPE}" ]
}

# ---------------------------------------------------------------- rootfs tarball
ROOTFS=""
cleanup_rootfs() {
  [ -n "$ROOTFS" ] && [ -d "$ROOTFS" ] || return 0
  # debootstrap mounts proc/sys inside the target; never rm -rf across a mount.
  local m
  for m in $(awk -v r="$ROOTFS" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$ROOTFS"
}
trap cleanup_rootfs EXIT

make_tarball() {
  apt_install debootstrap debian-archive-keyring
  local t0; t0=$(now_s)
  ROOTFS=$(mktemp -d "${CACHE}/rootfs.XXXXXX")
  log "debootstrap --variant=minbase ${SUITE} (${MIRROR}) ..."
  debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$SUITE" "$ROOTFS" "$MIRROR" >"${CACHE}/debootstrap.log" 2>&1 \
    || { tail -n 20 "${CACHE}/debootstrap.log" >&2; die "debootstrap failed; see ${CACHE}/debootstrap.log"; }
  log "debootstrap took $(( $(now_s) - t0 ))s; tidying up"
  local r="$ROOTFS"

  # --- apt: deb.debian.org only (main + updates + security), docker-style configs
  rm -f "$r/etc/apt/sources.list"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${SUITE} ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
# As in the official images: never keep apt's caches in an image layer.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$r/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
  echo 'force-unsafe-io' >"$r/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  # Slim-style: no docs/man/locales from later installs (copyright files kept).
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  # Services never start inside image builds.
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 755 "$r/usr/sbin/policy-rc.d"

  # --- drop what debootstrap leaves behind (and what the excludes would have kept out)
  find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$r"/usr/share/{man,info,groff,linda,lintian/overrides}/* "$r"/usr/share/locale/*
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
         "$r"/var/cache/apt/archives/partial/* "$r"/var/cache/debconf/*-old "$r"/var/lib/dpkg/*-old \
         "$r"/var/log/apt/* "$r"/var/log/*.log "$r"/debootstrap "$r"/tmp/* "$r"/var/tmp/* "$r"/root/.bash_history
  # apt downloads as _apt into these (as in the official images); root-owned ones make
  # every apt-get in a build warn "Download is performed unsandboxed as root".
  local apt_uid; apt_uid=$(awk -F: '$1 == "_apt" {print $3}' "$r/etc/passwd")
  mkdir -p "$r/var/lib/apt/lists/partial" "$r/var/cache/apt/archives/partial"
  chown "${apt_uid:-42}:0" "$r/var/lib/apt/lists/partial" "$r/var/cache/apt/archives/partial"
  chmod 700 "$r/var/lib/apt/lists/partial" "$r/var/cache/apt/archives/partial"
  # Host identity: docker bind-mounts these at run time.
  : >"$r/etc/resolv.conf"; : >"$r/etc/machine-id"; rm -f "$r/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"

  # The rootfs folder came from mktemp -d (mode 0700): the image's / must be 0755, or no
  # non-root user can reach anything in it.
  chmod 755 "$r"
  tar --numeric-owner -C "$r" -cf "${TARBALL}.tmp" \
      --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' . \
    || die "tar of the rootfs failed"
  mv -f "${TARBALL}.tmp" "$TARBALL"
  cleanup_rootfs; ROOTFS=""
  log "rootfs tarball $(human_size "$(stat -c %s "$TARBALL")") in ${TARBALL} ($(( $(now_s) - t0 ))s)"
}

# ---------------------------------------------------------------- debian image
build_debian() {
  if [ "$MODE" = "--refresh" ] || [ ! -s "$TARBALL" ]; then
    make_tarball
  else
    log "re-using cached ${TARBALL}"
  fi
  local t0; t0=$(now_s)
  docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["bash"]' \
    -c "LABEL week.recipe=${RECIPE} week.source=debootstrap-minbase-${SUITE}" \
    -m "debootstrap --variant=minbase ${SUITE} ${MIRROR} (scripts/setup/docker-bases.sh r${RECIPE})" \
    "$TARBALL" "$DEBIAN_IMAGE" >/dev/null || die "docker import failed"
  log "imported ${DEBIAN_IMAGE} in $(( $(now_s) - t0 ))s"
}

# ---------------------------------------------------------------- python image
build_python() {
  local t0; t0=$(now_s)
  log "docker build ${PYTHON_IMAGE} (--network host, apt from deb.debian.org) ..."
  # Legacy builder (daemon 20.10, no buildx); the build needs no context.
  DOCKER_BUILDKIT=0 docker build -q --network host --label "week.recipe=${RECIPE}" \
      -t "$PYTHON_IMAGE" - >"${CACHE}/python-build.log" 2>&1 <<EOF || { tail -n 30 "${CACHE}/python-build.log" >&2; die "docker build ${PYTHON_IMAGE} failed; see ${CACHE}/python-build.log"; }
FROM ${DEBIAN_IMAGE}
# Like python:3.11-slim-bookworm, but with Debian's python3 (3.11.x in bookworm).
ENV LANG=C.UTF-8
RUN set -eux; \\
    apt-get update; \\
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        python3 python3-venv python3-pip ca-certificates netbase tzdata; \\
    rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log; \\
    # the official image's python is not Debian's: plain 'pip install' is allowed there
    rm -f /usr/lib/python3*/EXTERNALLY-MANAGED; \\
    for n in python:python3 python3:python3 pydoc:pydoc3 pip:pip3 pip3:pip3; do \\
        ln -sf "/usr/bin/\${n#*:}" "/usr/local/bin/\${n%%:*}"; \\
    done; \\
    python --version; pip --version; \\
    python -m venv /tmp/venv-check; /tmp/venv-check/bin/pip --version; rm -rf /tmp/venv-check; \\
    rm -rf /root/.cache /tmp/*
CMD ["python3"]
EOF
  log "built ${PYTHON_IMAGE} in $(( $(now_s) - t0 ))s"
}

# ---------------------------------------------------------------- postgres stand-in
build_postgres() {
  local t0; t0=$(now_s)
  log "docker build ${POSTGRES_IMAGE} (--network host, apt from deb.debian.org) ..."
  DOCKER_BUILDKIT=0 docker build -q --network host --build-arg "BASE_IMAGE=${DEBIAN_IMAGE}" \
      --label "week.recipe=${POSTGRES_RECIPE}" --label "week.standin=postgres" \
      -t "$POSTGRES_IMAGE" "${HERE}/postgres-standin" >"${CACHE}/postgres-build.log" 2>&1 \
    || { tail -n 30 "${CACHE}/postgres-build.log" >&2; die "docker build ${POSTGRES_IMAGE} failed; see ${CACHE}/postgres-build.log"; }
  # the "upgrade": another image of the same server, to replace the database's image on its volume
  printf 'FROM %s\nLABEL week.standin.revision=next\n' "$POSTGRES_IMAGE" \
    | DOCKER_BUILDKIT=0 docker build -q --label "week.recipe=${POSTGRES_RECIPE}" -t "$POSTGRES_NEXT_IMAGE" - \
      >>"${CACHE}/postgres-build.log" 2>&1 \
    || die "docker build ${POSTGRES_NEXT_IMAGE} failed; see ${CACHE}/postgres-build.log"
  log "built ${POSTGRES_IMAGE} and ${POSTGRES_NEXT_IMAGE} in $(( $(now_s) - t0 ))s"
}

# drop_old NAME OLD_ID : after a rebuild, remove the image NAME used to point to
# (never forced: kept if a container or another image still uses it).
drop_old() {
  local new; new=$(docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true)
  if [ -n "$2" ] && [ "$2" != "$new" ]; then
    docker rmi "$2" >/dev/null 2>&1 && log "removed the previous $1 ($2)" || true
  fi
}
OLD_DEBIAN=$(docker image inspect -f '{{.Id}}' "$DEBIAN_IMAGE" 2>/dev/null || true)
OLD_PYTHON=$(docker image inspect -f '{{.Id}}' "$PYTHON_IMAGE" 2>/dev/null || true)
OLD_POSTGRES=$(docker image inspect -f '{{.Id}}' "$POSTGRES_IMAGE" 2>/dev/null || true)
OLD_POSTGRES_NEXT=$(docker image inspect -f '{{.Id}}' "$POSTGRES_NEXT_IMAGE" 2>/dev/null || true)

T0=$(now_s)
if [ "$MODE" != "" ] || ! image_ok "$DEBIAN_IMAGE"; then
  build_debian
  REBUILT_DEBIAN=1
else
  REBUILT_DEBIAN=0
fi
if [ "$MODE" != "" ] || [ "$REBUILT_DEBIAN" = 1 ] || ! image_ok "$PYTHON_IMAGE"; then
  build_python
fi

if [ "$MODE" != "" ] || [ "$REBUILT_DEBIAN" = 1 ] || ! image_ok "$POSTGRES_IMAGE" "$POSTGRES_RECIPE" \
    || ! image_ok "$POSTGRES_NEXT_IMAGE" "$POSTGRES_RECIPE"; then
  build_postgres
fi

drop_old "$POSTGRES_NEXT_IMAGE" "$OLD_POSTGRES_NEXT"
drop_old "$POSTGRES_IMAGE" "$OLD_POSTGRES"
drop_old "$PYTHON_IMAGE" "$OLD_PYTHON"
drop_old "$DEBIAN_IMAGE" "$OLD_DEBIAN"
# tarballs of older recipes
find "$CACHE" -maxdepth 1 -name "debian-${SUITE}-minbase-r*.tar" ! -name "$(basename "$TARBALL")" -delete

for img in "$DEBIAN_IMAGE" "$PYTHON_IMAGE" "$POSTGRES_IMAGE" "$POSTGRES_NEXT_IMAGE"; do
  printf '%-40s %s\n' "$img" "$(human_size "$(docker image inspect -f '{{.Size}}' "$img")")"
done
log "done in $(( $(now_s) - T0 ))s"
