"""The benchmark's table, its verdicts against the goals, and its files."""

from __future__ import annotations

import itertools
import json
import os
import platform
import socket
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil
from data import BENCH, ROOT

RESULTS = BENCH / "results"
FORMAT = "privacy-audit/bench/1"
COLUMNS = ("size", "rows", "step", "runs", "min s", "median s", "cpu s", "floor min s", "ratio", "cpu ratio")
COLUMNS += ("peak MiB",)
COLUMNS += ("growth", "net growth", "verdict")


@dataclass(frozen=True)
class Targets:
    """The goals of the performance issue (16) and of the database build (13)."""

    fixed_seconds: float = 5.0  # the whole quarterly run at the smallest size (<= fixed_up_to rows)
    fixed_up_to: int = 200_000
    large_from: int = 9_000_000  # "at 10M rows" (9M to 90M) and more (ingest: "at 10M and 100M")
    #: The size-dependent part of the run (its time above the fixed cost, the run at the smallest
    #: size measured) against the controls as plain SQL, at 10M rows.
    quarterly_per_floor: float = 2.0
    investigate_seconds: float = 4.0  # at 10M+
    ingest_ratio: float = 1.3  # against DuckDB's read_csv, at 10M+
    evaluate_ratio: float = 1.5
    postgres_ratio: float = 1.5  # against COPY TO STDOUT into DuckDB, at 10M+
    postgres_peak_mib: float = 2048.0
    peak_mib: float = 8192.0  # every step, at every size (100M included)


def verdict(step: dict, size: dict, targets: Targets, fixed: dict[str, float] | None = None) -> str:
    """`ok`, or the goals the step misses; `FAILED` when no run succeeded. `fixed`: each step's
    minimum at the smallest size measured, when that is at most `fixed_up_to` rows."""
    if not step.get("ok_runs"):
        return "FAILED"
    misses = [f"{step['failed_runs']} run(s) failed"] if step.get("failed_runs") else []
    unjudged: list[str] = []
    large = size["rows"] >= targets.large_from  # "at 10M and at 100M rows"
    at_10m = targets.large_from <= size["rows"] < 10 * targets.large_from  # "at 10M rows"
    ratio = {"ingest": targets.ingest_ratio if large else None, "evaluate": targets.evaluate_ratio,
             "postgres": targets.postgres_ratio if large else None}.get(step["step"])  # fmt: skip
    if ratio and (step.get("ratio") or 0) > ratio:
        cpu = step.get("cpu_ratio") or 0
        misses.append(f"ratio>{ratio}" + (f" (cpu {cpu:.2f} ok: load?)" if cpu <= ratio else ""))
    if step["step"] == "quarterly":
        if size["rows"] <= targets.fixed_up_to and step["min"] > targets.fixed_seconds:
            misses.append(f"fixed cost>{targets.fixed_seconds:.0f}s")
        floor = next((s.get("floor", {}).get("min") for s in size["steps"] if s["step"] == "evaluate"), None)
        base = (fixed or {}).get("quarterly")
        if at_10m and floor and base is None:
            unjudged.append(f"part above the fixed cost not judged: no run at <={targets.fixed_up_to:,} rows")
        elif at_10m and floor and step["min"] - base > targets.quarterly_per_floor * floor:
            misses.append(
                f"{step['min'] - base:.1f}s above the fixed cost >{targets.quarterly_per_floor:.0f}x the "
                f"controls as plain SQL ({floor:.1f}s)"
            )
    if step["step"] == "investigate" and at_10m and step["min"] > targets.investigate_seconds:
        misses.append(f">{targets.investigate_seconds:.0f}s")
    peak = targets.postgres_peak_mib if step["step"] == "postgres" else targets.peak_mib
    if step["peak_mib"] >= peak:
        misses.append(f"peak>={peak / 1024:.0f}GiB")
    if misses:
        return "MISS " + " ".join(misses)
    return "ok" + "".join(f" ({note})" for note in unjudged)


def add_growth(sizes: list[dict]) -> None:
    """Each step's median against the size before: `growth` as measured, and `net_growth`, the
    growth of the time above the step's fixed cost (its median at the smallest size measured)."""
    fixed = {s["step"]: s.get("median") for s in sizes[0]["steps"]} if sizes else {}
    for before, after in itertools.pairwise(sizes):
        medians = {s["step"]: s.get("median") for s in before["steps"]}
        after["rows_growth"] = round(after["rows"] / before["rows"], 2)
        for step in after["steps"]:
            previous, base, now = medians.get(step["step"]), fixed.get(step["step"]), step.get("median")
            if previous and now:
                step["growth"] = round(now / previous, 2)
            if previous and now and base is not None and previous - base > 0.05 and before is not sizes[0]:
                step["net_growth"] = round((now - base) / (previous - base), 2)


def cells(size: dict, step: dict) -> list[str]:
    floor = step.get("floor", {})
    growth = f"x{step['growth']:.1f}" if step.get("growth") else ""
    net = f"x{step['net_growth']:.1f}" if step.get("net_growth") else ""
    return [
        size["label"],
        f"{size['rows']:,}",
        step["step"],
        str(len(step["runs"])),
        seconds(step.get("min")),
        seconds(step.get("median")),
        seconds(step.get("cpu_min")),
        seconds(floor.get("min")),
        f"{step['ratio']:.2f}" if step.get("ratio") else "",
        f"{step['cpu_ratio']:.2f}" if step.get("cpu_ratio") else "",
        f"{step['peak_mib']:,.0f}" if step.get("peak_mib") else "",
        growth,
        net,
        step["verdict"],
    ]


def seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def rows_of(document: dict) -> list[list[str]]:
    return [cells(size, step) for size in document["sizes"] for step in size["steps"]]


def notes_of(document: dict) -> list[str]:
    notes = []
    for size in document["sizes"]:
        growth = f", rows x{size['rows_growth']:.1f} from the size before" if "rows_growth" in size else ""
        notes.append(
            f"{size['label']}: {size['customers']:,} customers, export {size['export_mib']:,.0f} MiB, "
            f"snapshot {size['snapshot_mib']:,.0f} MiB{growth}; load average before/after "
            f"{size['load'][0]:.1f}/{size['load'][1]:.1f}"
        )
        notes += [f"{size['label']} {s['step']}: {s['note']}" for s in size["steps"] if s.get("note")]
    return notes


def print_table(sizes: list[dict], targets: Targets, git: dict[str, object]) -> dict:
    """Add growth and verdicts, print the table, return the whole results document."""
    add_growth(sizes)
    smallest = sizes[0] if sizes and sizes[0]["rows"] <= targets.fixed_up_to else {"steps": []}
    fixed = {s["step"]: s["min"] for s in smallest["steps"] if s.get("min") is not None}
    for size in sizes:
        for step in size["steps"]:
            step["verdict"] = verdict(step, size, targets, fixed)
    document = results_document(sizes, targets, git)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"privacy-audit bench, {machine_line(document['machine'])}")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("size", "step", "verdict") else "right")
    for row in rows_of(document):
        table.add_row(*row)
    console = Console(width=160)
    console.print(table)
    for note in notes_of(document):
        console.print(f"  {note}", highlight=False)
    return document


def machine() -> dict[str, object]:
    return {
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line(info: dict) -> str:
    return f"{info['cores']} cores ({info['cpu']}), {info['memory_gib']} GiB, duckdb {info['duckdb']}"


def git_state() -> dict[str, object]:
    """The commit measured (taken before the runs) and whether the tree had local changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def results_document(sizes: list[dict], targets: Targets, git: dict[str, object]) -> dict:
    from audit_lib import __version__

    return {
        "format": FORMAT,
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "suite_version": __version__,
        "git": git,
        "machine": machine(),
        "targets": asdict(targets),
        "sizes": sizes,
    }


def markdown(document: dict) -> str:
    lines = [
        f"Measured {document['date'][:10]} on {machine_line(document['machine'])} "
        f"(commit {document['git']['commit']}{', dirty' if document['git']['dirty'] else ''}).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" if c in ("size", "step", "verdict") else "---:" for c in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows_of(document)]
    lines += ["", *[f"- {note}" for note in notes_of(document)]]
    return "\n".join(lines) + "\n"


def write_results(document: dict, args: dict[str, object]) -> list[Path]:
    """bench/results/<date>-<host>.json, latest.json and latest.md."""
    RESULTS.mkdir(exist_ok=True)
    document = {**document, "arguments": args}
    text = json.dumps(document, indent=2) + "\n"
    dated = RESULTS / f"{document['date'][:10]}-{document['machine']['host']}.json"
    paths = [dated, RESULTS / "latest.json", RESULTS / "latest.md"]
    for path, content in zip(paths, (text, text, markdown(document)), strict=True):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)
    return paths
