"""Periods and parameters: quarters, ad-hoc periods, UTC parsing, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audit_lib.errors import UsageError
from audit_lib.params import DEFAULTS, parse_assignments, resolve
from audit_lib.periods import Period, iso, parse_timestamp


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        ("2026-Q1", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"),
        ("2026-Q3", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z"),
        ("2026-Q4", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"),
    ],
)
def test_quarters_are_half_open_utc(label: str, start: str, end: str) -> None:
    period = Period.quarter(label)
    assert (iso(period.start), iso(period.end), iso(period.as_of)) == (start, end, end)
    assert Period.parse(label) == period


def test_previous_quarter_wraps_the_year() -> None:
    assert Period.quarter("2026-Q1").previous() == Period.quarter("2025-Q4")
    assert Period.quarter("2026-Q3").previous() == Period.quarter("2026-Q2")
    assert Period.until("2026-10-01T00:00:00Z").previous() is None


def test_until_has_no_start_and_binds_minus_infinity() -> None:
    period = Period.until("2026-10-08T12:00:00+02:00")
    assert period.start is None and iso(period.as_of) == "2026-10-08T10:00:00Z"
    assert period.bind()["start"] == "-infinity"
    assert period.to_json()["start"] == "-infinity"
    assert Period.parse(period.label) == period


def test_explicit_period_round_trips() -> None:
    period = Period.between("2026-07-15T00:00:00Z", "2026-08-01T00:00:00Z")
    assert Period.parse(period.label) == period
    with pytest.raises(UsageError):
        Period.between("2026-08-01T00:00:00Z", "2026-07-15T00:00:00Z")


@pytest.mark.parametrize("bad", ["2026-Q5", "2026Q3", "Q3-2026", "", "9999-Q4", "0000-Q1"])
def test_bad_quarters_refused(bad: str) -> None:
    with pytest.raises(UsageError):
        Period.quarter(bad)


def test_timestamps_are_kept_to_the_second() -> None:
    assert parse_timestamp("2026-07-01T09:30:00.900Z") == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


def test_timestamps_without_offset_are_utc() -> None:
    assert parse_timestamp("2026-07-01T09:30:00") == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert parse_timestamp("2026-07-01T09:30:00Z") == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    with pytest.raises(UsageError):
        parse_timestamp("next tuesday")


def test_parameters() -> None:
    assert resolve() == DEFAULTS
    assert resolve(parse_assignments(["grace_days=180"]))["grace_days"] == 180
    for bad in ({"grace": "1"}, {"grace_days": "soon"}, {"min_age": "-1"}, {"grace_days": "99999999999"}):
        with pytest.raises(UsageError):
            resolve(bad)
    with pytest.raises(UsageError):
        parse_assignments(["grace_days"])


def test_a_quarter_in_lower_case_is_that_quarter() -> None:
    assert Period.quarter("2026-q3") == Period.quarter("2026-Q3")
    assert Period.quarter(" 2026-q3 ").label == "2026-Q3"
