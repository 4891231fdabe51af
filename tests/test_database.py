"""snapshot build from a database: a real PostgreSQL server (tests/postgres_server.py) and SQLite."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import duckdb
import pytest
from conftest import SAMPLE_EXPORT, VALID_ROWS
from postgres_server import PASSWORD, USER, load_postgres, load_sqlite, running_server

from audit_lib.cli import app
from audit_lib.controls.evaluate import evaluate
from audit_lib.ingest import database
from audit_lib.ingest.snapshot import build_snapshot, verify_snapshot
from audit_lib.periods import Period

from builders import complete_tables, write_export

TAKEN = "2026-10-01T00:00:00Z"
PERIOD = "2026-Q3"
_schemas = itertools.count()


@pytest.fixture(scope="module")
def pg():
    with running_server() as server:
        yield server


@pytest.fixture(scope="module")
def sample_pg(pg) -> str:
    load_postgres(pg, "sample", SAMPLE_EXPORT)
    return pg.url("sample")


@pytest.fixture(scope="module")
def csv_snapshot(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("csv") / "csv.duckdb"
    build_snapshot(SAMPLE_EXPORT, out, taken_at=TAKEN)
    return out


def schema_with(pg, tmp_path: Path, partial: dict, types: dict | None = None) -> str:
    """A fresh schema holding the completed rows (through a CSV folder and COPY FROM)."""
    name = f"s{next(_schemas)}"
    load_postgres(pg, name, write_export(complete_tables(partial), tmp_path / name), types)
    return pg.url(name)


def assert_same_tables(a: Path, b: Path) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    for (table,) in con.execute("SELECT table_name FROM a.snapshot_files").fetchall():
        differ = con.execute(
            f"SELECT count(*) FROM ((SELECT * FROM a.{table} EXCEPT ALL SELECT * FROM b.{table}) "
            f"UNION ALL (SELECT * FROM b.{table} EXCEPT ALL SELECT * FROM a.{table}))"
        ).fetchone()[0]
        assert differ == 0, table
        types = [
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {d}.{table})").fetchall()
            for d in "ab"
        ]
        assert types[0] == types[1], table


def findings_of(snapshot: Path) -> dict:
    findings = evaluate(snapshot, Period.quarter(PERIOD))
    return {r.control.id: (r.violations, r.exceptions) for r in findings.controls}


def test_postgres_sample_equals_the_csv_path(cli, sample_pg: str, csv_snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "pg.duckdb"
    result = cli.invoke(app, ["snapshot", "build", sample_pg, "--out", str(out), "--taken-at", TAKEN])
    assert result.exit_code == 0, result.output
    assert_same_tables(csv_snapshot, out)
    assert findings_of(out) == findings_of(csv_snapshot)
    info = verify_snapshot(out)
    assert info.source["driver"].startswith("adbc-driver-postgresql")
    assert (
        info.source["server_version"].startswith("PostgreSQL 15")
        or "PostgreSQL" in info.source["server_version"]
    )
    assert info.source["schema"] == "sample" and info.source["database"] == "inventory"
    assert info.source["url"] == sample_pg.replace(f":{PASSWORD}", "")
    assert {f["format"] for f in info.files} == {"postgresql"}
    assert all(len(f["sha256"]) == 64 for f in info.files)
    assert cli.invoke(app, ["snapshot", "verify", str(out)]).exit_code == 0


def test_default_taken_at_is_the_transaction_start(sample_pg: str, tmp_path: Path) -> None:
    info = build_snapshot(sample_pg, tmp_path / "pg.duckdb")
    assert info.taken_at.utcoffset().total_seconds() == 0
    assert info.source["transaction_started_at"].startswith(info.taken_at.isoformat()[:19])
    assert abs((info.built_at - info.taken_at).total_seconds()) < 120


def test_sqlite_sample_equals_the_csv_path(csv_snapshot: Path, tmp_path: Path, monkeypatch) -> None:
    db = load_sqlite(tmp_path / "inventory.sqlite", SAMPLE_EXPORT)
    absolute = tmp_path / "abs.duckdb"
    build_snapshot(f"sqlite:///{db}", absolute, taken_at=TAKEN)  # four slashes: db is absolute
    assert_same_tables(csv_snapshot, absolute)
    assert findings_of(absolute) == findings_of(csv_snapshot)
    monkeypatch.chdir(tmp_path)
    relative = tmp_path / "rel.duckdb"
    info = build_snapshot("sqlite:///inventory.sqlite", relative, taken_at=TAKEN)
    assert info.source["driver"].startswith("adbc-driver-sqlite")
    assert_same_tables(absolute, relative)
    from typer.testing import CliRunner

    assert json.loads(info_json(CliRunner(), relative))["source"]["url"] == "sqlite:///inventory.sqlite"
    assert json.loads(info_json(CliRunner(), csv_snapshot))["source"] is None  # a folder's snapshot


BAD = [
    ({"customers": [{"customer_id": "C9", "account_status": "frozen"}]}, {("customers", "account_status"): "text"},
     None, "customers", "account_status", "unknown account_status value", "customer_id 'C9'"),
    ({"personal_data": [{"item_id": "I9", "customer_id": "C1", "system": None}]}, None, None, "personal_data",
     "system", "NULL not allowed", "item_id 'I9'"),
    ({"parties": [{"party_id": "P1"}, {"party_id": "P1"}]}, None, None, "parties", "party_id",
     "duplicate primary key", "party_id 'P1'"),
    ({}, None, "INSERT INTO {s}.consents SELECT 'K9', 'nobody', kind, given_at, withdrawn_at FROM {s}.consents",
     "consents", "customer_id", "references missing customers.customer_id", "consent_id 'K9'"),
    ({"legal_holds": [{"hold_id": "H9", "customer_id": "C1", "placed_at": "2026-01-02T00:00:00Z",
                       "released_at": "2026-01-01T00:00:00Z"}]}, None, None, "legal_holds", "released_at",
     "released_at not before placed_at", "hold_id 'H9'"),
    ({"customers": [{"customer_id": "C9", "country": "fr"}]}, None, None, "customers", "country",
     "not an ISO 3166-1 alpha-2", "customer_id 'C9'"),
    ({"disputes": [{"dispute_id": "D9", "received_at": "2026-01-01T00:00:00+02"}]},
     {("disputes", "received_at"): "text"}, None, "disputes", "received_at", None, None),
    ({"disputes": [{"dispute_id": "D9", "received_at": "2026-01-01 at noon"}]},
     {("disputes", "received_at"): "text"}, None, "disputes", "received_at", "not an ISO 8601 timestamp",
     "dispute_id 'D9'"),
    ({}, None, "ALTER TABLE {s}.disputes ALTER COLUMN received_at TYPE interval USING '1 day'::interval",
     "disputes", "received_at", "PostgreSQL type interval cannot hold a timestamp", None),
    ({}, None, "ALTER TABLE {s}.tracking_events ALTER COLUMN dnt TYPE double precision USING 0",
     "tracking_events", "dnt", "PostgreSQL type double precision cannot hold a boolean", None),
]  # fmt: skip


@pytest.mark.parametrize(("partial", "types", "sql", "table", "column", "rule", "key"), BAD)
def test_rules_refused_from_the_database(
    cli, pg, tmp_path: Path, partial, types, sql, table, column, rule, key
) -> None:
    rows = {**VALID_ROWS, **partial}
    url = schema_with(pg, tmp_path, rows, types)
    if sql:
        pg.psql(sql.format(s=url.split("schema=")[1]))
    out = tmp_path / "out.duckdb"
    result = cli.invoke(app, ["snapshot", "build", url, "--out", str(out), "--taken-at", TAKEN])
    if rule is None:  # a text column of ISO timestamps is read as a CSV field is: accepted
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    schema = url.split("schema=")[1]
    assert f"{schema}.{table}: column {column}: {rule}" in result.output
    if key:
        assert key in result.output
    assert not out.exists() and not list(tmp_path.glob(".out.duckdb*"))
    # The same rows as files give the same rule and key.
    if not types and not sql:
        folder = write_export(complete_tables(rows), tmp_path / "files")
        files = cli.invoke(app, ["snapshot", "build", str(folder), "--out", str(tmp_path / "f.duckdb")])
        assert f"{table}.csv: column {column}: {rule}" in files.output
        assert key in files.output


def test_enum_domain_uuid_numeric_and_timestamp_types(pg, tmp_path: Path) -> None:
    """Enums, domains, uuid and numeric ids as text; timestamp without zone taken as UTC; extras kept."""
    pg.psql("CREATE DOMAIN public.country_code AS text CHECK (VALUE ~ '^[A-Z]{2}$')")
    types = {
        ("customers", "country"): "public.country_code",
        ("customers", "created_at"): "timestamp",
        ("parties", "party_id"): "numeric",
        ("disputes", "dispute_id"): "uuid",
    }
    rows = {
        **VALID_ROWS,
        "parties": [{"party_id": "17"}],
        "disclosures": [{"disclosure_id": "X1", "party_id": "17", "customer_id": "C1"}],
        "customers": [{"customer_id": "C1", "country": "DE", "created_at": "2020-01-01T10:00:00Z"}],
        "disputes": [{"dispute_id": "6f0f0d34-4c47-4a8c-9d3c-2f6b1f3c0a11", "customer_id": "C1"}],
    }
    url = schema_with(pg, tmp_path, rows, types)
    schema = url.split("schema=")[1]
    pg.psql(f"ALTER TABLE {schema}.customers ADD COLUMN score double precision DEFAULT 1.5")
    pg.psql("SET TIME ZONE 'Europe/Berlin'")
    out = tmp_path / "t.duckdb"
    build_snapshot(url, out, taken_at=TAKEN)
    con = duckdb.connect(str(out), read_only=True)
    con.execute("SET TimeZone='UTC'")
    assert con.execute("SELECT party_id FROM parties").fetchall() == [("17",)]
    assert con.execute("SELECT dispute_id FROM disputes").fetchall() == [(rows["disputes"][0]["dispute_id"],)]
    created, score = con.execute("SELECT strftime(created_at, '%H:%M'), score FROM customers").fetchone()
    assert (created, score) == ("10:00", 1.5)


def test_consistent_snapshot_while_a_writer_adds_rows(
    pg, sample_pg: str, tmp_path: Path, monkeypatch
) -> None:
    """A writer commits rows between two table reads: the snapshot has none of them (all or none)."""
    schema = "sample"
    before = {
        t: int(pg.psql(f"SELECT count(*) FROM {schema}.{t}").split()[2])
        for t in ("customers", "personal_data", "tracking_events")
    }
    written: list[str] = []

    def writer(table: str) -> None:
        if table == "customers" and not written:
            pg.psql(
                f"BEGIN; INSERT INTO {schema}.customers VALUES "
                "('CNEW', 'DE', NULL, 'active', '2026-09-01T00:00:00Z', NULL); "
                f"INSERT INTO {schema}.personal_data VALUES ('INEW', 'CNEW', 'email', 'crm', 'application', "
                "'registration', 'email', '2026-09-01T00:00:00Z', true); "
                f"INSERT INTO {schema}.tracking_events VALUES ('ENEW', 'CNEW', '2026-09-01T00:00:00Z', "
                "'website', 'essential', false); COMMIT;"
            )
            written.append(table)

    monkeypatch.setattr(database, "after_table", writer)
    during = build_snapshot(sample_pg, tmp_path / "during.duckdb", taken_at=TAKEN)
    assert written
    assert {t: during.row_counts[t] for t in before} == before
    monkeypatch.setattr(database, "after_table", None)
    after = build_snapshot(sample_pg, tmp_path / "after.duckdb", taken_at=TAKEN)
    assert {t: after.row_counts[t] for t in before} == {t: n + 1 for t, n in before.items()}
    pg.psql(
        f"DELETE FROM {schema}.tracking_events WHERE event_id = 'ENEW'; "
        f"DELETE FROM {schema}.personal_data WHERE item_id = 'INEW'; "
        f"DELETE FROM {schema}.customers WHERE customer_id = 'CNEW';"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda u, pg: u.replace(f":{pg.port}/", f":{pg.port + 7}/"), "cannot connect"),
        (lambda u, pg: u.replace(PASSWORD, "wrong-" + PASSWORD[::-1]), "password authentication failed"),
        (lambda u, pg: u.replace("schema=sample", "schema=nosuch"), "no schema 'nosuch'"),
        (lambda u, pg: u.replace("/inventory?", "/nodb?"), "does not exist"),
        (lambda u, pg: u.replace("schema=sample", "schema=public"), "public.customers: missing table"),
    ],
    ids=["unreachable", "bad-password", "no-schema", "no-database", "no-table"],
)
def test_failures_exit_2_and_write_nothing(cli, pg, sample_pg: str, tmp_path: Path, change, expected) -> None:
    out = tmp_path / "x.duckdb"
    result = cli.invoke(app, ["snapshot", "build", change(sample_pg, pg), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert PASSWORD not in result.output and PASSWORD[::-1] not in result.output
    assert list(tmp_path.iterdir()) == []


def test_sqlite_missing_file_and_bad_url(cli, tmp_path: Path) -> None:
    for url in (f"sqlite:///{tmp_path}/none.sqlite", "sqlite://relative.db"):
        result = cli.invoke(app, ["snapshot", "build", url, "--out", str(tmp_path / "x.duckdb")])
        assert result.exit_code == 2, result.output
    assert list(tmp_path.iterdir()) == []


def info_json(cli, snapshot: Path) -> str:
    result = cli.invoke(app, ["snapshot", "info", str(snapshot), "--json"])
    assert result.exit_code == 0, result.output
    return result.output


def test_password_never_written(cli, pg, sample_pg: str, tmp_path: Path, monkeypatch) -> None:
    """From the URL, PGPASSWORD and ~/.pgpass: not in the output, the snapshot file or a report."""
    no_password = pg.url("sample", password=False)
    builds = [(sample_pg, {}), (no_password, {"PGPASSWORD": PASSWORD})]
    home = tmp_path / "home"
    home.mkdir()
    pgpass = home / ".pgpass"
    pgpass.write_text(f"127.0.0.1:{pg.port}:*:{USER}:{PASSWORD}\n")
    pgpass.chmod(0o600)
    builds.append((no_password, {"HOME": str(home), "PGPASSFILE": str(pgpass)}))
    for i, (url, env) in enumerate(builds):
        monkeypatch.delenv("PGPASSWORD", raising=False)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        out = tmp_path / f"s{i}.duckdb"
        result = cli.invoke(app, ["snapshot", "build", url, "--out", str(out), "--taken-at", TAKEN])
        assert result.exit_code == 0, result.output
        assert PASSWORD not in result.output
        assert PASSWORD.encode() not in out.read_bytes()
        for shown in (["--json"], []):
            info = cli.invoke(app, ["snapshot", "info", str(out), *shown])
            assert info.exit_code == 0 and PASSWORD not in info.output, info.output
        source = json.loads(info_json(cli, out))["source"]
        assert source["url"] == pg.url("sample", password=False) and source["schema"] == "sample"
        assert source["server_version"].startswith("PostgreSQL ") and "REPEATABLE READ" in source["isolation"]
        assert f"source       {source['url']} (schema sample)" in info.output
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv("PGPASSFILE", raising=False)
    report = tmp_path / "report"
    result = cli.invoke(
        app, ["run", "quarterly", "--snapshot", str(tmp_path / "s0.duckdb"), "--period", PERIOD,
              "--out", str(report), "--no-notebooks"],
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output  # 1: violations found
    assert PASSWORD not in result.output
    for path in report.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
