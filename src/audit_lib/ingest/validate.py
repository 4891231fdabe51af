"""Strict validation of an export against the inventory contract, in DuckDB.

`load_validated(con, sources)` is the entry point: it loads every file into its
typed table and refuses the export (InvalidExportError, every fault) in the
contract's order: columns of all tables first, then keys, row rules and
references.

Each file is read once: one `CREATE TABLE AS` converts every listed column to
its contract type and records, per row, a bit mask of the column checks it
breaks (NULL where not allowed, a value that does not convert). Counting the
mask bits finds every column fault without another pass over the data.
Once the columns are sound, set-based queries check duplicate keys,
references and the cross-column rules on the typed tables.

Every fault names file, column, rule, first offending row and the count.
"""

from __future__ import annotations

import duckdb

from audit_lib.errors import InvalidExportError, ValidationFault
from audit_lib.ingest.schema import ENUMS, Column, RowRule, Table
from audit_lib.ingest.sources import SourceFile, ident
from audit_lib.progress import Progress

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
#: A timestamp starts with a full date (DuckDB's cast also takes `epoch`, `infinity`,
#: `2026-7-1`); a LIKE costs a third of a regular expression on millions of values.
TIMESTAMP_SHAPE = "____-__-__%"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
FAULT_MASK = "__faults"

#: Build-time helpers: controls.md compares timestamps to the second, so values are
#: kept to the whole second (floored); infinities are not timestamps of an inventory.
BUILD_MACROS = {
    "whole_second(ts)": "CASE WHEN isfinite(ts) THEN make_timestamptz("
    "epoch_us(ts) - ((epoch_us(ts) % 1000000) + 1000000) % 1000000) END",
}


def install_build_macros(con: duckdb.DuckDBPyConnection) -> None:
    for signature, body in BUILD_MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {signature} AS {body}")


def convert(column: Column, source_type: str) -> str:
    """SQL turning a file's value into the contract type (NULL when it cannot)."""
    value, text = ident(column.name), source_type == "VARCHAR"
    if column.enum:
        return f"TRY_CAST({value} AS {column.kind})"
    if column.kind == "timestamp":
        if not text:
            return f"whole_second(TRY_CAST({value} AS TIMESTAMPTZ))"
        return (
            f"CASE WHEN {value} LIKE '{TIMESTAMP_SHAPE}' "
            f"THEN whole_second(TRY_CAST({value} AS TIMESTAMPTZ)) END"
        )
    if column.kind == "date":
        if text:
            date = f"TRY_CAST({value} AS DATE)"
            return f"CASE WHEN regexp_full_match({value}, '{DATE_PATTERN}') THEN {date} END"
        if source_type.startswith("TIMESTAMP"):  # only a midnight is a date
            return f"CASE WHEN CAST({value} AS TIME) = TIME '00:00:00' THEN CAST({value} AS DATE) END"
        return f"TRY_CAST({value} AS DATE)"
    if column.kind == "boolean":
        if source_type == "BOOLEAN":
            return value
        truth = f"lower(trim(CAST({value} AS VARCHAR)))"
        return f"CASE WHEN {truth} IN ('true', '1') THEN true WHEN {truth} IN ('false', '0') THEN false END"
    as_text = value if text else f"CAST({value} AS VARCHAR)"
    if column.kind == "country":
        return f"CASE WHEN regexp_full_match({as_text}, '{COUNTRY_PATTERN}') THEN {as_text} END"
    return f"NULLIF({as_text}, '')"


def type_rule(column: Column) -> str:
    if column.enum:
        return f"unknown {column.kind} value (allowed: {', '.join(column.enum)})"
    return {
        "timestamp": "not an ISO 8601 timestamp",
        "date": "not a YYYY-MM-DD date (a Parquet timestamp must be at midnight)",
        "boolean": "not a boolean (true/false/1/0)",
        "country": "not an ISO 3166-1 alpha-2 upper-case country code",
        "string": "empty string",
    }[column.kind]


def column_checks(source: SourceFile, types: dict[str, str]) -> tuple[list[ValidationFault], list[RowRule]]:
    """Missing columns, and the NULL and type checks of the present ones."""
    missing = [c for c in source.table.columns if c.name not in types]
    faults = [ValidationFault(source.path.name, c.name, "missing column") for c in missing]
    checks = []
    for column in source.table.columns:
        if column in missing:
            continue
        value = ident(column.name)
        if not column.nullable:
            checks.append(RowRule(column.name, "NULL not allowed", f"{value} IS NULL"))
        converted = convert(column, types[column.name])
        checks.append(
            RowRule(column.name, type_rule(column), f"{value} IS NOT NULL AND ({converted}) IS NULL")
        )
    return faults, checks


def typed_select(source: SourceFile, types: dict[str, str], checks: list[RowRule]) -> str:
    """One pass over the file: typed columns, extra columns as they are, the fault mask."""
    listed = {c.name for c in source.table.columns}
    selected = [f"{convert(c, types[c.name])} AS {ident(c.name)}" for c in source.table.columns]
    selected += [ident(name) for name in types if name not in listed]
    mask = " + ".join(f"(CASE WHEN {c.broken} THEN {1 << i} ELSE 0 END)" for i, c in enumerate(checks))
    selected.append(f"CAST({mask or '0'} AS BIGINT) AS {FAULT_MASK}")
    return f"SELECT {', '.join(selected)} FROM {source.reader()}"


def mask_faults(
    con: duckdb.DuckDBPyConnection, source: SourceFile, checks: list[RowRule]
) -> list[ValidationFault]:
    """Read the fault mask of a loaded table: one fault per check some row breaks."""
    table, mask = source.table.name, FAULT_MASK
    (seen,) = con.execute(f"SELECT bit_or({mask}) FROM {table}").fetchone()
    faults = []
    for i, check in enumerate(checks):
        if seen and seen & (1 << i):
            count, first = con.execute(
                f"SELECT count(*), min(rowid) FROM {table} WHERE {mask} & {1 << i} <> 0"
            ).fetchone()
            where = _describe(con, source, first, check.column, raw=True)
            faults.append(ValidationFault(source.path.name, check.column, check.rule, where, count))
    return faults


def run_checks(
    con: duckdb.DuckDBPyConnection, source: SourceFile, checks: list[RowRule]
) -> list[ValidationFault]:
    """Evaluate row checks on a typed table in one scan."""
    if not checks:
        return []
    parts = ", ".join(
        f"count(*) FILTER (WHERE {c.broken}), min(rowid) FILTER (WHERE {c.broken})" for c in checks
    )
    row = con.execute(f"SELECT {parts} FROM {source.table.name}").fetchone()
    faults = []
    for i, check in enumerate(checks):
        count, first = row[2 * i], row[2 * i + 1]
        if count:
            where = _describe(con, source, first, check.column)
            faults.append(ValidationFault(source.path.name, check.column, check.rule, where, count))
    return faults


def _describe(
    con: duckdb.DuckDBPyConnection, source: SourceFile, row: int, column: str | None, raw: bool = False
) -> str:
    """`line 7, item_id 'I7', value 'ssn'`; with `raw`, the value as the file has it."""
    key = source.table.key
    text = f"{source.locate(row)}, {key} {_shorten(_value_at(con, source.table.name, key, row))}"
    if column and column != key:
        relation = f"(SELECT * FROM {source.reader()} LIMIT 1 OFFSET {int(row)})" if raw else None
        text += f", value {_shorten(_value_at(con, relation or source.table.name, column, row))}"
    return text


def _value_at(con: duckdb.DuckDBPyConnection, relation: str, column: str, row: int) -> object:
    where = "" if relation.startswith("(") else f" WHERE rowid = {int(row)}"
    (value,) = con.execute(f"SELECT CAST({ident(column)} AS VARCHAR) FROM {relation}{where}").fetchone()
    return value


def _shorten(value: object) -> str:
    text = "NULL" if value is None else repr(str(value))
    return text if len(text) <= 60 else text[:57] + "..."


def row_rules(table: Table) -> list[RowRule]:
    """The contract's cross-column rules, over a typed table."""
    return [RowRule(rule.column, rule.rule, f"({rule.broken}) IS TRUE") for rule in table.rules]


def duplicate_keys(con: duckdb.DuckDBPyConnection, source: SourceFile) -> list[ValidationFault]:
    key, table = ident(source.table.key), source.table.name
    count, first = con.execute(
        f"SELECT sum(n), min(first) FROM (SELECT count(*) AS n, min(rowid) AS first "
        f"FROM {table} GROUP BY {key} HAVING count(*) > 1)"
    ).fetchone()
    if not count:
        return []
    where = _describe(con, source, first, None)
    return [ValidationFault(source.path.name, source.table.key, "duplicate primary key", where, int(count))]


def dangling_references(con: duckdb.DuckDBPyConnection, source: SourceFile) -> list[ValidationFault]:
    faults = []
    for column in source.table.columns:
        if not column.references:
            continue
        parent, parent_key = column.references.split(".")
        value = ident(column.name)
        count, first = con.execute(
            f"SELECT count(*), min(c.rowid) FROM {source.table.name} AS c ANTI JOIN {parent} AS p "
            f"ON c.{value} = p.{ident(parent_key)} WHERE c.{value} IS NOT NULL"
        ).fetchone()
        if count:
            where = _describe(con, source, first, column.name)
            rule = f"references missing {column.references}"
            faults.append(ValidationFault(source.path.name, column.name, rule, where, count))
    return faults


def load_validated(con: duckdb.DuckDBPyConnection, sources: list[SourceFile]) -> None:
    """Load every file typed into `con`, then refuse the export if any rule is broken."""
    create_enum_types(con)
    install_build_macros(con)
    faults: list[ValidationFault] = []
    with Progress("loading tables", total=len(sources) + 1) as progress:
        for source in sources:
            progress.advance(f"loading {source.path.name}")
            faults += load_table(con, source)
        refuse(faults)
        progress.advance("checking keys, references and row rules")
        for source in sources:
            faults += duplicate_keys(con, source) + run_checks(con, source, row_rules(source.table))
        for source in sources:
            faults += dangling_references(con, source)
        refuse(faults)


def load_table(con: duckdb.DuckDBPyConnection, source: SourceFile) -> list[ValidationFault]:
    """One pass over a file into its typed table; the faults of its columns."""
    try:
        types = source.source_types(con)
        missing, checks = column_checks(source, types)
        if missing:
            return missing
        con.execute(f"CREATE TABLE {source.table.name} AS {typed_select(source, types, checks)}")
    except (duckdb.Error, ValueError, UnicodeDecodeError) as exc:
        return [ValidationFault(source.path.name, None, f"unreadable file: {first_line(exc)}")]
    faults = mask_faults(con, source, checks)
    con.execute(f"ALTER TABLE {source.table.name} DROP COLUMN {FAULT_MASK}")
    return faults


def refuse(faults: list[ValidationFault]) -> None:
    if faults:
        raise InvalidExportError(faults)


def create_enum_types(con: duckdb.DuckDBPyConnection) -> None:
    for name, values in ENUMS.items():
        labels = ", ".join("'" + v + "'" for v in values)
        con.execute(f"CREATE TYPE {name} AS ENUM ({labels})")


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
