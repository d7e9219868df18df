#!/usr/bin/env bash
# Installs everything the tests need (Python packages, Debian's Chromium and
# CJK fonts for the browser tests) and runs lint, format check and the suite.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "CJK"; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -r requirements-dev.txt

python3 -m ruff check .
python3 -m ruff format --check .
python3 -m pytest "$@"
