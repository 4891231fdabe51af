"""What the quarterly notebooks show of an audit's findings, loaded in one place.

Under `privacy-audit run quarterly` the notebooks receive findings.json (by a
path relative to the notebook) and only read it, with its evidence/ folder;
run by hand in JupyterLab or under nbval they evaluate the controls
themselves. Either way they get the same `AuditView`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.controls.registry import control_by_id
from audit_lib.errors import UsageError
from audit_lib.periods import Period, iso, narrative
from audit_lib.report.display import NOTHING_TO_JUDGE

if TYPE_CHECKING:
    import polars as pl

#: How many records a control's section shows (the CSV files hold them all).
RECORDS_SHOWN = 50
#: Violations first: what needs acting on.
OUTCOME_ORDER = {"violation": 0, "waived": 1, "exception": 2}

#: Rows of the exceptions register: (control id, reason, count, first keys).
ExceptionRow = tuple[str, str, int, list[str]]


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
    #: findings.json's `waivers` register and `waivers_file`; None for an audit run without waivers.
    waivers: list[dict[str, object]] | None = None
    waivers_file: dict[str, str] | None = None
    #: findings.json's `settings`: each option's value and source (default, config, command line).
    settings: dict[str, object] | None = None
    #: Where the evidence files are (findings read from a folder) ...
    evidence_dir: Path | None = None
    #: ... or each control's details, evaluated in the notebook.
    details: dict[str, pl.DataFrame] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, document: dict, exceptions: list[ExceptionRow], source: str) -> AuditView:
        """The view of a findings.json document."""
        return cls(
            period=Period.parse(document["period"]["label"]),
            parameters=document["parameters"],
            snapshot=document["snapshot"],
            generated_at=document.get("generated_at"),
            suite_version=document.get("suite_version", ""),
            controls=document["controls"],
            exceptions=exceptions,
            source=source,
            waivers=document.get("waivers"),
            waivers_file=document.get("waivers_file"),
            settings=document.get("settings"),
        )

    def scorecard(self) -> pl.DataFrame:
        """One row per control, in the order of controls.md."""
        import polars as pl

        columns = ("id", "clause", "title", "status", "population", "violations", "exceptions")
        if any("waived" in row for row in self.controls):
            columns = (*columns[:6], "waived", *columns[6:])
        return pl.DataFrame([{c: shown(row)[c] for c in columns} for row in self.controls])

    def explanations(self) -> list[dict[str, object]]:
        """Each control's clause, title, explanation and declared exemptions."""
        rows = []
        for row in self.controls:
            control = control_by_id(str(row["id"]))
            rows.append({**shown(row), "explanation": control.explanation, "exemptions": control.exemptions})
        return rows

    def sections(self, limit: int = RECORDS_SHOWN) -> list[dict[str, object]]:
        """`explanations`, each with its first records and their breakdown where it has any."""
        rows = []
        for row in self.explanations():
            control = str(row["id"])
            has_records = int(row["violations"]) + int(row["exceptions"]) + int(row.get("waived") or 0)
            if has_records and self.has_details(control):
                by = control_by_id(control).breakdown
                row = {**row, "records": self.records(control, limit), "breakdown": self.breakdown(control),
                       "breakdown_by": by}  # fmt: skip
            rows.append(row)
        return rows

    def has_details(self, control_id: str) -> bool:
        if self.details is not None:
            return control_id in self.details
        return self.evidence_dir is not None and (self.evidence_dir / f"{control_id}.details.csv").is_file()

    def details_frame(self, control_id: str) -> pl.DataFrame:
        """Every evidence row of a control with its detail columns (masked unless the run revealed)."""
        from audit_lib.findings.quarterly import read_details

        if self.details is not None:
            return self.details[control_id]
        if self.evidence_dir is None:
            raise UsageError(f"no evidence details for {control_id}")
        return read_details(self.evidence_dir, control_id)

    def evidence(self, control_id: str):
        """A control's violations, exceptions (and waived records) with their context, as pandas."""
        return self.details_frame(control_id).to_pandas()

    def records(self, control_id: str, limit: int = RECORDS_SHOWN) -> pl.DataFrame:
        """The first `limit` records, violations first, then waived, then exceptions."""
        import polars as pl

        order = pl.col("outcome").replace_strict(OUTCOME_ORDER, default=len(OUTCOME_ORDER))
        frame = self.details_frame(control_id)
        return frame.with_row_index("#").sort(order, "#").drop("#").head(limit)

    def breakdown(self, control_id: str) -> pl.DataFrame | None:
        """Records per value of the control's most telling dimension, by outcome."""
        import polars as pl

        by = control_by_id(control_id).breakdown
        frame = self.details_frame(control_id)
        if not by or by not in frame.columns:
            return None
        counts = [pl.col("outcome").eq(o).sum().alias(f"{o}s" if o != "waived" else o) for o in OUTCOME_ORDER]
        table = frame.group_by(pl.col(by).cast(pl.String)).agg(pl.len().alias("records"), *counts)
        present = [c for c in table.columns if c in (by, "records") or table[c].sum() > 0]
        return table.select(present).sort("records", by, descending=[True, False])

    def identity(self) -> list[dict[str, object]]:
        """The facts a report must state: period, as_of, snapshot, run, parameters."""
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
        sources = (self.settings or {}).get("parameters", {})
        facts += [
            (f"parameter {name}", f"{value} ({sources[name]})" if name in sources else value)
            for name, value in self.parameters.items()
        ]
        options = (self.settings or {}).get("options", {})
        facts += [
            (f"option {name}", f"{o['value']} ({o['source']})")
            for name, o in options.items()
            if o["source"] != "default"
        ]
        if self.settings and self.settings.get("config"):
            facts.append(("config file", self.settings["config"]))
        return [{"": name, "value": value} for name, value in facts]

    def context(self) -> dict[str, object]:
        """Values for narrative text: period, bounds, as_of, snapshot, run."""
        snapshot = self.snapshot
        return narrative(
            self.period, snapshot.get("id"), snapshot.get("taken_at"), self.parameters,
            generated_at=self.generated_at,
        )  # fmt: skip

    def summary(self) -> dict[str, object]:
        """Totals for the narrative: controls, failed, violations, exceptions."""
        failed = [str(c["id"]) for c in self.controls if c["status"] == "fail"]
        empty = [str(c["id"]) for c in self.controls if shown(c)["status"] == NOTHING_TO_JUDGE]
        return {
            "controls": len(self.controls),
            "failed": len(failed),
            "passed": len(self.controls) - len(failed) - len(empty),
            "nothing_to_judge": len(empty),
            "nothing_to_judge_ids": ", ".join(empty) or "none",
            "failed_ids": ", ".join(failed) or "none",
            "violations": sum(int(c["violations"]) for c in self.controls),
            "exceptions": sum(int(c["exceptions"]) for c in self.controls),
        }

    def exceptions_register(self) -> pl.DataFrame:
        """Every exemption a control declares, with how often it was claimed (0 included)."""
        import polars as pl

        claimed = {(c, r): (n, keys) for c, r, n, keys in self.exceptions}
        rows = []
        for control in self.explanations():
            declared = dict(control["exemptions"])
            reasons = list(declared) + [r for c, r in claimed if c == control["id"] and r not in declared]
            for reason in reasons:
                n, keys = claimed.get((control["id"], reason), (0, []))
                rows.append({
                    "control": control["id"], "clause": control["clause"], "reason": reason,
                    "exemption": declared.get(reason, ""), "exceptions": n, "first keys": ", ".join(keys),
                })  # fmt: skip
        schema = {"control": pl.String, "clause": pl.String, "reason": pl.String}
        schema |= {"exemption": pl.String, "exceptions": pl.Int64, "first keys": pl.String}
        return pl.DataFrame(rows, schema=schema)

    def waivers_note(self) -> str:
        """Markdown (every value escaped) on the waivers file of this audit, or that there was none."""
        from audit_lib.report.display import markdown_text

        if self.waivers is None:
            return "No waivers file was given for this audit: every violation counts."
        states = {s: sum(1 for w in self.waivers if w["state"] == s) for s in WAIVER_STATES}
        counts = ", ".join(f"{n} {state}" for state, n in states.items() if n) or "none"
        file = self.waivers_file or {}
        return markdown_text(
            "Waivers file {name} (sha256 {sha256}), copied into the report folder: {n} waiver(s) ({counts}), "
            "{waived} violation(s) waived. A waiver is in force from 00:00:00Z of its approval date until "
            "00:00:00Z of its expiry date; outside that span it waives nothing and its violations count.",
            name=file.get("name", ""), sha256=file.get("sha256", ""), n=len(self.waivers), counts=counts,
            waived=sum(int(w["waived"]) for w in self.waivers),
        )  # fmt: skip

    def waiver_register(self) -> pl.DataFrame:
        """One row per waiver, in the order of the waivers file (empty without one)."""
        import polars as pl

        rows = [
            {
                "id": w["id"], "control": w["control"], "covers": covers_text(w["covers"]),
                "state": w["state"], "covered": len(w["keys"]), "waived": w["waived"],
                "expires on": w["expires_on"], "approved by": w["approved_by"],
                "approved on": w["approved_on"], "ticket": w.get("ticket") or "",
                "justification": w["justification"],
            }
            for w in self.waivers or []
        ]  # fmt: skip
        schema = {"id": pl.String, "control": pl.String, "covers": pl.String, "state": pl.String}
        schema |= {"covered": pl.Int64, "waived": pl.Int64, "expires on": pl.String}
        schema |= {"approved by": pl.String, "approved on": pl.String, "ticket": pl.String}
        return pl.DataFrame(rows, schema=schema | {"justification": pl.String})

    def compare(self, previous: str | Path) -> pl.DataFrame | None:
        """This audit's control counts beside those of a previous findings.json; None without one."""
        import polars as pl

        from audit_lib.findings.quarterly import read_findings

        if not previous:
            return None
        before = {c["id"]: c for c in read_findings(Path(previous))["controls"]}
        rows = []
        for now in self.controls:
            old = before.get(now["id"], {})
            rows.append({
                "id": now["id"], "title": now["title"],
                "status before": old.get("status"), "violations before": old.get("violations"),
                "exceptions before": old.get("exceptions"),
                "status": now["status"], "violations": now["violations"], "exceptions": now["exceptions"],
            })  # fmt: skip
        return pl.DataFrame(rows)


#: A waiver's states, in the order the notes count them (findings/waivers.py decides them).
WAIVER_STATES = ("active", "unused", "expired", "not yet in force")


def covers_text(covers: object) -> str:
    """What a waiver covers, in words: `all`, `{key: K}` or `{customer_id: C}`."""
    if isinstance(covers, dict) and "key" in covers:
        return f"key {covers['key']}"
    if isinstance(covers, dict) and "customer_id" in covers:
        return f"customer {covers['customer_id']}"
    return "whole control"


def shown(control: dict[str, object]) -> dict[str, object]:
    """A control's summary as a report shows it: an empty population is not a pass."""
    if control["status"] == "pass" and not control["population"]:
        return {**control, "status": NOTHING_TO_JUDGE}
    return control


def load_audit(
    snapshot: str | Path,
    period: str,
    params: str | dict[str, object] = "{}",
    findings: str | Path = "",
    snapshot_id: str = "",
) -> AuditView:
    """Read `findings` (a findings.json) when given, else evaluate the snapshot."""
    from audit_lib.ingest.snapshot import require_snapshot_id
    from audit_lib.params import parse_json

    chosen = Period.parse(period)
    if findings:
        return read_view(Path(findings), chosen, snapshot)
    require_snapshot_id(Path(snapshot), snapshot_id)
    return evaluate_view(Path(snapshot), chosen, parse_json(params))


def read_view(path: Path, period: Period | None = None, snapshot: str | Path | None = None) -> AuditView:
    """An AuditView from findings.json and the evidence/ folder beside it."""
    from audit_lib.findings.quarterly import exceptions_by_reason, read_evidence, read_findings
    from audit_lib.ingest.snapshot import require_snapshot_id

    document = read_findings(path)
    label = document["period"]["label"]
    if period is not None and label != period.label:
        raise UsageError(f"{path}: findings of period {label}, not {period.label}")
    if snapshot:
        require_snapshot_id(Path(snapshot), document["snapshot"]["id"], path)
    ids = [c["id"] for c in document["controls"]]
    exceptions = exceptions_by_reason(read_evidence(path.parent / "evidence", ids), ids)
    return replace(
        AuditView.of(document, exceptions, source=path.name), evidence_dir=path.parent / "evidence"
    )


def evaluate_view(snapshot: Path, period: Period, params: dict[str, int]) -> AuditView:
    """Evaluate every control now and present the result as findings.json would."""
    from audit_lib.controls.evaluate import evaluate
    from audit_lib.findings.quarterly import details_of, evidence_of, exceptions_by_reason, findings_document

    findings = evaluate(snapshot, period, params, with_details=True)
    ids = [r.control.id for r in findings.controls]
    exceptions = exceptions_by_reason(evidence_of(findings), ids)
    view = AuditView.of(findings_document(findings), exceptions, source="evaluated in the notebook")
    details = {r.id: details_of(r, findings.details[r.id], revealed=False) for r in findings.controls}
    return replace(view, details=details)
