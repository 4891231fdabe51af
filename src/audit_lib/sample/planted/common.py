"""What every planted story shares: reference spans, helpers, a hostile topic."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

from audit_lib.params import DEFAULTS
from audit_lib.sample.plan import Plan
from audit_lib.sample.timeline import add_years

D = timedelta
SEC = D(seconds=1)
DEADLINE = D(days=DEFAULTS["response_days"])  # notice_days has the same default
GRACE = D(days=DEFAULTS["grace_days"])
HTML_TOPIC = '<b>"Sold"</b> to partners, without consent? <img src=x onerror=alert(1)>'


def leap_day(before: datetime, years: int) -> datetime:
    """The latest 29 February, at noon, that plus `years` years is before `before`."""
    year = before.year - years
    while not calendar.isleap(year) or add_years(noon(year), years) >= before:
        year -= 1
    return noon(year)


def noon(year: int) -> datetime:
    return datetime(year, 2, 29 if calendar.isleap(year) else 28, 12, tzinfo=UTC)


def log(p: Plan, tag: str, customer: str, received: datetime, purpose: str = "service_delivery") -> str:
    """An access-log item (IP address)."""
    return p.item(tag, customer, received, category="ip_address", system="access-logs", purpose=purpose)


def sharers(p: Plan) -> str:
    """The US customer whose data the sharing stories disclose."""
    if "share_us" not in p.tags:
        p.customer("share_us", add_years(p.as_of, -6))
    return "share_us"


def date_of(value: date | None) -> date:
    assert value is not None
    return value
