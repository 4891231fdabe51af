"""An export folder's files: which file is which table, and how DuckDB reads each as it is."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.errors import InvalidExportError, ValidationFault
from audit_lib.ingest.schema import TABLES, Table

if TYPE_CHECKING:
    import duckdb


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class SourceFile:
    """One table's export file."""

    table: Table
    path: Path

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".")

    def locate(self, row: int) -> str:
        """Name a row (0-based, file order) the way a person finds it in the file."""
        if self.format != "csv":
            return f"row {row + 1}"
        with self.path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            end_of_previous = 0
            for index, _ in enumerate(reader):  # the header is record 0
                if index == row + 1:
                    return f"line {end_of_previous + 1}"
                end_of_previous = reader.line_num
        return f"row {row + 1}"

    def reader(self) -> str:
        """The DuckDB table function reading this file as it is."""
        path = literal(str(self.path))
        if self.format == "parquet":
            return f"read_parquet({path})"
        columns = ", ".join(f"{literal(name)}: 'VARCHAR'" for name in csv_header(self.path))
        return (
            f"read_csv({path}, header=true, auto_detect=false, columns={{{columns}}}, "
            "delim=',', quote='\"', escape='\"', strict_mode=true, encoding='utf-8')"
        )

    def source_types(self, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
        """Column name -> DuckDB type of the file as it is."""
        if self.format == "csv":
            return dict.fromkeys(csv_header(self.path), "VARCHAR")
        described = con.execute(f"DESCRIBE SELECT * FROM {self.reader()}").fetchall()
        return {name: kind for name, kind, *_ in described}


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
            faults.append(ValidationFault(found[0].name, None, "table given twice (one format per table)"))
        else:
            sources.append(SourceFile(table, found[0]))
    if faults:
        raise InvalidExportError(faults)
    return sources


def csv_header(path: Path) -> list[str]:
    """The header row (a UTF-8 byte order mark is allowed); refuse clashing names."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header or not any(name.strip() for name in header):
        raise ValueError("empty file: no header row")
    folded = [name.lower() for name in header]
    clashes = sorted({name for name in header if folded.count(name.lower()) > 1})
    if clashes:
        raise ValueError(f"column names given twice (case-insensitively): {', '.join(clashes)}")
    return header
