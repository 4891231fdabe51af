"""The record of processing activities (Art. 30): observed from the snapshot, reconciled with a declared one."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
import yaml

from audit_lib.cli import app
from audit_lib.controls.registry import ROPA_DIR, load_controls
from audit_lib.figures import Analytics
from audit_lib.periods import Period

from builders import make_snapshot

Q3 = ("2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z")
ROWS = {
    "customers": [
        {"customer_id": "C1", "country": "DE", "birth_date": "1990-05-05"},
        {"customer_id": "C2", "deactivated_at": "2025-01-01T00:00:00Z"},
        {"customer_id": "C3", "country": "FR", "birth_date": "2020-01-01"},  # a child at as_of
    ],
    "personal_data": [
        {"item_id": "I1", "customer_id": "C1", "category": "email", "purpose": "registration",
         "received_at": "2010-01-01T00:00:00Z"},  # past the 10-year cap
        {"item_id": "I2", "customer_id": "C1", "category": "name", "purpose": "registration",
         "received_at": "2020-01-01T00:00:00Z", "encrypted": False},
        {"item_id": "I3", "customer_id": "C2", "category": "email", "purpose": "marketing_analytics",
         "system": "analytics-wh", "system_kind": "analytics", "received_at": "2024-01-01T00:00:00Z"},
        {"item_id": "I4", "customer_id": "C3", "category": "name", "purpose": "registration",
         "system": "web-app", "received_at": "2026-01-01T00:00:00Z"},
        {"item_id": "I5", "customer_id": "C1", "category": "phone", "purpose": "registration",
         "received_at": "2026-11-01T00:00:00Z"},  # after as_of: in no record
    ],
    "parties": [
        {"party_id": "P1", "country": "DE", "transfer_safeguard": "adequacy"},
        {"party_id": "P2", "kind": "partner", "country": "US", "transfer_safeguard": "scc"},
        {"party_id": "P3", "country": "IN", "transfer_safeguard": "none"},
    ],
    "disclosures": [
        {"disclosure_id": "X1", "party_id": "P1", "customer_id": "C1", "category": "email"},
        {"disclosure_id": "X2", "party_id": "P2", "customer_id": "C2", "category": "email",
         "encrypted_in_transit": False},
        {"disclosure_id": "X3", "party_id": "P3", "customer_id": "C1", "category": "name"},
        {"disclosure_id": "X4", "party_id": "P1", "customer_id": "C1", "category": "phone"},  # I5 is later
        {"disclosure_id": "X5", "party_id": "P2", "customer_id": "C1", "category": "email",
         "disclosed_at": "2026-05-01T00:00:00Z"},  # before the period
        {"disclosure_id": "X6", "party_id": "P1", "customer_id": None, "category": "email",
         "purpose": "aggregate", "anonymized": True},  # aggregate: no activity
    ],
}  # fmt: skip

#: (purpose, element, value, name, kind, country, safeguard, items, customers, disclosures, share), by hand.
EXPECTED = {
    ("registration", "purpose", "registration", None, None, None, None, 3, 2, None, None),
    ("registration", "data_subjects", "active", None, None, None, None, 3, 2, None, None),
    ("registration", "data_subjects", "children", None, None, None, None, 1, 1, None, None),
    ("registration", "category", "email", None, None, None, None, 1, 1, None, None),
    ("registration", "category", "name", None, None, None, None, 2, 2, None, None),
    ("registration", "system", "crm", None, "application", None, None, 2, 1, None, None),
    ("registration", "system", "web-app", None, "application", None, None, 1, 1, None, None),
    ("registration", "recipient", "P1", "Party P1", "sub_processor", "DE", "not needed (EEA)", None, 1, 1, None),
    ("registration", "recipient", "P3", "Party P3", "sub_processor", "IN", "none", None, 1, 1, None),
    ("registration", "recipient_kind", "sub_processor", None, None, None, None, None, 1, 2, None),
    ("registration", "third_country", "IN", "P3", None, "IN", "none", None, 1, 1, None),
    ("registration", "oldest_item", "2010-01-01T00:00:00Z", "16 years old at as_of", None, None, None, 3, 2,
     None, None),
    ("registration", "past_cap", "10 years", "RET-01 rule, before exemptions", None, None, None, 1, 1, None,
     0.3333),
    ("registration", "encrypted_at_rest", "items encrypted at rest", None, None, None, None, 2, None, None,
     0.6667),
    ("registration", "encrypted_in_transit", "disclosures encrypted in transit", None, None, None, None, None,
     None, 2, 1.0),
    ("marketing_analytics", "purpose", "marketing_analytics", None, None, None, None, 1, 1, None, None),
    ("marketing_analytics", "data_subjects", "deactivated", None, None, None, None, 1, 1, None, None),
    ("marketing_analytics", "category", "email", None, None, None, None, 1, 1, None, None),
    ("marketing_analytics", "system", "analytics-wh", None, "analytics", None, None, 1, 1, None, None),
    ("marketing_analytics", "recipient", "P2", "Party P2", "partner", "US", "scc", None, 1, 1, None),
    ("marketing_analytics", "recipient_kind", "partner", None, None, None, None, None, 1, 1, None),
    ("marketing_analytics", "third_country", "US", "P2", None, "US", "scc", None, 1, 1, None),
    ("marketing_analytics", "oldest_item", "2024-01-01T00:00:00Z", "2 years old at as_of", None, None, None, 1,
     1, None, None),
    ("marketing_analytics", "past_cap", "10 years", "RET-01 rule, before exemptions", None, None, None, 0, 0,
     None, 0.0),
    ("marketing_analytics", "encrypted_at_rest", "items encrypted at rest", None, None, None, None, 1, None,
     None, 1.0),
    ("marketing_analytics", "encrypted_in_transit", "disclosures encrypted in transit", None, None, None, None,
     None, None, 0, 0.0),
}  # fmt: skip

DECLARED = {
    "controller": {"name": "Example Cloud Ltd", "contact": "privacy@example.com", "dpo": "dpo@example.com"},
    "activities": [
        {"purpose": "registration", "categories": ["name"],  # email undeclared
         "recipients": [{"kind": "sub_processor"}, {"party": "P3", "safeguard": "scc"}],  # P3 records none
         "third_countries": [],  # IN undeclared
         "retention_years": 10},  # I1 is older
        {"purpose": "marketing_analytics", "categories": ["email"],
         "recipients": [{"party": "P1", "safeguard": "adequacy"},  # recorded: fine
                        {"party": "P9", "safeguard": "scc"}],  # no such party
         "third_countries": ["US"], "retention_years": 5},  # P2 (partner) undeclared
    ],
}  # fmt: skip
#: Per ROPA control: (population, violations).
DISCREPANCIES = {
    "ROPA-01": (3, ["registration/email"]),
    "ROPA-02": (3, ["marketing_analytics/P2"]),
    "ROPA-03": (2, ["registration/IN"]),
    "ROPA-04": (2, ["registration"]),
    "ROPA-05": (3, ["marketing_analytics/P9", "registration/P3"]),
}
STANDARD = [c.id for c in load_controls()]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("ropa"), ROWS)


def declared_file(folder: Path, data: object = DECLARED, name: str = "ropa.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def run(cli, snapshot: Path, out: Path, *args: str):
    return cli.invoke(
        app, ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(out),
              "--no-notebooks", *args],
    )  # fmt: skip


def _row(r: dict) -> tuple:
    share = None if r["share"] is None else round(r["share"], 4)
    keys = ("purpose", "element", "value", "name", "kind", "country", "safeguard", "items", "customers")
    return (*(r[k] for k in keys), r["disclosures"], share)


def test_observed_ropa_on_hand_built_rows(snapshot: Path) -> None:
    with Analytics.open(snapshot, Period.parse("2026-Q3")) as analytics:
        frame = analytics.ropa()
    rows = [_row(r) for r in frame.iter_rows(named=True)]
    assert len(rows) == len(set(rows))
    assert set(rows) == EXPECTED
    articles = dict(zip(frame["element"], frame["article"], strict=False))
    assert articles["recipient"] == "30(1)(d)" and articles["third_country"] == "30(1)(e)"
    assert articles["past_cap"] == "30(1)(f)" and articles["encrypted_at_rest"] == "30(1)(g)"


def test_observed_ropa_on_the_sample_matches_plain_sql(sample_snapshot: Path) -> None:
    with Analytics.open(sample_snapshot, Period.parse("2026-Q3")) as analytics:
        frame = analytics.ropa()
    got = {(r["purpose"], r["element"], r["value"]): r for r in frame.iter_rows(named=True)}
    with duckdb.connect(str(sample_snapshot), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        items = con.execute(
            "SELECT purpose::VARCHAR, count(*), count(DISTINCT customer_id), avg(encrypted::INT) "
            "FROM personal_data WHERE received_at < ?::TIMESTAMPTZ GROUP BY 1",
            [Q3[1]],
        ).fetchall()
        # recipients of service_delivery: disclosures in Q3 with an item of the same customer and category
        recipients = con.execute(
            "SELECT d.party_id, count(DISTINCT d.disclosure_id) FROM disclosures d "
            "WHERE d.disclosed_at >= ?::TIMESTAMPTZ AND d.disclosed_at < ?::TIMESTAMPTZ AND EXISTS ("
            "  SELECT 1 FROM personal_data p WHERE p.customer_id = d.customer_id AND p.category = d.category"
            "  AND p.purpose = 'service_delivery' AND p.received_at < ?::TIMESTAMPTZ) GROUP BY 1",
            [*Q3, Q3[1]],
        ).fetchall()
        cancelled = con.execute(
            "SELECT count(DISTINCT p.customer_id) FROM personal_data p JOIN customers c USING (customer_id) "
            "WHERE p.purpose = 'legal_compliance' AND c.account_status = 'cancelled' "
            "AND p.received_at < ?::TIMESTAMPTZ", [Q3[1]]
        ).fetchone()[0]  # fmt: skip
    assert len(items) == 6
    for purpose, n, customers, encrypted in items:
        assert (got[(purpose, "purpose", purpose)]["items"], got[(purpose, "purpose", purpose)]["customers"]) == (
            n, customers,
        )  # fmt: skip
        assert got[(purpose, "encrypted_at_rest", "items encrypted at rest")]["share"] == pytest.approx(
            encrypted
        )
    assert recipients
    for party, n in recipients:
        assert got[("service_delivery", "recipient", party)]["disclosures"] == n
    observed = {k[2] for k in got if k[:2] == ("service_delivery", "recipient")}
    assert observed == {party for party, _ in recipients}
    assert got[("legal_compliance", "data_subjects", "cancelled")]["customers"] == cancelled


def test_without_ropa_findings_are_as_before_and_ropa_csv_is_written(
    cli, snapshot: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    result = run(cli, snapshot, out)
    assert result.exit_code == 0, result.output
    findings = json.loads((out / "findings.json").read_text())
    assert [c["id"] for c in findings["controls"]] == STANDARD
    assert not list((out / "evidence").glob("ROPA-*")) and not (out / "ropa-declared.yaml").exists()
    with (out / "ropa.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["value"] for r in rows[:4]] == ["not given"] * 4 and rows[0]["article"] == "30(1)(a)"
    assert {(r["purpose"], r["element"], r["value"]) for r in rows[4:]} == {e[:3] for e in EXPECTED}
    assert "ropa.csv" in json.loads((out / "manifest.json").read_text())["files"]


def test_every_discrepancy_kind_is_a_finding(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run(cli, snapshot, out, "--ropa", str(declared_file(tmp_path)))
    assert result.exit_code == 0, result.output
    findings = json.loads((out / "findings.json").read_text())
    ids = [c["id"] for c in findings["controls"]]
    assert ids == STANDARD + [c.id for c in load_controls(ROPA_DIR)] == STANDARD + list(DISCREPANCIES)
    by_id = {c["id"]: c for c in findings["controls"]}
    for cid, (population, violations) in DISCREPANCIES.items():
        summary = by_id[cid]
        assert (summary["clause"], summary["status"]) == ("Art. 30", "fail")
        assert (summary["population"], summary["violations"], summary["exceptions"]) == (
            population, len(violations), 0,
        )  # fmt: skip
        with (out / "evidence" / f"{cid}.csv").open(newline="") as fh:
            assert list(csv.reader(fh)) == [
                ["key", "outcome", "reason"],
                *([k, "violation", ""] for k in violations),
            ]
    with (out / "evidence" / "ROPA-05.details.csv").open(newline="") as fh:
        details = {r["key"]: r for r in csv.DictReader(fh)}
    assert details["registration/P3"]["recorded_safeguard"] == "none"
    assert details["marketing_analytics/P9"]["recorded_safeguard"] == "unknown party"
    with (out / "evidence" / "ROPA-04.details.csv").open(newline="") as fh:
        (retention,) = csv.DictReader(fh)
    assert (retention["declared_years"], retention["items_beyond"]) == ("10", "1")
    assert (out / "ropa-declared.yaml").read_bytes() == declared_file(tmp_path).read_bytes()
    with (out / "ropa.csv").open(newline="") as fh:
        controller = [r for r in csv.DictReader(fh) if r["article"] == "30(1)(a)"]
    assert [r["value"] for r in controller] == ["Example Cloud Ltd", "privacy@example.com", "dpo@example.com",
                                                "not given"]  # fmt: skip


def test_a_declaration_that_matches_passes(cli, snapshot: Path, tmp_path: Path) -> None:
    matching = {
        "activities": [
            {"purpose": "registration", "categories": ["email", "name"],
             "recipients": [{"party": "P1"}, {"party": "P3"}], "third_countries": ["IN"], "retention_years": 20},
            {"purpose": "marketing_analytics", "categories": ["email"],
             "recipients": [{"kind": "partner"}, {"party": "P2", "safeguard": "scc"}],
             "third_countries": ["US"]},
        ]
    }  # fmt: skip
    out = tmp_path / "report"
    assert run(cli, snapshot, out, "--ropa", str(declared_file(tmp_path, matching))).exit_code == 0
    controls = json.loads((out / "findings.json").read_text())["controls"][len(STANDARD) :]
    assert [(c["id"], c["status"], c["violations"]) for c in controls] == [
        (cid, "pass", 0) for cid in DISCREPANCIES
    ]
    assert controls[3]["population"] == 1  # retention judged only where declared


def entry(**fields: object) -> dict[str, object]:
    return {"purpose": "registration", "categories": ["name"], **fields}


BAD = {
    "not a mapping": ("- purpose: registration\n", "must be a YAML mapping"),
    "not YAML": ("activities: [\n", "not valid YAML at line"),
    "no activities": ({"controller": {"name": "X", "contact": "x@example.com"}}, "activities"),
    "unknown purpose": ({"activities": [entry(), entry(purpose="fun")]}, "activity 2 (fun): field purpose"),
    "unknown category": (
        {"activities": [entry(categories=["name", "shoe_size"])]},
        "activity 1 (registration): field categories.1",
    ),
    "missing categories": ({"activities": [{"purpose": "registration"}]}, "activity 1 (registration): field categories"),
    "safeguard on a kind": (
        {"activities": [entry(recipients=[{"kind": "partner", "safeguard": "scc"}])]},
        "activity 1 (registration): field recipients.0",
    ),
    "unknown safeguard": (
        {"activities": [entry(recipients=[{"party": "P1", "safeguard": "hope"}])]},
        "activity 1 (registration): field recipients.0.safeguard",
    ),
    "bad country": ({"activities": [entry(third_countries=["usa"])]}, "field third_countries.0"),
    "negative retention": ({"activities": [entry(retention_years=-1)]}, "field retention_years"),
    "unknown field": ({"activities": [entry(owner="me")]}, "activity 1 (registration): field owner"),
    "duplicate purpose": ({"activities": [entry(), entry()]}, "activity 2 (registration): field purpose: declared twice"),
    "controller without contact": (
        {"controller": {"name": "X"}, "activities": [entry()]}, "controller: field contact",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_declared_file_is_refused_before_anything_runs(
    cli, snapshot: Path, tmp_path: Path, case: str
) -> None:
    data, named = BAD[case]
    out = tmp_path / "report"
    result = run(cli, snapshot, out, "--ropa", str(declared_file(tmp_path, data)))
    assert result.exit_code == 2, result.output
    assert named in result.output and "RoPA file" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["ropa.yaml"]


def test_missing_declared_file(cli, snapshot: Path, tmp_path: Path) -> None:
    result = run(cli, snapshot, tmp_path / "report", "--ropa", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "nope.yaml" in result.output
    assert not (tmp_path / "report").exists()


@pytest.mark.slow
def test_report_has_the_ropa_section(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = cli.invoke(
        app, ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(out),
              "--ropa", str(declared_file(tmp_path))],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html[html.index("Record of processing activities") :]
    assert html.index("Sub-processor flows") < html.index("Record of processing activities")
    for text in (
        "Example Cloud Ltd",
        "Art. 30(1)(b)-(g)",
        "registration",
        "marketing_analytics",
        "Reconciliation with the declared record",
        "ROPA-05",
        "marketing_analytics/P9",
        "unknown party",
    ):
        assert text in section, text  # fmt: skip
    assert (out / "notebooks" / "ropa.ipynb").is_file()


@pytest.mark.parametrize(
    ("period", "params"),
    [("2026-Q3", {}), ("2026-Q1", {}), ("2025-Q4", {"min_age": 18, "retention_years": 3}),
     ("2026-Q2", {"min_age": 30, "retention_years": 1})],
)  # fmt: skip
def test_observed_ropa_equals_its_direct_formulation(
    sample_snapshot: Path, period: str, params: dict[str, object]
) -> None:
    """ropa.sql counts each grouping once; tests/ropa_direct.sql, one count(DISTINCT) per element:
    the same frame, to the bit."""
    frame, expected = _ropa_and_direct(sample_snapshot, period, params)
    assert frame.height > 50 and frame.schema == expected.schema
    assert frame.equals(expected)


def test_observed_ropa_counts_every_category_of_a_subject(tmp_path: Path) -> None:
    """A subject's categories are a bit mask in ropa.sql: every category of the contract's enum
    (the highest bit included), repeated items of one category, one customer in two activities,
    a disclosure of a category both activities process: as the direct formulation counts them."""
    from audit_lib.ingest.schema import CATEGORIES

    assert len(CATEGORIES) < 64  # the mask is a UBIGINT
    items = [
        {"item_id": f"I{purpose[:3]}{i}{copy}", "customer_id": f"C{CATEGORIES.index(category) % 3}",
         "category": category, "purpose": purpose, "received_at": "2024-01-01T00:00:00Z"}
        for purpose in ("registration", "marketing_analytics")
        for i, category in enumerate(CATEGORIES if purpose == "registration" else CATEGORIES[-3:])
        for copy in range(1 + i % 2)
    ]  # fmt: skip
    items += [  # one system of two kinds: two rows that only their kind orders
        {"item_id": f"S{kind}", "customer_id": "C0", "category": "email", "purpose": "registration",
         "system": "shared-store", "system_kind": kind, "received_at": "2024-01-01T00:00:00Z"}
        for kind in ("backup", "application")
    ]  # fmt: skip
    rows = {
        "customers": [{"customer_id": f"C{i}"} for i in range(3)],
        "personal_data": items,
        "parties": [{"party_id": "P1"}],
        "disclosures": [
            {"disclosure_id": f"X{i}", "party_id": "P1", "customer_id": item["customer_id"],
             "category": item["category"]}
            for i, item in enumerate(items[::4] + items[-1:])
        ],
    }  # fmt: skip
    frame, expected = _ropa_and_direct(make_snapshot(tmp_path, rows), "2026-Q3", {})
    assert frame.equals(expected)
    categories = frame.filter(frame["element"] == "category")
    assert set(categories["value"]) == set(CATEGORIES)
    assert frame.filter(frame["element"] == "recipient")["disclosures"].sum() > len(rows["disclosures"])
    shared = frame.filter(frame["value"] == "shared-store")
    assert shared["kind"].to_list() == ["application", "backup"]


def _ropa_and_direct(snapshot: Path, period: str, params: dict[str, object]) -> tuple[object, object]:
    """The observed RoPA by ropa.sql and by tests/ropa_direct.sql, on `snapshot` over `period`."""
    import re

    from audit_lib.figures import SQL_DIR

    direct = Path(__file__).with_name("ropa_direct.sql").read_text(encoding="utf-8")
    assert direct != (SQL_DIR / "ropa.sql").read_text(encoding="utf-8")
    direct = "\n".join(line for line in direct.splitlines() if not line.lstrip().startswith("--"))
    with Analytics.open(snapshot, Period.parse(period), params) as analytics:
        frame = analytics.ropa()
        values = analytics.bindings()
        names = set(re.findall(r"\$([a-z_]+)", direct))
        expected = analytics.con.sql(direct, params={k: v for k, v in values.items() if k in names}).pl()
    return frame, expected
