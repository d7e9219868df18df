#!/usr/bin/env bash
# Installs everything the tests need (Python packages into .venv/, Debian's Chromium and CJK fonts for
# the browser tests) and runs lint, format check and the suite, all from .venv/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "CJK"; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
ensure_venv requirements-dev.txt

"$VENV/bin/python" -m ruff check .
"$VENV/bin/python" -m ruff format --check .
"$VENV/bin/python" -m pytest "$@"
