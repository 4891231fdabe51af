"""The quarterly notebooks' figures on Spark: computed by the run, read by the notebooks.

`computed_figures` runs every `@figure` method of `figures.Analytics` once,
with the very arguments the notebooks use, on an Analytics whose store is
`SparkFigures`: each query it asks for (its name and bound values, as
`figures.run` binds them) is translated (`engines.translate`), run on Spark
and written to a `FrameStore` in a temporary folder outside the report
folder. The notebooks get that folder as their `figures` parameter and read
each figure from it; the folder is removed when the notebooks are done (or
have failed).

A frame from Spark is made the frame DuckDB gives (`conform`, the one place
that normalises): the same columns in the same order, each of DuckDB's dtype
for that query (integer widths, timestamps UTC-aware or naive, decimals),
found by binding the query on DuckDB with LIMIT 0 (an empty plan: no data is
read). Row order is the query's ORDER BY, which Spark keeps in the collected
frame.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.engines.translate import to_spark
from audit_lib.figures import Analytics, FrameStore, query_text
from audit_lib.progress import Progress

if TYPE_CHECKING:
    import duckdb
    import polars as pl
    from pyspark.sql import SparkSession

#: Where the store's temporary folder is made (the system's temporary directory).
STORE_PREFIX = "privacy-audit-figures-"


class FigureMismatch(RuntimeError):
    """A frame from Spark that is not of the shape DuckDB gives for the same query."""


def duckdb_schema(con: duckdb.DuckDBPyConnection, name: str, values: dict[str, object]) -> pl.Schema:
    """The schema of `sql/<name>.sql` with `values` as DuckDB returns it, without reading data."""
    return con.sql(query_text(name), params=values).limit(0).pl().schema


def conform(frame: pl.DataFrame, schema: pl.Schema, name: str = "query") -> pl.DataFrame:
    """`frame` (from Spark) with DuckDB's dtypes: integers, floats and decimals cast within their
    kind, timestamps to DuckDB's time zone (Spark's naive timestamps are UTC), an all-NULL column
    to its type. Other differences (columns, kinds) are a translation fault: FigureMismatch."""
    import polars as pl

    if frame.columns != list(schema):
        raise FigureMismatch(f"{name}: Spark gave columns {frame.columns}, DuckDB {list(schema)}")
    casts = []
    for column, want in schema.items():
        have = frame.schema[column]
        if have == want:
            continue
        expression = pl.col(column)
        if isinstance(have, pl.Datetime) and isinstance(want, pl.Datetime):
            expression = expression.dt.replace_time_zone("UTC") if have.time_zone is None else expression
            expression = expression.dt.convert_time_zone(want.time_zone or "UTC")
            if want.time_zone is None:
                expression = expression.dt.replace_time_zone(None)
            casts.append(expression.dt.cast_time_unit(want.time_unit).alias(column))
        elif have == pl.Null or _kind(have) == _kind(want) != "other":
            casts.append(expression.cast(want))
        else:
            raise FigureMismatch(f"{name}: column {column} is {have} from Spark, {want} from DuckDB")
    return frame.with_columns(casts) if casts else frame


def _kind(dtype: pl.DataType) -> str:
    import polars as pl

    if dtype.is_integer():
        return "integer"
    if dtype.is_float() or dtype.is_decimal():
        return "number"
    if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        return "text"
    return "other"


class SparkFigures:
    """A store that computes what it is asked for on Spark, conformed to DuckDB's frame, and
    keeps it in `store`."""

    def __init__(self, spark: SparkSession, con: duckdb.DuckDBPyConnection, store: FrameStore) -> None:
        self.spark, self.con, self.store = spark, con, store

    def get(self, name: str, values: dict[str, object]) -> pl.DataFrame:
        import polars as pl

        from audit_lib.engines.spark import spark_value

        args = {n: spark_value(v) for n, v in values.items()}
        frame = pl.from_arrow(self.spark.sql(to_spark(query_text(name)), args=args).toArrow())
        frame = conform(frame, duckdb_schema(self.con, name, values), name)
        self.store.put(name, values, frame)
        return frame


@contextlib.contextmanager
def computed_figures(spark: SparkSession, snapshot: str, period: str, params: str) -> Iterator[str]:
    """The folder of a temporary store of every figure the quarterly notebooks ask for with these
    parameters (theirs: snapshot path, period label, params JSON), computed on Spark; removed on exit.

    On a clean exit, a note on stderr says how the notebooks' lookups went."""
    folder = Path(tempfile.mkdtemp(prefix=STORE_PREFIX))
    try:
        with Analytics.open(snapshot, period, params) as analytics:
            store = FrameStore.create(folder, analytics.info.id)
            analytics.store = SparkFigures(spark, analytics.con, store)
            names = Analytics.figures()
            with Progress("computing figures on Spark", total=len(names)) as progress:
                for name in names:
                    getattr(analytics, name)()
                    progress.advance(f"figure {name}")
        yield str(folder)
        print(f"privacy-audit: note: {lookup_summary(store)}", file=sys.stderr)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def lookup_summary(store: FrameStore) -> str:
    """How the notebooks' lookups in `store` went: read from Spark's frames or queried on DuckDB."""
    lookups = store.lookups()
    missed = Counter(str(entry["query"]) for entry in lookups if not entry["hit"])
    used = {entry["key"] for entry in lookups if entry["hit"]}
    unused = sorted(str(e["query"]) for k, e in store.frames.items() if k not in used)
    text = f"the notebooks read {len(lookups) - sum(missed.values())} figures computed on Spark"
    if missed:
        counts = ", ".join(f"{name} ({n}x)" for name, n in sorted(missed.items()))
        text += f"; queried on DuckDB, not computed on Spark: {counts}"
    if unused:
        text += f"; computed on Spark, unused: {', '.join(unused)}"
    return text
