"""report.pdf: report.html printed by WeasyPrint, for readers who want pages.

The page is the report itself with a print stylesheet added: A4 landscape, a
header on every page with the period and the snapshot id, page numbers, and
tables that wrap inside the page (small type, long text broken anywhere)
rather than losing their right-hand columns: a run of text longer than 40
characters without a space may break every 20. Identifiers never split: every
token that looks like one (letters and digits with a digit, or joined by
`- _ . / :`, such as `RET-01`, `I000007`, `2026-07-01T00:00:00Z`) is kept on
one line. WeasyPrint loads nothing but `data:` URLs (the report is
self-contained), so printing is offline.

WeasyPrint needs Pango (Debian: `apt-get install libpango-1.0-0 libpangoft2-1.0-0`);
`make test` installs it where missing.
"""

from __future__ import annotations

import re
from pathlib import Path

from audit_lib.errors import AuditError

NAME = "report.pdf"
#: A token kept on one line: an identifier, a date, a file name.
IDENTIFIER = re.compile(
    r"(?<![\w&#;])(?:[A-Za-z0-9]*\d[A-Za-z0-9]*(?:[-_./:][A-Za-z0-9]+)*"
    r"|[A-Za-z0-9]+(?:[-_./:][A-Za-z0-9]+)+)(?![\w])"
)
#: Longer runs without a space get a break opportunity (<wbr>) every `BREAK_EVERY` characters.
IDENTIFIER_CHARS = 40
BREAK_EVERY = 20
LONG_RUN = re.compile(rf"[^\s]{{{IDENTIFIER_CHARS + 1},}}")
CHARACTER = re.compile(r"&#?\w+;|.", re.DOTALL)
TAG = re.compile(r"(<[^>]*>)")
#: Elements whose text is not prose: left as it is.
RAW_ELEMENTS = ("style", "title", "svg", "script", "head")
HEADER_UNSAFE = re.compile(r"[^\w .:/+()\-]", re.ASCII)

PRINT_CSS = """
@page {
  size: A4 landscape;
  margin: 17mm 11mm 14mm 11mm;
  @top-left { content: "%(header)s"; font: 600 8pt sans-serif; color: #1d232b; }
  @top-right { content: "privacy-audit %(version)s"; font: 8pt sans-serif; color: #5b6672; }
  @bottom-left { content: "%(footer)s"; font: 7.5pt sans-serif; color: #5b6672; }
  @bottom-right {
    content: "page " counter(page) " of " counter(pages); font: 8pt sans-serif; color: #1d232b;
  }
}
html { font-size: 9pt; }
body { line-height: 1.35; }
.page { display: block; max-width: none; }
header.report-header { padding: 0 0 .5rem; }
nav.toc { padding: 0 0 1rem; page-break-after: always; }
nav.toc > div { position: static; }
main { padding: 0; }
p, li { max-width: none; }
.output_subarea, .output_html, .output_area, pre { overflow: visible !important; }
.output_svg img, .output_png img, img { max-width: 100%% !important; height: auto; }
table { max-width: 100%%; font-size: 7.5pt; page-break-inside: auto !important; }
tr { page-break-inside: avoid; }
th, td { padding: 2px 5px; overflow-wrap: break-word; word-break: normal; hyphens: none; }
thead th { white-space: normal !important; }
.pa-nobr { white-space: nowrap; }
section.notebook { page-break-before: always; }
section.notebook:first-child { page-break-before: avoid; }
footer { padding: .5rem 0 0; }
"""


def render_pdf(
    report_html: Path, out_pdf: Path, period: str, snapshot_id: str, generated_at: str = ""
) -> None:
    """Print `report_html` as `out_pdf`, with `period` and `snapshot_id` in every page's header."""
    from audit_lib import __version__

    try:
        from weasyprint import CSS, HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:
        raise AuditError(
            "--pdf needs WeasyPrint and Pango (pip install weasyprint; on Debian "
            f"apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}"
        ) from None
    page = keep_identifiers(Path(report_html).read_text(encoding="utf-8"))
    css = PRINT_CSS % {
        "header": _css_text(f"Privacy audit {period} · snapshot {snapshot_id}"),
        "footer": _css_text(f"generated {generated_at}" if generated_at else ""),
        "version": _css_text(__version__),
    }
    fetcher = URLFetcher(allowed_protocols={"data"})
    document = HTML(string=page, base_url=str(Path(report_html).parent), url_fetcher=fetcher)
    document.write_pdf(out_pdf, stylesheets=[CSS(string=css, url_fetcher=fetcher)])


def keep_identifiers(page: str) -> str:
    """`page` with every identifier-like token of its text wrapped in `<span class="pa-nobr">`.

    Column names (`<th>`) may break after an underscore instead.

    >>> keep_identifiers('<th>party_id</th><td>RET-01</td><td>a name</td><style>p-1 {}</style>')
    '<th>party_<wbr>id</th><td><span class="pa-nobr">RET-01</span></td><td>a name</td><style>p-1 {}</style>'
    """
    out, raw, heading = [], [], False
    for part in TAG.split(page):
        if part.startswith("<"):
            name = re.match(r"</?\s*([A-Za-z0-9]+)", part)
            tag = name.group(1).lower() if name else ""
            heading = (not part.startswith("</")) if tag == "th" else heading
            if tag in RAW_ELEMENTS and not part.endswith("/>"):
                if part.startswith("</"):
                    if tag in raw:
                        raw.remove(tag)
                else:
                    raw.append(tag)
            out.append(part)
        elif raw or not part:
            out.append(part)
        elif heading:  # a column's name may break after an underscore, nowhere else
            out.append(part.replace("_", "_<wbr>"))
        else:
            pieces = LONG_RUN.split(part)
            runs = LONG_RUN.findall(part)
            text = [IDENTIFIER.sub(_nobr, pieces[0])]
            for run, piece in zip(runs, pieces[1:], strict=True):
                text += [_breakable(run), IDENTIFIER.sub(_nobr, piece)]
            out.append("".join(text))
    return "".join(out)


def _nobr(match: re.Match[str]) -> str:
    return f'<span class="pa-nobr">{match.group(0)}</span>'


def _breakable(run: str) -> str:
    """A long run of text with `<wbr>` every BREAK_EVERY characters (entities kept whole)."""
    characters = CHARACTER.findall(run)
    chunks = ["".join(characters[i : i + BREAK_EVERY]) for i in range(0, len(characters), BREAK_EVERY)]
    return "<wbr>".join(chunks)


def _css_text(text: str) -> str:
    """`text` as the inside of a CSS string: only safe characters, the rest shown as '?'."""
    return HEADER_UNSAFE.sub("?", text.replace("·", "-"))
