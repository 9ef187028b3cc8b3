"""The files a department creates its REDCap project from, written as the product writes
every CSV (export.csv_text: no cell a spreadsheet would take as a formula)."""

from __future__ import annotations

from pathlib import Path

from analytics.cohort.redcap_project import GUIDE, dictionary_frame, repeating_frame
from analytics.present.export import csv_text


def write_template(folder: Path) -> tuple[Path, ...]:
    """Write the dictionary, the repeating-instruments setup and the guide into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = (
        folder / "redcap_dictionary.csv",
        folder / "repeating_instruments.csv",
        folder / "README.md",
    )
    written[0].write_text(csv_text(dictionary_frame()), encoding="utf-8")
    written[1].write_text(csv_text(repeating_frame()), encoding="utf-8")
    written[2].write_text(GUIDE, encoding="utf-8")
    return written
