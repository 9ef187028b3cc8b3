"""``python -m analytics``: cohort files, reports, decks and the benchmark.

Every failure the user can cause (a missing file, a bad filter) ends with one
line on stderr and a non-zero exit, never a traceback. Each command imports what
it needs when it runs, so ``report`` does not pay for python-pptx, openpyxl, plotly
or the benchmark.
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import duckdb

from analytics.cohort.db import (
    DEFAULT_DB,
    CohortError,
    cohort_variables,
    default_db_path,
    open_cohort,
)
from analytics.cohort.tallies import counting_in_duckdb
from analytics.filters import MATCH_MODES, CohortFilter, FilterError, parse_pairs
from analytics.glossary import ENDPOINTS
from analytics.groups import grouping
from analytics.present.privacy import (
    K_ENV,
    MAX_K,
    MIN_K,
    MODE_ENV,
    PrivacyError,
    requested_k,
    setting,
)
from analytics.rules import DEFAULT_MONTHS, RISK_TABLE_MONTHS, RMST_HORIZON
from analytics.stats.models import check_covariates
from analytics.variables import BUILTIN, NO, YES, Kind, Registry, Role, Variable

if TYPE_CHECKING:
    from analytics.cohort.importer import Imported

EXIT_ERROR = 1


def _months(text: str) -> tuple[float, ...]:
    try:
        months = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected months like 6,12,24,36") from None
    if not months or not all(math.isfinite(m) and m >= 0 for m in months):
        raise argparse.ArgumentTypeError(f"{text!r}: expected months >= 0 like 6,12,24,36")
    return months


def _horizon(text: str) -> float:
    try:
        horizon = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected months like 36") from None
    if not (math.isfinite(horizon) and horizon > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: expected months > 0 like 36")
    return horizon


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of at least 1")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a refused argument is one line and exit 1, like every other error
    (argparse prints its usage first and exits 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"error: {self.prog}: {message}\n")


def _columns(text: str) -> tuple[str, ...]:
    """COL[,COL...]: the covariates of --adjust, checked against the allow-list when fitted."""
    columns = tuple(part.strip() for part in text.split(",") if part.strip())
    if not columns:
        raise argparse.ArgumentTypeError(f"{text!r}: expected covariates like age_years,sex")
    return columns


def _filter_example(variable: Variable, variables: Registry) -> str:
    """What ``--where`` takes for one filter variable, by its kind."""
    if variable.population:
        return f"population={'|'.join(raw for raw, _ in variable.population)}"
    if variable.kind is Kind.SEGMENT_SET:
        labels = [variables.get(member).label for member in variable.members]
        segments, match, pattern = variable.filter_keys
        return (
            f"{segments}=some of {','.join(labels)} with {match}={'|'.join(MATCH_MODES)}; "
            f"{pattern}={'+'.join(labels[:2])} (an exact pattern)"
        )
    if variable.range:
        low, high = variable.range.keys
        return f"{low}=N, {high}=N ({variable.range.low:g} to {variable.range.high:g})"
    if variable.level_order:
        return f"{variable.key}={'|'.join(variable.level_order)}"
    return f"{variable.key}=..."


def filter_help(variables: Registry) -> str:
    """``--where``'s help: every filter of ``variables`` in filter order, the yes/no flags
    together last."""
    filters = variables.with_role(Role.FILTER)
    flags = [v.key for v in filters if v.is_flag]
    examples = [_filter_example(v, variables) for v in filters if not v.is_flag]
    if flags:
        examples.append(f"{', '.join(flags)}={YES}|{NO}")
    return "filter, repeatable: " + "; ".join(examples)


def grouping_help(variables: Registry) -> str:
    """``--by``'s help: the grouping keys of ``variables`` in the forest's order."""
    return f"compare the groups of one of: {', '.join(variables.groupings())}"


def covariate_help(variables: Registry) -> str:
    """``--adjust``'s help: the covariate keys of ``variables`` in the Models page's order."""
    keys = [
        f"{v.key} (time-varying)" if v.kind is Kind.TIME_VARYING else v.key
        for v in variables.with_role(Role.COVARIATE)
    ]
    return (
        "adjusted Cox model (report: of every endpoint; deck: of --endpoint, on a slide of "
        f"crude and adjusted hazard ratios) on these covariates: {', '.join(keys)}"
    )


# The help lists the built-in variables; the choices are the opened cohort's (_check_choices).
OWN_VARIABLES = (
    "The lists above are the built-in variables. A cohort file may declare variables of its "
    "own (a registry's own columns, imported with its dictionary): --where, --by and "
    "--adjust are checked against the file's variables once it is open."
)


def _view_arguments() -> argparse.ArgumentParser:
    """--db, --population, --where and --by: the view a report or a deck shows, the same
    for both."""
    population = next(v for v in BUILTIN.with_role(Role.FILTER) if v.population)
    view = _Parser(add_help=False)
    view.add_argument(
        "--db", type=Path, default=None, help="cohort file (default $COHORT_DB or the demo)"
    )
    view.add_argument(
        "--population", choices=[raw for raw, _ in population.population], default=None,
        help=f"whom to analyse (default {population.population[0][0]}): "
        + "; ".join(f"{raw} = {shown.lower()}" for raw, shown in population.population),
    )  # fmt: skip
    view.add_argument(
        "--where", action="append", default=[], metavar="COL=VALUE",
        help=filter_help(BUILTIN),
    )  # fmt: skip
    view.add_argument("--by", default=None, metavar="GROUPING", help=grouping_help(BUILTIN))
    return view


PRIVACY_OPTION = {
    "type": int, "default": None, "metavar": "K",
    "help": f"privacy mode: counts of fewer than K ({MIN_K} to {MAX_K}) patients, or of their "
    "limbs, shown as <K and what would "
    f"give them away hidden (default: the deployment's {MODE_ENV}/{K_ENV}; under "
    "enforcement K cannot be lower than its k)",
}  # fmt: skip


ADJUST_OPTION = {
    "type": _columns, "default": (), "metavar": "COL[,COL...]",
    "help": covariate_help(BUILTIN),
}  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m analytics",
        description="Outcomes of iliofemoral venous stenting: cohort files and reports.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    view = _view_arguments()

    demo = commands.add_parser(
        "build-demo",
        help="build the demo cohort file",
        description="Build the demo cohort (reconstructed from published aggregates, not "
        "patient data) from data/demo/*.csv into a DuckDB cohort file.",
    )
    demo.add_argument(
        "--out", type=Path, default=DEFAULT_DB, help=f"output file (default {DEFAULT_DB})"
    )

    report = commands.add_parser(
        "report",
        parents=[view],
        help="print the outcome report for a filter",
        description="Patency (Kaplan-Meier), clinical change and safety for a filtered cohort.",
        epilog=OWN_VARIABLES,
    )
    report.add_argument(
        "--at", type=_months, default=DEFAULT_MONTHS, metavar="M1,M2,...",
        help="months for estimates (default 6,12,24,36)",
    )  # fmt: skip
    report.add_argument(
        "--rmst-horizon", type=_horizon, default=RMST_HORIZON, metavar="M",
        help=f"horizon of the restricted mean time, months (default {RMST_HORIZON})",
    )  # fmt: skip
    report.add_argument("--adjust", **ADJUST_OPTION)
    report.add_argument(
        "--reference", default=None, metavar="LEVEL",
        help="with --by: the group hazard ratios and restricted-mean differences are against "
        "(a raw level as in the JSON's groups; default the first in display order)",
    )  # fmt: skip
    report.add_argument(
        "--landmark", type=_horizon, default=None, metavar="L",
        help="also each endpoint from month L on, time restarting at L, among those whose "
        "time is greater than L: the patients of a registry of one treated limb per patient; "
        "where a patient may have two, the limbs (recurrent DVT still counts patients)",
    )  # fmt: skip
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.add_argument("--privacy", **PRIVACY_OPTION)

    registry = commands.add_parser(
        "import",
        help="validate a registry and write it as a cohort file",
        description="Validate SOURCE (a folder with patients.csv, assessments.csv and "
        "events.csv, or an .xlsx workbook with those three sheets), or a REDCap project's "
        "exports (--redcap-records with --redcap-dictionary, of a project created from "
        "redcap-template, or of another project with --mapping), against the cohort format "
        "and write it to --out. Every problem is "
        "listed; on any problem nothing is written and an existing --out file is left unchanged.",
    )
    registry.add_argument(
        "source", type=Path, nargs="?", help="folder of three CSVs, or an .xlsx workbook"
    )
    registry.add_argument(
        "--redcap-records", type=Path, metavar="CSV",
        help="a REDCap project's records export (CSV, raw data or labels), instead of SOURCE",
    )  # fmt: skip
    registry.add_argument(
        "--redcap-dictionary", type=Path, metavar="CSV",
        help="that project's data dictionary export (CSV)",
    )  # fmt: skip
    registry.add_argument(
        "--redcap-date-order", choices=("dmy", "mdy"), default=None,
        help="how the records export writes dates with slashes (DD/MM/YYYY: dmy, MM/DD/YYYY: "
        "mdy); needed only when no day above 12 tells",
    )  # fmt: skip
    registry.add_argument(
        "--redcap-api", metavar="URL",
        help="pull the records and the data dictionary through the project's API (its https "
        "address, ending in /api/) instead of --redcap-records and --redcap-dictionary; the "
        "token from $REDCAP_API_TOKEN or typed at a prompt, never stored",
    )  # fmt: skip
    registry.add_argument(
        "--mapping", type=Path, metavar="TOML",
        help="a mapping file saying how a REDCap project not created from redcap-template "
        "(classic or longitudinal) fills the cohort format: instruments, fields, codes, event "
        "months (README: From a REDCap project; docs/redcap-mapping-example.toml)",
    )  # fmt: skip
    registry.add_argument("--out", type=Path, required=True, help="cohort file to write")
    registry.add_argument("--name", default=None, help="cohort name shown in the dashboard")

    deck = commands.add_parser(
        "deck",
        parents=[view],
        help="write a PowerPoint deck of a view",
        description="A .pptx deck of the filtered cohort: title slide with cohort, provenance, "
        "filter and n; patency (and, with --by, the --endpoint compared by group), CEAP, "
        "Villalta and PTS, safety and subgroup slides with the chart and key numbers; with "
        "--adjust, crude and adjusted hazard ratios of an adjusted Cox model; Tables 1-3 as "
        "editable tables; the definitions; estimates and tests in the speaker notes. Needs "
        "Debian's chromium to draw the charts.",
        epilog=OWN_VARIABLES,
    )
    deck.add_argument(
        "--endpoint", choices=list(ENDPOINTS), default="primary",
        help="endpoint compared with --by, shown by subgroup and modelled with --adjust "
        "(default primary)",
    )  # fmt: skip
    deck.add_argument(
        "--risk-months", type=_months, default=RISK_TABLE_MONTHS, metavar="M1,M2,...",
        help="months of the KMunicate tables under the curves (default "
        f"{','.join(map(str, RISK_TABLE_MONTHS))}, as the Patency page)",
    )  # fmt: skip
    deck.add_argument("--adjust", **ADJUST_OPTION)
    deck.add_argument("--privacy", **PRIVACY_OPTION)
    deck.add_argument("--out", type=Path, required=True, help="deck to write (.pptx)")

    synth = commands.add_parser(
        "synth",
        help="write a synthetic multi-centre registry",
        description="Write a synthetic registry in the cohort format, with the demo's rates and "
        "known associations (risk factors and centres change patency and recurrent DVT), "
        "deterministic for a seed. Not patient data.",
    )
    size = synth.add_mutually_exclusive_group(required=True)
    size.add_argument("--patients", type=int, help="number of patients")
    size.add_argument("--limbs", type=int, help="number of limbs (one patient in ten has two)")
    synth.add_argument("--centers", type=int, default=20, help="number of centres (default 20)")
    synth.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    synth.add_argument(
        "--single-limb", action="store_true",
        help="the single-limb registry of earlier versions (one limb per patient, --patients "
        "only): the rows the tests' R references were computed on",
    )  # fmt: skip
    synth.add_argument("--out", type=Path, required=True, help="cohort file to write")

    upgrade_file = commands.add_parser(
        "upgrade",
        help="bring a cohort file from an earlier version up to this one",
        description="Upgrade a cohort file written by an earlier version in place (versions "
        "1-3, one limb per patient, become the registry format of people and limbs; version "
        "4 gains the limb's last contact date, empty; the summary is derived anew). Done on "
        "a copy and moved into place: on any failure the file is left as it was.",
    )
    upgrade_file.add_argument("path", type=Path, help="cohort file to upgrade")

    bench = commands.add_parser(
        "bench",
        help="time every view and the report process on a registry (tools/bench.py)",
        description="Median milliseconds of every view a page, the report or the deck "
        "computes, on a synthetic registry of --limbs or --patients (written to a temporary "
        "folder) or "
        "on --db and on the demo, against the naive way (patient rows into lifelines and SciPy) "
        "with whether they agree; peak memory; then the whole report process on both.",
    )
    bench_size = bench.add_mutually_exclusive_group()
    bench_size.add_argument(
        "--limbs", type=_positive, default=1_000_000, help="registry size (default 1000000)"
    )
    bench_size.add_argument("--patients", type=_positive, help="registry size in patients instead")
    bench.add_argument("--db", type=Path, default=None, help="bench this cohort file instead")
    bench.add_argument("--runs", type=_positive, default=7, help="runs per view (default 7)")
    bench.add_argument(
        "--naive-runs", type=_positive, default=3, help="runs of the naive way (default 3)"
    )

    template = commands.add_parser(
        "template",
        help="write a blank registry workbook",
        description="Write an .xlsx workbook with the three sheets' headers and a sheet "
        "documenting every column, to fill in and import.",
    )
    template.add_argument("--out", type=Path, required=True, help="workbook to write (.xlsx)")

    redcap = commands.add_parser(
        "redcap-template",
        help="write what a REDCap project in the cohort format is created from",
        description="Write into --out the project's data dictionary (REDCap's Data Dictionary "
        "CSV), its repeating-instruments setup and a short guide: a classic project, one "
        "record per patient, repeating instruments for limbs, stents, events, assessments "
        "and therapy periods. Its exports import with import --redcap-records.",
    )
    redcap.add_argument("--out", type=Path, required=True, help="folder to write into")

    audit = commands.add_parser(
        "audit",
        help="summarise the audit trail: who looked at or exported what",
        description="Count the audit trail's events (COHORT_AUDIT_FILE, or --file) by "
        "person, action, cohort, export and day, from --since on.",
    )
    audit.add_argument("--since", type=_day, default=None, help="first day (YYYY-MM-DD, UTC)")
    audit.add_argument(
        "--file", type=Path, default=None, help="the trail (default $COHORT_AUDIT_FILE)"
    )

    commands.add_parser(
        "dictionary",
        help="print the data dictionary (Markdown)",
        description="Print the cohort format's data dictionary, generated from data/schema.sql.",
    )
    return parser


def _day(text: str) -> date:
    """--since as a calendar day, with the form expected in the message."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: use YYYY-MM-DD") from None


def _audit_summary(args: argparse.Namespace) -> str:
    """The trail counted (analytics.audit.summarise), as lines of text."""
    from analytics.audit import AUDIT_ENV, read, summarise, trail_path

    path = args.file or trail_path()
    if path is None:
        raise CohortError(f"no audit trail: set {AUDIT_ENV} or give --file")
    trail = read(path, args.since)
    found = summarise(trail.events)
    since = f" since {args.since.isoformat()}" if args.since else ""
    lines = [f"{found.events} event(s) in {path}{since}"]
    if trail.unreadable:
        lines.append(
            f"{trail.unreadable} line(s) not whole events (a write a crash cut, or an edit)"
        )
    for title, counts in (
        ("by person", found.people), ("by action", found.actions), ("by cohort", found.cohorts),
        ("exports", found.exports), ("by day", found.days),
    ):  # fmt: skip
        if counts:
            lines.append(f"{title}:")
            lines += [f"  {name}: {n}" for name, n in counts.items()]
    return "\n".join(lines)


def _audited(args: argparse.Namespace, action: str, what: str) -> None:
    """Record a command's import or export in the deployment's trail (COHORT_AUDIT_FILE),
    as the operating-system user who ran it; a trail that cannot be written stops the
    command before its output is made (AuditError)."""
    from analytics.audit import Action, Event, now, record, trail_path

    if trail_path() is None:
        return
    cohort = Path(
        getattr(args, "out", None) if action == "import" else args.db or default_db_path()
    )
    where = "&".join(getattr(args, "where", None) or [])
    record(
        Event(now(), f"cli:{getpass.getuser()}", "", Action(action), cohort.stem, "", where, what)
    )


def _filter(args: argparse.Namespace, variables: Registry) -> CohortFilter:
    """--where and --population as a filter over the opened cohort's variables."""
    pairs = list(args.where)
    if args.population:
        pairs.append(f"population={args.population}")
    return parse_pairs(pairs, variables)


def _check_choices(args: argparse.Namespace, variables: Registry) -> None:
    """--by and --adjust against the opened cohort's variables, its own declarations
    included, by the groupings' and the models' own checks, before any view runs."""
    if args.by is not None:
        grouping(args.by, variables)
    check_covariates(args.adjust, variables)


def _privacy_k(args: argparse.Namespace) -> int | None:
    """--privacy K checked against the deployment's setting, named in the error."""
    deployment = setting()  # checked before any command runs (main)
    try:
        return requested_k(args.privacy, deployment)
    except PrivacyError as exc:
        raise PrivacyError(f"--privacy {args.privacy}: {exc}") from None


def _report(args: argparse.Namespace) -> str:
    from analytics.present.report import report_json, report_text
    from analytics.views import ReportRequest, report_of

    k = _privacy_k(args)
    if args.reference is not None and args.by is None:
        raise ValueError("--reference needs --by: the groups it picks the reference among")
    request = ReportRequest(
        by=args.by,
        months=args.at,
        horizon=args.rmst_horizon,
        adjust=args.adjust,
        reference=args.reference,
        landmark=args.landmark,
        pages=k is not None,  # privacy weighs the report beside the dashboard's pages
    )
    with open_cohort(args.db or default_db_path()) as con:
        variables = cohort_variables(con)
        cohort_filter = _filter(args, variables)
        _check_choices(args, variables)
        view = report_of(con, cohort_filter, request)
    return json.dumps(report_json(view, k), indent=2) if args.json else report_text(view, k)


def _deck(args: argparse.Namespace) -> bytes:
    from analytics.present.deck import build_deck
    from analytics.views import deck_view, models_view

    k = _privacy_k(args)
    with open_cohort(args.db or default_db_path()) as con:
        variables = cohort_variables(con)
        cohort_filter = _filter(args, variables)
        _check_choices(args, variables)
        model = models_view(con, cohort_filter, args.endpoint, args.adjust) if args.adjust else None
        view = deck_view(
            con, cohort_filter, by=args.by, endpoint=args.endpoint, risk_months=args.risk_months,
            model=model, pages=k is not None,
        )  # fmt: skip
    return build_deck(view, k)


def _synth_size(path: Path) -> str:
    """What a synthetic registry holds, in words: its limbs, patients and bilateral share."""
    from analytics.cohort.synth import cohort_size
    from analytics.present.format import count, percent

    with open_cohort(path) as con:
        size = cohort_size(con)
    return (
        f"{count(size.limbs)} limbs in {count(size.patients)} patients, "
        f"{percent(size.bilateral_share)} of them treated on both legs"
    )


def _import(args: argparse.Namespace) -> Path:
    """Import, and list on stderr the registry's own columns whose kind was taken from their
    values and the data-quality warnings of a finished import."""
    from analytics.cohort.importer import import_with_report

    metadata = {"name": args.name} if args.name else None
    if args.redcap_api:
        if args.source or args.redcap_records or args.redcap_dictionary:
            raise CohortError(
                "--redcap-api pulls the records and the dictionary itself: give it without "
                "SOURCE, --redcap-records or --redcap-dictionary"
            )
        imported = _import_redcap_api(args, metadata)
    elif args.redcap_records or args.redcap_dictionary or args.mapping:
        if args.source or not (args.redcap_records and args.redcap_dictionary):
            raise CohortError(
                "a REDCap project imports from --redcap-records and --redcap-dictionary "
                "together (with --mapping for a project not created from redcap-template), "
                "without SOURCE"
            )
        imported = _import_redcap(args, metadata)
    elif args.source is None:
        raise CohortError("give SOURCE, or --redcap-records and --redcap-dictionary")
    else:
        imported = import_with_report(args.source, args.out, metadata=metadata)
    if imported.notes:
        print(f"note: {len(imported.notes)} column(s) taken from their values", file=sys.stderr)
        for note in imported.notes:
            print(f"  {format_problem(note)}", file=sys.stderr)
    if imported.warnings:
        print(f"warning: {len(imported.warnings)} row(s) to check", file=sys.stderr)
        for warning in imported.warnings:
            print(f"  {format_problem(warning)}", file=sys.stderr)
    return imported.path


def _import_redcap_api(args: argparse.Namespace, metadata: dict[str, str] | None) -> Imported:
    """The project's exports pulled through its API into a private temporary folder,
    removed when the import ends, then imported as exports given by hand are."""
    import tempfile

    from analytics.cohort.redcap_api import TOKEN_ENV, pull_exports

    token = os.environ.get(TOKEN_ENV, "")
    if not token and sys.stdin.isatty():
        token = getpass.getpass(f"REDCap API token (or set {TOKEN_ENV}): ")
    if not token:
        raise CohortError(f"no REDCap API token: set {TOKEN_ENV}, or run in a terminal to type it")
    with tempfile.TemporaryDirectory(prefix="redcap-") as folder:
        args.redcap_records, args.redcap_dictionary = pull_exports(
            args.redcap_api, token, Path(folder)
        )
        return _import_redcap(args, metadata)


def _import_redcap(args: argparse.Namespace, metadata: dict[str, str] | None) -> Imported:
    """A REDCap project's exports: the template's project, or another through a mapping."""
    if args.mapping:
        from analytics.cohort.redcap_mapped import import_mapped

        return import_mapped(
            args.redcap_records, args.redcap_dictionary, args.mapping, args.out, metadata,
            date_order=args.redcap_date_order,
        )  # fmt: skip
    from analytics.cohort.redcap_import import import_redcap

    return import_redcap(
        args.redcap_records, args.redcap_dictionary, args.out, metadata,
        date_order=args.redcap_date_order,
    )  # fmt: skip


def _run(args: argparse.Namespace) -> None:
    """The command's work; every command but the benchmark reads its cohort once, so its
    tallies are DuckDB's aggregates (tallies.counting_in_duckdb)."""
    if args.command == "bench":
        _command(args)
        return
    with counting_in_duckdb():
        _command(args)


def _command(args: argparse.Namespace) -> None:
    """The command's work and its one line of output."""
    if args.command == "build-demo":
        from analytics.cohort.demo import build_demo

        print(f"built the demo cohort (reconstructed, not patient data) at {build_demo(args.out)}")
    elif args.command == "report":
        text = _report(args)
        _audited(args, "export", "report (JSON)" if args.json else "report")
        sys.stdout.write(text.rstrip("\n") + "\n")
    elif args.command == "import":
        imported = _import(args)
        _audited(args, "import", imported.name)
        print(f"imported {args.source or args.redcap_api or args.redcap_records} into {imported}")
    elif args.command == "deck":
        pptx = _deck(args)
        _audited(args, "export", "deck")
        args.out.write_bytes(pptx)
        print(f"wrote the deck {args.out}")
    elif args.command == "synth":
        if args.single_limb:
            from analytics.cohort.synth_single_limb import synthesize as single_limb

            if args.patients is None:
                raise CohortError("--single-limb draws one limb per patient: give --patients")
            out = single_limb(args.out, args.patients, args.centers, args.seed)
        else:
            from analytics.cohort.synth import synthesize

            out = synthesize(args.out, args.patients, args.centers, args.seed, limbs=args.limbs)
        print(f"wrote a synthetic registry to {out}: {_synth_size(out)}")
    elif args.command == "upgrade":
        from analytics.cohort.upgrade import upgrade

        done = upgrade(args.path)
        print(f"upgraded {args.path}" if done else f"{args.path} is already up to date")
    elif args.command == "bench":
        from tools.bench import bench  # the one import of a development tool, when asked for

        size = ("--patients", args.patients) if args.patients else ("--limbs", args.limbs)
        bench(size, args.db, args.runs, args.naive_runs)
    elif args.command == "template":
        from analytics.cohort.template import template_workbook

        args.out.write_bytes(template_workbook())
        print(f"wrote the registry template {args.out}")
    elif args.command == "redcap-template":
        from analytics.present.redcap_template import write_template

        written = write_template(args.out)
        print(
            f"wrote the REDCap project's files to {args.out}: {', '.join(p.name for p in written)}"
        )
    elif args.command == "audit":
        print(_audit_summary(args))
    elif args.command == "dictionary":
        from analytics.cohort.dictionary import dictionary_markdown

        sys.stdout.write(dictionary_markdown())


def format_problem(problem) -> str:
    """One line a data manager can act on: where, what was found, which rule."""
    where = problem.file
    if problem.row is not None:
        where += f", row {problem.row}"
    if problem.column:
        where += f", column {problem.column}"
    found = "" if problem.value is None else f" (found '{problem.value}')"  # shown visible
    return f"{where}: {problem.rule}{found}"


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; return the process exit code."""
    from analytics.cohort.importer import ValidationError
    from analytics.present.render import ExportUnavailable

    args = _parser().parse_args(argv)
    try:
        setting()  # a privacy setting that is none stops every command (fail closed)
        _run(args)
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {format_problem(problem)}", file=sys.stderr)
        return EXIT_ERROR
    except (CohortError, FilterError, ExportUnavailable, ValueError, duckdb.Error, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR
    return 0
