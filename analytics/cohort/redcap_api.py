"""A REDCap project's exports pulled through its API, for ``import --redcap-api URL``.

Two POST requests, as REDCap's API documentation gives them: the records (``content=record``,
flat CSV, raw codes and variable names, every record, repeating instruments as REDCap
exports them) and the data dictionary (``content=metadata``, CSV, its columns as the API
names them, which the importer reads like the project page's download). The standard
library's HTTP client does it: two form posts need no client library (PyCap's
``export_records``/``export_metadata`` send the same fields).

The token is the project's API token, read from ``REDCAP_API_TOKEN`` or typed at a prompt:
never a command-line argument (any user of the machine can list those), never written
anywhere, never in a message. The exports (patient data) are written to a temporary
folder only the user can read, which the import removes when it ends. The URL must be
https, or http on this machine (a REDCap behind a local tunnel, the tests' server): a
token is never sent in clear over a network.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

TOKEN_ENV = "REDCAP_API_TOKEN"
TOKEN = re.compile(r"[0-9A-Fa-f]{32}|[0-9A-Fa-f]{64}")  # a project's token; 64: a super token
TIMEOUT_S = 120  # a large project's records take a while to export
MAX_BYTES = 200 * 1024 * 1024  # beyond what a registry's export is, short of filling memory

RECORDS = {
    "content": "record", "action": "export", "format": "csv", "type": "flat",
    "rawOrLabel": "raw", "rawOrLabelHeaders": "raw", "exportCheckboxLabel": "false",
    "exportSurveyFields": "false", "exportDataAccessGroups": "false", "returnFormat": "json",
}  # fmt: skip
METADATA = {"content": "metadata", "format": "csv", "returnFormat": "json"}


class ApiError(ValueError):
    """The API could not be reached or refused the request: the message says which, in the
    data manager's terms, and never holds the token."""


def check_url(url: str) -> str:
    """The API's address, refused unless https, or http to this machine (loopback)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return url
    raise ApiError(
        f"{url!r} is not a REDCap API address this import sends a token to: give its https "
        "address (as on the project's API page, ending in /api/)"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_token(token: str) -> str:
    """The token, refused (without repeating it) unless it has a REDCap token's form."""
    token = token.strip()
    if not TOKEN.fullmatch(token):
        raise ApiError(
            f"the API token is not a REDCap token (32 hexadecimal characters): copy it from "
            f"the project's API page into {TOKEN_ENV}"
        )
    return token


def pull_exports(url: str, token: str, folder: Path) -> tuple[Path, Path]:
    """Write the project's records and data dictionary exports into ``folder`` (which the
    caller keeps private and removes); their paths."""
    url, token = check_url(url), check_token(token)
    records, dictionary = folder / "records.csv", folder / "dictionary.csv"
    for path, fields in ((records, RECORDS), (dictionary, METADATA)):
        path.write_bytes(_post(url, {"token": token, **fields}))
        os.chmod(path, 0o600)
    return records, dictionary


def _post(url: str, fields: dict[str, str]) -> bytes:
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(fields).encode(), method="POST",
        headers={"Accept": "text/csv, application/json"},
    )  # fmt: skip
    what = "records" if fields["content"] == "record" else "data dictionary"
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            body = answer.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ApiError(f"REDCap refused the {what} export: {_reason(exc)}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ApiError(f"REDCap's API at {url} could not be reached ({reason})") from None
    if len(body) > MAX_BYTES:
        raise ApiError(f"the {what} export is larger than {MAX_BYTES // 2**20} MB")
    return body


def _reason(exc: urllib.error.HTTPError) -> str:
    """REDCap's own words ({"error": "..."}) where it gave them, else the HTTP status."""
    try:
        said = json.loads(exc.read(4096) or b"{}").get("error", "")
    except (ValueError, AttributeError):
        said = ""
    hint = " (check the token and that it has API export rights)" if exc.code == 403 else ""
    return f"{said or exc.reason} (HTTP {exc.code}){hint}"
