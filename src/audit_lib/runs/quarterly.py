"""The quarterly self-assessment, end to end: evaluate, write, execute, render, move into place."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.controls.evaluate import Findings, evaluate_connection
from audit_lib.controls.registry import Control, load_controls
from audit_lib.findings.diff import diff_reports, require_report, write_diff
from audit_lib.findings.manifest import write_manifest
from audit_lib.findings.quarterly import read_findings, write_findings
from audit_lib.findings.ropa import DeclaredRopa, write_ropa
from audit_lib.folders import assembled, dated_folder, refuse_non_empty
from audit_lib.ingest.snapshot import opened
from audit_lib.periods import Period, iso
from audit_lib.progress import Progress
from audit_lib.runs.notebooks import prewarm

if TYPE_CHECKING:
    import polars as pl

    from audit_lib.figures import Analytics

#: The note a folder written with --reveal carries.
REVEALED_README = (
    "This report folder was written with --reveal: evidence/*.details.csv and the report show\n"
    "personal values (birth dates, free text) unmasked. Share it only with those entitled to them.\n"
)
#: Where a quarterly notebook finds the folder's findings, relative to itself.
FINDINGS_FROM_NOTEBOOK = "../findings.json"


def evaluate_with_progress(
    snapshot: Path, period: Period, params: dict[str, object], declared: DeclaredRopa | None = None
) -> tuple[Findings, pl.DataFrame]:
    """Open the snapshot once and judge every control, one progress step each; then, on the same
    connection (its data read once), the observed RoPA and the ROPA-NN results (`declared`)."""
    from audit_lib.engines import selected_engine
    from audit_lib.figures import Analytics

    if (engine := selected_engine()) is not None:  # --engine spark; the RoPA on DuckDB
        with Progress("evaluating controls on Spark", total=len(load_controls())) as progress:
            findings = engine.evaluate(
                snapshot, period, params, on_control=lambda c: progress.advance(f"control {c.id}"),
                with_details=True,
            )  # fmt: skip
        with Analytics.open(snapshot, findings.period, findings.params) as analytics:
            return with_ropa(analytics, findings, declared)
    with (
        Progress("evaluating controls", total=len(load_controls())) as progress,
        opened(snapshot) as (con, info),
    ):

        def advance(control: Control) -> None:
            progress.advance(f"control {control.id}")

        findings = evaluate_connection(con, info, period, params, on_control=advance, with_details=True)
        return with_ropa(Analytics.on(con, findings.period, findings.params, info), findings, declared)


def run_quarterly(
    snapshot: Path,
    period: Period,
    params: dict[str, object],
    out: Path | None = None,
    with_notebooks: bool = True,
    waivers: Path | None = None,
    previous: Path | None = None,
    reveal: bool = False,
    ropa: Path | None = None,
    xlsx: bool = False,
    pdf: bool = False,
    reports: Path | None = None,
    settings: dict[str, object] | None = None,
) -> Path:
    """Write the report folder of one audit and return its path.

    A waivers file is validated before anything runs, applied to the findings,
    and copied into the folder as waivers.yaml. So is a declared RoPA file
    (`ropa`): its ROPA-NN results join the findings, and it is copied as
    ropa-declared.yaml. ropa.csv (the observed RoPA) is written in every run.
    """
    from audit_lib.findings.ropa import load_declared
    from audit_lib.findings.waivers import apply_waivers, load_waivers

    waiver_file = load_waivers(waivers) if waivers is not None else None
    declared = load_declared(ropa) if ropa is not None else None
    if with_notebooks:
        prewarm()  # the kernel starts and imports while DuckDB evaluates
    snapshot = Path(snapshot).resolve()
    named = require_report(previous) if previous is not None else None
    if out is not None:
        refuse_non_empty(out)
    findings, observed_ropa = evaluate_with_progress(snapshot, period, params, declared)
    if waiver_file is not None:
        findings = apply_waivers(findings, waiver_file)
    folder = out or dated_folder(period.label, "{today}", findings.snapshot.id, parent=reports)
    with assembled(folder) as tmp:
        if waiver_file is not None:
            waiver_file.copy_into(tmp)
        before = named or discovered_previous(findings.period, folder)
        write_findings(findings, tmp, previous=previous_block(before), revealed=reveal, settings=settings)
        write_ropa(observed_ropa, declared, tmp)
        if declared is not None:
            declared.copy_into(tmp)
        if reveal:
            (tmp / "README.txt").write_text(REVEALED_README, encoding="utf-8")
        if before is not None:
            write_diff(diff_reports(before, tmp, folder.name), tmp)
        if with_notebooks:
            render_quarterly(snapshot, findings, tmp, folder.resolve(), before)
        write_printouts(tmp, xlsx=xlsx, pdf=pdf)  # last: they read the folder's files
        write_manifest(tmp)
    return folder


def with_ropa(
    analytics: Analytics, findings: Findings, declared: DeclaredRopa | None
) -> tuple[Findings, pl.DataFrame]:
    """The findings with the ROPA-NN results after the others (with `declared`), and the observed RoPA."""
    from dataclasses import replace

    observed = analytics.ropa()
    if declared is None:
        return findings, observed
    results, details = analytics.reconcile(declared, observed)
    merged = {**findings.details, **details} if findings.details is not None else None
    return replace(findings, controls=[*findings.controls, *results], details=merged), observed


def render_quarterly(
    snapshot: Path, findings: Findings, tmp: Path, folder: Path, previous: Path | None = None
) -> None:
    """Execute the quarterly notebooks into `tmp` and render report.html (`previous`: a report folder).

    With --engine spark the notebooks' figures are computed on Spark first, into a temporary
    folder outside `tmp` (their `figures` parameter, removed once they have run)."""
    from audit_lib.engines import figures_computed
    from audit_lib.report.render import notebook_section, render_report
    from audit_lib.runs.notebooks import QUARTERLY, execute

    parameters = {
        "snapshot": str(snapshot),
        "snapshot_id": findings.snapshot.id,
        "period": findings.period.label,
        "params": json.dumps(findings.params),
        "findings": FINDINGS_FROM_NOTEBOOK,
        "previous_findings": str(Path(previous).resolve() / "findings.json") if previous else "",
    }
    rendered = {}  # each notebook's section, made while the others still run
    with figures_computed(parameters["snapshot"], parameters["period"], parameters["params"]) as figures:
        executed = execute(
            QUARTERLY, tmp / "notebooks", {**parameters, "figures": figures}, folder,
            lambda p: rendered.update({p: notebook_section(p)}),
        )  # fmt: skip
    render_report(executed, tmp / "report.html", rendered=rendered)


def previous_findings(period: Period, reports: Path, notes: list[str] | None = None) -> Path | None:
    """findings.json (absolute) of the newest valid report folder of the previous quarter in `reports`.

    Newest by its findings' generated_at (the folder's mtime where unreadable). A
    folder that is not a valid report (its manifest does not verify, its findings
    are unreadable or of another period) is skipped, with a line in `notes`.
    """
    from audit_lib.findings.diff import report_problems

    previous = period.previous()
    if previous is None:
        return None
    reports = Path(reports).resolve()
    candidates = [p for p in reports.glob(f"{previous.label}_*") if p.is_dir() and not p.is_symlink()]
    for folder in sorted(candidates, key=_generated_at, reverse=True):
        problems = report_problems(folder)
        if not problems:
            label = read_findings(folder / "findings.json")["period"]["label"]
            if label == previous.label:
                return folder / "findings.json"
            problems = [f"findings of period {label}, not {previous.label}"]
        if notes is not None:
            notes.append(f"{folder.name}: skipped, not a valid report of {previous.label} ({problems[0]})")
    return None


def discovered_previous(period: Period, folder: Path) -> Path | None:
    """The report folder beside `folder` of the quarter before `period`; every skipped one noted on stderr."""
    notes: list[str] = []
    found = previous_findings(period, Path(folder).absolute().parent, notes)
    for line in notes:
        print(f"privacy-audit: note: previous report {line}", file=sys.stderr)
    if found is None:
        print("privacy-audit: note: no previous report to compare with", file=sys.stderr)
    return found.parent if found else None


def previous_block(previous: Path | None) -> dict[str, object] | None:
    """findings.json's `previous`: the report compared with (period, snapshot id, run, folder name)."""
    if previous is None:
        return None
    from audit_lib.findings.diff import report_identity

    block = report_identity(read_findings(previous / "findings.json"), previous.name)
    print(
        f"privacy-audit: note: compared with {block['folder']} ({block['period']}, snapshot "
        f"{block['snapshot_id']}, run at {block['generated_at']})",
        file=sys.stderr,
    )
    return block


def _generated_at(folder: Path) -> str:
    try:
        return str(json.loads((folder / "findings.json").read_text(encoding="utf-8"))["generated_at"])
    except (OSError, ValueError, KeyError, TypeError):
        try:
            return iso(datetime.fromtimestamp(folder.stat().st_mtime, tz=UTC)) or ""
        except OSError:
            return ""


def write_printouts(tmp: Path, xlsx: bool = False, pdf: bool = False) -> None:
    """findings.xlsx (`xlsx`) and report.pdf beside report.html (`pdf`), from the folder's own files."""
    if xlsx:
        from audit_lib.findings.workbook import write_workbook

        write_workbook(tmp)
    if pdf:
        from audit_lib.report.pdf import NAME, render_pdf

        document = read_findings(tmp / "findings.json")
        period, snapshot = document["period"], document["snapshot"]
        render_pdf(tmp / "report.html", tmp / NAME, period["label"], snapshot["id"], document["generated_at"])
