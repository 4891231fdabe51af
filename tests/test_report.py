"""report.html: one self-contained page, no code, data shown as text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from audit_lib.report import display
from audit_lib.report.render import external_references, render_report, strip_active_content

SCRIPT = "<script>alert(1)</script>"
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def _notebook(path: Path, heading: str, outputs: list) -> Path:
    """A notebook as papermill leaves it: parameters, markdown, code with outputs."""
    cells = [
        new_code_cell('snapshot = "SECRET_PARAMETER"', metadata={"tags": ["parameters"]}),
        new_markdown_cell(
            f"# {heading}\n\nIntro.\n\n## Details\n\nSee [the web](https://example.org/policy)."
        ),
        new_code_cell("frame = load_things()  # SECRET_CODE", outputs=outputs, execution_count=1),
    ]
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.fixture
def report(tmp_path: Path) -> str:
    party = [{"party": SCRIPT, "topic": "<b>bold</b> & <img src=https://evil.example/x.png>"}]
    first = _notebook(
        tmp_path / "scorecard.ipynb",
        "Scorecard",
        [
            new_output("display_data", data={"text/html": display.table_html(party, caption=SCRIPT)}),
            new_output("display_data", data={"text/markdown": display.markdown_text("Party {p}", p=SCRIPT)}),
            new_output("display_data", data={"image/svg+xml": SVG, "text/plain": "<Chart>"}),
            new_output("stream", name="stderr", text="DeprecationWarning: noise\n"),
            new_output("stream", name="stdout", text="counted 3 rows\n"),
        ],
    )
    second = _notebook(
        tmp_path / "retention.ipynb",
        "Retention",
        [
            new_output("display_data", data={"application/javascript": "alert(2)"}),
            new_output(
                "display_data",
                data={
                    "text/html": '<div id="vis"></div><script src="https://cdn.jsdelivr.net/npm/vega@5"></script>'
                },
            ),
            new_output(
                "display_data", data={"text/html": '<link rel="stylesheet" href="//fonts.example/css">'}
            ),
        ],
    )
    out = tmp_path / "report.html"
    render_report(
        [first, second], out, "Quarterly <audit>", generated_at=datetime(2026, 10, 2, 9, 30, tzinfo=UTC)
    )
    return out.read_text(encoding="utf-8")


def test_self_contained(report: str) -> None:
    assert external_references(report) == []
    assert "<script" not in report.lower()
    assert "<link" not in report.lower()
    assert "alert(2)" not in report
    assert 'http-equiv="Content-Security-Policy"' in report
    assert "data:image/svg+xml;base64," in report  # the chart travels inside the page


def test_no_code_cells_or_prompts(report: str) -> None:
    assert "SECRET_CODE" not in report and "load_things" not in report
    assert "SECRET_PARAMETER" not in report
    assert "In&nbsp;[" not in report and "Out[" not in report
    assert "DeprecationWarning" not in report
    assert "counted 3 rows" in report


def test_data_shows_as_text(report: str) -> None:
    assert SCRIPT not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=https://evil.example/x.png&gt;" in report


def test_order_header_and_contents(report: str) -> None:
    assert "<title>Quarterly &lt;audit&gt;</title>" in report
    assert "Generated 2026-10-02 09:30 UTC" in report
    assert report.index('id="scorecard--section"') < report.index('id="retention--section"')
    toc = report[report.index('<nav class="toc"') : report.index("</nav>")]
    assert re.findall(r'href="#([^"]+)"', toc) == [
        "scorecard--section",
        "scorecard--Details",
        "retention--section",
        "retention--Details",
    ]
    for anchor in ("scorecard--Details", "retention--Details"):
        assert f'id="{anchor}"' in report  # two notebooks, same heading, distinct anchors
    assert ">Scorecard</a>" in toc and ">Retention</a>" in toc


def test_web_links_keep_their_text_lose_their_target(report: str) -> None:
    assert "the web" in report and "example.org" not in report


@pytest.mark.parametrize(
    ("page", "found"),
    [
        ('<img src="https://cdn.example/a.png">', ["https://cdn.example/a.png"]),
        ("<script src=//cdn.example/a.js></script>", ["//cdn.example/a.js"]),
        ('<link rel="stylesheet" href="http://x.example/s.css">', ["http://x.example/s.css"]),
        ("<div style=\"background: url('https://x.example/b.png')\"></div>", ["https://x.example/b.png"]),
        ("<style>@import 'https://fonts.example/f.css';</style>", ["https://fonts.example/f.css"]),
        ('<a href="#top">top</a><img src="data:image/png;base64,AAAA">', []),
        ('<svg xmlns="http://www.w3.org/2000/svg"></svg>', []),
        ("<td>src=https://only.text.example &lt;img src=//x&gt;</td>", []),
    ],
)
def test_external_references(page: str, found: list[str]) -> None:
    assert external_references(page) == found


def test_strip_active_content_keeps_escaped_text() -> None:
    fragment = '<p>a &amp; b &lt;script&gt; &#39;c&#39;<script>x = "</p>";</script><br/></p>'
    assert strip_active_content(fragment) == "<p>a &amp; b &lt;script&gt; &#39;c&#39;<br/></p>"
