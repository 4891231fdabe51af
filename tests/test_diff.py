"""Quarter over quarter: diff.json, the previous report, `privacy-audit diff`."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from audit_lib.cli import app
from audit_lib.findings.diff import CARRY_OVER, Report, diff_document

QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from audit_lib.ingest.snapshot import build_snapshot
    from audit_lib.sample import generate_sample

    base = tmp_path_factory.mktemp("diff")
    generate_sample(base / "export", customers=300)
    build_snapshot(base / "export", base / "sample.duckdb")
    return base / "sample.duckdb"


def run(*args: str):
    return CliRunner().invoke(app, ["run", "quarterly", *args, "--no-notebooks"])


@pytest.fixture(scope="module")
def reports(snapshot: Path) -> dict[str, Path]:
    """The one export audited at three consecutive quarters into one reports folder."""
    folder = snapshot.parent / "reports"
    made = {}
    for quarter in QUARTERS:
        out = folder / f"{quarter}_run"
        result = run("--snapshot", str(snapshot), "--period", quarter, "--out", str(out))
        assert result.exit_code == 0, result.output
        made[quarter] = out
    return made


def findings(folder: Path) -> dict:
    return json.loads((folder / "findings.json").read_text())


def violations(folder: Path, control: str) -> set[str]:
    with (folder / "evidence" / f"{control}.csv").open(newline="") as f:
        return {row["key"] for row in csv.DictReader(f) if row["outcome"] == "violation"}


def test_three_quarters_against_set_arithmetic(reports: dict[str, Path]) -> None:
    q1, q2, q3 = (reports[q] for q in QUARTERS)
    diff = json.loads((q3 / "diff.json").read_text())
    assert diff["comparable"] and diff["previous"]["period"] == "2026-Q2"
    by_kind = {c["id"]: c["kind"] for c in findings(q3)["controls"]}
    keyed = [cid for cid, kind in by_kind.items() if kind == "state" or cid in CARRY_OVER]
    assert {"RET-01", "DSR-01", "DSP-01", "AGE-01"} <= set(keyed)
    checked = 0
    for control in diff["controls"]:
        cid = control["id"]
        now, before, oldest = violations(q3, cid), violations(q2, cid), violations(q1, cid)
        if cid not in keyed:
            assert control["comparison"] == "counts" and "new" not in control
            assert control["now"]["violations"] == len(now) and control["before"]["violations"] == len(before)
            population = control["now"]["population"]
            assert control["now"]["rate"] == (len(now) / population if population else None)
            continue
        assert control["comparison"] == "keys"
        assert control["new"] == sorted(now - before)
        assert control["resolved"] == sorted(before - now)
        first_seen = {k: "2026-Q1" if k in oldest else "2026-Q2" for k in now & before}
        assert {p["key"]: p["first_seen"] for p in control["persisting"]} == first_seen
        checked += len(now | before)
    assert checked > 0
    assert [t["period"] for t in diff["trend"]] == list(QUARTERS)
    assert diff["trend"][0]["violations"]["RET-01"] == len(violations(q1, "RET-01"))


def test_the_discovered_previous_report_is_named(reports: dict[str, Path]) -> None:
    q1, q2, q3 = (reports[q] for q in QUARTERS)
    assert "previous" not in findings(q1) and not (q1 / "diff.json").exists()
    before = findings(q2)
    named = {"period": "2026-Q2", "snapshot_id": before["snapshot"]["id"],
             "generated_at": before["generated_at"], "folder": q2.name}  # fmt: skip
    assert findings(q3)["previous"] == named
    assert json.loads((q3 / "diff.json").read_text())["previous"] == named
    assert "diff.json" in json.loads((q3 / "manifest.json").read_text())["files"]
    assert all(len(c["definition"]) == 64 for c in findings(q3)["controls"])


def test_diff_command_prints_and_writes_the_same_diff(reports: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "diff.json"
    result = CliRunner().invoke(app, ["diff", str(reports["2026-Q2"]), str(reports["2026-Q3"]),
                                      "--json", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "comparable: yes" in result.output and "RET-01" in result.output
    written, saved = json.loads(out.read_text()), json.loads((reports["2026-Q3"] / "diff.json").read_text())
    assert written["controls"] == saved["controls"] and written["trend"] == saved["trend"]
    again = CliRunner().invoke(app, ["diff", str(reports["2026-Q2"]), str(reports["2026-Q3"]),
                                     "--json", str(out)])  # fmt: skip
    assert again.exit_code == 2


def test_a_changed_parameter_is_not_comparable(snapshot: Path, reports: dict[str, Path], tmp_path) -> None:
    out = tmp_path / "q3"
    result = run("--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(out),
                 "--previous", str(reports["2026-Q2"]), "--param", "grace_days=100")  # fmt: skip
    assert result.exit_code == 0, result.output
    diff = json.loads((out / "diff.json").read_text())
    assert not diff["comparable"] and "RET-02" in diff["not_comparable"]
    assert diff["differences"]["parameters"] == {"grace_days": [365, 100]}
    ret02 = next(c for c in diff["controls"] if c["id"] == "RET-02")
    assert ret02["not_comparable"] == ["parameter grace_days: 365 then 100"]
    assert "SHR-01" not in diff["not_comparable"]  # its query binds no grace_days


def test_a_changed_definition_or_suite_is_not_comparable(reports: dict[str, Path]) -> None:
    now, before = Report.read(reports["2026-Q3"]), Report.read(reports["2026-Q2"])
    document = json.loads(json.dumps(before.document))
    document["controls"][0]["definition"] = "0" * 64
    changed = diff_document(now, [Report(document, before.evidence, before.name)])
    assert changed["not_comparable"] == ["RET-01"]
    assert changed["controls"][0]["not_comparable"] == ["definition changed"]
    document["suite_version"] = "0.0.1"
    older = diff_document(now, [Report(document, before.evidence, before.name)])
    assert len(older["not_comparable"]) == len(now.document["controls"])


def test_waivers_added_expired_and_removed(reports: dict[str, Path]) -> None:
    now, before = Report.read(reports["2026-Q3"]), Report.read(reports["2026-Q2"])
    assert diff_document(now, [before])["waivers"] is None
    old = {**before.document, "waivers": [
        {"id": "W1", "control": "RET-01", "state": "in force", "covered": 1},
        {"id": "W2", "control": "RET-02", "state": "in force", "covered": 0},
    ]}  # fmt: skip
    new = {**now.document, "waivers": [
        {"id": "W1", "control": "RET-01", "state": "expired", "covered": 0},
        {"id": "W3", "control": "SEC-01", "state": "in force", "covered": 2},
    ]}  # fmt: skip
    key = sorted(violations(reports["2026-Q2"], "RET-01"))[0]
    waived = pl.DataFrame({"control": ["RET-01"], "key": [key], "outcome": ["waived"], "reason": ["W9"]})
    evidence = now.evidence.filter(~pl.col("key").is_in(waived["key"].to_list())).vstack(waived)
    diff = diff_document(Report(new, evidence, now.name), [Report(old, before.evidence, before.name)])
    assert [w["id"] for w in diff["waivers"]["added"]] == ["W3"]
    assert [w["id"] for w in diff["waivers"]["expired"]] == ["W1"]
    assert [w["id"] for w in diff["waivers"]["removed"]] == ["W2"]
    ret01 = diff["controls"][0]
    assert ret01["waived"] == waived["key"].to_list() and waived["key"][0] not in ret01["resolved"]


def test_a_named_previous_that_is_not_a_report_is_refused(
    snapshot: Path, reports: dict[str, Path], tmp_path: Path
) -> None:
    for bad in (snapshot.parent / "export", tmp_path / "missing"):
        out = tmp_path / "out"
        result = run(
            "--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(out), "--previous", str(bad)
        )
        assert result.exit_code == 2, result.output
        assert "not a valid report" in result.stderr and not out.exists()
    tampered = shutil.copytree(reports["2026-Q2"], tmp_path / "tampered")
    with (tampered / "evidence" / "RET-01.csv").open("a") as f:
        f.write("I9999999,violation,\n")
    result = run("--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(tmp_path / "o2"),
                 "--previous", str(tampered))  # fmt: skip
    assert result.exit_code == 2 and "evidence/RET-01.csv: altered" in result.stderr
    assert CliRunner().invoke(app, ["diff", str(tampered), str(reports["2026-Q3"])]).exit_code == 2
    assert CliRunner().invoke(app, ["diff", str(reports["2026-Q2"]), str(tmp_path)]).exit_code == 2


def test_a_discovered_bad_previous_is_skipped_with_a_note(
    snapshot: Path, reports: dict[str, Path], tmp_path: Path
) -> None:
    place = tmp_path / "reports"
    good = shutil.copytree(reports["2026-Q2"], place / "2026-Q2_good")
    tampered = shutil.copytree(reports["2026-Q2"], place / "2026-Q2_tampered")
    document = findings(tampered)
    document["generated_at"] = "2099-01-01T00:00:00Z"  # the newest, but its manifest no longer verifies
    (tampered / "findings.json").write_text(json.dumps(document))
    (place / "2026-Q2_empty").mkdir()
    result = run("--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(place / "q3"))
    assert result.exit_code == 0, result.output
    assert "2026-Q2_tampered: skipped" in result.stderr and "findings.json: altered" in result.stderr
    assert findings(place / "q3")["previous"]["folder"] == good.name
    diff = json.loads((place / "q3" / "diff.json").read_text())
    assert diff["previous"]["folder"] == good.name
    assert any("not found beside" in note for note in diff["notes"])  # its own previous was not copied
    shutil.rmtree(good)
    alone = run("--snapshot", str(snapshot), "--period", "2026-Q3", "--out", str(place / "q3b"))
    assert alone.exit_code == 0 and "no previous report" in alone.stderr
    assert "previous" not in findings(place / "q3b") and not (place / "q3b" / "diff.json").exists()


@pytest.mark.slow
def test_the_report_names_the_previous_report(snapshot: Path, reports: dict[str, Path], tmp_path) -> None:
    out = tmp_path / "q3"
    result = CliRunner().invoke(app, ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3",
                                      "--out", str(out), "--previous", str(reports["2026-Q2"])])  # fmt: skip
    assert result.exit_code == 0, result.output
    before = findings(reports["2026-Q2"])
    html = (out / "report.html").read_text()
    assert "Changes since the previous report" in html
    assert html.index("Changes since the previous report") > html.index("Scorecard")
    for fact in ("2026-Q2", before["snapshot"]["id"], before["generated_at"], reports["2026-Q2"].name):
        assert fact in html
    assert "Compared with the previous report" in html and "Persisting violations" in html
