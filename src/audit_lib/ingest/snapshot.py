"""Freeze a validated export into one DuckDB snapshot file, and open snapshots.

A build writes into a temporary file beside the target and links it into
place only when complete, so a refused or interrupted build leaves nothing
and an existing snapshot is never overwritten. Audits open snapshots
read-only.

Temporary files are named `.NAME.<pid>-<start>-<token>.partial` (and DuckDB's
`.wal` beside it): the builder's process id, that process's start time (field
22 of /proc/PID/stat) and a random token. A build first removes the partials
beside its target whose process is gone, a process id reused by another
program included (same id, other start time); see folders.stale_partials.

Integrity. `snapshot_meta` records the snapshot format (`SNAPSHOT_FORMAT`) and
the inventory contract (`CONTRACT`); `snapshot_checksums` records, for every
inventory table and for `snapshot_files` and `snapshot_meta`, its row count
and two checksums computed by DuckDB in one aggregate pass over the table:

* content: `sum(hash(*COLUMNS(*)))` over all rows, as decimal text. DuckDB's
  64-bit `hash()` of every column value of a row, summed into a HUGEINT:
  independent of row order, and (unlike XOR) duplicated rows do not cancel.
* columns: the first 16 hex digits of the sha256 of the table's column names
  and types in order (`name type` lines), so a renamed or retyped column is
  caught even when its values hash alike.

Every audit and investigation (`opened`, `verify_snapshot`) recomputes them and
refuses a snapshot whose content changed, whose contract or format is foreign
or whose metadata is missing; a newer suite version alone is not foreign. The
checks catch accidents and naive edits (DuckDB's `hash()` is no cryptographic
hash, and whoever rewrites `snapshot_checksums` too is not caught): the
sha256 of the whole file, recorded in findings.json, and signed reports are
the answer to a determined forger. The DuckDB version of the build is
recorded, since `hash()` is only stable within one DuckDB release line; a
mismatch after a DuckDB upgrade says so and asks for a rebuild.
`open_snapshot` alone checks only the metadata (cheap): the figures use it on a
snapshot that the run verified when it opened it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from audit_lib import __version__
from audit_lib.errors import OutputExistsError, SnapshotError, UsageError
from audit_lib.folders import owner_token, remove_stale_partials, sha256_of, signals_held
from audit_lib.ingest.schema import TABLES
from audit_lib.ingest.sources import SourceFile, find_sources, ident, literal, scanning
from audit_lib.ingest.validate import CONTENT_CHECKSUM, TableSum, first_line, load_validated
from audit_lib.periods import to_utc, utc_now
from audit_lib.progress import Progress

CONTRACT = "privacy-audit/inventory/1"
#: The layout of the snapshot file itself; a change in its tables or checksums bumps it.
SNAPSHOT_FORMAT = "privacy-audit/snapshot/2"
META_TABLE = "snapshot_meta"
FILES_TABLE = "snapshot_files"
CHECKSUMS_TABLE = "snapshot_checksums"
#: Only in a snapshot built from a database: driver, server version, database, schema, URL (no password).
SOURCE_TABLE = "snapshot_source"


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
    source: dict[str, str] | None = None  # a database's identity (SOURCE_TABLE); None for a folder


#: DuckDB's memory limit (DuckDB's size syntax, e.g. 6GB); default: a quarter of the machine's memory.
MEMORY_LIMIT_VARIABLE = "PRIVACY_AUDIT_MEMORY_LIMIT"


def memory_limit() -> str:
    """How much memory DuckDB may hold before it spills to disk (next to a snapshot being built:
    `<partial>.tmp`, removed with it): PRIVACY_AUDIT_MEMORY_LIMIT, else a quarter of the machine's
    memory (a run's two notebook kernels open the snapshot too, and the process that evaluated
    keeps what it allocated; DuckDB alone would take 80%. At 100M rows, `run quarterly` peaked at
    8.7 GiB with a third, 5.4 GiB with 5GB, in the same time)."""
    if chosen := os.environ.get(MEMORY_LIMIT_VARIABLE, "").strip():
        return chosen
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(total // 4 // 2**20, 256)}MiB"


def connect(path: Path | str | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC, the only time zone the suite reasons in, with its memory limit."""
    con = duckdb.connect(str(path) if path else ":memory:", read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    try:
        con.execute("SET memory_limit = ?", [memory_limit()])
    except duckdb.Error as exc:
        con.close()
        raise UsageError(f"{MEMORY_LIMIT_VARIABLE}={memory_limit()!r}: {first_line(exc)}") from None
    with contextlib.suppress(duckdb.Error):  # inside Jupyter without ipywidgets it cannot be set
        con.execute("SET enable_progress_bar = false")
    return con


def open_snapshot(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open a snapshot read-only, refusing anything that is not one or of a foreign format.

    Only the metadata is checked here; `opened` and `verify_snapshot` check the content too.
    """
    path = Path(path)
    refuse_an_export(path)
    if path.is_dir():  # a Parquet snapshot folder (ingest.parquet_snapshot)
        from audit_lib.ingest.parquet_snapshot import open_parquet

        return open_parquet(path)
    if not path.is_file():
        raise SnapshotError(f"{path}: no such snapshot file")
    try:
        con = connect(path, read_only=True)
    except duckdb.Error as exc:
        raise SnapshotError(f"{path}: not a privacy-audit snapshot ({first_line(exc)})") from None
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read the snapshot ({exc.strerror or exc})") from None
    try:
        _check_metadata(con, path)
    except BaseException:
        con.close()
        raise
    return con


def refuse_an_export(path: Path) -> None:
    """An export folder or one of its table files given where a snapshot belongs: say how to build one."""
    folder = path if path.is_dir() else path.parent
    is_table = path.is_file() and path.suffix.lower() in (".csv", ".parquet")
    is_export = (
        path.is_dir()
        and not (path / "snapshot.json").exists()
        and any((path / f"{t.name}.{ext}").exists() for t in TABLES for ext in ("csv", "parquet"))
    )
    if is_table or is_export:
        what = "an export folder" if is_export else "a table file of an export"
        raise SnapshotError(
            f"{path}: {what}, not a privacy-audit snapshot. Build one first: "
            f"privacy-audit snapshot build {folder} --out {folder.name or 'inventory'}.duckdb"
        )


def _check_metadata(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        rows = con.execute(f"SELECT contract, snapshot_format FROM {META_TABLE}").fetchall()
    except duckdb.Error as exc:
        if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [META_TABLE]).fetchone()[
            0
        ]:
            raise SnapshotError(
                f"{path}: snapshot metadata incomplete or of an older format ({first_line(exc)}); "
                "rebuild it with `privacy-audit snapshot build`"
            ) from None
        raise SnapshotError(f"{path}: not a privacy-audit snapshot (no {META_TABLE} table)") from None
    if len(rows) != 1:
        raise SnapshotError(f"{path}: snapshot metadata missing ({META_TABLE} has {len(rows)} rows, not 1)")
    contract, fmt = rows[0]
    if contract != CONTRACT:
        raise SnapshotError(f"{path}: foreign contract {contract!r}; this suite reads {CONTRACT!r}")
    if fmt != SNAPSHOT_FORMAT:
        raise SnapshotError(
            f"{path}: foreign snapshot format {fmt!r}; this suite reads {SNAPSHOT_FORMAT!r} "
            "(rebuild it with `privacy-audit snapshot build`)"
        )


def table_checksums(
    con: duckdb.DuckDBPyConnection, tables: list[str], counted: Mapping[str, TableSum] | None = None
) -> dict[str, tuple[int, str, str]]:
    """(row count, content checksum, columns checksum) of each table: one aggregate pass each,
    but for the tables whose rows and content were `counted` already (as validation does).

    Raises duckdb.CatalogException for a missing table.
    """
    if not tables:
        return {}
    counted = counted or {}
    content = {t: (counted[t].rows, counted[t].content) for t in tables if t in counted}
    parts = [
        f"SELECT {literal(t)} AS t, count(*) AS n, {CONTENT_CHECKSUM} AS c FROM {ident(t)}"
        for t in tables
        if t not in counted
    ]
    if parts:
        content |= {t: (n, c) for t, n, c in con.execute(" UNION ALL ".join(parts)).fetchall()}
    columns: dict[str, list[str]] = {t: [] for t in tables}
    for t, name, kind in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "ORDER BY table_name, column_index"
    ).fetchall():
        if t in columns:
            columns[t].append(f"{name} {kind}")
    return {
        t: (content[t][0], content[t][1], hashlib.sha256("\n".join(columns[t]).encode()).hexdigest()[:16])
        for t in tables
    }


def verify_content(con: duckdb.DuckDBPyConnection, path: Path | str) -> None:
    """Refuse (SnapshotError) a snapshot whose tables differ from the checksums it recorded."""
    if Path(path).is_dir():
        from audit_lib.ingest.parquet_snapshot import verify_parquet

        return verify_parquet(con, path)
    try:
        recorded = {
            t: (n, c, k)
            for t, n, c, k in con.execute(
                f"SELECT table_name, row_count, content_checksum, columns_checksum FROM {CHECKSUMS_TABLE}"
            ).fetchall()
        }
        listed = {t for (t,) in con.execute(f"SELECT table_name FROM {FILES_TABLE}").fetchall()}
        (built_with,) = con.execute(f"SELECT duckdb_version FROM {META_TABLE}").fetchone()
    except duckdb.Error as exc:
        raise SnapshotError(f"{path}: snapshot metadata missing ({first_line(exc)})") from None
    problems = [
        f"no checksum recorded for table {t}"
        for t in sorted(listed | {META_TABLE, FILES_TABLE})
        if t not in recorded
    ]
    present = {
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    problems += [f"table {t} is missing" for t in sorted(recorded) if t not in present]
    actual = table_checksums(con, sorted(t for t in recorded if t in present))
    for t, (n, content, cols) in actual.items():
        rows, want_content, want_cols = recorded[t]
        if n != rows:
            problems.append(f"table {t} has {n} rows, {rows} recorded")
        elif content != want_content:
            problems.append(f"table {t}: content differs from its checksum")
        if cols != want_cols:
            problems.append(f"table {t}: columns differ from those recorded")
    if problems:
        hint = ""
        if built_with != duckdb.__version__:
            hint = (
                f" (built with DuckDB {built_with}, read with {duckdb.__version__}: rebuild it if unchanged)"
            )
        raise SnapshotError(f"{path}: snapshot changed since it was built: {'; '.join(problems)}{hint}")


def verify_snapshot(path: Path | str, sha256: str | None = None) -> SnapshotInfo:
    """Check a snapshot's metadata and content (and its file's sha256 if given); its identity."""
    path = Path(path)
    with contextlib.closing(open_snapshot(path)) as con:
        verify_content(con, path)
        info = read_info(con, snapshot_sha256(path))
    if sha256 is not None and info.sha256 != sha256.strip().lower():
        raise SnapshotError(f"{path}: sha256 is {info.sha256}, not {sha256.strip().lower()}")
    return info


def read_info(con: duckdb.DuckDBPyConnection, sha256: str | None = None) -> SnapshotInfo:
    """The identity recorded in an open snapshot; `sha256` of its file when known."""
    snapshot_id, taken_at, built_at, version, contract = con.execute(
        f"SELECT snapshot_id, taken_at, built_at, suite_version, contract FROM {META_TABLE}"
    ).fetchone()
    cursor = con.execute(f"SELECT * FROM {FILES_TABLE} ORDER BY table_name")
    names = [d[0] for d in cursor.description]
    files = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    counts = {f["table_name"]: f["row_count"] for f in files}
    source = None
    # fetchall, not fetchone: a result left unfinished blocks the connection's next con.sql()
    (has_source,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [SOURCE_TABLE]
    ).fetchall()[0]
    if has_source:
        source = dict(con.execute(f"SELECT key, value FROM {SOURCE_TABLE} ORDER BY key").fetchall())
    return SnapshotInfo(snapshot_id, taken_at, built_at, version, contract, counts, files, sha256, source)


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
        return read_info(con, snapshot_sha256(path))


def snapshot_sha256(path: Path | str) -> str:
    """sha256 of a snapshot file; of a Parquet snapshot folder, that of its metadata file."""
    path = Path(path)
    if path.is_dir():
        from audit_lib.ingest.parquet_snapshot import parquet_sha256

        return parquet_sha256(path)
    return sha256_of(path)


@contextlib.contextmanager
def opened(path: Path | str) -> Iterator[tuple[duckdb.DuckDBPyConnection, SnapshotInfo]]:
    """A snapshot opened once, read-only, verified, with its identity (sha256 included)."""
    con = open_snapshot(path)
    try:
        verify_content(con, path)
        yield con, read_info(con, snapshot_sha256(path))
    finally:
        con.close()


@contextlib.contextmanager
def parents_made(out: Path) -> Iterator[None]:
    """The folders up to `out` made when missing (as `run quarterly --out` does), removed again
    when the build fails; stale partials of dead builds beside `out` removed."""
    missing = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{out.parent}: cannot make the folder for the snapshot ({exc.strerror or exc})"
        ) from None
    remove_stale_partials(out.parent)
    try:
        yield
    except BaseException:
        for folder in missing:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def build_snapshot(
    export_dir: Path | str,
    out: Path | str,
    taken_at: str | datetime | None = None,
    null_marker: str | None = None,
) -> SnapshotInfo:
    """Validate `export_dir` (or a database URL, see ingest.database) and write the snapshot `out`.

    `null_marker`: a CSV field equal to it is NULL too (`\\N`, as some exporters write).
    Raises on any fault.
    """
    from audit_lib.ingest.database import is_database_url

    if is_database_url(str(export_dir)):
        return build_snapshot_from_database(str(export_dir), out, taken_at)
    export_dir, out = Path(export_dir), Path(out)
    if out.exists():
        raise OutputExistsError(f"{out}: already exists; a snapshot is never overwritten")
    taken = to_utc(taken_at) if taken_at else None
    sources = find_sources(export_dir, null_marker)
    for source in sources:
        _require_readable(source.path)
    with parents_made(out), scanning(sources) as scans, _temporary_beside(out) as tmp:
        try:
            con = connect(tmp)
        except (duckdb.Error, OSError) as exc:
            raise UsageError(f"{out.parent}: cannot write the snapshot there ({_cause(exc)})") from None
        with contextlib.closing(con):
            counted = load_validated(con, sources, scans)
            try:
                with Progress("finishing the snapshot", total=2) as progress:
                    progress.advance("recording the snapshot's identity")
                    hashes = [scans[s.path].result().sha256 for s in sources]
                    info = _record_identity(con, sources, hashes, taken, counted)
                    progress.advance("writing the snapshot file")
                    con.execute("CHECKPOINT")
            except duckdb.IOException as exc:
                raise UsageError(f"{out.parent}: cannot write the snapshot there ({_cause(exc)})") from None
        _link_into_place(tmp, out)
    return info


def build_snapshot_from_database(
    url: str, out: Path | str, taken_at: str | datetime | None = None
) -> SnapshotInfo:
    """Read the inventory from the database at `url` in one transaction, validate it, write `out`.

    Without `taken_at`, the snapshot is taken at the transaction's start (the server's clock, UTC).
    """
    from audit_lib.ingest.database import read_database

    out = Path(out)
    if out.exists():
        raise OutputExistsError(f"{out}: already exists; a snapshot is never overwritten")
    taken = to_utc(taken_at) if taken_at else None
    with parents_made(out), _temporary_beside(out) as tmp:
        landing = tmp.with_name(tmp.name + ".tmp")
        try:
            try:
                con = connect(tmp)
            except (duckdb.Error, OSError) as exc:
                raise UsageError(f"{out.parent}: cannot write the snapshot there ({_cause(exc)})") from None
            with contextlib.closing(con):
                read = read_database(url, con, landing)
                counted = load_validated(con, read.sources)
                con.execute("DETACH audit_landing")
                landing.unlink(missing_ok=True)
                hashes = [read.checksums[s.table.name] for s in read.sources]
                try:
                    info = _record_identity(
                        con, read.sources, hashes, taken or read.started_at, counted, read.identity
                    )
                    con.execute("CHECKPOINT")
                except duckdb.IOException as exc:
                    raise UsageError(
                        f"{out.parent}: cannot write the snapshot there ({_cause(exc)})"
                    ) from None
        finally:
            for leftover in (landing, landing.with_name(landing.name + ".wal")):
                leftover.unlink(missing_ok=True)
        _link_into_place(tmp, out)
    return info


def _require_readable(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the input file ({exc.strerror or exc})") from None


def _cause(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return first_line(exc)


def _record_identity(
    con: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    hashes: list[str],
    taken_at: datetime | None,
    counted: Mapping[str, TableSum],
    origin: dict[str, str] | None = None,
) -> SnapshotInfo:
    taken_at = taken_at or newest_timestamp(con)
    built_at = utc_now()
    fingerprint = "\n".join(f"{s.table.name}:{h}" for s, h in zip(sources, hashes, strict=True))
    fingerprint += f"\ntaken_at:{taken_at.isoformat()}"
    snapshot_id = hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
    con.execute(
        f"CREATE TABLE {META_TABLE} (snapshot_id VARCHAR, taken_at TIMESTAMPTZ, built_at TIMESTAMPTZ, "
        "suite_version VARCHAR, contract VARCHAR, snapshot_format VARCHAR, duckdb_version VARCHAR)"
    )
    con.execute(
        f"INSERT INTO {META_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
        [snapshot_id, taken_at, built_at, __version__, CONTRACT, SNAPSHOT_FORMAT, duckdb.__version__],
    )
    con.execute(
        f"CREATE TABLE {FILES_TABLE} (table_name VARCHAR, file VARCHAR, format VARCHAR, "
        "sha256 VARCHAR, row_count BIGINT)"
    )
    sums = table_checksums(con, [s.table.name for s in sources], counted)
    for source, digest in zip(sources, hashes, strict=True):
        con.execute(
            f"INSERT INTO {FILES_TABLE} VALUES (?, ?, ?, ?, ?)",
            [source.table.name, source.path.name, source.format, digest, sums[source.table.name][0]],
        )
    identity_tables = [FILES_TABLE, META_TABLE]
    if origin is not None:  # a database's identity
        con.execute(f"CREATE TABLE {SOURCE_TABLE} (key VARCHAR, value VARCHAR)")
        con.executemany(f"INSERT INTO {SOURCE_TABLE} VALUES (?, ?)", [[k, v] for k, v in origin.items()])
        identity_tables.append(SOURCE_TABLE)
    sums |= table_checksums(con, identity_tables)
    con.execute(
        f"CREATE TABLE {CHECKSUMS_TABLE} (table_name VARCHAR, row_count BIGINT, "
        "content_checksum VARCHAR, columns_checksum VARCHAR)"
    )
    con.executemany(f"INSERT INTO {CHECKSUMS_TABLE} VALUES (?, ?, ?, ?)", [[t, *v] for t, v in sums.items()])
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
    tmp = out.with_name(f".{out.name}.{owner_token()}.partial")
    try:
        yield tmp
    finally:
        with signals_held():
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                leftover.unlink(missing_ok=True)


def _link_into_place(tmp: Path, out: Path) -> None:
    try:
        os.link(tmp, out)
    except FileExistsError:
        raise OutputExistsError(f"{out}: already exists; a snapshot is never overwritten") from None
