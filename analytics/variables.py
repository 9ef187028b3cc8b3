"""Every variable a cohort can be filtered, grouped, described or adjusted by, declared once.

A :class:`Variable` says what a column holds (its kind, label, levels, unit, range and
bands) and which roles it plays: a filter, a grouping, a Table 1 row, a model covariate,
a row of the subgroup forest. What each role shows derives from a :class:`Registry` of
declarations: :data:`BUILTIN` here, which a cohort file's own declarations extend at run
time (:meth:`Registry.extended`), so no derivation may assume the set of variables is
known at import time.

No SQL here: a column is a validated identifier, and the layers that build SQL
(analytics.groups, analytics.filters) quote it. A declaration is all a variable over an
existing column needs; a new *column* also touches what cannot derive from it: the schema
(data/schema.sql), the import template and its spellings (analytics/cohort/template.py,
dictionary.py), the synthetic generator (synth.py) and the demo reconstruction (demo.py).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Literal

from analytics.rules import (
    AGE_BAND_CUTS,
    AGE_YEARS_RANGE,
    BMI_RANGE,
    COVARIATE_UNITS,
    DURATION_BAND_CUT,
)

YES, NO = "yes", "no"  # the raw values of a yes/no group, in SQL, JSON and links
TRUE_WORDS = frozenset({"true", "yes", "1", "y"})  # what a yes/no field accepts, any case
FALSE_WORDS = frozenset({"false", "no", "0", "n"})
YES_NO = {NO: "No", YES: "Yes"}  # how they show

# A key or column: lower-case, so that a quoted identifier names the same column unquoted.
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")
# A level's raw value (links, JSON, SQL literals): no quote, no Markdown or HTML but the
# band signs ("< 60", ">= 75").
LEVEL_TEXT = re.compile(r"[A-Za-z0-9 _.+<>=-]{1,64}")
# A label, a level's shown text, a unit, a Table 1 row: words, no Markdown or HTML.
LABEL_TEXT = re.compile(r"[^\W_][\w .,:;'()+/²±-]{0,79}")
# Keys a variable may not claim: the link's view parameters (ui.state.VIEW_PARAMS), the
# cohort's name, the Models page's widget keys (a widget's key is its parameter's), and
# the patient identifier, which no filter, grouping or covariate may expose.
RESERVED = frozenset(
    {
        "cohort", "privacy", "privacy_k", "present", "screen", "by", "endpoint", "ci",
        "cuminc", "unreliable", "month", "months", "xmax", "unit", "min_at_risk", "ref",
        "landmark", "adjust", "model_endpoint", "model_covariates", "model_recurrent_dvt", "scope",
        "patient_id",
    }
)  # fmt: skip
POPULATION = "population"  # the filter key of the one yes/no variable that picks a population
SEGMENT_KEYS = ("segments", "segment_match")  # a segment set's filters besides its pattern

# The sidebar's sections, in order; a filter names its section ("" the top, unfolded).
TOP, SEGMENT_SECTION, RISK_SECTION, MEASURE_SECTION = (
    "", "Venous segments", "Risk factors", "Age, BMI, centre",
)  # fmt: skip
# The registry's lesion, stent and therapy fields (cohort format 4), folded last but for
# the registry's own columns (cohort format 7: analytics.cohort.own_columns).
DEVICE_SECTION = "Lesion, stents and therapy"
OWN_SECTION = "This registry's variables"
SECTIONS = (TOP, SEGMENT_SECTION, RISK_SECTION, MEASURE_SECTION, DEVICE_SECTION, OWN_SECTION)


class DeclarationError(ValueError):
    """A declaration that cannot be used; the message names the variable and why."""


class FilterError(ValueError):
    """A filter or grouping asked for in text (a link, ``--where``, ``--by``) that cannot be
    used; the message names the key and the value. Here, below the filter (analytics.filters)
    and the groupings (analytics.groups), so that either may build on the other."""


def quoted(column: str) -> str:
    """A declared column as an SQL identifier; anything but a plain identifier is refused.
    Here, below every layer that builds SQL (the cohort file, the filters, the groupings),
    so that each quotes a column the one way."""
    if not IDENTIFIER.fullmatch(column):
        raise FilterError(f"{column!r} is not a column name")
    return f'"{column}"'


class Kind(StrEnum):
    """What a variable's values are, which fixes how every role treats it."""

    YES_NO = "yes_no"  # a boolean column: levels no, yes (NULL: unknown)
    CATEGORY = "category"  # coded text, levels declared in display order, or from the data
    ORDERED = "ordered"  # a category whose declared levels have an order (the trend test)
    NUMBER = "number"  # a measure: a range filter, bands to group by, a per-unit covariate
    SEGMENT_SET = "segment_set"  # yes/no members read together; its key is their pattern
    TIME_VARYING = "time_varying"  # from the events table, changing over follow-up; no column


class Level(StrEnum):
    """What one row of the variable's table is: a patient, or one treated limb."""

    PATIENT = "patient"
    LIMB = "limb"


class Role(StrEnum):
    """Where a variable shows."""

    FILTER = "filter"
    GROUPING = "grouping"
    TABLE1 = "table1"
    COVARIATE = "covariate"
    FOREST = "forest"


@dataclass(frozen=True)
class Bands:
    """A measure's bands to group by, cut at whole numbers.

    ``closed="left"`` puts a cut in the band above it, for a whole-number measure (age:
    ``< 60``, ``60-74``, ``>= 75``); ``"right"`` puts its one cut in the band below (DVT
    duration: ``<= 12 months``, ``> 12 months``). The labels are the groups' raw values,
    kept in links, JSON and ``--reference``.
    """

    key: str
    label: str
    cuts: tuple[int, ...]
    closed: Literal["left", "right"] = "left"
    suffix: str = ""

    @property
    def levels(self) -> tuple[str, ...]:
        cuts, unit = self.cuts, self.suffix
        if self.closed == "right":
            return (f"<= {cuts[0]}{unit}", f"> {cuts[0]}{unit}")
        middle = (f"{low}-{high - 1}{unit}" for low, high in pairwise(cuts))
        return (f"< {cuts[0]}{unit}", *middle, f">= {cuts[-1]}{unit}")


@dataclass(frozen=True)
class Range:
    """A measure's filter: ``{stem}_min`` and ``{stem}_max``, each from ``low`` to ``high``
    (``step`` the widget's; ``integer`` whether a value is a whole number)."""

    stem: str
    low: float
    high: float
    step: float
    integer: bool

    @property
    def keys(self) -> tuple[str, str]:
        return f"{self.stem}_min", f"{self.stem}_max"


@dataclass(frozen=True)
class Table1Row:
    """A variable's Table 1 row: its label and how it is summarised.

    ``share`` counts the patients (or limbs: the variable's Level) at ``level`` (``yes``
    for a yes/no variable); ``levels`` counts each declared level, one row
    ``"{row}: {shown}"`` each; a segment set has one share row per published pattern,
    ``"{row}: {pattern}"``. The spreads add " (range)" to the label where they show it
    (not under privacy). ``unrecorded`` names the level that says a value was not
    recorded: a row whose every patient or limb is NULL or at that level is left out, so
    a registry that does not record a field has no empty row for it.
    """

    row: str
    summary: Literal["share", "levels", "mean_sd_range", "mean_sd", "mean_range"] = "share"
    level: str = YES
    digits: int = 1
    unrecorded: str = ""


@dataclass(frozen=True)
class Variable:
    """One variable, declared once.

    ``key`` names it in links, JSON, ``--where``/``--by``/``--adjust`` (for a built-in,
    its column). ``levels`` are ``(raw, shown)`` pairs in display order; a category
    without them takes its levels from the data and cannot be a forest row. ``ranks``
    place it within a role (lowest first) where a role's order is not the declaration
    order; unranked variables follow the ranked ones in declaration order, so a cohort's
    own variables come after the built-ins. ``population`` makes a yes/no variable the
    ``population`` filter: ``(raw, shown)`` of "only where it holds" and of "everyone".
    ``level`` is its unit: a patient's variable is counted once per patient in Table 1
    (from the patient's first limb in the filter), a limb's once per limb.
    """

    key: str
    column: str
    kind: Kind
    label: str
    long_label: str = ""
    level: Level = Level.PATIENT
    levels: tuple[tuple[str, str], ...] = ()
    unit: str = ""
    per: int | None = None  # a covariate's clinical unit: its hazard ratio is per this much
    bands: Bands | None = None
    range: Range | None = None
    table1: Table1Row | None = None
    roles: tuple[Role, ...] = ()
    section: str = TOP
    ranks: tuple[tuple[Role, int], ...] = ()
    members: tuple[str, ...] = ()  # a segment set's yes/no members, central to peripheral
    rows: tuple[str, ...] = ()  # a segment set's published Table 1 patterns
    population: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", tuple(r for r in Role if r in set(self.roles)))
        object.__setattr__(self, "ranks", tuple(sorted(self.ranks)))

    def has(self, role: Role) -> bool:
        return role in self.roles

    def rank(self, role: Role) -> float:
        return dict(self.ranks).get(role, math.inf)

    @property
    def grouping_key(self) -> str:
        """What ``by=`` names: the bands' key for a measure, else the variable's."""
        return self.bands.key if self.bands else self.key

    @property
    def grouping_label(self) -> str:
        return self.bands.label if self.bands else self.label

    @property
    def level_order(self) -> tuple[str, ...]:
        """The raw levels in display order; () where they come from the data, or have no
        order (a segment set's patterns sort alphabetically)."""
        if self.kind is Kind.YES_NO:
            return (NO, YES)
        if self.bands:
            return self.bands.levels
        return tuple(raw for raw, _ in self.levels)

    @property
    def coded(self) -> bool:
        """Whether its groups are known from the declaration (not from the data)."""
        return self.kind is Kind.SEGMENT_SET or bool(self.level_order)

    @property
    def is_flag(self) -> bool:
        """A yes/no filter of its own (a risk factor), written last in a filter's text."""
        return self.kind is Kind.YES_NO and self.has(Role.FILTER) and not self.population

    @property
    def filter_keys(self) -> tuple[str, ...]:
        """The filter parameters it adds, each kind its own."""
        if not self.has(Role.FILTER):
            return ()
        if self.population:
            return (POPULATION,)
        if self.kind is Kind.NUMBER and self.range:
            return self.range.keys
        if self.kind is Kind.SEGMENT_SET:
            return (*SEGMENT_KEYS, self.key)
        return (self.key,)

    @property
    def covariate_label(self) -> str:
        """A measure's label says its unit ("Age (per 10 years)")."""
        if self.kind is Kind.NUMBER:
            return f"{self.label} (per {self.per} {self.unit})"
        if self.kind is Kind.TIME_VARYING:
            return f"{self.label} (time-varying)"
        return self.label

    @property
    def names(self) -> frozenset[str]:
        """Every key it claims: its own, its grouping's and its filters'."""
        return frozenset({self.key, self.grouping_key, *self.filter_keys})


@dataclass(frozen=True, eq=False)
class Registry:
    """Declared variables, validated as a whole, and what each role derives from them.

    Equal and hashed by a fingerprint of the declarations, so that a filter carrying it
    stays a cheap cache key; it pickles as its declarations.
    """

    variables: tuple[Variable, ...]
    fingerprint: str = field(init=False, repr=False)
    _keys: dict[str, Variable] = field(init=False, repr=False)
    _groupings: dict[str, Variable] = field(init=False, repr=False)
    _roles: dict[Role, tuple[Variable, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        variables = tuple(self.variables)
        for variable in variables:
            _check(variable)
        _check_together(variables)
        digest = hashlib.sha256(repr(variables).encode()).hexdigest()
        position = {v.key: i for i, v in enumerate(variables)}
        roles = {
            role: tuple(
                sorted(
                    (v for v in variables if v.has(role)),
                    key=lambda v, r=role: (v.rank(r), position[v.key]),
                )
            )
            for role in Role
        }
        grouped = {v.grouping_key: v for v in roles[Role.GROUPING]}
        for name, value in (
            ("variables", variables),
            ("fingerprint", digest),
            ("_keys", {v.key: v for v in variables}),
            ("_groupings", grouped),
            ("_roles", roles),
        ):
            object.__setattr__(self, name, value)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Registry) and other.fingerprint == self.fingerprint

    def __reduce__(self) -> tuple[type[Registry], tuple[tuple[Variable, ...]]]:
        return Registry, (self.variables,)

    def get(self, key: str) -> Variable:
        """The variable declared as ``key``; KeyError if none is."""
        return self._keys[key]

    def with_role(self, role: Role) -> tuple[Variable, ...]:
        """The variables with ``role`` in that role's order (ranks, then declaration)."""
        return self._roles[role]

    def extended(self, more: Iterable[Variable]) -> Registry:
        """A new registry with ``more`` after these, validated as strictly as these."""
        return Registry((*self.variables, *more))

    def grouped(self, key: str) -> Variable:
        """The variable a grouping key splits by (``age_band`` -> age); KeyError if none."""
        return self._groupings[key]

    def groupings(self) -> dict[str, str]:
        """Grouping key -> label, in the forest's order."""
        return {v.grouping_key: v.grouping_label for v in self.with_role(Role.GROUPING)}

    def ordered_groupings(self) -> tuple[str, ...]:
        """The groupings whose levels have an order: the log-rank test for trend applies."""
        return tuple(
            v.grouping_key
            for v in self.with_role(Role.GROUPING)
            if v.kind is Kind.ORDERED or v.bands
        )

    def level_labels(self) -> dict[str, dict[str, str]]:
        """How a category's raw levels show, where it declares them: key -> raw -> shown."""
        return {
            v.key: dict(v.levels)
            for v in self.with_role(Role.GROUPING)
            if v.kind in (Kind.CATEGORY, Kind.ORDERED) and v.levels
        }

    def covariates(self) -> dict[str, str]:
        """Covariate key -> label (a measure's says its unit), in the Models page's order."""
        return {v.key: v.covariate_label for v in self.with_role(Role.COVARIATE)}

    def filter_keys(self) -> tuple[str, ...]:
        """Every filter parameter: each variable's in filter order, then the yes/no flags."""
        filters = self.with_role(Role.FILTER)
        return tuple(
            key
            for variable in (
                *(v for v in filters if not v.is_flag),
                *(v for v in filters if v.is_flag),
            )
            for key in variable.filter_keys
        )

    def table1_rows(self) -> tuple[str, ...]:
        """Table 1's variable rows in order, as labelled under privacy (no " (range)")."""
        return tuple(row for v in self.with_role(Role.TABLE1) for row in table1_labels(v))


def table1_labels(variable: Variable) -> tuple[str, ...]:
    """A Table 1 variable's row labels: one per published pattern of a segment set, one per
    declared level of a ``levels`` row, else its one row."""
    row = variable.table1
    if row is None:
        return ()
    if variable.kind is Kind.SEGMENT_SET:
        return tuple(f"{row.row}: {pattern}" for pattern in variable.rows)
    if row.summary == "levels":
        return tuple(f"{row.row}: {shown}" for _, shown in variable.levels)
    return (row.row,)


def _fail(variable: Variable, reason: str) -> None:
    raise DeclarationError(f"variable {variable.key!r}: {reason}")


def _check(v: Variable) -> None:
    """One declaration on its own: its words, its identifiers, its roles' needs."""
    if not isinstance(v.key, str) or not IDENTIFIER.fullmatch(v.key):
        raise DeclarationError(
            f"variable {v.key!r}: a key is lower-case letters, digits and _ (from a letter)"
        )
    if v.key in RESERVED:
        _fail(v, f"{v.key!r} is reserved for the dashboard's own settings")
    without_column = v.kind in (Kind.SEGMENT_SET, Kind.TIME_VARYING)
    if without_column != (not v.column):
        _fail(v, f"a {v.kind} variable has {'no' if without_column else 'a'} column")
    if v.column and not IDENTIFIER.fullmatch(v.column):
        _fail(v, f"column {v.column!r} is not a plain lower-case identifier")
    if v.column in RESERVED:
        _fail(v, f"column {v.column!r} cannot be a variable")
    words = [v.label, v.long_label, v.unit, v.section]
    words += [shown for _, shown in (*v.levels, *v.population)]
    words += [v.bands.label] if v.bands else []
    words += [v.table1.row] if v.table1 else []
    for text in filter(None, words):
        if not LABEL_TEXT.fullmatch(text):
            _fail(v, f"{text!r} is not plain words")
    raws = [raw for raw, _ in (*v.levels, *v.population)] + list(v.rows)
    for raw in raws:
        if not LEVEL_TEXT.fullmatch(raw):
            _fail(v, f"level {raw!r} has characters a level cannot have")
    if len(set(level for level, _ in v.levels)) != len(v.levels):
        _fail(v, "a level is declared twice")
    if v.levels and v.kind not in (Kind.CATEGORY, Kind.ORDERED):
        _fail(v, f"a {v.kind} variable declares no levels")
    if v.kind is Kind.ORDERED and len(v.levels) < 2:
        _fail(v, "an ordered category declares its levels in order")
    _check_measure(v)
    _check_roles(v)


def _check_measure(v: Variable) -> None:
    if (v.bands or v.range or v.per is not None) and v.kind is not Kind.NUMBER:
        _fail(v, "only a number has bands, a range or a unit to be per")
    if v.bands:
        cuts = v.bands.cuts
        if not IDENTIFIER.fullmatch(v.bands.key):
            _fail(v, f"band key {v.bands.key!r} is not a plain lower-case identifier")
        if not cuts or any(not isinstance(c, int) for c in cuts) or list(cuts) != sorted(set(cuts)):
            _fail(v, "band cuts are whole numbers, increasing")
        if v.bands.closed == "right" and len(cuts) != 1:
            _fail(v, "right-closed bands have one cut")
        if v.bands.suffix and not LABEL_TEXT.fullmatch(v.bands.suffix.strip()):
            _fail(v, f"{v.bands.suffix!r} is not plain words")
    if v.range:
        if not IDENTIFIER.fullmatch(v.range.stem):
            _fail(v, f"range stem {v.range.stem!r} is not a plain lower-case identifier")
        if not v.range.low < v.range.high or v.range.step <= 0:
            _fail(v, "a range runs from low to a higher high, in positive steps")


def _check_roles(v: Variable) -> None:
    if v.kind is Kind.TIME_VARYING and v.roles != (Role.COVARIATE,):
        _fail(v, "a time-varying variable is a covariate only")
    if v.has(Role.FOREST) and not (v.has(Role.GROUPING) and v.coded):
        _fail(v, "a forest row is a grouping with declared levels")
    if v.kind is Kind.NUMBER:
        for role, needs, what in (
            (Role.GROUPING, v.bands, "bands"),
            (Role.FILTER, v.range, "a range"),
            (Role.COVARIATE, v.per and v.unit, "a unit and what it is per"),
        ):
            if v.has(role) and not needs:
                _fail(v, f"a number as a {role} needs {what}")
    split = v.kind not in (Kind.NUMBER, Kind.TIME_VARYING)
    if v.has(Role.COVARIATE) and split and not v.has(Role.GROUPING):
        _fail(v, "a yes/no or category covariate is a grouping (its levels are its terms)")
    if v.has(Role.TABLE1) != bool(v.table1):
        _fail(v, "a Table 1 row and the table1 role go together")
    counted = v.table1 and v.table1.summary == "share" and v.kind is not Kind.SEGMENT_SET
    if counted and v.table1.level not in v.level_order:
        _fail(v, f"its Table 1 row counts {v.table1.level!r}, not one of its levels")
    if v.table1 and v.table1.summary == "levels" and not v.levels:
        _fail(v, "a Table 1 row per level needs declared levels")
    if v.table1 and v.table1.unrecorded and v.table1.unrecorded not in v.level_order:
        _fail(v, f"its 'not recorded' level {v.table1.unrecorded!r} is not one of its levels")
    if v.population and not (v.kind is Kind.YES_NO and v.has(Role.FILTER)):
        _fail(v, "a population is a yes/no filter")
    if v.population and len(v.population) != 2:
        _fail(v, "a population is (only where it holds, everyone)")
    if v.kind is Kind.SEGMENT_SET and not (v.members and (v.rows or not v.has(Role.TABLE1))):
        _fail(v, "a segment set names its members (and its Table 1 patterns)")
    if not set(dict(v.ranks)) <= set(v.roles):
        _fail(v, "a rank is for one of its roles")


def _check_together(variables: tuple[Variable, ...]) -> None:
    """The declarations as a set: no key claimed twice, members that exist."""
    claimed: dict[str, str] = {}
    columns: dict[str, str] = {}
    for v in variables:
        for name in sorted(v.names):
            if name in RESERVED:
                _fail(v, f"{name!r} is reserved for the dashboard's own settings")
            if name in claimed:
                _fail(v, f"{name!r} is already {claimed[name]!r}'s")
            claimed[name] = v.key
        if v.column and v.column in columns:
            _fail(v, f"column {v.column!r} is already {columns[v.column]!r}'s")
        columns[v.column] = v.key
    kinds = {v.key: v.kind for v in variables}
    for v in variables:
        for member in v.members:
            if kinds.get(member) is not Kind.YES_NO:
                _fail(v, f"member {member!r} is not a declared yes/no variable")


# ---- the built-in variables ---------------------------------------------------------------

# Short names for the roles in the declarations below.
F, G, T, C, P = Role.FILTER, Role.GROUPING, Role.TABLE1, Role.COVARIATE, Role.FOREST
EVERY_ROLE = (F, G, T, C, P)
# Central to peripheral: column, short label, the vein's name.
_SEGMENTS = (
    ("seg_ivc", "IVC", "inferior vena cava"),
    ("seg_civ", "CIV", "common iliac vein"),
    ("seg_eiv", "EIV", "external iliac vein"),
    ("seg_cfv", "CFV", "common femoral vein"),
)
_RISK_FACTORS = (
    ("malignancy", "Malignancy"),
    ("smoking", "Smoking"),
    ("immobilization", "Immobilization"),
    ("thrombophilia", "Thrombophilia"),
    ("recent_surgery", "Recent surgery"),
    ("trauma", "Trauma"),
    ("diabetes", "Diabetes"),
)

# A field the registry leaves "not recorded" (a level of its own, never guessed).
NOT_RECORDED = "not_recorded"
# The levels of the registry's coded fields (data/schema.sql), in display order.
AETIOLOGIES = (
    ("post_thrombotic", "Post-thrombotic"),
    ("non_thrombotic", "Non-thrombotic (NIVL)"),
    ("acute_thrombotic", "Acute thrombotic"),
    (NOT_RECORDED, "Not recorded"),
)
# A limb's stents' design: ``mixed`` when they differ (analytics.cohort.summary).
STENT_DESIGNS = (
    ("braided", "Braided"),
    ("laser_cut", "Laser-cut"),
    ("hybrid", "Hybrid"),
    ("mixed", "Mixed designs"),
)
# The agent in force on the day of the limb's procedure (analytics.cohort.summary).
THERAPIES = (
    ("vka", "VKA"),
    ("doac", "DOAC"),
    ("lmwh", "LMWH"),
    ("antiplatelet", "Antiplatelet"),
    ("dual_antiplatelet", "Dual antiplatelet"),
    ("combination", "Combination"),
    ("none", "None"),
    (NOT_RECORDED, "Not recorded"),
)

# Declared in the order of the groupings (the forest, the deck's subgroup slides, --by);
# the ranks keep the filters', covariates' and Table 1's own orders of earlier releases.
BUILTIN = Registry(
    (
        Variable(
            "lesion_side",
            "lesion_side",
            Kind.CATEGORY,
            "Lesion side",
            level=Level.LIMB,
            levels=(("left", "Left"), ("right", "Right")),
            table1=Table1Row("Lesion side: left", level="left"),
            roles=EVERY_ROLE,
            ranks=((F, 2), (C, 3), (T, 4)),
        ),
        Variable(
            "sex",
            "sex",
            Kind.CATEGORY,
            "Sex",
            level=Level.PATIENT,
            levels=(("F", "Female"), ("M", "Male")),
            table1=Table1Row("Female", level="F"),
            roles=EVERY_ROLE,
            ranks=((F, 3), (C, 4), (T, 2)),
        ),
        # Age and BMI are recorded at each procedure, but describe the person: Table 1 reads
        # them at the patient's first procedure in the filter, as series describe the
        # people treated; a filter or band still reads each limb's own.
        Variable(
            "age_years",
            "age_years",
            Kind.NUMBER,
            "Age",
            level=Level.PATIENT,
            unit="years",
            per=COVARIATE_UNITS["age_years"],
            bands=Bands("age_band", "Age band", AGE_BAND_CUTS),
            range=Range("age", *AGE_YEARS_RANGE, step=1, integer=True),
            table1=Table1Row("Age, years, mean ± SD", "mean_sd_range"),
            roles=EVERY_ROLE,
            section=MEASURE_SECTION,
            ranks=((T, 1),),
        ),
        Variable(
            "bmi",
            "bmi",
            Kind.NUMBER,
            "BMI",
            long_label="Body mass index",
            level=Level.PATIENT,
            unit="kg/m²",
            per=COVARIATE_UNITS["bmi"],
            range=Range("bmi", *BMI_RANGE, step=0.5, integer=False),
            table1=Table1Row("Body mass index, mean ± SD", "mean_sd", digits=2),
            roles=(F, T, C),
            section=MEASURE_SECTION,
            ranks=((T, 3),),
        ),
        *(
            Variable(
                column,
                column,
                Kind.YES_NO,
                short,
                long_label=name,
                level=Level.LIMB,
                table1=Table1Row(f"Segment involved: {short}"),
                roles=(G, T, C, P),
                ranks=((C, 2),),
            )
            for column, short, name in _SEGMENTS
        ),
        Variable(
            "segment_pattern",
            "",
            Kind.SEGMENT_SET,
            "Segment pattern",
            level=Level.LIMB,
            members=tuple(column for column, _, _ in _SEGMENTS),
            # Table 1's published rows; see stats.baseline.segment_rows for how a lesion counts.
            rows=("CIV+EIV+CFV", "IVC+CIV", "CIV+EIV", "EIV+CFV"),
            table1=Table1Row("Segments (paper's rows)"),
            roles=(F, G, T, P),
            section=SEGMENT_SECTION,
            ranks=((F, 4), (T, 6)),
        ),
        *(
            Variable(
                column,
                column,
                Kind.YES_NO,
                label,
                table1=Table1Row(label),
                level=Level.PATIENT,
                roles=EVERY_ROLE,
                section=RISK_SECTION,
                ranks=((C, 1), (T, 5)),
            )
            for column, label in _RISK_FACTORS
        ),
        Variable(
            "urokinase",
            "urokinase",
            Kind.YES_NO,
            "Urokinase",
            level=Level.LIMB,
            roles=(G, C, P),
            ranks=((C, 6),),
        ),
        Variable(
            "symptom_duration_months",
            "symptom_duration_months",
            Kind.NUMBER,
            "DVT duration",
            unit="months",
            level=Level.LIMB,
            per=COVARIATE_UNITS["symptom_duration_months"],
            bands=Bands(
                "symptom_duration_band", "DVT duration", (DURATION_BAND_CUT,), "right", " months"
            ),
            roles=(G, C, P),
        ),
        # Levels from the data: not a forest row (a registry's dozens of centres would swamp
        # it; the Centres page compares them).
        Variable(
            "center",
            "center",
            Kind.CATEGORY,
            "Centre",
            level=Level.PATIENT,
            roles=(F, G, C),
            section=MEASURE_SECTION,
            ranks=((C, 5),),
        ),
        # A population rather than a forest row: patency is analysed in technical successes.
        Variable(
            "technical_success",
            "technical_success",
            Kind.YES_NO,
            "Technical success",
            level=Level.LIMB,
            population=(
                ("technical_success", "Technical successes"),
                ("all", "All enrolled (technical failures fail patency at month 0)"),
            ),
            roles=(F, G),
            ranks=((F, 1),),
        ),
        # The registry's lesion, stent and therapy fields (cohort format 4), each the limb's:
        # filters and comparisons, and Table 1 rows, left out where nothing is recorded.
        # Not forest rows nor covariates yet: the aetiology strata and device analyses are
        # a later issue's, and a registry that records none of them (the demo) would show
        # one-level rows and models that cannot fit.
        Variable(
            "aetiology",
            "aetiology",
            Kind.CATEGORY,
            "Aetiology",
            level=Level.LIMB,
            levels=AETIOLOGIES,
            table1=Table1Row("Aetiology", "levels", unrecorded=NOT_RECORDED),
            roles=(F, G, T),
            section=DEVICE_SECTION,
            ranks=((T, 4),),
        ),
        Variable(
            "stents",
            "stents",
            Kind.NUMBER,
            "Stents",
            long_label="Stents per limb",
            level=Level.LIMB,
            unit="stents",
            table1=Table1Row("Stents per limb, mean ± SD", "mean_sd_range"),
            roles=(T,),
        ),
        Variable(
            "stent_design",
            "stent_design",
            Kind.CATEGORY,
            "Stent design",
            level=Level.LIMB,
            levels=STENT_DESIGNS,
            table1=Table1Row("Stent design", "levels"),
            roles=(F, G, T),
            section=DEVICE_SECTION,
        ),
        # Levels from the data, like the centre: no Table 1 row (a service's brands are
        # its own; the design is the field's question).
        Variable(
            "stent_brand",
            "stent_brand",
            Kind.CATEGORY,
            "Stent brand",
            level=Level.LIMB,
            roles=(F, G),
            section=DEVICE_SECTION,
        ),
        Variable(
            "stented_length_mm",
            "stented_length_mm",
            Kind.NUMBER,
            "Stented length",
            level=Level.LIMB,
            unit="mm",
            table1=Table1Row("Stented length, mm, mean ± SD", "mean_sd_range", digits=0),
            roles=(T,),
        ),
        Variable(
            "max_diameter_mm",
            "max_diameter_mm",
            Kind.NUMBER,
            "Largest stent diameter",
            level=Level.LIMB,
            unit="mm",
            table1=Table1Row("Largest stent diameter, mm, mean ± SD", "mean_sd_range"),
            roles=(T,),
        ),
        Variable(
            "below_inguinal_ligament",
            "below_inguinal_ligament",
            Kind.YES_NO,
            "Below the inguinal ligament",
            long_label="A stent extends below the inguinal ligament into the CFV",
            level=Level.LIMB,
            table1=Table1Row("Stented below the inguinal ligament"),
            roles=(F, G, T),
            section=DEVICE_SECTION,
        ),
        Variable(
            "inflow",
            "inflow",
            Kind.CATEGORY,
            "Inflow",
            level=Level.LIMB,
            levels=(("good", "Good"), ("poor", "Poor")),
            table1=Table1Row("Poor inflow", level="poor"),
            roles=(F, G, T),
            section=DEVICE_SECTION,
        ),
        Variable(
            "ivus",
            "ivus",
            Kind.YES_NO,
            "IVUS",
            long_label="Intravascular ultrasound",
            level=Level.LIMB,
            table1=Table1Row("IVUS used"),
            roles=(F, G, T),
            section=DEVICE_SECTION,
        ),
        Variable(
            "therapy_at_procedure",
            "therapy_at_procedure",
            Kind.CATEGORY,
            "Antithrombotic at the procedure",
            level=Level.LIMB,
            levels=THERAPIES,
            table1=Table1Row("Antithrombotic at the procedure", "levels", unrecorded=NOT_RECORDED),
            roles=(F, G, T),
            section=DEVICE_SECTION,
        ),
        Variable(
            "follow_up_months",
            "follow_up_months",
            Kind.NUMBER,
            "Follow-up",
            level=Level.LIMB,
            unit="months",
            table1=Table1Row("Follow-up, months, mean", "mean_range"),
            roles=(T,),
        ),
        # From the events table: the time-varying covariate (as a baseline yes/no it would
        # be biased by immortal time; glossary.IMMORTAL_TIME_BIAS).
        Variable(
            "recurrent_dvt",
            "",
            Kind.TIME_VARYING,
            "Recurrent DVT",
            level=Level.PATIENT,
            roles=(C,),
        ),
    )
)
