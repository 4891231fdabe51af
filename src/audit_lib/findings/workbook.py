"""findings.xlsx: a report folder's findings as one workbook for people who work in spreadsheets.

Written from the folder's own files (findings.json, evidence/<ID>.details.csv
or <ID>.csv, ropa.csv when present), so it shows exactly what the folder holds:

- `Scorecard`: the period, snapshot and one line per control (counts as numbers),
  each linked to its sheet;
- one sheet per control, named by its id: its evidence rows with their detail
  columns (the details CSV, in its order);
- `Exceptions`: every exception row of every control, with its reason;
- `Waivers`: findings.json's waiver register (only in a run with a waivers file);
- `RoPA`: ropa.csv, the observed record of processing (only where it exists).

Every value that comes from the data is written with `write_string`: a key like
`=HYPERLINK("http://...")` is text, never a formula (formula injection), and
XML 1.0's forbidden characters are shown as U+FFFD (`xmltext`). A sheet stops
before Excel's row limit and says, in its last row, where the full CSV is; a
value longer than a cell holds is cut and says so. Rows are streamed
(xlsxwriter's constant-memory mode), so a large folder costs time, not memory.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from audit_lib.findings.quarterly import EVIDENCE_COLUMNS, read_findings
from audit_lib.findings.xmltext import xml_text

NAME = "findings.xlsx"
#: Excel's rows per sheet.
EXCEL_ROWS = 1_048_576
#: Excel's characters per cell.
CELL_CHARS = 32_767
ROPA = "ropa.csv"
#: Rows above a data sheet's header: its title, where the rows come from, a blank line.
PREAMBLE = 3
SHEET_NAME_UNSAFE = re.compile(r"[\[\]:*?/\\]")
WAIVER_COLUMNS = (
    "id", "control", "covers", "state", "waived", "justification", "approved_by", "approved_on",
    "expires_on", "ticket", "keys",
)  # fmt: skip


def write_workbook(folder: Path, out: Path | None = None, max_rows: int = EXCEL_ROWS) -> Path:
    """Write findings.xlsx of the report `folder` (into it unless `out`); `max_rows` per sheet."""
    import xlsxwriter

    folder = Path(folder)
    out = Path(out) if out is not None else folder / NAME
    document = read_findings(folder / "findings.json")
    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    workbook = xlsxwriter.Workbook(str(out), options)
    try:
        formats = {
            "title": workbook.add_format({"bold": True, "font_size": 13}),
            "header": workbook.add_format({"bold": True, "bg_color": "#E8ECF0", "bottom": 1}),
            "note": workbook.add_format({"italic": True, "font_color": "#5B6672"}),
            "fail": workbook.add_format({"font_color": "#B3261E", "bold": True}),
        }
        scorecard = workbook.add_worksheet("Scorecard")  # first tab; filled once the sheets are written
        shown: dict[str, tuple[int, int]] = {}
        for control in document["controls"]:
            cid = str(control["id"])
            columns, rows, source = _evidence(folder, cid)
            title = f"{cid} {control.get('title', '')} ({control.get('clause', '')})"
            shown[cid] = _data_sheet(
                workbook, formats, _sheet_name(cid), title, source, columns, rows, max_rows
            )
        _data_sheet(
            workbook, formats, "Exceptions", "Exceptions: records that break a promise but meet an exemption",
            "evidence/<ID>.csv (outcome exception)", ("control", "key", "reason"),
            _exceptions(folder, [str(c["id"]) for c in document["controls"]]), max_rows,
        )  # fmt: skip
        if document.get("waivers") is not None:
            _data_sheet(
                workbook, formats, "Waivers", "Waivers: accepted risks, with their state at as_of",
                "findings.json (waivers)", WAIVER_COLUMNS, _waiver_rows(document["waivers"]), max_rows,
            )  # fmt: skip
        ropa = folder / ROPA
        if ropa.is_file():
            columns, rows = _csv_rows(ropa)
            _data_sheet(
                workbook, formats, "RoPA", "Record of processing activities (GDPR Art. 30), observed",
                ROPA, columns, rows, max_rows,
            )  # fmt: skip
        _scorecard(scorecard, formats, document, shown)
    finally:
        workbook.close()
    return out


def _scorecard(sheet, formats, document: dict, shown: dict[str, tuple[int, int]]) -> None:
    period, snapshot = document.get("period") or {}, document.get("snapshot") or {}
    sheet.write_string(0, 0, xml_text(f"Privacy audit {period.get('label', '')}"), formats["title"])
    lines = [
        f"period {period.get('start')} .. {period.get('end')} (as_of {document.get('as_of')})",
        f"snapshot {snapshot.get('id')} (sha256 {snapshot.get('sha256')}, "
        f"taken at {snapshot.get('taken_at')})",
        f"generated {document.get('generated_at')} by privacy-audit {document.get('suite_version')}",
    ]
    for row, line in enumerate(lines, start=1):
        sheet.write_string(row, 0, xml_text(line), formats["note"])
    with_waived = any("waived" in c for c in document["controls"])
    columns = ["control", "clause", "title", "kind", "status", "population", "violations", "exceptions"]
    columns += ["waived"] * with_waived + ["rows in sheet"]
    header = len(lines) + 2
    for col, name in enumerate(columns):
        sheet.write_string(header, col, name, formats["header"])
    for row, control in enumerate(document["controls"], start=header + 1):
        cid = str(control["id"])
        sheet.write_url(row, 0, f"internal:'{_sheet_name(cid)}'!A1", string=xml_text(cid))
        for col, field in enumerate(("clause", "title", "kind"), start=1):
            sheet.write_string(row, col, xml_text(control.get(field)))
        status = str(control.get("status", ""))
        sheet.write_string(row, 4, xml_text(status), formats["fail"] if status == "fail" else None)
        counts = ["population", "violations", "exceptions"] + ["waived"] * with_waived
        for col, field in enumerate(counts, start=5):
            value = control.get(field)
            if isinstance(value, int) and not isinstance(value, bool):
                sheet.write_number(row, col, value)
            else:
                sheet.write_string(row, col, xml_text(value))
        written, total = shown.get(cid, (0, 0))
        note = f"{written:,}" if written == total else f"{written:,} of {total:,} (see the sheet's last row)"
        sheet.write_string(row, len(columns) - 1, note)
    sheet.set_column(0, 0, 12)
    sheet.set_column(2, 2, 60)
    sheet.freeze_panes(header + 1, 0)


def _data_sheet(
    workbook, formats, name: str, title: str, source: str, columns: Iterable[str],
    rows: Iterator[list[str]], max_rows: int,
) -> tuple[int, int]:  # fmt: skip
    """One sheet: title, source, header, then rows until the limit; (rows written, rows in all)."""
    sheet = workbook.add_worksheet(name)
    columns = list(columns)
    sheet.write_string(0, 0, xml_text(title), formats["title"])
    sheet.write_string(1, 0, xml_text(f"Every row: {source}"), formats["note"])
    header = PREAMBLE
    for col, column in enumerate(columns):
        sheet.write_string(header, col, xml_text(column), formats["header"])
    room = max_rows - header - 2  # the header, and the last row for the note
    written = total = 0
    for values in rows:
        total += 1
        if written < room:
            row = header + 1 + written
            for col, value in enumerate(values):
                sheet.write_string(row, col, _cell(value, source))
            written += 1
    if written < total:
        sheet.write_string(
            header + 1 + written, 0,
            xml_text(f"Stopped at {written:,} of {total:,} rows (a sheet holds {max_rows:,} rows): "
                     f"every row is in {source}"),
            formats["note"],
        )  # fmt: skip
    elif total == 0:
        sheet.write_string(header + 1, 0, "No rows.", formats["note"])
    if columns:
        sheet.autofilter(header, 0, header + max(written, 1), len(columns) - 1)
        sheet.set_column(0, len(columns) - 1, 16)
    sheet.freeze_panes(header + 1, 0)
    return written, total


def _cell(value: object, source: str) -> str:
    text = xml_text(value)
    if len(text) <= CELL_CHARS:
        return text
    mark = f"… [cut at {CELL_CHARS:,} characters; the whole value is in {source}]"
    return text[: CELL_CHARS - len(mark)] + mark


def _evidence(folder: Path, control_id: str) -> tuple[list[str], Iterator[list[str]], str]:
    """A control's rows: its details file, or (in a folder without one) its evidence file."""
    for name in (f"evidence/{control_id}.details.csv", f"evidence/{control_id}.csv"):
        if (folder / name).is_file():
            columns, rows = _csv_rows(folder / name)
            return columns, rows, name
    return list(EVIDENCE_COLUMNS), iter(()), f"evidence/{control_id}.csv (missing)"


def _csv_rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    """The header and a stream of the rows of a CSV file, every value as text."""
    with path.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])

    def rows() -> Iterator[list[str]]:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            yield from reader

    return header, rows()


def _exceptions(folder: Path, control_ids: list[str]) -> Iterator[list[str]]:
    for cid in control_ids:
        path = folder / "evidence" / f"{cid}.csv"
        if not path.is_file():
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("outcome") == "exception":
                    yield [cid, row.get("key") or "", row.get("reason") or ""]


def _waiver_rows(waivers: list[dict]) -> Iterator[list[str]]:
    for waiver in waivers:
        row = []
        for column in WAIVER_COLUMNS:
            value = waiver.get(column)
            if column == "covers" and not isinstance(value, str):
                value = json.dumps(value, ensure_ascii=False)
            elif column == "keys" and isinstance(value, list):
                value = "; ".join(str(k) for k in value)
            row.append("" if value is None else str(value))
        yield row


def _sheet_name(control_id: str) -> str:
    """A control's sheet: its id, without the characters Excel refuses, at most 31 long."""
    return SHEET_NAME_UNSAFE.sub("_", xml_text(control_id)).strip("'")[:31] or "control"
