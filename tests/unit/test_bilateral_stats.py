"""Subgroups, centres, models and clinical change in a registry where patients have two
treated limbs: limb estimates clustered by patient, equal to R.

The registry is R's ``retinopathy`` as limbs (tests.cohorts.retinopathy_registry: the
treated eye a left limb, the other a right one; adult-onset diabetes the patient's
diabetes; an eye's risk >= 10 that limb's urokinase; centre C1-C3 by id). References from
R 4.2.2, survival 3.5.3, with

    r <- retinopathy
    r$side <- factor(ifelse(r$trt == 1, "left", "right"), levels = c("left", "right"))
    r$diab <- factor(ifelse(r$type == "adult", "yes", "no"), levels = c("no", "yes"))
    r$uro <- factor(ifelse(r$risk >= 10, "yes", "no"), levels = c("no", "yes"))
    r$center <- paste0("C", r$id %% 3 + 1)

and the calls beside each reference.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from analytics.filters import CohortFilter
from analytics.stats.subgroups import subgroups
from tests.cohorts import retinopathy_registry
from tests.unit.test_engine_clustered import RETINOPATHY

# for (v in c("side", "diab", "uro")) {
#   s <- summary(survfit(as.formula(paste("Surv(futime, status) ~", v)), data = r,
#                        cluster = id, conf.type = "log-log"), times = 12)
#   cbind(s$surv, s$std.err, s$lower, s$upper)
#   f <- coxph(as.formula(paste("Surv(futime, status) ~", v)), data = r, cluster = id)
#   summary(f)$robscore; c(coef(f), sqrt(f$var), exp(confint(f))) }
R_SUBGROUP_KM = {  # (factor, level): estimate, std.err, lower, upper at 12 months
    ("lesion_side", "left"): (0.885843580538, 0.0229194811007, 0.831785845139, 0.923323727472),
    ("lesion_side", "right"): (0.782939906967, 0.0296592389487, 0.717887963474, 0.834720386953),
    ("diabetes", "no"): (0.828466947487, 0.0275979604957, 0.766264865200, 0.875455741560),
    ("diabetes", "yes"): (0.842324984412, 0.0298021359659, 0.773335975724, 0.891771555777),
    ("urokinase", "no"): (0.911081203012, 0.0203960542263, 0.861421528031, 0.943523415750),
    ("urokinase", "yes"): (0.758679913208, 0.0309178086085, 0.691565903968, 0.813169879805),
}
R_SUBGROUP_COX = {  # factor: robust score p, coef, robust SE, HR CI of the second level
    "lesion_side": (2.86096716450e-07, 0.776637409574, 0.147460827513, 1.628435110102,
                    2.902740586698),
    "diabetes": (0.9005499491499, 0.0216559631512, 0.1733328892098, 0.7275516709948,
                 1.4353119083654),
    "urokinase": (3.60530423574e-05, 0.713820763950, 0.170212088619, 1.462593457320,
                  2.850317316989),
}  # fmt: skip
# l <- subset(r, side == "left"): every patient one limb in the filter
# f <- coxph(Surv(futime, status) ~ diab, data = l, cluster = id)   (and ~ uro)
# summary(f)$robscore; c(coef(f), sqrt(f$var), exp(confint(f)))
R_LEFT_COX = {
    "diabetes": (0.0781069480017, -0.492704925755, 0.286759752599, 0.348281675912,
                 1.071793980227),
    "urokinase": (0.0162026772242, 0.671885639439, 0.279349195761, 1.132436240077,
                  3.385156038136),
}  # fmt: skip


@pytest.fixture(scope="module")
def registry():
    con = retinopathy_registry()
    yield con
    con.close()


def eyes() -> pd.DataFrame:
    """retinopathy one row per eye, as the registry holds it (side, diabetes, urokinase)."""
    rows = []
    for pid, kind, *eye in np.array(RETINOPATHY.split()).reshape(-1, 8):
        for side, (risk, time, status) in (("left", eye[0:3]), ("right", eye[3:6])):
            rows.append({
                "id": int(pid), "lesion_side": side, "diabetes": "yes" if kind == "a" else "no",
                "urokinase": "yes" if int(risk) >= 10 else "no", "t": float(time),
                "e": int(status),
            })  # fmt: skip
    return pd.DataFrame(rows)


def test_subgroup_estimates_are_clustered_by_patient_as_r_gives_them(registry):
    table = subgroups(registry, CohortFilter(), "primary", 12).table.set_index(["factor", "level"])
    for (factor, level), expected in R_SUBGROUP_KM.items():
        row = table.loc[(factor, level)]
        estimate, _se, lower, upper = expected
        assert (row["estimate"], row["ci_lower"], row["ci_upper"]) == pytest.approx(
            (estimate, lower, upper), rel=1e-9
        )
    for factor, (p, coef, _se, lower, upper) in R_SUBGROUP_COX.items():
        rows = table.loc[factor]
        second = rows.iloc[1]
        assert (second["hr"], second["hr_lower"], second["hr_upper"]) == pytest.approx(
            (np.exp(coef), lower, upper), rel=1e-8
        )
        assert rows["logrank_p"].tolist() == pytest.approx([p, p], rel=1e-6)
        assert set(rows["comparison_test"]) == {"robust_score"}


def test_subgroups_of_a_filter_holding_one_limb_of_each_patient_stay_clustered(registry):
    """The file is bilateral, so the comparison is the robust one even where the filter
    keeps one limb per patient (numbers do not jump as a patient's second limb enters);
    a curve without a patient's two limbs is Greenwood's, as lifelines gives it."""
    from lifelines import KaplanMeierFitter

    table = subgroups(registry, CohortFilter(lesion_side="left"), "primary", 12).table
    table = table.set_index(["factor", "level"])
    for factor, (p, coef, _se, lower, upper) in R_LEFT_COX.items():
        second = table.loc[factor].iloc[1]
        assert (second["hr"], second["hr_lower"], second["hr_upper"]) == pytest.approx(
            (np.exp(coef), lower, upper), rel=1e-8
        )
        assert second["logrank_p"] == pytest.approx(p, rel=1e-6)
        assert second["comparison_test"] == "robust_score"
    left = eyes().query("lesion_side == 'left'")
    for level in ("no", "yes"):
        rows = left[left["diabetes"] == level]
        fit = KaplanMeierFitter().fit(rows["t"], rows["e"])
        ci = fit.confidence_interval_survival_function_.iloc[:, :].to_numpy()
        at = np.searchsorted(fit.timeline, 12.0, side="right") - 1
        row = table.loc[("diabetes", level)]
        assert row["estimate"] == pytest.approx(fit.survival_function_.iloc[at, 0], rel=1e-12)
        assert (row["ci_lower"], row["ci_upper"]) == pytest.approx(tuple(ci[at]), rel=1e-9)


@pytest.fixture
def searches(monkeypatch) -> dict[str, list[int]]:
    """How many limbs each search for their times and each pairing was given."""
    from analytics.stats import subgroups as subgroups_module
    from analytics.stats.engine import counts as engine_counts

    seen: dict[str, list[int]] = {"locate": [], "pairs": []}
    locate, pairs = engine_counts.locate, engine_counts.Clusters.pairs

    def counted_locate(times: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        seen["locate"].append(wanted.size)
        return locate(times, wanted)

    def counted_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        seen["pairs"].append(self.cluster.size)
        return pairs(self)

    for module in (engine_counts, subgroups_module):
        monkeypatch.setattr(module, "locate", counted_locate, raising=False)
    monkeypatch.setattr(engine_counts.Clusters, "pairs", counted_pairs)
    return seen


def test_the_subgroups_search_and_pair_the_limbs_once_for_every_factor(registry, searches):
    """Every factor's hazard ratios, robust score test and curves read one search of the
    limbs' times and one pairing, with R's numbers (above)."""
    table = subgroups(registry, CohortFilter(), "primary", 12).table.set_index(["factor", "level"])
    p, coef, _se, lower, upper = R_SUBGROUP_COX["urokinase"]
    treated = table.loc[("urokinase", "yes")]
    assert (treated["hr"], treated["hr_lower"], treated["hr_upper"]) == pytest.approx(
        (np.exp(coef), lower, upper), rel=1e-8
    )
    assert treated["logrank_p"] == pytest.approx(p, rel=1e-6)
    estimate, _se, lower, upper = R_SUBGROUP_KM[("lesion_side", "right")]
    right = table.loc[("lesion_side", "right")]
    assert (right["estimate"], right["ci_lower"], right["ci_upper"]) == pytest.approx(
        (estimate, lower, upper), rel=1e-9
    )
    assert searches == {"locate": [len(eyes())], "pairs": [len(eyes())]}


def test_subgroups_of_a_registry_of_one_limb_per_patient_name_the_logrank(registry_path):
    import duckdb

    with duckdb.connect(str(registry_path), read_only=True) as con:
        table = subgroups(con, CohortFilter(), "primary", 12).table
    assert set(table["comparison_test"]) == {"logrank"}


# s <- summary(survfit(Surv(futime, status) ~ center, data = r, cluster = id,
#                      conf.type = "log-log"), times = 12)
# cbind(s$surv, s$std.err, s$lower, s$upper)
R_CENTRES = {
    "C1": (0.820258970997, 0.0387323724365, 0.728988713840, 0.883207947265),
    "C2": (0.865514266962, 0.0300074314879, 0.793580462555, 0.913724054921),
    "C3": (0.812864251662, 0.0370937708940, 0.726845718701, 0.874105876513),
}
# o <- summary(survfit(Surv(futime, status) ~ 1, data = r, cluster = id), times = 12)
# g <- summary(survfit(Surv(futime, status) ~ 1, data = r), times = 12)
# c(o$surv, o$std.err, g$std.err)
R_POOLED = (0.8343203669542, 0.0203188353272, 0.0189302688063)


def test_centre_estimates_are_clustered_and_the_limits_widened_by_the_design_effect(registry):
    from analytics.stats.funnel import centre_patency
    from tests.unit.test_centres import interpolated_limit

    comparison = centre_patency(registry, CohortFilter(), 12)
    pooled, clustered_se, greenwood_se = R_POOLED
    design_effect = (clustered_se / greenwood_se) ** 2
    assert comparison.pooled == pytest.approx(pooled, rel=1e-12)
    assert comparison.design_effect == pytest.approx(design_effect, rel=1e-9)
    for row in comparison.centres.itertuples():
        estimate, _se, lower, upper = R_CENTRES[row.centre]
        assert (row.estimate, row.ci_lower, row.ci_upper) == pytest.approx(
            (estimate, lower, upper), rel=1e-9
        )
        effective = round(row.patients / design_effect)
        assert (row.lower_95, row.upper_95, row.lower_998, row.upper_998) == pytest.approx(
            [interpolated_limit(q, effective, pooled) for q in (0.025, 0.975, 0.001, 0.999)],
            abs=1e-9,
        )
        assert row.z == pytest.approx(
            (estimate - pooled) / np.sqrt(pooled * (1 - pooled) * design_effect / row.patients),
            rel=1e-9,
        )


def test_the_centres_curves_read_one_search_of_their_limbs(registry, searches):
    """The pooled curve searches its limbs' times, the centres' curves share one more."""
    from analytics.stats.funnel import centre_patency

    comparison = centre_patency(registry, CohortFilter(), 12)
    for row in comparison.centres.itertuples():
        estimate, _se, lower, upper = R_CENTRES[row.centre]
        assert (row.estimate, row.ci_lower, row.ci_upper) == pytest.approx(
            (estimate, lower, upper), rel=1e-9
        )
    assert searches["locate"] == [len(eyes()), len(eyes())]


def test_clinical_change_says_its_pairs_are_limbs_when_a_patient_has_two(registry):
    from analytics.glossary import CLINICAL_TWO_LIMBS
    from analytics.stats.clinical import clinical_change

    assert clinical_change(registry, CohortFilter()).notes == (CLINICAL_TWO_LIMBS,)
    # the filter splits every patient's limbs: one limb each, nothing to say
    assert clinical_change(registry, CohortFilter(lesion_side="left")).notes == ()


def test_clinical_change_of_one_limb_per_patient_has_no_note(registry_path):
    import duckdb

    from analytics.stats.clinical import clinical_change

    with duckdb.connect(str(registry_path), read_only=True) as con:
        assert clinical_change(con, CohortFilter()).notes == ()


def test_the_report_and_deck_carry_the_clinical_note(registry_path):
    """Rendered wherever the clinical results are: the report's JSON and text, the deck's
    clinical slide (its speaker notes). On the one-limb registry with the note put in, as
    a filter holding a patient's two limbs gives it."""
    import dataclasses

    import duckdb
    from pptx import Presentation

    from analytics.glossary import CLINICAL_TWO_LIMBS
    from analytics.present.deck import build_deck
    from analytics.present.report import report_json, report_text
    from analytics.views import deck_view, report_view

    def noted(view):
        clinical = dataclasses.replace(view.clinical, notes=(CLINICAL_TWO_LIMBS,))
        return dataclasses.replace(view, clinical=clinical)

    with duckdb.connect(str(registry_path), read_only=True) as con:
        plain = report_view(con, CohortFilter())
        deck = deck_view(con, CohortFilter())
    assert report_json(plain)["clinical"]["notes"] == []
    assert report_json(noted(plain))["clinical"]["notes"] == [CLINICAL_TWO_LIMBS]
    assert CLINICAL_TWO_LIMBS not in report_text(plain)
    assert CLINICAL_TWO_LIMBS in report_text(noted(plain))
    deck = dataclasses.replace(deck, report=noted(deck.report))
    slides = Presentation(io.BytesIO(build_deck(deck))).slides
    notes = [s.notes_slide.notes_text_frame.text for s in slides if s.has_notes_slide]
    assert any(CLINICAL_TWO_LIMBS in text for text in notes)


# f <- coxph(Surv(futime, status) ~ side + diab + uro, data = r, cluster = id,
#            ties = "efron")     (17 tied event times)
# cbind(coef(f), sqrt(diag(f$var)))
R_MODEL = {
    "lesion_side=right": (0.8050235921633, 0.152504121242),
    "diabetes=yes": (0.0697022565513, 0.178048145195),
    "urokinase=yes": (0.7416445841047, 0.168853853990),
}
# the crude terms: coxph(Surv(futime, status) ~ <one>, data = r, cluster = id)
R_CRUDE = {
    "lesion_side=right": (0.776637409574, 0.147460827513),
    "diabetes=yes": (0.0216559631512, 0.1733328892098),
    "urokinase=yes": (0.713820763950, 0.170212088619),
}
# a recurrent DVT at month 6 for patients whose id is a multiple of 5, time-varying:
# r$rdvt <- ifelse(r$id %% 5 == 0, 6, NA)
# cp <- survSplit(Surv(futime, status) ~ ., data = r, cut = 6, episode = "period")
# cp$dvt <- as.numeric(!is.na(cp$rdvt) & cp$tstart >= 6)
# f <- coxph(Surv(tstart, futime, status) ~ diab + dvt, data = cp, cluster = id,
#            ties = "efron"); cbind(coef(f), sqrt(diag(f$var)))
R_TIME_VARYING = {
    "diabetes=yes": (0.0258165334097, 0.173520803091),
    "recurrent_dvt": (0.2425766362684, 0.240649866076),
}


def assert_terms(terms, expected):
    assert [t.term for t in terms] == list(expected)
    for term in terms:
        coef, se = expected[term.term]
        assert (term.coef, term.se) == pytest.approx((coef, se), rel=1e-7)
        assert (term.ci_lower, term.ci_upper) == pytest.approx(
            (np.exp(coef - 1.959963984540054 * se), np.exp(coef + 1.959963984540054 * se)),
            rel=1e-7,
        )


def test_the_adjusted_model_of_limbs_has_r_robust_variance_with_efron_ties(registry):
    from analytics.glossary import MODEL_CLUSTERED
    from analytics.stats.models import adjusted_model

    model = adjusted_model(
        registry, CohortFilter(), "primary", ["lesion_side", "diabetes", "urokinase"]
    )
    assert (model.patients, model.clustered) == (394, True)
    assert_terms(model.terms, R_MODEL)
    assert_terms(model.crude, R_CRUDE)
    assert MODEL_CLUSTERED in model.notes


def test_the_time_varying_model_of_limbs_is_clustered_by_patient_as_r_gives_it():
    from analytics.cohort.summary import SUMMARY_TABLE, create_summary
    from analytics.stats.models import adjusted_model

    con = retinopathy_registry()
    patients = [p for (p,) in con.execute("SELECT patient_id FROM patients").fetchall()]
    con.executemany(
        "INSERT INTO events (patient_id, limb_id, month, event) "
        "VALUES (?, NULL, 6, 'recurrent_dvt')",
        [[p] for p in patients if int(p[1:]) % 5 == 0],
    )
    con.execute(f"DROP TABLE {SUMMARY_TABLE}")
    create_summary(con)
    model = adjusted_model(con, CohortFilter(), "primary", ["diabetes", "recurrent_dvt"])
    con.close()
    assert model.time_varying and model.clustered
    assert_terms(model.terms, R_TIME_VARYING)


def test_a_patient_endpoint_is_modelled_on_one_row_per_patient(registry):
    from analytics.stats.models import adjusted_model

    model = adjusted_model(registry, CohortFilter(), "recurrent_dvt", ["diabetes", "urokinase"])
    assert (model.patients + model.excluded, model.clustered) == (197, False)


def test_the_robust_variance_equals_lifelines_without_ties():
    """Without tied event times lifelines' clustered sandwich is R's: the two agree."""
    from lifelines import CoxPHFitter

    from analytics.stats.robust_cox import robust_variance

    rng = np.random.default_rng(3)
    n = 120
    rows = pd.DataFrame({
        "t": rng.permutation(np.arange(1, n + 1)) + rng.uniform(0, 0.5, n),
        "e": rng.uniform(size=n) < 0.7, "x1": rng.normal(size=n),
        "x2": (rng.uniform(size=n) < 0.4).astype(float), "id": np.arange(n) // 2,
    })  # fmt: skip
    fit = CoxPHFitter().fit(rows, "t", "e", cluster_col="id", robust=True)
    naive = CoxPHFitter().fit(rows.drop(columns="id"), "t", "e")
    variance = robust_variance(
        rows["t"].to_numpy(), rows["e"].to_numpy(), rows[["x1", "x2"]].to_numpy(),
        naive.params_.to_numpy(), naive.variance_matrix_.to_numpy(), rows["id"].to_numpy(),
    )  # fmt: skip
    assert np.sqrt(np.diag(variance)) == pytest.approx(fit.standard_errors_.to_numpy(), rel=1e-6)


def test_recurrent_dvt_subgroups_count_each_patient_once_as_the_comparison_does(bilateral_path):
    """Recurrent DVT is a patient's endpoint: its subgroups count each patient once, on the
    first of their limbs in the filter, as the Patency page's comparison does, so the deck
    that shows both (by side, on recurrent DVT) declares one count once (it raised "one
    count, two values" when the subgroups counted a bilateral patient's event twice)."""
    from analytics import views
    from analytics.cohort.db import open_cohort
    from analytics.present.deck import build_deck

    con = open_cohort(str(bilateral_path))
    try:
        rows = con.execute(
            "SELECT patient_key, limb_order, lesion_side, tte_recurrent_dvt_event AS e "
            "FROM limb_summary WHERE technical_success AND tte_recurrent_dvt_months IS NOT NULL"
        ).df()
        view = views.subgroups_view(con, CohortFilter(), "recurrent_dvt")
        deck = build_deck(views.deck_view(con, CohortFilter(), "lesion_side", "recurrent_dvt"))
    finally:
        con.close()
    first = rows.sort_values("limb_order").drop_duplicates("patient_key")
    assert len(first) < len(rows)  # some patients have two limbs
    assert (view.patients, view.events) == (len(first), int(first.e.sum()))
    by_side = view.table[view.table.factor == "lesion_side"].set_index("level")
    for side, limbs in first.groupby("lesion_side"):
        assert (by_side.at[side, "patients"], by_side.at[side, "events"]) == (
            len(limbs), int(limbs.e.sum()))  # fmt: skip
    assert deck[:2] == b"PK"
