"""`run quarterly` and `diff`: the audit and its comparison with the one before."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit_lib.cli import app, run_app
from audit_lib.cli.common import (
    EngineOption,
    ParamOption,
    SnapshotOption,
    SparkMasterOption,
    SparkRemoteOption,
    examples,
    period_of,
    reported,
)

QUARTERLY_EXAMPLES = """Examples:


  privacy-audit run quarterly --snapshot inventory.duckdb --period 2026-Q3
  privacy-audit run quarterly --snapshot inventory.duckdb --as-of 2026-10-08T00:00:00Z
  privacy-audit run quarterly --snapshot inventory.duckdb --period 2026-Q3 \\
      --waivers waivers.yaml --param grace_days=180 --junit audit.xml --fail-on violations

Options not given on the command line are taken from privacy-audit.toml (in the
working directory, or --config FILE), then from the defaults; findings.json
records each value used and where it came from.
"""


@run_app.command("quarterly", epilog=QUARTERLY_EXAMPLES)
@reported
def run_quarterly(
    snapshot: SnapshotOption,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            metavar="QUARTER",
            help="A quarter, e.g. 2026-Q3 (one of --period, --as-of, --start/--end).",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="TS", help="Audit (-infinity, TS): one of --period, --as-of, --start/--end."
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            metavar="TS",
            help="Period start (with --end): one of --period, --as-of, --start/--end.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end",
            metavar="TS",
            help="Period end, excluded (with --start): one of --period, --as-of, --start/--end.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Report folder (new or empty); default: REPORTS/<period>_<run date>_<snapshot id>.",
        ),
    ] = None,
    reports: Annotated[
        Path | None,
        typer.Option("--reports", metavar="DIR", help="Where default report folders go; default: reports."),
    ] = None,
    param: ParamOption = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE", help="Settings file; default: ./privacy-audit.toml if any."),
    ] = None,
    notebooks: Annotated[
        bool | None,
        typer.Option(
            "--notebooks/--no-notebooks", help="Run the notebooks and render report.html; default: yes."
        ),
    ] = None,
    waivers: Annotated[
        Path | None,
        typer.Option(
            "--waivers", metavar="FILE", help="Accepted risks (YAML, see the README); default: none."
        ),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            metavar="DIR",
            help="The report to compare with; default: the newest of the quarter before.",
        ),
    ] = None,
    reveal: Annotated[
        bool | None,
        typer.Option(
            "--reveal/--mask", help="Personal values unmasked (birth dates, free text); default: masked."
        ),
    ] = None,
    ropa: Annotated[
        Path | None,
        typer.Option(
            "--ropa",
            metavar="FILE",
            help="A declared RoPA (YAML, see the README) to reconcile; default: none.",
        ),
    ] = None,
    xlsx: Annotated[
        bool | None, typer.Option("--xlsx/--no-xlsx", help="Also write findings.xlsx; default: no.")
    ] = None,
    pdf: Annotated[
        bool | None, typer.Option("--pdf/--no-pdf", help="Also write report.pdf; default: no.")
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", metavar="FILE", help="Also write JUnit XML to this new file; default: none."),
    ] = None,
    sarif: Annotated[
        Path | None,
        typer.Option(
            "--sarif", metavar="FILE", help="Also write SARIF 2.1.0 to this new file; default: none."
        ),
    ] = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            metavar="CONDITION",
            help="Exit 3 when met: violations, new-violations or "
            "expired-waivers (repeatable); default: exit 0 whatever the audit found.",
        ),
    ] = None,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    spark_remote: SparkRemoteOption = None,
) -> None:
    """Run the quarterly self-assessment: findings, evidence, notebooks and report."""
    given = {k: v for k, v in locals().items() if k not in NOT_SETTINGS}
    from audit_lib.config import load_settings

    settings = load_settings(config)
    chosen, sources = {}, {}
    for name, value in given.items():
        chosen[name], sources[name] = settings.option(name, value, QUARTERLY_DEFAULTS.get(name))
    overrides, parameter_sources = settings.resolve_parameters(parse_params(param))
    record = {
        "config": str(settings.path) if settings.path else None,
        "options": {name: {"value": _shown(chosen[name]), "source": sources[name]} for name in chosen},
        "parameters": parameter_sources,
    }
    _run_quarterly(snapshot, period_of(period, as_of, start, end), overrides, out, chosen, record)


#: Options of `run quarterly` that are not settings a config file can hold.
NOT_SETTINGS = ("snapshot", "period", "as_of", "start", "end", "param", "config", "out")
QUARTERLY_DEFAULTS: dict[str, object] = {
    "notebooks": True, "reveal": False, "xlsx": False, "pdf": False, "fail_on": [], "engine": "duckdb",
}  # fmt: skip


def parse_params(param: list[str] | None) -> dict[str, str]:
    from audit_lib.params import parse_assignments

    return parse_assignments(param or [])


def _shown(value: object) -> object:
    return str(value) if isinstance(value, Path) else value


def _run_quarterly(
    snapshot: Path, period: object, params: dict[str, object], out: Path | None, o: dict, record: dict
) -> None:
    """The run itself, every option resolved (`o`), `record` their provenance for findings.json."""
    from audit_lib.errors import UsageError
    from audit_lib.findings.gate import check_conditions, refuse_existing
    from audit_lib.runs.quarterly import run_quarterly as run

    conditions = check_conditions(o["fail_on"] or [])
    if o["pdf"] and not o["notebooks"]:
        raise UsageError("--pdf prints report.html: it cannot go with --no-notebooks")
    refuse_existing(o["junit"], o["sarif"])
    if o["reveal"]:
        typer.echo("privacy-audit: warning: --reveal writes personal values unmasked", err=True)
    from audit_lib.engines import engine_selected

    with engine_selected(o["engine"], o["spark_master"], o["spark_remote"]):
        folder = run(
            snapshot, period, params, out, with_notebooks=o["notebooks"], waivers=o["waivers"],
            previous=o["previous"], reveal=o["reveal"], ropa=o["ropa"], xlsx=o["xlsx"], pdf=o["pdf"],
            reports=o["reports"], settings=record,
        )  # fmt: skip
    report = folder / "report.html"
    typer.echo(f"report: {report}" if report.exists() else f"report folder: {folder}")
    _ci_outputs(folder, o["junit"], o["sarif"], conditions)


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


@app.command(
    "diff",
    epilog=examples(
        "privacy-audit diff reports/2026-Q2_2026-07-03_3393e80a18bf reports/2026-Q3_2026-10-09_51c0e2a4d7f1",
        "privacy-audit diff OLD_DIR NEW_DIR --json diff.json",
    ),
)
@reported
def diff_command(
    old_dir: Annotated[Path, typer.Argument(metavar="OLD_DIR", help="The earlier report folder.")],
    new_dir: Annotated[Path, typer.Argument(metavar="NEW_DIR", help="The later report folder.")],
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json", metavar="FILE", help="Also write the diff as JSON (a new file); default: print only."
        ),
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
