"""Bring a cohort file written by an earlier version up to this schema version, in place.

Version 2 added only the derived ``patient_summary`` table (analytics.cohort.summary): what was
imported does not change, so an upgrade derives that table and stamps the version. The
work is done on a copy beside the file, which is checked and then moved into place with
``os.replace``: a failed upgrade leaves the original byte for byte as it was.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from analytics.cohort.db import SCHEMA_VERSION, CohortError, open_cohort, schema_version
from analytics.cohort.importer import remove_partial
from analytics.cohort.summary import create_summary

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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.upgrade")
    remove_partial(tmp)
    try:
        shutil.copyfile(path, tmp)
        with duckdb.connect(str(tmp)) as con:
            create_summary(con)
            con.execute(
                "UPDATE cohort_metadata SET value = ? WHERE key = 'schema_version'",
                [SCHEMA_VERSION],
            )
        open_cohort(tmp).close()  # the upgraded file passes the dashboard's own checks
        os.replace(tmp, path)
    finally:
        remove_partial(tmp)
    return True
