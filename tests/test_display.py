"""Everything from the data shows as text: tables, narrative, badges, charts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from audit_lib.figures import charts
from audit_lib.report import display

SCRIPT = "<script>alert(1)</script>"
EVIL_TOPIC = '<img src=x onerror="alert(1)"> & [click](javascript:alert(1)) *bold*'


def test_table_escapes_values_headers_and_caption() -> None:
    frame = pl.DataFrame({"party": [SCRIPT], "<b>col</b>": ["a & b"], "n": [1234]})
    html = display.table_html(frame, caption=f"caption {SCRIPT}")
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;col&lt;/b&gt;" in html and "a &amp; b" in html
    assert '<td style="text-align:right">1,234</td>' in html


def test_table_of_mappings_and_value_formats() -> None:
    rows = [
        {"when": datetime(2026, 10, 1, tzinfo=UTC), "day": date(2026, 8, 15), "ok": True, "x": None},
        {"when": None, "extra": [SCRIPT, "b"], "ratio": 7.6000001},
    ]
    html = display.table_html(rows).replace(' style="white-space:nowrap"', "")  # keys, stamps unbroken
    assert "<th>when</th><th>day</th><th>ok</th><th>x</th><th>extra</th><th>ratio</th>" in html
    assert "<td>2026-10-01T00:00:00Z</td><td>2026-08-15</td><td>yes</td><td></td>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;, b" in html and ">7.6</td>" in html


def test_table_truncates_and_says_so() -> None:
    html = display.table_html(pl.DataFrame({"n": list(range(60))}), max_rows=50)
    assert html.count("<tr>") == 51 and "First 50 of 60 rows." in html
    assert "No rows." in display.table_html(pl.DataFrame({"n": []}))
    assert display.table(pl.DataFrame({"n": [1]})).data.startswith('<table class="pa-table">')


def test_status_column_and_badges_are_escaped() -> None:
    html = display.table_html([{"status": "fail"}, {"status": SCRIPT}])
    assert 'class="pa-badge pa-fail"' in html and "<script" not in html
    assert display.badge("pass").data.count("pass") == 2
    assert "<script" not in display.badge(SCRIPT).data


def test_markdown_escapes_interpolated_values_only() -> None:
    text = display.markdown_text("Topic **{topic}** of {party}.", topic=EVIL_TOPIC, party=SCRIPT)
    assert text.startswith("Topic **&lt;img") and text.endswith(".")
    assert "<" not in text and "](" not in text and "\\*bold\\*" in text
    assert display.markdown_text("braces {kept}") == "braces {kept}"
    assert display.markdown("{n} items", n=1234).data == "1,234 items"


def test_markdown_renders_as_text_in_the_report() -> None:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rendered = markdown2html_mistune(display.markdown_text("{a} {b}", a=EVIL_TOPIC, b=SCRIPT + "\n# h"))
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert "<h1" not in rendered and "<em>" not in rendered and "<strong>" not in rendered
    assert "&lt;script&gt;" in rendered


def test_control_explanations_are_escaped() -> None:
    row = {"id": "RET-01", "title": SCRIPT, "status": "fail", "clause": "§8", "kind": "state",
           "key": "item_id", "population": 3, "violations": 2, "exceptions": 1,
           "explanation": EVIL_TOPIC, "exemptions": {"access_log": SCRIPT}}  # fmt: skip
    html = display.controls_html([row])
    assert "<script" not in html and "<img" not in html
    assert "<strong>access_log</strong>" in html and "Policy §8" in html


def test_setup_renders_charts_as_svg() -> None:
    import altair as alt

    display.setup()
    assert alt.renderers.active == "printable-svg"  # SVG, every string made printable first


@pytest.mark.slow
def test_chart_svg_shows_names_as_text() -> None:
    import vl_convert as vlc

    flows = pl.DataFrame(
        {
            "category": ["email"], "party_id": ["P1"], "party": [SCRIPT], "party_kind": ["sub_processor"],
            "country": ["IN"], "in_eea": [False], "safeguard": ["none"], "disclosures": [3],
            "authorized": [2], "unauthorized": [1], "without_dpa": [0],
        }
    )  # fmt: skip
    svg = vlc.vegalite_to_svg(charts.flows(flows).to_dict())
    assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt; (3)" in svg
