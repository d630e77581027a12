#!/usr/bin/env bash
# Entrypoint of the TP1 data-science sandbox: configure git for the container's user, clone the
# course repository into the workspace, install its requirements.txt into the user's virtual
# environment, then exec Jupyter Notebook at the clone's root (at the workspace when nothing is
# cloned), or the command given as arguments, e.g. `bash` (the checks below apply to it as well).
#
# Environment (read at run time; nothing here is baked into an image layer):
#   GIT_USER_NAME, GIT_USER_EMAIL  required: git identity of the container's user
#   JUPYTER_TOKEN                  required: Jupyter's access token (Jupyter never runs without one)
#   GIT_REPO_URL                   optional: repository cloned into $WORKSPACE/<repo-name>
#   GIT_TOKEN                      optional secret: https credential for GIT_REPO_URL's host, served
#                                  from the environment by a git credential helper, never stored
#   GIT_TOKEN_USER                 optional: user name sent with GIT_TOKEN (default x-access-token)
#   GIT_SSH_KEY                    optional secret: private key for git@host:path and ssh:// URLs,
#                                  copied to a memory-backed file (/dev/shm) readable by the user only
#   GIT_SSH_KEY_FILE               optional: a private key file mounted read-only (instead of GIT_SSH_KEY)
#   GIT_SSH_KNOWN_HOSTS            optional: known_hosts lines of the git server; without them its
#                                  host key is accepted on first use (StrictHostKeyChecking=accept-new)
#   INSTALL_REQUIREMENTS           default 1; 0 skips `pip install -r requirements.txt` of the clone
#   DATABASE_URL                   optional secret: the stack's PostgreSQL (host `database`), used by
#                                  notebooks and crud.py as it is; this script does not read it
#   WORKSPACE                      default $HOME/workspace: Jupyter's root directory
#   JUPYTER_PORT                   default 8000
#   JUPYTER_BASE_URL               default /: Jupyter's base URL (/<id>/ behind the class's proxy)
set -euo pipefail

info() { printf 'sandbox: %s\n' "$*" >&2; }
warn() { printf 'sandbox: warning: %s\n' "$*" >&2; }
die() {
  printf 'sandbox: error: %s\n' "$*" >&2
  exit 64
}

# The helper prints the token from the environment of the git process that asks for it: the
# token never reaches a file, a remote URL or a command line. It is registered only for the
# scheme and host of GIT_REPO_URL, so git never offers the token to another server.
# shellcheck disable=SC2016 # expanded by the helper's shell, on each use
readonly CREDENTIAL_HELPER='!f() { if [ "$1" = get ] && [ -n "${GIT_TOKEN:-}" ]; then printf "username=%s\npassword=%s\n" "${GIT_TOKEN_USER:-x-access-token}" "$GIT_TOKEN"; fi; }; f'

# Prints the last path segment of a git URL without .git: the folder `git clone` would create.
repo_name() {
  local name=$1
  while [[ "$name" == */ ]]; do name=${name%/}; done
  name=${name%.git}
  name=${name##*/}
  name=${name##*:}
  printf '%s' "$name"
}

configure_credentials() {
  local url=$1 origin key
  # Forget the helper a previous start registered (maybe for another host).
  while IFS= read -r key; do
    git config --global --fixed-value --unset-all "$key" "$CREDENTIAL_HELPER"
  done < <(git config --global --fixed-value --name-only \
    --get-regexp '^credential\..*\.helper$' "$CREDENTIAL_HELPER")
  [[ -n "${GIT_TOKEN:-}" ]] || return 0
  if [[ "$url" =~ ^(https?://)([^/@]*@)?([^/]+) ]]; then
    origin="${BASH_REMATCH[1]}${BASH_REMATCH[3]}"
    git config --global --add "credential.${origin}.helper" "$CREDENTIAL_HELPER"
    info "git credential helper set for $origin (the token stays in the environment)"
  else
    warn "GIT_TOKEN is set but not used: it only serves an http(s) GIT_REPO_URL"
  fi
}

# Writes the ssh key given at run time where only this user can read it and tells git (and the
# user's own git commands in Jupyter) to use it; the key never reaches the image or the workspace.
configure_ssh() {
  local key dir key_file checking=accept-new
  if [[ -n "${GIT_SSH_KEY:-}" ]]; then
    key=$GIT_SSH_KEY
  elif [[ -n "${GIT_SSH_KEY_FILE:-}" ]]; then
    if [[ ! -r "$GIT_SSH_KEY_FILE" ]]; then
      warn "GIT_SSH_KEY_FILE '$GIT_SSH_KEY_FILE' is not readable by $(id -un): ssh clones get no key"
      return 0
    fi
    key=$(<"$GIT_SSH_KEY_FILE")
  else
    return 0
  fi
  dir=/dev/shm
  [[ -d "$dir" && -w "$dir" ]] || dir=$HOME
  key_file=$(mktemp "$dir/sandbox-ssh-key.XXXXXX") # mode 0600
  printf '%s\n' "$key" >"$key_file"
  mkdir -p -m 0700 "$HOME/.ssh"
  if [[ -n "${GIT_SSH_KNOWN_HOSTS:-}" ]]; then
    printf '%s\n' "$GIT_SSH_KNOWN_HOSTS" >>"$HOME/.ssh/known_hosts"
    checking=yes
  fi
  git config --global core.sshCommand \
    "ssh -i $key_file -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=$checking"
  info "ssh key for git set ($key_file, host keys: StrictHostKeyChecking=$checking)"
}

# Installs the clone's requirements.txt into the user's environment; a failure is a warning.
install_requirements() {
  local dir=$1 log
  [[ -f "$dir/requirements.txt" ]] || return 0
  if [[ "${INSTALL_REQUIREMENTS:-1}" == 0 ]]; then
    info "INSTALL_REQUIREMENTS=0: not installing $dir/requirements.txt"
    return 0
  fi
  log="$WORKSPACE/.sandbox-requirements.log"
  info "installing $dir/requirements.txt into ${VIRTUAL_ENV:-the active python} (log: $log)"
  if (cd -- "$dir" && python -m pip install --disable-pip-version-check --no-input -r requirements.txt) >"$log" 2>&1; then
    info "requirements.txt installed: $(grep -E '^Successfully installed' "$log" | cut -c1-300 || echo 'already satisfied')"
  else
    warn "pip install -r $dir/requirements.txt failed; Jupyter starts anyway. Last lines of $log:"
    tail -n 5 "$log" | sed 's/^/sandbox:   /' >&2
  fi
}

clone_repository() {
  local url=$1 name target
  # A clone keeps its URL as the remote: credentials in it would land in .git/config. Over
  # http(s) even a bare user name may be a token (https://<token>@host/...).
  if [[ "$url" =~ ^https?://[^/@]*@ || "$url" =~ ^[A-Za-z][A-Za-z0-9+.-]*://[^/@]*:[^/@]*@ ]]; then
    warn "GIT_REPO_URL carries credentials, not cloning it: leave them out of the URL and" \
      "put the token in GIT_TOKEN (and its user name, if needed, in GIT_TOKEN_USER)"
    return 0
  fi
  name=$(repo_name "$url")
  if [[ -z "$name" || "$name" == . || "$name" == .. ]]; then
    warn "cannot tell a folder name from GIT_REPO_URL '$url', not cloning it"
    return 0
  fi
  target="$WORKSPACE/$name"
  if [[ -d "$target/.git" ]]; then
    info "$target is already a clone, leaving it as it is (no pull, no reset)"
    CLONE_DIR=$target
    return 0
  fi
  if [[ -e "$target" ]]; then
    warn "$target exists and is not a git repository, not cloning into it"
    return 0
  fi
  info "cloning $url into $target"
  if GIT_TERMINAL_PROMPT=0 git clone --quiet -- "$url" "$target"; then
    CLONE_DIR=$target
  else
    warn "could not clone $url into $target; Jupyter starts without it (check GIT_REPO_URL, GIT_TOKEN or GIT_SSH_KEY)"
  fi
}

main() {
  local token=${JUPYTER_TOKEN:-}
  [[ -n "${token//[[:space:]]/}" ]] ||
    die "JUPYTER_TOKEN is empty or not set: set it to a long random secret; Jupyter never runs without authentication"
  [[ -n "${GIT_USER_NAME:-}" ]] || die "GIT_USER_NAME is empty or not set: set it to the name your commits should carry"
  [[ -n "${GIT_USER_EMAIL:-}" ]] || die "GIT_USER_EMAIL is empty or not set: set it to the e-mail address your commits should carry"

  WORKSPACE=${WORKSPACE:-$HOME/workspace}
  JUPYTER_PORT=${JUPYTER_PORT:-8000}
  if ! [[ "$JUPYTER_PORT" =~ ^[0-9]{1,5}$ ]] || ((10#$JUPYTER_PORT < 1 || 10#$JUPYTER_PORT > 65535)); then
    die "JUPYTER_PORT must be a port number between 1 and 65535, got '$JUPYTER_PORT'"
  fi
  mkdir -p -- "$WORKSPACE" || die "cannot create WORKSPACE '$WORKSPACE'"

  git config --global user.name "$GIT_USER_NAME"
  git config --global user.email "$GIT_USER_EMAIL"
  info "git identity: $GIT_USER_NAME <$GIT_USER_EMAIL>"

  local url=${GIT_REPO_URL:-}
  CLONE_DIR=""
  configure_credentials "$url"
  configure_ssh
  if [[ -n "$url" ]]; then
    clone_repository "$url"
  else
    info "GIT_REPO_URL is not set, nothing to clone"
  fi
  [[ -z "$CLONE_DIR" ]] || install_requirements "$CLONE_DIR"

  # Jupyter opens at the root of the clone ("votre git cloné à la racine"), else at the workspace.
  local root=${CLONE_DIR:-$WORKSPACE}
  cd -- "$root"
  export WORKSPACE JUPYTER_PORT
  if (($# > 0)); then
    exec "$@"
  fi
  info "Jupyter's root: $root"
  # ip, port, token and browser come from jupyter_server_config.py.
  exec jupyter notebook --ServerApp.root_dir="$root"
}

main "$@"
