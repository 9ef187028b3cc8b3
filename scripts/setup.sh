#!/usr/bin/env bash
# Create .venv and install the pinned requirements (default requirements.txt;
# pass requirements-dev.txt for the test tools). Re-running is quick: a stamp
# named for the requirement files' hash skips pip when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=".venv/.installed-$(cat requirements.txt "$req" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r "$req"
    touch "$stamp"
fi
