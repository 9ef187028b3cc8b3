"""The demo's registry with columns of its own: one of each kind, with and without a row of
the dictionary (tests/unit/test_own_variables.py, tests/app/test_own_variables.py).

Each value follows the row's place, so the expected counts are plain SQL on the file.
``site_group``'s level ``rare`` holds two patients, fewer than any privacy k.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from analytics.cohort.db import DEMO_SOURCE

# Declared in the dictionary: (name, label, type, levels, unit, bands).
DECLARED = (
    ("trial_arm", "Trial arm", "category", "a=Arm A|b=Arm B", "", ""),
    ("frailty", "Frailty score", "number", "", "points", "3|6"),
    ("completed_protocol", "Completed protocol", "yes_no", "", "", ""),
    ("grade", "Grade", "ordered", "low=Low|mid=Middle|high=High", "", ""),
)
# Left out of it, each taken from its values: (table, name, kind taken).
INFERRED = (
    ("patients", "compression", "yes_no"),
    ("patients", "site_group", "category"),
    ("limbs", "anticoagulant_days", "number"),
)
KINDS = {
    "trial_arm": "category", "frailty": "number", "completed_protocol": "yes_no",
    "grade": "ordered", "compression": "yes_no", "site_group": "category",
    "anticoagulant_days": "number",
}  # fmt: skip
TABLES = {
    "trial_arm": "patients", "frailty": "patients", "compression": "patients",
    "site_group": "patients", "anticoagulant_days": "limbs", "completed_protocol": "limbs",
    "grade": "limbs",
}  # fmt: skip
LABELS = {
    "trial_arm": "Trial arm", "frailty": "Frailty score", "compression": "Compression",
    "site_group": "Site group", "anticoagulant_days": "Anticoagulant days",
    "completed_protocol": "Completed protocol", "grade": "Grade",
}  # fmt: skip
GROUPINGS = (
    "trial_arm",
    "frailty_band",
    "compression",
    "site_group",
    "completed_protocol",
    "grade",
)
RARE = "rare"  # the site group of two patients


def own_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The demo's patients and limbs with the own columns, and the dictionary."""
    patients = pd.read_csv(DEMO_SOURCE / "patients.csv", dtype=str, keep_default_na=False)
    limbs = pd.read_csv(DEMO_SOURCE / "limbs.csv", dtype=str, keep_default_na=False)
    n = len(patients)
    patients["trial_arm"] = ["a" if i % 2 else "B" for i in range(n)]  # a code in any case
    patients["frailty"] = [str(i % 9) for i in range(n)]
    patients["compression"] = ["yes" if i % 3 else "no" for i in range(n)]
    patients["site_group"] = [RARE if i < 2 else ("north" if i % 2 else "south") for i in range(n)]
    m = len(limbs)
    limbs["anticoagulant_days"] = [str(30 + i % 5 * 7.5) for i in range(m)]
    limbs["completed_protocol"] = ["true" if i // 2 % 2 else "false" for i in range(m)]
    limbs["grade"] = [("low", "Middle", "high")[i % 3] for i in range(m)]  # a label read too
    dictionary = pd.DataFrame(
        DECLARED, columns=["name", "label", "type", "levels", "unit", "bands"]
    )
    return patients, limbs, dictionary


def write_own_registry(folder: Path) -> Path:
    """The registry as CSVs in ``folder`` (dictionary.csv beside them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in ("events", "assessments"):
        shutil.copy(DEMO_SOURCE / f"{table}.csv", folder / f"{table}.csv")
    patients, limbs, dictionary = own_tables(folder)
    patients.to_csv(folder / "patients.csv", index=False)
    limbs.to_csv(folder / "limbs.csv", index=False)
    dictionary.to_csv(folder / "dictionary.csv", index=False)
    return folder
