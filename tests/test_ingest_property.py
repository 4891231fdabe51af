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


ORDERS = {"as drawn": None, "text": lambda k: k, "shorter first": lambda k: (len(k.encode()), k)}


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet="aAb 1é\x00", max_size=3), max_size=40), st.sampled_from(sorted(ORDERS)))
@example(["a", "a"], "text")
@example(["a", "b", "a"], "as drawn")
@example(["b", "a"], "as drawn")
@example([], "text")
@example(["a", "A", "a "], "text")
@example(["b", "aa", "b"], "as drawn")  # up in one order, then in the other: a repeat
@example(["9", "10", "11"], "shorter first")
def test_keys_are_proved_unique_exactly_when_none_repeats(keys: list[str], order: str) -> None:
    """Sorted as text, shorter first (the streaming proofs) or not at all (the hash proof),
    equal or not: `keys_unique` is True exactly when no key repeats; a key of the same
    letters in another case is another key."""
    from types import SimpleNamespace

    import duckdb

    from audit_lib.ingest.validate import keys_unique

    keys = keys if ORDERS[order] is None else sorted(keys, key=ORDERS[order])
    con = duckdb.connect()
    con.execute('CREATE TABLE t ("key" VARCHAR)')
    if keys:
        con.executemany("INSERT INTO t VALUES (?)", [[k] for k in keys])
    source = SimpleNamespace(table=SimpleNamespace(name="t", key="key"))
    assert keys_unique(con, source, len(keys)) is (len(set(keys)) == len(keys))


@pytest.mark.parametrize("padded", [True, False])
@pytest.mark.parametrize("repeat_at", [None, 1, 2048, 122_880, 299_999])
def test_keys_unique_over_many_chunks_and_row_groups(repeat_at: int | None, padded: bool) -> None:
    """300,000 keys in order, zero-padded (`K00000010`) or not (`K10`, shorter first), over many
    vectors and row groups read by two threads: a key that repeats its predecessor at a
    vector's or a row group's edge is found."""
    from types import SimpleNamespace

    import duckdb

    from audit_lib.ingest.validate import keys_unique

    con = duckdb.connect(config={"threads": 2})
    repeat = -1 if repeat_at is None else repeat_at
    shape = "'K%08d'" if padded else "'K%d'"
    con.execute(
        f'CREATE TABLE t AS SELECT printf({shape}, CASE WHEN i = ? THEN i - 1 ELSE i END) AS "key" '
        "FROM range(300000) AS r(i)",
        [repeat],
    )
    source = SimpleNamespace(table=SimpleNamespace(name="t", key="key"))
    queries: list[str] = []

    class Counted:  # a connection that remembers what it ran
        def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
            queries.append(sql)
            return con.execute(sql, *args)

    assert keys_unique(Counted(), source, 300_000) is (repeat_at is None)
    if repeat_at is None:
        assert len(queries) == 1  # the streaming proof sufficed: no hash table built


@settings(max_examples=500, deadline=None)
@given(
    st.binary(max_size=64) | st.lists(st.sampled_from([b"\n", b"\r", b"a", b'"']), max_size=40).map(b"".join)
)
@example(b"\n\n")
@example(b"a\n\n")
@example(b"\r\n\r\n")
@example(b"\r\r")
@example(b"\n\r")
@example(b"a\r")
def test_a_break_pair_is_found_wherever_it_lies(chunk: bytes) -> None:
    """The vectorised search finds exactly what a plain substring search finds, at odd and even
    offsets, in chunks of every length."""
    from audit_lib.ingest.sources import BREAK_PAIRS, has_break_pair

    assert has_break_pair(chunk) is any(pair in chunk for pair in BREAK_PAIRS)
