"""What ropa.ipynb shows: the observed record of processing (Art. 30) and its reconciliation.

Under `run quarterly` the notebook reads the folder's ropa.csv (the record as
written), its copied declared file and the ROPA-NN controls of findings.json;
run by hand it computes the observed record from the snapshot and has nothing
to reconcile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.report.display import escape, table_html, text

if TYPE_CHECKING:
    import polars as pl

    from audit_lib.report.audit_view import AuditView

#: Art. 30(1) points, in the order each activity's checklist shows them.
CHECKLIST = (
    ("(b)", "purpose", "purpose of the processing"),
    ("(c)", "data_subjects", "categories of data subjects"),
    ("(c)", "category", "categories of personal data"),
    ("—", "system", "systems holding the data (system kind)"),
    ("(d)", "recipient", "recipients in the period (kind, country, safeguard)"),
    ("(d)", "recipient_kind", "categories of recipients"),
    ("(e)", "third_country", "transfers to third countries (parties, safeguards)"),
    ("(f)", "retention", "observed retention"),
    ("(g)", "security", "security measures observed"),
)
ROPA_PREFIX = "ROPA-"


@dataclass(frozen=True)
class RopaView:
    observed: pl.DataFrame
    controller: list[dict[str, object]]
    source: str
    audit: AuditView | None = None
    declared_name: str | None = None

    def purposes(self) -> list[str]:
        frame = self.observed.filter(self.observed["element"] == "purpose")
        return [str(p) for p in frame["purpose"]]

    def rows(self, purpose: str, element: str) -> list[dict[str, object]]:
        frame = self.observed.filter(
            (self.observed["purpose"] == purpose) & (self.observed["element"] == element)
        )
        return list(frame.iter_rows(named=True))

    def one(self, purpose: str, element: str) -> dict[str, object]:
        rows = self.rows(purpose, element)
        return rows[0] if rows else {}

    def summary(self) -> list[dict[str, object]]:
        """One row per processing activity: the headline of each Art. 30 point."""
        out = []
        for p in self.purposes():
            head, oldest, cap = self.one(p, "purpose"), self.one(p, "oldest_item"), self.one(p, "past_cap")
            rest, transit = self.one(p, "encrypted_at_rest"), self.one(p, "encrypted_in_transit")
            out.append({
                "activity (purpose)": p, "items": head.get("items"), "customers": head.get("customers"),
                "children": _children(self, p),
                "categories": len(self.rows(p, "category")),
                "recipients": len(self.rows(p, "recipient")),
                "third countries": ", ".join(str(r["value"]) for r in self.rows(p, "third_country"))
                or "none",
                "oldest item": oldest.get("value"), "past cap": cap.get("items"),
                "encrypted at rest": _percent(rest.get("share")),
                "in transit": _percent(transit.get("share")),
            })  # fmt: skip
        return out

    def checklist(self, purpose: str) -> list[dict[str, object]]:
        """The Art. 30(1)(b)-(g) points of one activity, each as one line of text."""
        return [
            {"Art. 30(1)": point, "element": label, "observed": self._observed(purpose, element)}
            for point, element, label in CHECKLIST
        ]

    def _observed(self, p: str, element: str) -> str:
        if element == "purpose":
            row = self.one(p, "purpose")
            return f"{p}: {text(row.get('items'))} items about {text(row.get('customers'))} customers"
        if element == "data_subjects":
            rows = self.rows(p, "data_subjects")
            return "; ".join(f"{r['value']} customers: {text(r['customers'])}" for r in rows) or "none"
        if element == "category":
            return ", ".join(f"{r['value']} ({text(r['items'])})" for r in self.rows(p, "category")) or "none"
        if element == "system":
            return ", ".join(f"{r['value']} ({r['kind']})" for r in self.rows(p, "system")) or "none"
        if element == "recipient":
            rows = self.rows(p, "recipient")
            return (
                "; ".join(
                    f"{r['value']} {r['name']} ({r['kind']}, {r['country']}, safeguard {r['safeguard']}): "
                    f"{text(r['disclosures'])} disclosure(s)"
                    for r in rows
                )
                or "none in the period"
            )
        if element == "recipient_kind":
            rows = self.rows(p, "recipient_kind")
            return ", ".join(f"{r['value']} ({text(r['disclosures'])})" for r in rows) or "none in the period"
        if element == "third_country":
            rows = self.rows(p, "third_country")
            return (
                "; ".join(
                    f"{r['value']} via {r['name']} (safeguard {r['safeguard']}): "
                    f"{text(r['disclosures'])} disclosure(s)"
                    for r in rows
                )
                or "none in the period"
            )
        if element == "retention":
            oldest, cap = self.one(p, "oldest_item"), self.one(p, "past_cap")
            return (
                f"oldest item received {oldest.get('value')} ({oldest.get('name')}); "
                f"{text(cap.get('items'))} item(s) past the {cap.get('value')} cap"
            )
        rest, transit = self.one(p, "encrypted_at_rest"), self.one(p, "encrypted_in_transit")
        moved = (
            f"{text(transit.get('disclosures'))} disclosure(s) encrypted in transit "
            f"({_percent(transit.get('share'))})"
            if transit.get("share") is not None
            else "no disclosures in the period"
        )
        return f"{text(rest.get('items'))} item(s) encrypted at rest ({_percent(rest.get('share'))}); {moved}"

    def activities_html(self) -> str:
        """One heading and checklist table per activity (every value escaped)."""
        parts = []
        for p in self.purposes():
            parts.append(f"<h3>{escape(p)}</h3>")
            parts.append(table_html(self.checklist(p), f"Art. 30(1) record of {p}, as observed", max_rows=0))
        return "".join(parts)

    def reconciliation(self) -> list[dict[str, object]]:
        """The ROPA-NN controls of findings.json: one row each (empty without a declared RoPA)."""
        if self.audit is None:
            return []
        return [
            {"id": c["id"], "title": c["title"], "status": c["status"], "judged": c["population"],
             "discrepancies": c["violations"]}
            for c in self.audit.controls
            if str(c["id"]).startswith(ROPA_PREFIX)
        ]  # fmt: skip

    def discrepancies_html(self) -> str:
        """Each ROPA control's explanation and its discrepancies (first records)."""
        from audit_lib.controls.registry import control_by_id

        parts = []
        for row in self.reconciliation():
            cid = str(row["id"])
            parts.append(f"<h3>{escape(cid)} {escape(row['title'])}</h3>")
            parts.append(f"<p>{escape(control_by_id(cid).explanation)}</p>")
            if row["discrepancies"] and self.audit is not None and self.audit.has_details(cid):
                records = self.audit.records(cid).drop("customer_id", "outcome", "reason", strict=False)
                total = int(row["discrepancies"])
                shown = (
                    f" (first {len(records)} of {total}; all in evidence/{cid}.csv)"
                    if total > len(records)
                    else ""
                )
                parts.append(table_html(records, f"Discrepancies of {cid}{shown}", max_rows=0, badges=()))
            else:
                parts.append('<p class="pa-note"><em>No discrepancy.</em></p>')
        return "".join(parts)

    def note(self) -> str:
        if self.audit is None or not self.reconciliation():
            return (
                "No declared RoPA was given for this audit (`run quarterly --ropa FILE`): the observed "
                "record stands alone, and nothing is reconciled."
            )
        found = sum(int(r["discrepancies"]) for r in self.reconciliation())
        return (
            f"The declared RoPA ({self.declared_name}, copied into the report folder) was compared with the "
            f"observed record: {found} discrepancy(ies). Each ROPA control is a finding of findings.json, "
            "with its evidence file, after the controls of controls.md."
        )


def _children(view: RopaView, purpose: str) -> object:
    rows = [r for r in view.rows(purpose, "data_subjects") if r["value"] == "children"]
    return rows[0]["customers"] if rows else 0


def _percent(share: object) -> str:
    if share is None or share == "":
        return "—"
    return f"{float(share) * 100:.1f}%"  # type: ignore[arg-type]


def load_ropa(
    snapshot: str | Path,
    period: str,
    params: str | dict = "{}",
    findings: str | Path = "",
    snapshot_id: str = "",
) -> RopaView:
    """The folder's ropa.csv (beside `findings`) when given, else the record computed now."""
    import polars as pl

    from audit_lib.findings.ropa import COPIED_NAME, CSV_NAME, controller_rows

    if findings:
        from audit_lib.report.audit_view import load_audit

        folder = Path(findings).parent
        audit = load_audit(snapshot, period, params, findings, snapshot_id)
        frame = pl.read_csv(folder / CSV_NAME, infer_schema=False)
        numbers = ("items", "customers", "disclosures")
        frame = frame.with_columns(
            *(pl.col(c).cast(pl.Int64) for c in numbers), pl.col("share").cast(pl.Float64)
        )
        controller = frame.filter(pl.col("article") == "30(1)(a)")
        observed = frame.filter(pl.col("article") != "30(1)(a)")
        declared = folder / COPIED_NAME
        return RopaView(
            observed, _controller(controller.iter_rows(named=True)), CSV_NAME, audit,
            COPIED_NAME if declared.is_file() else None,
        )  # fmt: skip
    from audit_lib.figures import Analytics
    from audit_lib.ingest.snapshot import require_snapshot_id

    require_snapshot_id(Path(snapshot), snapshot_id)
    with Analytics.open(snapshot, period, params) as analytics:
        observed = analytics.ropa()
    return RopaView(observed, _controller(controller_rows(None)), "computed in the notebook")


def _controller(rows: object) -> list[dict[str, object]]:
    return [
        {"Art. 30(1)": "(a)", "element": str(r["element"]).replace("controller_", ""), "value": r["value"]}
        for r in rows  # type: ignore[attr-defined]
    ]
