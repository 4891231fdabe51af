"""`run quarterly --pdf`: report.pdf beside report.html, every column on the page, a header on every page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from audit_lib.cli import app
from audit_lib.report.pdf import keep_identifiers

from builders import make_snapshot

LONG_NAME = "Quickfix" + "Data" * 14  # 64 characters without a space: it must wrap, not widen the table
ROWS = {
    "customers": [{"customer_id": "C000042", "country": "DE"}],
    "personal_data": [
        {"item_id": "I000007", "customer_id": "C000042", "received_at": "2010-01-01T00:00:00Z"},
    ],
    "parties": [{"party_id": "P-EXTRA-0001", "name": LONG_NAME, "country": "US"}],
    "disclosures": [{"disclosure_id": "X000001", "party_id": "P-EXTRA-0001", "customer_id": "C000042",
                     "encrypted_in_transit": False}],
}  # fmt: skip


def test_identifiers_are_kept_whole_and_long_runs_may_break() -> None:
    page = keep_identifiers(
        "<html><head><title>RET-01</title><style>td-1 {}</style></head>"
        f"<body><th>without_dpa</th><td>RET-01 and 2026-07-01T00:00:00Z</td><td>{LONG_NAME}</td>"
        "<td>&lt;b&gt;</td><svg><text>RET-02</text></svg></body></html>"
    )
    assert "<title>RET-01</title><style>td-1 {}</style>" in page  # raw text untouched
    assert '<span class="pa-nobr">RET-01</span> and <span class="pa-nobr">2026-07-01T00:00:00Z</span>' in page
    assert "<th>without_<wbr>dpa</th>" in page
    assert page.count("<wbr>") == 1 + len(LONG_NAME) // 20
    assert "<td>&lt;b&gt;</td>" in page and "<text>RET-02</text>" in page


def test_pdf_needs_the_notebooks(cli, tmp_path: Path) -> None:
    result = cli.invoke(app, ["run", "quarterly", "--snapshot", str(tmp_path / "none.duckdb"), "--period",
                              "2026-Q3", "--no-notebooks", "--pdf"])  # fmt: skip
    assert result.exit_code == 2 and "--no-notebooks" in result.output


@pytest.mark.slow
def test_report_pdf(cli, tmp_path: Path) -> None:
    from pypdf import PdfReader

    snapshot = make_snapshot(tmp_path / "snap", ROWS)
    out = tmp_path / "report"
    result = cli.invoke(app, ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3",
                              "--out", str(out), "--pdf"])  # fmt: skip
    assert result.exit_code == 0, result.output
    pdf = out / "report.pdf"
    assert pdf.is_file() and (out / "report.html").is_file()
    assert "report.pdf" in json.loads((out / "manifest.json").read_text())["files"]
    snapshot_id = json.loads((out / "findings.json").read_text())["snapshot"]["id"]
    reader = PdfReader(pdf)
    pages = [page.extract_text() or "" for page in reader.pages]
    assert len(pages) > 3
    for number, text in enumerate(pages, start=1):
        assert f"Privacy audit 2026-Q3 - snapshot {snapshot_id}" in text, number
        assert f"page {number} of {len(pages)}" in text, number
    width = float(reader.pages[0].mediabox.width)
    assert width > float(reader.pages[0].mediabox.height)  # landscape
    whole = "\n".join(pages)
    # The receiving parties' table is the widest (13 columns): its last column is on the page.
    assert "without_" in whole and "dpa" in whole
    table = next(t for t in pages if "P-EXTRA-0001" in t and "without_" in t)
    assert re.search(r"P-EXTRA-0001", table)  # the id in one piece
    for key in ("RET-01", "SEC-02", "I000007", "X000001", "C000042"):
        assert key in whole, key
    assert LONG_NAME[:20] in whole.replace("\n", "")
