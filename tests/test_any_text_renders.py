"""Whatever text the data holds, reports render; a customer with a long history can be investigated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_lib.cli import app
from audit_lib.report.display import UNPRINTABLE, printable, text

from builders import make_snapshot

pytestmark = pytest.mark.slow

#: Every control character and a sample of non-characters, in the places text is shown.
HOSTILE = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]) + "\ufdd0\ufffe\uffff"
ROWS = {
    "customers": [{"customer_id": "C1", "country": "DE"}],
    "parties": [{"party_id": "P1", "name": f"Evil{HOSTILE}Corp", "kind": "sub_processor", "country": "US"}],
    "disclosures": [{"disclosure_id": "X1", "party_id": "P1", "customer_id": "C1",
                     "purpose": f"render{HOSTILE}", "disclosed_at": "2026-08-01T00:00:00Z"}],
    "personal_data": [{"item_id": "I1", "customer_id": "C1", "system": f"crm{HOSTILE}"}],
    "disputes": [{"dispute_id": "D1", "customer_id": "C1", "topic": f"topic{HOSTILE}",
                  "received_at": "2026-08-02T00:00:00Z"}],
}  # fmt: skip


def test_printable_replaces_every_control_character() -> None:
    assert UNPRINTABLE.findall(HOSTILE.replace("\t", "").replace("\n", "").replace("\r", "")) == list(
        HOSTILE.replace("\t", "").replace("\n", "").replace("\r", "")
    )
    assert printable({"a": [f"x{HOSTILE}"]})["a"][0].count("\ufffd") == len(HOSTILE) - 3
    assert "\x1b" not in text("a\x1bb")


def test_hostile_text_renders_in_report_and_investigation(cli, tmp_path: Path) -> None:
    snapshot = make_snapshot(tmp_path, ROWS)
    result = cli.invoke(app, ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3",
                              "--out", str(tmp_path / "report")])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "Evil" in page and "\x1b" not in page
    result = cli.invoke(app, ["investigate", "--snapshot", str(snapshot), "--dispute", "D1", "--reveal",
                              "--out", str(tmp_path / "case")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "\x1b" not in (tmp_path / "case" / "investigation.html").read_text(encoding="utf-8")


def test_a_customer_with_a_long_history_is_investigated(cli, tmp_path: Path) -> None:
    events = [{"event_id": f"E{n}", "customer_id": "C1", "occurred_at": f"2026-0{1 + n % 9}-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"}
              for n in range(6000)]  # fmt: skip
    snapshot = make_snapshot(tmp_path, {"customers": [{"customer_id": "C1"}], "tracking_events": events})
    out = tmp_path / "case"
    result = cli.invoke(
        app, ["investigate", "--snapshot", str(snapshot), "--customer", "C1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads((out / "investigation.json").read_text())
    assert sum(1 for e in document["timeline"] if e["type"] == "tracking") == 6000
    assert "one tick per day and type" in (out / "investigate.ipynb").read_text(encoding="utf-8")
