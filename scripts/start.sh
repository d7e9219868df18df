#!/usr/bin/env bash
# Installs the runtime packages and starts the dashboard. When the database
# (data/credit.duckdb, or $CREDIT_DB) does not exist yet, the app builds the
# demo data there first, so the first screen is never empty.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -r requirements.txt
exec python3 -m streamlit run app.py "$@"
