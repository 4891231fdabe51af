"""The findings a notebook shows, loaded in one place.

Under `privacy-audit run quarterly` the notebooks receive the path of the
findings.json the CLI wrote (with its evidence/ folder beside it) and only
read it; run by hand in JupyterLab or under nbval they evaluate the controls
themselves. Either way they get the same `AuditView`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.errors import UsageError
from audit_lib.periods import Period

if TYPE_CHECKING:
    import polars as pl

    from audit_lib.evaluate import Findings

#: Rows of the exceptions register: (control id, reason, count, first keys).
ExceptionRow = tuple[str, str, int, list[str]]
SAMPLE_KEYS = 5

EVIDENCE_EXCEPTIONS = """
SELECT parse_filename(filename, true) AS control, reason, count(*) AS n,
       min(key, $sample) AS first_keys
FROM read_csv($files, header = true, filename = true,
              columns = {'key': 'VARCHAR', 'outcome': 'VARCHAR', 'reason': 'VARCHAR'})
WHERE outcome = 'exception'
GROUP BY ALL
"""


@dataclass(frozen=True)
class AuditView:
    """One audit's findings as the notebooks show them."""

    period: Period
    parameters: dict[str, int]
    snapshot: dict[str, str | None]
    generated_at: str | None
    suite_version: str
    controls: list[dict[str, object]]
    exceptions: list[ExceptionRow] = field(default_factory=list)
    source: str = "evaluated in the notebook"

    def scorecard(self) -> pl.DataFrame:
        """One row per control, in the order of controls.md."""
        import polars as pl

        columns = ("id", "clause", "title", "status", "population", "violations", "exceptions")
        return pl.DataFrame([{c: row[c] for c in columns} for row in self.controls])

    def explanations(self) -> list[dict[str, object]]:
        """Each control's clause, title, explanation and declared exemptions."""
        from audit_lib.controls import control_by_id

        rows = []
        for row in self.controls:
            control = control_by_id(str(row["id"]))
            rows.append({**row, "explanation": control.explanation, "exemptions": control.exemptions})
        return rows

    def identity(self) -> list[dict[str, object]]:
        """The facts a report must state: period, as_of, snapshot, run, parameters."""
        from audit_lib.periods import iso

        facts = [
            ("period", self.period.label),
            ("start", iso(self.period.start) or "-infinity"),
            ("end (as_of)", iso(self.period.as_of)),
            ("snapshot id", self.snapshot.get("id")),
            ("snapshot sha256", self.snapshot.get("sha256")),
            ("snapshot taken at", self.snapshot.get("taken_at")),
            ("run at", self.generated_at),
            ("suite version", self.suite_version),
            ("findings", self.source),
        ]
        facts += [(f"parameter {name}", value) for name, value in self.parameters.items()]
        return [{"": name, "value": value} for name, value in facts]

    def context(self) -> dict[str, object]:
        """Values for narrative text: period, bounds, as_of, snapshot, run."""

        return {
            **self.period.context(),
            "snapshot_id": self.snapshot.get("id"),
            "taken_at": self.snapshot.get("taken_at"),
            "generated_at": self.generated_at,
            **self.parameters,
        }

    def summary(self) -> dict[str, object]:
        """Totals for the narrative: controls, failed, violations, exceptions."""
        failed = [str(c["id"]) for c in self.controls if c["status"] == "fail"]
        return {
            "controls": len(self.controls),
            "failed": len(failed),
            "passed": len(self.controls) - len(failed),
            "failed_ids": ", ".join(failed) or "none",
            "violations": sum(int(c["violations"]) for c in self.controls),
            "exceptions": sum(int(c["exceptions"]) for c in self.controls),
        }


def parse_params(params: str | dict[str, object] | None) -> dict[str, int]:
    """The notebook parameter `params` (JSON text) resolved against the defaults."""
    from audit_lib.params import resolve

    if isinstance(params, str):
        try:
            params = json.loads(params or "{}")
        except json.JSONDecodeError as exc:
            raise UsageError(f"params is not JSON: {exc}") from None
    if not isinstance(params, dict | None):
        raise UsageError("params must be a JSON object of control parameters")
    return resolve(params)


def load_audit(
    snapshot: str | Path, period: str, params: str | dict[str, object] = "{}", findings: str | Path = ""
) -> AuditView:
    """Read `findings` (a findings.json) when given, else evaluate the snapshot."""
    chosen = Period.parse(period)
    if findings:
        return read_findings(Path(findings), chosen, snapshot)
    return evaluate_view(Path(snapshot), chosen, parse_params(params))


def read_findings(path: Path, period: Period | None = None, snapshot: str | Path | None = None) -> AuditView:
    """An AuditView from findings.json and the evidence/ folder beside it."""
    document = read_document(path)
    label = document["period"]["label"]
    if period is not None and label != period.label:
        raise UsageError(f"{path}: findings of period {label}, not {period.label}")
    if snapshot:
        _check_snapshot(Path(snapshot), document["snapshot"]["id"], path)
    return AuditView(
        period=Period.parse(label),
        parameters=document["parameters"],
        snapshot=document["snapshot"],
        generated_at=document.get("generated_at"),
        suite_version=document.get("suite_version", ""),
        controls=document["controls"],
        exceptions=evidence_exceptions(path.parent / "evidence", [c["id"] for c in document["controls"]]),
        source=path.name,
    )


def read_document(path: Path, expected_format: str | None = None) -> dict[str, object]:
    """A JSON document the suite wrote (findings.json by default), checked by its format."""
    from audit_lib.findings import FORMAT

    expected_format = expected_format or FORMAT
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != expected_format:
        raise UsageError(f"{path}: not a {expected_format} document")
    return document


def _check_snapshot(snapshot: Path, expected_id: str, path: Path) -> None:
    from audit_lib.snapshot import snapshot_info

    actual = snapshot_info(snapshot).id
    if actual != expected_id:
        raise UsageError(f"{path}: findings of snapshot {expected_id}, not of {snapshot} ({actual})")


def evidence_exceptions(folder: Path, control_ids: list[str]) -> list[ExceptionRow]:
    """Aggregate the evidence CSVs in DuckDB: exceptions by control and reason."""
    import duckdb

    files = [str(folder / f"{cid}.csv") for cid in control_ids if (folder / f"{cid}.csv").is_file()]
    if not files:
        return []
    with duckdb.connect() as con:
        rows = con.execute(EVIDENCE_EXCEPTIONS, {"files": files, "sample": SAMPLE_KEYS}).fetchall()
    return _ordered([(c, r, n, list(keys)) for c, r, n, keys in rows], control_ids)


def evaluate_view(snapshot: Path, period: Period, params: dict[str, int]) -> AuditView:
    """Evaluate every control now and present the result as findings.json would."""
    from audit_lib.evaluate import evaluate
    from audit_lib.findings import findings_document
    from audit_lib.folders import sha256_of

    findings = evaluate(snapshot, period, params)
    document = findings_document(findings, sha256_of(snapshot))
    return AuditView(
        period=period,
        parameters=document["parameters"],
        snapshot=document["snapshot"],
        generated_at=document["generated_at"],
        suite_version=document["suite_version"],
        controls=document["controls"],
        exceptions=findings_exceptions(findings),
    )


def findings_exceptions(findings: Findings) -> list[ExceptionRow]:
    """Exceptions by control and reason, from evaluated Findings."""
    rows = []
    for result in findings.controls:
        by_reason = Counter(reason for _, reason in result.exceptions)
        for reason, n in by_reason.items():
            keys = sorted(key for key, r in result.exceptions if r == reason)[:SAMPLE_KEYS]
            rows.append((result.control.id, reason, n, keys))
    return _ordered(rows, [r.control.id for r in findings.controls])


def _ordered(rows: list[ExceptionRow], control_ids: list[str]) -> list[ExceptionRow]:
    position = {cid: n for n, cid in enumerate(control_ids)}
    return sorted(rows, key=lambda row: (position.get(row[0], len(position)), row[1]))
