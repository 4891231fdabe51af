"""What investigate.ipynb shows: an investigation document as tables, text and a chart.

The document comes from `audit_lib.findings.investigation` (read from the file the CLI
wrote, or computed when the notebook runs by hand); nothing here judges.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.findings.investigation import (
    EVENT_TYPES,
    NOT_JUDGED,
    TIMELINE_FIELDS,
    investigate,
    read_investigation,
)

if TYPE_CHECKING:
    import altair as alt
    import polars as pl


def load_document(
    investigation: str,
    snapshot: str,
    dispute_id: str = "",
    customer_id: str = "",
    as_of: str = "",
    reveal: bool = False,
    params: str = "{}",
    snapshot_id: str = "",
) -> dict[str, object]:
    """The document the CLI wrote (its path relative to the notebook), or one computed now."""
    from audit_lib.ingest.snapshot import require_snapshot_id
    from audit_lib.params import parse_json

    require_snapshot_id(Path(snapshot), snapshot_id)
    if investigation:
        return read_investigation(Path(investigation))
    return investigate(
        snapshot, dispute_id or None, customer_id or None, as_of or None, parse_json(params), reveal
    )


def deadline_summary(document: dict) -> str:
    """One Markdown sentence, values escaped: where the response deadline stands."""
    from audit_lib.report.display import markdown_text

    dispute = document["dispute"]
    if dispute is None:
        items = document.get("disputes") or []
        complaints = sum(1 for d in items if d["type"] == "complaint")
        still_open = sum(1 for d in items if d["status"] in ("open", "overdue"))
        return markdown_text(
            "Customer **{c}** as of {a}: {n} complaint(s) and {r} request(s), {o} of them unanswered "
            "(listed below, most urgent first).",
            c=document["customer"]["id"], a=document["as_of"], n=complaints, r=len(items) - complaints,
            o=still_open,
        )  # fmt: skip
    days = dispute["days_left"]
    state = {
        "met": "answered on time, at {responded}",
        "missed": "answered late, at {responded}",
        "open": "not answered yet; {days} day(s) left at {as_of}",
        "overdue": "not answered, and overdue by {overdue} day(s) at {as_of}",
    }[dispute["status"]]
    return markdown_text(
        "Complaint **{id}**, received {received}: response due by **{deadline}**; " + state + ".",
        id=dispute["id"], received=dispute["received_at"], deadline=dispute["deadline"],
        responded=dispute["responded_at"], as_of=document["as_of"],
        days=days, overdue=-days if days is not None else None,
    )  # fmt: skip


def deadline_rows(document: dict) -> list[dict[str, object]]:
    """The complaint's facts, status first, as one-row-per-field records."""
    dispute = document["dispute"]
    if dispute is None:
        return []
    facts = [
        ("status", dispute["status"]),
        ("days left at as_of", dispute["days_left"]),
        ("deadline", dispute["deadline"]),
        ("received at", dispute["received_at"]),
        ("responded at", dispute["responded_at"]),
        ("resolved at", dispute["resolved_at"]),
        ("as of", document["as_of"]),
        ("customer", dispute["customer_id"] or "none (not a customer)"),
        ("topic", dispute["topic"]),
    ]
    return [{"field": name, "value": value} for name, value in facts]


def dispute_rows(document: dict) -> list[dict[str, object]]:
    """The customer's complaints and requests with their deadline status, most urgent first."""
    return [
        {name.replace("_", " "): value for name, value in item.items()}
        for item in document.get("disputes") or []
    ]


def customer_rows(document: dict) -> list[dict[str, object]]:
    customer = document["customer"] or {}
    return [{"field": name.replace("_", " "), "value": value} for name, value in customer.items()]


def about_rows(document: dict) -> list[dict[str, object]]:
    """What the verdicts rest on: snapshot identity, as_of, parameters, masking."""
    snapshot = document["snapshot"]
    facts = [
        ("period", f"(-infinity, {document['as_of']})"),
        ("snapshot id", snapshot["id"]),
        ("snapshot sha256", snapshot["sha256"]),
        ("snapshot taken at", snapshot["taken_at"]),
        *((f"parameter {name}", value) for name, value in document["parameters"].items()),
        ("personal values", "revealed" if document["revealed"] else "masked"),
    ]
    return [{"field": name, "value": value} for name, value in facts]


def timeline_frame(document: dict) -> pl.DataFrame:
    """The timeline as a table, `at` parsed, newest facts last."""
    import polars as pl

    schema = {name: pl.String for name in TIMELINE_FIELDS}
    frame = pl.DataFrame(document["timeline"], schema=schema)
    return frame.with_columns(
        pl.col("at", "until").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC", strict=False)
    )


def verdict_frame(document: dict) -> pl.DataFrame:
    """One row per control: the customer's verdict with its clause and keys."""
    import polars as pl

    from audit_lib.controls.registry import load_controls
    from audit_lib.report.display import NOTHING_TO_JUDGE

    rows = []
    for control in load_controls():
        verdict = document["controls"][control.id]
        judged = verdict["status"] != NOT_JUDGED
        rows.append({
            "control": control.id,
            "clause": control.clause,
            "title": control.title,
            "status": NOTHING_TO_JUDGE if judged and not verdict["population"] else verdict["status"],
            "records judged": verdict["population"] if judged else None,
            "violations": ", ".join(verdict["violations"]) if judged else "",
            "exceptions": ", ".join(f"{k} ({r})" for k, r in verdict["exceptions"]) if judged else "",
        })  # fmt: skip
    return pl.DataFrame(rows)


#: A timeline longer than this is charted as counts per day (or month, or year); the
#: table and investigation.json keep every record.
TIMELINE_POINTS = 2000
BUCKETS = (("1d", "day"), ("1mo", "month"), ("1y", "year"))


def timeline_points(frame: pl.DataFrame) -> tuple[pl.DataFrame, str | None]:
    """The chart's points: every record, or counts per bucket (and its name) when too many."""
    import polars as pl

    stamp = "%Y-%m-%dT%H:%M:%SZ"
    if frame.height <= TIMELINE_POINTS:
        points = frame.select(pl.col("at").dt.strftime(stamp), pl.col("until").dt.strftime(stamp), "type")
        return points.with_columns(records=pl.lit(1)), None
    for every, name in BUCKETS:
        counted = (
            frame.group_by(pl.col("at").dt.truncate(every), "type")
            .agg(pl.len().alias("records"))
            .sort("at", "type")
        )
        if counted.height <= TIMELINE_POINTS or name == "year":
            shown = counted.select(pl.col("at").dt.strftime(stamp), pl.lit(None, pl.String).alias("until"))
            return shown.with_columns(counted["type"], counted["records"]), name
    raise AssertionError("unreachable")


def timeline_chart(document: dict) -> alt.LayerChart | None:
    """Events by type over time; spans to their end; as_of dashed, the deadline red.

    A long history is drawn as counts per day, month or year, and the title says so.
    """
    import altair as alt
    import polars as pl

    frame = timeline_frame(document)
    if frame.is_empty():
        return None
    points, bucket = timeline_points(frame)
    x = alt.X("at:T", title="time (UTC)", scale=alt.Scale(type="utc"))
    y = alt.Y("type:N", title=None, sort=list(EVENT_TYPES))
    color = alt.Color("type:N", legend=None, sort=list(EVENT_TYPES))
    base = alt.Chart(points)
    spans = base.transform_filter("datum.until != null").mark_rule(opacity=0.5)
    ticks = base.mark_tick(thickness=2).encode(x, y, color, tooltip=["at:T", "type:N", "records:Q"])
    layers = [spans.encode(x=x, x2="until:T", y=y, color=color), ticks]
    marks = [(document["as_of"], "black")]
    if document["dispute"]:
        marks.append((document["dispute"]["deadline"], "#b3261e"))
    for at, hue in marks:
        layers.append(alt.Chart(pl.DataFrame({"at": [at]})).mark_rule(color=hue, strokeDash=[4, 3]).encode(x))
    title = "Timeline (dashed black: as_of" + ("; dashed red: response deadline)" if len(marks) > 1 else ")")
    if bucket:
        title += f"; {frame.height:,} records, one tick per {bucket} and type (the table lists them all)"
    return alt.layer(*layers).properties(width=640, title=title)
