"""A snapshot as a folder of Parquet files: what Spark (or any engine) reads.

`build_parquet_snapshot` validates the export exactly as `build_snapshot`
does (it builds the DuckDB snapshot into a temporary file), then writes each
inventory table as Parquet into a folder of its own and the identity into
`snapshot.json`:

    DIR/snapshot.json            format, contract, identity, the export's files,
                                 per table: columns (DuckDB types), row count,
                                 content and columns checksums, sha256 of each Parquet file
    DIR/<table>/part-0.parquet   one folder per table

The snapshot's sha256 is the sha256 of `snapshot.json`, which names the
sha256 of every Parquet file: one digest pins every byte. The build happens
in a temporary folder beside the target (`.DIR.partial-<owner>`) renamed into
place when complete; an existing target is never overwritten.

DuckDB audits such a snapshot through views over the Parquet files in an
in-memory database, each column cast back to its recorded DuckDB type (the
enums included), so a query sees exactly what the DuckDB snapshot holds.
Opening checks the metadata; `verify_parquet` (run by `opened` and
`verify_snapshot`) also checks every file's sha256, that no file was added,
and the recorded row counts and content checksums.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime
from pathlib import Path

import duckdb

from audit_lib.errors import OutputExistsError, SnapshotError, UsageError
from audit_lib.folders import owner_token, remove_stale_partials, sha256_of, temporary_folder
from audit_lib.ingest.sources import ident, literal
from audit_lib.ingest.validate import first_line

METADATA = "snapshot.json"
#: The layout of a Parquet snapshot folder; a change in its files or metadata bumps it.
PARQUET_FORMAT = "privacy-audit/parquet-snapshot/1"


def is_parquet_snapshot(path: Path | str) -> bool:
    return Path(path).is_dir()


def parquet_sha256(path: Path | str) -> str:
    """The snapshot's sha256: that of its metadata file (which pins every Parquet file)."""
    return sha256_of(Path(path) / METADATA)


def build_parquet_snapshot(export_dir: Path | str, out: Path | str, taken_at: str | datetime | None = None):
    """Validate `export_dir` and write the Parquet snapshot folder `out`; its SnapshotInfo."""
    from audit_lib.ingest.snapshot import CHECKSUMS_TABLE, build_snapshot, connect, read_info

    export_dir, out = Path(export_dir), Path(out)
    if out.exists() or out.is_symlink():
        raise OutputExistsError(f"{out}: already exists; a snapshot is never overwritten")
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent}: no such folder for the snapshot")
    remove_stale_partials(out.parent)
    tmp = out.with_name(f".{out.name}.partial-{owner_token()}")
    with temporary_folder(tmp, f"{out.parent}: cannot write the snapshot there"):
        database = tmp / ".build.duckdb"
        build_snapshot(export_dir, database, taken_at)
        with contextlib.closing(connect(database, read_only=True)) as con:
            info = read_info(con)
            sums = {
                t: (n, c, k)
                for t, n, c, k in con.execute(
                    f"SELECT table_name, row_count, content_checksum, columns_checksum FROM {CHECKSUMS_TABLE}"
                ).fetchall()
            }
            (duckdb_version,) = con.execute("SELECT duckdb_version FROM snapshot_meta").fetchone()
            tables = {}
            for f in info.files:
                name = f["table_name"]
                (tmp / name).mkdir()
                target = tmp / name / "part-0.parquet"
                con.execute(
                    f"COPY {ident(name)} TO {literal(str(target))} (FORMAT parquet, COMPRESSION zstd)"
                )
                columns = con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                    "AND database_name = current_database() ORDER BY column_index",
                    [name],
                ).fetchall()
                rows, content, cols = sums[name]
                tables[name] = {
                    "columns": [[c, t] for c, t in columns],
                    "row_count": rows,
                    "content_checksum": content,
                    "columns_checksum": cols,
                    "files": {f"{name}/{target.name}": sha256_of(target)},
                }
        database.unlink()
        document = {
            "format": PARQUET_FORMAT,
            "contract": info.contract,
            "snapshot_id": info.id,
            "taken_at": info.taken_at.isoformat(),
            "built_at": info.built_at.isoformat(),
            "suite_version": info.suite_version,
            "duckdb_version": duckdb_version,
            "sources": [_jsonable(f) for f in info.files],
            "tables": tables,
        }
        (tmp / METADATA).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        if out.exists() or out.is_symlink():
            raise OutputExistsError(f"{out}: already exists; a snapshot is never overwritten")
        os.rename(tmp, out)
    from audit_lib.ingest.snapshot import snapshot_info

    return snapshot_info(out)


def _jsonable(row: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def read_metadata(path: Path | str) -> dict:
    """The metadata of a Parquet snapshot folder, its format and contract checked."""
    from audit_lib.ingest.snapshot import CONTRACT

    path = Path(path)
    try:
        document = json.loads((path / METADATA).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{path}: not a privacy-audit snapshot (no {METADATA})") from None
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{path}: cannot read {METADATA} ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != PARQUET_FORMAT:
        fmt = document.get("format") if isinstance(document, dict) else None
        raise SnapshotError(f"{path}: foreign snapshot format {fmt!r}; this suite reads {PARQUET_FORMAT!r}")
    if document.get("contract") != CONTRACT:
        raise SnapshotError(
            f"{path}: foreign contract {document.get('contract')!r}; this suite reads {CONTRACT!r}"
        )
    return document


def table_files(path: Path, document: dict, table: str) -> list[Path]:
    return [path / relative for relative in sorted(document["tables"][table]["files"])]


def open_parquet(path: Path | str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per table over the Parquet files, typed as recorded.

    `snapshot_meta` and `snapshot_files` are rebuilt from the metadata, so `read_info` reads
    a Parquet snapshot as it reads a DuckDB one.
    """
    from audit_lib.ingest.snapshot import CONTRACT, FILES_TABLE, META_TABLE, SNAPSHOT_FORMAT, connect

    path = Path(path).absolute()
    document = read_metadata(path)
    con = connect()
    try:
        for table, entry in document["tables"].items():
            files = table_files(path, document, table)
            missing = [str(f.relative_to(path)) for f in files if not f.is_file()]
            if missing:
                raise SnapshotError(f"{path}: snapshot changed since it was built: missing {missing}")
            columns = ", ".join(f"CAST({ident(c)} AS {t}) AS {ident(c)}" for c, t in entry["columns"])
            listed = ", ".join(literal(str(f)) for f in files)
            try:
                con.execute(f"CREATE VIEW {ident(table)} AS SELECT {columns} FROM read_parquet([{listed}])")
            except duckdb.Error as exc:
                raise SnapshotError(
                    f"{path}: snapshot changed since it was built: "
                    f"table {table} unreadable ({first_line(exc)})"
                ) from None
        con.execute(
            f"CREATE TABLE {META_TABLE} (snapshot_id VARCHAR, taken_at TIMESTAMPTZ, built_at TIMESTAMPTZ, "
            "suite_version VARCHAR, contract VARCHAR, snapshot_format VARCHAR, duckdb_version VARCHAR)"
        )
        con.execute(
            f"INSERT INTO {META_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                document["snapshot_id"], datetime.fromisoformat(document["taken_at"]),
                datetime.fromisoformat(document["built_at"]), document["suite_version"], CONTRACT,
                SNAPSHOT_FORMAT, document["duckdb_version"],
            ],
        )  # fmt: skip
        con.execute(
            f"CREATE TABLE {FILES_TABLE} (table_name VARCHAR, file VARCHAR, format VARCHAR, "
            "sha256 VARCHAR, row_count BIGINT)"
        )
        for s in document["sources"]:
            con.execute(
                f"INSERT INTO {FILES_TABLE} VALUES (?, ?, ?, ?, ?)",
                [s["table_name"], s["file"], s["format"], s["sha256"], s["row_count"]],
            )
    except BaseException:
        con.close()
        raise
    return con


def verify_parquet(con: duckdb.DuckDBPyConnection, path: Path | str) -> None:
    """Refuse (SnapshotError) a Parquet snapshot whose files or tables differ from its metadata."""
    from audit_lib.ingest.snapshot import table_checksums

    path = Path(path)
    document = read_metadata(path)
    problems = []
    expected = {relative for entry in document["tables"].values() for relative in entry["files"]}
    present = {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and p.name != METADATA}
    problems += [f"file {f} was added" for f in sorted(present - expected)]
    for entry in document["tables"].values():
        for relative, digest in entry["files"].items():
            target = path / relative
            if not target.is_file():
                problems.append(f"file {relative} is missing")
            elif sha256_of(target) != digest:
                problems.append(f"file {relative}: sha256 differs from the one recorded")
    if not problems:
        actual = table_checksums(con, sorted(document["tables"]))
        for table, (n, content, cols) in actual.items():
            entry = document["tables"][table]
            if n != entry["row_count"]:
                problems.append(f"table {table} has {n} rows, {entry['row_count']} recorded")
            elif content != entry["content_checksum"]:
                problems.append(f"table {table}: content differs from its checksum")
            if cols != entry["columns_checksum"]:
                problems.append(f"table {table}: columns differ from those recorded")
    if problems:
        hint = ""
        if document.get("duckdb_version") != duckdb.__version__:
            hint = f" (built with DuckDB {document.get('duckdb_version')}, read with {duckdb.__version__})"
        raise SnapshotError(f"{path}: snapshot changed since it was built: {'; '.join(problems)}{hint}")
