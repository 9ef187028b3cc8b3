"""The benchmark runs end to end and the engine agrees with patient rows (it times; it does
not judge speed)."""

from __future__ import annotations

import re

from tools.bench import CHECKS, PAGES, run_bench


def test_bench_prints_every_view_and_check_with_matching_results(registry_path):
    lines: list[str] = []
    run_bench(registry_path, runs=1, naive_runs=1, out=lines.append, report_runs=1)
    text = "\n".join(lines)
    for check in CHECKS:
        (line,) = [row for row in lines if row.startswith(check.name)]
        assert line.endswith("True"), line  # the engine and lifelines/SciPy give the same numbers
    for name in PAGES:
        assert re.search(rf"^{re.escape(name)}\s+\d+\.\d", text, re.MULTILINE), name
    assert re.search(r"peak memory: \d+ MiB", text)
    # both models fitted on the 3,000-patient registry (its last filter is one centre)
    assert re.search(r"^5 baseline covariates.*\s[\d,]+\s+\d+\.\d\s+(met|NOT met)$", text, re.M)
    assert re.search(r"^recurrent DVT \(time-varying\).*\s+\d+\.\d\s+(met|NOT met)$", text, re.M)
    assert re.search(r"ratio \d+\.\d\d$", lines[-1])
