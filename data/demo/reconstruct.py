"""Reconstruct the demo cohort's CSV tables from the source paper's published aggregates.

Run ``python data/demo/reconstruct.py [--out DIR]``; it writes the registry layout's
patients.csv (one row per person), limbs.csv (one treated limb each, its limb_id the
patient_id, post-thrombotic: the paper's chronic DVT), events.csv, assessments.csv and
metadata.csv (default: beside this file); the paper records no stents or antithrombotic
therapy, so those files are left out. The output is the same byte for byte on every run
(fixed seed, no clock).

How it is made (rules from shared/domain.md):
- 37 enrolled, 34 technical successes; every number of the paper's Tables 1-3 is
  reproduced exactly in the 34, with the paper's contradictions resolved by the
  documented rules: primary and assisted patency rows read as swapped; the two
  IVC+CIV+EIV+CFV lesions are the double-counted segment rows; the CEAP marginals,
  including the regression below C5 that CEAP does not allow, are kept as published.
- The patency timelines below are designed by hand so that 28/25/22/20 patients
  keep primary and 29/27/24/21 keep assisted primary patency at 6/12/24/36 months.
- Numbers that must hit a published mean and SD (age, BMI, Villalta) start from
  seeded draws and are nudged one unit at a time until they match.
- Everything the paper does not publish (secondary patency, which limbs had which
  risk factor, per-visit scores, dates, the technical failures) is invented here,
  seeded, and listed in metadata.csv under not_published.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

SEED = 20091014
HERE = Path(__file__).resolve().parent
N_SUCCESS, N_FAILURE = 34, 3
VISITS = (0, 3, 6, 12, 24, 36)
VILLALTA_WEIGHT = {3: 0.4, 6: 0.6, 12: 0.8, 24: 0.95, 36: 1.0}  # share of the change by visit

# Patency timelines (months). Roles are given to patients in a seeded order.
OCCLUSIONS = (0.25, 1.5, 3, 3.5, 4.5, 9, 15, 20, 28, 33)  # occlusion without earlier restenosis
RESTENOSES = ((5, 10), (8, 18), (11, 30), (21, None))  # (restenosis treated, later occlusion)
NOT_REOPENED = {"A1", "A6", "A9", "R3"}  # the other 9 occlusions are reopened 0.5 months later
RECURRENT_DVT = (  # role, month, pulmonary embolism, risk factors that explain it
    ("A2", 2.5, True, ("thrombophilia",)),
    ("A4", 7.0, False, ("malignancy",)),
    ("A7", 13.0, True, ("thrombophilia", "smoking")),
    ("R1", 16.5, False, ("recent_surgery",)),
    ("R2", 22.0, False, ("malignancy",)),
    ("A10", 27.0, True, ("recent_surgery",)),
    ("P1", 34.0, False, ()),
)
# Table 1; transcribed apart from analytics.cohort.published, which tests check against
RISK_COUNTS = {
    "malignancy": 7,
    "smoking": 7,
    "immobilization": 2,
    "thrombophilia": 9,
    "recent_surgery": 8,
    "trauma": 2,
    "diabetes": 9,
}
SEGMENT_PATTERNS = (  # Table 1 rows, with the double-counted 4-segment lesions split out
    (("CIV", "EIV", "CFV"), 17),
    (("IVC", "CIV", "EIV", "CFV"), 2),
    (("IVC", "CIV"), 2),
    (("CIV", "EIV"), 6),
    (("EIV", "CFV"), 7),
)
CEAP_SHIFTS = ((4, 3, 8), (4, 4, 3), (5, 4, 14), (5, 5, 1), (6, 5, 8))  # before, after, patients
ULCER_HEALED = (3, 3, 3, 6, 9, 12, 12, 24)  # 3 healed by 3 months (published), the rest later
FOLLOW_UP_EXTRA = (9.5, 2.5, 2.0, 1.5, 1.0, 0.5)  # months beyond 36: range 36-45.5, mean 36.5
NOT_PUBLISHED = (
    "secondary patency; which patients had which risk factor, segment pattern, event; "
    "event timing; per-visit CEAP, Villalta and reflux; dates; symptom duration; centre; "
    "urokinase; stents; access vein; the three technical failures"
)
PERSON_COLUMNS = (
    "patient_id", "sex", "malignancy", "smoking", "immobilization", "thrombophilia",
    "recent_surgery", "trauma", "diabetes", "center",
)  # fmt: skip
LIMB_COLUMNS = (
    "limb_id", "patient_id", "side", "aetiology", "procedure_date", "age_years", "bmi",
    "technical_success", "follow_up_months", "symptom_duration_months", "seg_ivc", "seg_civ",
    "seg_eiv", "seg_cfv", "urokinase", "stents", "access_vein",
)  # fmt: skip
AETIOLOGY = "post_thrombotic"  # chronic obstructive iliofemoral DVT
PATIENT_EVENTS = {
    "recurrent_dvt", "pulmonary_embolism", "minor_bleeding", "major_bleeding", "death",
}  # fmt: skip


def sample_sd(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1))


def fit_mean_sd(
    values: np.ndarray,
    target_sum: int,
    sd_range: tuple[float, float],
    allowed: Callable[[int, int], bool],
) -> np.ndarray:
    """Nudge integers one unit at a time until the sum and sample SD are as published.

    A unit up on one value and down on another keeps the sum and moves the SD by
    a small step, so the search always lands inside a published rounding window.
    """
    x = values.astype(int).copy()
    while x.sum() != target_sum:
        step = 1 if x.sum() < target_sum else -1
        order = np.argsort(x) if step > 0 else np.argsort(-x)
        i = next(int(i) for i in order if allowed(int(i), int(x[i] + step)))
        x[i] += step
    low, high = sd_range
    middle = (low + high) / 2
    for _ in range(10_000):
        sd = sample_sd(x)
        if low <= sd < high:
            return x
        best, best_gap = None, abs(sd - middle)
        for i in range(len(x)):
            for j in range(len(x)):
                if i == j or not (allowed(i, int(x[i] + 1)) and allowed(j, int(x[j] - 1))):
                    continue
                x[i] += 1
                x[j] -= 1
                gap = abs(sample_sd(x) - middle)
                x[i] -= 1
                x[j] += 1
                if gap < best_gap - 1e-12:
                    best, best_gap = (i, j), gap
        if best is None:
            raise RuntimeError("no move brings the SD closer to the published value")
        x[best[0]] += 1
        x[best[1]] -= 1
    raise RuntimeError("SD search did not converge")


def assign_roles(rng: np.random.Generator) -> list[str]:
    """Patency roles of the 34 successes in a seeded order: A1..A10, R1..R4, P1..P20."""
    roles = [f"A{i}" for i in range(1, 11)] + [f"R{i}" for i in range(1, 5)]
    roles += [f"P{i}" for i in range(1, N_SUCCESS - len(roles) + 1)]
    return [roles[i] for i in rng.permutation(len(roles))]


def patency_events(role: str) -> list[tuple[float, str]]:
    """Restenosis, occlusion, reintervention and reopening events of one role."""
    events: list[tuple[float, str]] = []
    occlusion = None
    if role.startswith("A"):
        occlusion = OCCLUSIONS[int(role[1:]) - 1]
    elif role.startswith("R"):
        restenosis, occlusion = RESTENOSES[int(role[1:]) - 1]
        events += [(restenosis, "restenosis"), (restenosis, "reintervention")]
    if occlusion is not None:
        events.append((occlusion, "occlusion"))
        if role not in NOT_REOPENED:
            events += [(occlusion + 0.5, "reintervention"), (occlusion + 0.5, "patency_restored")]
    return events


def lost_primary(role: str) -> bool:
    return role[0] in "AR"


def risk_factors(roles: list[str], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Table 1's risk-factor counts, with recurrent DVT patients carrying its causes."""
    flags = {name: np.zeros(N_SUCCESS, dtype=bool) for name in RISK_COUNTS}
    for role, _, _, causes in RECURRENT_DVT:
        for cause in causes:
            flags[cause][roles.index(role)] = True
    for name, count in RISK_COUNTS.items():
        free = [i for i in rng.permutation(N_SUCCESS) if not flags[name][i]]
        flags[name][free[: count - int(flags[name].sum())]] = True
    return flags


def segments(rng: np.random.Generator) -> list[tuple[str, ...]]:
    patterns = [pattern for pattern, count in SEGMENT_PATTERNS for _ in range(count)]
    return [patterns[i] for i in rng.permutation(len(patterns))]


def ages(rng: np.random.Generator) -> np.ndarray:
    """Mean 66.2, SD 14.5, range 37-86 (the two extremes are kept fixed)."""
    start = np.clip(np.round(rng.normal(66.2, 14.5, N_SUCCESS)), 38, 85)
    start[:2] = (37, 86)
    return fit_mean_sd(start, 2251, (14.45, 14.55), lambda i, v: i >= 2 and 38 <= v <= 85)


def bmis(rng: np.random.Generator) -> np.ndarray:
    """Tenths of kg/m2: mean 24.8, SD 1.63."""
    start = np.round(rng.normal(248, 16.3, N_SUCCESS))
    return fit_mean_sd(start, 34 * 248, (16.25, 16.35), lambda i, v: 200 <= v <= 300)


def ceap_pairs(rng: np.random.Generator) -> list[tuple[int, int]]:
    pairs = [(before, after) for before, after, count in CEAP_SHIFTS for _ in range(count)]
    return [pairs[i] for i in rng.permutation(len(pairs))]


def villalta(
    ceap: list[tuple[int, int]], loses_pts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Before: mean 11.9, SD 3.25, all >= 5, higher with CEAP class. At 36 months:
    mean 5.32 (sum 181), SD 2.03, below 5 exactly in the 10 limbs that lose PTS."""
    base_by_class = {4: 9, 5: 12, 6: 15}
    start = np.array([base_by_class[b] + rng.integers(-2, 3) for b, _ in ceap])
    before = fit_mean_sd(start, 405, (3.245, 3.255), lambda i, v: 6 <= v <= 33)

    def allowed_after(i: int, v: int) -> bool:
        low, high = (0, 4) if loses_pts[i] else (5, 33)
        return low <= v <= high and v < before[i]

    start = np.where(loses_pts, 3, np.minimum(6 + rng.integers(-1, 3, N_SUCCESS), before - 1))
    after = fit_mean_sd(start, 181, (2.025, 2.035), allowed_after)
    return before, after


def visit_ceap(before: int, after: int, healed: float | None, month: int) -> int:
    """CEAP at a visit: an ulcer stays C6 until it heals; other changes show from 6 or 12 months."""
    if month == 0:
        return before
    if before == 6:
        return 6 if healed is None or month < healed else 5
    change_at = 6 if before == 4 else 12
    return after if month >= change_at else before


def build(rng: np.random.Generator) -> tuple[list[dict], list[dict], list[dict]]:
    roles = assign_roles(rng)
    risks = risk_factors(roles, rng)
    lesion = segments(rng)
    age, bmi = ages(rng)[rng.permutation(N_SUCCESS)], bmis(rng)[rng.permutation(N_SUCCESS)]
    female = np.zeros(N_SUCCESS, dtype=bool)
    female[rng.permutation(N_SUCCESS)[:17]] = True
    left = np.zeros(N_SUCCESS, dtype=bool)
    left[rng.permutation(N_SUCCESS)[:22]] = True
    follow_up = np.full(N_SUCCESS, 36.0)
    follow_up[rng.permutation(N_SUCCESS)[: len(FOLLOW_UP_EXTRA)]] += FOLLOW_UP_EXTRA
    duration = np.array(
        [rng.integers(12, 49) if lost_primary(r) else rng.integers(4, 25) for r in roles], float
    )
    urokinase = np.zeros(N_SUCCESS, dtype=bool)  # tough lesions: mostly the long-standing ones
    longest = np.argsort(-duration, kind="stable")[:18]
    urokinase[rng.choice(longest, size=9, replace=False)] = True

    ceap = ceap_pairs(rng)
    patent = [i for i, r in enumerate(roles) if not lost_primary(r)]
    c4_to_c3 = [i for i in patent if ceap[i] == (4, 3)]
    others = [i for i in patent if i not in c4_to_c3]
    loses_pts = np.zeros(N_SUCCESS, dtype=bool)
    loses_pts[(c4_to_c3 + [others[i] for i in rng.permutation(len(others))])[:10]] = True
    before_v, after_v = villalta(ceap, loses_pts, rng)
    reflux_before = np.zeros(N_SUCCESS, dtype=bool)
    reflux_before[rng.permutation(N_SUCCESS)[:25]] = True
    reflux_after = reflux_before.copy()
    with_reflux = [int(i) for i in rng.permutation(np.flatnonzero(reflux_before))]
    reflux_after[with_reflux[:4]] = False  # 4 resolved
    reflux_after[int(rng.choice(np.flatnonzero(~reflux_before)))] = True  # 1 new

    ulcer_healed = dict(
        zip([i for i, (b, _) in enumerate(ceap) if b == 6], ULCER_HEALED, strict=True)
    )
    bleeding = set(int(i) for i in rng.permutation(N_SUCCESS)[:4])

    patients, assessments, events = [], [], []
    first_day = date(2009, 1, 5)
    for i, role in enumerate(roles):
        pid = f"P{i + 1:02d}"
        patients.append(
            {
                "patient_id": pid,
                "age_years": int(age[i]),
                "sex": "F" if female[i] else "M",
                "bmi": f"{bmi[i] / 10:.1f}",
                "lesion_side": "left" if left[i] else "right",
                "procedure_date": first_day + timedelta(days=int(rng.integers(0, 2100))),
                "technical_success": True,
                "follow_up_months": follow_up[i],
                "symptom_duration_months": duration[i],
                **{name: bool(risks[name][i]) for name in RISK_COUNTS},
                **{f"seg_{s.lower()}": s in lesion[i] for s in ("IVC", "CIV", "EIV", "CFV")},
                "center": "Centre 1",
                "urokinase": bool(urokinase[i]),
                "stents": max(1, len(lesion[i]) - 1),
                "access_vein": "popliteal" if rng.random() < 0.6 else "small_saphenous",
            }
        )
        events += [(pid, m, e) for m, e in patency_events(role)]
        for dvt_role, month, embolism, _ in RECURRENT_DVT:
            if dvt_role == role:
                events.append((pid, month, "recurrent_dvt"))
                if embolism:
                    events.append((pid, month, "pulmonary_embolism"))
        if i in bleeding:
            events.append((pid, 0.03, "minor_bleeding"))
        if i in ulcer_healed:
            events.append((pid, float(ulcer_healed[i]), "ulcer_healed"))
        for month in VISITS:
            share = VILLALTA_WEIGHT.get(month, 0.0)
            value = round(before_v[i] + (after_v[i] - before_v[i]) * share)
            reflux = reflux_before[i] if month in (0, 12) else reflux_after[i]
            assessments.append(
                {
                    "patient_id": pid,
                    "month": month,
                    "ceap_c": visit_ceap(*ceap[i], ulcer_healed.get(i), month),
                    "villalta": int(value),
                    "reflux": bool(reflux) if month in (0, 12, 36) else None,
                }
            )
    failures(rng, first_day, patients, assessments)
    event_rows = [{"patient_id": p, "month": m, "event": e} for p, m, e in events]
    return patients, assessments, event_rows


def failures(
    rng: np.random.Generator, first_day: date, patients: list[dict], assessments: list[dict]
) -> None:
    """The three technical failures: no stent, conservative care, little change (invented)."""
    for k, (age, sex, side, follow_up) in enumerate(
        ((71, "F", "left", 24.0), (58, "M", "left", 30.0), (77, "M", "right", 40.0))
    ):
        pid = f"P{N_SUCCESS + k + 1:02d}"
        patients.append(
            {
                "patient_id": pid, "age_years": age, "sex": sex, "bmi": f"{25.1 + k:.1f}",
                "lesion_side": side,
                "procedure_date": first_day + timedelta(days=int(rng.integers(0, 2100))),
                "technical_success": False, "follow_up_months": follow_up,
                "symptom_duration_months": float(rng.integers(24, 61)),
                **dict.fromkeys(RISK_COUNTS, False),
                "seg_ivc": k == 0, "seg_civ": True, "seg_eiv": True, "seg_cfv": k != 0,
                "center": "Centre 1", "urokinase": True, "stents": 0, "access_vein": "popliteal",
            }
        )  # fmt: skip
        for month, villalta in ((0, 14 - k), (min(36, int(follow_up)), 13 - k)):
            row = {"patient_id": pid, "month": month, "ceap_c": 5, "villalta": villalta}
            assessments.append({**row, "reflux": True})


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([cell(row[c]) for c in columns] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the CSVs")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    patients, assessments, events = build(np.random.default_rng(SEED))
    key = lambda row: (row["patient_id"], float(row["month"]), row.get("event", ""))  # noqa: E731
    write_csv(out / "patients.csv", PERSON_COLUMNS, patients)
    limbs = [
        {**row, "limb_id": row["patient_id"], "side": row["lesion_side"], "aetiology": AETIOLOGY}
        for row in patients
    ]
    write_csv(out / "limbs.csv", LIMB_COLUMNS, limbs)
    for row in events:  # one limb a patient: a limb event's limb is the patient's
        row["limb_id"] = None if row["event"] in PATIENT_EVENTS else row["patient_id"]
    write_csv(
        out / "events.csv", ("patient_id", "limb_id", "month", "event"), sorted(events, key=key)
    )
    write_csv(
        out / "assessments.csv",
        ("limb_id", "month", "ceap_c", "villalta", "reflux"),
        [{**row, "limb_id": row["patient_id"]} for row in sorted(assessments, key=key)],
    )
    metadata = {
        "name": "Demo cohort: chronic iliofemoral DVT stenting (reconstructed)",
        "source": (
            "Reconstructed from the published aggregates of a retrospective single-centre "
            "series: angioplasty plus stenting for chronic obstructive iliofemoral DVT, "
            "37 patients treated 2009-01 to 2014-10, 34 technical successes, 36 months of "
            "follow-up."
        ),
        "method": (
            "Patient-level rows built to reproduce every published figure of Tables 1-3 "
            "exactly (data/demo/reconstruct.py); unpublished details invented, seeded."
        ),
        "created": "2026-11-25",
        "is_reconstruction": "true",
        "not_published": NOT_PUBLISHED,
        "seed": str(SEED),
        # the protocol's follow-up (visits to 36 months): follow-up completeness ends there
        "planned_follow_up_months": "36",
    }
    write_csv(
        out / "metadata.csv",
        ("key", "value"),
        [{"key": k, "value": v} for k, v in metadata.items()],
    )


if __name__ == "__main__":
    main()
