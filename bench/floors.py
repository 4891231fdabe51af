"""The floors: what a person would type in plain DuckDB, with no framework around it.

    python bench/floors.py ingest EXPORT_DIR OUT.duckdb
    python bench/floors.py evaluate SNAPSHOT PLAN.json
    python bench/floors.py postgres PSQL PORT USER DATABASE SCHEMA OUT.duckdb

`ingest` loads every export file with DuckDB's auto-detecting reader into a
fresh database file. `evaluate` runs bench/floor_controls.sql: each control of
controls.md written once by hand as one plain query (none of the suite's SQL
or macros), independent of the suite so that it checks the suite's counts.
Each query returns population, violations, exceptions and the keys of the
violations and exceptions, all fetched into Python; its parameters are bound
from the plan written by run.py (only each control's `params`, merged over all
controls, are read; the plan's `query` and `macros` are ignored). Only duckdb
and the standard library are imported here. The last line printed is JSON
with the inner time and per control `[population, violations, exceptions]`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb

CONTROLS_SQL = Path(__file__).with_name("floor_controls.sql")
HEADER = re.compile(r"^-- control: (\S+)\s*$", re.MULTILINE)
PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def floor_controls(path: Path = CONTROLS_SQL) -> dict[str, str]:
    """`{control id: query}`, split at its `-- control: ID` headers (text before the first is a preamble)."""
    parts = HEADER.split(path.read_text(encoding="utf-8"))
    queries = {}
    for control_id, body in zip(parts[1::2], parts[2::2], strict=True):
        query = body.strip().rstrip(";").strip()
        if control_id in queries or not query:
            raise SystemExit(f"{path.name}: control {control_id} is repeated or empty")
        queries[control_id] = query
    return queries


def reader(path: Path) -> str | None:
    literal = str(path).replace("'", "''")
    return {".csv": f"read_csv('{literal}')", ".parquet": f"read_parquet('{literal}')"}.get(path.suffix)


def ingest(export_dir: Path, out: Path) -> dict[str, object]:
    con = duckdb.connect(str(out))
    tables = 0
    for path in sorted(export_dir.iterdir()):
        source = reader(path)
        if source:
            con.execute(f'CREATE TABLE "{path.stem}" AS SELECT * FROM {source}')
            tables += 1
    con.close()
    return {"tables": tables}


def decode(value: object) -> object:
    if isinstance(value, dict) and "timestamp" in value:
        return datetime.fromisoformat(str(value["timestamp"]))
    return value


def evaluate(snapshot: Path, plan_file: Path) -> dict[str, object]:
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    bindings: dict[str, object] = {}
    for control in plan["controls"]:
        bindings.update({name: decode(v) for name, v in control["params"].items()})
    queries = floor_controls()
    missing = sorted({c["id"] for c in plan["controls"]} - queries.keys())
    if missing:
        raise SystemExit(f"{CONTROLS_SQL.name} has no query for {', '.join(missing)}")
    con = duckdb.connect(str(snapshot), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    controls = {}
    for control in plan["controls"]:
        query = queries[control["id"]]
        own = {**bindings, **{name: decode(v) for name, v in control["params"].items()}}
        names = dict.fromkeys(PARAMETER.findall(query))
        if unbound := [name for name in names if name not in own]:
            raise SystemExit(f"{control['id']}: the plan binds no {', '.join(unbound)}")
        row = con.execute(query, {name: own[name] for name in names}).fetchone()
        population, violations, exceptions, violation_keys, exception_keys = row
        if len(violation_keys or []) != violations or len(exception_keys or []) != exceptions:
            raise SystemExit(f"{control['id']}: the keys fetched do not match the counts")
        controls[control["id"]] = [population, violations, exceptions]
    con.close()
    return {"controls": controls}


TABLES = ("customers", "consents", "personal_data", "tracking_events", "communications", "parties",
          "disclosures", "dsr_requests", "disputes", "legal_holds")  # fmt: skip


def postgres(psql: str, port: str, user: str, database: str, schema: str, out: Path) -> dict[str, object]:
    """Each table as psql's COPY TO STDOUT (CSV) streams it, read by DuckDB from the pipe
    (the password comes from PGPASSWORD)."""
    con = duckdb.connect(str(out))
    for table in TABLES:
        copy = f'COPY "{schema}".{table} TO STDOUT (FORMAT csv, HEADER)'
        command = [psql, "-X", "-q", "-h", "127.0.0.1", "-p", port, "-U", user, "-d", database, "-c", copy]
        reader = subprocess.Popen(command, stdout=subprocess.PIPE)
        os.dup2(reader.stdout.fileno(), sys.stdin.fileno())
        reader.stdout.close()
        con.execute(f"CREATE TABLE \"{table}\" AS SELECT * FROM read_csv('/dev/stdin')")
        if reader.wait():
            raise SystemExit(f"psql failed for {table}")
    con.close()
    return {"tables": len(TABLES)}


def main(argv: list[str]) -> int:
    command, *args = argv
    start = time.perf_counter()
    if command == "ingest":
        result = ingest(Path(args[0]), Path(args[1]))
    elif command == "evaluate":
        result = evaluate(Path(args[0]), Path(args[1]))
    elif command == "postgres":
        result = postgres(*args[:5], Path(args[5]))
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    print(json.dumps({"inner_seconds": time.perf_counter() - start, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
