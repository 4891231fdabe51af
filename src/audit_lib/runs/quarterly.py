"""The quarterly self-assessment, end to end: evaluate, write, execute, render, move into place."""

from __future__ import annotations

import json
from pathlib import Path

from audit_lib.controls.evaluate import Findings, evaluate_connection
from audit_lib.controls.registry import Control, load_controls
from audit_lib.findings.manifest import write_manifest
from audit_lib.findings.quarterly import write_findings
from audit_lib.folders import REPORTS_DIR, assembled, dated_folder, refuse_non_empty
from audit_lib.ingest.snapshot import opened
from audit_lib.periods import Period
from audit_lib.progress import Progress

#: Where a quarterly notebook finds the folder's findings, relative to itself.
FINDINGS_FROM_NOTEBOOK = "../findings.json"


def evaluate_with_progress(snapshot: Path, period: Period, params: dict[str, object]) -> Findings:
    """Open the snapshot once and judge every control, one progress step each."""
    with (
        Progress("evaluating controls", total=len(load_controls())) as progress,
        opened(snapshot) as (con, info),
    ):

        def advance(control: Control) -> None:
            progress.advance(f"control {control.id}")

        return evaluate_connection(con, info, period, params, on_control=advance)


def run_quarterly(
    snapshot: Path,
    period: Period,
    params: dict[str, object],
    out: Path | None = None,
    with_notebooks: bool = True,
    waivers: Path | None = None,
) -> Path:
    """Write the report folder of one audit and return its path.

    A waivers file is validated before anything runs, applied to the findings,
    and copied into the folder as waivers.yaml.
    """
    from audit_lib.findings.waivers import apply_waivers, load_waivers

    waiver_file = load_waivers(waivers) if waivers is not None else None
    snapshot = Path(snapshot).resolve()
    if out is not None:
        refuse_non_empty(out)
    findings = evaluate_with_progress(snapshot, period, params)
    if waiver_file is not None:
        findings = apply_waivers(findings, waiver_file)
    folder = out or dated_folder(period.label, "{today}", findings.snapshot.id)
    with assembled(folder) as tmp:
        if waiver_file is not None:
            waiver_file.copy_into(tmp)
        write_findings(findings, tmp)
        if with_notebooks:
            render_quarterly(snapshot, findings, tmp, folder.resolve())
        write_manifest(tmp)
    return folder


def render_quarterly(snapshot: Path, findings: Findings, tmp: Path, folder: Path) -> None:
    """Execute the quarterly notebooks into `tmp` and render report.html."""
    from audit_lib.report.render import render_report
    from audit_lib.runs.notebooks import QUARTERLY, execute

    previous = previous_findings(findings.period, folder.parent)
    parameters = {
        "snapshot": str(snapshot),
        "snapshot_id": findings.snapshot.id,
        "period": findings.period.label,
        "params": json.dumps(findings.params),
        "findings": FINDINGS_FROM_NOTEBOOK,
        "previous_findings": str(previous) if previous else "",
    }
    executed = execute(QUARTERLY, tmp / "notebooks", parameters, folder)
    render_report(executed, tmp / "report.html")


def previous_findings(period: Period, reports: Path) -> Path | None:
    """findings.json of the newest report folder of the previous quarter, if any."""
    previous = period.previous()
    if previous is None:
        return None
    places = {reports.resolve(), REPORTS_DIR.resolve()}
    candidates = [f for place in places for f in place.glob(f"{previous.label}_*/findings.json")]
    return max(candidates, key=lambda f: f.stat().st_mtime).resolve() if candidates else None
