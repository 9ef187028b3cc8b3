"""The import of a REDCap project not built from the template, through a mapping file
(analytics.cohort.redcap_mapping): classic or longitudinal (``redcap_event_name``).

The records export is read in REDCap's raw form (variable names, choice codes). Each row
of a table's instrument becomes a row of the format's table: its fields as the mapping's
columns, its codes as the mapping's values, its event as a visit month; a limb's children
find their limb by its number in the record, as in the template's project. The tables
then pass through the one importer (:func:`analytics.cohort.importer.import_tables`), so
the same rules refuse the same rows, and each problem is located by record id, event,
instrument, instance and the project's own field name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pandas as pd

from analytics.cohort.importer import (
    CONTROL_RULE,
    FIRST_DATA_ROW,
    REGISTRY,
    Imported,
    Problem,
    Table,
    ValidationError,
    import_tables,
)
from analytics.cohort.redcap_import import (
    CHECKBOX_MARK,
    CHECKED,
    CHILDREN_OF_LIMBS,
    DICTIONARY_EXPORT,
    LONGITUDINAL,
    RECORDS_EXPORT,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    UNCHECKED,
    Where,
    as_table,
    iso_date,
    limbs_by_number,
    locator,
    read_dictionary_export,
    read_export,
    require_files,
    slashed_date_order,
)
from analytics.cohort.redcap_mapping import (
    Mapping,
    ProjectField,
    TableMapping,
    dictionary_fields,
    format_columns,
    read_mapping,
)
from analytics.cohort.redcap_project import FORM, LIMB_NO, NAME, TYPE, record_columns


def import_mapped(
    records: Path,
    dictionary: Path,
    mapping_file: Path,
    out: Path,
    metadata: dict[str, str] | None = None,
    date_order: str | None = None,
    max_rows: int | None = None,
    replace_out: bool = True,
) -> Imported:
    """Import a REDCap project's records and data dictionary exports into ``out`` through
    ``mapping_file``. Raises ValidationError listing every problem (of the mapping, then
    of the records); ``out`` is then left untouched."""
    records, dictionary, mapping_file = Path(records), Path(dictionary), Path(mapping_file)
    require_files(
        (records, RECORDS_EXPORT), (dictionary, DICTIONARY_EXPORT),
        (mapping_file, "a mapping file (TOML)"),
    )  # fmt: skip
    fields, problems = read_project(dictionary)
    if problems:
        raise ValidationError(dictionary, problems)
    mapping, problems = read_mapping(mapping_file, fields)
    if problems:
        raise ValidationError(mapping_file, problems)
    tables, origins, problems = mapped_tables(records, mapping, date_order, max_rows)
    if problems:
        raise ValidationError(records, problems)
    labels = table_labels(mapping)
    meta = {
        "source": f"Imported from the REDCap exports {records.name} and {dictionary.name} "
        f"through {mapping_file.name}",
        **(metadata or {}),
    }
    locate = locator(records.name, mapping_file.name, labels, origins, field_names(mapping))
    try:
        done = import_tables(records, REGISTRY, tables, labels, out, meta, max_rows, replace_out)
    except ValidationError as exc:
        kept = [p for p in exc.problems if not _said_of_the_record(p, mapping)]
        raise ValidationError(records, [locate(p) for p in kept]) from None
    return replace(done, warnings=tuple(locate(w) for w in done.warnings))


def _said_of_the_record(problem: Problem, mapping: Mapping) -> bool:
    """Whether a problem is with a limb id made of the record id (``<record>-<number>``)
    that the record id's own problem already names: a control character."""
    return (
        problem.column == "limb_id"
        and problem.rule == CONTROL_RULE
        and not any(s.target == "limb_id" for s in mapping.tables["limbs"].sources)
    )


def read_project(path: Path) -> tuple[dict[str, ProjectField], list[Problem]]:
    """The project's fields from its data dictionary export, or why it cannot be read."""
    frame, problems = read_dictionary_export(path)
    if problems:
        return {}, problems
    if missing := [c for c in (NAME, FORM, TYPE) if c not in frame.columns]:
        rule = (
            f"not a REDCap data dictionary: no column {', '.join(missing)}; download it from "
            "Project Setup > Data Dictionary"
        )
        return {}, [Problem(path.name, 1, None, None, rule)]
    return dictionary_fields(frame.to_dict("records")), []


def table_labels(mapping: Mapping) -> dict[str, str]:
    """Each table as problems name it: its instrument (and the table, when two share one)."""
    used = [m.instrument for m in mapping.tables.values()]
    return {
        table: (
            f"{table} (not in the mapping)"
            if (m := mapping.tables.get(table)) is None
            else f"instrument {m.instrument}"
            + (f" ({table})" if used.count(m.instrument) > 1 else "")
        )
        for table in REGISTRY.tables
    }


def field_names(mapping: Mapping) -> dict[tuple[str, str], str]:
    """The export column each (table, column) of the format comes from."""
    names = {(table, column): mapping.record_id for table, column in record_columns().items()}
    for table, m in mapping.tables.items():
        names |= {(table, s.target): s.column for s in m.sources}
        if m.number and table != "limbs":
            names[table, "limb_id"] = m.number
        elif table == "limbs" and "limb_id" not in {s.target for s in m.sources}:
            names[table, "limb_id"] = mapping.record_id  # <record>-<number>
        if m.month_from_event:
            names[table, "month"] = LONGITUDINAL
    return names


def mapped_tables(
    path: Path,
    mapping: Mapping,
    date_order: str | None,
    max_rows: int | None,
) -> tuple[dict[str, Table], dict[str, list[Where]], list[Problem]]:
    """The records export as the format's tables, where each row came from, and what stops
    the reading (a mapped field not in the export, an event without a month)."""
    frame, problems = read_export(path)
    if problems:
        return {}, {}, problems
    if max_rows is not None and len(frame) > max_rows:
        rule = f"more than {max_rows:,} rows: the limit for one file of an upload"
        return {}, {}, [Problem(path.name, None, None, None, rule)]
    frame.columns = [c.strip() for c in frame.columns]
    problems = _header_problems(path.name, list(frame.columns), mapping)
    if problems:
        return {}, {}, problems
    dated = [
        s.column
        for m in mapping.tables.values()
        for s in m.sources
        if format_columns()[m.table][s.target].data_type == "DATE"
    ]
    order, problems = slashed_date_order(
        path.name, (v for c in dated for v in frame[c]), date_order
    )
    if problems:
        return {}, {}, problems
    rows, origins, problems = _rows(path.name, frame, mapping, order)
    limb_fields = {t: m.number for t, m in mapping.tables.items() if t in CHILDREN_OF_LIMBS}
    limbs = mapping.tables["limbs"].number or REPEAT_INSTANCE
    problems += limbs_by_number(path.name, rows, origins, {"limbs": limbs, **limb_fields})
    tables = {table: _table(table, rows[table], mapping) for table in REGISTRY.tables}
    return tables, dict(origins), problems


def _header_problems(file: str, header: list[str], mapping: Mapping) -> list[Problem]:
    """Each column the mapping reads that the export lacks."""
    needed = {mapping.record_id: mapping.where("record_id")}
    for table, m in mapping.tables.items():
        needed |= {s.column: mapping.where(table, "fields", s.column) for s in m.sources}
        if m.number:
            needed[m.number] = mapping.where(table, "limb" if table != "limbs" else "number")
        if m.events or m.month_from_event:
            needed[LONGITUDINAL] = mapping.where(
                *((table, "events") if m.events else ("visit_months",))
            )
    return [
        Problem(
            file,
            1,
            column,
            None,
            f"not a column of the records export, which the mapping reads ({where}): "
            "export all instruments as CSV (raw data)"
            if column != LONGITUDINAL
            else f"not a column of the records export: the mapping ({where}) is for a "
            "longitudinal project, whose export names each row's event",
        )
        for column, where in needed.items()
        if column not in header
    ]


def _rows(
    file: str, frame: pd.DataFrame, mapping: Mapping, date_order: str | None
) -> tuple[dict[str, list[dict]], dict[str, list[Where]], list[Problem]]:
    """Each table's rows as text (a child's ``limb_id`` its limb's number) and origins."""
    repeating = set(frame.get(REPEAT_INSTRUMENT, pd.Series(dtype=str))) - {""}
    rows, origins = defaultdict(list), defaultdict(list)
    problems, unknown = [], set()
    for number, values in enumerate(frame.to_dict("records"), FIRST_DATA_ROW):
        record = values[mapping.record_id].strip()
        event = values.get(LONGITUDINAL, "").strip()
        repeat = values.get(REPEAT_INSTRUMENT, "").strip()
        instance = values.get(REPEAT_INSTANCE, "").strip()
        for table, m in mapping.tables.items():
            held = m.instrument == repeat or (not repeat and m.instrument not in repeating)
            if not held or not _filled(values, m):
                continue
            where = Where(record, m.instrument, instance, number, event)
            if m.events and event not in m.events:
                rule = (
                    f"instrument {m.instrument} is filled at event {event}, which [{table}] "
                    f"does not list ({mapping.where(table, 'events')}): add the event there"
                )
                problems.append(Problem(where.label(file), number, LONGITUDINAL, event, rule))
                continue
            row = _row(table, m, values, mapping, date_order) | _keys(table, m, record, values)
            if m.month_from_event:
                row["month"] = mapping.visit_months.get(event, "")
                if event not in mapping.visit_months and event not in unknown:
                    unknown.add(event)
                    rule = (
                        f"event {event} has no month in the mapping's [visit_months] "
                        f"({mapping.where('visit_months')}): add {event} = <month>"
                    )
                    problems.append(Problem(where.label(file), number, LONGITUDINAL, event, rule))
            rows[table].append(row)
            origins[table].append(where)
    return rows, origins, problems


def _filled(values: dict[str, str], m: TableMapping) -> bool:
    """Whether a row holds any of the table's fields (a checkbox: a ticked choice)."""
    for source in m.sources:
        text = values.get(source.column, "").strip()
        if text.casefold() not in (UNCHECKED if CHECKBOX_MARK in source.column else {""}):
            return True
    return bool(m.number and values.get(m.number, "").strip())


def _row(
    table: str, m: TableMapping, values: dict[str, str], mapping: Mapping, date_order: str | None
) -> dict[str, str]:
    """The format's cells of one row: codes as the mapping's values, a checkbox's choice as
    yes/no, a date in ISO form; anything else as written (the importer refuses what breaks
    the format, in its words)."""
    row = {}
    for source in m.sources:
        text = values.get(source.column, "").strip()
        if CHECKBOX_MARK in source.column:
            folded = text.casefold()
            text = "true" if folded in CHECKED else "false" if folded in UNCHECKED else text
        elif source.field in mapping.codes and text in mapping.codes[source.field]:
            text = mapping.codes[source.field][text]
        elif format_columns()[table][source.target].data_type == "DATE":
            text = iso_date(text, date_order)
        row[source.target] = text
    return row


def _keys(table: str, m: TableMapping, record: str, values: dict[str, str]) -> dict[str, str]:
    """A row's keys: its record as the patient, a limb's number (and its ``limb_id`` when no
    field gives it), a child's limb number for :func:`limbs_by_number` to resolve."""
    keys = {column: record} if (column := record_columns().get(table)) else {}
    if table == "limbs":
        number = values.get(m.number or REPEAT_INSTANCE, "").strip() or "1"
        keys[LIMB_NO] = number
        if "limb_id" not in {s.target for s in m.sources}:
            keys["limb_id"] = f"{record}-{number}"
    elif m.number:
        keys["limb_id"] = values.get(m.number, "").strip()
    return keys


def _table(table: str, rows: list[dict], mapping: Mapping) -> Table:
    """A table's rows with the columns the mapping fills (all the format's, for a table
    the mapping leaves out: it has no rows)."""
    m = mapping.tables.get(table)
    if m is None:
        return as_table(pd.DataFrame(columns=list(format_columns()[table]), dtype=str))
    filled = {s.target for s in m.sources} | {record_columns().get(table)}
    filled |= {"limb_id"} if table == "limbs" or m.number else set()
    filled |= {"month"} if m.month_from_event else set()
    columns = [c for c in format_columns()[table] if c in filled]
    return as_table(pd.DataFrame(rows, columns=columns, dtype=str))
