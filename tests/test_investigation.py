"""`privacy-audit investigate`: verdicts, deadline arithmetic, masking, errors, the folder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from audit_lib.cli import app
from audit_lib.controls.evaluate import evaluate
from audit_lib.controls.registry import load_controls
from audit_lib.controls.vocabulary import install_macros
from audit_lib.errors import NotFoundError, SnapshotError
from audit_lib.findings.investigation import investigate
from audit_lib.findings.masking import mask
from audit_lib.ingest.schema import TABLES
from audit_lib.ingest.snapshot import open_snapshot
from audit_lib.periods import Period
from audit_lib.report.render import external_references

from builders import make_snapshot

AS_OF = "2026-10-08T00:00:00Z"
SCRIPT = "<script>alert(1)</script>"
TOPIC = f"{SCRIPT} why <b>still</b> kept?"
REFUSAL = "manifestly unfounded, says Ms Example"
CONTROL_IDS = [c.id for c in load_controls()]

# Four customers whose records break or are exempt from most controls, mixed
# with records of nobody (aggregate disclosure, anonymous tracking, a
# complaint from a non-customer) that must never reach anyone's verdicts.
ROWS = {
    "customers": [
        {"customer_id": "C1", "country": "DE", "birth_date": "1980-05-01"},
        {"customer_id": "C2", "country": "FR", "account_status": "cancelled",
         "deactivated_at": "2020-01-01T00:00:00Z"},
        {"customer_id": "C3", "country": "US", "birth_date": "2020-01-01"},
        {"customer_id": "C4", "country": "DE", "account_status": "deactivated",
         "deactivated_at": "2020-01-01T00:00:00Z"},
    ],
    "personal_data": [
        {"item_id": "I1-old", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z"},
        {"item_id": "I1-log", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z",
         "system_kind": "access_log"},
        {"item_id": "I1-card", "customer_id": "C1", "category": "card", "encrypted": False},
        {"item_id": "I1-new", "customer_id": "C1", "received_at": "2026-10-09T00:00:00Z"},
        {"item_id": "I2-a", "customer_id": "C2", "received_at": "2019-01-01T00:00:00Z"},
        {"item_id": "I2-legal", "customer_id": "C2", "received_at": "2019-01-01T00:00:00Z",
         "purpose": "legal_compliance"},
        {"item_id": "I3-a", "customer_id": "C3", "received_at": "2026-01-01T00:00:00Z"},
        {"item_id": "I4-old", "customer_id": "C4", "received_at": "2012-01-01T00:00:00Z"},
    ],
    "parties": [
        {"party_id": "P-us", "name": SCRIPT, "country": "US", "transfer_safeguard": "none"},
        {"party_id": "P-rogue", "kind": "partner", "dpa_signed_at": None},
    ],
    "disclosures": [
        {"disclosure_id": "X1-us", "party_id": "P-us", "customer_id": "C1"},
        {"disclosure_id": "X1-sold", "customer_id": "C1", "purpose": "marketing"},
        {"disclosure_id": "X1-police", "customer_id": "C1", "purpose": "legal_requirement"},
        {"disclosure_id": "X1-plain", "customer_id": "C1", "encrypted_in_transit": False},
        {"disclosure_id": "X2-rogue", "party_id": "P-rogue", "customer_id": "C2"},
        {"disclosure_id": "X3-move", "customer_id": "C3", "purpose": "business_transition"},
        {"disclosure_id": "X3-agg", "customer_id": "C3", "purpose": "aggregate", "anonymized": True},
        {"disclosure_id": "X-agg", "customer_id": None, "purpose": "aggregate"},
    ],
    "consents": [
        {"consent_id": "K1-out", "customer_id": "C1", "kind": "marketing_opt_out",
         "given_at": "2026-01-01T00:00:00Z"},
        {"consent_id": "K3-limit", "customer_id": "C3", "kind": "limit_sharing"},
    ],
    "communications": [
        {"message_id": "M1-news", "customer_id": "C1", "kind": "newsletter"},
        {"message_id": "M2-promo", "customer_id": "C2", "kind": "promotion"},
    ],
    "dsr_requests": [
        {"request_id": "R1-late", "customer_id": "C1", "received_at": "2026-07-01T00:00:00Z",
         "completed_at": "2026-09-01T00:00:00Z", "outcome": "refused", "refusal_reason": REFUSAL},
        {"request_id": "R2-erase", "customer_id": "C2", "kind": "deletion",
         "received_at": "2025-01-01T00:00:00Z", "completed_at": "2025-01-10T00:00:00Z"},
    ],
    "disputes": [
        {"dispute_id": "D1", "customer_id": "C1", "received_at": "2026-09-20T12:00:00Z", "topic": TOPIC},
        {"dispute_id": "D2", "customer_id": "C2", "received_at": "2026-01-01T00:00:00Z"},
        {"dispute_id": "D0", "customer_id": None, "received_at": "2026-08-01T00:00:00Z",
         "topic": "not a customer"},
    ],
    "legal_holds": [
        {"hold_id": "H4-fraud", "customer_id": "C4", "reason": "fraud"},
    ],
    "tracking_events": [
        {"event_id": "E1-dnt", "customer_id": "C1", "dnt": True, "tracker_kind": "analytics"},
        {"event_id": "E-anon", "customer_id": None, "dnt": True, "tracker_kind": "advertising"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("investigation"), ROWS, taken_at=AS_OF)


def owners(snapshot: Path) -> dict[str, dict[str, str | None]]:
    """Key column -> {key: customer_id}, read straight from the tables."""
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return {
            t.key: dict(con.execute(f"SELECT {t.key}, customer_id FROM {t.name}").fetchall())
            for t in TABLES
            if "customer_id" in {c.name for c in t.columns}
        }
    finally:
        con.close()


def restricted(snapshot: Path, as_of: str, customer_id: str) -> dict[str, dict[str, list]]:
    """Whole-history verdicts of everyone, kept where the key belongs to `customer_id`."""
    owner = owners(snapshot)
    verdicts = {}
    for result in evaluate(snapshot, Period.until(as_of)).controls:
        mine = owner[result.control.key]
        verdicts[result.control.id] = {
            "violations": [k for k in result.violations if mine[k] == customer_id],
            "exceptions": [[k, r] for k, r in result.exceptions if mine[k] == customer_id],
        }
    return verdicts


# --- verdicts ---------------------------------------------------------------------


@pytest.mark.parametrize("customer", ["C1", "C2", "C3", "C4"])
def test_verdicts_equal_whole_history_restricted_to_the_customer(snapshot: Path, customer: str) -> None:
    document = investigate(snapshot, customer_id=customer)
    assert document["as_of"] == AS_OF  # the snapshot's taken_at
    assert list(document["controls"]) == CONTROL_IDS
    got = {cid: {k: v[k] for k in ("violations", "exceptions")} for cid, v in document["controls"].items()}
    assert got == restricted(snapshot, AS_OF, customer)


def test_the_sample_s_verdicts_equal_the_whole_snapshot_s_per_customer(sample_snapshot: Path) -> None:
    """Each customer judged alone (the snapshot's tables restricted to them first) is judged as in
    the whole snapshot: for the first customer breaking each control, and for a customer with none."""
    owner = owners(sample_snapshot)
    taken_at = investigate(sample_snapshot, customer_id="C0000001")["as_of"]
    whole = evaluate(sample_snapshot, Period.until(taken_at)).controls
    breaking = {
        owner[r.control.key][key]
        for r in whole
        for key in [*r.violations[:1], *(k for k, _ in r.exceptions[:1])]
        if owner[r.control.key][key] is not None
    }
    assert len(breaking) >= 10
    for customer in [*sorted(breaking), "C0000001"]:
        document = investigate(sample_snapshot, customer_id=customer)
        got = {c: {k: v[k] for k in ("violations", "exceptions")} for c, v in document["controls"].items()}
        assert got == restricted(sample_snapshot, taken_at, customer), customer


def test_the_fixture_exercises_every_control(snapshot: Path) -> None:
    touched = set()
    for customer in ("C1", "C2", "C3", "C4"):
        for cid, verdict in investigate(snapshot, customer_id=customer)["controls"].items():
            if verdict["violations"] or verdict["exceptions"]:
                touched.add(cid)
    assert touched == set(CONTROL_IDS)
    c1 = investigate(snapshot, customer_id="C1")["controls"]
    assert c1["RET-01"]["violations"] == ["I1-old"]
    assert c1["RET-01"]["exceptions"] == [["I1-log", "access_log"]]
    assert c1["XFR-01"]["violations"] == ["X1-us"] and c1["SHR-04"]["violations"] == []
    assert c1["TRK-01"]["violations"] == ["E1-dnt"]  # not E-anon, nobody's


def test_earlier_as_of_judges_less(snapshot: Path) -> None:
    as_of = "2026-08-15T00:00:00Z"
    document = investigate(snapshot, customer_id="C1", as_of=as_of)
    assert document["as_of"] == as_of
    got = {cid: {k: v[k] for k in ("violations", "exceptions")} for cid, v in document["controls"].items()}
    assert got == restricted(snapshot, as_of, "C1")


def test_dispute_and_customer_routes_agree(snapshot: Path) -> None:
    by_dispute = investigate(snapshot, dispute_id="D1")
    by_customer = investigate(snapshot, customer_id="C1")
    assert by_dispute["controls"] == by_customer["controls"]
    assert by_dispute["customer"] == by_customer["customer"]
    assert by_customer["dispute"] is None


def test_document_shape(snapshot: Path) -> None:
    document = investigate(snapshot, dispute_id="D1")
    assert document["format"] == "privacy-audit/investigation/1"
    assert set(document["snapshot"]) == {"id", "sha256", "taken_at"}
    assert document["dispute"] | {"topic": None} == {
        "id": "D1", "customer_id": "C1", "received_at": "2026-09-20T12:00:00Z", "responded_at": None,
        "resolved_at": None, "deadline": "2026-10-20T12:00:00Z", "status": "open", "days_left": 12,
        "topic": None,
    }  # fmt: skip
    assert {k: document["customer"][k] for k in ("id", "country", "account_status")} == {
        "id": "C1", "country": "DE", "account_status": "active",
    }  # fmt: skip
    timeline = document["timeline"]
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    assert {e["type"] for e in timeline} == {
        "item", "disclosure", "consent", "message", "request", "tracking", "complaint",
    }  # fmt: skip
    us = next(e for e in timeline if e["key"] == "X1-us")
    assert (us["party"], us["country"]) == (SCRIPT, "US")
    assert "I1-new" in {e["key"] for e in timeline}  # the whole snapshot, even after as_of
    json.dumps(document)  # JSON as it stands


def test_dispute_without_customer(snapshot: Path) -> None:
    document = investigate(snapshot, dispute_id="D0")
    assert document["customer"] is None
    assert list(document["controls"]) == list(CONTROL_IDS)  # every control, none judged
    assert {v["status"] for v in document["controls"].values()} == {"not judged"}
    assert document["timeline"] == [] and "no customer" in document["note"]
    assert (document["dispute"]["status"], document["dispute"]["days_left"]) == ("overdue", -38)


def test_unknown_dispute_or_customer(snapshot: Path) -> None:
    with pytest.raises(NotFoundError):
        investigate(snapshot, dispute_id="D-nope")
    with pytest.raises(NotFoundError):
        investigate(snapshot, customer_id="C-nope")


# --- deadlines --------------------------------------------------------------------

T = datetime(2026, 8, 31, 10, 0, 0, tzinfo=UTC)
SECOND, DAY = timedelta(seconds=1), timedelta(days=1)


@pytest.mark.parametrize(
    ("responded_at", "as_of", "expected"),
    [
        (T, T + 9 * DAY, ("met", None)),
        (T + SECOND, T + 9 * DAY, ("missed", None)),
        (T + 40 * DAY, T - 9 * DAY, ("missed", None)),  # late after as_of: still missed
        (None, T, ("open", 0)),
        (None, T - SECOND, ("open", 0)),
        (None, T + SECOND, ("overdue", -1)),
        (None, T + 1.5 * DAY, ("overdue", -2)),
        (None, T - 1.5 * DAY, ("open", 1)),
        (None, T - 3 * DAY, ("open", 3)),
    ],
)
def test_deadline_status(
    snapshot: Path, responded_at: datetime | None, as_of: datetime, expected: tuple
) -> None:
    assert deadline_status(snapshot, T, responded_at, as_of) == expected


def deadline_status(
    snapshot: Path, deadline: datetime, responded_at: datetime | None, as_of: datetime
) -> tuple:
    """The vocabulary's deadline_status and days_left for a complaint due at `deadline` (30 days)."""
    con = open_snapshot(snapshot)
    install_macros(con)
    bindings = {"received": deadline - 30 * DAY, "responded": responded_at, "as_of": as_of}
    status, days = con.execute(
        "SELECT deadline_status($received, 30, $responded, $as_of), days_left($received, 30, $as_of)",
        bindings,
    ).fetchone()
    return status, None if responded_at else days


DEADLINE_ROWS = {
    "disputes": [
        {"dispute_id": "D-met", "received_at": "2026-08-01T10:00:00Z", "responded_at": "2026-08-31T10:00:00Z"},
        {"dispute_id": "D-missed", "received_at": "2026-08-01T10:00:00Z",
         "responded_at": "2026-08-31T10:00:01Z"},
        {"dispute_id": "D-due-at-as-of", "received_at": "2026-09-08T00:00:00Z"},
        {"dispute_id": "D-overdue-1.5", "received_at": "2026-09-06T12:00:00Z"},
        {"dispute_id": "D-left-1.5", "received_at": "2026-09-09T12:00:00Z"},
    ],
}  # fmt: skip
DEADLINES = {
    "D-met": ("2026-08-31T10:00:00Z", "met", None),
    "D-missed": ("2026-08-31T10:00:00Z", "missed", None),
    "D-due-at-as-of": ("2026-10-08T00:00:00Z", "open", 0),
    "D-overdue-1.5": ("2026-10-06T12:00:00Z", "overdue", -2),
    "D-left-1.5": ("2026-10-09T12:00:00Z", "open", 1),
}


@pytest.fixture(scope="module")
def deadline_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("deadlines"), DEADLINE_ROWS, taken_at="2026-10-08T00:00:00Z")


@pytest.mark.parametrize("dispute_id", list(DEADLINES))
def test_deadline_boundaries_agree_with_dsp01(deadline_snapshot: Path, dispute_id: str) -> None:
    dispute = investigate(deadline_snapshot, dispute_id=dispute_id, as_of=AS_OF)["dispute"]
    assert (dispute["deadline"], dispute["status"], dispute["days_left"]) == DEADLINES[dispute_id]
    dsp01 = evaluate(deadline_snapshot, Period.until(AS_OF)).result("DSP-01")
    assert (dispute_id in dsp01.violations) == (dispute["status"] in ("missed", "overdue"))


def test_deadline_follows_response_days_over_a_leap_day(tmp_path: Path) -> None:
    rows = {"disputes": [{"dispute_id": "D-leap", "received_at": "2024-02-29T12:00:00Z"}]}
    snapshot = make_snapshot(tmp_path, rows, taken_at="2024-03-10T12:00:00Z")
    dispute = investigate(snapshot, dispute_id="D-leap", params={"response_days": "10"})["dispute"]
    assert (dispute["deadline"], dispute["status"], dispute["days_left"]) == (
        "2024-03-10T12:00:00Z",
        "open",
        0,
    )


# --- masking ----------------------------------------------------------------------


def test_mask() -> None:
    assert mask(None) is None
    assert mask("abc") == "\u2022\u2022\u2022\u2022 (3 chars)"


def test_masked_by_default(snapshot: Path) -> None:
    document = investigate(snapshot, dispute_id="D1")
    text = json.dumps(document, ensure_ascii=False)
    assert document["revealed"] is False
    for secret in ("why", "still", "1980-05-01", "unfounded"):
        assert secret not in text
    assert document["dispute"]["topic"] == mask(TOPIC)
    assert document["customer"]["birth_date"] == mask("1980-05-01")
    notes = {e["key"]: e["note"] for e in document["timeline"] if e["note"] is not None}
    assert notes == {"R1-late": mask(REFUSAL), "D1": mask(TOPIC)}
    assert "I1-card" in text and SCRIPT in text  # keys and party names are not personal values


def test_revealed_on_request(snapshot: Path) -> None:
    document = investigate(snapshot, dispute_id="D1", reveal=True)
    assert document["revealed"] is True
    assert document["dispute"]["topic"] == TOPIC
    assert document["customer"]["birth_date"] == "1980-05-01"
    assert {e["key"]: e["note"] for e in document["timeline"] if e["note"]} == {
        "R1-late": REFUSAL,
        "D1": TOPIC,
    }


# --- the command ------------------------------------------------------------------


def investigate_cli(cli, *args: str):
    return cli.invoke(app, ["investigate", *args])


@pytest.mark.parametrize(
    "args",
    [
        ["--dispute", "D-nope"],
        ["--customer", "C-nope"],
        ["--dispute", "D1", "--customer", "C1"],
        [],
        ["--dispute", "D1", "--as-of", "yesterday"],
        ["--dispute", "D1", "--param", "response_days=soon"],
    ],
)
def test_refusals_exit_2_and_write_nothing(cli, snapshot: Path, tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "inv"
    result = investigate_cli(cli, "--snapshot", str(snapshot), "--out", str(out), *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_bad_snapshot_exit_2_and_write_nothing(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    for path in (junk, tmp_path / "missing.duckdb"):
        result = investigate_cli(cli, "--snapshot", str(path), "--dispute", "D1")
        assert result.exit_code == 2 and "snapshot" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["junk.duckdb"]
    with pytest.raises(SnapshotError):
        investigate(junk, dispute_id="D1")


def test_non_empty_out_never_overwritten(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "inv"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = investigate_cli(cli, "--snapshot", str(snapshot), "--dispute", "D1", "--out", str(out))
    assert result.exit_code == 2
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.slow
def test_folder_masked(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "inv"
    result = investigate_cli(cli, "--snapshot", str(snapshot), "--dispute", "D1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "investigate.ipynb", "investigation.html", "investigation.json", "manifest.json",
    ]  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["investigate.ipynb", "investigation.html", "investigation.json"]
    written = json.loads((out / "investigation.json").read_text())
    fresh = investigate(snapshot, dispute_id="D1")
    assert {**written, "generated_at": None} == {**fresh, "generated_at": None}

    page = (out / "investigation.html").read_text(encoding="utf-8")
    assert external_references(page) == [] and "<script" not in page
    assert "load_document" not in page and "import " not in page  # no code cells
    order = [
        page.index(marker)
        for marker in (
            'id="investigate--Response-deadline"',
            "data:image/svg+xml",
            "<caption>Timeline</caption>",
            'id="investigate--Verdicts"',
        )
    ]
    assert order == sorted(order)
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the party, escaped
    for secret in ("still", "1980-05-01", "unfounded"):
        assert secret not in page
    assert "I1-old" in page and "Ten-year cap" in page and "§8" in page


@pytest.mark.slow
def test_folder_revealed_is_escaped(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "inv"
    result = investigate_cli(
        cli, "--snapshot", str(snapshot), "--dispute", "D1", "--reveal", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    page = (out / "investigation.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; why &lt;b&gt;still&lt;/b&gt; kept?" in page
    assert SCRIPT not in page and "<b>still</b>" not in page
    assert "1980-05-01" in page and "unfounded" in page


def test_dispute_without_customer_refused_with_its_deadline(
    cli, snapshot: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = investigate_cli(cli, "--snapshot", str(snapshot), "--dispute", "D0")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "D0 has no customer" in result.stderr and "response due" in result.stderr
    assert "overdue" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- any valid export: the generated sample ---------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from audit_lib.ingest.snapshot import build_snapshot
    from audit_lib.sample import generate_sample

    folder = tmp_path_factory.mktemp("generated")
    planted = generate_sample(folder / "export", customers=150, seed=11)
    build_snapshot(folder / "export", folder / "snapshot.duckdb")
    return folder / "snapshot.duckdb", planted


def test_every_dispute_of_a_generated_export(generated: tuple[Path, dict]) -> None:
    snapshot, planted = generated
    owner = owners(snapshot)
    con = duckdb.connect(str(snapshot), read_only=True)
    disputes = con.execute("SELECT dispute_id, customer_id FROM disputes ORDER BY 1").fetchall()
    (taken_at,) = con.execute("SELECT taken_at FROM snapshot_meta").fetchone()
    con.close()
    whole = evaluate(snapshot, Period.until(taken_at)).controls
    assert planted["investigation"]["dispute_id"] in {d for d, _ in disputes}
    for dispute_id, customer_id in disputes:
        document = investigate(snapshot, dispute_id=dispute_id)
        if customer_id is None:
            assert {v["status"] for v in document["controls"].values()} == {"not judged"}
            continue
        for result in whole:
            mine = owner[result.control.key]
            verdict = document["controls"][result.control.id]
            assert verdict["violations"] == [k for k in result.violations if mine[k] == customer_id]
            assert verdict["exceptions"] == [[k, r] for k, r in result.exceptions if mine[k] == customer_id]
