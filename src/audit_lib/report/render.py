"""Executed notebooks -> one self-contained HTML page that opens with no network.

nbconvert's `basic` template renders each notebook's markdown and outputs
(no code, no prompts); charts arrive as SVG and become `data:` images. The
bodies are wrapped in one page with inline CSS, a table of contents and a
Content-Security-Policy that forbids every load but inline styles and
`data:` images. Scripts are stripped: the report is read, not run.

Data values are escaped where they are displayed (`audit_lib.report.display`); the
text/html outputs pass through here as they are.
"""

from __future__ import annotations

import functools
import html
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from audit_lib import __version__
from audit_lib.folders import slug

TEMPLATES = Path(__file__).parent / "templates"

#: Cells with these tags never reach the report (papermill's and ours).
REMOVE_CELL_TAGS = ("parameters", "injected-parameters", "remove-cell")

HEADING = re.compile(r'<h([12])\b[^>]*\bid="([^"]*)"[^>]*>(.*?)</h\1\s*>', re.IGNORECASE | re.DOTALL)
ANCHOR_LINK = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.DOTALL)
TAG = re.compile(r"<[^>]+>")
ID_ATTRIBUTE = re.compile(r'(?<![\w:-])(id|href)="(#?)([^"#][^"]*)"')
URL_ATTRIBUTES = frozenset(
    ("src", "href", "srcset", "action", "formaction", "poster", "data", "background", "xlink:href")
)
OFF_PAGE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(
    r"""url\(\s*["']?\s*((?:https?:)?//[^"')\s]*)|@import\s+["']\s*((?:https?:)?//[^"']*)""", re.I
)
CSS_OFF_PAGE = re.compile(
    r"""@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//[^;]*;?|url\(\s*["']?\s*(?:https?:)?//[^)]*\)""", re.I
)
DROPPED_ELEMENTS = frozenset(("script", "link"))


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
    rendered: Mapping[Path, Section] | None = None,
) -> None:
    """Write `out_html`: the notebooks' bodies, in the order given, in one page (`rendered`:
    sections already made by `notebook_section`, by path)."""
    rendered = rendered or {}
    sections = [rendered.get(Path(path)) or notebook_section(Path(path)) for path in executed]
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
    prefix = slug(path.stem)
    body = scoped_ids(strip_active_content(notebook_body(path)), prefix)
    headings = [(anchor, heading_text(inner), level) for level, anchor, inner in HEADING.findall(body)]
    title = next((text for anchor, text, level in headings if level == "1"), path.stem)
    subheadings = [(anchor, text) for anchor, text, level in headings if level == "2"]
    return Section(f"{prefix}--section", title, subheadings, body)


def notebook_body(path: Path) -> str:
    """The notebook as an HTML fragment: markdown and outputs only."""
    import nbformat

    return body_of(nbformat.read(path, as_version=4))


def body_of(notebook: object) -> str:
    """A notebook node as an HTML fragment: markdown and outputs only."""
    for cell in notebook.cells:  # warnings on stderr belong in logs, not the report
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
    with _EXPORTER_LOCK:
        body, _ = html_exporter().from_notebook_node(notebook)
    return body


_EXPORTER_LOCK = threading.Lock()


@functools.cache
def html_exporter() -> object:
    """One nbconvert exporter for every notebook (compiling its templates costs ~0.1 s each time)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="#",
        optimistic_validation=True,  # validate once, after the preprocessors, not after each
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=set(REMOVE_CELL_TAGS), enabled=True), enabled=True
    )
    return exporter


def warm_up() -> None:
    """Render a small notebook into a page once: the first real one then finds nbconvert's
    templates compiled and its imports made (half a second, paid while DuckDB evaluates)."""
    from nbformat import v4

    output = v4.new_output(
        "display_data",
        data={"text/html": "<table><tr><td>1</td></tr></table>", "text/markdown": "*1*",
              "image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg"></svg>'},
    )  # fmt: skip
    cells = [v4.new_markdown_cell("# 1\n\n## 2"), v4.new_code_cell(outputs=[output])]
    body = scoped_ids(strip_active_content(body_of(v4.new_notebook(cells=cells))), "warm-up")
    external_references(render_page([Section("warm-up", "1", [], body)], "1", datetime.now(UTC)))


def strip_active_content(fragment: str) -> str:
    """Drop every <script> (requirejs, MathJax, widget state), <link> and off-page URL.

    A link to the web keeps its text and loses its target: the report is read
    offline, and nothing in it may reach for the network.
    """
    scanner = _OffPage(rewrite=True)
    scanner.feed(fragment)
    scanner.close()
    return "".join(scanner.out)


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
    """Every URL in the page's markup that points off the page (http, https, //).

    Only tags, attributes and CSS count: text that merely mentions a URL does not.

    >>> external_references('<img src="https://cdn.example/x.png"><a href="#top">top</a>')
    ['https://cdn.example/x.png']
    >>> external_references("<style>@import '//fonts.example/css';</style><p>see https://x.org</p>")
    ['//fonts.example/css']
    """
    scanner = _OffPage(rewrite=False)
    scanner.feed(page)
    scanner.close()
    return scanner.found


class _OffPage(HTMLParser):
    """Finds (and, with `rewrite`, removes) what would load or link off the page."""

    def __init__(self, rewrite: bool) -> None:
        super().__init__(convert_charrefs=False)
        self.rewrite, self.found, self.out = rewrite, [], []
        self._dropping: str | None = None
        self._in_style = False

    def _emit(self, text: str) -> None:
        if self.rewrite and self._dropping is None:
            self.out.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, closed=True)

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        kept, dropped = [], []
        for name, value in attrs:
            urls = self._urls(name, value or "")
            (dropped if urls else kept).append((name, value))
            self.found += urls
        if tag in DROPPED_ELEMENTS:
            if not closed and tag == "script" and self._dropping is None:
                self._dropping = tag
            return
        self._in_style = tag == "style" and not closed
        raw = self.get_starttag_text() or ""
        self._emit(raw if not dropped else _start_tag(tag, kept, closed))

    def _urls(self, name: str, value: str) -> list[str]:
        if name in URL_ATTRIBUTES and OFF_PAGE.match(value):
            return [value.strip()]
        if name == "style":
            return [a or b for a, b in CSS_URL.findall(value)]
        return []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._dropping:
            self._dropping = None
            return
        self._in_style = False if tag == "style" else self._in_style
        if tag not in DROPPED_ELEMENTS:
            self._emit(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._in_style and self._dropping is None:
            urls = [a or b for a, b in CSS_URL.findall(data)]
            self.found += urls
            data = CSS_OFF_PAGE.sub("", data) if urls else data
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._emit(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self._emit(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self._emit(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self._emit(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self._emit(f"<![{data}]>")


def _start_tag(tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> str:
    parts = [tag] + [name if value is None else f'{name}="{html.escape(value)}"' for name, value in attrs]
    return "<" + " ".join(parts) + (" />" if closed else ">")
