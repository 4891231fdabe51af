"""Build small, valid snapshots from partial rows.

A test names only the columns its rule is about; every other column gets a
default chosen to be valid and unremarkable: it breaks no rule of the
inventory contract and, on its own, puts nothing in any control's population
that the test did not ask for. Customers and parties that rows refer to but
the test does not give are created the same way (an active, adult-less US
customer; an authorized, safeguarded sub-processor with a signed DPA).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from audit_lib.ingest.schema import TABLE_BY_NAME, TABLES

Row = dict[str, object]
PartialRows = Mapping[str, Sequence[Mapping[str, object]]]

DEFAULT_CUSTOMER = "C0"
DEFAULT_PARTY = "P0"
LONG_AGO = "2000-01-01T00:00:00Z"
IN_2026_Q3 = "2026-08-01T00:00:00Z"

#: Per table, the value of every column a test leaves out. A callable derives
#: it from the row so far: the given columns and the defaults listed before it.
DEFAULTS: dict[str, dict[str, object]] = {
    "customers": {
        "country": "US",
        "birth_date": None,
        "created_at": LONG_AGO,
        "deactivated_at": None,
        "account_status": lambda row: "active" if row["deactivated_at"] is None else "deactivated",
    },
    "personal_data": {
        "customer_id": DEFAULT_CUSTOMER,
        "category": "name",
        "system": "crm",
        "system_kind": "application",
        "purpose": "service_delivery",
        "channel": "web_form",
        "received_at": "2026-01-01T00:00:00Z",
        "encrypted": True,
    },
    "parties": {
        "name": lambda row: f"Party {row['party_id']}",
        "kind": "sub_processor",
        "country": "DE",
        "authorized_from": "2000-01-01",
        "authorized_until": None,
        "dpa_signed_at": "2000-01-01",
        "transfer_safeguard": "scc",
    },
    "disclosures": {
        "party_id": DEFAULT_PARTY,
        "customer_id": DEFAULT_CUSTOMER,
        "disclosed_at": IN_2026_Q3,
        "category": "name",
        "purpose": "render_services",
        "anonymized": False,
        "encrypted_in_transit": True,
        "customer_notified_at": None,
        "notification_prohibited": False,
    },
    "consents": {
        "customer_id": DEFAULT_CUSTOMER,
        "kind": "marketing_opt_in",
        "given_at": LONG_AGO,
        "withdrawn_at": None,
    },
    "communications": {
        "customer_id": DEFAULT_CUSTOMER,
        "sent_at": IN_2026_Q3,
        "kind": "essential",
        "channel": "email",
    },
    "dsr_requests": {
        "customer_id": DEFAULT_CUSTOMER,
        "kind": "access",
        "received_at": IN_2026_Q3,
        "completed_at": None,
        "outcome": lambda row: "pending" if row["completed_at"] is None else "fulfilled",
        "refusal_reason": lambda row: "not stated" if row["outcome"] == "refused" else None,
    },
    "disputes": {
        "customer_id": DEFAULT_CUSTOMER,
        "received_at": IN_2026_Q3,
        "responded_at": None,
        "resolved_at": None,
        "topic": None,
    },
    "legal_holds": {
        "customer_id": DEFAULT_CUSTOMER,
        "reason": "legal_claim",
        "placed_at": LONG_AGO,
        "released_at": None,
    },
    "tracking_events": {
        "customer_id": None,
        "occurred_at": IN_2026_Q3,
        "area": "website",
        "tracker_kind": "essential",
        "dnt": False,
    },
}


def complete_tables(partial: PartialRows) -> dict[str, list[Row]]:
    """Every table of the schema, each row with every column, referenced rows added.

    >>> tables = complete_tables({"personal_data": [{"item_id": "I1"}]})
    >>> tables["customers"][0]["customer_id"], tables["customers"][0]["account_status"]
    ('C0', 'active')
    """
    unknown = set(partial) - set(TABLE_BY_NAME)
    if unknown:
        raise ValueError(f"unknown table(s): {sorted(unknown)}")
    tables = {
        table.name: [_complete(table.name, row, n) for n, row in enumerate(partial.get(table.name) or [], 1)]
        for table in TABLES
    }
    for table in TABLES:
        for column in table.columns:
            if column.references is None:
                continue
            target, target_key = column.references.split(".")
            present = {row[target_key] for row in tables[target]}
            for row in tables[table.name]:
                if row[column.name] is not None and row[column.name] not in present:
                    tables[target].append(_complete(target, {target_key: row[column.name]}, 0))
                    present.add(row[column.name])
    return tables


def _complete(table_name: str, given: Mapping[str, object], n: int) -> Row:
    table = TABLE_BY_NAME[table_name]
    unknown = set(given) - {c.name for c in table.columns}
    if unknown:
        raise ValueError(f"{table_name}: unknown column(s) {sorted(unknown)} in {dict(given)}")
    row: Row = {table.key: given.get(table.key, f"{table_name}-{n}")}
    defaults = DEFAULTS[table_name]
    row |= {name: given[name] for name in defaults if name in given}
    for name, default in defaults.items():
        if name not in given:
            row[name] = default(row) if callable(default) else default
    for column in table.columns:
        value = row[column.name]
        if isinstance(value, bool) and column.kind != "boolean":
            # YAML reads an unquoted NO (Norway) as false.
            raise ValueError(f"{table_name}.{column.name}: {value!r} is not a {column.kind}")
    return {column.name: row[column.name] for column in table.columns}


def write_export(tables: Mapping[str, Sequence[Row]], folder: Path) -> Path:
    """One `<table>.csv` per table of the schema (header only when empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        with (folder / f"{table.name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([c.name for c in table.columns])
            for row in tables.get(table.name, ()):
                writer.writerow([_csv_value(row[c.name]) for c in table.columns])
    return folder


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):  # YAML reads unquoted timestamps as datetimes
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


#: Hand-built snapshots are taken late enough to audit any period the tests name.
LATE_TAKEN_AT = "2030-01-01T00:00:00Z"


def make_snapshot(folder: Path, partial: PartialRows, taken_at: str | None = LATE_TAKEN_AT) -> Path:
    """Write the completed export under `folder` and build `folder/snapshot.duckdb`."""
    from audit_lib.ingest.snapshot import build_snapshot

    export = write_export(complete_tables(partial), folder / "export")
    snapshot = folder / "snapshot.duckdb"
    build_snapshot(export, snapshot, taken_at=taken_at)
    return snapshot
