"""A builder for planted rows and the outcome each must get from the controls."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import polars as pl

from audit_lib.controls.registry import load_controls
from audit_lib.sample.frames import NO_CUSTOMER, working_frame, working_schema
from audit_lib.sample.parties import Party, party_ids
from audit_lib.sample.timeline import Timeline, secs

#: The controls of controls.md, in its order, as the registry loads them.
CONTROL_IDS = tuple(control.id for control in load_controls())
SYSTEM_KINDS = {
    "crm": "application", "billing-db": "application", "archive": "archive",
    "access-logs": "access_log", "backups": "backup",
}  # fmt: skip


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass
class Expected:
    """The planted outcomes of one control, by tag."""

    violations: set[str] = field(default_factory=set)
    exceptions: dict[str, str] = field(default_factory=dict)
    compliant: set[str] = field(default_factory=set)


class Plan:
    """Planted rows (by tag) and what every control must say about them."""

    def __init__(self, timeline: Timeline, parties: list[Party]) -> None:
        self.start, self.as_of = timeline.start, timeline.as_of
        self.parties = {p.key: p for p in parties}
        self.party_ids = party_ids(parties)
        self.rows: dict[str, list[dict[str, object]]] = defaultdict(list)
        self.customers: list[str] = []
        self.tags: set[str] = set()
        self.expected = {control: Expected() for control in CONTROL_IDS}
        self.investigation: dict[str, str] = {}

    # -- rows -------------------------------------------------------------
    def add(self, table: str, tag: str, **values: object) -> str:
        if tag in self.tags:
            raise ValueError(f"planted tag {tag!r} used twice")
        self.tags.add(tag)
        self.rows[table].append({"_tag": tag, **values})
        return tag

    def customer(
        self, tag: str, created: datetime, *, country: str = "US", birth: date | None = None,
        deactivated: datetime | None = None, status: str = "deactivated",
    ) -> str:  # fmt: skip
        self.customers.append(tag)
        return self.add(
            "customers", tag, country=country, birth_date=birth, created_at=created,
            account_status="active" if deactivated is None else status,
            deactivated_at=deactivated,
        )  # fmt: skip

    def item(
        self, tag: str, customer: str, received: datetime, *, category: str = "name",
        system: str = "crm", purpose: str = "service_delivery", encrypted: bool = True,
    ) -> str:  # fmt: skip
        channel = "tracking" if category in ("ip_address", "tracker_id") else "web_form"
        return self.add(
            "personal_data", tag, _cust=customer, category=category, system=system,
            system_kind=SYSTEM_KINDS[system], purpose=purpose, channel=channel,
            received_at=received, encrypted=encrypted,
        )  # fmt: skip

    def disclosure(
        self, tag: str, party: str, customer: str | None, at: datetime, purpose: str, *,
        anonymized: bool = False, encrypted: bool = True, notified: datetime | None = None,
        prohibited: bool = False, category: str = "email",
    ) -> str:  # fmt: skip
        return self.add(
            "disclosures", tag, party_id=self.party_ids[party], _cust=customer, disclosed_at=at,
            category=category, purpose=purpose, anonymized=anonymized,
            encrypted_in_transit=encrypted, customer_notified_at=notified,
            notification_prohibited=prohibited,
        )  # fmt: skip

    def consent(
        self, tag: str, customer: str, kind: str, given: datetime, withdrawn: datetime | None = None
    ) -> str:
        return self.add("consents", tag, _cust=customer, kind=kind, given_at=given, withdrawn_at=withdrawn)

    def message(self, tag: str, customer: str, sent: datetime, kind: str, channel: str = "email") -> str:
        return self.add("communications", tag, _cust=customer, sent_at=sent, kind=kind, channel=channel)

    def request(
        self, tag: str, customer: str, kind: str, received: datetime,
        completed: datetime | None = None, *, refused: bool = False,
    ) -> str:  # fmt: skip
        outcome = "pending" if completed is None else "refused" if refused else "fulfilled"
        return self.add(
            "dsr_requests", tag, _cust=customer, kind=kind, received_at=received,
            completed_at=completed, outcome=outcome,
            refusal_reason="manifestly unfounded" if refused else None,
        )  # fmt: skip

    def dispute(
        self, tag: str, customer: str | None, received: datetime,
        responded: datetime | None = None, *, topic: str | None = "Use of my personal data",
    ) -> str:  # fmt: skip
        return self.add(
            "disputes", tag, _cust=customer, received_at=received, responded_at=responded,
            resolved_at=responded, topic=topic,
        )  # fmt: skip

    def hold(
        self, tag: str, customer: str, reason: str, placed: datetime,
        released: datetime | None = None,
    ) -> str:  # fmt: skip
        return self.add(
            "legal_holds", tag, _cust=customer, reason=reason, placed_at=placed,
            released_at=released,
        )  # fmt: skip

    def event(
        self, tag: str, customer: str | None, at: datetime, area: str, tracker: str,
        dnt: bool = True,
    ) -> str:  # fmt: skip
        return self.add(
            "tracking_events", tag, _cust=customer, occurred_at=at, area=area,
            tracker_kind=tracker, dnt=dnt,
        )  # fmt: skip

    # -- outcomes ---------------------------------------------------------
    def violation(self, control: str, *tags: str) -> None:
        self.expected[control].violations.update(tags)

    def exception(self, control: str, reason: str, *tags: str) -> None:
        self.expected[control].exceptions.update(dict.fromkeys(tags, reason))

    def compliant(self, control: str, *tags: str) -> None:
        self.expected[control].compliant.update(tags)

    # -- output -----------------------------------------------------------
    def frames(self, background_customers: int) -> dict[str, pl.DataFrame]:
        """Working frames of the planted rows; planted customers follow the background's."""
        index = {tag: background_customers + i for i, tag in enumerate(self.customers)}
        return {table: self._frame(table, rows, index) for table, rows in self.rows.items()}

    @staticmethod
    def _frame(table: str, rows: list[dict[str, object]], index: dict[str, int]) -> pl.DataFrame:
        schema = working_schema(table)
        columns: dict[str, list[object]] = {name: [] for name in schema}
        for row in rows:
            for name in schema:
                value = row[name]
                if name == "_cust":
                    value = NO_CUSTOMER if value is None else index[str(value)]
                elif isinstance(value, datetime):
                    value = secs(value)
                columns[name].append(value)
        return working_frame(table, {n: pl.Series(v, dtype=schema[n]) for n, v in columns.items()})

    def outcomes(self, keys: dict[str, str]) -> dict[str, dict[str, list]]:
        """Per control: sorted violation keys, `[key, reason]` exceptions, compliant keys."""
        result = {}
        for control, exp in self.expected.items():
            clash = (exp.violations & set(exp.exceptions)) | (
                exp.compliant & (exp.violations | set(exp.exceptions))
            )
            if clash:
                raise AssertionError(f"{control}: contradictory planted outcomes {sorted(clash)}")
            result[control] = {
                "violations": sorted(keys[t] for t in exp.violations),
                "exceptions": sorted([keys[t], r] for t, r in exp.exceptions.items()),
                "compliant": sorted(keys[t] for t in exp.compliant),
            }
        return result
