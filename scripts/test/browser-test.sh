#!/usr/bin/env bash
# The browser test (tests/browser, jest): Streamlit on the course's classes in Debian's chromium,
# driven by playwright-core, against the API and Streamlit from .venv on free loopback ports.
#
#   bash scripts/test/browser-test.sh
#
# Skipped, and said so, when chromium is not installed (/usr/bin/chromium, or CHROMIUM=path);
# .ci/run installs it. Makes .venv first (scripts/setup/py-env.sh, a no-op when it is up to date).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
if [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
  echo "browser test: SKIPPED: no chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)"
  exit 0
fi
bash scripts/setup/py-env.sh
exec npx jest --roots '<rootDir>/tests/browser' --testTimeout 300000 "$@"
