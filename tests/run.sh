#!/usr/bin/env bash
# Install what the tests need (Python packages; Debian's Chromium for the browser tests, PostgreSQL for the
# store tests, nginx for the two-replica test), then run them. No test is skipped for a missing server.
# Two test processes share the tests (pytest-xdist; TEST_PROCESSES=1 runs them in one), slowest listed at the end.
# Usage: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
python -m pytest -n "${TEST_PROCESSES:-2}" --dist worksteal --durations=25 "$@"
