"""The counts engine: exact estimators computed from per-time or per-difference counts.

Every estimator here takes counts (events and censorings per group and time, or
patients per paired difference), never one row per patient, so its cost follows
distinct times, not patients, and a call costs well under a millisecond. The
results equal lifelines, SciPy and R's survival package on the same data expanded to
one row per patient (tests/unit/test_engine_*.py, with the R values and their calls).

- :mod:`.counts`: the (group, time) grid every survival estimator reads, and the limbs
  of patients with two or more limbs (:class:`~.counts.Clusters`), all the clustered
  variance needs beyond the counts; a :class:`~.counts.Layout` places a split's limbs on
  its grid and pairs them once for its hazard ratios, robust score tests and curves;
- :mod:`.kaplan_meier`: Kaplan-Meier with Greenwood's SE (or, limbs clustered in
  patients, R's ``cluster = patient_id`` SE) and the log(-log) CI, estimates at months and
  the KMunicate risk table;
- :mod:`.logrank`: the k-group log-rank test, optionally stratified, the test of each
  pair of groups and the test for trend across ordered groups;
- :mod:`.cox`: Cox regression on one categorical factor, Efron ties counted over
  patients, with the model or the robust (sandwich) variance;
- :mod:`.robust_score`: for limbs clustered in patients, the robust score test in place
  of the log-rank test (k groups, each pair, trend);
- :mod:`.signed_rank`: the Wilcoxon signed-rank test from a table of differences;
- :mod:`.hodges_lehmann`: the median paired change and its CI from the same table (R's
  ``wilcox.test(conf.int = TRUE)``);
- :mod:`.square_table`: Bowker's symmetry and Stuart-Maxwell's marginal homogeneity on
  a before/after table of counts (statsmodels' ``SquareTable``);
- :mod:`.median`: the median time of a curve and its CI (R's ``survfit`` rule);
- :mod:`.restricted_mean`: the restricted mean time to a horizon, its SE (R's
  ``rmean``, or clustered by patient as R's collapsed ``rmst`` residuals) and the
  difference between groups;
- :mod:`.aalen_johansen`: the cumulative incidence with death competing, its SE by the
  delta method or clustered by patient.

Everything fitted on patient rows (multivariable Cox) stays with lifelines.
"""
