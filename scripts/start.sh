#!/usr/bin/env bash
# Installs the runtime packages into .venv/ (scripts/venv.sh) and starts the dashboard. When the database
# (data/credit.duckdb, or $CREDIT_DB) does not exist yet, the app builds the demo data there first, so the
# first screen is never empty. Later starts without reinstalling: .venv/bin/streamlit run app.py
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv requirements.txt
exec "$VENV/bin/python" -m streamlit run app.py "$@"
