"""The `privacy-audit` command: thin wrappers over audit_lib, errors as exit codes."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from audit_lib.errors import AuditError
from audit_lib.periods import Period

if TYPE_CHECKING:
    from datetime import datetime

app = typer.Typer(
    help="Audit a personal-data inventory against its privacy policy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
snapshot_app = typer.Typer(help="Build and inspect DuckDB snapshots of an export.", no_args_is_help=True)
run_app = typer.Typer(help="Run audits over a snapshot.", no_args_is_help=True)
sample_app = typer.Typer(help="Synthetic exports for demos, tests and benchmarks.", no_args_is_help=True)
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(run_app, name="run")
app.add_typer(sample_app, name="sample")

F = TypeVar("F", bound=Callable[..., object])


class _Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that every cleanup runs."""


def _interrupted(exc: BaseException) -> bool:
    """Whether `exc` is, or was caused by, an interruption (DuckDB turns SIGINT into its own)."""
    duckdb = sys.modules.get("duckdb")
    interrupt = getattr(duckdb, "InterruptException", None) if duckdb else None
    return isinstance(exc, KeyboardInterrupt) or (interrupt is not None and isinstance(exc, interrupt))


@contextlib.contextmanager
def _signals_watched(seen: list[int]) -> Iterator[None]:
    """SIGINT and SIGTERM raise (so cleanup runs) and are remembered, whatever catches them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: object) -> None:
        seen.append(signum)
        signal.default_int_handler(signum, frame)

    def on_sigterm(signum: int, frame: object) -> None:
        seen.append(signum)
        raise _Terminated

    previous = signal.signal(signal.SIGINT, on_sigint), signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def reported(command: F) -> F:
    """Turn AuditError into its message and exit code; any other error into exit 1.

    An interruption (SIGINT, inside a DuckDB query too, or SIGTERM) exits 130
    (143 for SIGTERM) once the cleanup of every temporary file has run, even
    where a library caught it and raised something else.
    """

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        seen: list[int] = []
        try:
            with _signals_watched(seen):
                return command(*args, **kwargs)
        except (Exception, KeyboardInterrupt, _Terminated) as exc:
            if seen or _interrupted(exc) or isinstance(exc, _Terminated):
                typer.echo("privacy-audit: interrupted; nothing was written", err=True)
                code = 143 if signal.SIGTERM in seen else 130
                raise typer.Exit(code) from None
            if isinstance(exc, AuditError):
                typer.echo(f"privacy-audit: {exc}", err=True)
                raise typer.Exit(exc.exit_code) from None
            if isinstance(exc, KeyboardInterrupt):  # pragma: no cover - caught above
                raise
            typer.echo(f"privacy-audit: internal error: {type(exc).__name__}: {exc}", err=True)
            if os.environ.get("PRIVACY_AUDIT_DEBUG"):
                traceback.print_exc()
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


SnapshotOption = Annotated[Path, typer.Option("--snapshot", help="A snapshot built by `snapshot build`.")]
ParamOption = Annotated[
    list[str] | None, typer.Option("--param", help="A control parameter, name=value (repeatable).")
]


@snapshot_app.command("build")
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
    out: Annotated[Path, typer.Option("--out", help="The snapshot file to create (never overwritten).")],
    taken_at: Annotated[
        str | None, typer.Option("--taken-at", help="Snapshot time; default: newest timestamp in the export.")
    ] = None,
    snapshot_format: Annotated[
        str,
        typer.Option(
            "--format", help="duckdb (one file) or parquet (a folder Spark reads: one folder per table)."
        ),
    ] = "duckdb",
    null_marker: Annotated[
        str | None,
        typer.Option(
            "--null-marker", help="A CSV field equal to this is NULL too (e.g. '\\N'); empty is NULL."
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
    typer.echo(f"snapshot {info.id} written to {out} ({rows} rows, taken at {_iso(info.taken_at)})")


@snapshot_app.command("info")
@reported
def snapshot_info_command(
    file: Annotated[Path, typer.Argument(help="A snapshot file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a snapshot's identity and row counts."""
    import json

    from audit_lib.ingest.snapshot import snapshot_info

    info = snapshot_info(file)
    if as_json:
        document = {
            "id": info.id,
            "taken_at": _iso(info.taken_at),
            "built_at": _iso(info.built_at),
            "suite_version": info.suite_version,
            "contract": info.contract,
            "files": [{**f} for f in info.files],
        }
        typer.echo(json.dumps(document, indent=2))
        return
    typer.echo(f"snapshot     {info.id}")
    typer.echo(f"taken at     {_iso(info.taken_at)}")
    typer.echo(f"built at     {_iso(info.built_at)}")
    typer.echo(f"suite        {info.suite_version} ({info.contract})")
    for f in info.files:
        typer.echo(f"  {f['table_name']:<16} {f['row_count']:>12,}  {f['file']}  sha256 {f['sha256'][:16]}…")


@snapshot_app.command("verify")
@reported
def snapshot_verify(
    file: Annotated[Path, typer.Argument(help="A snapshot file.")],
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="The file's expected sha256, as in a findings.json.")
    ] = None,
) -> None:
    """Check a snapshot's metadata, row counts and content checksums (and its sha256)."""
    from audit_lib.ingest.snapshot import verify_snapshot

    info = verify_snapshot(file, sha256)
    rows = sum(info.row_counts.values())
    checked = " and sha256" if sha256 else ""
    typer.echo(f"snapshot {info.id} intact: {file} ({rows} rows, checksums{checked} match)")


@app.command("verify")
@reported
def verify_report(
    report_dir: Annotated[Path, typer.Argument(help="A report or investigation folder.")],
    key: Annotated[
        Path | None, typer.Option("--key", help="A public key (keygen's KEY.pub): check manifest.sig too.")
    ] = None,
) -> None:
    """Re-check a report folder against its manifest.json (every file, nothing more) and its signature."""
    from audit_lib.errors import AuditError
    from audit_lib.findings.manifest import SIGNATURE, check_manifest

    problems = check_manifest(report_dir)
    if key is not None:
        from audit_lib.findings.signature import check_signature, fingerprint, public_key_of

        signer = fingerprint(public_key_of(key))
        problems += check_signature(report_dir, key)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise AuditError(f"{report_dir}: not intact, {len(problems)} problem(s)\n{lines}")
    if key is not None:
        typer.echo(f"{report_dir}: intact (every file matches manifest.json, signed by {signer})")
        return
    typer.echo(f"{report_dir}: intact (every file matches manifest.json)")
    if (Path(report_dir) / SIGNATURE).exists():
        typer.echo(f"note: {SIGNATURE} present but not checked (give --key PUBLIC_KEY)")


@app.command("keygen")
@reported
def keygen_command(
    out: Annotated[Path, typer.Option("--out", help="The private key file to create (KEY.pub beside it).")],
) -> None:
    """Create an Ed25519 key pair for signing reports (never overwrites)."""
    from audit_lib.findings.signature import fingerprint, keygen, public_key_of

    private, public = keygen(out)
    typer.echo(f"private key {private} (mode 0600; keep it secret), public key {public}")
    typer.echo(f"key {fingerprint(public_key_of(public))}")


@app.command("sign")
@reported
def sign_command(
    report_dir: Annotated[Path, typer.Argument(help="An intact report or investigation folder.")],
    key: Annotated[Path, typer.Option("--key", help="The private key file (from keygen).")],
) -> None:
    """Sign a report folder: a detached Ed25519 signature over manifest.json, as manifest.sig."""
    from audit_lib.findings.signature import fingerprint, public_key_of, sign

    target = sign(report_dir, key)
    typer.echo(f"signed: {target} (key {fingerprint(public_key_of(key))})")


@run_app.command("quarterly")
@reported
def run_quarterly(
    snapshot: SnapshotOption,
    engine: Annotated[
        str, typer.Option("--engine", help="duckdb, or spark (reads a Parquet snapshot folder).")
    ] = "duckdb",
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help="Spark master URL; default local[*].")
    ] = None,
    spark_remote: Annotated[
        str | None, typer.Option("--spark-remote", help="A Spark Connect server, sc://HOST:15002.")
    ] = None,
    period: Annotated[str | None, typer.Option("--period", help="A quarter, e.g. 2026-Q3.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Audit (-infinity, TS) instead of a quarter.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="Explicit period start (with --end).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Explicit period end (with --start).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Report folder (must be new or empty).")] = None,
    param: ParamOption = None,
    notebooks: Annotated[
        bool, typer.Option("--notebooks/--no-notebooks", help="Run the notebooks and render report.html.")
    ] = True,
    waivers: Annotated[
        Path | None, typer.Option("--waivers", help="A waivers file (YAML, see the README): accepted risks.")
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous", help="The report folder to compare with; default: the newest of the quarter before."
        ),
    ] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show personal values (birth dates, free text) unmasked.")
    ] = False,
    ropa: Annotated[
        Path | None,
        typer.Option("--ropa", help="A declared RoPA (YAML, see the README), reconciled with the observed."),
    ] = None,
    xlsx: Annotated[bool, typer.Option("--xlsx", help="Also write findings.xlsx into the folder.")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write report.pdf beside report.html.")] = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write JUnit XML to this new file (for CI).")
    ] = None,
    sarif: Annotated[
        Path | None, typer.Option("--sarif", help="Also write SARIF 2.1.0 to this new file (for CI).")
    ] = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on", help="Exit 3 when met: violations, new-violations or expired-waivers (repeatable)."
        ),
    ] = None,
) -> None:
    """Run the quarterly self-assessment: findings, evidence, notebooks and report."""
    if engine != "duckdb":  # the same run, its controls judged on Spark (engines.engine_selected)
        arguments = {**locals(), "engine": "duckdb", "spark_master": None, "spark_remote": None}
        from audit_lib.engines import engine_selected

        with engine_selected(engine, spark_master, spark_remote):
            return run_quarterly.__wrapped__(**arguments)
    if spark_master or spark_remote:
        from audit_lib.errors import UsageError

        raise UsageError("--spark-master and --spark-remote need --engine spark")
    from audit_lib.errors import UsageError
    from audit_lib.findings.gate import check_conditions, refuse_existing
    from audit_lib.params import parse_assignments
    from audit_lib.runs.quarterly import run_quarterly as run

    conditions = check_conditions(fail_on or [])
    if pdf and not notebooks:
        raise UsageError("--pdf prints report.html: it cannot go with --no-notebooks")
    refuse_existing(junit, sarif)
    chosen = _period(period, as_of, start, end)
    if reveal:
        typer.echo("privacy-audit: warning: --reveal writes personal values unmasked", err=True)
    folder = run(
        snapshot, chosen, parse_assignments(param or []), out, with_notebooks=notebooks, waivers=waivers,
        previous=previous, reveal=reveal, ropa=ropa, xlsx=xlsx, pdf=pdf,
    )  # fmt: skip
    report = folder / "report.html"
    typer.echo(f"report: {report if report.exists() else folder}")
    _ci_outputs(folder, junit, sarif, conditions)


def _ci_outputs(folder: Path, junit: Path | None, sarif: Path | None, conditions: list[str]) -> None:
    """After the report folder is in place: the JUnit and SARIF files, then the --fail-on verdict."""
    from audit_lib.findings.gate import FailOnMet, met_conditions, write_new

    if junit is not None:
        from audit_lib.findings.junit import junit_xml

        write_new(junit, junit_xml(folder))
        typer.echo(f"junit: {junit}")
    if sarif is not None:
        from audit_lib.findings.sarif import sarif_bytes

        write_new(sarif, sarif_bytes(folder))
        typer.echo(f"sarif: {sarif}")
    met = met_conditions(folder, conditions)
    if met:
        raise FailOnMet("--fail-on met: " + "; ".join(met))


@app.command("diff")
@reported
def diff_command(
    old_dir: Annotated[Path, typer.Argument(help="The earlier report folder.")],
    new_dir: Annotated[Path, typer.Argument(help="The later report folder.")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the diff as JSON (a new file).")
    ] = None,
) -> None:
    """Compare two quarterly report folders: comparable or not, new, persisting and resolved violations."""
    from audit_lib.errors import OutputExistsError
    from audit_lib.findings.diff import diff_reports, require_report, summary_rows, write_json
    from audit_lib.report.display import text

    old, new = require_report(old_dir), require_report(new_dir)
    if json_out is not None and (json_out.exists() or json_out.is_symlink()):
        raise OutputExistsError(f"{json_out}: exists; nothing is overwritten")
    document = diff_reports(old, new)
    before, now = document["previous"], document["current"]
    typer.echo(f"before: {before['folder']} ({before['period']}, snapshot {before['snapshot_id']}, "
               f"run at {before['generated_at']})")  # fmt: skip
    typer.echo(f"now:    {now['folder']} ({now['period']}, snapshot {now['snapshot_id']}, "
               f"run at {now['generated_at']})")  # fmt: skip
    flagged = document["not_comparable"]
    typer.echo("comparable: yes" if not flagged else f"comparable: no, for {', '.join(flagged)}")
    rows = summary_rows(document)
    columns = list(rows[0]) if rows else []
    widths = {c: max(len(c), *(len(text(r[c])) for r in rows)) for c in columns}
    typer.echo("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        typer.echo("  ".join(text(row[c]).ljust(widths[c]) for c in columns).rstrip())
    for note in document["notes"]:
        typer.echo(f"note: {note}")
    if json_out is not None:
        write_json(document, json_out)
        typer.echo(f"diff written to {json_out}")


def _period(period: str | None, as_of: str | None, start: str | None, end: str | None) -> Period:
    from audit_lib.errors import UsageError

    given = [name for name, v in (("--period", period), ("--as-of", as_of), ("--start", start)) if v]
    if len(given) != 1 or bool(start) != bool(end):
        raise UsageError("give exactly one of --period, --as-of, or --start with --end")
    if period:
        return Period.quarter(period)
    if as_of:
        return Period.until(as_of)
    return Period.between(start, end)


@app.command("investigate")
@reported
def investigate(
    snapshot: SnapshotOption,
    dispute: Annotated[str | None, typer.Option("--dispute", help="The complaint's dispute_id.")] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="A customer_id instead.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge up to this time; default: the snapshot's taken_at.")
    ] = None,
    reveal: Annotated[bool, typer.Option("--reveal", help="Show personal values unmasked.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Investigation folder (must be new or empty).")
    ] = None,
    param: ParamOption = None,
) -> None:
    """Investigate one complaint: the customer's timeline and every control's verdict."""
    from audit_lib.errors import UsageError
    from audit_lib.params import parse_assignments
    from audit_lib.runs.investigation import run_investigation

    if bool(dispute) == bool(customer):
        raise UsageError("give exactly one of --dispute or --customer")
    folder = run_investigation(
        snapshot,
        dispute_id=dispute,
        customer_id=customer,
        as_of=as_of,
        reveal=reveal,
        out=out,
        params=parse_assignments(param or []),
    )
    typer.echo(f"investigation: {folder / 'investigation.html'}")


def _list_deadlines(
    snapshot: Path, type_: str, open_only: bool, as_of: str | None, as_json: bool, param
) -> None:
    """Complaints or requests of a snapshot with their deadline status, most urgent first."""
    import json

    from rich.console import Console
    from rich.table import Table

    from audit_lib.controls.evaluate import require_visible
    from audit_lib.controls.vocabulary import install_macros
    from audit_lib.findings.disputes import FIELDS, listing
    from audit_lib.ingest.snapshot import opened
    from audit_lib.params import parse_assignments, resolve

    params = resolve(parse_assignments(param or []))
    with opened(snapshot) as (con, info):
        when = Period.until(as_of or info.taken_at)
        require_visible(when, info)
        install_macros(con)
        items = listing(con, when.as_of, params["response_days"], open_only=open_only, type_=type_)
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    table = Table(title=f"{type_}s at {_iso(when.as_of)} ({len(items)})", show_lines=False)
    for name in FIELDS:
        table.add_column(name.replace("_", " "), justify="right" if name == "days_left" else "left")
    for item in items:
        table.add_row(*("" if item[n] is None else str(item[n]) for n in FIELDS))
    Console(width=160).print(table)


AsOfListing = Annotated[str | None, typer.Option("--as-of", help="Status at this time; default: taken_at.")]
OpenOnly = Annotated[bool, typer.Option("--open", help="Only those unanswered at as_of.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("disputes")
@reported
def disputes(
    snapshot: SnapshotOption, open_only: OpenOnly = False, as_of: AsOfListing = None, as_json: AsJson = False,
    param: ParamOption = None,
) -> None:  # fmt: skip
    """List complaints with received, deadline, status and days left, most urgent first."""
    _list_deadlines(snapshot, "complaint", open_only, as_of, as_json, param)


@app.command("requests")
@reported
def requests(
    snapshot: SnapshotOption, open_only: OpenOnly = False, as_of: AsOfListing = None, as_json: AsJson = False,
    param: ParamOption = None,
) -> None:  # fmt: skip
    """List data-subject requests with received, deadline, status and days left, most urgent first."""
    _list_deadlines(snapshot, "request", open_only, as_of, as_json, param)


@sample_app.command("generate")
@reported
def sample_generate(
    out: Annotated[Path, typer.Option("--out", help="Export folder to create (must be new or empty).")],
    customers: Annotated[int, typer.Option("--customers", min=10, help="Number of customers.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """Write a synthetic export with known planted violations (listed in planted.json)."""
    from audit_lib.errors import UsageError
    from audit_lib.sample import generate_sample

    if fmt not in ("csv", "parquet"):
        raise UsageError(f"--format must be csv or parquet, not {fmt!r}")
    generate_sample(out, customers=customers, seed=seed, fmt=fmt)
    typer.echo(f"sample export written to {out} ({customers} customers, seed {seed}, {fmt})")


def _iso(value: datetime | None) -> str:
    from audit_lib.periods import iso

    return iso(value) or "-"


def main() -> None:  # pragma: no cover - entry point for `python -m audit_lib`
    sys.exit(app())
