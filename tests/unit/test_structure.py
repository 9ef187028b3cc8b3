"""The architecture, enforced: data flows one way, and numbers become text in one place.

Layers, lowest first: the words and numbers (glossary, rules); the cohort file
(analytics/cohort); the filter and grouping specifications; statistics (analytics/stats,
its counts engine at the bottom); the views; presentation (analytics/present); the CLI.
A module imports only from its own layer or below; analytics never imports streamlit or
ui; pages and the app hold no SQL and no statistics.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {
    "analytics.glossary": 0, "analytics.rules": 0, "analytics.variables": 0, "analytics.cohort": 1,
    "analytics.partitions": 0, "analytics.audit": 2,
    "analytics.filters": 2, "analytics.groups": 2, "analytics.stats": 3, "analytics.views": 4,
    "analytics.present": 5, "analytics.cli": 6, "analytics.__main__": 6,
    "analytics.fit_worker": 6, "analytics.access": 6, "analytics.scope": 6,
}  # fmt: skip
# the one upward import: `python -m analytics bench` loads the development tool when asked
ALLOWED = {("analytics.cli", "tools.bench")}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def layer(module: str) -> int | None:
    if module == "analytics":
        return 0  # the package's docstring
    for prefix, rank in sorted(LAYERS.items(), key=lambda item: -len(item[0])):
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return None


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", sources("analytics"), ids=lambda p: module_name(p))
def test_no_module_imports_upward(path):
    me = module_name(path)
    rank = layer(me)
    assert rank is not None, f"{me} belongs to no layer: add it to LAYERS"
    upward = [
        other for other in imports(path)
        if (other.startswith(("analytics.", "tools.", "ui.")) or other in {"ui", "tools"})
        and not any(me == mine and other.startswith(theirs) for mine, theirs in ALLOWED)
        and (layer(other) is None or layer(other) > rank)
        and not (layer(other) is None and other.startswith("analytics."))
    ]  # fmt: skip
    assert not upward, f"{me} (layer {rank}) imports {upward}"


@pytest.mark.parametrize("path", sources("analytics"), ids=lambda p: module_name(p))
def test_analytics_never_imports_streamlit_or_the_dashboard(path):
    assert not {m for m in imports(path) if m.split(".")[0] in {"streamlit", "ui"}}


@pytest.mark.parametrize("path", sources("analytics/stats/engine"), ids=lambda p: p.stem)
def test_the_counts_engine_needs_only_numpy_and_scipy_special(path):
    outside = {
        m for m in imports(path)
        if m.split(".")[0] not in {"__future__", "dataclasses", "collections", "functools", "math",
                                   "statistics", "numpy", "typing"}
        and not m.startswith(("analytics.stats.engine", "scipy.special"))
    }  # fmt: skip
    assert not outside


@pytest.mark.parametrize("path", [ROOT / "app.py", *sources("pages")], ids=lambda p: p.name)
def test_pages_hold_no_sql_and_no_statistics(path):
    used = imports(path)
    assert not {m for m in used if m.split(".")[0] == "duckdb" or m.startswith("analytics.stats")}
    assert not re.search(r"\bSELECT\b", path.read_text())


# Number formatting: a format spec with a precision, a grouping or a type ("{x:.1f}",
# "{n:,}", "{m:g}"); alignment alone ("{label:<20}") pads text and is allowed.
NUMBER_SPEC = re.compile(r"[.,_%]|[bcdeEfFgGnoxX]$")
FORMATTER = ROOT / "analytics" / "present" / "format.py"
DISPLAY_CODE = [
    p
    for p in [ROOT / "app.py", *sources("pages", "ui", "analytics/present", "analytics/stats"),
              ROOT / "analytics" / "views.py"]
    if p != FORMATTER
]  # fmt: skip


def number_formatting(path: Path) -> list[str]:
    """Where ``path`` turns a number into text itself: a format spec, "%" or str.format."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = "".join(
                part.value for part in node.format_spec.values if isinstance(part, ast.Constant)
            )
            if NUMBER_SPEC.search(spec):
                found.append(f"line {node.lineno}: format spec {spec!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
                found.append(f"line {node.lineno}: % formatting")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant)
            and re.search(r"\{[^}]*:[^}]*\}", str(node.func.value.value))
        ):
            found.append(f"line {node.lineno}: str.format with a format spec")
    return found


@pytest.mark.parametrize("path", DISPLAY_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_numbers_become_text_only_in_the_formatter(path):
    assert not number_formatting(path), "use analytics.present.format"


def test_the_check_itself_finds_number_formatting(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'a = f"{x:.1f}"\nb = f"{n:,}"\nc = "%d" % 3\nd = "{:g}".format(2.5)\ne = f"{t:<9}"\n'
    )
    assert len(number_formatting(sample)) == 4
