"""The policy's vocabulary, written once, as DuckDB macros.

Controls, figures and the investigation speak of "in the EU", "active at t",
"late", "past the cap" or "the deadline's status" through these macros and
never spell the rule out again. Macros are temporary, so snapshots stay
read-only. The EU and EEA lists live here and nowhere else (controls.md,
Terms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

#: The 27 member states of the EU (controls.md, Terms).
EU = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)  # fmt: skip
#: The European Economic Area: the EU plus Iceland, Liechtenstein and Norway.
EEA = (*EU, "IS", "LI", "NO")
#: Purposes for which policy §4 permits disclosure.
PERMITTED_DISCLOSURE_PURPOSES = (
    "render_services",
    "legal_requirement",
    "tos_breach",
    "aggregate",
    "business_transition",
)
#: Purposes still allowed while a limit-sharing notice is active (policy §6).
LIMITED_SHARING_PURPOSES = ("render_services", "legal_requirement", "tos_breach")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


#: Scalar macros: name(arguments) -> SQL expression.
MACROS = {
    "in_eu(country)": f"country IN ({_sql_list(EU)})",
    "in_eea(country)": f"country IN ({_sql_list(EEA)})",
    "permitted_purpose(purpose)": f"purpose IN ({_sql_list(PERMITTED_DISCLOSURE_PURPOSES)})",
    "limited_sharing_purpose(purpose)": f"purpose IN ({_sql_list(LIMITED_SHARING_PURPOSES)})",
    # Newsletters and promotions are marketing (MKT-01, MKT-02).
    "marketing_message(kind)": "kind IN ('newsletter', 'promotion')",
    # UTC wall-clock time: calendar arithmetic on it is exact (UTC has no DST) and fast.
    "utc(ts)": "CAST(ts AS TIMESTAMP)",
    # A consent, hold or authorization [since, until) is active at t (controls.md, Terms).
    "active_at(since, until, t)": "since <= t AND (until IS NULL OR until > t)",
    # "Within N days of ts": at or before this (time of day kept), in UTC wall-clock time.
    "due(ts, days)": "CAST(ts AS TIMESTAMP) + to_days(days)",
    # A deadline `days` after `since` is missed: done after it, or not done and passed at as_of.
    "late(since, days, done_at, as_of)": (
        "CASE WHEN done_at IS NULL THEN due(since, days) < utc(as_of) "
        "ELSE utc(done_at) > due(since, days) END"
    ),
    # met | missed (answered, on time or not) | open | overdue (unanswered at as_of).
    "deadline_status(since, days, done_at, as_of)": (
        "CASE WHEN done_at IS NOT NULL THEN CASE WHEN utc(done_at) > due(since, days) "
        "THEN 'missed' ELSE 'met' END "
        "WHEN due(since, days) < utc(as_of) THEN 'overdue' ELSE 'open' END"
    ),
    # Whole days from as_of to the deadline, floored: negative once overdue.
    "days_left(since, days, as_of)": (
        "CAST(floor(date_diff('second', utc(as_of), due(since, days)) / 86400.0) AS BIGINT)"
    ),
    # Days from the deadline to the answer (or to as_of, unanswered): positive when late.
    "late_by_days(since, days, done_at, as_of)": (
        "sign(date_diff('second', due(since, days), coalesce(utc(done_at), utc(as_of)))) * "
        "ceil(abs(date_diff('second', due(since, days), coalesce(utc(done_at), utc(as_of)))) / 8640.0) / 10"
    ),
    # Whole calendar years from `since` to `t` (an anniversary at t counts).
    "whole_years(since, t)": (
        "date_diff('year', utc(since), utc(t)) "
        "- CAST(utc(since) + to_years(date_diff('year', utc(since), utc(t))) > utc(t) AS INTEGER)"
    ),
    # A request or complaint is judged in [start, end) when received before the end
    # and not answered before the start (DSR-01, DSP-01).
    "open_during(received_at, answered_at, start, end_)": (
        "received_at < end_ AND (answered_at IS NULL OR answered_at >= start)"
    ),
    # RET-01: received more than `years` whole calendar years before as_of.
    "past_cap(received_at, years, as_of)": "utc(received_at) + to_years(years) < utc(as_of)",
    # SHR-01: a sub-processor listed, [authorized_from, authorized_until) active, at t.
    "authorized_at(kind, authorized_from, authorized_until, t)": (
        "kind = 'sub_processor' AND authorized_from IS NOT NULL AND active_at("
        "CAST(authorized_from AS TIMESTAMP), CAST(authorized_until AS TIMESTAMP), utc(t))"
    ),
    # SHR-02: a data-processing agreement in effect on the date of t.
    "bound_at(dpa_signed_at, t)": "dpa_signed_at IS NOT NULL AND dpa_signed_at <= CAST(t AS DATE)",
    # A consent of `kind` of the customer active at t (MKT-01, MKT-02, SHR-06).
    "consent_active(customer, consent_kind, t)": (
        "EXISTS (SELECT 1 FROM consents AS k WHERE k.customer_id = customer "
        "AND k.kind = consent_kind AND active_at(k.given_at, k.withdrawn_at, t))"
    ),
}

#: Table macros: name(arguments) -> query.
TABLE_MACROS = {
    # RET-02: customers deactivated or cancelled more than grace_days days before as_of.
    "expired_accounts(as_of, grace_days)": (
        "SELECT customer_id FROM customers WHERE account_status IN ('deactivated', 'cancelled') "
        "AND due(deactivated_at, grace_days) < utc(as_of)"
    ),
    # Customers under a hold active at as_of, of any reason or of the indefinite ones (§9).
    "held_customers(as_of)": (
        "SELECT customer_id FROM legal_holds WHERE active_at(placed_at, released_at, as_of)"
    ),
    "indefinitely_held_customers(as_of)": (
        "SELECT customer_id FROM legal_holds WHERE reason IN ('tos_breach', 'fraud') "
        "AND active_at(placed_at, released_at, as_of)"
    ),
}


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the vocabulary on a connection (temporary: snapshots stay read-only)."""
    for signature, body in MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {signature} AS {body}")
    for signature, body in TABLE_MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {signature} AS TABLE {body}")
