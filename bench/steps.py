"""Framework steps with no command of their own, run in a subprocess by run.py.

    python bench/steps.py evaluate SNAPSHOT PERIOD
    python bench/steps.py spark-profile PARQUET_SNAPSHOT PERIOD

`evaluate` is the library call behind `run quarterly`:
`audit_lib.controls.evaluate.evaluate(snapshot, Period.quarter(PERIOD))`. The last
line printed is JSON: the inner time (imports excluded) and per control
`[population, violations, exceptions]`, to check against the floor.
`spark-profile` times the phases of an evaluation on Spark (local mode):
session start, the snapshot's check, each control, the evidence details.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from audit_lib.controls.evaluate import evaluate as evaluate_snapshot
from audit_lib.periods import Period


def evaluate(snapshot: str, period: str) -> dict[str, object]:
    findings = evaluate_snapshot(snapshot, Period.quarter(period))
    controls = {r.control.id: [r.population, len(r.violations), len(r.exceptions)] for r in findings.controls}
    return {"controls": controls}


def spark_profile(snapshot: str, period: str) -> dict[str, object]:
    from audit_lib.controls.registry import load_controls
    from audit_lib.engines.spark import detail_frame_spark, judge_spark, register_snapshot, spark_session
    from audit_lib.params import resolve

    phases: dict[str, float] = {}

    def timed(name: str, call: Callable[..., object], *args: object) -> object:
        start = time.perf_counter()
        result = call(*args)
        phases[name] = round(time.perf_counter() - start, 3)
        return result

    spark = timed("session", spark_session)
    timed("register", register_snapshot, spark, snapshot)
    bindings = {**Period.quarter(period).bind(), **resolve()}
    details = 0.0
    for control in load_controls():
        timed(f"control {control.id}", judge_spark, spark, control, bindings)
        start = time.perf_counter()
        detail_frame_spark(spark, control, bindings)
        details += time.perf_counter() - start
    phases["details"] = round(details, 3)
    return {"phases": phases}


def main(argv: list[str]) -> int:
    command, *args = argv
    steps = {"evaluate": evaluate, "spark-profile": spark_profile}
    if command not in steps:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    result = steps[command](*args)
    print(json.dumps({"inner_seconds": time.perf_counter() - start, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
