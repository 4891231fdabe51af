"""`run quarterly`: findings.json and evidence as outputs.md says, exit codes, no partial folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from audit_lib.cli import app
from audit_lib.controls.registry import load_controls

from builders import make_snapshot

ROWS = {
    "customers": [{"customer_id": "C1", "country": "DE"}],
    "personal_data": [
        {"item_id": "I2", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z"},
        {"item_id": "I1", "customer_id": "C1", "received_at": "2011-01-01T00:00:00Z"},
        {"item_id": "I3", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z",
         "system_kind": "access_log"},
    ],
    "parties": [{"party_id": "P1", "name": "<script>alert(1)</script>"}],
    "disclosures": [{"disclosure_id": "X1", "party_id": "P1", "customer_id": "C1",
                     "encrypted_in_transit": False}],
}  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("quarterly"), ROWS)


def run(cli, *args: str):
    return cli.invoke(app, ["run", "quarterly", *args])


def test_findings_and_evidence(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run(cli, "--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(out),
                 "--param", "grace_days=180", "--no-notebooks")  # fmt: skip
    assert result.exit_code == 0, result.output
    findings = json.loads((out / "findings.json").read_text())
    assert findings["format"] == "privacy-audit/findings/1"
    assert findings["period"] == {
        "label": "2026-Q3", "start": "2026-07-01T00:00:00Z", "end": "2026-10-01T00:00:00Z",
    }  # fmt: skip
    assert findings["as_of"] == "2026-10-01T00:00:00Z"
    assert findings["parameters"] == {
        "retention_years": 10, "grace_days": 180, "response_days": 30, "notice_days": 30, "min_age": 13,
    }  # fmt: skip
    assert set(findings["snapshot"]) == {"id", "sha256", "taken_at"}
    assert [c["id"] for c in findings["controls"]] == [c.id for c in load_controls()]
    ret01 = findings["controls"][0]
    assert (ret01["status"], ret01["population"], ret01["violations"], ret01["exceptions"]) == (
        "fail", 3, 2, 1,
    )  # fmt: skip
    with (out / "evidence" / "RET-01.csv").open(newline="") as f:
        assert list(csv.reader(f)) == [
            ["key", "outcome", "reason"],
            ["I3", "exception", "access_log"],
            ["I1", "violation", ""],
            ["I2", "violation", ""],
        ]
    assert sorted(p.name for p in (out / "evidence").iterdir()) == sorted(
        name for c in load_controls() for name in (f"{c.id}.csv", f"{c.id}.details.csv")
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert "findings.json" in manifest["files"] and "evidence/RET-01.csv" in manifest["files"]


def test_default_folder_is_named_by_period_date_and_snapshot(
    cli, snapshot: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert run(cli, "--snapshot", str(snapshot), "--period", "2026-Q3", "--no-notebooks").exit_code == 0
    folders = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert len(folders) == 2 and folders[0].startswith("2026-Q3_") and folders[1].endswith("-2")


def test_as_of_period(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = run(cli, "--snapshot", str(snapshot), "--as-of", "2026-10-08T00:00:00Z", "--out", str(out),
                 "--no-notebooks")  # fmt: skip
    assert result.exit_code == 0, result.output
    findings = json.loads((out / "findings.json").read_text())
    assert findings["period"]["start"] == "-infinity" and findings["as_of"] == "2026-10-08T00:00:00Z"


@pytest.mark.parametrize(
    "args",
    [
        ["--period", "2026-Q5"],
        ["--period", "2026-Q3", "--as-of", "2026-10-01T00:00:00Z"],
        [],
        ["--period", "2026-Q3", "--param", "grace=1"],
        ["--period", "2026-Q3", "--param", "grace_days=soon"],
    ],
)
def test_bad_arguments_exit_2(cli, snapshot: Path, tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "r"
    result = run(cli, "--snapshot", str(snapshot), "--out", str(out), "--no-notebooks", *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not out.exists()


def test_bad_snapshot_exit_2(cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_text("junk")
    for path in (junk, tmp_path / "missing.duckdb"):
        result = run(cli, "--snapshot", str(path), "--period", "2026-Q3", "--out", str(tmp_path / "r"))
        assert result.exit_code == 2 and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_non_empty_out_never_overwritten(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run(cli, "--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(out))
    assert result.exit_code == 2
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_unwritable_out_exit_2(cli, snapshot: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "report"
    result = run(cli, "--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(out), "--no-notebooks")
    assert (
        result.exit_code == 2 and "cannot write there" in result.stderr and "Traceback" not in result.output
    )


def test_crash_exit_1_and_no_folder(cli, snapshot: Path, tmp_path: Path, monkeypatch) -> None:
    import audit_lib.runs.quarterly

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(audit_lib.runs.quarterly, "write_findings", broken)
    out = tmp_path / "r"
    result = run(cli, "--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(out), "--no-notebooks")
    assert result.exit_code == 1 and "disk on fire" in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []
