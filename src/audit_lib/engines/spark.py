"""The controls on Apache Spark, over a Parquet snapshot folder: the same queries, translated.

`spark_session` makes (or reuses) a SparkSession in UTC (`local[*]` by
default, a cluster by `master`, a Spark Connect server by `remote`).
`evaluate_spark` judges every control as `controls.evaluate` does on DuckDB:
the same JUDGE and DETAILS wrappers, the same control files, translated by
`engines.translate` and bound as named parameters, so findings and evidence
are equal key by key (tests/test_spark.py).

The snapshot is checked before anything runs: its metadata (format,
contract), the sha256 of every Parquet file the driver can read (local
paths), and each table's row count as Spark reads it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.controls.details import DETAILS
from audit_lib.controls.evaluate import JUDGE, ControlResult, Findings, judge_all
from audit_lib.controls.registry import Control
from audit_lib.engines.translate import to_spark
from audit_lib.errors import SnapshotError, UsageError
from audit_lib.ingest.sources import ident
from audit_lib.periods import Period

if TYPE_CHECKING:
    import polars as pl
    from pyspark.sql import SparkSession

    from audit_lib.ingest.snapshot import SnapshotInfo

SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def spark_session(master: str | None = None, remote: str | None = None) -> SparkSession:
    """A SparkSession in UTC: `remote` (sc://HOST) for Spark Connect, else `master` (local[*])."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("--engine spark needs pyspark: pip install 'privacy-audit[spark]'") from None
    builder = SparkSession.builder.appName("privacy-audit")
    builder = builder.remote(remote) if remote else builder.master(master or "local[*]")
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


def register_snapshot(spark: SparkSession, path: Path | str) -> SnapshotInfo:
    """Temp views over the Parquet snapshot `path`, checked against its metadata; its identity."""
    import contextlib

    from audit_lib.folders import sha256_of
    from audit_lib.ingest.parquet_snapshot import open_parquet, read_metadata, table_files
    from audit_lib.ingest.snapshot import read_info, snapshot_sha256

    path = Path(path).absolute()
    if not path.is_dir():
        raise SnapshotError(
            f"{path}: --engine spark reads a Parquet snapshot folder (snapshot build --format parquet)"
        )
    document = read_metadata(path)
    problems = []
    for table, entry in document["tables"].items():
        files = table_files(path, document, table)
        for target, digest in zip(files, (entry["files"][k] for k in sorted(entry["files"])), strict=True):
            if not target.is_file() or sha256_of(target) != digest:
                problems.append(f"file {target.relative_to(path)} missing or changed")
        frame = spark.read.parquet(*[str(f) for f in files])
        frame.createOrReplaceTempView(table)
    if not problems:
        counts = spark.sql(
            " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM `{t}`" for t in document["tables"])
        ).collect()
        problems += [
            f"table {t} has {n} rows, {document['tables'][t]['row_count']} recorded"
            for t, n in counts
            if n != document["tables"][t]["row_count"]
        ]
    if problems:
        raise SnapshotError(f"{path}: snapshot changed since it was built: {'; '.join(problems)}")
    with contextlib.closing(open_parquet(path)) as con:  # the identity, read as DuckDB reads it
        return read_info(con, snapshot_sha256(path))


#: `$start` of a period from -infinity (Period.bind): Spark has no infinite timestamps and refuses to
#: cast '-infinity'; its earliest timestamp is below every instant a validated export holds.
SPARK_MIN_TIMESTAMP = datetime(1, 1, 1, tzinfo=UTC)


def spark_value(value: object) -> object:
    """A bound parameter as Spark takes it: '-infinity' becomes Spark's earliest timestamp."""
    return SPARK_MIN_TIMESTAMP if value == "-infinity" else value


def _bound(sql: str, control: Control, bindings: dict, customer_id: str | None) -> tuple[str, dict]:
    names = (*control.parameters, "customer_id") if customer_id is not None else control.parameters
    values = {**bindings, "customer_id": customer_id}
    return to_spark(sql), {n: spark_value(values[n]) for n in names}


def judge_spark(
    spark: SparkSession, control: Control, bindings: dict[str, object], customer_id: str | None = None
) -> ControlResult:
    restriction = "WHERE customer_id = $customer_id" if customer_id is not None else ""
    sql, args = _bound(
        JUDGE.format(query=control.query, restriction=restriction), control, bindings, customer_id
    )
    row = spark.sql(sql, args=args).collect()[0]
    population, violations, exceptions, customers = row
    return ControlResult(
        control, population, list(violations), [(k, r) for k, r in exceptions], {k: c for k, c in customers}
    )


def detail_frame_spark(
    spark: SparkSession,
    control: Control,
    bindings: dict[str, object],
    customer_id: str | None = None,
    breaking: list[str] | None = None,  # unused: Spark recomputes the breaking records
) -> pl.DataFrame:
    import polars as pl

    columns = ", ".join(ident(c) for c in ("customer_id", *control.details))
    restriction = "AND customer_id = $customer_id" if customer_id is not None else ""
    query = DETAILS.format(columns=columns, query=control.query, restriction=restriction)
    sql, args = _bound(query, control, bindings, customer_id)
    return pl.from_arrow(spark.sql(sql, args=args).toArrow())


def evaluate_spark(
    spark: SparkSession,
    info: SnapshotInfo,
    period: Period,
    params: dict[str, object] | None = None,
    customer_id: str | None = None,
    on_control: Callable[[Control], None] | None = None,
    with_details: bool = False,
) -> Findings:
    """`controls.evaluate.evaluate_connection` on Spark (views registered by `register_snapshot`)."""
    engine = (functools.partial(judge_spark, spark), functools.partial(detail_frame_spark, spark))
    return judge_all(engine, info, period, params, customer_id, on_control, with_details)
