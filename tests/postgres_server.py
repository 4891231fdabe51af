"""A throw-away PostgreSQL server for the tests, from the binaries on this machine.

`PostgresServer.start()` runs `initdb` and `pg_ctl` in a temporary folder and
listens on 127.0.0.1 (a free port) and on a unix socket in that folder, with
password (SCRAM) authentication everywhere, so wrong credentials are refused as
on a real server. `initdb` refuses to run as root: as root the server runs as
Debian's `postgres` user (created with `useradd` when missing). `stop()` ends
it and removes the folder. Debian's binaries live in /usr/lib/postgresql/*/bin
(`make postgres` installs them when `initdb` is missing).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

USER = "auditor"
PASSWORD = "s3cret-Pa55-word"  # what the leak tests grep for
DATABASE = "inventory"


def bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not versions:
        raise RuntimeError("PostgreSQL binaries not found: run `make postgres` (apt-get install postgresql)")
    return Path(versions[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user() -> str | None:
    """The unprivileged user to run the server as when we are root; None otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


@dataclass
class PostgresServer:
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pgtest-")))
    port: int = field(default_factory=free_port)
    user: str | None = field(default_factory=_server_user)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, schema: str = "public", password: bool = True, database: str = DATABASE) -> str:
        secret = f":{PASSWORD}" if password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}?schema={schema}"

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        kw.setdefault("check", True)
        kw.setdefault("capture_output", True)
        return subprocess.run(
            [str(bin_dir() / args[0]), *args[1:]], user=self.user, cwd=self.root, text=True, **kw
        )

    def start(self) -> PostgresServer:
        self.socket_dir.mkdir()
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.user:
            info = pwd.getpwnam(self.user)
            for path in (self.root, self.socket_dir, pwfile):
                os.chown(path, info.pw_uid, info.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "--auth=scram-sha-256", f"--pwfile={pwfile}",
            "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = self.root / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start")
        self.psql("CREATE DATABASE " + DATABASE, database="postgres")
        return self

    def psql(
        self, sql: str, database: str = DATABASE, stdin: str | None = None, zone: str | None = None
    ) -> str:
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        if zone:  # the session time zone (as COPY TO writes timestamps in it)
            env["PGTZ"] = zone
        result = subprocess.run(
            [str(bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", USER, "-d", database, "-c", sql],
            input=stdin, capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        if result.returncode:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


# --- loading an export into a database (the tests' side: plain SQL, psql and sqlite3) ---

PG_TYPES = {
    "string": "text",
    "country": "text",
    "boolean": "boolean",
    "timestamp": "timestamptz",
    "date": "date",
}


def pg_ddl(schema: str, types: dict[tuple[str, str], str] | None = None) -> str:
    """CREATE SCHEMA, the contract's enums as PostgreSQL enums, and the ten tables (no constraints)."""
    from audit_lib.ingest.schema import ENUMS, TABLES

    types = types or {}
    q = f'"{schema}"'
    parts = [f"CREATE SCHEMA {q}"]
    parts += [
        f"CREATE TYPE {q}.{name} AS ENUM ({', '.join(repr(v) for v in values)})"
        for name, values in ENUMS.items()
    ]
    for table in TABLES:
        cols = ", ".join(
            f'"{c.name}" ' + types.get((table.name, c.name), f"{q}.{c.kind}" if c.enum else PG_TYPES[c.kind])
            for c in table.columns
        )
        parts.append(f"CREATE TABLE {q}.{table.name} ({cols})")
    return ";\n".join(parts) + ";"


def load_postgres(server: PostgresServer, schema: str, export: Path, types: dict | None = None) -> None:
    """The export folder's CSV files into `schema` with COPY FROM (psql's \\copy)."""
    from audit_lib.ingest.schema import TABLES

    server.psql(pg_ddl(schema, types))
    for table in TABLES:
        server.psql(f"\\copy \"{schema}\".{table.name} FROM '{export / (table.name + '.csv')}' CSV HEADER")


def load_sqlite(path: Path, export: Path) -> Path:
    """The export folder's CSV files into a SQLite file (declared types as a person would write them)."""
    import csv
    import sqlite3

    from audit_lib.ingest.schema import TABLES

    kinds = {"boolean": "BOOLEAN", "timestamp": "TIMESTAMP", "date": "DATE"}
    with contextlib.closing(sqlite3.connect(path)) as con:
        for table in TABLES:
            cols = ", ".join(f'"{c.name}" {kinds.get(c.kind, "TEXT")}' for c in table.columns)
            con.execute(f"CREATE TABLE {table.name} ({cols})")
            with (export / f"{table.name}.csv").open(newline="", encoding="utf-8") as f:
                reader = csv.reader(f)
                header = next(reader)
                marks = ", ".join("?" for _ in header)
                rows = ([v if v != "" else None for v in row] for row in reader)
                con.executemany(f"INSERT INTO {table.name} VALUES ({marks})", rows)
        con.commit()
    return path


@contextlib.contextmanager
def running_server():
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
