"""The whole chain on generated exports: every control finds exactly what was planted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_lib.controls.evaluate import evaluate
from audit_lib.ingest.snapshot import build_snapshot
from audit_lib.periods import Period
from audit_lib.sample import generate_sample


def assert_as_planted(snapshot: Path, planted: dict) -> None:
    findings = evaluate(snapshot, Period.quarter(planted["period"]["label"]))
    assert [r.control.id for r in findings.controls] == list(planted["controls"])
    for result in findings.controls:
        expected = planted["controls"][result.control.id]
        assert result.violations == sorted(expected["violations"]), result.control.id
        assert result.exceptions == sorted(tuple(e) for e in expected["exceptions"]), result.control.id
        found = set(result.violations) | {key for key, _ in result.exceptions}
        assert not found & set(expected["compliant"]), result.control.id


def test_shipped_sample_as_planted(sample_snapshot: Path, sample_export: Path) -> None:
    assert_as_planted(sample_snapshot, json.loads((sample_export / "planted.json").read_text()))


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "period"), [("parquet", "2026-Q3"), ("csv", "2025-Q4")])
def test_generated_export_as_planted(tmp_path: Path, fmt: str, period: str) -> None:
    export = tmp_path / "export"
    planted = generate_sample(export, customers=800, seed=11, fmt=fmt, period=period)
    build_snapshot(export, tmp_path / "s.duckdb")
    assert_as_planted(tmp_path / "s.duckdb", planted)
