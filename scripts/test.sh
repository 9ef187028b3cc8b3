#!/usr/bin/env bash
# Set up and run the whole test suite: lint, format check, then pytest
# (unit, AppTest and the real-browser tests, which need Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# One BLAS thread per test process: two workers on two cores, and OpenBLAS's own threads
# beside them spin against each other (the deck and report attackers took 1.7 times as
# long, 2026-12-07). Set before any process loads numpy; the workers inherit it.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# Two workers, a test file to each in turn: the real-browser tests (three files, so both
# workers share them) run beside the rest: 8.3 minutes on 2 cores where one after the
# other took 12.8 (2026-12-06, when they were one file).
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
