"""Complaints and requests with their deadlines: `disputes`, `requests`, and `investigate --customer`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_lib.cli import app
from audit_lib.findings.investigation import investigate

from builders import make_snapshot

TAKEN_AT = "2026-10-10T00:00:00Z"
ROWS = {
    "customers": [{"customer_id": "C1"}, {"customer_id": "C2"}],
    "disputes": [
        {"dispute_id": "D-met", "customer_id": "C1", "received_at": "2026-08-01T00:00:00Z",
         "responded_at": "2026-08-31T00:00:00Z"},
        {"dispute_id": "D-missed", "customer_id": "C1", "received_at": "2026-08-01T00:00:00Z",
         "responded_at": "2026-08-31T00:00:01Z"},
        {"dispute_id": "D-overdue", "customer_id": "C1", "received_at": "2026-09-01T00:00:00Z",
         "responded_at": None},
        {"dispute_id": "D-open", "customer_id": "C2", "received_at": "2026-10-01T00:00:00Z",
         "responded_at": None},
        {"dispute_id": "D-later", "customer_id": "C2", "received_at": "2026-09-20T00:00:00Z",
         "responded_at": "2026-10-05T00:00:00Z"},
    ],
    "dsr_requests": [
        {"request_id": "R1", "customer_id": "C1", "received_at": "2026-09-15T00:00:00Z", "completed_at": None,
         "outcome": "pending"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("disputes"), ROWS, taken_at=TAKEN_AT)


def listed(cli, snapshot: Path, command: str, *args: str) -> list[dict]:
    result = cli.invoke(app, [command, "--snapshot", str(snapshot), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_complaints_most_urgent_first(cli, snapshot: Path) -> None:
    items = listed(cli, snapshot, "disputes")
    assert [(d["id"], d["status"], d["days_left"]) for d in items] == [
        ("D-overdue", "overdue", -9), ("D-open", "open", 21),
        ("D-later", "met", None), ("D-met", "met", None), ("D-missed", "missed", None),
    ]  # fmt: skip
    assert items[0]["deadline"] == "2026-10-01T00:00:00Z"


def test_open_ones_at_an_earlier_as_of(cli, snapshot: Path) -> None:
    items = listed(cli, snapshot, "disputes", "--open", "--as-of", "2026-10-02T00:00:00Z")
    assert [d["id"] for d in items] == ["D-overdue", "D-later", "D-open"]  # D-later answered only on 10-05
    assert listed(cli, snapshot, "requests", "--open")[0]["id"] == "R1"


def test_a_listing_past_taken_at_is_refused(cli, snapshot: Path) -> None:
    result = cli.invoke(app, ["disputes", "--snapshot", str(snapshot), "--as-of", "2026-11-01"])
    assert result.exit_code == 2 and TAKEN_AT in result.stderr


def test_investigate_customer_lists_every_complaint_and_request(snapshot: Path) -> None:
    document = investigate(snapshot, customer_id="C1")
    assert document["dispute"] is None
    assert [(d["type"], d["id"], d["status"]) for d in document["disputes"]] == [
        ("complaint", "D-overdue", "overdue"), ("request (access)", "R1", "open"),
        ("complaint", "D-met", "met"), ("complaint", "D-missed", "missed"),
    ]  # fmt: skip
