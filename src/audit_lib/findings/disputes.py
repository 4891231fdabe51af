"""Complaints and data-subject requests with their response deadline, most urgent first.

Both are due `response_days` after receipt (policy §22; DSR-01, DSP-01). The
listing shows each as it stood at `as_of`: an answer stored after as_of did
not exist yet, so the item was open then. The status and the days left come
from the vocabulary (`deadline_status`, `days_left`), as for the controls.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from audit_lib.periods import iso

if TYPE_CHECKING:
    import duckdb

LISTING = """
WITH items AS (
    SELECT 'complaint' AS type, dispute_id AS id, customer_id, received_at, responded_at AS answered_at
    FROM disputes
    UNION ALL
    SELECT 'request (' || kind || ')', request_id, customer_id, received_at, completed_at
    FROM dsr_requests
),
at_as_of AS (
    SELECT *, CASE WHEN answered_at <= $as_of THEN answered_at END AS answered
    FROM items
    WHERE received_at <= $as_of AND ($customer_id IS NULL OR customer_id = $customer_id)
      AND ($type IS NULL OR starts_with(type, $type))
)
SELECT
    type, id, customer_id, received_at,
    CAST(due(received_at, $response_days) AS TIMESTAMPTZ) AS deadline,
    answered AS answered_at,
    deadline_status(received_at, $response_days, answered, $as_of) AS status,
    CASE WHEN answered IS NULL THEN days_left(received_at, $response_days, $as_of) END AS days_left
FROM at_as_of
WHERE NOT $open_only OR answered IS NULL
ORDER BY answered IS NOT NULL, days_left, received_at DESC, id
"""
FIELDS = ("type", "id", "customer_id", "received_at", "deadline", "answered_at", "status", "days_left")


def listing(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    response_days: int,
    customer_id: str | None = None,
    open_only: bool = False,
    type_: str | None = None,
) -> list[dict[str, object]]:
    """Every complaint and request received by as_of: of one customer, open ones only, one type."""
    bindings = {"as_of": as_of, "response_days": response_days, "customer_id": customer_id, "type": type_}
    rows = con.execute(LISTING, {**bindings, "open_only": open_only}).fetchall()
    shown = []
    for row in rows:
        item = dict(zip(FIELDS, row, strict=True))
        item.update({k: iso(item[k]) for k in ("received_at", "deadline", "answered_at")})
        shown.append(item)
    return shown
