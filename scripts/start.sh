#!/usr/bin/env bash
# Set up and start the dashboard. It opens the cohort named by COHORT_DB, or the demo
# cohort (data/cohort.duckdb), built here before Streamlit starts when it is missing, so
# that the terminal says what the first start does. (The dashboard itself rebuilds a demo
# that an earlier version wrote.) The first build takes longer than later ones: set-up
# leaves the dashboard's packages uncompiled, and Python compiles what they load on
# first use (scripts/setup.sh says why).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
if [ -z "${COHORT_DB:-}" ] && [ ! -f data/cohort.duckdb ]; then
    echo "Building the demo cohort from data/demo/*.csv (about 5 s, the first time only) ..."
    .venv/bin/python -m analytics build-demo
fi
echo "Starting the dashboard (Ctrl-C stops it) ..."
exec .venv/bin/streamlit run app.py "$@"
