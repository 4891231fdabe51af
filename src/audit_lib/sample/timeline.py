"""Time anchors of a sample export, derived from its reference period.

Background rows are drawn as whole epoch seconds between anchors chosen so
that, at any `as_of` from the period's end up to the snapshot time, no
background row can break a control (see background.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from audit_lib.params import DEFAULTS
from audit_lib.periods import Period

DAY = 86_400
NEVER = 2**63 - 1  # an open upper bound, in epoch seconds
#: Days of data after `as_of` (the export is taken a week after the quarter ends).
LATE_DAYS = 7


def add_years(t: datetime, years: int) -> datetime:
    """Calendar addition: 29 February plus whole years may land on 28 February."""
    try:
        return t.replace(year=t.year + years)
    except ValueError:
        return t.replace(year=t.year + years, day=28)


def secs(t: datetime) -> int:
    """Epoch seconds of an aware datetime."""
    return int(t.timestamp())


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - date(1970, 1, 1)).days


@dataclass(frozen=True)
class Timeline:
    """The reference period and the background's anchors (epoch seconds)."""

    period: Period
    parameters: dict[str, int]

    @classmethod
    def for_quarter(cls, label: str) -> Timeline:
        return cls(Period.quarter(label), dict(DEFAULTS))

    @property
    def start(self) -> datetime:
        assert self.period.start is not None
        return self.period.start

    @property
    def as_of(self) -> datetime:
        return self.period.as_of

    @property
    def snapshot(self) -> datetime:
        """Every background timestamp is before this."""
        return self.as_of + timedelta(days=LATE_DAYS)

    @property
    def end(self) -> int:
        return secs(self.snapshot)

    @property
    def created_from(self) -> int:
        """The first customers signed up about 18 years ago."""
        return secs(add_years(self.as_of, -18))

    @property
    def item_floor(self) -> int:
        """Older items were deleted: every item is within the retention cap at `snapshot`."""
        years = self.parameters["retention_years"]
        return secs(add_years(self.snapshot, -years)) + DAY

    @property
    def grace_cut(self) -> int:
        """Accounts deactivated before this have had their items deleted."""
        return self.end - self.parameters["grace_days"] * DAY + DAY

    def years_back(self, years: int) -> int:
        """`as_of` minus whole calendar years, in seconds."""
        return secs(add_years(self.as_of, -years))
