"""`run quarterly --waivers`: accepted risks in force over a half-open span, the register, bad files."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from audit_lib.cli import app

from builders import make_snapshot

# RET-01: violations I1, I2 (customer C1) and I4 (customer C2), exception I3. SEC-02: violation X1.
ROWS = {
    "customers": [{"customer_id": "C1", "country": "DE"}, {"customer_id": "C2"}],
    "personal_data": [
        {"item_id": "I2", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z"},
        {"item_id": "I1", "customer_id": "C1", "received_at": "2011-01-01T00:00:00Z"},
        {"item_id": "I3", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z",
         "system_kind": "access_log"},
        {"item_id": "I4", "customer_id": "C2", "received_at": "2010-01-01T00:00:00Z"},
    ],
    "disclosures": [{"disclosure_id": "X1", "customer_id": "C1", "encrypted_in_transit": False}],
}  # fmt: skip


def waiver(id: str, control: str = "RET-01", covers: object = "all", **fields: object) -> dict[str, object]:
    return {
        "id": id, "control": control, "covers": covers,
        "justification": "Migration of the archive to the new store is planned for Q4.",
        "approved_by": "dpo@example.com", "approved_on": "2026-07-01", "expires_on": "2026-10-01",
        **fields,
    }  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("waivers"), ROWS)


def write_waivers(folder: Path, waivers: object) -> Path:
    path = folder / "my-waivers.yml"
    path.write_text(waivers if isinstance(waivers, str) else yaml.safe_dump(waivers, sort_keys=False))
    return path


def audit(cli, snapshot: Path, out: Path, *args: str, notebooks: bool = False):
    more = () if notebooks else ("--no-notebooks",)
    return cli.invoke(app, ["run", "quarterly", "--snapshot", str(snapshot), "--out", str(out), *args, *more])


def run_with(cli, snapshot: Path, tmp_path: Path, waivers: object, when: tuple[str, str]) -> Path:
    """Audit with `waivers` at `when` (("--as-of", TS) or ("--period", Q)); the report folder."""
    out = tmp_path / "report"
    result = audit(cli, snapshot, out, *when, "--waivers", str(write_waivers(tmp_path, waivers)))
    assert result.exit_code == 0, result.output
    return out


def findings(out: Path) -> dict:
    return json.loads((out / "findings.json").read_text())


def control(out: Path, control_id: str) -> dict:
    return next(c for c in findings(out)["controls"] if c["id"] == control_id)


def evidence(out: Path, control_id: str) -> list[list[str]]:
    with (out / "evidence" / f"{control_id}.csv").open(newline="") as f:
        return list(csv.reader(f))[1:]


def register(out: Path) -> dict[str, dict]:
    return {w["id"]: w for w in findings(out)["waivers"]}


@pytest.mark.parametrize(
    ("as_of", "state", "waived"),
    [
        ("2026-06-30T23:59:59Z", "not yet in force", False),
        ("2026-07-01T00:00:00Z", "active", True),
        ("2026-09-30T23:59:59Z", "active", True),
        ("2026-10-01T00:00:00Z", "expired", False),
    ],
)
def test_in_force_from_approval_until_expiry_to_the_second(
    cli, snapshot: Path, tmp_path: Path, as_of: str, state: str, waived: bool
) -> None:
    out = run_with(cli, snapshot, tmp_path, [waiver("W-1", covers={"key": "I1"})], ("--as-of", as_of))
    ret01 = control(out, "RET-01")
    assert (ret01["violations"], ret01["waived"]) == ((2, 1) if waived else (3, 0))
    assert ret01["status"] == "fail"
    rows = evidence(out, "RET-01")
    assert (["I1", "waived", "W-1"] in rows) is waived
    assert (["I1", "violation", ""] in rows) is not waived
    entry = register(out)["W-1"]
    assert entry["state"] == state
    # What it covered: the key it waived, or (not in force) the violation it would cover, counting again.
    assert (entry["keys"], entry["waived"]) == (["I1"], 1 if waived else 0)


def test_a_quarter_is_judged_at_its_end_so_a_waiver_expiring_then_has_expired(
    cli, snapshot: Path, tmp_path: Path
) -> None:
    out = run_with(cli, snapshot, tmp_path, [waiver("W-1")], ("--period", "2026-Q3"))
    assert register(out)["W-1"]["state"] == "expired"
    assert (control(out, "RET-01")["violations"], control(out, "RET-01")["waived"]) == (3, 0)


def test_whole_control_waiver_passes_the_control_and_keeps_its_exceptions(
    cli, snapshot: Path, tmp_path: Path
) -> None:
    out = run_with(
        cli, snapshot, tmp_path, [waiver("W-ALL", expires_on="2027-01-01")], ("--period", "2026-Q3")
    )
    ret01 = control(out, "RET-01")
    assert (ret01["status"], ret01["violations"], ret01["waived"], ret01["exceptions"]) == ("pass", 0, 3, 1)
    assert evidence(out, "RET-01") == [
        ["I3", "exception", "access_log"],
        ["I1", "waived", "W-ALL"],
        ["I2", "waived", "W-ALL"],
        ["I4", "waived", "W-ALL"],
    ]
    assert control(out, "SEC-02")["violations"] == 1 and control(out, "SEC-02")["waived"] == 0
    entry = register(out)["W-ALL"]
    assert (entry["state"], entry["keys"], entry["control"]) == ("active", ["I1", "I2", "I4"], "RET-01")


def test_per_customer_waiver_covers_that_customers_records_only(cli, snapshot: Path, tmp_path: Path) -> None:
    waivers = [waiver("W-C1", covers={"customer_id": "C1"}, expires_on="2027-01-01", ticket="PRIV-12")]
    out = run_with(cli, snapshot, tmp_path, waivers, ("--period", "2026-Q3"))
    ret01 = control(out, "RET-01")
    assert (ret01["status"], ret01["violations"], ret01["waived"]) == ("fail", 1, 2)
    assert evidence(out, "RET-01") == [
        ["I3", "exception", "access_log"],
        ["I4", "violation", ""],
        ["I1", "waived", "W-C1"],
        ["I2", "waived", "W-C1"],
    ]
    entry = register(out)["W-C1"]
    assert (entry["keys"], entry["covers"], entry["ticket"]) == (
        ["I1", "I2"],
        {"customer_id": "C1"},
        "PRIV-12",
    )


def test_unused_expired_and_narrowest_waiver_in_the_register(cli, snapshot: Path, tmp_path: Path) -> None:
    waivers = [
        waiver("W-ALL", expires_on="2027-01-01"),
        waiver("W-KEY", covers={"key": "I4"}, expires_on="2027-01-01"),
        waiver("W-NONE", covers={"key": "I999"}, expires_on="2027-01-01"),
        waiver("W-OLD", control="SEC-02", approved_on="2025-01-01", expires_on="2026-01-01"),
        waiver("W-LATER", control="SEC-02", approved_on="2026-12-01", expires_on="2027-06-01"),
    ]
    out = run_with(cli, snapshot, tmp_path, waivers, ("--period", "2026-Q3"))
    states = {i: (w["state"], w["keys"], w["waived"]) for i, w in register(out).items()}
    assert states == {
        "W-ALL": ("active", ["I1", "I2"], 2),
        "W-KEY": ("active", ["I4"], 1),
        "W-NONE": ("unused", [], 0),
        "W-OLD": ("expired", ["X1"], 0),
        "W-LATER": ("not yet in force", ["X1"], 0),
    }
    assert [w["id"] for w in findings(out)["waivers"]] == [w["id"] for w in waivers]
    assert ["I4", "waived", "W-KEY"] in evidence(out, "RET-01")
    assert control(out, "SEC-02")["status"] == "fail" and control(out, "SEC-02")["violations"] == 1


def test_the_waivers_file_is_copied_and_hashed(cli, snapshot: Path, tmp_path: Path) -> None:
    out = run_with(cli, snapshot, tmp_path, [waiver("W-1")], ("--period", "2026-Q3"))
    original = (tmp_path / "my-waivers.yml").read_bytes()
    assert (out / "waivers.yaml").read_bytes() == original
    assert findings(out)["waivers_file"] == {
        "name": "waivers.yaml",
        "sha256": hashlib.sha256(original).hexdigest(),
    }
    assert "waivers.yaml" in json.loads((out / "manifest.json").read_text())["files"]
    assert all("waived" in c for c in findings(out)["controls"])


def test_without_waivers_outputs_are_as_before(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert audit(cli, snapshot, out, "--period", "2026-Q3").exit_code == 0
    document = findings(out)
    assert "waivers" not in document and "waivers_file" not in document
    assert not any("waived" in c for c in document["controls"])
    assert not (out / "waivers.yaml").exists()
    assert all(
        row[1] != "waived" for path in (out / "evidence").iterdir() for row in evidence(out, path.stem)
    )


def test_dates_may_be_yaml_dates_or_quoted(cli, snapshot: Path, tmp_path: Path) -> None:
    text = (
        "- id: W-1\n  control: RET-01\n  covers: {key: I1}\n  justification: accepted\n"
        "  approved_by: DPO\n  approved_on: 2026-07-01\n  expires_on: '2027-01-01'\n"
    )
    out = run_with(cli, snapshot, tmp_path, text, ("--period", "2026-Q3"))
    assert register(out)["W-1"]["state"] == "active"


BAD_FILES = {
    "unknown control": ([waiver("W-1"), waiver("W-2", control="RET-99")], ["W-2", "control", "RET-99"]),
    "missing justification": (
        [{k: v for k, v in waiver("W-1").items() if k != "justification"}], ["W-1", "justification"],
    ),
    "empty justification": ([waiver("W-1", justification="  ")], ["W-1", "justification"]),
    "missing approver": ([{k: v for k, v in waiver("W-1").items() if k != "approved_by"}], ["W-1", "approved_by"]),
    "expiry not a date": ([waiver("W-1", expires_on="next spring")], ["W-1", "expires_on", "not a date"]),
    "expiry a timestamp": ([waiver("W-1", expires_on="2026-10-01T00:00:00Z")], ["W-1", "expires_on"]),
    "expiry not after approval": ([waiver("W-1", expires_on="2026-07-01")], ["W-1", "expires_on"]),
    "duplicate ids": ([waiver("W-1"), waiver("W-1", control="SEC-02")], ["W-1", "#2", "duplicate"]),
    "unknown field": ([waiver("W-1", aproved_by="typo")], ["W-1", "aproved_by", "unknown field"]),
    "bad covers": ([waiver("W-1", covers={"customer": "C1"})], ["W-1", "covers"]),
    "no id": ([{k: v for k, v in waiver("W-1").items() if k != "id"}], ["waiver #1", "id"]),
    "not YAML": ("- id: W-1\n  control: [RET-01\n", ["not valid YAML"]),
    "not a list": ({"waivers": [waiver("W-1")]}, ["list of waivers"]),
    "a waiver not a mapping": (["W-1"], ["waiver #1", "mapping"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_waivers_file_is_refused_before_anything_runs(
    cli, snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    content, words = BAD_FILES[case]
    monkeypatch.chdir(tmp_path)
    path = write_waivers(tmp_path, content)
    out = tmp_path / "report"
    result = audit(cli, snapshot, out, "--period", "2026-Q3", "--waivers", str(path))
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.stderr
    assert not out.exists() and not (tmp_path / "reports").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-waivers.yml"]


def test_a_missing_waivers_file_is_a_usage_error(cli, snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = audit(cli, snapshot, out, "--period", "2026-Q3", "--waivers", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "nope.yaml" in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_the_report_shows_the_waiver_register_escaped(cli, snapshot: Path, tmp_path: Path) -> None:
    waivers = [
        waiver("W-C1", covers={"customer_id": "C1"}, expires_on="2027-01-01",
               justification="<script>alert(1)</script> accepted", approved_by="Ada & Co"),
        waiver("W-OLD", control="SEC-02", approved_on="2025-01-01", expires_on="2026-01-01"),
    ]  # fmt: skip
    out = tmp_path / "report"
    path = write_waivers(tmp_path, waivers)
    result = audit(cli, snapshot, out, "--period", "2026-Q3", "--waivers", str(path), notebooks=True)
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert "Waiver register" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; accepted" in html and "<script>alert(1)" not in html
    assert "Ada &amp; Co" in html and "W-OLD" in html and "expired" in html
    assert "<th>waived</th>" in html  # the scorecard's column, shown only with waivers
    assert "exceptions 1, waived 2." in html  # RET-01's section
