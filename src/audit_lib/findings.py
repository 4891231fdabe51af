"""Machine-readable findings: findings.json and evidence/<CONTROL-ID>.csv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from audit_lib import __version__
from audit_lib.evaluate import ControlResult, Findings
from audit_lib.periods import iso, utc_now
from audit_lib.snapshot import SnapshotInfo

FORMAT = "privacy-audit/findings/1"


def snapshot_identity(info: SnapshotInfo, sha256: str) -> dict[str, str | None]:
    """The `snapshot` block of findings.json and investigation.json."""
    return {"id": info.id, "sha256": sha256, "taken_at": iso(info.taken_at)}


def control_summary(result: ControlResult) -> dict[str, object]:
    c = result.control
    return {
        "id": c.id,
        "clause": c.clause,
        "title": c.title,
        "kind": c.kind,
        "key": c.key,
        "status": result.status,
        "population": result.population,
        "violations": len(result.violations),
        "exceptions": len(result.exceptions),
    }


def findings_document(findings: Findings, snapshot_sha256: str) -> dict[str, object]:
    return {
        "format": FORMAT,
        "period": findings.period.to_json(),
        "as_of": iso(findings.period.as_of),
        "snapshot": snapshot_identity(findings.snapshot, snapshot_sha256),
        "parameters": findings.params,
        "generated_at": iso(utc_now()),
        "suite_version": __version__,
        "controls": [control_summary(r) for r in findings.controls],
    }


def evidence_rows(result: ControlResult) -> list[tuple[str, str, str]]:
    """`(key, outcome, reason)` sorted by outcome then key."""
    rows = [(key, "exception", reason) for key, reason in result.exceptions]
    rows += [(key, "violation", "") for key in result.violations]
    return sorted(rows, key=lambda row: (row[1], row[0]))


def write_findings(findings: Findings, folder: Path, snapshot_sha256: str) -> dict[str, object]:
    """Write findings.json and one evidence CSV per control into `folder`."""
    document = findings_document(findings, snapshot_sha256)
    (folder / "findings.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    evidence = folder / "evidence"
    evidence.mkdir()
    for result in findings.controls:
        with (evidence / f"{result.control.id}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(("key", "outcome", "reason"))
            writer.writerows(evidence_rows(result))
    return document
