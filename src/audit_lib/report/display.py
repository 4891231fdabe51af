"""Presentation helpers shared by every notebook: escaped tables, text and badges.

Every value that comes from the data is escaped here, so a party named
`<script>alert(1)</script>` shows as text in JupyterLab and in report.html.
Nothing relies on a frame library's own HTML rendering.
"""

from __future__ import annotations

import contextlib
import html
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from IPython.display import HTML, Markdown

MAX_ROWS = 50
# Characters that would start markup inside a line of Markdown.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!|~])")
#: How a report shows a control whose population is empty (findings.json keeps `pass`).
NOTHING_TO_JUDGE = "nothing to judge"
BADGE_COLORS = {
    "pass": ("#1a7f37", "#dafbe1"),
    "fail": ("#cf222e", "#ffebe9"),
    NOTHING_TO_JUDGE: ("#57606a", "#eaeef2"),
}
NUMERIC = (int, float)
#: Values up to this long without a space (keys, timestamps) stay on one line.
UNBROKEN = 32
MARKED_STYLE = ";background:#ffd8d3;color:#82071e;font-weight:600"
WARM_UP_SPEC = {"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}}


#: Control characters and non-characters: shown as U+FFFD. vl-convert aborts the whole
#: process on some of them (an ESC byte in a party name), and no reader needs them raw.
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


def printable(value: object) -> object:
    """`value` with every string in it (nested in dicts and lists too) made printable."""
    if isinstance(value, str):
        return UNPRINTABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(v) for v in value]
    return value


def setup() -> None:
    """Render Altair charts as inline SVG (offline, no JavaScript) in this kernel.

    Every string of a chart's spec (its data included) is made printable first.
    """
    threading.Thread(target=_warm_up_svg, name="vl-convert warm-up", daemon=True).start()
    import altair as alt

    alt.renderers.enable("svg")
    svg = alt.renderers.get()
    alt.renderers.register("printable-svg", lambda spec, **meta: svg(printable(spec), **meta))
    alt.renderers.enable("printable-svg")


def _warm_up_svg() -> None:
    """Start vl-convert's JavaScript engine (about a second) while the notebook queries.

    vl-convert releases the GIL and serializes its calls, so the first chart
    simply finds the engine ready.
    """
    import vl_convert

    with contextlib.suppress(Exception):
        vl_convert.vegalite_to_svg(WARM_UP_SPEC)


def text(value: object) -> str:
    """A cell value as plain, unescaped text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}" if value == value else ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        from audit_lib.periods import iso

        return iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    return UNPRINTABLE.sub("\ufffd", str(value))


def escape(value: object) -> str:
    """A value as HTML text."""
    return html.escape(text(value), quote=True)


def badge_html(status: object) -> str:
    """A pass/fail badge as an HTML string (the status itself escaped)."""
    label = text(status)
    fg, bg = BADGE_COLORS.get(label, ("#57606a", "#eaeef2"))
    return (
        f'<span class="pa-badge pa-{escape(label.replace(" ", "-"))}" style="color:{fg};background:{bg};'
        f'padding:0 .5em;border-radius:.8em;font-weight:600">{escape(label)}</span>'
    )


def badge(status: object) -> HTML:
    from IPython.display import HTML

    return HTML(badge_html(status))


def rows_of(frame: Any) -> tuple[list[str], list[Sequence[object]]]:
    """Column names and rows of a polars or pandas frame, or of a list of mappings."""
    if hasattr(frame, "iter_rows"):  # polars
        return list(frame.columns), list(frame.iter_rows())
    if hasattr(frame, "itertuples"):  # pandas
        return [str(c) for c in frame.columns], [tuple(r) for r in frame.itertuples(index=False)]
    records = [{str(k): v for k, v in record.items()} for record in frame]
    columns = list(dict.fromkeys(k for record in records for k in record))
    return columns, [[record.get(c) for c in columns] for record in records]


def table_html(
    frame: Any,
    caption: str | None = None,
    max_rows: int = MAX_ROWS,
    badges: Iterable[str] = ("status",),
    anchors: dict[str, str] | None = None,
    marked: Iterable[str] = (),
) -> str:
    """An HTML table with every header, value and the caption escaped.

    `anchors` maps a column to a prefix: its cells link to `#<prefix><value>` in the page.
    Non-zero cells of the `marked` columns are shaded (e.g. ages past a cap).
    """
    columns, rows = rows_of(frame)
    shown = rows[:max_rows] if max_rows else rows
    badge_columns = set(badges)
    anchors, marked = anchors or {}, set(marked)
    parts = ['<table class="pa-table">']
    if caption:
        parts.append(f"<caption>{escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr></thead>")
    parts.append("<tbody>")
    for row in shown:
        cells = (
            _linked(value, anchors[column])
            if column in anchors
            else _cell(column, value, badge_columns, column in marked)
            for column, value in zip(columns, row, strict=True)
        )
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    if not rows:
        parts.append('<p class="pa-note"><em>No rows.</em></p>')
    elif len(shown) < len(rows):
        parts.append(f'<p class="pa-note"><em>First {len(shown):,} of {len(rows):,} rows.</em></p>')
    return "".join(parts)


def anchor_id(prefix: str, value: object) -> str:
    """An id attribute's value for `value` (only letters, digits and dashes)."""
    return prefix + re.sub(r"[^A-Za-z0-9-]+", "-", text(value))


def _linked(value: object, prefix: str) -> str:
    return f'<td><a href="#{anchor_id(prefix, value)}">{escape(value)}</a></td>'


def _cell(column: str, value: object, badge_columns: set[str], marked: bool = False) -> str:
    if column in badge_columns and value is not None:
        return f"<td>{badge_html(value)}</td>"
    if isinstance(value, NUMERIC) and not isinstance(value, bool):
        shade = MARKED_STYLE if marked and value else ""
        return f'<td style="text-align:right{shade}">{escape(value)}</td>'
    shown = text(value)
    if len(shown) <= UNBROKEN and " " not in shown:  # keys and timestamps are never split
        return f'<td style="white-space:nowrap">{escape(value)}</td>'
    return f"<td>{escape(value)}</td>"


def table(
    frame: Any,
    caption: str | None = None,
    max_rows: int = MAX_ROWS,
    anchors: dict[str, str] | None = None,
    marked: Iterable[str] = (),
) -> HTML:
    """Show a polars/pandas frame or a list of dicts as an escaped HTML table."""
    from IPython.display import HTML

    return HTML(table_html(frame, caption, max_rows, anchors=anchors, marked=marked))


#: Where a control's section is, for the scorecard's links.
CONTROL_ANCHOR = "control-"


def evidence_html(row: dict[str, Any]) -> str:
    """A control's records (first rows), their breakdown and relative links to its evidence files."""
    records, breakdown = row.get("records"), row.get("breakdown")
    if records is None or not len(records):
        return ""
    cid = text(row["id"])
    total = int(row["violations"]) + int(row["exceptions"]) + int(row.get("waived") or 0)
    caption = f"Records of {cid}: violations first" + (
        f" (first {len(records)} of {total})" if total > len(records) else ""
    )
    links = " · ".join(
        f'<a href="evidence/{escape(cid)}{suffix}">evidence/{escape(cid)}{suffix}</a>'
        for suffix in (".csv", ".details.csv")
    )
    shown = table_html(records, caption, max_rows=0, badges=())
    by = (
        table_html(breakdown, f"{cid} by {row.get('breakdown_by')}", max_rows=0, badges=())
        if breakdown is not None
        else ""
    )
    return f'{shown}{by}<p class="pa-note">All records: {links}</p>'


def controls_html(rows: Iterable[dict[str, Any]]) -> str:
    """One section per control: id, title, status, policy clause, explanation, exemptions, records."""
    parts = []
    for row in rows:
        exemptions = "".join(
            f"<li><strong>{escape(name)}</strong>: {escape(text)}</li>"
            for name, text in dict(row.get("exemptions") or {}).items()
        )
        parts.append(
            f'<section class="pa-control" id="{anchor_id(CONTROL_ANCHOR, row["id"])}">'
            f"<h3>{escape(row['id'])} {escape(row['title'])} "
            f"{badge_html(row['status'])}</h3>"
            f"<p><strong>Policy {escape(row['clause'])}</strong> · {escape(row.get('kind'))} control "
            f"over {escape(row.get('key'))}: population {escape(row['population'])}, "
            f"violations {escape(row['violations'])}, exceptions {escape(row['exceptions'])}"
            + (f", waived {escape(row['waived'])}" if "waived" in row else "")
            + ".</p>"
            f"<p>{escape(row['explanation'])}</p>"
            + (f"<p>Exemptions:</p><ul>{exemptions}</ul>" if exemptions else "<p>No exemptions.</p>")
            + evidence_html(row)
            + "</section>"
        )
    return "".join(parts)


def controls(rows: Iterable[dict[str, Any]]) -> HTML:
    """Show each control's explanation and policy clause (see `controls_html`)."""
    from IPython.display import HTML

    return HTML(controls_html(rows))


def escape_markdown(value: object) -> str:
    """A value made inert inside a line of Markdown: HTML-escaped, markup characters quoted."""
    flat = " ".join(text(value).split())
    return MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=True))


def markdown_text(template: str, /, **values: object) -> str:
    """`template` with `{name}` placeholders filled by escaped `values`.

    Without values the template is used as it is (braces and all): it must
    then hold no data, or data already passed through `escape_markdown`.
    """
    if not values:
        return template
    return template.format_map({name: escape_markdown(value) for name, value in values.items()})


def markdown(template: str, /, **values: object) -> Markdown:
    """Narrative: the template is trusted, every interpolated value is escaped."""
    from IPython.display import Markdown

    return Markdown(markdown_text(template, **values))


PERIOD_HEADER = (
    "Period **{period}**: from {start} to {end} (as_of {as_of}). Snapshot {snapshot_id}, taken at {taken_at}."
)


def period_header(context: dict[str, object]) -> Markdown:
    """The line every quarterly notebook opens with: period, as_of and snapshot."""
    fields = ("period", "start", "end", "as_of", "snapshot_id", "taken_at")
    return markdown(PERIOD_HEADER, **{name: context[name] for name in fields})
