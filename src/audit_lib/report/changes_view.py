"""What the changes notebook shows: this audit beside the previous report (diff.json).

Under `privacy-audit run quarterly` the notebook reads the folder's diff.json
(beside findings.json). Run by hand with `previous_findings` (a findings.json
of an earlier report) it computes the same diff, evaluating the snapshot when
it has no findings of its own; with neither, it says there is no previous report.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.report import display

if TYPE_CHECKING:
    import polars as pl
    from IPython.display import HTML, Markdown

NONE_FOUND = (
    "No previous report was found to compare with (none of the quarter before in this reports "
    "folder, and none named with `--previous`): this section has nothing to show."
)


@dataclass(frozen=True)
class ChangesView:
    diff: dict | None

    def compared_with(self) -> Markdown:
        """Which previous report this audit was compared with, or that there is none."""
        if self.diff is None:
            return display.markdown(NONE_FOUND)
        before = self.diff["previous"]
        text = display.markdown_text(
            "Compared with the previous report: period **{period}**, snapshot {snapshot_id}, "
            "run at {generated_at} (folder {folder}).",
            **before,
        )
        flagged = self.diff["not_comparable"]
        if flagged:
            text += display.markdown_text(
                " **{n} control(s) are not comparable** ({ids}): their counts are shown, but a change "
                "there may be a change of the rule, not of the data.",
                n=len(flagged),
                ids=", ".join(flagged),
            )
        else:
            text += " Every control is comparable: same definitions, parameters and suite version."
        return display.markdown(text)

    def _none(self) -> Markdown:
        return display.markdown("Nothing to compare.")

    def overview(self) -> HTML | Markdown:
        """Every control: status, violations and exceptions before and now, and what changed."""
        if self.diff is None:
            return self._none()
        from audit_lib.findings.diff import summary_rows

        changes = {row["id"]: row["change"] for row in summary_rows(self.diff)}
        rows = []
        for c in self.diff["controls"]:
            before, now = c["before"] or {}, c["now"]
            rows.append({
                "id": c["id"], "title": c["title"],
                "status before": before.get("status"), "violations before": before.get("violations"),
                "exceptions before": before.get("exceptions"),
                "status": now["status"], "violations": now["violations"], "exceptions": now["exceptions"],
                "change": changes[c["id"]], "comparable": "yes" if c["comparable"] else "no",
            })  # fmt: skip
        from IPython.display import HTML

        caption = "Controls: the previous report beside this audit"
        return HTML(display.table_html(rows, caption, max_rows=0, badges=("status before", "status")))

    def comparability(self) -> HTML | Markdown:
        if self.diff is None:
            return self._none()
        rows = [
            {"id": c["id"], "title": c["title"], "why not comparable": "; ".join(c["not_comparable"])}
            for c in self.diff["controls"]
            if not c["comparable"]
        ]
        if not rows:
            return display.markdown("No control differs in definition, parameters or suite version.")
        return display.table(rows, caption="Controls not comparable with the previous report")

    def carried_over(self) -> HTML | Markdown:
        """Per state control (and DSR-01, DSP-01): violations before and now, new, persisting, resolved."""
        if self.diff is None:
            return self._none()
        rows = [
            {
                "id": c["id"], "title": c["title"],
                "violations before": (c["before"] or {}).get("violations"),
                "violations now": c["now"]["violations"],
                "new": len(c["new"]), "persisting": len(c["persisting"]),
                "resolved": len(c["resolved"]), "now waived": len(c["waived"]),
                "comparable": "yes" if c["comparable"] else "no",
            }
            for c in self.diff["controls"]
            if c["comparison"] == "keys"
        ]  # fmt: skip
        return display.table(rows, caption="Violations that can carry over: new, persisting, resolved")

    def persisting(self) -> HTML | Markdown:
        if self.diff is None:
            return self._none()
        rows = [
            {"control": c["id"], "key": p["key"], "first seen": p["first_seen"],
             "open since the earliest report found": p["run_reaches_chain_start"]}
            for c in self.diff["controls"] if c["comparison"] == "keys"
            for p in c["persisting"]
        ]  # fmt: skip
        if not rows:
            return display.markdown("No violation persists from the previous report.")
        return display.table(rows, caption="Persisting violations and the quarter each was first seen")

    def keys(self, change: str) -> HTML | Markdown:
        """The `new`, `resolved` or `waived` keys, one row per control."""
        if self.diff is None:
            return self._none()
        rows = [
            {"control": c["id"], "count": len(c[change]), "keys": ", ".join(c[change])}
            for c in self.diff["controls"]
            if c["comparison"] == "keys" and c[change]
        ]
        if not rows:
            return display.markdown(f"No {change} violation.")
        return display.table(rows, caption=f"{change.capitalize()} violations by control")

    def counts(self) -> HTML | Markdown:
        """Event controls: population, violations and rate, before and now."""
        if self.diff is None:
            return self._none()
        rows = []
        for c in self.diff["controls"]:
            if c["comparison"] != "counts":
                continue
            before, now = c["before"] or {}, c["now"]
            rows.append({
                "id": c["id"], "title": c["title"],
                "population before": before.get("population"), "violations before": before.get("violations"),
                "rate before": _rate(before.get("rate")),
                "population now": now["population"], "violations now": now["violations"],
                "rate now": _rate(now["rate"]), "comparable": "yes" if c["comparable"] else "no",
            })  # fmt: skip
        return display.table(rows, caption="Event controls: violations / population, before and now")

    def waivers(self) -> HTML | Markdown:
        if self.diff is None:
            return self._none()
        changes = self.diff.get("waivers")
        if changes is None:
            return display.markdown("Neither report used a waivers file.")
        rows = [
            {"change": change, "waiver": w.get("id"), "control": w.get("control"), "state": w.get("state"),
             "covered": w.get("covered")}
            for change in ("added", "expired", "removed") for w in changes.get(change, [])
        ]  # fmt: skip
        if not rows:
            return display.markdown("No waiver was added, expired or removed since the previous report.")
        return display.table(rows, caption="Waivers added, expired and removed since the previous report")

    def trend(self) -> pl.DataFrame:
        """Violations per control and report, oldest first: `period`, `control`, `violations`."""
        import polars as pl

        schema = {"period": pl.String, "control": pl.String, "violations": pl.Int64}
        if self.diff is None:
            return pl.DataFrame(schema=schema)
        rows = [
            (report["period"], control, count)
            for report in self.diff["trend"]
            for control, count in report["violations"].items()
            if count is not None
        ]
        return pl.DataFrame(rows, schema=schema, orient="row")

    def notes(self) -> Markdown | None:
        if not self.diff or not self.diff.get("notes"):
            return None
        lines = "\n".join(f"- {display.escape_markdown(n)}" for n in self.diff["notes"])
        return display.markdown("Notes on the chain of earlier reports:\n\n" + lines)


def _rate(rate: object) -> str:
    return "-" if rate is None else f"{float(rate):.1%}"


def load_changes(
    snapshot: str | Path,
    period: str,
    params: str = "{}",
    findings: str | Path = "",
    previous_findings: str | Path = "",
    snapshot_id: str = "",
) -> ChangesView:
    """The diff of this audit: diff.json beside `findings`, else computed, else none."""
    from audit_lib.findings.diff import NAME, diff_reports, read_diff, require_report

    if findings and (Path(findings).parent / NAME).is_file():
        return ChangesView(read_diff(Path(findings).parent / NAME))
    if not previous_findings:
        return ChangesView(None)
    previous = require_report(Path(previous_findings).parent)
    if findings:
        return ChangesView(diff_reports(previous, Path(findings).parent))
    return ChangesView(_evaluated_diff(previous, Path(snapshot), period, params, snapshot_id))


def _evaluated_diff(previous: Path, snapshot: Path, period: str, params: str, snapshot_id: str) -> dict:
    """Evaluate the snapshot now, write its findings to a temporary folder, compare."""
    from audit_lib.controls.evaluate import evaluate
    from audit_lib.findings.diff import diff_reports
    from audit_lib.findings.quarterly import write_findings
    from audit_lib.ingest.snapshot import require_snapshot_id
    from audit_lib.params import parse_json
    from audit_lib.periods import Period

    require_snapshot_id(snapshot, snapshot_id)
    findings = evaluate(snapshot, Period.parse(period), parse_json(params))
    with tempfile.TemporaryDirectory() as tmp:
        write_findings(findings, Path(tmp))
        return diff_reports(previous, Path(tmp), "evaluated in the notebook")
