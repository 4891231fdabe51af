"""Engines other than DuckDB: the checked SQL translation (`translate`) and Apache Spark (`spark`).

`engine_selected("spark", master=..., remote=...)` makes the runs
(`runs.quarterly.evaluate_with_progress`) judge the controls on Spark; the
figures and notebooks still read the same Parquet snapshot through DuckDB.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.errors import UsageError

if TYPE_CHECKING:
    from audit_lib.controls.evaluate import Findings
    from audit_lib.periods import Period

ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class SparkEngine:
    master: str | None = None
    remote: str | None = None

    def evaluate(self, snapshot: Path, period: Period, *options: object, **named: object) -> Findings:
        """`controls.evaluate.evaluate`'s call (the same options), judged on Spark."""
        from audit_lib.engines.spark import evaluate_spark, register_snapshot, spark_session

        spark = spark_session(self.master, self.remote)
        info = register_snapshot(spark, snapshot)
        return evaluate_spark(spark, info, period, *options, **named)


_SELECTED: list[SparkEngine] = []


def selected_engine() -> SparkEngine | None:
    """The engine chosen by the innermost `engine_selected`; None: DuckDB."""
    return _SELECTED[-1] if _SELECTED else None


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
