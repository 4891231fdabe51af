"""The records behind a control's verdict, with the columns its header declares as details.

The same query as the verdict, kept to its breaking rows (violations and
exceptions) and to the columns that explain one record; run once per control
when a report folder is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit_lib.controls.registry import Control
from audit_lib.ingest.sources import ident

if TYPE_CHECKING:
    import duckdb
    import polars as pl

DETAILS = """
SELECT key, {columns}
FROM ({query}) AS population
WHERE coalesce(breaks, false) {restriction}
ORDER BY key
"""


def detail_frame(
    con: duckdb.DuckDBPyConnection,
    control: Control,
    bindings: dict[str, object],
    customer_id: str | None = None,
    breaking: list[str] | None = None,
) -> pl.DataFrame:
    """One row per breaking record: `key`, `customer_id` and the control's detail columns.

    `breaking`: the keys the verdict found breaking, when known; the query is then kept to
    them, which DuckDB pushes down to the scans, below a control's grouping too (a fraction
    of a second at 10M rows, not the whole control again; `key IN (SELECT unnest(...))`
    is a join DuckDB does not push below AGE-01's grouping: 1 s). None breaking: no scan.
    """
    columns = ", ".join(ident(c) for c in ("customer_id", *control.details))
    restriction = "AND customer_id = $customer_id" if customer_id is not None else ""
    if breaking == []:
        restriction += " AND false"
    elif breaking is not None:
        restriction += " AND list_contains($breaking::VARCHAR[], key)"
    sql = DETAILS.format(columns=columns, query=control.query, restriction=restriction)
    names = (*control.parameters, "customer_id") if customer_id is not None else control.parameters
    values = {**bindings, "customer_id": customer_id}
    params = {n: values[n] for n in names} | ({"breaking": breaking} if breaking else {})
    return con.sql(sql, params=params).pl()
