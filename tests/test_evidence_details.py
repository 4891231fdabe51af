"""evidence/<ID>.details.csv: the evidence rows, in order, with the columns that explain them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from audit_lib.cli import app
from audit_lib.controls.registry import load_controls
from audit_lib.findings.masking import MASK
from audit_lib.report.audit_view import load_audit, read_view

from builders import make_snapshot

ROWS = {
    "customers": [{"customer_id": "C1", "country": "DE", "birth_date": "2015-03-01"}],
    "personal_data": [
        {"item_id": "I1", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z", "system": "crm"},
        {"item_id": "I2", "customer_id": "C1", "received_at": "2010-06-01T00:00:00Z", "system_kind": "access_log",
         "system": "logs"},
    ],
    "disputes": [{"dispute_id": "D1", "customer_id": "C1", "received_at": "2026-07-01T00:00:00Z",
                  "responded_at": "2026-08-15T00:00:00Z", "topic": "you sold my data"}],
}  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("details"), ROWS)


def run(cli, snapshot: Path, out: Path, *extra: str):
    args = ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(out)]
    return cli.invoke(app, [*args, "--no-notebooks", *extra])


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_details_equal_the_evidence_rows(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert run(cli, snapshot, out).exit_code == 0
    for control in load_controls():
        evidence = read(out / "evidence" / f"{control.id}.csv")
        details = read(out / "evidence" / f"{control.id}.details.csv")
        assert [(r["key"], r["outcome"], r["reason"]) for r in details] == [
            (r["key"], r["outcome"], r["reason"]) for r in evidence
        ]
        with (out / "evidence" / f"{control.id}.details.csv").open(encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
        assert header == ["key", "outcome", "reason", "customer_id", *control.details]
    ret01 = read(out / "evidence" / "RET-01.details.csv")
    assert [(r["key"], r["system"], r["age_years"], r["received_at"]) for r in ret01] == [
        ("I2", "logs", "16", "2010-06-01T00:00:00Z"),  # exception first, as evidence sorts by outcome
        ("I1", "crm", "16", "2010-01-01T00:00:00Z"),
    ]
    dsp01 = read(out / "evidence" / "DSP-01.details.csv")[0]
    assert (dsp01["deadline"], dsp01["late_by_days"]) == ("2026-07-31T00:00:00Z", "15.0")


def test_personal_values_masked_unless_revealed(cli, snapshot: Path, tmp_path: Path) -> None:
    masked, revealed = tmp_path / "masked", tmp_path / "revealed"
    assert run(cli, snapshot, masked).exit_code == 0
    result = run(cli, snapshot, revealed, "--reveal")
    assert result.exit_code == 0 and "--reveal" in result.stderr
    topic = read(masked / "evidence" / "DSP-01.details.csv")[0]["topic"]
    birth = read(masked / "evidence" / "AGE-01.details.csv")[0]["birth_date"]
    assert topic == f"{MASK} (16 chars)" and birth == f"{MASK} (10 chars)"
    assert read(revealed / "evidence" / "DSP-01.details.csv")[0]["topic"] == "you sold my data"
    assert read(revealed / "evidence" / "AGE-01.details.csv")[0]["birth_date"] == "2015-03-01"
    assert json.loads((masked / "findings.json").read_text())["revealed"] is False
    assert json.loads((revealed / "findings.json").read_text())["revealed"] is True
    assert "--reveal" in (revealed / "README.txt").read_text() and not (masked / "README.txt").exists()


def test_notebook_users_get_pandas_frames(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert run(cli, snapshot, out).exit_code == 0
    for view in (read_view(out / "findings.json"), load_audit(snapshot, "2026-Q3")):
        frame = view.evidence("RET-01")
        assert isinstance(frame, pd.DataFrame)
        assert list(frame["key"]) == ["I2", "I1"]
        records = view.records("RET-01")
        assert list(records["outcome"]) == ["violation", "exception"]  # violations first
        assert view.breakdown("RET-01").rows() == [("crm", 1, 1, 0), ("logs", 1, 0, 1)]
