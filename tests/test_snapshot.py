"""snapshot build: every rule of inventory.md refused as a whole, oddities accepted."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from audit_lib.cli import app
from audit_lib.errors import InvalidExportError
from audit_lib.ingest.snapshot import build_snapshot, open_snapshot, snapshot_info


def edit_csv(folder: Path, table: str, change: Callable[[list[list[str]]], None]) -> None:
    path = folder / f"{table}.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    change(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def set_cell(table: str, column: str, value: str, row: int = 1) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        def change(rows: list[list[str]]) -> None:
            rows[row][rows[0].index(column)] = value

        edit_csv(folder, table, change)

    return mutate


def duplicate_row(table: str) -> Callable[[Path], None]:
    return lambda folder: edit_csv(folder, table, lambda rows: rows.append(list(rows[1])))


def drop_column(table: str, column: str) -> Callable[[Path], None]:
    def change(rows: list[list[str]]) -> None:
        i = rows[0].index(column)
        for r in rows:
            del r[i]

    return lambda folder: edit_csv(folder, table, change)


def remove(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


def write(name: str, text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text(text, encoding="utf-8")


# (case id, mutation, file, column or None, words of the rule)
REFUSALS = [
    ("missing table", remove("consents.csv"), "consents.csv", None, "missing table"),
    ("missing column", drop_column("personal_data", "encrypted"), "personal_data.csv", "encrypted", "missing"),
    ("bad timestamp", set_cell("personal_data", "received_at", "yesterday"), "personal_data.csv",
     "received_at", "timestamp"),
    ("bad date", set_cell("customers", "birth_date", "1980/05/01"), "customers.csv", "birth_date", "date"),
    ("bad boolean", set_cell("personal_data", "encrypted", "yes"), "personal_data.csv", "encrypted",
     "boolean"),
    ("unknown enum", set_cell("personal_data", "category", "ssn"), "personal_data.csv", "category",
     "unknown"),
    ("unknown transfer safeguard", set_cell("parties", "transfer_safeguard", "contract"), "parties.csv",
     "transfer_safeguard", "unknown"),
    ("NULL not allowed", set_cell("customers", "country", ""), "customers.csv", "country", "NULL"),
    ("NULL key", set_cell("consents", "consent_id", ""), "consents.csv", "consent_id", "NULL"),
    ("lower-case country", set_cell("parties", "country", "de"), "parties.csv", "country", "country"),
    ("duplicate key", duplicate_row("communications"), "communications.csv", "message_id", "duplicate"),
    ("dangling customer", set_cell("personal_data", "customer_id", "C404"), "personal_data.csv",
     "customer_id", "references"),
    ("dangling party", set_cell("disclosures", "party_id", "P404"), "disclosures.csv", "party_id",
     "references"),
    ("dangling nullable ref", set_cell("tracking_events", "customer_id", "C404"), "tracking_events.csv",
     "customer_id", "references"),
    ("active with deactivated_at", set_cell("customers", "deactivated_at", "2021-01-01T00:00:00Z"),
     "customers.csv", "deactivated_at", "iff"),
    ("deactivated without deactivated_at", set_cell("customers", "deactivated_at", "", row=2),
     "customers.csv", "deactivated_at", "iff"),
    ("deactivated before created", set_cell("customers", "deactivated_at", "1999-01-01T00:00:00Z", row=2),
     "customers.csv", "deactivated_at", "not before created_at"),
    ("withdrawn before given", set_cell("consents", "withdrawn_at", "1999-01-01T00:00:00Z"),
     "consents.csv", "withdrawn_at", "not before given_at"),
    ("completed before received", set_cell("dsr_requests", "completed_at", "2026-07-01T00:00:00Z"),
     "dsr_requests.csv", "completed_at", "not before"),
    ("pending with completed_at", set_cell("dsr_requests", "completed_at", "2026-09-01T00:00:00Z"),
     "dsr_requests.csv", "outcome", "pending"),
    ("refusal reason without refusal", set_cell("dsr_requests", "refusal_reason", "because"),
     "dsr_requests.csv", "refusal_reason", "refused"),
    ("responded before received", set_cell("disputes", "responded_at", "2026-01-01T00:00:00Z"),
     "disputes.csv", "responded_at", "not before"),
    ("released before placed", set_cell("legal_holds", "released_at", "1999-01-01T00:00:00Z"),
     "legal_holds.csv", "released_at", "not before"),
    ("empty file", write("legal_holds.csv", ""), "legal_holds.csv", None, "empty"),
    ("ragged row", write("legal_holds.csv", "hold_id,customer_id,reason,placed_at,released_at\nH1,C1\n"),
     "legal_holds.csv", None, "unreadable"),
    ("table twice", write("consents.parquet", "not parquet"), "consents", None, "twice"),
    ("infinite timestamp", set_cell("disputes", "resolved_at", "infinity"), "disputes.csv", "resolved_at",
     "timestamp"),
    ("epoch is no timestamp", set_cell("personal_data", "received_at", "epoch"), "personal_data.csv",
     "received_at", "timestamp"),
    ("clashing column names", lambda folder: edit_csv(folder, "customers", lambda rows: [
        r.append(v) for r, v in zip(rows, ["Country", "x", "y"], strict=True)]), "customers.csv", None,
     "given twice"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "file", "column", "rule"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refusal(cli, valid_export: Path, tmp_path: Path, mutate, file, column, rule) -> None:
    mutate(valid_export)
    out = tmp_path / "snap.duckdb"
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(out)])
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "Traceback" not in message
    assert file in message and rule in message
    if column:
        assert f"column {column}" in message
    assert not out.exists()
    assert list(tmp_path.glob("*.partial*")) == []


def test_row_fault_names_line_key_and_count(cli, valid_export: Path, tmp_path: Path) -> None:
    edit_csv(valid_export, "personal_data", lambda rows: rows.extend([["I2", *rows[1][1:]]] * 1))
    set_cell("personal_data", "category", "ssn", row=2)(valid_export)
    out = tmp_path / "snap.duckdb"
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(out)])
    assert result.exit_code == 2
    assert "line 3" in result.stderr and "item_id 'I2'" in result.stderr and "1 row(s)" in result.stderr


def test_line_numbers_count_quoted_newlines(cli, valid_export: Path, tmp_path: Path) -> None:
    set_cell("disputes", "topic", "first line\nsecond line\nthird")(valid_export)
    edit_csv(valid_export, "disputes", lambda rows: rows.append(["D2", "C1", "someday", "", "", ""]))
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2
    assert "line 5, dispute_id 'D2'" in result.stderr


def test_all_faults_reported_together(cli, valid_export: Path, tmp_path: Path) -> None:
    set_cell("personal_data", "category", "ssn")(valid_export)
    set_cell("customers", "country", "")(valid_export)
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2
    assert "2 fault(s)" in result.stderr


def test_existing_snapshot_never_overwritten(cli, valid_export: Path, tmp_path: Path) -> None:
    out = tmp_path / "snap.duckdb"
    out.write_bytes(b"precious")
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(out)])
    assert result.exit_code == 2 and "never overwritten" in result.stderr
    assert out.read_bytes() == b"precious"


def test_interrupted_build_leaves_nothing(valid_export: Path, tmp_path: Path, monkeypatch) -> None:
    import audit_lib.ingest.snapshot as snapshot

    def crash(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot, "_record_identity", crash)
    with pytest.raises(KeyboardInterrupt):
        build_snapshot(valid_export, tmp_path / "snap.duckdb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_accepted_oddities(valid_export: Path, tmp_path: Path) -> None:
    set_cell("personal_data", "received_at", "2026-03-01T02:30:00+02:00")(valid_export)
    set_cell("personal_data", "encrypted", "TRUE")(valid_export)
    set_cell("disclosures", "anonymized", "0")(valid_export)
    edit_csv(
        valid_export,
        "customers",
        lambda rows: [r.append(v) for r, v in zip(rows, ["tier", "gold", ""], strict=True)],
    )
    write("legal_holds.csv", "hold_id,customer_id,reason,placed_at,released_at\n")(valid_export)
    out = tmp_path / "snap.duckdb"
    build_snapshot(valid_export, out)
    con = open_snapshot(out)
    received, encrypted = con.execute("SELECT received_at, encrypted FROM personal_data").fetchone()
    assert received.isoformat() == "2026-03-01T00:30:00+00:00" and encrypted is True
    assert con.execute("SELECT anonymized FROM disclosures").fetchone() == (False,)
    assert con.execute("SELECT tier FROM customers ORDER BY customer_id").fetchall() == [("gold",), (None,)]
    assert con.execute("SELECT count(*) FROM legal_holds").fetchone() == (0,)
    topic = con.execute("SELECT topic FROM disputes").fetchone()[0]
    assert topic == 'a, "quoted" topic'


def test_timestamps_kept_to_the_second_and_bom_allowed(valid_export: Path, tmp_path: Path) -> None:
    set_cell("dsr_requests", "received_at", "2026-08-01T10:00:00.700Z")(valid_export)
    set_cell("dsr_requests", "completed_at", "2026-08-31T10:00:00.900+00:00")(valid_export)
    set_cell("dsr_requests", "outcome", "fulfilled")(valid_export)
    path = valid_export / "customers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    out = tmp_path / "snap.duckdb"
    build_snapshot(valid_export, out)
    row = open_snapshot(out).execute("SELECT received_at, completed_at FROM dsr_requests").fetchone()
    assert [v.isoformat() for v in row] == ["2026-08-01T10:00:00+00:00", "2026-08-31T10:00:00+00:00"]


def test_parquet_date_columns_take_midnights_only(valid_export: Path, tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    parquet = tmp_path / "parquet"
    parquet.mkdir()
    for csv_file in valid_export.glob("*.csv"):
        con.execute(f"COPY (SELECT * FROM read_csv('{csv_file}')) TO '{parquet / csv_file.stem}.parquet'")
    birth = "TIMESTAMP '1980-05-01 13:00:00'"
    con.execute(
        f"COPY (SELECT * REPLACE ({birth} AS birth_date) FROM read_parquet('{parquet}/customers.parquet')) "
        f"TO '{parquet}/c.parquet'"
    )
    (parquet / "c.parquet").replace(parquet / "customers.parquet")
    with pytest.raises(InvalidExportError, match="birth_date"):
        build_snapshot(parquet, tmp_path / "snap.duckdb")
    assert not (tmp_path / "snap.duckdb").exists()


def test_typed_columns(valid_export: Path, tmp_path: Path) -> None:
    out = tmp_path / "snap.duckdb"
    build_snapshot(valid_export, out)
    types = dict(
        open_snapshot(out)
        .execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name='customers'")
        .fetchall()
    )
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["birth_date"] == "DATE"
    assert types["account_status"].startswith("ENUM")


def test_snapshot_is_read_only(valid_export: Path, tmp_path: Path) -> None:
    out = tmp_path / "snap.duckdb"
    build_snapshot(valid_export, out)
    with pytest.raises(duckdb.Error):
        open_snapshot(out).execute("DELETE FROM customers")


def test_identity_recorded(cli, valid_export: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    build_snapshot(valid_export, a)
    build_snapshot(valid_export, b, taken_at="2026-10-01T00:00:00Z")
    info = snapshot_info(a)
    assert info.taken_at.isoformat() == "2026-08-01T00:00:00+00:00"  # newest timestamp of the export
    assert info.row_counts["customers"] == 2 and len(info.files) == 10
    assert all(len(f["sha256"]) == 64 for f in info.files)
    assert snapshot_info(b).id != info.id
    result = cli.invoke(app, ["snapshot", "info", str(a), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["id"] == info.id


def test_not_a_snapshot(cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database")
    for path in (junk, tmp_path / "missing.duckdb"):
        result = cli.invoke(app, ["snapshot", "info", str(path)])
        assert result.exit_code == 2 and "Traceback" not in result.output


def test_csv_and_parquet_give_the_same_snapshot(valid_export: Path, tmp_path: Path) -> None:
    parquet = tmp_path / "parquet"
    parquet.mkdir()
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    csv_snapshot = tmp_path / "csv.duckdb"
    build_snapshot(valid_export, csv_snapshot)
    con.execute(f"ATTACH '{csv_snapshot}' AS s (READ_ONLY)")
    for table in [r[0] for r in con.execute("SELECT table_name FROM s.snapshot_files").fetchall()]:
        con.execute(f"COPY s.{table} TO '{parquet / table}.parquet' (FORMAT parquet)")
    parquet_snapshot = tmp_path / "parquet.duckdb"
    build_snapshot(parquet, parquet_snapshot)
    con.execute(f"ATTACH '{parquet_snapshot}' AS p (READ_ONLY)")
    for table in [r[0] for r in con.execute("SELECT table_name FROM s.snapshot_files").fetchall()]:
        differ = con.execute(
            f"SELECT count(*) FROM ((SELECT * FROM s.{table} EXCEPT ALL SELECT * FROM p.{table}) "
            f"UNION ALL (SELECT * FROM p.{table} EXCEPT ALL SELECT * FROM s.{table}))"
        ).fetchone()[0]
        assert differ == 0, table


def test_memory_limit_is_explicit_and_configurable(
    cli, valid_export: Path, tmp_path: Path, monkeypatch
) -> None:
    """DuckDB spills past a quarter of the machine's memory by default, or PRIVACY_AUDIT_MEMORY_LIMIT."""
    from audit_lib.ingest.snapshot import connect

    def limit() -> str:
        with connect() as con:
            return con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]

    assert limit() != "" and limit().endswith("iB")
    monkeypatch.setenv("PRIVACY_AUDIT_MEMORY_LIMIT", "300MB")
    assert limit() == "286.1 MiB"
    out = tmp_path / "small.duckdb"
    assert cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(out)]).exit_code == 0
    monkeypatch.setenv("PRIVACY_AUDIT_MEMORY_LIMIT", "lots")
    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(tmp_path / "no.duckdb")])
    assert result.exit_code == 2 and "PRIVACY_AUDIT_MEMORY_LIMIT='lots'" in result.output
    assert not (tmp_path / "no.duckdb").exists()


def test_every_dangling_reference_is_named_with_its_first_row_and_count(tmp_path: Path) -> None:
    """Columns referencing one parent are checked together: each still gets its own fault, in
    the contract's order, with its own first row and count; a NULL in a nullable one is none."""
    from conftest import VALID_ROWS

    from builders import complete_tables, write_export

    tables = complete_tables(VALID_ROWS)

    def added(table: str, **values: object) -> None:  # after completion: no parent row made
        tables[table].append({**tables[table][0], **values})

    added("personal_data", item_id="I2", customer_id="C404")
    added("personal_data", item_id="I3", customer_id="C2")
    added("personal_data", item_id="I4", customer_id="C405")
    added("disclosures", disclosure_id="X2", party_id="P404", customer_id=None)
    added("tracking_events", event_id="E2", customer_id="c1")  # case matters
    export = write_export(tables, tmp_path / "export")
    with pytest.raises(InvalidExportError) as refused:
        build_snapshot(export, tmp_path / "snap.duckdb")
    found = [(f.file, f.column, f.rule, f.first, f.count) for f in refused.value.faults]
    assert found == [
        ("personal_data.csv", "customer_id", "references missing customers.customer_id",
         "line 3, item_id 'I2', value 'C404'", 2),
        ("disclosures.csv", "party_id", "references missing parties.party_id",
         "line 3, disclosure_id 'X2', value 'P404'", 1),
        ("tracking_events.csv", "customer_id", "references missing customers.customer_id",
         "line 3, event_id 'E2', value 'c1'", 1),
    ]  # fmt: skip
    assert not (tmp_path / "snap.duckdb").exists()
