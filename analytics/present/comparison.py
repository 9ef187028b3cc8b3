"""The demo cohort beside the source paper: each published figure and its recomputed value.

Recomputed values come from the same functions every view uses, so this table is
also a live check that the demo reproduces the paper (the tests assert it too).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.cohort import published
from analytics.filters import CohortFilter
from analytics.glossary import ENDPOINTS, RISK_FACTORS
from analytics.present.tables import baseline_stats, ulcers_healed
from analytics.stats.clinical import clinical_change
from analytics.stats.safety import safety_table
from analytics.stats.survival import estimates_at, event_counts

TECHNICAL_SUCCESSES = CohortFilter()


def _row(item: str, published_value: str, recomputed: str) -> dict[str, str]:
    return {
        "Item": item,
        "Published": published_value,
        "Reconstructed": recomputed,
        "Same": "yes" if published_value == recomputed else "no",
    }


def published_vs_reconstructed(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every published number of the paper's Tables 1-3 next to the cohort's value."""
    f = TECHNICAL_SUCCESSES
    t1 = published.TABLE1
    s = baseline_stats(con, f)
    everyone = baseline_stats(con, CohortFilter(population="all"))
    rows = [
        _row(
            "Enrolled / technical success",
            f"{published.ENROLLED} / {published.TECHNICAL_SUCCESS}",
            f"{int(everyone['n'])} / {int(s['n'])}",
        ),
        _row("Age, mean ± SD", f"{t1['age_mean']} ± {t1['age_sd']}", _mean_sd(s, "age", 1, 1)),
        _row("Age range", f"{t1['age_min']}-{t1['age_max']}", f"{s['age_min']:g}-{s['age_max']:g}"),
        _row("Female", str(t1["female"]), str(int(s["female"]))),
        _row("BMI, mean ± SD", f"{t1['bmi_mean']} ± {t1['bmi_sd']}", _mean_sd(s, "bmi", 1, 2)),
        _row("Left-sided lesion", str(t1["left"]), str(int(s["left"]))),
        *(_row(label, str(t1[c]), str(int(s[c]))) for c, label in RISK_FACTORS.items()),
        *(
            _row(f"Segments {row}", str(n), str(s["segment_rows"][row]))
            for row, n in t1["segments"].items()
        ),
        _row(
            "Follow-up, mean (range), months",
            f"{t1['follow_up_mean']} ({t1['follow_up_min']}-{t1['follow_up_max']})",
            f"{s['follow_up_mean']:.1f} ({s['follow_up_min']:g}-{s['follow_up_max']:g})",
        ),
    ]
    for endpoint, patent in published.PATENCY.items():
        table = estimates_at(event_counts(con, f, endpoint), list(patent)).set_index("month")
        for month, count in patent.items():
            rows.append(
                _row(f"{ENDPOINTS[endpoint]} at {month} months, patients patent",
                     str(count), str(int(table.at[month, "at_risk"])))
            )  # fmt: skip
    rows += _clinical_rows(con, f)
    safety = safety_table(con, f).set_index("event")
    rows += [
        _row(f"Safety: {safety.at[event, 'label']}", str(n), str(int(safety.at[event, "patients"])))
        for event, n in published.SAFETY.items()
    ]
    rows.append(_row("Ulcers healed by 3 months", str(published.ULCERS_HEALED_BY_3_MONTHS),
                     str(ulcers_healed(con, f))))  # fmt: skip
    return pd.DataFrame(rows)


def _mean_sd(stats: dict, prefix: str, mean_digits: int, sd_digits: int) -> str:
    return f"{stats[prefix + '_mean']:.{mean_digits}f} ± {stats[prefix + '_sd']:.{sd_digits}f}"


def _score_row(item: str, published_value: tuple[float, float], mean: float, sd: float) -> dict:
    digits = len(str(published_value[0]).split(".")[1])
    return _row(
        item, f"{published_value[0]} ± {published_value[1]}", f"{mean:.{digits}f} ± {sd:.2f}"
    )


def _clinical_rows(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[dict[str, str]]:
    t3 = published.TABLE3
    change = clinical_change(con, f)
    before, after = change.ceap_counts("before"), change.ceap_counts("after")
    score, villalta, pts, reflux = change.severity_score, change.villalta, change.pts, change.reflux
    return [
        *(_row(f"CEAP before {c}", str(n), str(before[c])) for c, n in t3["ceap_before"].items()),
        *(
            _row(f"CEAP at 36 months {c}", str(n), str(after[c]))
            for c, n in t3["ceap_after"].items()
        ),
        _score_row(
            "Severity score before", t3["severity_before"], score.mean_before, score.sd_before
        ),
        _score_row("Severity score after", t3["severity_after"], score.mean_after, score.sd_after),
        _score_row(
            "Villalta before", t3["villalta_before"], villalta.mean_before, villalta.sd_before
        ),
        _score_row("Villalta after", t3["villalta_after"], villalta.mean_after, villalta.sd_after),
        _row(
            "PTS before → after",
            f"{t3['pts_before']} → {t3['pts_after']}",
            f"{pts.before} → {pts.after}",
        ),
        _row("PTS p (exact McNemar)", f"{t3['pts_p']:.3f}", f"{pts.p:.3f}"),
        _row(
            "Reflux before → after",
            f"{t3['reflux_before']} → {t3['reflux_after']}",
            f"{reflux.before} → {reflux.after}",
        ),
        _row("Reflux p (exact McNemar)", f"{t3['reflux_p']:.3f}", f"{reflux.p:.3f}"),
    ]
