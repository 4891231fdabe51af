"""An audit covers only what its snapshot can show; an empty population is not a pass; the EU is 27."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_lib.cli import app
from audit_lib.controls.evaluate import evaluate
from audit_lib.controls.vocabulary import EEA, EU
from audit_lib.periods import Period
from audit_lib.report.audit_view import load_audit
from audit_lib.report.display import NOTHING_TO_JUDGE

from builders import make_snapshot

TAKEN_AT = "2026-10-07T12:00:00Z"
ROWS = {
    "customers": [{"customer_id": "C1", "country": "HU"}],
    "communications": [{"message_id": "M1", "customer_id": "C1", "kind": "promotion",
                        "sent_at": "2026-08-01T00:00:00Z"}],
    "disputes": [{"dispute_id": "D1", "customer_id": "C1", "received_at": "2026-09-01T00:00:00Z",
                  "responded_at": None}],
}  # fmt: skip
CONTROLS_MD = Path(__file__).resolve().parents[2] / "shared" / "spec" / "controls.md"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("coverage"), ROWS, taken_at=TAKEN_AT)


@pytest.mark.parametrize(
    "when",
    [("--period", "2027-Q2"), ("--period", "2026-Q4"), ("--as-of", "2026-10-07T12:00:01Z"),
     ("--start", "2026-10-01T00:00:00Z", "--end", "2026-10-08T00:00:00Z")],
)  # fmt: skip
def test_an_audit_past_taken_at_is_refused(
    cli, snapshot: Path, tmp_path: Path, when: tuple[str, ...]
) -> None:
    out = tmp_path / "report"
    result = cli.invoke(app, ["run", "quarterly", "--snapshot", str(snapshot), *when, "--out", str(out),
                              "--no-notebooks"])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert TAKEN_AT in result.stderr and "--as-of" in result.stderr and "newer snapshot" in result.stderr
    assert not out.exists()


def test_an_audit_up_to_taken_at_runs(cli, snapshot: Path, tmp_path: Path) -> None:
    result = cli.invoke(app, ["run", "quarterly", "--snapshot", str(snapshot), "--as-of", TAKEN_AT,
                              "--out", str(tmp_path / "r"), "--no-notebooks"])  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [(("--dispute", "D1", "--as-of", "2026-10-07T12:00:01Z"), TAKEN_AT),
     (("--customer", "C1", "--as-of", "2027-01-01T00:00:00Z"), TAKEN_AT),
     (("--dispute", "D1", "--as-of", "2026-08-31T23:59:59Z"), "before dispute D1 was received")],
)  # fmt: skip
def test_investigate_refuses_an_as_of_it_cannot_judge(
    cli, snapshot: Path, tmp_path: Path, args, says
) -> None:
    out = tmp_path / "case"
    result = cli.invoke(app, ["investigate", "--snapshot", str(snapshot), *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert says in result.stderr
    assert not out.exists()


def test_the_eu_is_the_27_member_states_of_controls_md() -> None:
    terms = CONTROLS_MD.read_text(encoding="utf-8")
    listed = terms.split("EU = the 27 member states (", 1)[1].split(")", 1)[0].split()
    assert tuple(listed) == EU and len(EU) == 27 and "HU" in EU
    assert set(EEA) == set(EU) | {"IS", "LI", "NO"}


def test_hungary_is_in_the_eu(snapshot: Path) -> None:
    mkt01 = evaluate(snapshot, Period.quarter("2026-Q3")).result("MKT-01")
    assert mkt01.violations == ["M1"]  # a promotion to a Hungarian customer with no opt-in


def test_an_empty_population_is_shown_as_nothing_to_judge(snapshot: Path) -> None:
    audit = load_audit(snapshot, "2026-Q3")
    shown = dict(audit.scorecard().select("id", "status").rows())
    stored = {c["id"]: c for c in audit.controls}
    assert stored["RET-01"]["population"] == 0 and stored["RET-01"]["status"] == "pass"  # as outputs.md says
    assert shown["RET-01"] == NOTHING_TO_JUDGE
    assert shown["MKT-01"] == "fail"
    assert audit.summary()["nothing_to_judge"] == sum(1 for c in audit.controls if c["population"] == 0)
