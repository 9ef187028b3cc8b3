"""Bring a cohort file written by an earlier version up to this schema version, in place.

Version 2 added only the derived ``patient_summary`` table (analytics.cohort.summary): what was
imported does not change, so an upgrade derives that table and stamps the version. The
work is done on a copy beside the file (analytics.cohort.write): a failed upgrade leaves
the original byte for byte as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from analytics.cohort.db import SCHEMA_VERSION, CohortError, schema_version
from analytics.cohort.summary import create_summary
from analytics.cohort.write import written_beside

UPGRADABLE = ("1",)


def file_version(path: Path) -> str:
    """The schema version a cohort file says it has; an error if it is not a cohort file."""
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return schema_version(con)
    except duckdb.Error:
        raise CohortError(f"{path} is not a cohort file (no readable cohort_metadata)") from None


def upgrade(path: Path) -> bool:
    """Upgrade the cohort file at ``path``; False when it is already at this version."""
    path = Path(path)
    if not path.is_file():
        raise CohortError(f"cohort file {path} does not exist")
    version = file_version(path)
    if version == SCHEMA_VERSION:
        return False
    if version not in UPGRADABLE:
        raise CohortError(
            f"cohort file {path} has schema version {version}; only versions "
            f"{', '.join(UPGRADABLE)} can be upgraded to {SCHEMA_VERSION}"
        )
    with written_beside(path) as tmp:
        shutil.copyfile(path, tmp)
        with duckdb.connect(str(tmp)) as con:
            create_summary(con)
            con.execute(
                "UPDATE cohort_metadata SET value = ? WHERE key = 'schema_version'",
                [SCHEMA_VERSION],
            )
    return True
