"""Browser imports kept private on the server: whose folder holds them, what a user has
imported, and the two ways one leaves its folder (deleted, or published to everyone).

Inside the import folder (``COHORT_IMPORT_DIR``, whose own ``*.duckdb`` files are the
published cohorts) a signed-in user's imports live in ``.users/<owner>/``, where the
owner is a hash of the login token's subject (:func:`owner_folder`: the subject, a name
or an email never appears on disk), and a session's without login in
``.private/<random token>/``. A name is only ever looked up among a folder's files,
never used as a path.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from analytics.cohort.write import DestinationExists

PRIVATE = ".private"  # one folder per importing browser session (no login)
USERS = ".users"  # one folder per signed-in user who imported
OWNER_CHARS = 32  # of the subject's SHA-256, in hex: 128 bits, no two users alike
COHORT_SUFFIX = ".duckdb"


def owner_folder(subject: str) -> str:
    """The folder name of the user whose token's subject is ``subject``: the first
    OWNER_CHARS hex digits of its SHA-256, the same on every server and every day."""
    return hashlib.sha256(subject.encode()).hexdigest()[:OWNER_CHARS]


@dataclass(frozen=True)
class OwnImport:
    """A private import: its name (the file's stem, the cohort's key) and when it was
    written (seconds since the epoch, the file's modification time)."""

    name: str
    written: float


def cohort_files(folder: Path) -> dict[str, Path]:
    """The cohort files directly in ``folder`` by name; none when it is not a folder."""
    if not folder.is_dir():
        return {}
    return {path.stem: path for path in sorted(folder.glob(f"*{COHORT_SUFFIX}"))}


def own_imports(folder: Path) -> tuple[OwnImport, ...]:
    """The imports in a private ``folder``, newest first; regular files only (a symlink
    placed there is not the user's import)."""
    found = [
        OwnImport(name, info.st_mtime)
        for name, path in cohort_files(folder).items()
        if stat.S_ISREG((info := path.lstat()).st_mode)
    ]
    return tuple(sorted(found, key=lambda item: -item.written))


def delete_import(folder: Path, name: str) -> bool:
    """Remove the import ``name`` from a private ``folder`` at once; False when the
    folder holds no import of that name (nothing is removed)."""
    path = cohort_files(folder).get(name)
    if path is None:
        return False
    path.unlink()
    return True


def publish_import(folder: Path, published: Path, name: str) -> Path:
    """Move the import ``name`` from a private ``folder`` into the ``published`` folder,
    under the same name; the published file's path.

    The move is a hard link then the removal of the private name, so a published cohort
    of that name (even one published a moment before) is never replaced:
    DestinationExists, and the import stays private. KeyError when ``folder`` holds no
    import of that name.
    """
    source = cohort_files(folder)[name]
    target = published / source.name
    published.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise DestinationExists(f"a published cohort is named {name!r} already") from None
    source.unlink()
    return target
