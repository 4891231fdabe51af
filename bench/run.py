"""`make bench`: measured speed of privacy-audit at scale, side by side with plain DuckDB.

    .venv/bin/python bench/run.py [--sizes 100k,1m,10m] [--runs 3] [--skip-notebooks]

For each size (total rows of the export; `10m:2` sets that size's runs) it
generates or reuses a sample export, then measures in subprocesses, each run
timed and its peak memory taken:
  ingest       `privacy-audit snapshot build` vs DuckDB read_csv into tables
  evaluate     audit_lib.controls.evaluate.evaluate() vs the controls' SQL run bare
  quarterly    `privacy-audit run quarterly` (notebooks and report)
  investigate  `privacy-audit investigate --dispute <planted dispute>`
It prints a table and writes bench/results/<date>-<host>.json, latest.json
and latest.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
from data import BENCH, CLI, ROOT, ROWS_PER_CUSTOMER, Export, Size, ensure_export, parse_sizes
from measure import Run, measure, summary
from report import Targets, git_state, print_table, write_results

PERIOD = "2026-Q3"
PYTHON = sys.executable
STEPS = ("ingest", "postgres", "evaluate", "quarterly", "investigate", "spark")
#: The engine comparisons have their goals at 10M rows; past this they are skipped (at 100M rows
#: the load into PostgreSQL alone takes minutes, Spark local mode on two cores far longer).
COMPARISONS_UP_TO = 20_000_000


@dataclass
class StepResult:
    step: str
    command: str
    runs: list[Run]
    floor_command: str | None = None
    floor: list[Run] = field(default_factory=list)
    note: str = ""
    inner: list[float] = field(default_factory=list)
    floor_inner: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"step": self.step, "command": self.command, "note": self.note}
        data |= summary(self.runs) | {"runs": [r.to_json() for r in self.runs]}
        if self.inner:
            data["inner_min"] = round(min(self.inner), 3)
        if self.floor_command:
            floor = summary(self.floor) | {"runs": [r.to_json() for r in self.floor]}
            if self.floor_inner:
                floor["inner_min"] = round(min(self.floor_inner), 3)
            data["floor"] = {"command": self.floor_command, **floor}
            data["ratio"] = ratio(data.get("min"), floor.get("min"))
            data["cpu_ratio"] = ratio(data.get("cpu_min"), floor.get("cpu_min"))
        return data


def ratio(value: object, floor: object) -> float | None:
    if isinstance(value, float) and isinstance(floor, float) and floor > 0:
        return round(value / floor, 2)
    return None


@dataclass
class Bench:
    """One size's working folder, logs and run settings."""

    home: Path
    runs: int
    timeout: float

    @property
    def work(self) -> Path:
        return self.home / "work"

    def run(self, name: str, i: int, command: list[str | Path], env: dict[str, str] | None = None) -> Run:
        log = self.home / "logs" / f"{name}-{i + 1}.log"
        result = measure(command, log, self.timeout, env=env or bench_env())
        status = "ok" if result.ok else f"FAILED (exit {result.returncode}, log {log.relative_to(ROOT)})"
        print(f"    {name:<22} run {i + 1}: {result.seconds:8.2f} s {result.peak_mib:8.0f} MiB  {status}")
        return result

    def repeat(
        self, main: Callable[[int], Run], floor: Callable[[int], Run] | None = None
    ) -> tuple[list[Run], list[Run]]:
        """Alternate main and floor runs; stop repeating a command that fails."""
        mains: list[Run] = []
        floors: list[Run] = []
        for i in range(self.runs):
            mains.append(main(i))
            if floor:
                floors.append(floor(i))
            if not mains[-1].ok or (floors and not floors[-1].ok):
                break
        return mains, floors


def bench_env() -> dict[str, str]:
    return {**os.environ, "CI": "1"}


def last_json(log: Path) -> dict:
    """The JSON the step printed last, or {} when there is none."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def bench_ingest(bench: Bench, export: Export) -> StepResult:
    """Build the snapshot `runs` times; the last good one stays as work/snapshot.duckdb."""
    snapshot = bench.work / "snapshot.duckdb"

    def main(i: int) -> Run:
        out = bench.work / f"snapshot-{i + 1}.duckdb"
        run = bench.run("ingest", i, [CLI, "snapshot", "build", export.path, "--out", out])
        if run.ok:
            out.replace(snapshot)
        return run

    def floor(i: int) -> Run:
        out = bench.work / f"floor-{i + 1}.duckdb"
        run = bench.run("ingest floor", i, [PYTHON, BENCH / "floors.py", "ingest", export.path, out])
        out.unlink(missing_ok=True)
        return run

    export.read_through()
    mains, floors = bench.repeat(main, floor)
    return StepResult(
        "ingest",
        "privacy-audit snapshot build EXPORT --out FILE",
        mains,
        "CREATE TABLE t AS SELECT * FROM read_csv(file), per file, into a new database",
        floors,
    )


def write_plan(period: str, plan: Path) -> None:
    """Each control's bound parameters, as evaluate() binds them (the floor has its own SQL)."""
    from audit_lib.controls.registry import load_controls
    from audit_lib.params import resolve
    from audit_lib.periods import Period

    bindings = {**Period.quarter(period).bind(), **resolve()}
    params = {c.id: {n: encode(bindings[n]) for n in c.parameters} for c in load_controls()}
    controls = [{"id": cid, "params": values} for cid, values in params.items()]
    plan.write_text(json.dumps({"period": period, "controls": controls}, indent=2))


def encode(value: object) -> object:
    return {"timestamp": value.isoformat()} if isinstance(value, datetime) else value


def bench_evaluate(bench: Bench, snapshot: Path) -> StepResult:
    plan = bench.work / "plan.json"
    write_plan(PERIOD, plan)
    result = StepResult(
        "evaluate",
        f"audit_lib.controls.evaluate.evaluate(snapshot, Period.quarter('{PERIOD}'))",
        [],
        "bench/floor_controls.sql: each control written once as a plain query (counts and keys)",
    )

    def main(i: int) -> Run:
        run = bench.run("evaluate", i, [PYTHON, BENCH / "steps.py", "evaluate", snapshot, PERIOD])
        result.inner.append(last_json(bench.home / "logs" / f"evaluate-{i + 1}.log").get("inner_seconds", 0))
        return run

    def floor(i: int) -> Run:
        run = bench.run("evaluate floor", i, [PYTHON, BENCH / "floors.py", "evaluate", snapshot, plan])
        log = bench.home / "logs" / f"evaluate floor-{i + 1}.log"
        result.floor_inner.append(last_json(log).get("inner_seconds", 0))
        return run

    result.runs, result.floor = bench.repeat(main, floor)
    result.note = compare_counts(bench.home / "logs")
    return result


def compare_counts(logs: Path) -> str:
    """Check that framework and floor agree on population, violations, exceptions."""
    ours = last_json(logs / "evaluate-1.log").get("controls")
    theirs = last_json(logs / "evaluate floor-1.log").get("controls")
    if not ours or not theirs:
        return "counts not compared (a run failed)"
    differ = [cid for cid in ours if ours[cid] != theirs.get(cid)]
    total = sum(v[1] for v in ours.values())
    if differ:
        return f"COUNTS DIFFER from the floor for {', '.join(differ)}"
    return f"counts equal to the floor ({len(ours)} controls, {total:,} violations)"


def notebooks_present() -> bool:
    from audit_lib.runs.notebooks import QUARTERLY, notebook_dir

    return all((notebook_dir() / f"{name}.ipynb").is_file() for name in QUARTERLY)


def bench_quarterly(bench: Bench, snapshot: Path, with_notebooks: bool) -> StepResult:
    extra = [] if with_notebooks else ["--no-notebooks"]

    def main(i: int) -> Run:
        out = bench.work / f"quarterly-{i + 1}"
        command = [CLI, "run", "quarterly", "--snapshot", snapshot, "--period", PERIOD, "--out", out]
        return bench.run("quarterly", i, command + extra)

    runs, _ = bench.repeat(main)
    command = f"privacy-audit run quarterly --snapshot S --period {PERIOD} --out DIR"
    return StepResult("quarterly", command + (" --no-notebooks" if extra else ""), runs)


def bench_investigate(bench: Bench, snapshot: Path, dispute: str) -> StepResult:
    def main(i: int) -> Run:
        out = bench.work / f"investigate-{i + 1}"
        command = [CLI, "investigate", "--snapshot", snapshot, "--dispute", dispute, "--out", out]
        return bench.run("investigate", i, command)

    runs, _ = bench.repeat(main)
    return StepResult("investigate", f"privacy-audit investigate --snapshot S --dispute {dispute}", runs)


def snapshot_rows(snapshot: Path) -> int:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        (rows,) = con.execute("SELECT sum(row_count) FROM snapshot_files").fetchone()
    finally:
        con.close()
    return int(rows)


def build_unmeasured(bench: Bench, export: Export, snapshot: Path) -> None:
    command: list[str | Path] = [CLI, "snapshot", "build", export.path, "--out", snapshot]
    run = measure(command, bench.home / "logs" / "build.log", bench.timeout, env=bench_env())
    if not run.ok:
        raise SystemExit(f"bench: snapshot build failed:\n{run.output_tail}")


def bench_size(size: Size, args: argparse.Namespace) -> dict[str, object]:
    runs = size.runs or args.runs
    load = os.getloadavg()[0]
    print(f"\n== {size.label} rows ({size.customers:,} customers, {runs} runs; load average {load:.1f})")
    if load > (os.cpu_count() or 1) / 2:
        print("  warning: the machine is busy; wall times will be inflated (see cpu s)")
    export = ensure_export(size, args.seed, args.timeout)
    bench = Bench(export.home, runs, args.timeout)
    shutil.rmtree(bench.work, ignore_errors=True)
    shutil.rmtree(bench.home / "logs", ignore_errors=True)
    bench.work.mkdir(parents=True)
    steps: list[StepResult] = []
    if "ingest" in args.steps:
        steps.append(bench_ingest(bench, export))
    if "postgres" in args.steps and size.target_rows <= COMPARISONS_UP_TO:
        from postgres import bench_postgres

        steps.append(bench_postgres(bench, export))
    snapshot = bench.work / "snapshot.duckdb"
    if not snapshot.is_file():
        build_unmeasured(bench, export, snapshot)
    steps += later_steps(bench, snapshot, export, args)
    document = size_document(size, runs, export, snapshot, steps)
    return document | {"load": [round(load, 2), round(os.getloadavg()[0], 2)]}


def later_steps(bench: Bench, snapshot: Path, export: Export, args: argparse.Namespace) -> list[StepResult]:
    steps = []
    if "evaluate" in args.steps:
        steps.append(bench_evaluate(bench, snapshot))
    if "quarterly" in args.steps:
        with_notebooks = not args.skip_notebooks and notebooks_present()
        step = bench_quarterly(bench, snapshot, with_notebooks)
        if not with_notebooks:
            step.note = "without notebooks: " + ("--skip-notebooks" if args.skip_notebooks else "missing")
        steps.append(step)
    dispute = export.planted().get("investigation", {}).get("dispute_id")
    if "investigate" in args.steps and dispute:
        steps.append(bench_investigate(bench, snapshot, dispute))
    if "spark" in args.steps and export.customers * ROWS_PER_CUSTOMER <= COMPARISONS_UP_TO:
        from spark import bench_spark

        steps.append(bench_spark(bench, export, PERIOD))
    return steps


def size_document(
    size: Size, runs: int, export: Export, snapshot: Path, steps: list[StepResult]
) -> dict[str, object]:
    return {
        "label": size.label,
        "customers": size.customers,
        "rows": snapshot_rows(snapshot),
        "runs": runs,
        "export_mib": round(export.size_mib(), 1),
        "snapshot_mib": round(snapshot.stat().st_size / (1024 * 1024), 1),
        "generate_seconds": round(export.generated.seconds, 1) if export.generated else None,
        "steps": [s.to_json() for s in steps],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--sizes", default="100k,1m,10m", help="total rows, e.g. 100k,1m,10m:2")
    parser.add_argument("--runs", type=int, default=3, help="runs of each step (default 3)")
    parser.add_argument("--seed", type=int, default=7, help="sample seed (default 7)")
    parser.add_argument("--skip-notebooks", action="store_true", help="run quarterly with --no-notebooks")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"subset of {','.join(STEPS)}")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed")
    parser.add_argument("--no-save", action="store_true", help="print only; write no results file")
    args = parser.parse_args(argv)
    args.steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    if unknown := set(args.steps) - set(STEPS):
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    git = git_state()
    sizes = [bench_size(size, args) for size in parse_sizes(args.sizes)]
    document = print_table(sizes, Targets(), git)
    if not args.no_save:
        for path in write_results(document, vars(args)):
            print(f"written: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
