"""Evaluate the controls over a snapshot: the one API behind CLI, notebooks and tests."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from audit_lib.controls.registry import Control, load_controls
from audit_lib.controls.vocabulary import install_macros
from audit_lib.errors import UsageError
from audit_lib.ingest.schema import TABLES
from audit_lib.ingest.snapshot import SnapshotInfo, opened
from audit_lib.ingest.sources import ident
from audit_lib.params import resolve
from audit_lib.periods import Period, iso

# Each control's population judged and counted in one aggregate: a breaking record
# with an exemption is an exception, without one a violation.
JUDGE = """
SELECT
    count(*) AS population,
    coalesce(list(key ORDER BY key) FILTER (WHERE breaks AND exemption IS NULL), []) AS violations,
    coalesce(list([key, exemption] ORDER BY key) FILTER (WHERE breaks AND exemption IS NOT NULL), [])
        AS exceptions,
    coalesce(list([key, customer_id::VARCHAR] ORDER BY key) FILTER (WHERE breaks AND exemption IS NULL), [])
        AS violation_customers
FROM (
    SELECT key, coalesce(breaks, false) AS breaks, exemption, customer_id
    FROM ({query}) AS population
    {restriction}
)
"""


@dataclass(frozen=True)
class ControlResult:
    control: Control
    population: int
    violations: list[str]
    exceptions: list[tuple[str, str]]
    #: Each violation's customer_id (None where a record has none), by violation key.
    customers: dict[str, str | None] = field(default_factory=dict)
    #: Violations a waiver in force covers, `(key, waiver id)`: not counted in `violations`.
    waived: list[tuple[str, str]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.control.id

    @property
    def status(self) -> str:
        return "fail" if self.violations else "pass"


@dataclass(frozen=True)
class Findings:
    period: Period
    params: dict[str, int]
    snapshot: SnapshotInfo
    controls: list[ControlResult] = field(default_factory=list)
    customer_id: str | None = None
    #: The `waivers` register (findings.json's section) once waivers were applied; None without.
    waivers: dict[str, object] | None = None
    #: Per control id, its breaking records with their detail columns (`with_details` only).
    details: dict[str, object] | None = field(default=None, repr=False)

    def result(self, control_id: str) -> ControlResult:
        return next(r for r in self.controls if r.control.id == control_id)


def judge(
    con: duckdb.DuckDBPyConnection,
    control: Control,
    bindings: dict[str, object],
    customer_id: str | None = None,
) -> ControlResult:
    """Run one control; with `customer_id`, only that customer's records."""
    restriction = "WHERE customer_id = $customer_id" if customer_id is not None else ""
    sql = JUDGE.format(query=control.query, restriction=restriction)
    names = (*control.parameters, "customer_id") if customer_id is not None else control.parameters
    values = {**bindings, "customer_id": customer_id}
    population, violations, exceptions, customers = con.execute(
        sql, {n: values[n] for n in names}
    ).fetchall()[0]
    return ControlResult(
        control, population, violations, [(k, r) for k, r in exceptions], {k: c for k, c in customers}
    )


def evaluate_connection(
    con: duckdb.DuckDBPyConnection,
    info: SnapshotInfo,
    period: Period,
    params: dict[str, object] | None = None,
    customer_id: str | None = None,
    on_control: Callable[[Control], None] | None = None,
    with_details: bool = False,
) -> Findings:
    """Judge every control over `period` on an open snapshot whose identity is `info`.

    `with_details` also fetches each control's breaking records with their detail columns.
    """
    from audit_lib.controls.details import detail_frame

    install_macros(con)
    engine = (functools.partial(judge, con), functools.partial(detail_frame, con))
    with restricted(con, customer_id):
        return judge_all(engine, info, period, params, customer_id, on_control, with_details)


#: The tables that hold customers' records (all but parties).
CUSTOMER_TABLES = tuple(t.name for t in TABLES if any(c.name == "customer_id" for c in t.columns))


@contextlib.contextmanager
def restricted(con: duckdb.DuckDBPyConnection, customer_id: str | None) -> Iterator[None]:
    """With `customer_id`, each customer table shadowed by a temporary table of that customer's rows.

    One pass over each table, instead of one per control. Every control reads a customer's records
    together with that same customer's only (and parties, kept whole), and `judge` still keeps the
    customer's records, so the verdicts are those of the whole snapshot restricted to the customer.
    """
    if customer_id is None:
        yield
        return
    (database,) = con.execute("SELECT current_database()").fetchall()[0]
    try:
        for name in CUSTOMER_TABLES:
            con.execute(
                f"CREATE TEMP TABLE {name} AS "
                f"SELECT * FROM {ident(database)}.main.{name} WHERE customer_id = $customer_id",
                {"customer_id": customer_id},
            )
        yield
    finally:
        for name in CUSTOMER_TABLES:
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")


#: How an engine judges one control, and fetches its breaking records: (control, bindings, customer),
#: and for the records, the keys the verdict found breaking.
Judge = Callable[[Control, dict[str, object], str | None], ControlResult]
Details = Callable[[Control, dict[str, object], str | None, list[str]], object]


def judge_all(
    engine: tuple[Judge, Details],
    info: SnapshotInfo,
    period: Period,
    params: dict[str, object] | None = None,
    customer_id: str | None = None,
    on_control: Callable[[Control], None] | None = None,
    with_details: bool = False,
) -> Findings:
    """Every control judged by `engine` (DuckDB's, or another one's), in the order of controls.md."""
    judge_one, details_of = engine
    resolved = resolve(params)
    require_visible(period, info)
    bindings = {**period.bind(), **resolved}
    results, details = [], {}
    for control in load_controls():
        results.append(result := judge_one(control, bindings, customer_id))
        if with_details:
            breaking = [*result.violations, *(key for key, _ in result.exceptions)]
            details[control.id] = details_of(control, bindings, customer_id, breaking)
        if on_control:
            on_control(control)
    return Findings(period, resolved, info, results, customer_id, details=details if with_details else None)


def require_visible(period: Period, info: SnapshotInfo) -> None:
    """Refuse an as_of the snapshot cannot show: after its taken_at (controls.md, Terms)."""
    if period.as_of > info.taken_at:
        taken = iso(info.taken_at)
        raise UsageError(
            f"as_of {iso(period.as_of)} is after the snapshot's taken_at {taken}: the snapshot cannot "
            f"show the inventory then. Audit up to {taken} with --as-of {taken}, or take a newer snapshot."
        )


def evaluate(
    snapshot_path: Path | str,
    period: Period,
    params: dict[str, object] | None = None,
    customer_id: str | None = None,
    on_control: Callable[[Control], None] | None = None,
    with_details: bool = False,
) -> Findings:
    """Judge every control over `period` on a snapshot opened read-only."""
    with opened(snapshot_path) as (con, info):
        return evaluate_connection(con, info, period, params, customer_id, on_control, with_details)
