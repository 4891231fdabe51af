"""Executed notebooks -> one self-contained HTML page that opens with no network.

nbconvert's `basic` template renders each notebook's markdown and outputs
(no code, no prompts); charts arrive as SVG and become `data:` images. The
bodies are wrapped in one page with inline CSS, a table of contents and a
Content-Security-Policy that forbids every load but inline styles and
`data:` images. Scripts are stripped: the report is read, not run.

Data values are escaped where they are displayed (`audit_lib.display`); the
text/html outputs pass through here as they are.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from audit_lib import __version__

TEMPLATES = Path(__file__).parent / "templates"

#: Cells with these tags never reach the report (papermill's and ours).
REMOVE_CELL_TAGS = ("parameters", "injected-parameters", "remove-cell", "report-hide")

SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/?>", re.IGNORECASE | re.DOTALL)
LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
HEADING = re.compile(r'<h([12])\b[^>]*\bid="([^"]*)"[^>]*>(.*?)</h\1\s*>', re.IGNORECASE | re.DOTALL)
ANCHOR_LINK = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.DOTALL)
TAG = re.compile(r"<[^>]+>")
ID_ATTRIBUTE = re.compile(r'(?<![\w:-])(id|href)="(#?)([^"#][^"]*)"')
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|srcset|action|formaction|poster|data|background|xlink:href)\s*=\s*["']?\s*"""
    r"""|url\(\s*["']?\s*|@import\s+["']\s*)((?:https?:)?//[^\s"'()<>]*)""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Section:
    """One notebook of the report: its anchor, title, sub-headings and body."""

    id: str
    title: str
    headings: list[tuple[str, str]]
    body: str


def render_report(
    executed: list[Path],
    out_html: Path,
    title: str = "Privacy audit report",
    generated_at: datetime | None = None,
) -> None:
    """Write `out_html`: the notebooks' bodies, in the order given, in one page."""
    sections = [notebook_section(Path(path)) for path in executed]
    page = render_page(sections, title, generated_at or datetime.now(UTC))
    leaks = external_references(page)
    if leaks:  # a broken promise, not bad input: fail loudly rather than ship it
        raise RuntimeError(f"report would load external resources: {leaks[:5]}")
    Path(out_html).write_text(page, encoding="utf-8")


def render_page(sections: list[Section], title: str, generated_at: datetime) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
    stamp = generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return env.get_template("report.html.j2").render(
        title=title, generated_at=stamp, sections=sections, version=__version__
    )


def notebook_section(path: Path) -> Section:
    """Render one executed notebook and name its section after its first heading."""
    prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem).strip("-") or "notebook"
    body = scoped_ids(strip_active_content(notebook_body(path)), prefix)
    headings = [(anchor, heading_text(inner), level) for level, anchor, inner in HEADING.findall(body)]
    title = next((text for anchor, text, level in headings if level == "1"), path.stem)
    subheadings = [(anchor, text) for anchor, text, level in headings if level == "2"]
    return Section(f"{prefix}--section", title, subheadings, body)


def notebook_body(path: Path) -> str:
    """The notebook as an HTML fragment: markdown and outputs only."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:  # warnings on stderr belong in logs, not the report
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="#",
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=set(REMOVE_CELL_TAGS), enabled=True), enabled=True
    )
    body, _ = exporter.from_notebook_node(notebook)
    return body


def strip_active_content(fragment: str) -> str:
    """Drop every <script> (requirejs, MathJax, widget state) and <link> tag."""
    return LINK_TAG.sub("", SCRIPT.sub("", fragment))


def scoped_ids(fragment: str, prefix: str) -> str:
    """Prefix ids and in-page links so two notebooks' headings cannot collide."""

    def scope(match: re.Match[str]) -> str:
        attribute, hash_, value = match.groups()
        if attribute == "href" and not hash_:
            return match.group(0)
        return f'{attribute}="{hash_}{prefix}--{value}"'

    return ID_ATTRIBUTE.sub(scope, fragment)


def heading_text(inner_html: str) -> str:
    """A heading's plain text (without nbconvert's anchor link)."""
    return html.unescape(TAG.sub("", ANCHOR_LINK.sub("", inner_html))).strip()


def external_references(page: str) -> list[str]:
    """Every URL the page would fetch or link to off the page (http, https, //).

    >>> external_references('<img src="https://cdn.example/x.png"><a href="#top">top</a>')
    ['https://cdn.example/x.png']
    >>> external_references("<style>@import '//fonts.example/css';</style>")
    ['//fonts.example/css']
    """
    return EXTERNAL.findall(page)
