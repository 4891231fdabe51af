"""Property: whatever lands in any column of an export, `snapshot build` answers 0 or 2.

Random text (written as proper CSV) and random bytes (written raw, so quotes,
line breaks and invalid UTF-8 break the syntax) go into random cells of a small
valid export; the build never crashes (exit 1, a traceback) and a refused
build leaves no snapshot and no partial file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import VALID_ROWS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from audit_lib.cli import app
from audit_lib.ingest.schema import TABLES

from builders import complete_tables, write_export

CELLS = [(t.name, c.name) for t in TABLES for c in t.columns]
PLACEHOLDER = "\x01PLACEHOLDER\x01"

values = st.one_of(
    st.text(max_size=40).map(lambda s: ("text", s)),
    st.binary(max_size=40).map(lambda b: ("bytes", b)),
    st.sampled_from(
        [
            "t", "F", "1", "", "NULL", "infinity", "9999-12-31", "2026-07-01T10:00:00+15:00",
            "2026-07-01T10:00:00 CET", "0001-01-01", "US", "active", '"', "\r\n", "\ufeff",
        ]
    ).map(lambda s: ("text", s)),
)  # fmt: skip
mutations = st.lists(st.tuples(st.sampled_from(CELLS), values), min_size=1, max_size=3)


def export_with(folder: Path, changes: list[tuple[tuple[str, str], tuple[str, object]]]) -> Path:
    tables = complete_tables(VALID_ROWS)
    raw: dict[str, list[bytes]] = {}
    for (table, column), (kind, value) in changes:
        row = tables[table][0]
        if kind == "text":
            row[column] = value
        else:
            row[column] = PLACEHOLDER
            raw.setdefault(table, []).append(value)
    write_export(tables, folder)
    for table, chunks in raw.items():
        path = folder / f"{table}.csv"
        data = path.read_bytes()
        for chunk in chunks:
            data = data.replace(PLACEHOLDER.encode(), chunk, 1)
        path.write_bytes(data)
    return folder


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=mutations)
@example(
    changes=[(("disputes", "topic"), ("text", "x" * 200_000)), (("disputes", "received_at"), ("text", "?"))]
)
@example(changes=[(("customers", "created_at"), ("bytes", b'"\r\n\n'))])
def test_any_value_in_any_column_exits_0_or_2(changes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        export = export_with(root / "export", changes)
        out = root / "snap.duckdb"
        result = CliRunner().invoke(app, ["snapshot", "build", str(export), "--out", str(out)])
        assert result.exit_code in (0, 2), (result.exit_code, result.output, repr(result.exception))
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            assert not out.exists()
        assert list(root.glob("*.partial*")) == []
        assert list(root.glob(".*partial*")) == []


# --- the file scan: sha256 and blank lines in one read ---------------------------------------

PIECES = st.sampled_from([b"a", b"b,c", b'"x\n\ny"', b'"\r\n"', b"\n", b"\r\n", b"\r", b","])


@settings(max_examples=300, deadline=None)
@given(body=st.lists(PIECES, max_size=40).map(b"".join), chunk=st.integers(min_value=1, max_value=7))
@example(body=b"h\nx\n\n", chunk=2).via("a blank line across a chunk boundary")
@example(body=b"h\r\nx\r\n\r\n", chunk=3).via("a blank CRLF line across a boundary")
@example(body=b'h\n"x\n\ny"\n', chunk=1).via("a paragraph break inside quotes is no blank line")
def test_the_file_scan_finds_what_the_csv_parse_finds(body: bytes, chunk: int) -> None:
    """scan_file's search in chunks misses no blank line the exact parse finds, at any boundary;
    its digest is the file's sha256."""
    import hashlib

    from audit_lib.ingest import sources

    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
        patch.setattr(sources, "SCAN_CHUNK", chunk)
        path = Path(folder) / "t.csv"
        path.write_bytes(b"h\n" + body)
        scan = sources.scan_file(path, is_csv=True)
        assert scan.blank_line == sources.blank_line(path)
        assert scan.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert sources.scan_file(path, is_csv=False).blank_line is None
