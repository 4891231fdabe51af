"""Export folders as real tools write them build and audit as the canonical CSV export does."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest
from conftest import SAMPLE_EXPORT
from postgres_server import load_postgres, running_server
from test_database import TAKEN, assert_same_tables, findings_of

from audit_lib.ingest.schema import TABLES
from audit_lib.ingest.snapshot import build_snapshot


@pytest.fixture(scope="module")
def canonical(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("canonical") / "csv.duckdb"
    build_snapshot(SAMPLE_EXPORT, out, taken_at=TAKEN)
    return out


def typed_sample() -> duckdb.DuckDBPyConnection:
    """The sample as typed DuckDB tables (what an exporter holds before writing)."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for table in TABLES:
        con.execute(
            f"CREATE TABLE {table.name} AS SELECT * FROM read_csv('{SAMPLE_EXPORT / table.name}.csv')"
        )
    return con


def frames(kind: str) -> dict[str, object]:
    """Every table as a pandas or polars frame with real types (timestamps zoned UTC)."""
    out = {}
    for table in TABLES:
        path = SAMPLE_EXPORT / f"{table.name}.csv"
        if kind == "pandas":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
            for c in table.columns:
                if c.kind == "timestamp":
                    frame[c.name] = pd.to_datetime(frame[c.name], utc=True)
                elif c.kind == "boolean":
                    frame[c.name] = frame[c.name].map({"true": True, "false": False})
            out[table.name] = frame
        else:
            frame = pl.read_csv(path, infer_schema=False)
            casts = []
            for c in table.columns:
                if c.kind == "timestamp":
                    casts.append(pl.col(c.name).str.to_datetime(time_zone="UTC"))
                elif c.kind == "date":
                    casts.append(pl.col(c.name).str.to_date())
                elif c.kind == "boolean":
                    casts.append(pl.col(c.name) == "true")
            out[table.name] = frame.with_columns(casts)
    return out


def export_with(tool: str, folder: Path) -> Path:
    folder.mkdir()
    if tool.startswith("duckdb"):
        con = typed_sample()
        fmt = "csv" if tool == "duckdb-csv" else "parquet"
        for table in TABLES:
            options = "(HEADER, DELIMITER ',')" if fmt == "csv" else "(FORMAT parquet)"
            con.execute(f"COPY {table.name} TO '{folder / table.name}.{fmt}' {options}")
        return folder
    kind, fmt = tool.split("-")
    for name, frame in frames(kind).items():
        target = folder / f"{name}.{fmt}"
        if kind == "pandas":
            frame.to_csv(target, index=False) if fmt == "csv" else frame.to_parquet(target, index=False)
        else:
            frame.write_csv(target) if fmt == "csv" else frame.write_parquet(target)
    return folder


@pytest.mark.parametrize(
    "tool", ["duckdb-csv", "duckdb-parquet", "pandas-csv", "pandas-parquet", "polars-csv", "polars-parquet"]
)
def test_exports_build_and_audit_identically(tool: str, canonical: Path, tmp_path: Path) -> None:
    folder = export_with(tool, tmp_path / "export")
    out = tmp_path / "s.duckdb"
    build_snapshot(folder, out, taken_at=TAKEN)
    assert findings_of(out) == findings_of(canonical)
    if tool.endswith("csv"):
        assert_same_tables(canonical, out)


@pytest.fixture(scope="module")
def pg_copy_export(tmp_path_factory) -> Path:
    """The sample loaded into PostgreSQL and written back with COPY TO (CSV) in Europe/Berlin time."""
    folder = tmp_path_factory.mktemp("pgcopy")
    with running_server() as server:
        load_postgres(server, "inv", SAMPLE_EXPORT)
        for table in TABLES:
            target = folder / f"{table.name}.csv"
            server.psql(f"\\copy inv.{table.name} TO '{target}' CSV HEADER", zone="Europe/Berlin")
    return folder


def test_postgres_copy_csv_in_a_foreign_zone(pg_copy_export: Path, canonical: Path, tmp_path: Path) -> None:
    text = (pg_copy_export / "customers.csv").read_text()
    assert "+01\n" in text or "+01," in text or "+02" in text  # offsets without minutes
    assert ",t," in (pg_copy_export / "personal_data.csv").read_text() + ",t,"  # booleans as t/f
    out = tmp_path / "s.duckdb"
    build_snapshot(pg_copy_export, out, taken_at=TAKEN)
    assert_same_tables(canonical, out)
    assert findings_of(out) == findings_of(canonical)


def test_null_marker(cli, canonical: Path, tmp_path: Path) -> None:
    """`--null-marker '\\N'`: exporters that write NULL as \\N (PostgreSQL text format, MySQL)."""
    from audit_lib.cli import app

    folder = tmp_path / "export"
    folder.mkdir()
    for table in TABLES:
        lines = (SAMPLE_EXPORT / f"{table.name}.csv").read_text().splitlines()
        rows = [lines[0]] + [",".join(v if v else "\\N" for v in line.split(",")) for line in lines[1:]]
        (folder / f"{table.name}.csv").write_text("\n".join(rows) + "\n")
    refused = cli.invoke(app, ["snapshot", "build", str(folder), "--out", str(tmp_path / "a.duckdb")])
    assert refused.exit_code == 2
    out = tmp_path / "b.duckdb"
    args = ["snapshot", "build", str(folder), "--out", str(out), "--taken-at", TAKEN, "--null-marker", "\\N"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert_same_tables(canonical, out)
