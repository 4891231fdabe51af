"""Strict validation of an export against the inventory contract, in DuckDB.

Each export file is first loaded as-is into a temporary staging table
(`raw_<table>`, one row per data row, in file order). The checks are then
set-based SQL over the staging tables, in two phases:

1. per column: presence, NULLs, type and enum conversion (one scan a table);
2. on the typed tables: duplicate keys, references and cross-column rules.

Every fault names file, column, rule, first offending row and the count.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from audit_lib.errors import InvalidExportError, ValidationFault
from audit_lib.schema import TABLES, Column, Table

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"


@dataclass(frozen=True)
class SourceFile:
    """One table's export file, staged as `raw_<table>`."""

    table: Table
    path: Path

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".")

    @property
    def raw(self) -> str:
        return f"raw_{self.table.name}"

    def locate(self, row: int) -> str:
        """Name a staged row (0-based) the way a person finds it in the file."""
        return f"line {row + 2}" if self.format == "csv" else f"row {row + 1}"


def find_sources(export_dir: Path) -> list[SourceFile]:
    """Pair every contract table with exactly one file of the folder."""
    if not export_dir.is_dir():
        raise InvalidExportError([ValidationFault(str(export_dir), None, "not a folder")])
    faults, sources = [], []
    for table in TABLES:
        found = [export_dir / f"{table.name}.{ext}" for ext in ("csv", "parquet")]
        found = [p for p in found if p.is_file()]
        if not found:
            faults.append(ValidationFault(f"{table.name}.csv", None, "missing table file"))
        elif len(found) > 1:
            rule = "table given twice (one format per table)"
            faults.append(ValidationFault(found[0].name, None, rule))
        else:
            sources.append(SourceFile(table, found[0]))
    if faults:
        raise InvalidExportError(faults)
    return sources


def stage(con: duckdb.DuckDBPyConnection, sources: list[SourceFile]) -> None:
    """Load every file as-is into a temporary table; refuse unreadable files."""
    faults = []
    for source in sources:
        try:
            con.execute(f"CREATE TEMP TABLE {source.raw} AS SELECT * FROM {_reader(source)}")
        except (duckdb.Error, ValueError, UnicodeDecodeError) as exc:
            faults.append(ValidationFault(source.path.name, None, _first_line(exc)))
    if faults:
        raise InvalidExportError(faults)


def _reader(source: SourceFile) -> str:
    path = str(source.path).replace("'", "''")
    if source.format == "parquet":
        return f"read_parquet('{path}')"
    header = _csv_header(source.path)
    columns = ", ".join(f"'{_quote_literal(name)}': 'VARCHAR'" for name in header)
    return (
        f"read_csv('{path}', header=true, auto_detect=false, columns={{{columns}}}, "
        "delim=',', quote='\"', escape='\"', strict_mode=true, encoding='utf-8')"
    )


def _csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if not header or not any(name.strip() for name in header):
        raise ValueError("empty file: no header row")
    return header


def _quote_literal(text: str) -> str:
    return text.replace("'", "''")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"unreadable file: {text[0] if text else type(exc).__name__}"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def convert(column: Column, source_type: str) -> str:
    """SQL turning a staged value into the contract type (NULL when it cannot)."""
    value, text = ident(column.name), source_type == "VARCHAR"
    if column.enum:
        return f"TRY_CAST({value} AS {column.kind})"
    if column.kind == "timestamp":
        return f"TRY_CAST({value} AS TIMESTAMPTZ)"
    if column.kind == "date":
        if text:
            return (
                f"CASE WHEN regexp_full_match({value}, '{DATE_PATTERN}') THEN TRY_CAST({value} AS DATE) END"
            )
        return f"TRY_CAST({value} AS DATE)"
    if column.kind == "boolean":
        if source_type == "BOOLEAN":
            return value
        truth = f"lower(trim(CAST({value} AS VARCHAR)))"
        return f"CASE {truth} WHEN 'true' THEN true WHEN '1' THEN true WHEN 'false' THEN false WHEN '0' THEN false END"
    as_text = value if text else f"CAST({value} AS VARCHAR)"
    if column.kind == "country":
        return f"CASE WHEN regexp_full_match({as_text}, '{COUNTRY_PATTERN}') THEN {as_text} END"
    return f"NULLIF({as_text}, '')"


def type_rule(column: Column) -> str:
    if column.enum:
        return f"unknown {column.kind} value (allowed: {', '.join(column.enum)})"
    return {
        "timestamp": "not an ISO 8601 timestamp",
        "date": "not a YYYY-MM-DD date",
        "boolean": "not a boolean (true/false/1/0)",
        "country": "not an ISO 3166-1 alpha-2 upper-case country code",
        "string": "empty string",
    }[column.kind]


@dataclass(frozen=True)
class Check:
    """One row-level rule: `broken` is SQL over the staging row."""

    column: str | None
    rule: str
    broken: str


def column_checks(
    con: duckdb.DuckDBPyConnection, source: SourceFile
) -> tuple[list[ValidationFault], list[Check]]:
    """Phase-1 checks of one staged file: missing columns, NULLs, types."""
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {source.raw})").fetchall())
    missing = [c for c in source.table.columns if c.name not in types]
    faults = [ValidationFault(source.path.name, c.name, "missing column") for c in missing]
    checks = []
    for column in source.table.columns:
        if column in missing:
            continue
        value = ident(column.name)
        if not column.nullable:
            checks.append(Check(column.name, "NULL not allowed", f"{value} IS NULL"))
        converted = convert(column, types[column.name])
        checks.append(Check(column.name, type_rule(column), f"{value} IS NOT NULL AND ({converted}) IS NULL"))
    return faults, checks


def run_checks(
    con: duckdb.DuckDBPyConnection, source: SourceFile, relation: str, checks: list[Check]
) -> list[ValidationFault]:
    """Evaluate row checks in one scan; report count and first row of each broken one."""
    if not checks:
        return []
    parts = ", ".join(
        f"count(*) FILTER (WHERE {c.broken}), min(rowid) FILTER (WHERE {c.broken})" for c in checks
    )
    row = con.execute(f"SELECT {parts} FROM {relation}").fetchone()
    faults = []
    for i, check in enumerate(checks):
        count, first = row[2 * i], row[2 * i + 1]
        if count:
            where = _describe_row(con, source, relation, first, check.column)
            faults.append(ValidationFault(source.path.name, check.column, check.rule, where, count))
    return faults


def _describe_row(
    con: duckdb.DuckDBPyConnection, source: SourceFile, relation: str, row: int, column: str | None
) -> str:
    key = source.table.key
    cols = [ident(key)] + ([f"CAST({ident(column)} AS VARCHAR)"] if column else [])
    values = con.execute(f"SELECT {', '.join(cols)} FROM {relation} WHERE rowid = ?", [row]).fetchone()
    text = f"{source.locate(row)}, {key} {_shorten(values[0])}"
    if column and column != key:
        text += f", value {_shorten(values[1])}"
    return text


def _shorten(value: object) -> str:
    text = "NULL" if value is None else repr(str(value))
    return text if len(text) <= 60 else text[:57] + "..."


def table_checks(table: Table) -> list[Check]:
    """Phase-2 row checks on a typed table: the contract's cross-column rules."""
    return [Check(rule.column, rule.rule, f"({rule.broken}) IS TRUE") for rule in table.rules]


def duplicate_keys(con: duckdb.DuckDBPyConnection, source: SourceFile) -> list[ValidationFault]:
    key, table = ident(source.table.key), source.table.name
    count, first = con.execute(
        f"SELECT sum(n), min(first) FROM (SELECT count(*) AS n, min(rowid) AS first "
        f"FROM {table} GROUP BY {key} HAVING count(*) > 1)"
    ).fetchone()
    if not count:
        return []
    where = _describe_row(con, source, table, first, None)
    return [ValidationFault(source.path.name, source.table.key, "duplicate primary key", where, int(count))]


def dangling_references(con: duckdb.DuckDBPyConnection, source: SourceFile) -> list[ValidationFault]:
    faults = []
    for column in source.table.columns:
        if not column.references:
            continue
        parent, parent_key = column.references.split(".")
        value = ident(column.name)
        missing = (
            f"{value} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.{ident(parent_key)} = {source.table.name}.{value})"
        )
        check = Check(column.name, f"references missing {column.references}", missing)
        faults += run_checks(con, source, source.table.name, [check])
    return faults
