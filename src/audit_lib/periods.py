"""Audit periods: half-open `[start, end)` UTC intervals, with `as_of = end`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from audit_lib.errors import UsageError

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 to an aware UTC datetime, to the whole second; no offset means UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise UsageError(f"not an ISO 8601 timestamp: {text!r}") from None
    return value.replace(microsecond=0)


def to_utc(value: str | datetime) -> datetime:
    """A timestamp given as text or datetime, in UTC to the whole second (naive = UTC)."""
    if isinstance(value, str):
        return parse_timestamp(value)
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.replace(microsecond=0)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(value: datetime | None) -> str | None:
    """`2026-07-01T00:00:00Z`, the one way the suite writes timestamps."""
    if value is None:
        return None
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


@dataclass(frozen=True)
class Period:
    """`start` None stands for -infinity (an ad-hoc audit up to `as_of`)."""

    label: str
    start: datetime | None
    end: datetime

    @property
    def as_of(self) -> datetime:
        return self.end

    @classmethod
    def quarter(cls, label: str) -> Period:
        match = QUARTER.match(label.strip())
        if not match:
            raise UsageError(f"not a quarter like 2026-Q3: {label!r}")
        year, q = int(match[1]), int(match[2])
        if not 1 <= year <= 9998:
            raise UsageError(f"quarter out of range: {label!r}")
        start = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
        end = datetime(year + q // 4, 3 * q + 1 if q < 4 else 1, 1, tzinfo=UTC)
        return cls(f"{year}-Q{q}", start, end)  # `2026-q3` is the quarter 2026-Q3

    @classmethod
    def until(cls, as_of: str | datetime) -> Period:
        end = to_utc(as_of)
        return cls(f"until {iso(end)}", None, end)

    @classmethod
    def between(cls, start: str, end: str) -> Period:
        first, last = parse_timestamp(start), parse_timestamp(end)
        if first >= last:
            raise UsageError(f"period start {start} is not before its end {end}")
        return cls(f"{iso(first)}/{iso(last)}", first, last)

    @classmethod
    def parse(cls, text: str) -> Period:
        """A label as `label` writes it: `2026-Q3`, `until <ts>` or `<start>/<end>`."""
        text = text.strip()
        if text.startswith("until "):
            return cls.until(text.removeprefix("until "))
        if "/" in text:
            return cls.between(*text.split("/", 1))
        return cls.quarter(text)

    def previous(self) -> Period | None:
        """The quarter before a quarter (None for other periods)."""
        match = QUARTER.match(self.label)
        if not match:
            return None
        year, q = int(match[1]), int(match[2])
        return Period.quarter(f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}")

    def bind(self) -> dict[str, object]:
        """Query parameters `$start`, `$end`, `$as_of` (`-infinity` for no start)."""
        return {"start": self.start or "-infinity", "end": self.end, "as_of": self.as_of}

    def context(self) -> dict[str, str | None]:
        """The period for narrative text: label, bounds and as_of."""
        return {**self.to_json(), "period": self.label, "as_of": iso(self.as_of)}

    def to_json(self) -> dict[str, str | None]:
        return {"label": self.label, "start": iso(self.start) or "-infinity", "end": iso(self.end)}


def narrative(
    period: Period, snapshot_id: str | None, taken_at: str | None, params: dict[str, int], **extra: object
) -> dict[str, object]:
    """Values for a notebook's narrative text: period, previous quarter, snapshot, parameters."""
    previous = period.previous()
    return {
        **period.context(),
        "previous": previous.label if previous else "no previous quarter",
        "snapshot_id": snapshot_id,
        "taken_at": taken_at,
        **params,
        **extra,
    }
