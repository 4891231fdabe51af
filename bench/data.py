"""Benchmark sizes and the sample exports they use, cached under bench/data/.

An export is generated once per seed and customer count by
`privacy-audit sample generate` into `bench/data/<seed>-<customers>/export/`
and reused while the generator's source is unchanged (its fingerprint is
kept in `export.json` beside the export).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from measure import Run, measure

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
CLI = Path(sys.executable).parent / "privacy-audit"
#: Rows of all tables per customer in a generated export (measured: 11.5 at 100k customers).
ROWS_PER_CUSTOMER = 11.5
SIZE = re.compile(r"^(\d+(?:\.\d+)?)([km]?)(?::(\d+))?$")
UNITS = {"": 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class Size:
    """A target total row count, e.g. `1m`; `1m:2` also sets its number of runs."""

    label: str
    target_rows: int
    runs: int | None = None

    @property
    def customers(self) -> int:
        """Customers for about `target_rows` rows, to two significant digits."""
        exact = self.target_rows / ROWS_PER_CUSTOMER
        return max(10, int(round(exact, 2 - len(str(int(exact))))))


def parse_sizes(text: str) -> list[Size]:
    sizes = []
    for item in text.split(","):
        match = SIZE.match(item.strip().lower())
        if not match:
            raise SystemExit(f"bench: not a size like 100k, 1m or 10m:2: {item!r}")
        rows = int(float(match[1]) * UNITS[match[2]])
        sizes.append(Size(f"{match[1]}{match[2]}", rows, int(match[3]) if match[3] else None))
    return sizes


def fingerprint() -> str:
    """Hash of the generator's source: an export is stale when it changes."""
    digest = hashlib.sha256()
    sources = [
        *sorted((ROOT / "src/audit_lib/sample").rglob("*.py")),
        ROOT / "src/audit_lib/ingest/schema.py",
    ]
    for path in sources:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Export:
    path: Path
    seed: int
    customers: int
    generated: Run | None  # None when reused from the cache

    @property
    def home(self) -> Path:
        return self.path.parent

    def planted(self) -> dict:
        planted = self.path / "planted.json"
        return json.loads(planted.read_text(encoding="utf-8")) if planted.is_file() else {}

    def read_through(self) -> None:
        """Read every file once (untimed), so that the first measured run does not pay for pages
        another size's runs evicted from the cache while the next one finds them cached."""
        for path in sorted(self.path.iterdir()):
            if path.is_file():
                with path.open("rb") as f:
                    while f.read(1 << 24):
                        pass

    def size_mib(self) -> float:
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file()) / (1024 * 1024)


def ensure_export(size: Size, seed: int, timeout: float) -> Export:
    """The cached export for `size`, generated first when missing or stale."""
    home = DATA / f"{seed}-{size.customers}"
    export, stamp = home / "export", home / "export.json"
    wanted = {"seed": seed, "customers": size.customers, "generator": fingerprint()}
    if export.is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return Export(export, seed, size.customers, None)
    run = generate(home, seed, size.customers, timeout)
    stamp.write_text(json.dumps(wanted, indent=2) + "\n")
    return Export(export, seed, size.customers, run)


def generate(home: Path, seed: int, customers: int, timeout: float) -> Run:
    export, partial = home / "export", home / "export.partial"
    for stale in (export, partial):
        shutil.rmtree(stale, ignore_errors=True)
    (home / "export.json").unlink(missing_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    print(f"  generating {customers:,} customers (seed {seed}) into {export.relative_to(ROOT)} ...")
    command = [CLI, "sample", "generate", "--out", partial, "--customers", customers, "--seed", seed]
    run = measure(command, home / "generate.log", timeout)
    if not run.ok:
        raise SystemExit(f"bench: sample generation failed:\n{run.output_tail}")
    partial.rename(export)
    return run
