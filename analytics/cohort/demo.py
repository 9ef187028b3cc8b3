"""Build the demo cohort file from its reviewable CSV tables in ``data/demo/``.

The demo goes through the same validated, atomic import as a department's
registry (analytics.cohort.importer); its provenance comes from ``metadata.csv``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from analytics.cohort.db import DEMO_SOURCE
from analytics.cohort.importer import import_registry


def build_demo(out: Path) -> Path:
    """Build the demo cohort (reconstructed from published aggregates) at ``out``."""
    return import_registry(DEMO_SOURCE, out, metadata=_read_metadata(DEMO_SOURCE / "metadata.csv"))


def _read_metadata(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["key"]: row["value"] for row in csv.DictReader(handle)}
