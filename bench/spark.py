"""The `spark` step: the audit on Spark (local mode) against DuckDB, on one Parquet snapshot.

First the export is built once into a Parquet snapshot (`snapshot build --format
parquet`, timed: the way a company freezes an export too large for one DuckDB
file). Then, alternating, each run in its own process:
  main        `privacy-audit run quarterly --engine spark --snapshot DIR --no-notebooks`
  comparison  the same command with the DuckDB engine over the same Parquet files
Both judge every control and write findings.json and the evidence (no
notebooks: the engines differ in the controls, not in the rendering). Last, one
`bench/steps.py spark-profile` run says where Spark's time goes: session (JVM)
start, the snapshot's check (file hashes, row counts), and each control.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from data import BENCH, CLI, Export
from measure import Run, measure

if TYPE_CHECKING:
    from run import Bench, StepResult

PYTHON = sys.executable


def build_parquet(bench: Bench, export: Export) -> tuple[Path, Run]:
    folder = bench.work / "snapshot-parquet"
    command = [CLI, "snapshot", "build", export.path, "--format", "parquet", "--out", folder]
    run = measure(command, bench.home / "logs" / "build-parquet.log", bench.timeout)
    if not run.ok:
        raise SystemExit(f"bench: parquet snapshot build failed:\n{run.output_tail}")
    return folder, run


def bench_spark(bench: Bench, export: Export, period: str) -> StepResult:
    from run import StepResult

    snapshot, built = build_parquet(bench, export)
    print(f"    parquet snapshot built in {built.seconds:.1f} s, peak {built.peak_mib:.0f} MiB")

    def quarterly(engine: str, i: int) -> Run:
        out = bench.work / f"spark-{engine}-{i + 1}"
        command = [CLI, "run", "quarterly", "--snapshot", snapshot, "--period", period, "--out", out,
                   "--no-notebooks", "--engine", engine]  # fmt: skip
        return bench.run(f"quarterly {engine}", i, command)

    mains, duck = bench.repeat(lambda i: quarterly("spark", i), lambda i: quarterly("duckdb", i))
    profile = profile_spark(bench, snapshot, period)
    return StepResult(
        "spark",
        f"privacy-audit run quarterly --engine spark --snapshot PARQUET --period {period} --no-notebooks",
        mains,
        "the same with --engine duckdb (DuckDB over the same Parquet files)",
        duck,
        note=f"parquet snapshot built in {built.seconds:.1f} s (peak {built.peak_mib:.0f} MiB); {profile}",
    )


def profile_spark(bench: Bench, snapshot: Path, period: str) -> str:
    """One profiled evaluation on Spark: its phases, largest first."""
    log = bench.home / "logs" / "spark-profile.log"
    run = measure([PYTHON, BENCH / "steps.py", "spark-profile", snapshot, period], log, bench.timeout)
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]
    if not run.ok or not lines:
        return "Spark profile failed (see logs/spark-profile.log)"
    phases = json.loads(lines[-1])["phases"]
    controls = {k: v for k, v in phases.items() if k.startswith("control ")}
    slowest = sorted(controls.items(), key=lambda kv: -kv[1])[:3]
    return (
        f"Spark's time: session start {phases['session']:.1f} s, snapshot check {phases['register']:.1f} s, "
        f"{len(controls)} controls {sum(controls.values()):.1f} s (slowest "
        + ", ".join(f"{k[8:]} {v:.1f} s" for k, v in slowest)
        + f"), evidence details {phases['details']:.1f} s"
    )
