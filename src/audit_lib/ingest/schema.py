"""The inventory export contract (spec/inventory.md) as data.

Everything that validates, builds, generates or documents an export reads
these definitions; nothing else spells out a table's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

#: Every timestamp (UTC) and date an export may hold lies from EARLIEST to LATEST,
#: both days included: wide enough for any birth date and any record's life, narrow
#: enough that an audit's date arithmetic (ages, deadlines, retention periods of
#: decades) on an accepted value stays inside what Python's datetime and DuckDB
#: represent. Audit and investigation parameters should keep inside it as well.
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)

CATEGORIES = (
    "name",
    "company_name",
    "address",
    "phone",
    "birth_date",
    "email",
    "ip_address",
    "tracker_id",
    "billing",
    "card",
    "financial",
)

ENUMS: dict[str, tuple[str, ...]] = {
    "account_status": ("active", "deactivated", "cancelled"),
    "category": CATEGORIES,
    "system_kind": ("application", "analytics", "backup", "archive", "access_log"),
    "data_purpose": (
        "registration",
        "service_delivery",
        "improvement",
        "communication",
        "marketing_analytics",
        "legal_compliance",
    ),
    "channel": ("phone", "text", "email", "paper", "web_form", "tracking"),
    "party_kind": (
        "sub_processor",
        "affiliate",
        "partner",
        "law_enforcement",
        "government",
        "private_party",
        "acquirer",
    ),
    "transfer_safeguard": ("adequacy", "scc", "bcr", "none"),
    "consent_kind": ("marketing_opt_in", "marketing_opt_out", "limit_sharing"),
    "message_kind": ("essential", "service_notification", "newsletter", "promotion"),
    "message_channel": ("email", "sms", "phone", "post"),
    "request_kind": ("access", "rectification", "deletion", "restriction", "child_data_removal"),
    "request_outcome": ("fulfilled", "refused", "pending"),
    "hold_reason": ("tos_breach", "fraud", "legal_claim"),
    "tracking_area": ("website", "services", "client_area", "control_panel", "third_party"),
    "tracker_kind": ("essential", "analytics", "advertising"),
}

#: Column kinds of the contract; enums are named by their ENUMS key.
SCALAR_KINDS = ("string", "timestamp", "date", "boolean", "country")


@dataclass(frozen=True)
class Column:
    """One listed column: `kind` is a scalar kind or the name of an enum."""

    name: str
    kind: str
    nullable: bool = False
    references: str | None = None  # "table.column"

    @property
    def enum(self) -> tuple[str, ...] | None:
        return ENUMS.get(self.kind)


@dataclass(frozen=True)
class RowRule:
    """A row-level rule; `broken` is a SQL predicate true for an offending row."""

    column: str | None
    rule: str
    broken: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rules: tuple[RowRule, ...] = field(default=())

    @property
    def key(self) -> str:
        return self.columns[0].name

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _not_before(column: str, earlier: str) -> RowRule:
    return RowRule(column, f"{column} not before {earlier}", f"{column} < {earlier}")


C = Column
TABLES: tuple[Table, ...] = (
    Table(
        "customers",
        (
            C("customer_id", "string"),
            C("country", "country"),
            C("birth_date", "date", nullable=True),
            C("account_status", "account_status"),
            C("created_at", "timestamp"),
            C("deactivated_at", "timestamp", nullable=True),
        ),
        (
            RowRule(
                "deactivated_at",
                "deactivated_at is NULL iff account_status = active",
                "(deactivated_at IS NULL) <> (account_status = 'active')",
            ),
            _not_before("deactivated_at", "created_at"),
        ),
    ),
    Table(
        "personal_data",
        (
            C("item_id", "string"),
            C("customer_id", "string", references="customers.customer_id"),
            C("category", "category"),
            C("system", "string"),
            C("system_kind", "system_kind"),
            C("purpose", "data_purpose"),
            C("channel", "channel"),
            C("received_at", "timestamp"),
            C("encrypted", "boolean"),
        ),
    ),
    Table(
        "parties",
        (
            C("party_id", "string"),
            C("name", "string"),
            C("kind", "party_kind"),
            C("country", "country"),
            C("authorized_from", "date", nullable=True),
            C("authorized_until", "date", nullable=True),
            C("dpa_signed_at", "date", nullable=True),
            C("transfer_safeguard", "transfer_safeguard", nullable=True),
        ),
    ),
    Table(
        "disclosures",
        (
            C("disclosure_id", "string"),
            C("party_id", "string", references="parties.party_id"),
            C("customer_id", "string", nullable=True, references="customers.customer_id"),
            C("disclosed_at", "timestamp"),
            C("category", "category"),
            C("purpose", "string"),
            C("anonymized", "boolean"),
            C("encrypted_in_transit", "boolean"),
            C("customer_notified_at", "timestamp", nullable=True),
            C("notification_prohibited", "boolean"),
        ),
    ),
    Table(
        "consents",
        (
            C("consent_id", "string"),
            C("customer_id", "string", references="customers.customer_id"),
            C("kind", "consent_kind"),
            C("given_at", "timestamp"),
            C("withdrawn_at", "timestamp", nullable=True),
        ),
        (_not_before("withdrawn_at", "given_at"),),
    ),
    Table(
        "communications",
        (
            C("message_id", "string"),
            C("customer_id", "string", references="customers.customer_id"),
            C("sent_at", "timestamp"),
            C("kind", "message_kind"),
            C("channel", "message_channel"),
        ),
    ),
    Table(
        "dsr_requests",
        (
            C("request_id", "string"),
            C("customer_id", "string", references="customers.customer_id"),
            C("kind", "request_kind"),
            C("received_at", "timestamp"),
            C("completed_at", "timestamp", nullable=True),
            C("outcome", "request_outcome"),
            C("refusal_reason", "string", nullable=True),
        ),
        (
            _not_before("completed_at", "received_at"),
            RowRule(
                "outcome",
                "outcome = pending iff completed_at is NULL",
                "(outcome = 'pending') <> (completed_at IS NULL)",
            ),
            RowRule(
                "refusal_reason",
                "refusal_reason set iff outcome = refused",
                "(refusal_reason IS NULL) = (outcome = 'refused')",
            ),
        ),
    ),
    Table(
        "disputes",
        (
            C("dispute_id", "string"),
            C("customer_id", "string", nullable=True, references="customers.customer_id"),
            C("received_at", "timestamp"),
            C("responded_at", "timestamp", nullable=True),
            C("resolved_at", "timestamp", nullable=True),
            C("topic", "string", nullable=True),
        ),
        (_not_before("responded_at", "received_at"),),
    ),
    Table(
        "legal_holds",
        (
            C("hold_id", "string"),
            C("customer_id", "string", references="customers.customer_id"),
            C("reason", "hold_reason"),
            C("placed_at", "timestamp"),
            C("released_at", "timestamp", nullable=True),
        ),
        (_not_before("released_at", "placed_at"),),
    ),
    Table(
        "tracking_events",
        (
            C("event_id", "string"),
            C("customer_id", "string", nullable=True, references="customers.customer_id"),
            C("occurred_at", "timestamp"),
            C("area", "tracking_area"),
            C("tracker_kind", "tracker_kind"),
            C("dnt", "boolean"),
        ),
    ),
)

TABLE_BY_NAME = {t.name: t for t in TABLES}
