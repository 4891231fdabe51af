"""Run one command in a subprocess; measure its wall time, CPU time and peak memory.

CPU time is user + system of the process and its waited-for descendants
(less sensitive than wall time to other load on the machine).

Peak memory is taken two ways and the larger is reported:
- `maxrss`: the kernel's peak resident set of the largest single process of
  the command's tree (`os.wait4`, like `/usr/bin/time -v`);
- `tree`: the sum of the resident sets of the whole tree, sampled every
  0.1 s (papermill runs its kernels beside the parent, so they add up).
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.1
MIB = 1024 * 1024
TAIL_CHARS = 2000


@dataclass(frozen=True)
class Run:
    """One measured execution of a command."""

    seconds: float
    cpu_seconds: float
    maxrss_mib: float
    tree_peak_mib: float
    returncode: int
    output_tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def peak_mib(self) -> float:
        return max(self.maxrss_mib, self.tree_peak_mib)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["cpu_seconds"] = round(self.cpu_seconds, 3)
        data["maxrss_mib"] = round(self.maxrss_mib, 1)
        data["tree_peak_mib"] = round(self.tree_peak_mib, 1)
        if self.ok:
            del data["output_tail"]
        return data


class TreeSampler(threading.Thread):
    """Track the peak total RSS of a process and all its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            self.peak = max(self.peak, tree_rss(self.pid))
            if self._stop_event.wait(SAMPLE_SECONDS):
                return

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def tree_rss(pid: int) -> int:
    """Bytes resident in `pid` and its descendants now (0 once it is gone)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def measure(
    command: Sequence[str | Path | int], log: Path, timeout: float, env: dict[str, str] | None = None
) -> Run:
    """Run `command` to completion (killed after `timeout` s), output into `log`.

    Written data still pending (the generator's export, the run before's output) is
    flushed first, so that no run pays for another's writeback.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    os.sync()
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(c) for c in command], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        killer = threading.Timer(timeout, _kill_group, [proc.pid])
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        tree_peak = sampler.stop()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, usage.ru_maxrss / 1024, tree_peak / MIB, proc.returncode, _tail(log))


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _tail(log: Path) -> str:
    return log.read_bytes()[-TAIL_CHARS:].decode("utf-8", errors="replace")


def summary(runs: Sequence[Run]) -> dict[str, float | int | None]:
    """min, median, peak over the successful runs (None when none succeeded)."""
    good = [r for r in runs if r.ok]
    if not good:
        return {
            "min": None,
            "median": None,
            "cpu_min": None,
            "peak_mib": None,
            "ok_runs": 0,
            "failed_runs": len(runs),
        }
    seconds = [r.seconds for r in good]
    return {
        "min": round(min(seconds), 3),
        "median": round(statistics.median(seconds), 3),
        "cpu_min": round(min(r.cpu_seconds for r in good), 3),
        "peak_mib": round(max(r.peak_mib for r in good), 1),
        "ok_runs": len(good),
        "failed_runs": len(runs) - len(good),
    }
