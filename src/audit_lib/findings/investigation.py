"""One complaint investigated: its deadline, the customer's timeline, every control's verdict.

`investigate` builds the investigation.json document (outputs.md, "The
investigation folder") and `read_investigation` reads it back; the folder is
written by `audit_lib.runs.investigation`. Verdicts come from
`controls.evaluate` over `(-infinity, as_of)` restricted to the customer, and
the deadline's status from the vocabulary's `deadline_status`: no rule is
implemented twice.

Shapes worth knowing:

- `--customer` without a dispute: `"dispute": null`.
- A dispute whose `customer_id` is NULL (the complainant is not a
  customer): `runs.investigation` refuses it (exit 2, nothing written) with
  the dispute and its deadline in the message; `investigate` returns the
  dispute and its deadline, `"customer": null`, an empty
  timeline, and `controls` listing every control with `"status": "not
  judged"` and empty key lists (there is no customer to judge), so a reader
  of the lists needs no special case. `note` says why.
- Personal values (birth date, complaint topic, refusal reason: free text)
  pass through `mask` in this data layer unless `reveal`, so the JSON and the
  HTML hold the same thing; `"revealed"` records which it was. Keys,
  categories, kinds, dates, countries and party names are shown.
- `timeline` lists every record of the customer in the snapshot, also those
  after as_of (the chart marks as_of); verdicts judge `(-infinity, as_of)`.
- What the notebook shows of the document is in `report.investigation_view`.
- `disputes` lists every complaint and request of the customer with its
  deadline status at as_of (`findings.disputes`), most urgent first.
- Beyond the contract's fields: `parameters`, `generated_at`, `disputes`,
  `suite_version`, `revealed`, `note`, `timeline`, and per control its
  `clause`, `title`, `status` and `population` (for this customer).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib import __version__
from audit_lib.errors import NotFoundError, UsageError
from audit_lib.findings.disputes import listing
from audit_lib.findings.documents import read_document, snapshot_identity
from audit_lib.findings.masking import personal
from audit_lib.periods import Period, iso, to_utc, utc_now

if TYPE_CHECKING:
    import duckdb

FORMAT = "privacy-audit/investigation/1"
NO_CUSTOMER = "Dispute {dispute_id} has no customer_id: no customer verdicts, no timeline"

#: The dispute with its deadline and status at as_of, in the words of DSP-01.
DISPUTE = """
SELECT dispute_id, customer_id, received_at, responded_at, resolved_at, topic,
       CAST(due(received_at, $response_days) AS TIMESTAMPTZ) AS deadline,
       deadline_status(received_at, $response_days, responded_at, $as_of) AS status,
       CASE WHEN responded_at IS NULL THEN days_left(received_at, $response_days, $as_of) END AS days_left
FROM disputes WHERE dispute_id = $dispute_id
"""

CUSTOMER = """
SELECT customer_id, country, account_status, created_at, deactivated_at, birth_date
FROM customers WHERE customer_id = $customer_id
"""

#: Every record of one customer, one row each, in time order. `note` holds
#: free text (masked unless revealed); everything else is keys, kinds, dates.
TIMELINE = """
SELECT * FROM (
    SELECT received_at AS "at", NULL::TIMESTAMPTZ AS "until", 'item' AS "type", item_id AS "key",
           category::VARCHAR AS kind, NULL AS party, NULL AS country,
           concat_ws(', ', system || ' (' || system_kind || ')', 'purpose ' || purpose,
                     'via ' || channel, CASE WHEN NOT encrypted THEN 'not encrypted' END) AS detail,
           NULL AS note
    FROM personal_data WHERE customer_id = $customer_id
    UNION ALL
    SELECT d.disclosed_at, NULL, 'disclosure', d.disclosure_id, d.category::VARCHAR,
           p.name, p.country,
           concat_ws(', ', p.kind, 'purpose ' || d.purpose,
                     CASE WHEN d.anonymized THEN 'anonymized' END,
                     CASE WHEN NOT d.encrypted_in_transit THEN 'not encrypted in transit' END,
                     'customer notified ' || strftime(d.customer_notified_at, '%Y-%m-%dT%H:%M:%SZ'),
                     CASE WHEN d.notification_prohibited THEN 'notification prohibited' END),
           NULL
    FROM disclosures AS d JOIN parties AS p USING (party_id) WHERE d.customer_id = $customer_id
    UNION ALL
    SELECT given_at, withdrawn_at, 'consent', consent_id, kind::VARCHAR, NULL, NULL, NULL, NULL
    FROM consents WHERE customer_id = $customer_id
    UNION ALL
    SELECT sent_at, NULL, 'message', message_id, kind::VARCHAR, NULL, NULL, 'via ' || channel, NULL
    FROM communications WHERE customer_id = $customer_id
    UNION ALL
    SELECT received_at, completed_at, 'request', request_id, kind::VARCHAR, NULL, NULL,
           'outcome ' || outcome, refusal_reason
    FROM dsr_requests WHERE customer_id = $customer_id
    UNION ALL
    SELECT placed_at, released_at, 'hold', hold_id, reason::VARCHAR, NULL, NULL, NULL, NULL
    FROM legal_holds WHERE customer_id = $customer_id
    UNION ALL
    SELECT occurred_at, NULL, 'tracking', event_id, tracker_kind::VARCHAR, NULL, NULL,
           concat_ws(', ', area, CASE WHEN dnt THEN 'Do Not Track' END), NULL
    FROM tracking_events WHERE customer_id = $customer_id
    UNION ALL
    SELECT received_at, responded_at, 'complaint', dispute_id, 'complaint', NULL, NULL,
           'resolved ' || strftime(resolved_at, '%Y-%m-%dT%H:%M:%SZ'), topic
    FROM disputes WHERE customer_id = $customer_id
)
ORDER BY "at", "type", "key"
"""

EVENT_TYPES = ("item", "disclosure", "consent", "message", "request", "hold", "tracking", "complaint")
NOT_JUDGED = "not judged"
TIMELINE_FIELDS = ("at", "until", "type", "key", "kind", "party", "country", "detail", "note")


def investigate(
    snapshot: Path | str,
    dispute_id: str | None = None,
    customer_id: str | None = None,
    as_of: str | datetime | None = None,
    params: dict[str, object] | None = None,
    reveal: bool = False,
) -> dict[str, object]:
    """The investigation.json document of one dispute, or of one customer.

    Unknown ids raise NotFoundError and a bad snapshot SnapshotError; nothing
    is written here. For a dispute without customer, every control is listed
    "not judged" with empty key lists.
    """
    from audit_lib.controls.evaluate import evaluate_connection, require_visible
    from audit_lib.controls.vocabulary import install_macros
    from audit_lib.engines import selected_engine
    from audit_lib.ingest.snapshot import opened
    from audit_lib.params import resolve

    if (dispute_id is None) == (customer_id is None):
        raise UsageError("give exactly one of a dispute id or a customer id")
    resolved = resolve(params)
    with opened(snapshot) as (con, info):
        install_macros(con)
        when = _as_of(as_of, info.taken_at)
        period = Period.until(when)
        require_visible(period, info)
        dispute = find_dispute(con, dispute_id, resolved["response_days"], when) if dispute_id else None
        if dispute and when < dispute["received_at"]:
            raise UsageError(
                f"as_of {iso(when)} is before dispute {dispute_id} was received "
                f"({iso(dispute['received_at'])}): there is nothing to investigate yet"
            )
        who = dispute["customer_id"] if dispute else customer_id
        customer = find_customer(con, who) if who is not None else None
        findings = None
        if customer and (engine := selected_engine()) is not None:  # --engine spark
            findings = engine.evaluate(Path(snapshot), period, resolved, customer_id=who)
        elif customer:
            findings = evaluate_connection(con, info, period, resolved, customer_id=who)
        events = timeline(con, who) if customer else []
        disputes = listing(con, when, resolved["response_days"], who) if customer else []
    return {
        "format": FORMAT,
        "as_of": iso(when),
        "snapshot": snapshot_identity(info),
        "parameters": resolved,
        "generated_at": iso(utc_now()),
        "suite_version": __version__,
        "revealed": reveal,
        "dispute": dispute_document(dispute, reveal) if dispute else None,
        "customer": customer_document(customer, reveal) if customer else None,
        "note": None if customer else NO_CUSTOMER.format(dispute_id=dispute_id),
        "controls": controls_document(findings),
        "disputes": disputes,
        "timeline": [timeline_document(event, reveal) for event in events],
    }


def _as_of(value: str | datetime | None, taken_at: datetime) -> datetime:
    return to_utc(taken_at if value is None or value == "" else value)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, bindings: dict[str, object]) -> list[dict]:
    cursor = con.execute(sql, bindings)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def find_dispute(
    con: duckdb.DuckDBPyConnection, dispute_id: str, response_days: int, as_of: datetime
) -> dict:
    """The dispute with its deadline and status at `as_of`; NotFoundError if unknown."""
    bindings = {"dispute_id": dispute_id, "response_days": response_days, "as_of": as_of}
    rows = _rows(con, DISPUTE, bindings)
    if not rows:
        raise NotFoundError(f"no dispute {dispute_id!r} in the snapshot")
    return rows[0]


def find_customer(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict:
    rows = _rows(con, CUSTOMER, {"customer_id": customer_id})
    if not rows:
        raise NotFoundError(f"no customer {customer_id!r} in the snapshot")
    return rows[0]


def timeline(con: duckdb.DuckDBPyConnection, customer_id: str) -> list[dict]:
    """Every record of the customer, unmasked, in time order (one UNION ALL query)."""
    return _rows(con, TIMELINE, {"customer_id": customer_id})


def dispute_document(row: dict, reveal: bool) -> dict[str, object]:
    return {
        "id": row["dispute_id"],
        "customer_id": row["customer_id"],
        "received_at": iso(row["received_at"]),
        "responded_at": iso(row["responded_at"]),
        "resolved_at": iso(row["resolved_at"]),
        "deadline": iso(row["deadline"]),
        "status": row["status"],
        "days_left": row["days_left"],
        "topic": personal(row["topic"], reveal),
    }


def customer_document(row: dict, reveal: bool) -> dict[str, object]:
    return {
        "id": row["customer_id"],
        "country": row["country"],
        "account_status": row["account_status"],
        "created_at": iso(row["created_at"]),
        "deactivated_at": iso(row["deactivated_at"]),
        "birth_date": personal(row["birth_date"], reveal),
    }


def controls_document(findings: object | None) -> dict[str, object]:
    """Every control in spec order: the customer's verdicts, or "not judged" without a customer."""
    from audit_lib.controls.registry import load_controls

    if findings is None:
        return {
            c.id: {"clause": c.clause, "title": c.title, "status": NOT_JUDGED, "population": 0,
                   "violations": [], "exceptions": []}
            for c in load_controls()
        }  # fmt: skip
    return {
        r.control.id: {
            "clause": r.control.clause,
            "title": r.control.title,
            "status": r.status,
            "population": r.population,
            "violations": sorted(r.violations),
            "exceptions": sorted([key, reason] for key, reason in r.exceptions),
        }
        for r in findings.controls
    }


def timeline_document(event: dict, reveal: bool) -> dict[str, object]:
    shown = {name: event[name] for name in TIMELINE_FIELDS}
    shown["at"], shown["until"] = iso(event["at"]), iso(event["until"])
    shown["note"] = personal(event["note"], reveal)
    return shown


def read_investigation(path: Path) -> dict[str, object]:
    """An investigation.json document, checked by its format."""
    return read_document(path, FORMAT)
