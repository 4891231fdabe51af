"""The `postgres` step: `snapshot build` straight from PostgreSQL, against COPY TO STDOUT by hand.

The export is loaded once into a throw-away server (tests/postgres_server.py:
Debian's binaries, a temporary folder, run as the `postgres` user when root),
with the contract's enums and column types (timestamptz, date, boolean). Then,
run after run:
  main   `privacy-audit snapshot build postgresql://USER@127.0.0.1:PORT/DB?schema=bench`
         (password from PGPASSWORD), full validation and checksums;
  floor  `bench/floors.py postgres`: per table, psql's `COPY ... TO STDOUT (FORMAT csv,
         HEADER)` piped into DuckDB's `CREATE TABLE t AS SELECT * FROM read_csv('/dev/stdin')`.
The server's own time and memory are in neither (it serves both alike).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from data import BENCH, CLI, ROOT, Export
from measure import Run

if TYPE_CHECKING:
    from run import Bench, StepResult

sys.path.insert(0, str(ROOT / "tests"))
from postgres_server import DATABASE, PASSWORD, USER, PostgresServer, bin_dir, load_postgres

SCHEMA = "bench"
PYTHON = sys.executable


@contextlib.contextmanager
def served(export: Export) -> Iterator[tuple[PostgresServer, float]]:
    """A running server holding `export` in schema `bench`, and the seconds its load took."""
    server = PostgresServer().start()
    try:
        start = time.perf_counter()
        load_postgres(server, SCHEMA, export.path)
        server.psql("VACUUM ANALYZE")
        yield server, time.perf_counter() - start
    finally:
        server.stop()


def environment() -> dict[str, str]:
    return {**os.environ, "CI": "1", "PGPASSWORD": PASSWORD}


def bench_postgres(bench: Bench, export: Export) -> StepResult:
    """`runs` builds from the server and `runs` floors, alternating; the step's result."""
    from run import StepResult

    with served(export) as (server, load_seconds):
        url = f"postgresql://{USER}@127.0.0.1:{server.port}/{DATABASE}?schema={SCHEMA}"

        def main(i: int) -> Run:
            out = bench.work / f"postgres-{i + 1}.duckdb"
            run = bench.run("postgres", i, [CLI, "snapshot", "build", url, "--out", out], environment())
            out.unlink(missing_ok=True)
            return run

        def floor(i: int) -> Run:
            out = bench.work / f"postgres-floor-{i + 1}.duckdb"
            command = [PYTHON, BENCH / "floors.py", "postgres", bin_dir() / "psql", str(server.port), USER,
                       DATABASE, SCHEMA, out]  # fmt: skip
            run = bench.run("postgres floor", i, command, environment())
            out.unlink(missing_ok=True)
            return run

        mains, floors = bench.repeat(main, floor)
    return StepResult(
        "postgres",
        "privacy-audit snapshot build postgresql://USER@HOST:PORT/DB?schema=bench --out FILE",
        mains,
        "per table: psql COPY ... TO STDOUT (FORMAT csv, HEADER) | read_csv(/dev/stdin), into a new database",
        floors,
        note=f"export loaded into PostgreSQL {server_version()} in {load_seconds:.0f} s (not measured)",
    )


def server_version() -> str:
    return Path(bin_dir()).parent.name
