"""Shared fixtures: a tiny valid export, the CLI runner, the sample snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from builders import complete_tables, write_export

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_EXPORT = ROOT / "data_samples" / "inventory"
SAMPLE_SNAPSHOT = ROOT / "data_samples" / "sample.duckdb"

#: One row in every table, all valid: the base that validation tests break.
VALID_ROWS = {
    "customers": [
        {"customer_id": "C1", "country": "DE", "birth_date": "1980-05-01"},
        {"customer_id": "C2", "deactivated_at": "2020-01-01T00:00:00Z", "account_status": "cancelled"},
    ],
    "personal_data": [{"item_id": "I1", "customer_id": "C1"}],
    "parties": [{"party_id": "P1"}],
    "disclosures": [{"disclosure_id": "X1", "party_id": "P1", "customer_id": "C1"}],
    "consents": [{"consent_id": "K1", "customer_id": "C1"}],
    "communications": [{"message_id": "M1", "customer_id": "C1"}],
    "dsr_requests": [{"request_id": "R1", "customer_id": "C1"}],
    "disputes": [{"dispute_id": "D1", "customer_id": "C1", "topic": 'a, "quoted" topic'}],
    "legal_holds": [{"hold_id": "H1", "customer_id": "C1"}],
    "tracking_events": [{"event_id": "E1", "customer_id": "C1"}],
}


@pytest.fixture
def valid_export(tmp_path: Path) -> Path:
    return write_export(complete_tables(VALID_ROWS), tmp_path / "export")


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def sample_export() -> Path:
    return SAMPLE_EXPORT


@pytest.fixture(scope="session")
def sample_snapshot() -> Path:
    """The shipped sample's snapshot, built once (as `make demo` does)."""
    if not SAMPLE_SNAPSHOT.exists():
        from audit_lib.ingest.snapshot import build_snapshot

        build_snapshot(SAMPLE_EXPORT, SAMPLE_SNAPSHOT)
    return SAMPLE_SNAPSHOT
