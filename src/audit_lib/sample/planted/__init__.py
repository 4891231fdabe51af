"""The planted rows: for every control, its violations, each of its exemptions,
and the boundary cases around each deadline and bound.

Each story uses customers of its own, so that its rows touch no other
control unless the story says so. All times are placed relative to the
reference period `[S, A)` (A = as_of); the comments give the 2026-Q3 values.
"""

from __future__ import annotations

from collections.abc import Callable

from audit_lib.sample.parties import Party
from audit_lib.sample.plan import Plan
from audit_lib.sample.planted import customers, retention, sharing
from audit_lib.sample.timeline import Timeline


def build(timeline: Timeline, parties: list[Party]) -> Plan:
    """Every story planted into one plan, in the order of controls.md."""
    plan = Plan(timeline, parties)
    stories: tuple[Callable[[Plan], None], ...] = (
        retention.retention_cap, retention.deactivated, retention.erasure, retention.requests,
        retention.complaints,
        sharing.authorization, sharing.protection_and_purpose, sharing.legal_notice,
        sharing.limit_sharing, sharing.transfers, sharing.security,
        customers.opt_in, customers.opt_out, customers.tracking, customers.children,
        customers.investigation,
    )  # fmt: skip
    for story in stories:
        story(plan)
    return plan
