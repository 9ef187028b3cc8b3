"""The benchmark runs end to end and both paths agree (it times; it does not judge speed)."""

from __future__ import annotations

import re

from tools.bench import OPERATIONS, PAGES, run_bench


def test_bench_prints_every_operation_and_page_with_matching_results(registry_path):
    lines: list[str] = []
    run_bench(registry_path, runs=1, naive_runs=1, out=lines.append, report_runs=1)
    text = "\n".join(lines)
    for op in OPERATIONS:
        (line,) = [row for row in lines if row.startswith(op.name)]
        assert line.endswith("True"), line  # this path and the naive path give the same numbers
    for name in PAGES:
        assert re.search(rf"^{re.escape(name)}\s+\d+\.\d$", text, re.MULTILINE), name
    assert re.search(r"peak memory: \d+ MiB", text)
    assert re.search(r"ratio \d+\.\d\d$", lines[-1])
