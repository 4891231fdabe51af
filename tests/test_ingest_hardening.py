"""snapshot build hardening (issue 11): inputs that must not change the answer.

Column names are data, Parquet types are checked, paths are literal, CSV syntax
faults are told in words, timestamps and dates stay in an auditable range.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit_lib.cli import app
from audit_lib.ingest.schema import EARLIEST, LATEST, TABLE_BY_NAME
from audit_lib.ingest.snapshot import open_snapshot
from audit_lib.ingest.sources import glob_literal


def rows_of(folder: Path, table: str) -> list[list[str]]:
    with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(folder: Path, table: str, rows: list[list[str]]) -> None:
    with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def set_cell(folder: Path, table: str, column: str, value: str, row: int = 1) -> None:
    rows = rows_of(folder, table)
    rows[row][rows[0].index(column)] = value
    write_rows(folder, table, rows)


def add_column(folder: Path, table: str, name: str, values: list[str]) -> None:
    rows = rows_of(folder, table)
    for r, v in zip(rows, [name, *values], strict=True):
        r.append(v)
    write_rows(folder, table, rows)


def build(cli, export: Path, out: Path):
    result = cli.invoke(app, ["snapshot", "build", str(export), "--out", str(out)])
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert not out.exists()
        assert list(out.parent.glob("*.partial*")) == []
    return result


def refused(cli, export: Path, out: Path, *words: str) -> str:
    result = build(cli, export, out)
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    return result.stderr


def to_parquet(csv_export: Path, folder: Path) -> Path:
    """The same export as Parquet files, every column text (as the CSV has it)."""
    folder.mkdir()
    con = duckdb.connect()
    for path in csv_export.glob("*.csv"):
        con.execute(
            f"COPY (SELECT * FROM read_csv('{glob_literal(path)}', all_varchar=true)) TO '{folder / path.stem}.parquet'"
        )
    return folder


def replace_parquet(folder: Path, table: str, change: Callable[[pa.Table], pa.Table]) -> None:
    path = folder / f"{table}.parquet"
    pq.write_table(change(pq.read_table(path)), path)


def set_parquet_column(name: str, array: pa.Array) -> Callable[[pa.Table], pa.Table]:
    def change(t: pa.Table) -> pa.Table:
        return t.set_column(t.schema.get_field_index(name), name, array)

    return change


# 0. Booleans --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "truth"), [("t", True), ("F", False), ("T", True), ("f", False)])
def test_postgres_booleans_accepted(cli, valid_export: Path, tmp_path: Path, text: str, truth: bool) -> None:
    set_cell(valid_export, "personal_data", "encrypted", text)
    set_cell(valid_export, "tracking_events", "dnt", text)
    out = tmp_path / "s.duckdb"
    assert build(cli, valid_export, out).exit_code == 0
    con = open_snapshot(out)
    assert con.execute("SELECT encrypted FROM personal_data").fetchone() == (truth,)
    assert con.execute("SELECT dnt FROM tracking_events").fetchone() == (truth,)


@pytest.mark.parametrize("text", ["yes", "tr", "ff", "2", "-1"])
def test_other_boolean_words_refused(cli, valid_export: Path, tmp_path: Path, text: str) -> None:
    set_cell(valid_export, "personal_data", "encrypted", text)
    refused(cli, valid_export, tmp_path / "s.duckdb", "column encrypted", "t/f")


# 1. Column names are data ---------------------------------------------------------------

ODD_NAMES = [
    "__faults",
    "#faults",
    "#0",
    "#1",
    "rowid",
    "ROWID",
    'say "hi"',
    "it's",
    " ",
    "é€",
    "a\tb",
    "\x00",
]


def two_items_second_bad(export: Path) -> None:
    rows = rows_of(export, "personal_data")
    rows.append(["I2", *rows[1][1:]])
    write_rows(export, "personal_data", rows)
    set_cell(export, "personal_data", "category", "ssn", row=2)


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_extra_csv_column_keeps_checks_and_row(cli, valid_export: Path, tmp_path: Path, name) -> None:
    two_items_second_bad(valid_export)
    add_column(valid_export, "personal_data", name, ["5", "1"])
    message = refused(cli, valid_export, tmp_path / "s.duckdb", "column category", "unknown")
    assert "line 3, item_id 'I2'" in message and "value 'ssn'" in message and "1 row(s)" in message


def test_line_break_in_csv_column_name_refused(cli, valid_export: Path, tmp_path: Path) -> None:
    """DuckDB takes the line ending from the header's first break: such a file once read as empty."""
    two_items_second_bad(valid_export)
    add_column(valid_export, "personal_data", "new\nline", ["5", "1"])
    refused(cli, valid_export, tmp_path / "s.duckdb", "personal_data.csv", "line break", "'new\\nline'")


@pytest.mark.parametrize("name", [*ODD_NAMES, "new\nline", "cr\rname"])
def test_odd_extra_parquet_column_keeps_checks_and_row(cli, valid_export: Path, tmp_path: Path, name) -> None:
    two_items_second_bad(valid_export)
    parquet = to_parquet(valid_export, tmp_path / "parquet")
    replace_parquet(parquet, "personal_data", lambda t: t.append_column(name, pa.array([5, 1])))
    message = refused(cli, parquet, tmp_path / "s.duckdb", "personal_data.parquet", "column category")
    assert "row 2, item_id 'I2'" in message and "value 'ssn'" in message


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_extra_column_kept_under_its_name(cli, valid_export: Path, tmp_path: Path, name) -> None:
    add_column(valid_export, "customers", name, ["a", "b"])
    out = tmp_path / "s.duckdb"
    assert build(cli, valid_export, out).exit_code == 0
    con = open_snapshot(out)
    got = con.execute(f'SELECT "{name.replace(chr(34), chr(34) * 2)}" FROM customers ORDER BY customer_id')
    assert got.fetchall() == [("a",), ("b",)]


def test_internal_name_in_parquet_cannot_switch_checks_off(cli, valid_export: Path, tmp_path: Path) -> None:
    """The issue's case: an extra `__faults` column used to stand in for the fault mask."""
    parquet = to_parquet(valid_export, tmp_path / "parquet")
    replace_parquet(
        parquet,
        "disclosures",
        lambda t: set_parquet_column("category", pa.array(["ssn"]))(t).append_column(
            "__faults", pa.array([0])
        ),
    )
    refused(cli, parquet, tmp_path / "s.duckdb", "disclosures.parquet", "column category", "unknown")


def test_rowid_column_does_not_move_duplicate_key_row(cli, valid_export: Path, tmp_path: Path) -> None:
    rows = rows_of(valid_export, "communications")
    rows += [["M2", *rows[1][1:]], ["M2", *rows[1][1:]]]
    write_rows(valid_export, "communications", rows)
    add_column(valid_export, "communications", "rowid", ["9", "0", "1"])
    refused(cli, valid_export, tmp_path / "s.duckdb", "duplicate primary key", "line 3, message_id 'M2'")


def test_empty_column_name_refused(cli, valid_export: Path, tmp_path: Path) -> None:
    add_column(valid_export, "customers", "", ["a", "b"])
    refused(cli, valid_export, tmp_path / "s.duckdb", "customers.csv", "no name")
    parquet = to_parquet(rows_and_back(valid_export, tmp_path), tmp_path / "parquet")
    replace_parquet(parquet, "customers", lambda t: t.append_column("", pa.array(["a", "b"])))
    refused(cli, parquet, tmp_path / "s2.duckdb", "customers.parquet", "no name")


def rows_and_back(export: Path, tmp_path: Path) -> Path:
    """A copy of the export without the last column of customers (undoes add_column)."""
    copy = tmp_path / "copy"
    shutil.copytree(export, copy)
    write_rows(copy, "customers", [r[:-1] for r in rows_of(copy, "customers")])
    return copy


def test_case_clash_in_parquet_refused(cli, valid_export: Path, tmp_path: Path) -> None:
    parquet = to_parquet(valid_export, tmp_path / "parquet")
    replace_parquet(parquet, "customers", lambda t: t.append_column("Country", pa.array(["de", "xx"])))
    refused(cli, parquet, tmp_path / "s.duckdb", "customers.parquet", "given twice", "'Country'")


# 2. Parquet types are checked, not coerced ----------------------------------------------

WRONG_TYPES = [
    ("disclosures", "purpose", pa.array([["render_services", "other"]])),
    ("disclosures", "category", pa.array([{"a": "name"}])),
    ("parties", "name", pa.array([[("k", "v")]], pa.map_(pa.string(), pa.string()))),
    ("communications", "customer_id", pa.array([b"C1"], pa.binary())),
    ("parties", "authorized_from", pa.array([0], pa.timestamp("us", tz="UTC"))),
    ("personal_data", "encrypted", pa.array([1.0])),
    ("customers", "country", pa.array([1, 2])),
]


@pytest.mark.parametrize(
    ("table", "column", "array"), WRONG_TYPES, ids=[f"{t}.{c}" for t, c, _ in WRONG_TYPES]
)
def test_wrong_parquet_type_refused(cli, valid_export: Path, tmp_path: Path, table, column, array) -> None:
    parquet = to_parquet(valid_export, tmp_path / "parquet")
    replace_parquet(parquet, table, set_parquet_column(column, array))
    refused(cli, parquet, tmp_path / "s.duckdb", f"{table}.parquet", f"column {column}", "Parquet type")


def test_parquet_types_that_fit_accepted(cli, valid_export: Path, tmp_path: Path) -> None:
    parquet = to_parquet(valid_export, tmp_path / "parquet")
    replace_parquet(parquet, "customers", set_parquet_column("birth_date", pa.nulls(2)))
    replace_parquet(parquet, "disputes", set_parquet_column("topic", pa.nulls(1)))
    replace_parquet(
        parquet,
        "personal_data",
        lambda t: (
            set_parquet_column("encrypted", pa.array([True]))(t)
            .append_column("tags", pa.array([["a", "b"]]))
            .append_column("meta", pa.array([{"k": 1}]))
            .append_column("blob", pa.array([b"\x00"], pa.binary()))
        ),
    )
    replace_parquet(parquet, "consents", set_parquet_column("given_at", pa.array([0], pa.timestamp("s"))))
    out = tmp_path / "s.duckdb"
    assert build(cli, parquet, out).exit_code == 0
    con = open_snapshot(out)
    assert con.execute("SELECT count(*) FROM customers WHERE birth_date IS NULL").fetchone() == (2,)
    assert con.execute("SELECT encrypted, tags, meta FROM personal_data").fetchone() == (
        True,
        ["a", "b"],
        {"k": 1},
    )
    assert con.execute("SELECT epoch(given_at) FROM consents").fetchone() == (0,)


def test_interval_parquet_column_refused(cli, valid_export: Path, tmp_path: Path) -> None:
    parquet = to_parquet(valid_export, tmp_path / "parquet")
    path = parquet / "consents.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * REPLACE (INTERVAL 3 DAY AS given_at) FROM read_parquet('{path}')) "
        f"TO '{tmp_path / 'c.parquet'}'"
    )
    (tmp_path / "c.parquet").replace(path)
    refused(
        cli, parquet, tmp_path / "s.duckdb", "consents.parquet", "column given_at", "Parquet type INTERVAL"
    )


def test_all_null_parquet_column_where_null_not_allowed(cli, valid_export: Path, tmp_path: Path) -> None:
    parquet = to_parquet(valid_export, tmp_path / "parquet")
    replace_parquet(parquet, "parties", set_parquet_column("name", pa.nulls(1)))
    refused(cli, parquet, tmp_path / "s.duckdb", "parties.parquet", "column name", "NULL not allowed")


# 3. Paths are literal ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ex[p]", "e?p", "e*p", "[e]xp"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_glob_characters_in_folder_read_literally(cli, valid_export: Path, tmp_path: Path, name, fmt) -> None:
    root = tmp_path / "root"
    root.mkdir()
    literal, sibling = root / name, root / "exp"
    shutil.copytree(valid_export, literal)
    shutil.copytree(valid_export, sibling)
    set_cell(sibling, "personal_data", "category", "ssn")  # a glob would find this fault
    set_cell(literal, "parties", "name", "literal folder")
    if fmt == "parquet":
        literal, sibling = to_parquet(literal, root / f"{name}.pq"), to_parquet(sibling, root / "exp.pq")
    out = tmp_path / "s.duckdb"
    result = build(cli, literal, out)
    assert result.exit_code == 0, result.output
    assert open_snapshot(out).execute("SELECT name FROM parties").fetchone() == ("literal folder",)
    refused(cli, sibling, tmp_path / "t.duckdb", "column category")


def test_glob_characters_do_not_hide_a_fault(cli, valid_export: Path, tmp_path: Path) -> None:
    literal, sibling = tmp_path / "e?p", tmp_path / "exp"
    shutil.copytree(valid_export, literal)
    shutil.copytree(valid_export, sibling)
    set_cell(literal, "personal_data", "category", "ssn")
    refused(cli, literal, tmp_path / "s.duckdb", "personal_data.csv", "column category")


def test_symlinked_table_file_refused(cli, valid_export: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.csv"
    (valid_export / "consents.csv").rename(target)
    (valid_export / "consents.csv").symlink_to(target)
    refused(cli, valid_export, tmp_path / "s.duckdb", "consents.csv", "symbolic link")


# 4. CSV syntax faults in words ------------------------------------------------------------

DISPUTES = b"dispute_id,customer_id,received_at,responded_at,resolved_at,topic"
FIRST = b'D1,C1,2026-08-01T00:00:00Z,,,"two\nlines"'  # lines 2 and 3
GOOD = b"D%d,C1,2026-08-01T00:00:00Z,,,topic"

SYNTAX = [
    ("unterminated quote", FIRST + b'\nD2,C1,2026-08-01T00:00:00Z,,,"open\nD3,C1,x,,,\n', 4, "not closed"),
    ("text after quote", FIRST + b'\nD2,C1,2026-08-01T00:00:00Z,,,"a"b\n', 4, "closing quote"),
    ("too few fields", FIRST + b"\nD2,C1\n", 4, "2 field(s); the header has 6"),
    ("too many fields", FIRST + b"\nD2,C1,2026-08-01T00:00:00Z,,,a,b\n", 4, "7 field(s); the header has 6"),
    ("invalid utf-8", FIRST + b"\nD2,C1,2026-08-01T00:00:00Z,,,\xff\xfe\n", 4, "UTF-8"),
    ("blank line", FIRST + b"\n\n" + GOOD % 2 + b"\n", 4, "blank line"),
    ("blank line at end", FIRST + b"\n" + GOOD % 2 + b"\n\n", 5, "blank line"),
    ("blank crlf line", FIRST.replace(b"\n", b"\r\n") + b"\r\n\r\n" + GOOD % 2 + b"\r\n", 4, "blank line"),
    ("line over limit", FIRST + b"\nD2,C1,2026-08-01T00:00:00Z,,," + b"x" * 2_100_000 + b"\n", 4, "limit"),
    ("mixed line endings", FIRST + b"\r\n" + GOOD % 2 + b"\r" + GOOD % 3 + b"\r\n", 4, "line endings"),
]


@pytest.mark.parametrize(("body", "line", "words"), [s[1:] for s in SYNTAX], ids=[s[0] for s in SYNTAX])
def test_csv_syntax_fault_in_words(cli, valid_export: Path, tmp_path: Path, body, line, words) -> None:
    header = DISPUTES + (b"\r\n" if b"\r\n" in body[:60] else b"\n")
    (valid_export / "disputes.csv").write_bytes(header + body)
    message = refused(cli, valid_export, tmp_path / "s.duckdb", "disputes.csv", words, f"line {line}")
    assert "CSV Error" not in message and "unreadable CSV" in message


LINE_ENDINGS = [
    ("lf", b"\n"),
    ("crlf", b"\r\n"),
    ("cr", b"\r"),
]


@pytest.mark.parametrize(("end"), [e for _, e in LINE_ENDINGS], ids=[n for n, _ in LINE_ENDINGS])
def test_line_endings_accepted(cli, valid_export: Path, tmp_path: Path, end: bytes) -> None:
    for path in valid_export.glob("*.csv"):
        text = path.read_bytes().replace(b"\r\n", b"\n")
        path.write_bytes(text.replace(b"\n", end))
    out = tmp_path / "s.duckdb"
    assert build(cli, valid_export, out).exit_code == 0


def test_crlf_records_with_lf_in_quotes_accepted_and_located(cli, valid_export: Path, tmp_path: Path) -> None:
    body = DISPUTES + b"\r\n" + FIRST + b"\r\nD2,C1,someday,,,\r\n"
    (valid_export / "disputes.csv").write_bytes(body)
    refused(cli, valid_export, tmp_path / "s.duckdb", "column received_at", "line 4, dispute_id 'D2'")
    (valid_export / "disputes.csv").write_bytes(body.replace(b"someday", b"2026-08-02T00:00:00Z"))
    out = tmp_path / "t.duckdb"
    assert build(cli, valid_export, out).exit_code == 0
    assert open_snapshot(out).execute("SELECT topic FROM disputes ORDER BY 1").fetchall() == [
        ("topic",) if False else ("two\nlines",),
        (None,),
    ]


def test_long_field_does_not_crash_the_locator(cli, valid_export: Path, tmp_path: Path) -> None:
    long = b"x" * 200_000
    body = DISPUTES + b"\n" + FIRST.replace(b"two", long) + b"\nD2,C1,someday,,,\n"
    (valid_export / "disputes.csv").write_bytes(body)
    refused(cli, valid_export, tmp_path / "s.duckdb", "column received_at", "line 4, dispute_id 'D2'")
    (valid_export / "disputes.csv").write_bytes(body.replace(b"someday", b"2026-08-02T00:00:00Z"))
    assert build(cli, valid_export, tmp_path / "t.duckdb").exit_code == 0


def test_paragraph_break_in_quoted_field_is_no_blank_line(cli, valid_export: Path, tmp_path: Path) -> None:
    (valid_export / "disputes.csv").write_bytes(DISPUTES + b'\nD1,C1,2026-08-01T00:00:00Z,,,"a\n\nb\r\rc"\n')
    out = tmp_path / "s.duckdb"
    assert build(cli, valid_export, out).exit_code == 0
    assert open_snapshot(out).execute("SELECT topic FROM disputes").fetchone() == ("a\n\nb\r\rc",)


# 5. Timestamps and dates ------------------------------------------------------------------

BAD_TIMESTAMPS = [
    "2026-07-01T10:00:00+15:00",
    "2026-07-01T10:00:00-14:30",
    "2026-07-01T10:00:00+99:00",
    "2026-07-01T10:00:00+1500",
    "2026-07-01T10:00:00 Europe/Paris",
    "2026-07-01T10:00:00 CET",
    "2026-07-01 10:00:00 UTC",
    "2026-07-01T10:00:00America/New_York",
    "9999-01-01T00:00:00Z",
    "1899-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
    "2199-12-31T23:30:00-01:00",
    "0001-01-01T00:00:00Z",
]
GOOD_TIMESTAMPS = [
    ("2026-07-01T10:00:00+14:00", "2026-06-30T20:00:00+00:00"),
    ("2026-07-01T10:00:00-14:00", "2026-07-02T00:00:00+00:00"),
    ("2026-07-01T10:00:00+0530", "2026-07-01T04:30:00+00:00"),
    ("2026-07-01T10:00:00-03", "2026-07-01T13:00:00+00:00"),
    ("2026-07-01 10:00:00", "2026-07-01T10:00:00+00:00"),
    (f"{EARLIEST}T00:00:00Z", f"{EARLIEST}T00:00:00+00:00"),
    (f"{LATEST}T23:59:59Z", f"{LATEST}T23:59:59+00:00"),
]


@pytest.mark.parametrize("value", BAD_TIMESTAMPS)
def test_timestamp_refused(cli, valid_export: Path, tmp_path: Path, value: str) -> None:
    set_cell(valid_export, "personal_data", "received_at", value)
    refused(cli, valid_export, tmp_path / "s.duckdb", "column received_at", "timestamp", "±14:00")


@pytest.mark.parametrize(("value", "utc"), GOOD_TIMESTAMPS)
def test_timestamp_accepted(cli, valid_export: Path, tmp_path: Path, value: str, utc: str) -> None:
    set_cell(valid_export, "personal_data", "received_at", value)
    out = tmp_path / "s.duckdb"
    assert build(cli, valid_export, out).exit_code == 0
    (got,) = open_snapshot(out).execute("SELECT received_at FROM personal_data").fetchone()
    assert got.isoformat() == utc


@pytest.mark.parametrize(("value", "ok"), [("1899-12-31", False), ("2200-01-01", False), ("9999-12-31", False),
                                           (str(EARLIEST), True), (str(LATEST), True)])  # fmt: skip
def test_dates_bounded(cli, valid_export: Path, tmp_path: Path, value: str, ok: bool) -> None:
    set_cell(valid_export, "customers", "birth_date", value)
    result = build(cli, valid_export, tmp_path / "s.duckdb")
    assert result.exit_code == (0 if ok else 2), result.output
    if not ok:
        assert "column birth_date" in result.stderr and str(LATEST) in result.stderr


def test_parquet_timestamps_and_dates_bounded(cli, valid_export: Path, tmp_path: Path) -> None:
    parquet = to_parquet(valid_export, tmp_path / "parquet")
    far = pa.array([253402214400], pa.timestamp("s", tz="UTC"))  # 9999-12-31
    replace_parquet(parquet, "personal_data", set_parquet_column("received_at", far))
    replace_parquet(
        parquet, "parties", set_parquet_column("authorized_from", pa.array([-30000], pa.date32()))
    )
    message = refused(cli, parquet, tmp_path / "s.duckdb", "column received_at", "column authorized_from")
    assert "2 fault(s)" in message


def test_range_constants_cover_every_table() -> None:
    assert EARLIEST.year == 1900 and LATEST.year == 2199
    assert any(c.kind == "date" for c in TABLE_BY_NAME["parties"].columns)


CANONICAL_EDGES = [
    "1900-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "2199-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
    "2024-02-29T12:00:00Z", "2023-02-29T12:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T23:59:60Z",
    "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
]  # fmt: skip


@pytest.mark.parametrize("value", CANONICAL_EDGES)
def test_canonical_timestamps_take_the_fast_path_to_the_same_value(value: str) -> None:
    """`YYYY-MM-DDTHH:MM:SSZ` skips the shape checks: the value (or the refusal) is the general path's."""
    from audit_lib.ingest.schema import TABLES
    from audit_lib.ingest.snapshot import connect
    from audit_lib.ingest.validate import convert, install_build_macros

    column = next(c for c in TABLES[0].columns if c.kind == "timestamp")
    with connect() as con:
        install_build_macros(con)
        typed = convert(column, "VARCHAR", "$v")
        general = typed[typed.index("WHEN $v LIKE") :].replace("WHEN", "CASE WHEN", 1)
        fast, slow = con.execute(f"SELECT {typed}, {general}", {"v": value}).fetchall()[0]
    assert "GLOB" in typed and fast == slow
