"""The floors: what a person would type in plain DuckDB, with no framework around it.

    python bench/floors.py ingest EXPORT_DIR OUT.duckdb
    python bench/floors.py evaluate SNAPSHOT PLAN.json
    python bench/floors.py postgres PSQL PORT USER DATABASE SCHEMA OUT.duckdb

`ingest` loads every export file with DuckDB's auto-detecting reader into a
fresh database file. `evaluate` runs each control's own SQL (from the plan
written by run.py: query text, the shared macros it uses, bound parameters;
the macros are text an analyst would paste in) as a bare count plus a
fetch of the keys that break the rule. Only duckdb and the standard library
are imported here. The last line printed is JSON with the inner time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb

COUNTS = """
SELECT count(*),
       count(*) FILTER (WHERE breaks AND exemption IS NULL),
       count(*) FILTER (WHERE breaks AND exemption IS NOT NULL)
FROM ({query})
"""
KEYS = "SELECT key, exemption FROM ({query}) WHERE breaks"


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
    con = duckdb.connect(str(snapshot), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    for signature, body in plan.get("macros", {}).items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {signature} AS {body}")
    controls = {}
    for control in plan["controls"]:
        params = {name: decode(v) for name, v in control["params"].items()}
        counts = con.execute(COUNTS.format(query=control["query"]), params).fetchone()
        con.execute(KEYS.format(query=control["query"]), params).fetchall()
        controls[control["id"]] = list(counts)
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
