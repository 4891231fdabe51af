"""Framework steps with no command of their own, run in a subprocess by run.py.

    python bench/steps.py evaluate SNAPSHOT PERIOD

`evaluate` is the library call behind `run quarterly`:
`audit_lib.controls.evaluate.evaluate(snapshot, Period.quarter(PERIOD))`. The last
line printed is JSON: the inner time (imports excluded) and per control
`[population, violations, exceptions]`, to check against the floor.
"""

from __future__ import annotations

import json
import sys
import time

from audit_lib.controls.evaluate import evaluate as evaluate_snapshot
from audit_lib.periods import Period


def evaluate(snapshot: str, period: str) -> dict[str, object]:
    findings = evaluate_snapshot(snapshot, Period.quarter(period))
    controls = {r.control.id: [r.population, len(r.violations), len(r.exceptions)] for r in findings.controls}
    return {"controls": controls}


def main(argv: list[str]) -> int:
    command, *args = argv
    if command != "evaluate":
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    result = evaluate(*args)
    print(json.dumps({"inner_seconds": time.perf_counter() - start, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
