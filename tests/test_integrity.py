"""Snapshot and report integrity: checksums at build, verified on every open; `verify` commands."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from audit_lib.cli import app
from audit_lib.folders import sha256_of

from builders import make_snapshot

TAKEN_AT = "2026-10-08T00:00:00Z"
ROWS = {
    "customers": [{"customer_id": "C1", "country": "DE"}, {"customer_id": "C2"}],
    "personal_data": [
        {"item_id": "I1", "customer_id": "C1", "received_at": "2010-01-01T00:00:00Z"},
        {"item_id": "I2", "customer_id": "C2"},
    ],
    "parties": [{"party_id": "P1"}],
    "disclosures": [{"disclosure_id": "X1", "party_id": "P1", "customer_id": "C1"}],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("integrity"), ROWS, taken_at=TAKEN_AT)


def edited(built: Path, tmp_path: Path, *statements: str) -> Path:
    copy = tmp_path / "edited.duckdb"
    shutil.copy(built, copy)
    con = duckdb.connect(str(copy))
    for statement in statements:
        con.execute(statement)
    con.close()
    return copy


EDITS: dict[str, tuple[tuple[str, ...], str]] = {
    "value changed": (("UPDATE personal_data SET system = 'other' WHERE item_id = 'I1'",), "personal_data"),
    "row deleted": (("DELETE FROM personal_data WHERE item_id = 'I2'",), "personal_data"),
    "row duplicated": (("INSERT INTO disclosures SELECT * FROM disclosures",), "disclosures"),
    "rows swapped values": (
        ("UPDATE customers SET country = CASE WHEN country = 'DE' THEN 'US' ELSE 'DE' END",),
        "customers",
    ),
    "column renamed": (("ALTER TABLE parties RENAME COLUMN name TO label",), "parties"),
    "table dropped": (("DROP TABLE disclosures",), "disclosures"),
    "taken_at moved": (
        ("UPDATE snapshot_meta SET taken_at = TIMESTAMPTZ '2030-01-01 00:00:00+00'",),
        "snapshot_meta",
    ),
    "file row edited": (("UPDATE snapshot_files SET sha256 = 'x'",), "snapshot_files"),
    "metadata dropped": (("DROP TABLE snapshot_meta",), "snapshot_meta"),
    "metadata emptied": (("DELETE FROM snapshot_meta",), "metadata missing"),
    "checksums dropped": (("DROP TABLE snapshot_checksums",), "metadata missing"),
    "checksum row deleted": (("DELETE FROM snapshot_checksums WHERE table_name = 'customers'",), "customers"),
    "foreign contract": (("UPDATE snapshot_meta SET contract = 'privacy-audit/inventory/2'",), "contract"),
    "foreign format": (("UPDATE snapshot_meta SET snapshot_format = 'privacy-audit/snapshot/1'",), "format"),
    "older format (no format column)": (("ALTER TABLE snapshot_meta DROP COLUMN snapshot_format",), "format"),
}


@pytest.mark.parametrize(("statements", "named"), list(EDITS.values()), ids=list(EDITS))
def test_changed_snapshot_is_refused(
    cli, built: Path, tmp_path: Path, statements: tuple[str, ...], named: str
) -> None:
    snapshot = edited(built, tmp_path, *statements)
    out = tmp_path / "report"
    result = cli.invoke(
        app,
        [
            "run",
            "quarterly",
            "--snapshot",
            str(snapshot),
            "--as-of",
            TAKEN_AT,
            "--out",
            str(out),
            "--no-notebooks",
        ],
    )
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output
    assert not out.exists()
    result = cli.invoke(app, ["snapshot", "verify", str(snapshot)])
    assert result.exit_code == 2, result.output
    assert named in result.output


def test_investigation_refuses_a_changed_snapshot(cli, built: Path, tmp_path: Path) -> None:
    snapshot = edited(built, tmp_path, "UPDATE customers SET country = 'FR' WHERE customer_id = 'C1'")
    out = tmp_path / "inv"
    result = cli.invoke(
        app, ["investigate", "--snapshot", str(snapshot), "--customer", "C1", "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "customers" in result.output and not out.exists()


def test_newer_suite_reads_an_older_suites_snapshot(cli, built: Path, monkeypatch) -> None:
    """A newer suite version alone is not foreign: only contract and snapshot format are compared."""
    import audit_lib.ingest.snapshot as snapshot_module

    monkeypatch.setattr(snapshot_module, "__version__", "99.0.0", raising=False)
    result = cli.invoke(app, ["snapshot", "verify", str(built)])
    assert result.exit_code == 0, result.output


def test_snapshot_verify_intact_and_sha256(cli, built: Path) -> None:
    result = cli.invoke(app, ["snapshot", "verify", str(built)])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1 and "intact" in result.output
    digest = sha256_of(built)
    result = cli.invoke(app, ["snapshot", "verify", str(built), "--sha256", digest.upper()])
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["snapshot", "verify", str(built), "--sha256", "0" * 64])
    assert result.exit_code == 2 and "sha256" in result.output


def test_snapshot_verify_not_a_snapshot(cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"junk")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    for path in (junk, empty, tmp_path / "missing.duckdb"):
        result = cli.invoke(app, ["snapshot", "verify", str(path)])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output


@pytest.fixture(scope="module")
def report(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("reports") / "report"
    args = [
        "run",
        "quarterly",
        "--snapshot",
        str(built),
        "--as-of",
        TAKEN_AT,
        "--out",
        str(out),
        "--no-notebooks",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def damaged(report: Path, tmp_path: Path, damage: Callable[[Path], None]) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(report, copy, symlinks=True)
    damage(copy)
    return copy


def test_verify_intact_report(cli, report: Path, tmp_path: Path) -> None:
    result = cli.invoke(app, ["verify", str(report)])
    assert result.exit_code == 0, result.output
    signed = damaged(report, tmp_path, lambda f: (f / "manifest.sig").write_bytes(b"signature"))
    assert cli.invoke(app, ["verify", str(signed)]).exit_code == 0


def _alter(folder: Path) -> None:
    path = folder / "evidence" / "RET-01.csv"
    path.write_text(path.read_text() + "I9,violation,\n")


DAMAGES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "extra file": (lambda f: (f / "extra.txt").write_text("x"), ["extra.txt"]),
    "extra hidden file": (lambda f: (f / "evidence" / ".hidden").write_text("x"), ["evidence/.hidden"]),
    "extra symlink": (lambda f: (f / "link").symlink_to(f / "findings.json"), ["link"]),
    "missing file": (lambda f: (f / "findings.json").unlink(), ["findings.json"]),
    "altered file": (_alter, ["evidence/RET-01.csv"]),
    "two at once": (
        lambda f: ((f / "findings.json").write_text("{}"), (f / "evidence" / "RET-01.csv").unlink()),
        ["findings.json", "evidence/RET-01.csv"],
    ),
    "manifest missing": (lambda f: (f / "manifest.json").unlink(), ["manifest.json"]),
    "manifest not json": (lambda f: (f / "manifest.json").write_text("{"), ["manifest.json"]),
}


@pytest.mark.parametrize(("damage", "named"), list(DAMAGES.values()), ids=list(DAMAGES))
def test_verify_damaged_report(cli, report: Path, tmp_path: Path, damage, named: list[str]) -> None:
    folder = damaged(report, tmp_path, damage)
    result = cli.invoke(app, ["verify", str(folder)])
    assert result.exit_code == 2, result.output
    for name in named:
        assert name in result.output
    assert "Traceback" not in result.output


def test_manifest_never_lists_its_signature(tmp_path: Path) -> None:
    from audit_lib.findings.manifest import check_manifest, write_manifest

    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "manifest.sig").write_text("sig")
    write_manifest(tmp_path)
    assert "manifest.sig" not in (tmp_path / "manifest.json").read_text()
    assert check_manifest(tmp_path) == []
