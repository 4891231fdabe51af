"""`snapshot build`, `snapshot info`, `snapshot verify`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit_lib.cli import snapshot_app
from audit_lib.cli.common import examples, iso_or_dash, reported


@snapshot_app.command(
    "build",
    epilog=examples(
        "privacy-audit snapshot build export --out inventory.duckdb",
        "privacy-audit snapshot build postgresql://auditor@db/crm?schema=inventory --out inventory.duckdb",
        "privacy-audit snapshot build sqlite:///inventory.db --out inventory.duckdb",
        "privacy-audit snapshot build export --format parquet --out inventory-parquet",
    ),
)
@reported
def snapshot_build(
    export_dir: Annotated[
        str,
        typer.Argument(
            help="Folder of <table>.csv / <table>.parquet files, or a database: "
            "postgresql://USER@HOST:PORT/DB?schema=NAME or sqlite:///PATH (four slashes: absolute).",
            metavar="EXPORT",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="The snapshot file to create (never overwritten).")
    ],
    taken_at: Annotated[
        str | None,
        typer.Option(
            "--taken-at", metavar="TS", help="Snapshot time; default: newest timestamp in the export."
        ),
    ] = None,
    snapshot_format: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="duckdb (one file) or parquet (a folder Spark reads: one folder per table).",
        ),
    ] = "duckdb",
    null_marker: Annotated[
        str | None,
        typer.Option(
            "--null-marker",
            metavar="TEXT",
            help="A CSV field equal to this is NULL too (e.g. '\\N'); default: only an empty field is NULL.",
        ),
    ] = None,
) -> None:
    """Validate an export folder or a database and freeze it into a DuckDB snapshot (or a Parquet folder)."""
    from audit_lib.errors import UsageError
    from audit_lib.ingest.database import is_database_url
    from audit_lib.ingest.snapshot import build_snapshot

    source: str | Path = export_dir if is_database_url(export_dir) else Path(export_dir)

    if snapshot_format not in ("duckdb", "parquet"):
        raise UsageError(f"--format must be duckdb or parquet, not {snapshot_format!r}")
    if snapshot_format == "parquet":
        from audit_lib.ingest.parquet_snapshot import build_parquet_snapshot

        if isinstance(source, str) or null_marker:
            raise UsageError("--format parquet reads an export folder (no database URL, no --null-marker)")
        info = build_parquet_snapshot(source, out, taken_at)
    else:
        info = build_snapshot(source, out, taken_at, null_marker=null_marker)
    rows = sum(info.row_counts.values())
    typer.echo(f"snapshot {info.id} written to {out} ({rows} rows, taken at {iso_or_dash(info.taken_at)})")


@snapshot_app.command(
    "info",
    epilog=examples(
        "privacy-audit snapshot info inventory.duckdb --json",
    ),
)
@reported
def snapshot_info_command(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A snapshot file (or a Parquet snapshot folder).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a snapshot's identity and row counts."""
    import json

    from audit_lib.ingest.snapshot import snapshot_info

    info = snapshot_info(file)
    if as_json:
        document = {
            "id": info.id,
            "taken_at": iso_or_dash(info.taken_at),
            "built_at": iso_or_dash(info.built_at),
            "suite_version": info.suite_version,
            "contract": info.contract,
            "source": info.source,
            "files": [{**f} for f in info.files],
        }
        typer.echo(json.dumps(document, indent=2))
        return
    typer.echo(f"snapshot     {info.id}")
    typer.echo(f"taken at     {iso_or_dash(info.taken_at)}")
    typer.echo(f"built at     {iso_or_dash(info.built_at)}")
    typer.echo(f"suite        {info.suite_version} ({info.contract})")
    if info.source:  # built from a database: per table a content checksum, not a file's sha256
        source = info.source
        typer.echo(f"source       {source.get('url', '-')} (schema {source.get('schema', '-')})")
        typer.echo(f"server       {source.get('server_version', '-')}, read with {source.get('driver', '-')}")
        typer.echo(
            f"read in      {source.get('isolation', '-')} started {source.get('transaction_started_at', '-')}"
        )
    digest = "checksum" if info.source else "sha256"
    for f in info.files:
        typer.echo(
            f"  {f['table_name']:<16} {f['row_count']:>12,}  {f['file']}  {digest} {f['sha256'][:16]}…"
        )


@snapshot_app.command(
    "verify",
    epilog=examples(
        "privacy-audit snapshot verify inventory.duckdb --sha256 HEX",
    ),
)
@reported
def snapshot_verify(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A snapshot file (or a Parquet snapshot folder).")
    ],
    sha256: Annotated[
        str | None,
        typer.Option(
            "--sha256",
            metavar="HEX",
            help="The file's expected sha256, as in a findings.json; default: not checked.",
        ),
    ] = None,
) -> None:
    """Check a snapshot's metadata, row counts and content checksums (and its sha256)."""
    from audit_lib.ingest.snapshot import verify_snapshot

    info = verify_snapshot(file, sha256)
    rows = sum(info.row_counts.values())
    checked = " and sha256" if sha256 else ""
    typer.echo(f"snapshot {info.id} intact: {file} ({rows} rows, checksums{checked} match)")
