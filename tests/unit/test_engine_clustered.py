"""Limbs clustered in patients: the engine's clustered variance against R, lifelines and Greenwood.

R values were computed with R 4.2.2 (Patched 2022-11-10 r83330) and survival 3.5.3
(Debian's r-base-core and r-cran-survival). Two data sets, each written out below:
survival's ``retinopathy`` (197 diabetic patients, both eyes of each, one eye treated by
laser: ``futime`` in months, ``status``, ``trt``, ``type``, ``risk``; every patient a
cluster of two) and a small bilateral set (30 patients, 44 limbs: one, two or three limbs
each, integer months with heavy ties, three groups, some patients' limbs in different
groups). Each reference gives its R call. Random clustered cohorts are expanded to rows
and handed to lifelines: its Cox fit with ``cluster_col`` (on untied times: with ties
lifelines' score residuals are not R's Efron ones), and its weighted Kaplan-Meier and
restricted mean, whose derivatives in a patient's weight (central differences) are that
patient's infinitesimal jackknife terms.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from analytics.stats.engine.aalen_johansen import cumulative_incidence
from analytics.stats.engine.counts import UNCOUNTED_LIMB, Clusters, Counts
from analytics.stats.engine.cox import hazard_ratios
from analytics.stats.engine.kaplan_meier import at_months, kaplan_meier
from analytics.stats.engine.logrank import holm, logrank, pairwise
from analytics.stats.engine.median import median_time
from analytics.stats.engine.restricted_mean import (
    restricted_mean,
    restricted_mean_covariance,
    restricted_mean_difference,
)
from analytics.stats.engine.robust_score import (
    ROBUST_SCORE,
    robust_score,
    robust_score_pairwise,
    robust_score_trend,
)
from tests.unit.test_engine import TIGHT, counts_of

# R: r <- retinopathy; a <- r[c(TRUE, FALSE), ]; b <- r[c(FALSE, TRUE), ]   (trt 1, trt 0)
#    sprintf("%d %s %d %g %d %d %g %d", a$id, substr(a$type, 1, 1), a$risk, a$futime,
#            a$status, b$risk, b$futime, b$status)   (three patients a line)
RETINOPATHY = """
5 a 9 46.23 0 9 46.23 0  14 j 8 42.5 0 6 31.3 1  16 j 11 42.27 0 11 42.27 0
25 j 11 20.6 0 11 20.6 0  29 j 9 38.77 0 10 0.3 1  46 j 9 65.23 0 9 54.27 1
49 j 8 63.5 0 6 10.8 1  56 j 8 23.17 0 9 23.17 0  61 j 9 1.47 0 10 1.47 0
71 a 9 58.07 0 9 13.83 1  100 a 9 46.43 1 9 48.53 0  112 a 11 44.4 0 12 7.9 1
120 a 11 39.57 0 6 39.57 0  127 a 6 30.83 1 10 38.57 1  133 a 10 66.27 0 9 14.1 1
150 j 9 20.17 1 10 6.9 1  167 a 12 58.43 0 9 41.4 1  176 j 9 58.2 0 9 58.2 0
185 a 6 57.43 0 8 57.43 0  190 j 11 56.03 0 12 56.03 0  202 j 9 67.53 0 9 67.53 0
214 a 9 61.4 0 12 0.6 1  220 j 10 10.27 1 10 1.63 1  243 j 12 66.2 0 11 66.2 0
255 j 12 5.67 1 9 13.83 1  264 j 9 58.83 0 11 29.97 1  266 a 9 60.27 0 11 26.37 1
284 a 10 5.77 1 12 1.33 1  295 j 11 5.9 1 11 35.53 1  300 a 10 25.63 1 9 21.9 1
302 j 9 33.9 1 9 14.8 1  315 j 10 1.73 1 8 6.2 1  324 a 9 46.9 0 8 22 1
328 j 9 31.13 0 9 31.13 0  335 j 9 30.2 1 11 22 1  342 j 11 70.9 0 12 70.9 0
349 a 11 25.8 1 8 13.87 1  357 a 9 5.73 1 9 48.3 1  368 j 9 53.43 0 9 53.43 0
385 j 10 1.9 1 12 51.1 0  396 a 10 9.9 1 9 9.9 1  405 j 8 34.2 0 12 34.2 0
409 a 10 46.73 0 12 2.67 1  419 a 10 18.73 0 10 13.83 1  429 a 11 32.03 0 10 4.27 1
433 a 10 69.87 0 10 13.9 1  445 j 11 66.8 0 9 66.8 0  454 j 9 64.73 0 8 64.73 0
468 j 10 1.7 1 6 1.7 1  480 j 9 1.77 1 12 43.03 1  485 j 8 29.03 0 8 29.03 0
491 a 9 56.57 0 9 56.57 0  503 a 9 8.3 1 10 8.3 1  515 a 8 21.57 0 9 18.43 1
522 j 9 31.57 0 8 31.57 0  538 a 10 31.63 0 9 31.63 1  547 a 11 39.77 0 10 39.77 0
550 j 10 18.7 1 11 6.53 1  554 j 8 18.9 0 9 18.9 0  557 j 10 56.8 0 8 22.23 1
561 j 10 55.6 0 9 14 1  568 j 9 42.17 1 10 42.17 1  572 j 9 10.7 0 9 5.33 1
576 j 9 66.33 0 10 59.8 1  581 a 12 52.33 0 11 5.83 1  606 j 9 58.17 0 12 2.17 1
610 j 9 14.3 1 8 48.43 1  615 j 12 25.83 0 10 25.83 0  618 j 10 45.4 0 9 45.4 0
624 j 6 47.6 0 9 47.6 0  631 j 12 13.33 1 10 9.6 1  636 j 11 42.1 0 11 42.1 0
645 j 9 39.93 0 6 39.93 0  653 j 9 14.27 1 12 7.6 1  662 j 12 34.57 1 12 1.8 1
664 j 9 65.8 0 12 4.3 1  683 a 8 4.1 1 6 12.2 1  687 j 11 60.93 0 12 60.93 0
701 j 10 57.2 0 9 57.2 0  706 a 8 38.07 0 10 12.73 1  717 a 11 54.1 0 11 54.1 1
722 j 9 59.27 0 12 9.4 1  731 j 12 21.57 1 10 9.9 1  740 j 8 54.1 0 8 54.1 0
749 a 9 50.47 0 11 50.47 0  757 j 9 46.17 0 12 46.17 0  760 j 11 46.3 0 11 46.3 0
766 a 12 38.83 0 9 38.83 0  769 j 9 44.6 0 9 44.6 0  772 j 12 43.07 0 9 43.07 0
778 a 8 26.23 1 8 40.03 0  780 j 9 41.6 0 11 18.03 1  793 a 11 38.07 0 11 38.07 0
800 a 9 65.23 0 9 65.23 0  804 a 10 7.07 1 12 66.77 0  810 j 10 13.77 1 12 13.77 1
815 a 10 9.63 0 12 9.63 1  832 j 12 46.23 0 12 46.23 0  834 j 9 45.73 0 12 1.5 1
838 a 9 33.63 1 9 33.63 1  857 j 8 40.17 0 6 40.17 0  866 a 11 63.33 1 10 27.6 1
887 a 10 38.47 1 10 1.63 1  903 a 6 55.23 0 8 55.23 0  910 a 6 52.77 0 10 25.3 1
920 j 6 57.17 0 8 46.2 1  925 a 10 9.87 0 10 1.7 1  931 j 12 57.9 0 11 57.9 0
936 j 10 5.9 0 12 5.9 0  945 j 12 32.2 0 12 32.2 0  949 j 9 10.33 1 10 0.83 1
952 j 12 6.13 1 9 50.9 0  962 j 9 43.67 0 9 25.93 1  964 j 9 38.3 0 9 38.3 0
971 a 9 38.77 0 10 19.4 1  978 j 12 38.07 0 10 21.97 1  983 j 11 38.3 0 11 38.3 0
987 j 10 26.2 1 9 70.03 0  1002 j 9 62.57 0 11 18.03 1  1017 a 8 13.83 1 9 1.57 1
1029 a 12 46.5 0 12 13.37 1  1034 j 11 11.07 1 9 1.97 1  1037 a 9 42.47 0 9 22.2 1
1042 a 9 38.73 0 9 38.73 0  1069 a 11 51.13 0 11 51.13 0  1074 j 10 6.1 1 11 46.5 0
1098 j 10 2.1 1 11 11.3 1  1102 j 10 17.73 1 9 42.3 0  1112 j 9 26.47 0 10 26.47 0
1117 j 11 10.77 0 11 10.77 0  1126 a 12 55.33 0 10 55.33 0  1135 j 9 58.67 0 9 58.67 0
1145 a 10 12.93 1 9 4.97 1  1148 a 9 54.2 0 12 26.47 1  1167 j 10 49.57 0 9 49.57 0
1184 a 12 24.43 1 11 9.87 1  1191 a 9 50.23 0 9 50.23 0  1205 j 11 13.97 1 12 30.4 1
1213 j 6 43.33 0 10 43.33 1  1228 a 8 42.23 0 8 42.23 0  1247 j 9 74.93 0 9 74.93 0
1250 a 9 66.93 0 9 66.93 0  1253 j 9 73.43 0 9 73.43 0  1267 a 12 67.47 0 11 38.57 1
1281 a 9 3.67 0 10 3.67 1  1287 j 10 48.87 1 9 67.03 0  1293 j 9 65.6 0 9 65.6 0
1296 j 10 15.83 0 10 15.83 1  1309 a 11 20.07 0 8 8.83 1  1312 j 10 67.43 0 9 67.43 0
1317 j 9 1.47 0 6 1.47 0  1321 j 11 62.93 0 9 22.13 1  1333 j 9 6.3 1 11 56.97 0
1347 j 10 59.7 0 10 18.93 1  1361 j 10 13.8 1 9 19 1  1366 a 6 55.13 0 6 55.13 0
1373 j 11 13.57 1 11 5.43 1  1397 a 11 42.2 0 11 42.2 0  1410 a 10 38.27 0 9 38.27 0
1413 j 8 7.1 0 12 7.1 1  1425 a 11 63.63 0 11 26.17 1  1447 j 11 59 0 11 24.73 1
1461 a 9 54.37 0 10 54.37 0  1469 a 8 54.6 0 12 10.97 1  1480 a 9 63.87 0 9 21.1 1
1487 a 9 62.37 0 8 43.7 1  1491 a 11 62.8 0 9 62.8 0  1499 a 11 63.33 0 9 14.37 1
1503 a 9 58.53 0 9 58.53 0  1513 a 12 58.07 0 11 58.07 0  1524 a 10 58.5 0 9 58.5 0
1533 a 9 1.5 1 9 14.37 0  1537 j 12 54.73 0 10 38.4 1  1552 j 12 50.63 0 11 2.83 1
1554 a 10 51.1 0 9 51.1 0  1562 a 9 49.93 0 9 6.57 1  1572 a 9 46.27 0 9 46.27 1
1581 a 9 10.6 0 10 10.6 0  1585 a 8 42.77 0 12 42.77 0  1596 j 9 34.37 1 10 42.27 0
1600 j 10 42.07 0 10 42.07 0  1603 j 9 38.77 0 9 38.77 0  1619 a 9 74.97 0 12 61.83 1
1627 j 10 6.57 1 12 66.97 0  1636 j 6 38.87 1 6 68.3 0  1640 j 11 42.43 1 9 46.63 1
1643 j 9 67.07 0 9 67.07 0  1649 j 10 2.7 1 12 2.7 0  1666 j 6 63.8 0 8 63.8 0
1672 j 9 32.63 0 9 32.63 0  1683 a 10 62 0 8 62 0  1688 j 11 13.1 1 10 54.8 0
1705 j 8 8 0 8 8 0  1717 a 12 51.6 0 11 42.33 1  1727 a 9 49.97 0 10 2.9 1
1746 j 10 45.9 0 10 1.43 1  1749 a 9 41.93 0 9 41.93 0
"""


@pytest.fixture(scope="module")
def retinopathy() -> pd.DataFrame:
    """One row per eye: id, type, trt (1 treated), risk, time (months), event, and
    risk3: risk 6-8 low (0), 9-10 mid (1), 11-12 high (2), R's
    ``cut(risk, c(0, 8, 10, 12), labels = c("low", "mid", "high"))``."""
    fields = np.array(RETINOPATHY.split()).reshape(-1, 8)
    eyes = []
    for trt, columns in ((1, slice(2, 5)), (0, slice(5, 8))):
        risk, time, event = fields[:, columns].T
        eyes.append(
            pd.DataFrame(
                {
                    "id": fields[:, 0].astype(int),
                    "type": np.where(fields[:, 1] == "j", 0, 1),
                    "trt": trt,
                    "risk": risk.astype(int),
                    "time": time.astype(float),
                    "event": event.astype(int),
                }
            )
        )
    rows = pd.concat(eyes, ignore_index=True)
    rows["risk3"] = np.digitize(rows["risk"], [8.5, 10.5])
    return rows


# R: d <- data.frame(id = c(...), g = c(...), t = c(...), e = c(...)) with these columns
BILATERAL = pd.DataFrame(
    {
        "id": [1, 1, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 7, 8, 8, 9, 10, 11, 11, 11, 12, 13,
               14, 15, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 25, 26, 27, 27, 28, 29,
               30, 30, 30],
        "group": list("ABBAACABBBBBBABCCACAABBCCCCCCABBCACCBBBCCABA"),
        "time": [1, 9, 4, 2, 12, 6, 12, 11, 8, 3, 9, 2, 10, 5, 9, 8, 7, 7, 1, 9, 7, 4, 2,
                 4, 1, 12, 9, 1, 9, 6, 8, 3, 11, 5, 3, 2, 1, 7, 6, 9, 4, 2, 10, 1],
        "event": [0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1,
                  0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1],
    }
)  # fmt: skip
BILATERAL["time"] = BILATERAL["time"].astype(float)


def on(rows: pd.DataFrame, group: str) -> pd.DataFrame:
    """The rows with ``group`` as the group column, as counts_of reads them."""
    return rows.assign(group=rows[group])[["id", "group", "time", "event"]]


def clusters_of(rows: pd.DataFrame, counts: Counts, every_limb: bool = False) -> Clusters:
    """The limbs of patients with two or more limbs (every limb if ``every_limb``), as the
    callers pass them: patient, group index, time, event."""
    several = rows["id"].map(rows["id"].value_counts()) > 1
    kept = rows if every_limb else rows[several]
    index = {level: i for i, level in enumerate(counts.levels)}
    return Clusters(
        levels=counts.levels,
        cluster=kept["id"].to_numpy(),
        group=kept["group"].astype(str).map(index).to_numpy(int),
        time=kept["time"].to_numpy(float),
        event=kept["event"].to_numpy(int),
    )


def prepared(rows: pd.DataFrame) -> tuple[Counts, Clusters]:
    counts = counts_of(rows[["group", "time", "event"]])
    return counts, clusters_of(rows, counts)


# ---- Kaplan-Meier ---------------------------------------------------------------------------

# R: summary(survfit(Surv(futime, status) ~ type, data = retinopathy, cluster = id,
#            conf.type = "log-log"), times = c(6, 12, 24, 36, 48, 60))
#    std.err, lower, upper (the eyes of a patient share a type: every patient a pair)
R_RETINOPATHY_KM = {
    "juvenile": [
        (6, 0.0195068466052, 0.859830422483, 0.937966069286),
        (12, 0.0275979604957, 0.7662648652, 0.87545574156),
        (24, 0.034965443024, 0.635393743941, 0.772609402168),
        (36, 0.0377631976356, 0.573390057934, 0.721239715505),
        (48, 0.0404791178347, 0.507507972782, 0.665658053447),
        (60, 0.0425790036455, 0.460566491208, 0.626677073119),
    ],
    "adult": [
        (6, 0.0228870036836, 0.852451792368, 0.945076361333),
        (12, 0.0298021359659, 0.773335975724, 0.891771555777),
        (24, 0.0355527188059, 0.658064677324, 0.797792635618),
        (36, 0.0391929631827, 0.568527616626, 0.721950552557),
        (48, 0.0402578217463, 0.503735249258, 0.661009425586),
        (60, 0.0419313984638, 0.478109409953, 0.641780422079),
    ],
}


@pytest.mark.parametrize("level", ["juvenile", "adult"])
def test_kaplan_meier_clustered_matches_r_on_retinopathy(retinopathy, level):
    counts, clusters = prepared(on(retinopathy, "type"))
    name = str(("juvenile", "adult").index(level))
    expected = np.array(R_RETINOPATHY_KM[level])
    clustered = at_months(kaplan_meier(counts.of(name), clusters.of(name)), expected[:, 0])
    greenwood = at_months(kaplan_meier(counts.of(name)), expected[:, 0])
    assert clustered.se == pytest.approx(expected[:, 1], rel=1e-9)
    assert clustered.ci_lower == pytest.approx(expected[:, 2], rel=1e-9)
    assert clustered.ci_upper == pytest.approx(expected[:, 3], rel=1e-9)
    assert greenwood.se != pytest.approx(expected[:, 1], rel=1e-3)


# R: f <- survfit(Surv(t, e) ~ g, data = d, cluster = id, conf.type = "log-log")
#    summary(f, censored = TRUE): every time of each curve; time, n.risk, surv, std.err,
#    lower, upper (where surv > 0: at 0 R's std.err is 0 and the engine's NaN, as without
#    clusters)
R_BILATERAL_KM = {
    "A": [
        (1, 12, 0.916666666667, 0.073493091974, 0.588880147346, 0.985804247403),
        (2, 10, 0.916666666667, 0.073493091974, 0.588880147346, 0.985804247403),
        (5, 8, 0.6875, 0.158019494336, 0.287399905494, 0.893510556074),
        (6, 6, 0.6875, 0.158019494336, 0.287399905494, 0.893510556074),
        (7, 5, 0.4125, 0.146576158745, 0.143087324074, 0.668108966645),
        (9, 3, 0.4125, 0.146576158745, 0.143087324074, 0.668108966645),
    ],
    "B": [
        (2, 16, 0.9375, 0.0532741472539, 0.695940970864, 0.98857519719),
        (3, 14, 0.870535714286, 0.0769127472275, 0.6166682187, 0.961016266118),
        (4, 12, 0.870535714286, 0.0769127472275, 0.6166682187, 0.961016266118),
        (6, 10, 0.783482142857, 0.0912078077035, 0.537091087248, 0.908658400193),
        (7, 9, 0.696428571429, 0.151180630511, 0.309526417061, 0.894388679723),
        (8, 8, 0.609375, 0.138608910459, 0.295715568722, 0.817608023746),
        (9, 6, 0.3046875, 0.111006890657, 0.114481580858, 0.521158738447),
        (10, 3, 0.203125, 0.126371809648, 0.0325371081169, 0.476300064161),
        (11, 1, 0.203125, 0.126371809648, 0.0325371081169, 0.476300064161),
    ],
    "C": [
        (1, 15, 0.933333333333, 0.0602873776278, 0.649050417579, 0.989048099632),
        (2, 12, 0.855555555556, 0.0800475681625, 0.603263257733, 0.952986606572),
        (3, 11, 0.777777777778, 0.136761484723, 0.371458850389, 0.938214688128),
        (4, 10, 0.7, 0.164705123714, 0.272650939045, 0.906746685548),
        (6, 8, 0.7, 0.164705123714, 0.272650939045, 0.906746685548),
        (7, 7, 0.6, 0.168825474429, 0.222325340623, 0.840680316087),
        (8, 6, 0.5, 0.167709323633, 0.167046431093, 0.764535376982),
        (9, 5, 0.4, 0.16124796752, 0.114144732565, 0.679188969102),
        (11, 2, 0.2, 0.162788902439, 0.0130802934024, 0.550294129849),
        (12, 1, 0.2, 0.162788902439, 0.0130802934024, 0.550294129849),
    ],
}


@pytest.mark.parametrize("level", ["A", "B", "C"])
def test_kaplan_meier_clustered_matches_r_at_every_time_of_a_bilateral_set(level):
    counts, clusters = prepared(BILATERAL)
    curve = kaplan_meier(counts.of(level), clusters.of(level))
    expected = np.array(R_BILATERAL_KM[level])
    at = np.searchsorted(curve.time, expected[:, 0])
    assert curve.time[at].tolist() == expected[:, 0].tolist()
    assert curve.at_risk[at].tolist() == expected[:, 1].astype(int).tolist()
    assert curve.estimate[at] == pytest.approx(expected[:, 2], rel=1e-9)
    assert curve.se[at] == pytest.approx(expected[:, 3], rel=1e-9)
    assert curve.ci_lower[at] == pytest.approx(expected[:, 4], rel=1e-9)
    assert curve.ci_upper[at] == pytest.approx(expected[:, 5], rel=1e-9)


# R: quantile(f, 0.5) on the same fit: median, lower, upper (NA: not reached)
R_BILATERAL_MEDIAN = {"A": (7, 5, np.nan), "B": (9, 7, 10), "C": (8.5, 3, np.nan)}


@pytest.mark.parametrize("level", ["A", "B", "C"])
def test_median_ci_comes_from_the_clustered_band_as_r_gives_it(level):
    counts, clusters = prepared(BILATERAL)
    median = median_time(kaplan_meier(counts.of(level), clusters.of(level)))
    expected = R_BILATERAL_MEDIAN[level]
    assert (median.estimate, median.ci_lower, median.ci_upper) == pytest.approx(
        expected, nan_ok=True
    )


def test_the_bilateral_median_cis_differ_from_greenwoods():
    """The median test bites: with Greenwood's band, group B's lower limit is 6, not R's 7."""
    counts, _ = prepared(BILATERAL)
    assert median_time(kaplan_meier(counts.of("B"))).ci_lower == 6


def test_pairs_split_across_groups_leave_each_curve_greenwoods(retinopathy):
    """By treated eye every patient has one eye in each group: each curve's limbs are
    singletons, and R's clustered SE is Greenwood's (survfit's robust variance with
    single-row clusters)."""
    counts, clusters = prepared(on(retinopathy, "trt"))
    for level in counts.levels:
        clustered = kaplan_meier(counts.of(level), clusters.of(level))
        greenwood = kaplan_meier(counts.of(level))
        np.testing.assert_array_equal(clustered.se, greenwood.se)
        np.testing.assert_array_equal(clustered.ci_lower, greenwood.ci_lower)


# ---- the restricted mean ------------------------------------------------------------------

# R: for each level, s <- subset(<data>, <group> == level)
#    fit <- survfit(Surv(<time>, <status>) ~ 1, data = s, id = id)
#    sqrt(sum(residuals(fit, times = h, type = "rmst", collapse = TRUE)^2))
#    (print(fit, rmean = h) gives the mean and, ignoring the pairing, its unclustered SE)
R_RMST = {
    ("retinopathy", "type", 50): {"0": (36.8520023751, 1.40541131379),
                                  "1": (37.0209091132, 1.45611286651)},
    ("bilateral", "group", 10): {"A": (7.27916666667, 0.823974836832),
                                 "B": (7.94308035714, 0.543895128674),
                                 "C": (7.16666666667, 1.12672685975)},
}  # fmt: skip


@pytest.mark.parametrize("case", R_RMST, ids=str)
def test_restricted_mean_clustered_se_matches_rs_collapsed_jackknife(retinopathy, case):
    data, group, horizon = case
    rows = on(retinopathy, group) if data == "retinopathy" else BILATERAL
    counts, clusters = prepared(rows)
    for level, (mean, se) in R_RMST[case].items():
        curve = kaplan_meier(counts.of(level), clusters.of(level))
        result = restricted_mean(curve, horizon, clusters.of(level))
        assert (result.estimate, result.se) == pytest.approx((mean, se), rel=1e-9)
        assert restricted_mean(curve, horizon).se != pytest.approx(se, rel=1e-3)


# R: r <- residuals(survfit(Surv(t, e) ~ g, data = d), times = 10, type = "rmst"): each
#    limb's move of its own curve's mean; per <- function(lv) rowsum(r[d$g == lv],
#    d$id[d$g == lv]); the sum over patients in both of per(level) * per("A")
R_BILATERAL_RMST_COVARIANCE = {"B": -0.0930442256452, "C": 0.0545950589727}


@pytest.mark.parametrize("level", R_BILATERAL_RMST_COVARIANCE)
def test_restricted_means_covary_through_patients_with_limbs_in_both_groups(level):
    counts, clusters = prepared(BILATERAL)
    curve, reference = kaplan_meier(counts.of(level)), kaplan_meier(counts.of("A"))
    covariance = restricted_mean_covariance(
        curve, clusters.of(level), reference, clusters.of("A"), 10
    )
    assert covariance == pytest.approx(R_BILATERAL_RMST_COVARIANCE[level], rel=1e-9)


def test_restricted_mean_difference_of_treated_and_untreated_eyes_takes_their_covariance(
    retinopathy,
):
    """R, horizon 60: print(survfit(Surv(futime, status) ~ trt, data = retinopathy),
    rmean = 60): treated 47.6853567662 (SE 1.49225201025), untreated 37.6084477029
    (1.68239555591); each arm one eye per patient, so these are the clustered SEs too.
    The covariance, from r <- residuals(survfit(...), times = 60, type = "rmst") summed per
    patient in each arm: 0.673498722264."""
    counts, clusters = prepared(on(retinopathy, "trt"))
    curves = {level: kaplan_meier(counts.of(level)) for level in ("0", "1")}
    means = {level: restricted_mean(curves[level], 60, clusters.of(level)) for level in curves}
    covariance = restricted_mean_covariance(
        curves["1"], clusters.of("1"), curves["0"], clusters.of("0"), 60
    )
    assert covariance == pytest.approx(0.673498722264, rel=1e-9)
    difference = restricted_mean_difference("1", means["1"], "0", means["0"], covariance)
    se = np.sqrt(1.49225201025**2 + 1.68239555591**2 - 2 * 0.673498722264)
    centre = 47.6853567662 - 37.6084477029
    expected = (centre, centre - 1.959963984540054 * se, centre + 1.959963984540054 * se)
    assert (difference.difference, difference.ci_lower, difference.ci_upper) == pytest.approx(
        expected, rel=1e-9
    )


# ---- the cumulative incidence with death competing ---------------------------------------

# R: the bilateral set with the censored limbs of patients 5, 13, 14, 16, 21 and 28 ended by
#    death: d$state <- factor(ifelse(d$e == 1, 1, ifelse(d$id %in% c(5, 13, 14, 16, 21,
#    28), 2, 0)), 0:2, c("censor", "endpoint", "death")); for each level,
#    s <- subset(d, g == level); f <- survfit(Surv(t, state) ~ 1, data = s,
#    conf.type = "log-log"); sm <- summary(f, censored = TRUE)
#    r <- residuals(f, times = sm$time, type = "pstate")[, , 2]
#    time, sm$pstate[, 2], sqrt(colSums(rowsum(r, s$id)^2)) (clustered: survival 3.5.3's
#    multi-state survfit leaves cluster out of std.err), and with every limb on its own
#    sm$std.err[, 2], sm$lower[, 2], sm$upper[, 2]
DEATHS = [5, 13, 14, 16, 21, 28]
R_BILATERAL_INCIDENCE = {
    "A": [
        (1, 0.0833333333333, 0.073493091974, 0.079785592313, 0.00505283547899, 0.31107040999),
        (2, 0.0833333333333, 0.073493091974, 0.079785592313, 0.00505283547899, 0.31107040999),
        (5, 0.3125, 0.158019494336, 0.15256060954, 0.0708005798012, 0.599929595957),
        (6, 0.3125, 0.158019494336, 0.15256060954, 0.0708005798012, 0.599929595957),
        (7, 0.5875, 0.146576158745, 0.176256648811, 0.200543712901, 0.838559500988),
        (9, 0.5875, 0.146576158745, 0.176256648811, 0.200543712901, 0.838559500988),
        (12, 1, 0, 2.59629636316e-17, np.nan, np.nan),
    ],
    "B": [
        (1, 0, 0, 0, np.nan, np.nan),
        (2, 0.0625, 0.0532741472539, 0.0605153647845, 0.00409816532132, 0.246994462218),
        (3, 0.125, 0.0741158826602, 0.0826797284708, 0.0206750254851, 0.327984354552),
        (4, 0.125, 0.0741158826602, 0.0826797284708, 0.0206750254851, 0.327984354552),
        (6, 0.199479166667, 0.0845265591006, 0.103858860547, 0.0480292238291, 0.424869153342),
        (7, 0.273958333333, 0.133850079228, 0.117779542282, 0.08356329711, 0.508951034487),
        (8, 0.3484375, 0.12497156693, 0.12685428845, 0.12562920323, 0.585182215548),
        (9, 0.571875, 0.116503846403, 0.132513296552, 0.283770787696, 0.780410470812),
        (10, 0.646354166667, 0.13711375962, 0.127743072957, 0.346395828096, 0.835569261166),
        (11, 0.646354166667, 0.13711375962, 0.127743072957, 0.346395828096, 0.835569261166),
    ],
    "C": [
        (1, 0.0666666666667, 0.0602873776278, 0.064406118872, 0.00430036344938, 0.260321963072),
        (2, 0.144444444444, 0.0800475681625, 0.0950308591855, 0.0231040743265, 0.37023633882),
        (3, 0.222222222222, 0.136761484723, 0.113855008511, 0.0532692248195, 0.462334061707),
        (4, 0.3, 0.164705123714, 0.126271312833, 0.0917327656923, 0.545096764826),
        (6, 0.3, 0.164705123714, 0.126271312833, 0.0917327656923, 0.545096764826),
        (7, 0.4, 0.168825474429, 0.142427926636, 0.140506816053, 0.651931321275),
        (8, 0.5, 0.167709323633, 0.149735216034, 0.198587603036, 0.742885400719),
        (9, 0.6, 0.16124796752, 0.149496509488, 0.264798045891, 0.821702735008),
        (11, 0.75, 0.152583106235, 0.147834903626, 0.332243840815, 0.927642864274),
        (12, 0.75, 0.152583106235, 0.147834903626, 0.332243840815, 0.927642864274),
    ],
}


def with_deaths(rows: pd.DataFrame) -> tuple[Counts, Clusters, Clusters]:
    """The bilateral set's counts and listed limbs with DEATHS' censorings competing, and
    the same limbs listed as if each were its own patient."""
    died = ((rows["event"] == 0) & rows["id"].isin(DEATHS)).astype(int)
    counts = counts_of(rows[["group", "time", "event"]])
    per_time = died.groupby([rows["group"], rows["time"]]).sum()
    counts = replace(counts, competing=per_time.to_numpy(int))
    listed = clusters_of(rows, counts)
    several = rows["id"].map(rows["id"].value_counts()) > 1
    clusters = replace(listed, competing=died[several].to_numpy(int))
    alone = replace(clusters, cluster=np.arange(clusters.cluster.size))
    return counts, clusters, alone


@pytest.mark.parametrize("level", ["A", "B", "C"])
def test_cumulative_incidence_clustered_matches_rs_jackknife_summed_per_patient(level):
    counts, clusters, alone = with_deaths(BILATERAL)
    clustered = cumulative_incidence(counts.of(level), clusters.of(level))
    expected = np.array(R_BILATERAL_INCIDENCE[level])
    assert clustered.time.tolist() == expected[:, 0].tolist()
    assert clustered.estimate == pytest.approx(expected[:, 1], rel=1e-9)
    assert clustered.se == pytest.approx(expected[:, 2], rel=1e-9, abs=1e-12)
    single = cumulative_incidence(counts.of(level), alone.of(level))
    assert single.se == pytest.approx(expected[:, 3], rel=1e-9, abs=1e-12)
    assert single.ci_lower == pytest.approx(expected[:, 4], rel=1e-9, nan_ok=True)
    assert single.ci_upper == pytest.approx(expected[:, 5], rel=1e-9, nan_ok=True)


@pytest.mark.parametrize("level", ["A", "B", "C"])
def test_cumulative_incidence_of_lone_limbs_is_todays_delta_method_and_rs_std_err(level):
    """Collett's delta method (no clusters, as before) and the jackknife of limbs on their
    own are one variance, R's std.err, written two ways (equal to rounding: at F = 1 the
    delta method's cancelling sums leave ~1e-8 where the jackknife gives 0)."""
    counts, _, alone = with_deaths(BILATERAL)
    delta = cumulative_incidence(counts.of(level))
    jackknife = cumulative_incidence(counts.of(level), alone.of(level))
    expected = np.array(R_BILATERAL_INCIDENCE[level])
    assert delta.se == pytest.approx(expected[:, 3], rel=1e-9, abs=1e-7)
    assert delta.se == pytest.approx(jackknife.se, rel=1e-12, abs=1e-7)


def test_the_clustered_incidence_needs_the_listed_limbs_deaths():
    counts, clusters, _ = with_deaths(BILATERAL)
    with pytest.raises(ValueError, match="competing"):
        cumulative_incidence(counts.of("B"), replace(clusters, competing=None).of("B"))


# ---- Cox, robust variance -------------------------------------------------------------------

# R: fit <- coxph(Surv(futime, status) ~ <term>, data = retinopathy, cluster = id)
#    s <- summary(fit); coef(fit), sqrt(diag(fit$var)), s$conf.int[, 3:4],
#    s$coefficients[, "Pr(>|z|)"]
R_RETINOPATHY_COX = {
    "trt": [(-0.776637409574, 0.147460827513, 0.344502021497, 0.614086489413, 1.38869863827e-07)],
    "type": [(0.0216559631512, 0.17333288921, 0.727551670995, 1.43531190837, 0.900572183878)],
    # risk3 <- cut(risk, c(0, 8, 10, 12), labels = c("low", "mid", "high"))
    "risk3": [
        (0.349574692369, 0.261816618722, 0.849101581957, 2.36961106863, 0.181814467359),
        (0.401498341469, 0.284370085077, 0.855681729284, 2.60870379186, 0.157983323972),
    ],
}
# R: the same on d: coxph(Surv(t, e) ~ g, data = d, cluster = id)
R_BILATERAL_COX = [
    (-0.0378536696225, 0.49721106696, 0.363357001219, 2.55145073819, 0.939314087016),
    (-0.0810098766508, 0.549010875157, 0.314411884339, 2.70480998984, 0.882693141605),
]
# R: d$limb <- seq_len(nrow(d)); coxph(Surv(t, e) ~ g, data = d, cluster = limb): every
#    cluster one row, the sandwich all the same (the model SEs are 0.524948638493 and
#    0.522699354042)
R_BILATERAL_COX_SINGLETONS = [
    (-0.0378536696225, 0.503719763461, 0.358751165078, 2.58420760468, 0.940096741148),
    (-0.0810098766508, 0.545280316849, 0.316719213595, 2.6851051947, 0.881896449018),
]


def assert_cox(ratios, expected) -> None:
    for ratio, (coefficient, se, lower, upper, p) in zip(ratios, expected, strict=True):
        assert ratio.coefficient == pytest.approx(coefficient, rel=1e-8)
        assert ratio.se == pytest.approx(se, rel=1e-8)
        assert (ratio.ci_lower, ratio.ci_upper) == pytest.approx((lower, upper), rel=1e-8)
        assert ratio.p == pytest.approx(p, rel=1e-7)


@pytest.mark.parametrize("term", R_RETINOPATHY_COX)
def test_cox_robust_variance_matches_r_on_retinopathy(retinopathy, term):
    counts, clusters = prepared(on(retinopathy, term))
    assert_cox(hazard_ratios(counts, clusters), R_RETINOPATHY_COX[term])


def test_cox_robust_variance_matches_r_on_a_bilateral_set_with_ties():
    counts, clusters = prepared(BILATERAL)
    assert_cox(hazard_ratios(counts, clusters), R_BILATERAL_COX)


def test_cox_with_clusters_of_one_limb_is_rs_sandwich_not_the_model_variance():
    counts = counts_of(BILATERAL[["group", "time", "event"]])
    no_pairs = clusters_of(BILATERAL.iloc[:0], counts)
    assert_cox(hazard_ratios(counts, no_pairs), R_BILATERAL_COX_SINGLETONS)
    model = [ratio.se for ratio in hazard_ratios(counts)]
    assert model == pytest.approx([0.524948638493, 0.522699354042], rel=1e-8)


# ---- the robust score test ------------------------------------------------------------------

# R: summary(coxph(Surv(futime, status) ~ <term>, data = retinopathy, cluster = id))$robscore
#    (test, df, pvalue); "risk3 trend": ~ as.numeric(risk3)
R_RETINOPATHY_ROBSCORE = {
    "trt": (26.3413542954, 1, 2.8609671645e-07),
    "type": (0.0156166647546, 1, 0.90054994915),
    "risk3": (2.35101422537, 2, 0.308662413367),
}
R_RETINOPATHY_TREND = (1.50811561673, 0.219426851846)
# R: ... ~ risk3, data = droplevels(subset(retinopathy, risk3 %in% pair)), cluster = id
R_RETINOPATHY_PAIRS = [
    ("0", "1", 1.9082155322, 0.167161615013),
    ("0", "2", 2.06918656034, 0.150301668117),
    ("1", "2", 0.0704078135026, 0.790743927237),
]
# R: on d: ~ g, cluster = id; ~ as.numeric(factor(g)); each pair: subset(d, g %in% pair);
#    ~ g, cluster = limb (every limb its own cluster)
R_BILATERAL_ROBSCORE = (0.0223191915668, 2, 0.988902441521)
R_BILATERAL_TREND = (0.0220539631394, 0.881943634198)
R_BILATERAL_PAIRS = [
    ("A", "B", 0.0120090745112, 0.912737775262),
    ("A", "C", 0.0232359352367, 0.878845131522),
    ("B", "C", 0.00471981156435, 0.945227713947),
]
R_BILATERAL_ROBSCORE_SINGLETONS = (0.0224678169507, 2, 0.988828956249)


@pytest.mark.parametrize("term", R_RETINOPATHY_ROBSCORE)
def test_robust_score_test_matches_r_robscore_on_retinopathy(retinopathy, term):
    counts, clusters = prepared(on(retinopathy, term))
    test = robust_score(counts, clusters)
    statistic, df, p = R_RETINOPATHY_ROBSCORE[term]
    assert (test.statistic, test.df, test.p) == pytest.approx((statistic, df, p), rel=1e-8)
    assert test.test == ROBUST_SCORE


def test_robust_score_pairs_and_trend_match_r_on_retinopathy(retinopathy):
    counts, clusters = prepared(on(retinopathy, "risk3"))
    pairs = robust_score_pairwise(counts, clusters)
    assert [(pair.level, pair.other) for pair in pairs] == [r[:2] for r in R_RETINOPATHY_PAIRS]
    assert [value for pair in pairs for value in (pair.statistic, pair.p)] == pytest.approx(
        [value for r in R_RETINOPATHY_PAIRS for value in r[2:]], rel=1e-8
    )
    assert {pair.test for pair in pairs} == {ROBUST_SCORE}
    trend = robust_score_trend(counts, clusters)
    assert (trend.statistic, trend.p) == pytest.approx(R_RETINOPATHY_TREND, rel=1e-8)
    assert trend.test == ROBUST_SCORE


def test_robust_score_tests_match_r_on_a_bilateral_set_with_ties():
    counts, clusters = prepared(BILATERAL)
    test = robust_score(counts, clusters)
    assert (test.statistic, test.df, test.p) == pytest.approx(R_BILATERAL_ROBSCORE, rel=1e-8)
    pairs = robust_score_pairwise(counts, clusters)
    assert [(pair.level, pair.other, pair.statistic, pair.p) for pair in pairs] == [
        (level, other, pytest.approx(statistic, rel=1e-8), pytest.approx(p, rel=1e-8))
        for level, other, statistic, p in R_BILATERAL_PAIRS
    ]
    trend = robust_score_trend(counts, clusters)
    assert (trend.statistic, trend.p) == pytest.approx(R_BILATERAL_TREND, rel=1e-8)
    no_pairs = clusters_of(BILATERAL.iloc[:0], counts)
    single = robust_score(counts, no_pairs)
    assert (single.statistic, single.df, single.p) == pytest.approx(
        R_BILATERAL_ROBSCORE_SINGLETONS, rel=1e-8
    )


def test_a_robust_score_whose_variance_is_zero_is_no_test_as_r_gives_nan():
    """Two patients, each with one limb in each group, both at month 1: one patient's limbs
    both censored, the other's both events, so each patient's residuals cancel. R:
    d <- data.frame(id = c(0, 0, 1, 1), g = c(0, 1, 0, 1), t = 1, e = c(0, 0, 1, 1))
    summary(coxph(Surv(t, e) ~ g, data = d, cluster = id))$robscore: test NaN."""
    rows = pd.DataFrame(
        {"id": [0, 0, 1, 1], "group": [0, 1, 0, 1], "time": 1.0, "event": [0, 0, 1, 1]}
    )
    counts, clusters = prepared(rows)
    assert robust_score(counts, clusters) is None
    assert robust_score_trend(counts, clusters) is None
    assert np.isnan(robust_score_pairwise(counts, clusters)[0].p)


def test_robust_pairs_take_holm_as_the_logrank_pairs_do():
    """R: p.adjust(c(0.912737775262, 0.878845131522, 0.945227713947), "holm")."""
    counts, clusters = prepared(BILATERAL)
    p = np.array([pair.p for pair in robust_score_pairwise(counts, clusters)])
    assert holm(p) == pytest.approx([1, 1, 1])
    assert [pair.test for pair in pairwise(counts)] == ["logrank"] * 3
    assert logrank(counts).test == "logrank"


# ---- against rows: lifelines, and what only the pairs add ---------------------------------


@st.composite
def clustered_rows(draw: st.DrawFn, max_groups: int = 3, tied: bool = True) -> pd.DataFrame:
    """Patients with one to three limbs each, the limbs mostly in their patient's group;
    integer months (heavy ties) or, ``tied`` False, distinct times."""
    limbs = draw(st.lists(st.integers(1, 3), min_size=2, max_size=20))
    n = sum(limbs)
    groups = draw(st.integers(1, max_groups))
    own = draw(st.lists(st.integers(0, groups - 1), min_size=len(limbs), max_size=len(limbs)))
    moved = draw(st.lists(st.integers(-1, groups - 1), min_size=n, max_size=n))
    patient = np.repeat(np.arange(len(limbs)), limbs)
    group = np.where(np.array(moved) >= 0, moved, np.array(own)[patient])
    if tied:
        time = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), float)
    else:
        time = 1.0 + 0.5 * np.array(draw(st.permutations(range(n))), float)
    event = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame(
        {"id": patient, "group": group, "time": time, "event": np.array(event, dtype=int)}
    )


def weighted_fit(
    rows: pd.DataFrame, weights: np.ndarray, times: np.ndarray, horizon: float
) -> tuple[np.ndarray, float]:
    """lifelines' weighted Kaplan-Meier at ``times`` and its restricted mean to ``horizon``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = KaplanMeierFitter().fit(rows["time"], rows["event"], weights=weights)
        mean = restricted_mean_survival_time(fitted, t=horizon)
    return fitted.survival_function_.iloc[:, 0].reindex(times).to_numpy(), mean


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clustered_rows(max_groups=1), st.floats(0.5, 12))
def test_clustered_variances_are_the_sum_over_patients_of_their_squared_jackknife(rows, horizon):
    """Each patient's term is the derivative of lifelines' weighted Kaplan-Meier (and of its
    restricted mean) in that patient's weight (every limb of the patient weighted alike),
    by central differences."""
    counts, clusters = prepared(rows)
    curve = kaplan_meier(counts.of("0"), clusters.of("0"))
    horizon = min(horizon, curve.last_time)
    step = 1e-5
    variance, mean_variance = np.zeros(curve.time.size), 0.0
    for patient in rows["id"].unique():
        moved = step * (rows["id"] == patient).to_numpy(float)
        up, up_mean = weighted_fit(rows, 1 + moved, curve.time, horizon)
        down, down_mean = weighted_fit(rows, 1 - moved, curve.time, horizon)
        variance += ((up - down) / (2 * step)) ** 2
        mean_variance += ((up_mean - down_mean) / (2 * step)) ** 2
    inside = curve.estimate > 0
    assert curve.se[inside] ** 2 == pytest.approx(variance[inside], rel=1e-6, abs=1e-12)
    mean = restricted_mean(curve, horizon, clusters.of("0"))
    assert mean.se**2 == pytest.approx(mean_variance, rel=1e-6, abs=1e-12)


def weighted_incidence(rows: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """The Aalen-Johansen estimate with weighted limbs, from its definition: at each time
    F gains S- d / n and S loses the endpoints and deaths, all counted in weight."""
    incidence, free, out = 0.0, 1.0, []
    for time in np.unique(rows["time"]):
        here = (rows["time"] == time).to_numpy()
        at_risk = weights[(rows["time"] >= time).to_numpy()].sum()
        endpoints = weights[here & (rows["event"] == 1).to_numpy()].sum()
        deaths = weights[here & (rows["competing"] == 1).to_numpy()].sum()
        incidence += free * endpoints / at_risk
        free *= 1 - (endpoints + deaths) / at_risk
        out.append(incidence)
    return np.array(out)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clustered_rows(max_groups=1), st.data())
def test_clustered_incidence_variance_is_the_sum_over_patients_of_their_squared_jackknife(
    rows, data
):
    """As for Kaplan-Meier: each patient's term is the derivative of the weighted estimate
    in that patient's weight, by central differences; some censorings are deaths."""
    died = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    rows = rows.assign(competing=((rows["event"] == 0) & np.array(died)).astype(int))
    counts = counts_of(rows[["group", "time", "event"]])
    per_time = rows.groupby(["group", "time"])["competing"].sum()
    counts = replace(counts, competing=per_time.to_numpy(int))
    every = clusters_of(rows, counts, every_limb=True)
    clusters = replace(every, competing=rows["competing"].to_numpy(int))
    incidence = cumulative_incidence(counts.of("0"), clusters.of("0"))
    step, variance = 1e-6, np.zeros(incidence.time.size)
    for patient in rows["id"].unique():
        moved = step * (rows["id"] == patient).to_numpy(float)
        up, down = weighted_incidence(rows, 1 + moved), weighted_incidence(rows, 1 - moved)
        variance += ((up - down) / (2 * step)) ** 2
    assert incidence.se**2 == pytest.approx(variance, rel=1e-6, abs=1e-10)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clustered_rows(max_groups=3, tied=False))
def test_cox_robust_se_matches_lifelines_cluster_col_on_rows(rows):
    counts, clusters = prepared(rows)
    ratios = hazard_ratios(counts, clusters)
    assume(len(ratios) > 0 and all(ratio.estimable for ratio in ratios))
    design = pd.DataFrame(
        {f"g{level}": (rows["group"].astype(str) == level).astype(float)
         for level in counts.levels[1:]}
    )  # fmt: skip
    design[["time", "event", "id"]] = rows[["time", "event", "id"]].to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = CoxPHFitter().fit(design, "time", "event", cluster_col="id", fit_options=TIGHT)
    assume(not any("converge" in str(w.message) for w in caught))
    # lifelines stops Newton-Raphson with its coefficient ~1e-7 from R's and the engine's
    # (which agree to 1e-12 on these rows): an absolute error the sandwich carries over
    assert [ratio.coefficient for ratio in ratios] == pytest.approx(
        fitted.params_.tolist(), rel=1e-5, abs=1e-6
    )
    assert [ratio.se for ratio in ratios] == pytest.approx(
        fitted.standard_errors_.tolist(), rel=1e-5, abs=1e-6
    )


@settings(max_examples=40, deadline=None)
@given(clustered_rows(max_groups=3))
def test_only_patients_with_two_limbs_add_terms(rows):
    """Listing every limb (a patient with one limb a cluster of one) gives the numbers of
    listing only the patients with several; with no patient of two limbs, Greenwood's."""
    counts, clusters = prepared(rows)
    every = clusters_of(rows, counts, every_limb=True)
    for level in counts.levels:
        some = kaplan_meier(counts.of(level), clusters.of(level))
        whole = kaplan_meier(counts.of(level), every.of(level))
        np.testing.assert_allclose(some.se, whole.se, rtol=1e-12, atol=1e-15)
        horizon = some.last_time
        mean_some = restricted_mean(some, horizon, clusters.of(level))
        mean_whole = restricted_mean(some, horizon, every.of(level))
        assert mean_some.se == pytest.approx(mean_whole.se, rel=1e-12, abs=1e-15)
        alone = rows.assign(id=np.arange(len(rows)))
        single = kaplan_meier(
            counts.of(level), clusters_of(alone, counts, every_limb=True).of(level)
        )
        greenwood = kaplan_meier(counts.of(level))
        np.testing.assert_allclose(single.se, greenwood.se, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(single.ci_lower, greenwood.ci_lower, rtol=1e-12)
    some_hr, every_hr = hazard_ratios(counts, clusters), hazard_ratios(counts, every)
    np.testing.assert_allclose([r.se for r in some_hr], [r.se for r in every_hr], rtol=1e-10)
    some_test, every_test = robust_score(counts, clusters), robust_score(counts, every)
    if some_test is not None:
        assert some_test.statistic == pytest.approx(every_test.statistic, rel=1e-9, abs=1e-12)


def test_a_listed_limb_missing_from_the_counts_is_refused_in_plain_words():
    counts, clusters = prepared(BILATERAL)
    stray = Clusters(
        levels=counts.levels,
        cluster=np.array([1, 1]),
        group=np.array([0, 0]),
        time=np.array([1.0, 13.0]),
        event=np.array([0, 1]),
    )
    with pytest.raises(ValueError, match=UNCOUNTED_LIMB):
        kaplan_meier(counts.of("A"), stray.of("A"))
    with pytest.raises(ValueError, match=UNCOUNTED_LIMB):
        hazard_ratios(counts, stray)
    with pytest.raises(ValueError, match=UNCOUNTED_LIMB):
        kaplan_meier(counts.of("A"), clusters)  # every level's limbs for one level's curve


def test_a_patient_with_three_limbs_gives_three_pairs():
    three = Clusters(
        levels=("A",),
        cluster=np.array([7, 3, 7, 3, 7, 9]),
        group=np.zeros(6, dtype=int),
        time=np.arange(6.0),
        event=np.ones(6, dtype=int),
    )
    first, second = three.pairs()
    found = sorted(
        tuple(sorted(pair)) for pair in zip(first.tolist(), second.tolist(), strict=True)
    )
    assert found == [(0, 2), (0, 4), (1, 3), (2, 4)]
