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
) -> pl.DataFrame:
    """One row per breaking record: `key`, `customer_id` and the control's detail columns."""
    columns = ", ".join(ident(c) for c in ("customer_id", *control.details))
    restriction = "AND customer_id = $customer_id" if customer_id is not None else ""
    sql = DETAILS.format(columns=columns, query=control.query, restriction=restriction)
    names = (*control.parameters, "customer_id") if customer_id is not None else control.parameters
    values = {**bindings, "customer_id": customer_id}
    return con.sql(sql, params={n: values[n] for n in names}).pl()
