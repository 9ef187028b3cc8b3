#!/usr/bin/env bash
# Set up and start the dashboard. It opens the cohort named by COHORT_DB, or the
# demo cohort (data/cohort.duckdb), which is built on first start.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
exec .venv/bin/streamlit run app.py "$@"
