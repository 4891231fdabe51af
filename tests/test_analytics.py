"""The report's figures beyond violations, on tiny hand-built snapshots (as_of 2026-10-01)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from audit_lib.controls.evaluate import evaluate
from audit_lib.errors import UsageError
from audit_lib.figures import Analytics, tables
from audit_lib.figures.flow_layout import layout
from audit_lib.findings.quarterly import write_findings
from audit_lib.periods import Period
from audit_lib.report.audit_view import load_audit, read_view

from builders import make_snapshot

ROWS = {
    "customers": [
        {"customer_id": "C1", "country": "DE"},
        {"customer_id": "C9", "deactivated_at": "2025-09-01T00:00:00Z"},  # grace ends 2026-09-01
    ],
    "personal_data": [
        {"item_id": "I1", "customer_id": "C1", "received_at": "2026-04-01T00:00:00Z"},  # 0 years
        {"item_id": "I2", "customer_id": "C1", "received_at": "2025-10-01T00:00:00Z"},  # exactly 1
        {"item_id": "I3", "customer_id": "C1", "received_at": "2025-10-01T00:00:01Z"},  # 1 s short
        {"item_id": "I4", "customer_id": "C1", "received_at": "2016-09-30T23:59:59Z",
         "category": "card", "system": "tape", "system_kind": "archive"},  # past the cap
        {"item_id": "I5", "customer_id": "C1", "received_at": "2016-10-01T00:00:00Z",
         "category": "card", "system": "tape", "system_kind": "archive"},  # at the cap, not past
        {"item_id": "I6", "customer_id": "C1", "received_at": "2026-10-01T00:00:00Z"},  # after as_of
        {"item_id": "I7", "customer_id": "C9", "received_at": "2016-02-29T10:00:00Z",
         "system": "logs", "system_kind": "access_log"},  # 10 years on 2026-02-28
    ],
    "parties": [
        {"party_id": "P1", "name": "<script>alert(1)</script>", "country": "IN",
         "authorized_until": "2026-08-15", "transfer_safeguard": "none"},
        {"party_id": "P2", "kind": "affiliate", "country": "FR", "transfer_safeguard": None},
        {"party_id": "P3", "country": "DE"},
        {"party_id": "P4", "kind": "law_enforcement", "country": "US"},
    ],
    "disclosures": [
        {"disclosure_id": "X1", "party_id": "P1", "disclosed_at": "2026-08-14T23:59:59Z"},
        {"disclosure_id": "X2", "party_id": "P1", "disclosed_at": "2026-08-15T00:00:00Z"},
        {"disclosure_id": "X3", "party_id": "P2", "disclosed_at": "2026-07-01T00:00:00Z",
         "category": "email"},
        {"disclosure_id": "X4", "party_id": "P3", "disclosed_at": "2026-09-30T23:59:59Z",
         "purpose": "aggregate", "customer_id": None, "anonymized": True},
        {"disclosure_id": "X5", "party_id": "P4", "disclosed_at": "2026-08-01T00:00:00Z",
         "purpose": "legal_requirement"},
        {"disclosure_id": "X6", "party_id": "P3", "disclosed_at": "2026-06-30T23:59:59Z"},  # Q2
        {"disclosure_id": "X7", "party_id": "P4", "disclosed_at": "2026-04-01T00:00:00Z",
         "purpose": "legal_requirement"},  # Q2
        {"disclosure_id": "X8", "party_id": "P3", "disclosed_at": "2026-03-31T23:59:59Z"},  # Q1
        {"disclosure_id": "X9", "party_id": "P3", "disclosed_at": "2026-10-01T00:00:00Z"},  # Q4
    ],
    "dsr_requests": [
        {"request_id": "R1", "received_at": "2026-07-01T00:00:00Z", "completed_at": "2026-07-02T00:00:00Z"},
        {"request_id": "R2", "received_at": "2026-07-01T00:00:00Z", "completed_at": "2026-07-03T00:00:00Z"},
        {"request_id": "R3", "received_at": "2026-07-01T00:00:00Z", "completed_at": "2026-07-04T00:00:00Z"},
        {"request_id": "R4", "received_at": "2026-07-01T00:00:00Z", "completed_at": "2026-07-05T00:00:00Z"},
        {"request_id": "R5", "received_at": "2026-07-01T00:00:00Z", "completed_at": "2026-07-11T00:00:00Z"},
        {"request_id": "R6", "received_at": "2026-09-20T00:00:00Z"},  # open, 19 days left
        {"request_id": "R7", "received_at": "2026-08-01T12:00:00Z"},  # overdue by 30.5 days
        {"request_id": "R8", "received_at": "2026-05-01T00:00:00Z",
         "completed_at": "2026-06-30T00:00:00Z"},  # closed before the period: not judged
        {"request_id": "R9", "kind": "deletion", "received_at": "2026-09-30T00:00:00Z",
         "completed_at": "2026-10-02T00:00:00Z"},  # answered after as_of: open at as_of
    ],
    "disputes": [
        {"dispute_id": "D1", "received_at": "2026-08-01T00:00:00Z", "responded_at": "2026-09-15T00:00:00Z"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("analytics"), ROWS, taken_at="2026-10-08T00:00:00Z")


@pytest.fixture(scope="module")
def an(snapshot: Path):
    with Analytics.open(snapshot, "2026-Q3", "{}") as analytics:
        yield analytics


def as_dict(frame: pl.DataFrame, key: str, value: str) -> dict:
    return dict(zip(frame[key], frame[value], strict=True))


def test_age_buckets_are_whole_calendar_years(an: Analytics) -> None:
    ages = an.retention_ages()
    assert as_dict(tables.ages_by(ages), "age_years", "items") == {0: 2, 1: 1, 10: 3}  # I6 is no state item
    crm = tables.ages_by(ages.filter(pl.col("system") == "crm"), "system")
    assert as_dict(crm, "age_years", "items") == {0: 2, 1: 1}  # I1 and I3 (1 s short), I2
    assert as_dict(tables.retention_summary(ages, "category"), "category", "items") == {"card": 2, "name": 4}


def test_items_past_the_cap_and_past_the_grace(an: Analytics) -> None:
    summary = tables.retention_summary(an.retention_ages(), "system", "system_kind")
    rows = {r["system"]: r for r in summary.to_dicts()}
    assert (rows["tape"]["items"], rows["tape"]["past_cap"], rows["tape"]["oldest_years"]) == (2, 1, 10)
    assert (rows["logs"]["past_cap"], rows["logs"]["past_grace"]) == (1, 1)  # 29 Feb + 10 years
    assert rows["crm"]["past_grace"] == 0
    table = tables.retention_table(an.retention_ages(), "category")
    assert table.row(-1, named=True) | {"oldest_years": None} == {
        "category": "total", "items": 6, "oldest_years": None, "past_cap": 2, "past_grace": 1,
    }  # fmt: skip


def test_age_matrix_fills_missing_years(an: Analytics) -> None:
    matrix = tables.age_matrix(an.retention_ages(), "category")
    assert matrix.columns == ["category", *[str(n) for n in range(11)]]
    card = matrix.filter(pl.col("category") == "card").row(0)
    assert card == ("card", *[0] * 10, 2)


def test_disclosures_this_and_previous_quarter(an: Analytics) -> None:
    disclosures = an.disclosures()
    assert set(disclosures["quarter"]) == {"2026-Q3", "2026-Q2"}
    by_purpose = an.compare_disclosures(disclosures, "purpose").to_dicts()
    assert by_purpose == [
        {"purpose": "aggregate", "2026-Q2": 0, "2026-Q3": 1, "change": 1},
        {"purpose": "legal_requirement", "2026-Q2": 1, "2026-Q3": 1, "change": 0},
        {"purpose": "render_services", "2026-Q2": 1, "2026-Q3": 3, "change": 2},
    ]
    by_kind = as_dict(an.compare_disclosures(disclosures, "party_kind"), "party_kind", "2026-Q3")
    assert by_kind == {"affiliate": 1, "law_enforcement": 1, "sub_processor": 3}


def test_ad_hoc_period_has_no_previous_quarter(snapshot: Path) -> None:
    with Analytics.open(snapshot, "until 2026-10-01T00:00:00Z") as an:
        disclosures = an.disclosures()
        assert set(disclosures["quarter"]) == {"until 2026-10-01T00:00:00Z"}
        assert disclosures["disclosures"].sum() == 8  # every disclosure before as_of
        assert an.context()["previous"] == "no previous quarter"


def test_flows_authorization_at_the_time_and_safeguards(an: Analytics) -> None:
    flows = an.flows()
    parties = {r["party_id"]: r for r in tables.parties(flows).to_dicts()}
    assert set(parties) == {"P1", "P2", "P3"}  # P4 is no sub-processor and renders no service
    p1 = parties["P1"]
    assert (p1["disclosures"], p1["authorized"], p1["unauthorized"]) == (2, 1, 1)  # until day excluded
    assert (p1["party"], p1["in_eea"], p1["safeguard"]) == ("<script>alert(1)</script>", False, "none")
    p2 = parties["P2"]
    assert (p2["authorized"], p2["unauthorized"], p2["safeguard"], p2["in_eea"]) == (
        0,
        1,
        "not needed (EEA)",
        True,
    )  # issue 12: inside the EEA none is needed
    assert (parties["P3"]["authorized"], parties["P3"]["categories"]) == (1, 1)


def test_flow_layout_conserves_volumes(an: Analytics) -> None:
    nodes, bands = layout(an.flows())
    totals = nodes.group_by("column").agg(pl.col("value").sum()).sort("column")
    assert totals["value"].to_list() == [4, 4, 4]
    assert set(bands["status"]) == {"authorized", "not authorized", "no safeguard", "within the EEA"}
    widths = bands.group_by("band").agg((pl.col("y1") - pl.col("y0")).first().alias("width"))
    assert widths["width"].sum() == 8  # four disclosures, each drawn once per hop


def test_response_time_percentiles(an: Analytics) -> None:
    times = {r["kind"]: r for r in an.response_times().to_dicts()}
    access = times["access"]
    assert (access["items"], access["answered"]) == (7, 5)  # R1-R7; R8 closed before the period
    assert (access["median_days"], access["max_days"]) == (3.0, 10.0)
    assert access["p90_days"] == pytest.approx(7.6)  # linear: 4 + 0.6 * (10 - 4)
    assert (access["open_at_as_of"], access["overdue_at_as_of"]) == (2, 1)
    assert times["deletion"]["open_at_as_of"] == 1  # answered only after as_of
    complaint = times["complaint"]
    assert (complaint["source"], complaint["median_days"], complaint["answered_late"]) == (
        "complaint",
        45.0,
        1,
    )


def test_open_items_deadlines_and_days_left(an: Analytics) -> None:
    items = an.open_items()
    assert tables.total_open(items) == 3
    rows = [(r["key"], r["days_left"], r["status"]) for r in tables.open_table(items).to_dicts()]
    assert rows == [("R7", -31, "overdue"), ("R6", 19, "open"), ("R9", 29, "open")]
    assert tables.total_open(an.open_items(limit=1)) == 3


def test_response_histogram_bins(an: Analytics) -> None:
    histogram = an.response_histogram(bin_days=5).filter(pl.col("kind") == "access")
    assert as_dict(histogram, "days_from", "items") == {0: 4, 10: 1}


def test_exceptions_register_from_findings_and_from_evidence(snapshot: Path, tmp_path: Path) -> None:
    evaluated = load_audit(snapshot, "2026-Q3")
    register = evaluated.exceptions_register()
    claimed = register.filter(pl.col("exceptions") > 0).select(
        "control", "reason", "exceptions", "first keys"
    )
    assert claimed.rows() == [("RET-01", "access_log", 1, "I7"), ("RET-02", "access_log", 1, "I7")]
    assert len(register) == 8  # every declared exemption, claimed or not
    write_findings(evaluate(snapshot, Period.quarter("2026-Q3")), tmp_path)
    read = read_view(tmp_path / "findings.json", Period.quarter("2026-Q3"), snapshot)
    assert read.exceptions_register().equals(register)
    assert read.scorecard().equals(evaluated.scorecard())
    by_reason = tables.exceptions_by_reason(register).rows()
    assert by_reason == [("access_log", 2, "RET-01, RET-02")]


def test_findings_of_another_period_are_refused(snapshot: Path, tmp_path: Path) -> None:
    write_findings(evaluate(snapshot, Period.quarter("2026-Q2")), tmp_path)
    with pytest.raises(UsageError, match="2026-Q2"):
        load_audit(snapshot, "2026-Q3", "{}", tmp_path / "findings.json")


def test_compare_findings_with_previous_report(snapshot: Path, tmp_path: Path) -> None:
    audit = load_audit(snapshot, "2026-Q3", json.dumps({"grace_days": 180}))
    assert audit.parameters["grace_days"] == 180
    assert audit.compare("") is None
    write_findings(evaluate(snapshot, Period.quarter("2026-Q2")), tmp_path)
    compared = audit.compare(tmp_path / "findings.json")
    assert compared["id"].to_list() == [c["id"] for c in audit.controls]
    shr01 = compared.filter(pl.col("id") == "SHR-01").row(0, named=True)
    assert (shr01["violations before"], shr01["violations"]) == (0, 2)  # X2 unlisted, X3 an affiliate


# The plain per-item definition the grouped query must reproduce exactly.
ORACLE = """
SELECT category::VARCHAR AS category, system, system_kind::VARCHAR AS system_kind,
       (SELECT max(n) FROM range(0, 200) AS t(n) WHERE received_at + to_years(n::INTEGER) <= $as_of)
           AS age_years,
       count(*) AS items,
       count(*) FILTER (WHERE received_at + to_years($retention_years) < $as_of) AS past_cap
FROM personal_data
WHERE received_at < $as_of
GROUP BY ALL
ORDER BY ALL
"""

EDGES = [
    "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2016-02-28T10:00:00Z", "2016-02-29T09:59:59Z",
    "2016-02-29T10:00:00Z", "2016-02-29T10:00:01Z", "2016-03-01T00:00:00Z", "2017-02-28T10:00:00Z",
    "2018-02-28T23:59:59Z", "2018-03-01T00:00:00Z", "2020-02-29T00:00:00Z", "2024-02-29T12:00:00Z",
    "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z", "2026-02-28T09:59:59Z", "2026-02-28T10:00:00Z",
]  # fmt: skip


@pytest.mark.parametrize(
    "as_of",
    ["2026-02-28T10:00:00Z", "2026-03-01T00:00:00Z", "2028-02-29T12:00:00Z", "2026-01-01T00:00:00Z"],
)
def test_grouped_ages_equal_per_item_calendar_arithmetic(tmp_path: Path, as_of: str) -> None:
    items = [{"item_id": f"I{n}", "received_at": ts} for n, ts in enumerate(EDGES)]
    snapshot = make_snapshot(tmp_path, {"personal_data": items}, taken_at="2030-01-01T00:00:00Z")
    with Analytics.open(snapshot, f"until {as_of}") as an:
        grouped = an.retention_ages().drop("past_grace").sort("category", "system", "age_years")
        bindings = {"as_of": an.period.as_of, "retention_years": 10}
        expected = an.con.sql(ORACLE, params=bindings).pl()
    assert grouped.to_dicts() == expected.to_dicts()
    assert 0 < grouped["past_cap"].sum() < grouped["items"].sum()  # the edges straddle the cap


def test_a_period_without_data_gives_empty_figures_that_still_render(snapshot: Path) -> None:
    import vl_convert as vlc

    from audit_lib.figures import charts

    with Analytics.open(snapshot, "1990-Q1") as an:
        ages, flows, times = an.retention_ages(), an.flows(), an.response_times()
        assert ages.is_empty() and flows.is_empty() and times.is_empty()
        assert tables.total_open(an.open_items()) == 0
        figures = [
            charts.age_by_category(tables.ages_by(ages, "category"), 10),
            charts.age_by_system(tables.ages_by(ages, "system", "system_kind")),
            charts.quarters(tables.quarter_counts(an.disclosures(), "purpose"), "purpose", "t"),
            charts.flows(flows),
            charts.response_times(times, 30),
            charts.response_histogram(an.response_histogram(), 5, 30),
        ]
    assert tables.age_matrix(ages, "category").columns == ["category"]
    for figure in figures:
        assert vlc.vegalite_to_svg(figure.to_dict()).startswith("<svg")
