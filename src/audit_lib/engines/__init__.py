"""Engines other than DuckDB: the checked SQL translation (`translate`) and Apache Spark (`spark`).

`engine_selected("spark", master=..., remote=...)` makes the runs
(`runs.quarterly.evaluate_with_progress`) judge the controls on Spark, and
`run quarterly` compute the figures its notebooks show on Spark too
(`figures_computed`, engines.figures): the notebooks read those frames. DuckDB
still opens the Parquet snapshot for its identity, and binds each figure's
query (LIMIT 0, no data read) for the dtypes its frame must have.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.errors import UsageError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from pyspark.sql import SparkSession

    from audit_lib.controls.evaluate import Findings
    from audit_lib.ingest.snapshot import SnapshotInfo
    from audit_lib.periods import Period

ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class SparkEngine:
    master: str | None = None
    remote: str | None = None
    #: Snapshots registered (checked) in this engine's session: once per run, not per step.
    _registered: dict[Path, SnapshotInfo] = field(default_factory=dict, compare=False, repr=False)

    def session(self, snapshot: Path | str) -> tuple[SparkSession, SnapshotInfo]:
        """The SparkSession with `snapshot`'s views, registered by the first call of this engine."""
        from audit_lib.engines.spark import register_snapshot, spark_session

        spark = spark_session(self.master, self.remote)
        path = Path(snapshot).absolute()
        if path not in self._registered:
            self._registered.clear()  # the views are the session's: one snapshot at a time
            self._registered[path] = register_snapshot(spark, path)
        return spark, self._registered[path]

    def evaluate(self, snapshot: Path, period: Period, *options: object, **named: object) -> Findings:
        """`controls.evaluate.evaluate`'s call (the same options), judged on Spark."""
        from audit_lib.engines.spark import evaluate_spark

        spark, info = self.session(snapshot)
        return evaluate_spark(spark, info, period, *options, **named)

    def figures(self, snapshot: str, period: str, params: str) -> AbstractContextManager[str]:
        """The quarterly notebooks' figures for their parameters, computed on Spark (a store's folder)."""
        from audit_lib.engines.figures import computed_figures

        spark, _ = self.session(snapshot)
        return computed_figures(spark, snapshot, period, params)


_SELECTED: list[SparkEngine] = []


def selected_engine() -> SparkEngine | None:
    """The engine chosen by the innermost `engine_selected`; None: DuckDB."""
    return _SELECTED[-1] if _SELECTED else None


def figures_computed(snapshot: str, period: str, params: str) -> AbstractContextManager[str]:
    """The quarterly notebooks' `figures` parameter for their `snapshot`, `period` and `params`:
    with --engine spark, the folder of their figures computed on Spark (removed on exit);
    with DuckDB, "" (the notebooks query the snapshot themselves)."""
    engine = selected_engine()
    if engine is None:
        return contextlib.nullcontext("")
    return engine.figures(snapshot, period, params)


@contextlib.contextmanager
def engine_selected(name: str, master: str | None = None, remote: str | None = None) -> Iterator[None]:
    if name not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, not {name!r}")
    if name == "duckdb":
        if master or remote:
            raise UsageError("--spark-master and --spark-remote need --engine spark")
        yield
        return
    if master and remote:
        raise UsageError("give --spark-master or --spark-remote, not both")
    _SELECTED.append(SparkEngine(master, remote))
    try:
        yield
    finally:
        _SELECTED.pop()
