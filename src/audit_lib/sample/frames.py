"""The working form of a table while a sample is generated.

A working frame has the table's columns (from schema.TABLES) with three
differences: the key column is replaced by `_tag` (the planted row's name,
NULL for background rows; keys are assigned once every row is known), a
reference to customers is `_cust` (an index into the customers frame, -1 for
NULL), and timestamps are epoch seconds (Int64, nullable).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from audit_lib.ingest.schema import TABLE_BY_NAME, Column

CUSTOMER_REF = "customers.customer_id"
NO_CUSTOMER = -1


def working_name(column: Column) -> str:
    return "_cust" if column.references == CUSTOMER_REF else column.name


def working_schema(table: str) -> dict[str, pl.DataType]:
    """Column -> polars type of the working frame of `table`."""
    schema: dict[str, pl.DataType] = {"_tag": pl.String()}
    for column in TABLE_BY_NAME[table].columns[1:]:
        schema[working_name(column)] = _working_type(column)
    return schema


def _working_type(column: Column) -> pl.DataType:
    if column.references == CUSTOMER_REF or column.kind == "timestamp":
        return pl.Int64()
    return {"date": pl.Date(), "boolean": pl.Boolean()}.get(column.kind, pl.String())


def working_frame(table: str, columns: Mapping[str, object]) -> pl.DataFrame:
    """A working frame from exactly its columns (`_tag` may be left out: all NULL).

    A string column may come as an Enum (cheaper to sort and write); it stays one.
    """
    schema = working_schema(table)
    given = dict(columns)
    if "_tag" not in given:
        height = len(next(iter(given.values()))) if given else 0
        given["_tag"] = pl.repeat(None, height, dtype=pl.String, eager=True)
    if set(given) != set(schema):
        missing, extra = set(schema) - set(given), set(given) - set(schema)
        raise ValueError(f"{table}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    frame = pl.DataFrame({name: given[name] for name in schema})
    return frame.cast({
        name: dtype for name, dtype in schema.items()
        if frame.schema[name] != dtype
        and not (dtype == pl.String and isinstance(frame.schema[name], pl.Enum))
    })  # fmt: skip


def nullable(values: np.ndarray, null: np.ndarray) -> pl.Series:
    """An Int64 series with NULL where `null` is true."""
    return pl.Series(values, dtype=pl.Int64).scatter(np.flatnonzero(null), None)


def labels(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pl.Series:
    """The strings `values[codes]`, as an Enum of `values`."""
    return pl.Series(values, dtype=pl.Enum(values)).gather(codes)


def days_to_dates(days: np.ndarray, null: np.ndarray | None = None) -> pl.Series:
    """Days since 1970-01-01 as a Date series."""
    series = pl.Series(days.astype(np.int32)).cast(pl.Date)
    return series if null is None else series.scatter(np.flatnonzero(null), None)
