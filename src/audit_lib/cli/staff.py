"""For privacy staff: `investigate`, `disputes`, `requests`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit_lib.cli import app
from audit_lib.cli.common import (
    EngineOption,
    ParamOption,
    SnapshotOption,
    SparkMasterOption,
    SparkRemoteOption,
    examples,
    iso_or_dash,
    reported,
)


@app.command(
    "investigate",
    epilog=examples(
        "privacy-audit investigate --snapshot inventory.duckdb --dispute D0000028",
        "privacy-audit investigate --snapshot inventory.duckdb --customer C0001331 --as-of 2026-10-01",
    ),
)
@reported
def investigate(
    snapshot: SnapshotOption,
    dispute: Annotated[
        str | None,
        typer.Option(
            "--dispute", metavar="ID", help="The complaint's dispute_id (one of --dispute, --customer)."
        ),
    ] = None,
    customer: Annotated[
        str | None,
        typer.Option(
            "--customer",
            metavar="ID",
            help="A customer_id: every complaint and request of theirs (one of --dispute, --customer).",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="TS", help="Judge up to this time; default: the snapshot's taken_at."
        ),
    ] = None,
    reveal: Annotated[bool, typer.Option("--reveal", help="Show personal values unmasked.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Investigation folder (new or empty); default: reports/investigation_<id>_<date>.",
        ),
    ] = None,
    param: ParamOption = None,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    spark_remote: SparkRemoteOption = None,
) -> None:
    """Investigate one complaint: the customer's timeline and every control's verdict."""
    from audit_lib.engines import engine_selected
    from audit_lib.errors import UsageError
    from audit_lib.params import parse_assignments
    from audit_lib.runs.investigation import run_investigation

    if bool(dispute) == bool(customer):
        raise UsageError("give exactly one of --dispute or --customer")
    with engine_selected(engine or "duckdb", spark_master, spark_remote):
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
    from audit_lib.periods import Period

    params = resolve(parse_assignments(param or []))
    with opened(snapshot) as (con, info):
        when = Period.until(as_of or info.taken_at)
        require_visible(when, info)
        install_macros(con)
        items = listing(con, when.as_of, params["response_days"], open_only=open_only, type_=type_)
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    table = Table(title=f"{type_}s at {iso_or_dash(when.as_of)} ({len(items)})", show_lines=False)
    for name in FIELDS:
        table.add_column(name.replace("_", " "), justify="right" if name == "days_left" else "left")
    for item in items:
        table.add_row(*("" if item[n] is None else str(item[n]) for n in FIELDS))
    Console(width=160).print(table)


AsOfListing = Annotated[
    str | None, typer.Option("--as-of", metavar="TS", help="Status at this time; default: taken_at.")
]
OpenOnly = Annotated[bool, typer.Option("--open", help="Only those unanswered at as_of.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command(
    "disputes",
    epilog=examples(
        "privacy-audit disputes --snapshot inventory.duckdb --open",
    ),
)
@reported
def disputes(
    snapshot: SnapshotOption, open_only: OpenOnly = False, as_of: AsOfListing = None, as_json: AsJson = False,
    param: ParamOption = None,
) -> None:  # fmt: skip
    """List complaints with received, deadline, status and days left, most urgent first."""
    _list_deadlines(snapshot, "complaint", open_only, as_of, as_json, param)


@app.command(
    "requests",
    epilog=examples(
        "privacy-audit requests --snapshot inventory.duckdb --as-of 2026-09-01 --json",
    ),
)
@reported
def requests(
    snapshot: SnapshotOption, open_only: OpenOnly = False, as_of: AsOfListing = None, as_json: AsJson = False,
    param: ParamOption = None,
) -> None:  # fmt: skip
    """List data-subject requests with received, deadline, status and days left, most urgent first."""
    _list_deadlines(snapshot, "request", open_only, as_of, as_json, param)
