"""Parquet snapshot folders: built atomically, verified, audited by DuckDB like a snapshot file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_lib.controls.evaluate import evaluate
from audit_lib.errors import OutputExistsError, SnapshotError
from audit_lib.folders import sha256_of
from audit_lib.ingest.parquet_snapshot import METADATA, build_parquet_snapshot
from audit_lib.ingest.snapshot import snapshot_info, verify_snapshot
from audit_lib.periods import Period


@pytest.fixture(scope="module")
def parquet_sample(tmp_path_factory: pytest.TempPathFactory, sample_export: Path) -> Path:
    out = tmp_path_factory.mktemp("parquet") / "sample"
    build_parquet_snapshot(sample_export, out)
    return out


def test_layout_and_identity(parquet_sample: Path, sample_snapshot: Path) -> None:
    document = json.loads((parquet_sample / METADATA).read_text())
    duck = snapshot_info(sample_snapshot)
    info = verify_snapshot(parquet_sample)
    assert info.id == duck.id and info.taken_at == duck.taken_at
    assert info.row_counts == duck.row_counts
    assert info.sha256 == sha256_of(parquet_sample / METADATA)
    for table, entry in document["tables"].items():
        assert (parquet_sample / table).is_dir()
        for relative, digest in entry["files"].items():
            assert sha256_of(parquet_sample / relative) == digest
    assert not [p for p in parquet_sample.parent.iterdir() if p.name.startswith(".")]


def test_duckdb_audits_parquet_as_the_file(parquet_sample: Path, sample_snapshot: Path) -> None:
    period = Period.quarter("2026-Q3")
    a = evaluate(sample_snapshot, period, with_details=True)
    b = evaluate(parquet_sample, period, with_details=True)
    for x, y in zip(a.controls, b.controls, strict=True):
        assert (x.population, x.violations, x.exceptions, x.customers) == (
            y.population, y.violations, y.exceptions, y.customers,
        ), x.id  # fmt: skip
        assert a.details[x.id].equals(b.details[x.id]), x.id


def test_never_overwritten(parquet_sample: Path, sample_export: Path) -> None:
    with pytest.raises(OutputExistsError):
        build_parquet_snapshot(sample_export, parquet_sample)


def test_tampering_refused(tmp_path: Path, valid_export: Path) -> None:
    out = tmp_path / "snap"
    build_parquet_snapshot(valid_export, out)
    verify_snapshot(out)
    (out / "customers" / "extra.parquet").write_bytes(b"x")
    with pytest.raises(SnapshotError, match="added"):
        verify_snapshot(out)
    (out / "customers" / "extra.parquet").unlink()
    target = out / "parties" / "part-0.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(SnapshotError, match="changed since it was built"):
        verify_snapshot(out)


def test_cli_format_parquet(cli, valid_export: Path, tmp_path: Path) -> None:
    from audit_lib.cli import app

    result = cli.invoke(app, ["snapshot", "build", str(valid_export), "--out", str(tmp_path / "s"),
                              "--format", "parquet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s" / METADATA).is_file()
    result = cli.invoke(app, ["snapshot", "verify", str(tmp_path / "s")])
    assert result.exit_code == 0 and "intact" in result.output
