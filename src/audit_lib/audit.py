"""The quarterly self-assessment, end to end: evaluate, write, execute, render."""

from __future__ import annotations

import json
from pathlib import Path

from audit_lib.controls import Control
from audit_lib.evaluate import Findings, evaluate
from audit_lib.findings import write_findings
from audit_lib.folders import REPORTS_DIR, assembled, dated_folder, refuse_non_empty, sha256_of
from audit_lib.periods import Period
from audit_lib.progress import Progress
from audit_lib.snapshot import snapshot_info


def evaluate_with_progress(snapshot: Path, period: Period, params: dict[str, object]) -> Findings:
    from audit_lib.controls import load_controls

    with Progress("evaluating controls", total=len(load_controls())) as progress:

        def advance(control: Control) -> None:
            progress.advance(f"control {control.id}")

        return evaluate(snapshot, period, params, on_control=advance)


def run_quarterly(
    snapshot: Path,
    period: Period,
    params: dict[str, object],
    out: Path | None = None,
    with_notebooks: bool = True,
) -> Path:
    """Write the report folder of one audit and return its path."""
    snapshot = Path(snapshot).resolve()
    if out is not None:
        refuse_non_empty(out)
    info = snapshot_info(snapshot)
    findings = evaluate_with_progress(snapshot, period, params)
    folder = out or dated_folder(period.label, "{today}", info.id)
    with assembled(folder) as tmp:
        write_findings(findings, tmp, sha256_of(snapshot))
        if with_notebooks:
            render_quarterly(snapshot, findings, tmp, folder.parent)
    return folder


def render_quarterly(snapshot: Path, findings: Findings, tmp: Path, reports: Path) -> None:
    """Execute the quarterly notebooks into `tmp` and render report.html."""
    from audit_lib.notebooks import QUARTERLY, execute
    from audit_lib.report import render_report

    previous = previous_findings(findings.period, reports)
    parameters = {
        "snapshot": str(snapshot),
        "period": findings.period.label,
        "params": json.dumps(findings.params),
        "findings": str((tmp / "findings.json").resolve()),
        "previous_findings": str(previous) if previous else "",
    }
    executed = execute(QUARTERLY, tmp / "notebooks", parameters)
    render_report(executed, tmp / "report.html")


def previous_findings(period: Period, reports: Path) -> Path | None:
    """findings.json of the newest report folder of the previous quarter, if any."""
    previous = period.previous()
    if previous is None:
        return None
    places = {reports.resolve(), REPORTS_DIR.resolve()}
    candidates = [f for place in places for f in place.glob(f"{previous.label}_*/findings.json")]
    return max(candidates, key=lambda f: f.stat().st_mtime) if candidates else None
