"""Freeze a validated export into one DuckDB snapshot file, and open snapshots.

A build writes into a temporary file beside the target and links it into
place only when complete, so a refused or interrupted build leaves nothing
and an existing snapshot is never overwritten. Audits open snapshots
read-only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from audit_lib import __version__
from audit_lib.errors import OutputExistsError, SnapshotError, UsageError
from audit_lib.folders import sha256_of
from audit_lib.ingest.schema import TABLES
from audit_lib.ingest.sources import SourceFile, find_sources, ident
from audit_lib.ingest.validate import first_line, load_validated
from audit_lib.periods import to_utc, utc_now

CONTRACT = "privacy-audit/inventory/1"
META_TABLE = "snapshot_meta"
FILES_TABLE = "snapshot_files"


@dataclass(frozen=True)
class SnapshotInfo:
    """The identity a snapshot records about itself."""

    id: str
    taken_at: datetime
    built_at: datetime
    suite_version: str
    contract: str
    row_counts: dict[str, int]
    files: list[dict]
    sha256: str | None = None  # of the snapshot file, where it was opened by path


def connect(path: Path | str | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC, the only time zone the suite reasons in."""
    con = duckdb.connect(str(path) if path else ":memory:", read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    with contextlib.suppress(duckdb.Error):  # inside Jupyter without ipywidgets it cannot be set
        con.execute("SET enable_progress_bar = false")
    return con


def open_snapshot(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open a snapshot read-only, refusing anything that is not one."""
    path = Path(path)
    if not path.is_file():
        raise SnapshotError(f"{path}: no such snapshot file")
    try:
        con = connect(path, read_only=True)
        con.execute(f"SELECT contract FROM {META_TABLE}").fetchone()
    except duckdb.Error as exc:
        raise SnapshotError(f"{path}: not a privacy-audit snapshot ({first_line(exc)})") from None
    return con


def read_info(con: duckdb.DuckDBPyConnection, sha256: str | None = None) -> SnapshotInfo:
    """The identity recorded in an open snapshot; `sha256` of its file when known."""
    snapshot_id, taken_at, built_at, version, contract = con.execute(
        f"SELECT snapshot_id, taken_at, built_at, suite_version, contract FROM {META_TABLE}"
    ).fetchone()
    cursor = con.execute(f"SELECT * FROM {FILES_TABLE} ORDER BY table_name")
    names = [d[0] for d in cursor.description]
    files = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    counts = {f["table_name"]: f["row_count"] for f in files}
    return SnapshotInfo(snapshot_id, taken_at, built_at, version, contract, counts, files, sha256)


def require_snapshot_id(path: Path | str, expected_id: str, source: Path | None = None) -> None:
    """Refuse a snapshot other than the one `expected_id` names (nothing to check without one)."""
    if not expected_id:
        return
    with contextlib.closing(open_snapshot(path)) as con:
        actual = read_info(con).id
    if actual != expected_id:
        what = f"{source}: findings" if source else "the parameters name"
        raise UsageError(f"{what} of snapshot {expected_id}, not of {path} ({actual})")


def snapshot_info(path: Path | str) -> SnapshotInfo:
    """The identity of the snapshot file at `path`, with its sha256."""
    with contextlib.closing(open_snapshot(path)) as con:
        return read_info(con, sha256_of(Path(path)))


@contextlib.contextmanager
def opened(path: Path | str) -> Iterator[tuple[duckdb.DuckDBPyConnection, SnapshotInfo]]:
    """A snapshot opened once, read-only, with its identity (sha256 included)."""
    con = open_snapshot(path)
    try:
        yield con, read_info(con, sha256_of(Path(path)))
    finally:
        con.close()


def build_snapshot(
    export_dir: Path | str, out: Path | str, taken_at: str | datetime | None = None
) -> SnapshotInfo:
    """Validate `export_dir` and write the snapshot `out`; raise on any fault."""
    export_dir, out = Path(export_dir), Path(out)
    if out.exists():
        raise OutputExistsError(f"{out}: already exists; a snapshot is never overwritten")
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent}: no such folder for the snapshot")
    taken = to_utc(taken_at) if taken_at else None
    sources = find_sources(export_dir)
    with ThreadPoolExecutor(max_workers=1) as pool, _temporary_beside(out) as tmp:
        hashes = pool.map(sha256_of, [s.path for s in sources])
        with contextlib.closing(connect(tmp)) as con:
            load_validated(con, sources)
            info = _record_identity(con, sources, list(hashes), taken)
            con.execute("CHECKPOINT")
        _link_into_place(tmp, out)
    return info


def _record_identity(
    con: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    hashes: list[str],
    taken_at: datetime | None,
) -> SnapshotInfo:
    taken_at = taken_at or newest_timestamp(con)
    built_at = utc_now()
    fingerprint = "\n".join(f"{s.table.name}:{h}" for s, h in zip(sources, hashes, strict=True))
    fingerprint += f"\ntaken_at:{taken_at.isoformat()}"
    snapshot_id = hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
    con.execute(
        f"CREATE TABLE {META_TABLE} (snapshot_id VARCHAR, taken_at TIMESTAMPTZ, built_at TIMESTAMPTZ, "
        "suite_version VARCHAR, contract VARCHAR)"
    )
    con.execute(
        f"INSERT INTO {META_TABLE} VALUES (?, ?, ?, ?, ?)",
        [snapshot_id, taken_at, built_at, __version__, CONTRACT],
    )
    con.execute(
        f"CREATE TABLE {FILES_TABLE} (table_name VARCHAR, file VARCHAR, format VARCHAR, "
        "sha256 VARCHAR, row_count BIGINT)"
    )
    for source, digest in zip(sources, hashes, strict=True):
        (rows,) = con.execute(f"SELECT count(*) FROM {source.table.name}").fetchone()
        con.execute(
            f"INSERT INTO {FILES_TABLE} VALUES (?, ?, ?, ?, ?)",
            [source.table.name, source.path.name, source.format, digest, rows],
        )
    return read_info(con)


def newest_timestamp(con: duckdb.DuckDBPyConnection) -> datetime:
    """The latest timestamp anywhere in the inventory: the default `taken_at`."""
    parts = [
        f"SELECT max({ident(c.name)}) AS ts FROM {t.name}"
        for t in TABLES
        for c in t.columns
        if c.kind == "timestamp"
    ]
    (newest,) = con.execute(f"SELECT max(ts) FROM ({' UNION ALL '.join(parts)})").fetchone()
    if newest is None:
        raise UsageError("the export holds no timestamp; give --taken-at")
    return newest


@contextlib.contextmanager
def _temporary_beside(out: Path) -> Iterator[Path]:
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        yield tmp
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)


def _link_into_place(tmp: Path, out: Path) -> None:
    try:
        os.link(tmp, out)
    except FileExistsError:
        raise OutputExistsError(f"{out}: already exists; a snapshot is never overwritten") from None
