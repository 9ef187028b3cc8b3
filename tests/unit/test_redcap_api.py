"""REDCap's API (import --redcap-api): the records and the data dictionary pulled from a
server on 127.0.0.1 that answers as REDCap's API does, imported to the cohort the same
project's exports give; the token never on the command line, in a message or on disk."""

# test_redcap's fixtures are imported, then named as arguments:
# ruff: noqa: F811
from __future__ import annotations

import csv
import io
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from analytics.cli import main
from analytics.cohort.importer import REGISTRY
from analytics.cohort.redcap_api import TOKEN_ENV, ApiError, check_token, check_url
from analytics.cohort.redcap_import import import_redcap
from analytics.cohort.redcap_project import API_DICTIONARY_COLUMNS
from tests.unit.test_redcap import (  # noqa: F401 (its fixtures, used by name)
    cohort_tables,
    dictionary,
    redcap_export,
    source,
    tables,
    template,
)

TOKEN = "0123456789ABCDEF0123456789ABCDEF"


class Project:
    """What the fake API serves, and every request it was sent."""

    def __init__(self, records: bytes, metadata: bytes) -> None:
        self.records, self.metadata = records, metadata
        self.requests: list[dict[str, str]] = []


def api_metadata(template: Path) -> bytes:
    """The template's dictionary as the API exports it: the same rows, its column names."""
    with (template / "redcap_dictionary.csv").open(newline="", encoding="utf-8") as text:
        rows = list(csv.reader(text))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([list(API_DICTIONARY_COLUMNS), *rows[1:]])
    return out.getvalue().encode()


@pytest.fixture
def api(tables, dictionary, template) -> Iterator[tuple[str, Project]]:
    project = Project(redcap_export(tables, dictionary).encode(), api_metadata(template))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            fields = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            project.requests.append(fields)
            if fields.get("token") != TOKEN:
                body = json.dumps({"error": "You do not have permissions to use the API"})
                self._answer(403, body.encode(), "application/json")
            elif fields.get("content") == "record":
                self._answer(200, project.records, "text/csv")
            else:
                self._answer(200, project.metadata, "text/csv")

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/", project
    server.shutdown()
    server.server_close()


def test_the_api_import_gives_the_cohort_of_the_same_projects_exports(
    api, tables, dictionary, template, tmp_path, monkeypatch, capsys
):
    url, project = api
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    out = tmp_path / "api.duckdb"
    assert main(["import", "--redcap-api", url, "--out", str(out), "--name", "Via API"]) == 0
    assert f"imported {url} into {out}" in capsys.readouterr().out
    assert [r["content"] for r in project.requests] == ["record", "metadata"]
    assert project.requests[0]["rawOrLabel"] == "raw" and project.requests[0]["type"] == "flat"
    (tmp_path / "records.csv").write_bytes(project.records)
    expected = import_redcap(
        tmp_path / "records.csv", template / "redcap_dictionary.csv", tmp_path / "x.duckdb"
    )
    got, want = cohort_tables(out), cohort_tables(expected.path)
    for table in REGISTRY.tables:
        pd.testing.assert_frame_equal(got[table], want[table], obj=table)


def test_a_refused_token_is_reported_in_redcaps_words_and_never_repeated(
    api, tmp_path, monkeypatch, capsys
):
    url, _ = api
    wrong = "F" * 32
    monkeypatch.setenv(TOKEN_ENV, wrong)
    out = tmp_path / "api.duckdb"
    assert main(["import", "--redcap-api", url, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "You do not have permissions to use the API (HTTP 403)" in err
    assert "check the token" in err
    assert wrong not in err and not out.exists()


def test_no_token_stops_before_any_request(api, tmp_path, monkeypatch, capsys):
    url, project = api
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal: no prompt
    assert main(["import", "--redcap-api", url, "--out", str(tmp_path / "x.duckdb")]) == 1
    assert f"set {TOKEN_ENV}" in capsys.readouterr().err
    assert project.requests == []


@pytest.mark.parametrize(
    "url",
    ["http://redcap.example.org/api/", "ftp://127.0.0.1/api/", "redcap.example.org/api/", ""],
)
def test_a_token_is_sent_only_over_https_or_to_this_machine(url):
    with pytest.raises(ApiError, match="not a REDCap API address"):
        check_url(url)


@pytest.mark.parametrize(
    "url", ["https://redcap.example.org/api/", "http://127.0.0.1:8080/api/", "http://localhost/"]
)
def test_https_and_loopback_addresses_are_taken(url):
    assert check_url(url) == url


@pytest.mark.parametrize("token", ["", "abc", "G" * 32, TOKEN + "0", f"{TOKEN}\nX-Header: 1"])
def test_a_malformed_token_is_refused_without_being_repeated(token):
    with pytest.raises(ApiError) as refused:
        check_token(token)
    assert "32 hexadecimal characters" in str(refused.value)
    assert not token or token not in str(refused.value)


def test_an_unreachable_api_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    url = "http://127.0.0.1:9/api/"  # the discard port: nothing listens
    assert main(["import", "--redcap-api", url, "--out", str(tmp_path / "x.duckdb")]) == 1
    assert "could not be reached" in capsys.readouterr().err


def test_the_api_import_takes_no_exports_beside_it(tmp_path, capsys):
    args = ["import", "--redcap-api", "https://r.example.org/api/", "--redcap-records", "r.csv"]
    assert main([*args, "--out", str(tmp_path / "x.duckdb")]) == 1
    assert "without SOURCE, --redcap-records or --redcap-dictionary" in capsys.readouterr().err


def test_an_api_dictionary_export_reads_like_the_project_pages(
    template, tmp_path, tables, dictionary
):
    (tmp_path / "records.csv").write_text(redcap_export(tables, dictionary), encoding="utf-8")
    (tmp_path / "api.csv").write_bytes(api_metadata(template))
    by_api = import_redcap(tmp_path / "records.csv", tmp_path / "api.csv", tmp_path / "a.duckdb")
    by_page = import_redcap(
        tmp_path / "records.csv", template / "redcap_dictionary.csv", tmp_path / "b.duckdb"
    )
    assert cohort_tables(by_api.path)["limbs"].equals(cohort_tables(by_page.path)["limbs"])
