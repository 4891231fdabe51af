"""Strict validation of an export against the inventory contract, in DuckDB.

`load_validated(con, sources)` is the entry point: it loads every file into its
typed table and refuses the export (InvalidExportError, every fault) in the
contract's order: columns of all tables first, then keys, row rules and
references.

Each file is read once: one `CREATE TABLE AS` converts every listed column to
its contract type and records, per row, a bit mask of the checks only the
file's values can judge (a nullable column's value that does not convert). A
column that may not be NULL needs no bit: a NULL in the typed table is a NULL
or a value that did not convert. Only a file with a fault is read a second
time, with a bit for every check, to name each fault with its first row.
Once the columns are sound, one scan of each typed table checks its keys and
its cross-column rules and sums its content checksum; set-based joins check
the references.

Every fault names file, column, rule, first offending row and the count.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb

from audit_lib.errors import InvalidExportError, ValidationFault
from audit_lib.ingest.schema import EARLIEST, ENUMS, LATEST, Column, RowRule, Table
from audit_lib.ingest.sources import (
    BLANK_LINE_RULE,
    FileScan,
    SourceFault,
    SourceFile,
    csv_fault,
    ident,
    position_name,
)
from audit_lib.progress import Progress

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
#: A timestamp starts with a full date (DuckDB's cast also takes `epoch`, `infinity`,
#: `2026-7-1`); a LIKE costs a third of a regular expression on millions of values.
TIMESTAMP_SHAPE = "____-__-__%"
#: `YYYY-MM-DDTHH:MM:SSZ` in digits, the contract's own form: no fraction, no offset to check.
CANONICAL_TIMESTAMP = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z"
#: After the date and its separator (`T` or a space) only a time and an offset may follow
#: (DuckDB's cast would also take zone names, `CET`). A regular expression over the tail:
#: six times faster than rtrim() with a character set, which it replaces exactly.
TIME_AND_OFFSET = "[0-9:.+Z-]*"
#: An offset, where a value has one, is within ±14:00 (the cast takes any).
OFFSET_PATTERN = r".*\d[+-](((0\d|1[0-3])(:?[0-5]\d)?)|14(:?00)?)"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
FAULT_MASK = "#faults"  # positional names `#0`, `#1`... and this one never meet a header's name
#: A table's content checksum: the sum of its rows' hashes (free of row order), as text.
CONTENT_CHECKSUM = "coalesce(sum(hash(*COLUMNS(*))), 0)::VARCHAR"


@dataclass(frozen=True)
class TableSum:
    """A loaded table's row count and content checksum (CONTENT_CHECKSUM)."""

    rows: int
    content: str


#: DuckDB types a Parquet column may have, per contract kind (enums read as strings);
#: `"NULL"` is Parquet's all-NULL column. Anything else (LIST, STRUCT, MAP, BLOB,
#: INTERVAL, a zoned timestamp in a date column) is refused, never cast to text.
SIGNED = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
INTEGERS = (*SIGNED, *("U" + t for t in SIGNED))
NAIVE_TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")
PARQUET_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("VARCHAR", *INTEGERS),
    "enum": ("VARCHAR",),
    "country": ("VARCHAR",),
    "boolean": ("BOOLEAN", "VARCHAR", *INTEGERS),
    "timestamp": ("VARCHAR", "TIMESTAMP WITH TIME ZONE", "DATE", *NAIVE_TIMESTAMPS),
    "date": ("VARCHAR", "DATE", *NAIVE_TIMESTAMPS),
}
NULL_TYPE = '"NULL"'

#: Build-time helpers: controls.md compares timestamps to the second, so values are
#: kept to the whole second (floored); infinities are not timestamps of an inventory;
#: a timestamp or date outside TIME_RANGE is no value an audit can reason about.
BUILD_MACROS = {
    "whole_second(ts)": "CASE WHEN isfinite(ts) THEN make_timestamptz("
    "epoch_us(ts) - ((epoch_us(ts) % 1000000) + 1000000) % 1000000) END",
    "in_time_range(ts)": f"CASE WHEN ts >= TIMESTAMPTZ '{EARLIEST} 00:00:00+00' "
    f"AND ts < TIMESTAMPTZ '{LATEST + timedelta(days=1)} 00:00:00+00' THEN ts END",
    "in_date_range(d)": f"CASE WHEN d BETWEEN DATE '{EARLIEST}' AND DATE '{LATEST}' THEN d END",
}


def install_build_macros(con: duckdb.DuckDBPyConnection) -> None:
    for signature, body in BUILD_MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {signature} AS {body}")


def convert(column: Column, source_type: str, value: str | None = None) -> str:
    """SQL turning a file's value (the SQL `value`) into the contract type (NULL when it cannot)."""
    value, text = value or ident(column.name), source_type == "VARCHAR"
    if source_type == NULL_TYPE:
        return f"CAST(NULL AS {column.kind if column.enum else SQL_TYPES[column.kind]})"
    if column.enum:
        return f"TRY_CAST({value} AS {column.kind})"
    if column.kind == "timestamp":
        stamp = f"in_time_range(whole_second(TRY_CAST({value} AS TIMESTAMPTZ)))"
        if not text:
            return stamp
        tail = f"substr({value}, 11)"
        return (  # the canonical shape first: cheap, and what most exporters write
            f"CASE WHEN {value} GLOB '{CANONICAL_TIMESTAMP}' "
            f"THEN in_time_range(TRY_CAST({value} AS TIMESTAMPTZ)) "
            f"WHEN {value} LIKE '{TIMESTAMP_SHAPE}' "
            f"AND regexp_full_match(substr({value}, 12), '{TIME_AND_OFFSET}') "
            f"AND (strpos({tail}, '+') + strpos({tail}, '-') = 0 "
            f"OR regexp_full_match({tail}, '{OFFSET_PATTERN}')) "
            f"THEN {stamp} END"
        )
    if column.kind == "date":
        if text:
            date = f"in_date_range(TRY_CAST({value} AS DATE))"
            return f"CASE WHEN regexp_full_match({value}, '{DATE_PATTERN}') THEN {date} END"
        if source_type.startswith("TIMESTAMP"):  # only a midnight is a date
            day = f"in_date_range(CAST({value} AS DATE))"
            return f"CASE WHEN CAST({value} AS TIME) = TIME '00:00:00' THEN {day} END"
        return f"in_date_range(TRY_CAST({value} AS DATE))"
    if column.kind == "boolean":
        if source_type == "BOOLEAN":
            return value
        truth = f"lower(trim(CAST({value} AS VARCHAR)))"
        return (  # the canonical words first: five times cheaper than lower(trim(...))
            f"CASE CAST({value} AS VARCHAR) WHEN 'true' THEN true WHEN 'false' THEN false "
            f"ELSE CASE WHEN {truth} IN ('true', 't', '1') THEN true "
            f"WHEN {truth} IN ('false', 'f', '0') THEN false END END"
        )
    as_text = value if text else f"CAST({value} AS VARCHAR)"
    if column.kind == "country":
        return f"CASE WHEN regexp_full_match({as_text}, '{COUNTRY_PATTERN}') THEN {as_text} END"
    return f"NULLIF({as_text}, '')"


SQL_TYPES = {
    "string": "VARCHAR",
    "country": "VARCHAR",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
}


def type_rule(column: Column, source_format: str = "csv") -> str:
    """The rule a value breaks when it does not convert, in the words of its file's format."""
    if column.kind == "date" and source_format != "parquet":
        return f"not a YYYY-MM-DD date from {EARLIEST} to {LATEST}"
    if column.enum:
        return f"unknown {column.kind} value (allowed: {', '.join(column.enum)})"
    return {
        "timestamp": f"not an ISO 8601 timestamp (offset within ±14:00, no zone name) from {EARLIEST} "
        f"to {LATEST} UTC",
        "date": f"not a YYYY-MM-DD date from {EARLIEST} to {LATEST} (a Parquet timestamp must be at "
        "midnight)",
        "boolean": "not a boolean (true/false, t/f, 1/0)",
        "country": "not an ISO 3166-1 alpha-2 upper-case country code",
        "string": "empty string",
    }[column.kind]


def parquet_type_rule(column: Column, source_type: str) -> str | None:
    """Why a Parquet column's type cannot hold the column's kind; None when it can."""
    allowed = PARQUET_TYPES["enum" if column.enum else column.kind]
    if source_type in allowed or source_type == NULL_TYPE:
        return None
    kind = f"{column.kind} (enum)" if column.enum else column.kind
    return f"Parquet type {source_type} cannot hold a {kind} (allowed: {', '.join(allowed)}, or all NULL)"


@dataclass(frozen=True)
class Layout:
    """A file's columns as it has them, and where each listed column is."""

    columns: list[tuple[str, str]]  # (name, DuckDB type), file order

    def position(self, name: str) -> int | None:
        return next((i for i, (n, _) in enumerate(self.columns) if n == name), None)

    def extras(self, table: Table) -> list[tuple[int, str]]:
        listed = {c.name for c in table.columns}
        return [(i, n) for i, (n, _) in enumerate(self.columns) if n not in listed]


def column_checks(source: SourceFile, layout: Layout) -> tuple[list[ValidationFault], list[RowRule]]:
    """Missing and mistyped columns, and the NULL and type checks of the present ones."""
    faults, checks = [], []
    names = [name for name, _ in layout.columns]
    if source.format == "csv" and len(names) == 1 and any(sep in names[0] for sep in (";", "\t", "|")):
        sep = next(s for s in (";", "\t", "|") if s in names[0])
        rule = (
            f"not comma-separated: the header is one field holding {sep!r} (the contract's CSV uses commas)"
        )
        return [ValidationFault(source.path.name, None, rule)], []
    for column in source.table.columns:
        at = layout.position(column.name)
        if at is None:
            faults.append(ValidationFault(source.path.name, column.name, "missing column"))
            continue
        source_type = layout.columns[at][1]
        mistyped = parquet_type_rule(column, source_type) if source.format == "parquet" else None
        if hasattr(source, "type_fault"):  # a database source judges its declared types
            mistyped = source.type_fault(column)
        if mistyped:
            faults.append(ValidationFault(source.path.name, column.name, mistyped))
            continue
        value = ident(position_name(at))
        if not column.nullable:
            checks.append(RowRule(column.name, "NULL not allowed", f"{value} IS NULL"))
        converted = convert(column, source_type, value)
        rule = type_rule(column, source.format)
        checks.append(RowRule(column.name, rule, f"{value} IS NOT NULL AND ({converted}) IS NULL"))
    return faults, checks


def typed_select(source: SourceFile, layout: Layout, checks: list[RowRule]) -> str:
    """One pass over the file: typed columns, extra columns as they are (by position), the fault
    mask of `checks` (none without)."""
    selected = []
    for column in source.table.columns:
        at = layout.position(column.name)
        value = ident(position_name(at))
        selected.append(f"{convert(column, layout.columns[at][1], value)} AS {ident(column.name)}")
    selected += [ident(position_name(i)) for i, _ in layout.extras(source.table)]
    if checks:  # else no mask: a constant column still costs a twentieth of the load
        mask = " + ".join(f"(CASE WHEN {c.broken} THEN {1 << i} ELSE 0 END)" for i, c in enumerate(checks))
        selected.append(f"CAST({mask} AS BIGINT) AS {ident(FAULT_MASK)}")
    return f"SELECT {', '.join(selected)} FROM {source.reader(len(layout.columns))}"


def mask_faults(
    con: duckdb.DuckDBPyConnection, source: SourceFile, layout: Layout, checks: list[RowRule]
) -> list[ValidationFault]:
    """Read the fault mask of a loaded table: one fault per check some row breaks."""
    table, mask = source.table.name, ident(FAULT_MASK)
    (seen,) = con.execute(f"SELECT bit_or({mask}) FROM {table}").fetchone()
    faults = []
    for i, check in enumerate(checks):
        if seen and seen & (1 << i):
            count, first = con.execute(
                f"SELECT count(*), min(rowid) FROM {table} WHERE {mask} & {1 << i} <> 0"
            ).fetchone()
            faults.append(row_fault(con, source, check.column, check.rule, first, count, layout))
    return faults


def row_fault(
    con: duckdb.DuckDBPyConnection,
    source: SourceFile,
    column: str | None,
    rule: str,
    first: int,
    count: int,
    raw: Layout | None = None,
) -> ValidationFault:
    """The fault of a rule that `count` rows break, named with the first of them (`first`, a rowid)."""
    return ValidationFault(source.path.name, column, rule, _describe(con, source, first, column, raw), count)


def _describe(
    con: duckdb.DuckDBPyConnection,
    source: SourceFile,
    row: int,
    column: str | None,
    raw: Layout | None = None,
) -> str:
    """`line 7, item_id 'I7', value 'ssn'`; with the file's `raw` layout, the value as the file has it."""
    key = source.table.key
    text = f"{source.locate(row)}, {key} {_shorten(_value_at(con, source.table.name, ident(key), row))}"
    if column and column != key:
        if raw is not None:
            width = len(raw.columns)
            relation = f"(SELECT * FROM {source.reader(width)} LIMIT 1 OFFSET {int(row)})"
            value = _value_at(con, relation, ident(position_name(raw.position(column))), row)
        else:
            value = _value_at(con, source.table.name, ident(column), row)
        text += f", value {_shorten(value)}"
    return text


def _value_at(con: duckdb.DuckDBPyConnection, relation: str, value: str, row: int) -> object:
    where = "" if relation.startswith("(") else f" WHERE rowid = {int(row)}"
    (value,) = con.execute(f"SELECT CAST({value} AS VARCHAR) FROM {relation}{where}").fetchone()
    return value


def _shorten(value: object) -> str:
    text = "NULL" if value is None else repr(str(value))
    return text if len(text) <= 60 else text[:57] + "..."


def row_rules(table: Table) -> list[RowRule]:
    """The contract's cross-column rules, over a typed table."""
    return [RowRule(rule.column, rule.rule, f"({rule.broken}) IS TRUE") for rule in table.rules]


def table_pass(con: duckdb.DuckDBPyConnection, source: SourceFile) -> tuple[list[ValidationFault], TableSum]:
    """One scan of a loaded table for its rows, its content checksum and its row rules' breaks;
    then its keys proved unique the cheapest sound way (`keys_unique`), or their repeats named."""
    rules = row_rules(source.table)
    aggregates = ["count(*)", CONTENT_CHECKSUM] + [
        f"count(*) FILTER (WHERE {c.broken}), min(rowid) FILTER (WHERE {c.broken})" for c in rules
    ]
    table = source.table.name
    rows, content, *broken = con.execute(f"SELECT {', '.join(aggregates)} FROM {table}").fetchone()
    faults = [] if keys_unique(con, source, rows) else duplicate_keys(con, source)
    for i, rule in enumerate(rules):
        count, first = broken[2 * i], broken[2 * i + 1]
        if count:
            faults.append(row_fault(con, source, rule.column, rule.rule, first, count))
    return faults, TableSum(rows, content)


def keys_unique(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int) -> bool:
    """Whether no key of the (NULL-free) key column repeats, proved without grouping the keys.

    Keys that strictly increase from each row to the next in one total order are distinct:
    one streaming pass, a third of a hash table's cost. Two orders are tried in that pass:
    the text's (`C0000009` < `C0000010`) and shorter-first (`C9` < `C10`, how numbered keys
    come out of a database). Exactly `rows - 1` increases are asked for, so the pass must have
    seen the rows as one sequence. Otherwise as many distinct key hashes as rows proves it
    (equal keys hash alike). False is a repeat or a hash collision: `duplicate_keys` tells
    them apart exactly.
    """
    key, table = ident(source.table.key), source.table.name
    longer = "strlen(k) > strlen(previous) OR (strlen(k) = strlen(previous) AND k > previous)"
    increases = con.execute(
        f"SELECT count(*) FILTER (WHERE k > previous), count(*) FILTER (WHERE {longer}) "
        f"FROM (SELECT {key} AS k, lag({key}) OVER () AS previous FROM {table})"
    ).fetchone()
    if rows <= 1 or rows - 1 in increases:
        return True
    (hashes,) = con.execute(f"SELECT count(DISTINCT hash({key})) FROM {table}").fetchone()
    return hashes == rows


def duplicate_keys(con: duckdb.DuckDBPyConnection, source: SourceFile) -> list[ValidationFault]:
    """Rows whose key another row has too (with the first such row and their count)."""
    key, table = ident(source.table.key), source.table.name
    count, first = con.execute(
        f"SELECT sum(n), min(first) FROM (SELECT count(*) AS n, min(rowid) AS first "
        f"FROM {table} GROUP BY {key} HAVING count(*) > 1)"
    ).fetchone()
    if not count:
        return []
    return [row_fault(con, source, source.table.key, "duplicate primary key", first, int(count))]


def dangling_references(con: duckdb.DuckDBPyConnection, sources: list[SourceFile]) -> list[ValidationFault]:
    """Values of a referencing column that its parent table lacks (with the first such row and
    their count): the columns referencing one parent in one anti join, its hash table built once."""
    refs = [(s, c) for s in sources for c in s.table.columns if c.references]
    parents = sorted({c.references for _, c in refs})
    broken: dict[int, tuple[int, int]] = {}
    for parent in parents:
        table, key = parent.split(".")
        children = " UNION ALL ".join(
            f"SELECT {i} AS ref, rowid AS first, {ident(c.name)} AS value FROM {s.table.name} "
            f"WHERE {ident(c.name)} IS NOT NULL"
            for i, (s, c) in enumerate(refs)
            if c.references == parent
        )
        broken |= {
            ref: (count, first)
            for ref, count, first in con.execute(
                f"SELECT ref, count(*), min(first) FROM ({children}) AS c ANTI JOIN {table} AS p "
                f"ON c.value = p.{ident(key)} GROUP BY ref"
            ).fetchall()
        }
    faults = []
    for i, (source, column) in enumerate(refs):
        if i in broken:
            count, first = broken[i]
            rule = f"references missing {column.references}"
            faults.append(row_fault(con, source, column.name, rule, first, count))
    return faults


def load_validated(
    con: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    scans: Mapping[Path, Future[FileScan]] | None = None,
) -> dict[str, TableSum]:
    """Load every file typed into `con`, then refuse the export if any rule is broken; each
    table's rows and content checksum, counted in the same scan as its keys and row rules.

    `scans`: each CSV file's scan (sources.scanning), which tells its blank lines.
    Until every check has run, a table's extra columns keep positional names
    (and `rowid` is DuckDB's row number in file order); they get their own names last.
    """
    create_enum_types(con)
    install_build_macros(con)
    faults: list[ValidationFault] = []
    layouts: dict[str, Layout] = {}
    sums: dict[str, TableSum] = {}
    with Progress("loading tables", total=len(sources) + 1) as progress:
        for source in sources:
            progress.advance(f"loading {source.path.name}")
            scan = scans.get(source.path) if scans else None
            found, layouts[source.table.name] = load_table(con, source, scan)
            faults += found
        refuse(faults)
        progress.advance("checking keys, references and row rules")
        for source in sources:
            found, sums[source.table.name] = table_pass(con, source)
            faults += found
        faults += dangling_references(con, sources)
        refuse(faults)
    for source in sources:
        for at, name in layouts[source.table.name].extras(source.table):
            con.execute(
                f"ALTER TABLE {source.table.name} RENAME COLUMN {ident(position_name(at))} TO {ident(name)}"
            )
    return sums


def load_table(
    con: duckdb.DuckDBPyConnection, source: SourceFile, scan: Future[FileScan] | None = None
) -> tuple[list[ValidationFault], Layout]:
    """One pass over a file into its typed table; the faults of its columns.

    The file's `scan` is awaited after the load, which it runs beside: a blank
    line found there is the file's one fault (only its header's faults come first).
    """
    layout = Layout([])
    try:
        layout = Layout(source.columns(con))
        faults, checks = column_checks(source, layout)
        raw = raw_checks(source, checks)
        if not faults:
            con.execute(f"CREATE TABLE {source.table.name} AS {typed_select(source, layout, raw)}")
    except SourceFault as fault:
        return [ValidationFault(source.path.name, None, fault.rule, fault.first)], layout
    except duckdb.Error as exc:
        if source.format == "csv" and layout.columns:
            fault = csv_fault(source, len(layout.columns))
            faults = [ValidationFault(source.path.name, None, fault.rule, fault.first)]
        else:
            faults = [ValidationFault(source.path.name, None, f"unreadable file: {first_line(exc)}")]
    except (OSError, ValueError) as exc:
        return [ValidationFault(source.path.name, None, f"unreadable file: {first_line(exc)}")], layout
    try:
        blank = scan.result().blank_line if scan else None
    except OSError as exc:
        return [ValidationFault(source.path.name, None, f"unreadable file: {first_line(exc)}")], layout
    if blank is not None:
        return [ValidationFault(source.path.name, None, BLANK_LINE_RULE, f"line {blank}")], layout
    if faults:
        return faults, layout
    if columns_sound(con, source, masked=bool(raw)):
        if raw:
            con.execute(f"ALTER TABLE {source.table.name} DROP COLUMN {ident(FAULT_MASK)}")
        return [], layout
    # read again with every check in the mask, to name each fault with its first row
    con.execute(f"CREATE OR REPLACE TABLE {source.table.name} AS {typed_select(source, layout, checks)}")
    faults = mask_faults(con, source, layout, checks)
    con.execute(f"ALTER TABLE {source.table.name} DROP COLUMN {ident(FAULT_MASK)}")
    return faults, layout


def raw_checks(source: SourceFile, checks: list[RowRule]) -> list[RowRule]:
    """The checks only a file's own values can judge: a nullable column's type. In a column that
    may not be NULL, a NULL of the typed table is a NULL or a value that did not convert."""
    nullable = {c.name for c in source.table.columns if c.nullable}
    return [check for check in checks if check.column in nullable]


def columns_sound(con: duckdb.DuckDBPyConnection, source: SourceFile, masked: bool) -> bool:
    """Whether a table loaded with `raw_checks` breaks no column check: its mask (if `masked`)
    empty, and no NULL in a column that may not be NULL (counted from the stored columns)."""
    required = [ident(c.name) for c in source.table.columns if not c.nullable]
    mask = f"coalesce(bit_or({ident(FAULT_MASK)}), 0)" if masked else "0"
    total, mask, *present = con.execute(
        f"SELECT count(*), {mask}, {', '.join(f'count({c})' for c in required)} FROM {source.table.name}"
    ).fetchone()
    return mask == 0 and all(n == total for n in present)


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
