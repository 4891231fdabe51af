"""The sample generator: files, determinism, and its key property.

The key property: with the reference period and default parameters, the
violations and exceptions of every control are exactly those planted.json
lists. It is checked here against an independent evaluator: one plain SQL
query per control, written from controls.md, run over the generated CSVs.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from audit_lib.controls.evaluate import evaluate as run_controls
from audit_lib.controls.registry import load_controls
from audit_lib.controls.vocabulary import EEA, EU
from audit_lib.errors import OutputExistsError, UsageError
from audit_lib.ingest.schema import ENUMS, TABLES
from audit_lib.ingest.snapshot import build_snapshot
from audit_lib.periods import Period
from audit_lib.sample import chunk_sizes, generate_sample

CONTROL_IDS = [c.id for c in load_controls()]
EXEMPTIONS = {
    "RET-01": {"access_log", "indefinite_hold"},
    "RET-02": {"legal_retention", "access_log", "hold"},
    "RET-03": {"legal_retention", "access_log", "indefinite_hold"},
}
SQL_TYPES = {"timestamp": "TIMESTAMPTZ", "date": "DATE", "boolean": "BOOLEAN"}
DESCRIBED = {"timestamp": "TIMESTAMP WITH TIME ZONE", "date": "DATE", "boolean": "BOOLEAN"}


def _in(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# Each query yields one row per member of the population: (key, judged, reason);
# `judged` is the rule being met, `reason` names the first exemption (NULL: violation).
# {S} {E} {A} are the period's start, end and as_of.
HOLDS = "SELECT customer_id FROM legal_holds WHERE placed_at <= {A} AND coalesce(released_at > {A}, TRUE)"
INDEFINITE = HOLDS + " AND reason IN ('tos_breach', 'fraud')"
EXEMPT_ITEM = """CASE WHEN purpose = 'legal_compliance' THEN 'legal_retention'
    WHEN system_kind = 'access_log' THEN 'access_log'"""
EVALUATOR = {
    "RET-01": f"""SELECT item_id, received_at + INTERVAL 10 YEAR < {{A}},
        CASE WHEN system_kind = 'access_log' THEN 'access_log'
             WHEN customer_id IN ({INDEFINITE}) THEN 'indefinite_hold' END
        FROM state""",
    "RET-02": f"""SELECT item_id, TRUE,
        {EXEMPT_ITEM} WHEN customer_id IN ({HOLDS}) THEN 'hold' END
        FROM state JOIN customers USING (customer_id)
        WHERE account_status IN ('deactivated', 'cancelled')
          AND deactivated_at + INTERVAL 365 DAY < {{A}}""",
    "RET-03": f"""WITH erased AS (
          SELECT customer_id, max(received_at) AS asked FROM dsr_requests
          WHERE kind = 'deletion' AND outcome = 'fulfilled' AND completed_at < {{A}}
          GROUP BY customer_id)
        SELECT item_id, received_at < asked,
        {EXEMPT_ITEM} WHEN customer_id IN ({INDEFINITE}) THEN 'indefinite_hold' END
        FROM state JOIN erased USING (customer_id)""",
    "DSR-01": """SELECT request_id, coalesce(completed_at > received_at + INTERVAL 30 DAY,
          received_at + INTERVAL 30 DAY < {A}), NULL
        FROM dsr_requests
        WHERE received_at < {E} AND (completed_at IS NULL OR completed_at >= {S})""",
    "DSP-01": """SELECT dispute_id, coalesce(responded_at > received_at + INTERVAL 30 DAY,
          received_at + INTERVAL 30 DAY < {A}), NULL
        FROM disputes
        WHERE received_at < {E} AND (responded_at IS NULL OR responded_at >= {S})""",
    "SHR-01": """SELECT disclosure_id, party_kind <> 'sub_processor' OR authorized_from IS NULL
          OR authorized_from::TIMESTAMPTZ > disclosed_at
          OR coalesce(authorized_until::TIMESTAMPTZ <= disclosed_at, FALSE), NULL
        FROM shared WHERE purpose = 'render_services'""",
    "SHR-02": """SELECT disclosure_id,
          dpa_signed_at IS NULL OR dpa_signed_at > disclosed_at::DATE, NULL
        FROM shared WHERE purpose IN ('render_services', 'business_transition')""",
    "SHR-03": """SELECT disclosure_id, purpose NOT IN ('render_services', 'legal_requirement',
          'tos_breach', 'aggregate', 'business_transition'), NULL FROM shared""",
    "SHR-04": """SELECT disclosure_id, NOT anonymized OR customer_id IS NOT NULL, NULL
        FROM shared WHERE purpose = 'aggregate'""",
    "SHR-05": """SELECT disclosure_id,
          coalesce(customer_notified_at > disclosed_at + INTERVAL 30 DAY,
                   disclosed_at + INTERVAL 30 DAY < {A}), NULL
        FROM shared WHERE purpose = 'legal_requirement' AND customer_id IS NOT NULL
          AND NOT notification_prohibited""",
    "SHR-06": """SELECT disclosure_id,
          purpose NOT IN ('render_services', 'legal_requirement', 'tos_breach'), NULL
        FROM shared d WHERE EXISTS (SELECT 1 FROM consents k
          WHERE k.customer_id = d.customer_id AND k.kind = 'limit_sharing'
            AND k.given_at <= d.disclosed_at AND coalesce(k.withdrawn_at > d.disclosed_at, TRUE))""",
    "XFR-01": f"""SELECT disclosure_id, coalesce(transfer_safeguard, 'none') = 'none', NULL
        FROM shared WHERE customer_country IN {_in(EU)} AND party_country NOT IN {_in(EEA)}""",
    "SEC-01": """SELECT item_id, NOT encrypted, NULL FROM state
        WHERE category IN ('card', 'financial')""",
    "SEC-02": "SELECT disclosure_id, NOT encrypted_in_transit, NULL FROM shared",
    "MKT-01": f"""SELECT message_id, NOT EXISTS (SELECT 1 FROM consents k
          WHERE k.customer_id = m.customer_id AND k.kind = 'marketing_opt_in'
            AND k.given_at <= m.sent_at AND coalesce(k.withdrawn_at > m.sent_at, TRUE)), NULL
        FROM marketing m JOIN customers c USING (customer_id) WHERE c.country IN {_in(EU)}""",
    "MKT-02": """SELECT message_id, EXISTS (SELECT 1 FROM consents k
          WHERE k.customer_id = m.customer_id AND k.kind = 'marketing_opt_out'
            AND k.given_at <= m.sent_at AND coalesce(k.withdrawn_at > m.sent_at, TRUE)), NULL
        FROM marketing m""",
    "TRK-01": """SELECT event_id, tracker_kind IN ('analytics', 'advertising')
          AND area NOT IN ('client_area', 'control_panel'), NULL
        FROM tracking_events WHERE occurred_at >= {S} AND occurred_at < {E} AND dnt""",
    "AGE-01": """SELECT customer_id, EXISTS (SELECT 1 FROM state s
          WHERE s.customer_id = c.customer_id
            AND s.received_at < c.birth_date::TIMESTAMPTZ + INTERVAL 13 YEAR), NULL
        FROM customers c
        WHERE birth_date IS NOT NULL AND customer_id IN (SELECT customer_id FROM state)""",
}
VIEWS = """
CREATE VIEW state AS SELECT * FROM personal_data WHERE received_at < {A};
CREATE VIEW shared AS
  SELECT d.*, p.kind AS party_kind, p.country AS party_country, p.authorized_from,
         p.authorized_until, p.dpa_signed_at, p.transfer_safeguard, c.country AS customer_country
  FROM disclosures d JOIN parties p USING (party_id) LEFT JOIN customers c USING (customer_id)
  WHERE disclosed_at >= {S} AND disclosed_at < {E};
CREATE VIEW marketing AS SELECT * FROM communications
  WHERE sent_at >= {S} AND sent_at < {E} AND kind IN ('newsletter', 'promotion');
"""


def load(folder: Path, fmt: str = "csv") -> duckdb.DuckDBPyConnection:
    """The export's tables in an in-memory DuckDB, typed by the schema."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
        path = folder / f"{table.name}.{fmt}"
        if fmt == "csv":
            types = {c.name: SQL_TYPES.get(c.kind, "VARCHAR") for c in table.columns}
            source = f"read_csv('{path}', header = true, columns = {types})"
        else:
            source = f"read_parquet('{path}')"
        con.execute(f"CREATE TABLE {table.name} AS SELECT * FROM {source}")
    return con


def evaluate(con: duckdb.DuckDBPyConnection, period: dict) -> dict[str, dict]:
    """Per control: population, violations and exceptions by the independent evaluator."""
    bounds = {
        "S": f"TIMESTAMPTZ '{period['start']}'",
        "E": f"TIMESTAMPTZ '{period['end']}'",
        "A": f"TIMESTAMPTZ '{period['end']}'",
    }
    con.execute(VIEWS.format(**bounds))
    found = {}
    for control, query in EVALUATOR.items():
        rows = con.execute(query.format(**bounds)).fetchall()
        found[control] = {
            "population": {key for key, _, _ in rows},
            "violations": sorted(key for key, judged, reason in rows if judged and reason is None),
            "exceptions": sorted([key, reason] for key, judged, reason in rows if judged and reason),
            "judged": {key for key, judged, _ in rows if judged},
        }
    return found


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("sample") / "export"
    return folder, generate_sample(folder, customers=800, seed=11)


@pytest.fixture(scope="module")
def con(sample: tuple[Path, dict]) -> duckdb.DuckDBPyConnection:
    return load(sample[0])


def test_every_table_file_has_the_schema_header(sample: tuple[Path, dict]) -> None:
    folder, manifest = sample
    names = {p.name for p in folder.iterdir()}
    assert names == {f"{t.name}.csv" for t in TABLES} | {"planted.json"}
    for table in TABLES:
        with (folder / f"{table.name}.csv").open(encoding="utf-8") as f:
            assert f.readline().rstrip("\n") == ",".join(c.name for c in table.columns)
    assert json.loads((folder / "planted.json").read_text(encoding="utf-8")) == manifest


def test_manifest_lists_every_control_with_its_planted_outcomes(sample: tuple[Path, dict]) -> None:
    manifest = sample[1]
    assert manifest["format"] == "privacy-audit/planted/1"
    assert manifest["period"] == {
        "label": "2026-Q3", "start": "2026-07-01T00:00:00Z", "end": "2026-10-01T00:00:00Z",
    }  # fmt: skip
    assert manifest["parameters"] == {
        "retention_years": 10, "grace_days": 365, "response_days": 30, "notice_days": 30,
        "min_age": 13,
    }  # fmt: skip
    assert list(manifest["controls"]) == CONTROL_IDS
    for control, planted in manifest["controls"].items():
        assert planted["violations"], control
        assert planted["violations"] == sorted(planted["violations"])
        reasons = {reason for _, reason in planted["exceptions"]}
        assert reasons == EXEMPTIONS.get(control, set()), control


def test_planted_outcomes_match_an_independent_evaluation(
    sample: tuple[Path, dict], con: duckdb.DuckDBPyConnection
) -> None:
    manifest = sample[1]
    found = evaluate(con, manifest["period"])
    for control, planted in manifest["controls"].items():
        got = found[control]
        assert got["violations"] == planted["violations"], control
        assert got["exceptions"] == planted["exceptions"], control
        assert set(planted["compliant"]) <= got["population"] - got["judged"], control


@pytest.mark.parametrize("period", ["2024-Q1", "2025-Q4"])
def test_the_key_property_holds_for_other_periods(tmp_path: Path, period: str) -> None:
    manifest = generate_sample(tmp_path / "export", customers=300, seed=3, period=period)
    found = evaluate(load(tmp_path / "export"), manifest["period"])
    for control, planted in manifest["controls"].items():
        assert found[control]["violations"] == planted["violations"], (period, control)
        assert found[control]["exceptions"] == planted["exceptions"], (period, control)


def test_the_export_keeps_the_inventory_contract(con: duckdb.DuckDBPyConnection) -> None:
    assert_contract(con)


def assert_contract(con: duckdb.DuckDBPyConnection) -> None:
    """Unique keys, no NULL where none may be, no orphan reference, enums and row rules kept."""
    for table in TABLES:
        assert con.execute(f"SELECT count(*) = count(DISTINCT {table.key}) FROM {table.name}").fetchone() == (
            True,
        )
        for column in table.columns:
            if not column.nullable:
                nulls = f"SELECT count(*) FROM {table.name} WHERE {column.name} IS NULL"
                assert con.execute(nulls).fetchone() == (0,), (table.name, column.name)
            if column.references:
                target, key = column.references.split(".")
                orphans = f"""SELECT count(*) FROM {table.name} WHERE {column.name} IS NOT NULL
                    AND {column.name} NOT IN (SELECT {key} FROM {target})"""
                assert con.execute(orphans).fetchone() == (0,), (table.name, column.name)
            if column.enum:
                odd = f"SELECT count(*) FROM {table.name} WHERE {column.name} NOT IN {_in(column.enum)}"
                assert con.execute(odd).fetchone() == (0,), (table.name, column.name)
        for rule in table.rules:
            broken = f"SELECT count(*) FROM {table.name} WHERE {rule.broken}"
            assert con.execute(broken).fetchone() == (0,), (table.name, rule.rule)


def test_every_enum_value_appears(con: duckdb.DuckDBPyConnection) -> None:
    seen: dict[str, set[str]] = {name: set() for name in ENUMS}
    for table in TABLES:
        for column in table.columns:
            if column.enum:
                values = con.execute(f"SELECT DISTINCT {column.name} FROM {table.name}").fetchall()
                seen[column.kind] |= {v for (v,) in values if v is not None}
    assert seen == {name: set(values) for name, values in ENUMS.items()}


def test_rows_lie_on_both_sides_of_the_period(con: duckdb.DuckDBPyConnection) -> None:
    start, end = "TIMESTAMPTZ '2026-07-01 00:00:00+00'", "TIMESTAMPTZ '2026-10-01 00:00:00+00'"
    for table, time in [("disclosures", "disclosed_at"), ("communications", "sent_at"),
                        ("tracking_events", "occurred_at"), ("dsr_requests", "received_at"),
                        ("personal_data", "received_at")]:  # fmt: skip
        counts = con.execute(f"""SELECT count(*) FILTER ({time} < {start}),
            count(*) FILTER ({time} >= {start} AND {time} < {end}),
            count(*) FILTER ({time} >= {end}) FROM {table}""").fetchone()
        assert counts is not None and min(counts) > 0, (table, counts)
    created = con.execute("SELECT min(created_at) FROM customers").fetchone()
    assert created is not None and created[0].year <= 2009


def test_investigation_targets(sample: tuple[Path, dict], con: duckdb.DuckDBPyConnection) -> None:
    manifest = sample[1]
    targets = manifest["investigation"]
    customer = con.execute(
        "SELECT customer_id FROM disputes WHERE dispute_id = ?", [targets["dispute_id"]]
    ).fetchone()
    assert customer is not None and customer[0] is not None
    owned = con.execute(
        """SELECT item_id FROM personal_data WHERE customer_id = $c
        UNION ALL SELECT disclosure_id FROM disclosures WHERE customer_id = $c
        UNION ALL SELECT message_id FROM communications WHERE customer_id = $c
        UNION ALL SELECT request_id FROM dsr_requests WHERE customer_id = $c""",
        {"c": customer[0]},
    ).fetchall()
    keys = {key for (key,) in owned}
    hit = [c for c, planted in manifest["controls"].items() if keys & set(planted["violations"])]
    assert len(hit) >= 3, hit
    anonymous = con.execute(
        "SELECT customer_id FROM disputes WHERE dispute_id = ?", [targets["dispute_without_customer"]]
    ).fetchone()
    assert anonymous == (None,)


def test_markup_survives_in_names_and_topics(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute(
        "SELECT count(*) FROM parties WHERE name = '<script>alert(1)</script>'"
    ).fetchone() == (1,)
    assert con.execute(
        """SELECT count(*) FROM disputes WHERE topic LIKE '%<img src=x onerror=alert(1)>%'
        AND topic LIKE '%"Sold"%,%'"""
    ).fetchone() == (1,)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first = generate_sample(tmp_path / "a", customers=300, seed=5)
    second = generate_sample(tmp_path / "b", customers=300, seed=5)
    generate_sample(tmp_path / "c", customers=300, seed=6)
    assert first == second
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    differing = [n for n in files if (tmp_path / "a" / n).read_bytes() != (tmp_path / "c" / n).read_bytes()]
    assert "personal_data.csv" in differing


def test_chunks_are_as_even_as_possible() -> None:
    assert chunk_sizes(2000, 500_000) == [2000]
    assert chunk_sizes(1000, 250) == [250] * 4
    assert chunk_sizes(1001, 250) == [201, 200, 200, 200, 200]


def test_one_chunk_is_the_export_without_chunks(tmp_path: Path) -> None:
    generate_sample(tmp_path / "a", customers=300, seed=5)
    generate_sample(tmp_path / "b", customers=300, seed=5, chunk=300)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_multi_chunk_export_is_valid_and_as_planted(tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "export"
    manifest = generate_sample(folder, customers=900, seed=11, fmt=fmt, chunk=250)  # 4 chunks of 225
    con = load(folder, fmt)
    assert_contract(con)  # keys unique across chunks, every reference resolved
    for table in TABLES:
        assert con.execute(f"SELECT count(*) FROM {table.name}").fetchone() == (manifest["rows"][table.name],)
    assert manifest["rows"]["customers"] == 900 + 40
    last = con.execute("SELECT max(customer_id) FROM customers").fetchone()
    assert last == (f"C{manifest['rows']['customers']:07d}",)

    build_snapshot(folder, tmp_path / "s.duckdb")
    findings = run_controls(tmp_path / "s.duckdb", Period.quarter(manifest["period"]["label"]))
    assert [r.control.id for r in findings.controls] == CONTROL_IDS
    for result in findings.controls:
        planted = manifest["controls"][result.control.id]
        assert result.violations == planted["violations"], result.control.id
        assert result.exceptions == [tuple(e) for e in planted["exceptions"]], result.control.id


def test_a_multi_chunk_export_is_deterministic(tmp_path: Path) -> None:
    generate_sample(tmp_path / "a", customers=600, seed=5, chunk=200)
    generate_sample(tmp_path / "b", customers=600, seed=5, chunk=200)
    generate_sample(tmp_path / "one", customers=600, seed=5)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    for table in TABLES:
        lines = (tmp_path / "a" / f"{table.name}.csv").read_text(encoding="utf-8").splitlines()
        assert lines.count(lines[0]) == 1, table.name  # the header once
    chunked, alone = ((tmp_path / n / "customers.csv").read_bytes() for n in ("a", "one"))
    assert chunked != alone  # chunks 1 and 2 draw from streams of their own


def test_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "export"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="not an empty folder"):
        generate_sample(target, customers=50)
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # nothing half-written


def test_fills_an_empty_folder_and_refuses_bad_arguments(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    generate_sample(tmp_path / "empty", customers=50)
    assert (tmp_path / "empty" / "planted.json").is_file()
    with pytest.raises(UsageError):
        generate_sample(tmp_path / "x", customers=50, fmt="xlsx")
    with pytest.raises(UsageError):
        generate_sample(tmp_path / "y", customers=50, period="2026-13")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_parquet_export_has_the_contract_types(tmp_path: Path) -> None:
    generate_sample(tmp_path / "pq", customers=300, seed=5, fmt="parquet")
    generate_sample(tmp_path / "csv", customers=300, seed=5)
    pq, csv = load(tmp_path / "pq", "parquet"), load(tmp_path / "csv")
    for table in TABLES:
        types = dict(pq.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table.name})").fetchall())
        assert list(types) == [c.name for c in table.columns]
        for column in table.columns:
            want = DESCRIBED.get(column.kind, "VARCHAR")
            assert types[column.name] == want, (table.name, column.name)
        query = f"SELECT * FROM {table.name} ORDER BY {table.key}"
        assert pq.execute(query).fetchall() == csv.execute(query).fetchall(), table.name
