"""An inventory read straight from a database: PostgreSQL or SQLite, through ADBC.

`read_database(url, con)` reads the ten contract tables in one read-only
transaction (PostgreSQL: REPEATABLE READ, one snapshot of the database for all
tables) and streams each query's Arrow record batches into a landing database
attached to `con` (DuckDB pulls batch after batch: memory stays bounded; no
table passes through pandas or Python rows). Each table then is a
`DatabaseSource`: a source like an export file, read by the same typed load
and validation (ingest.validate), so the rules and messages are the same.

Type mapping (the database's declared type of each listed column; a domain
counts as its base type):

| contract kind | PostgreSQL types read | read as |
|---|---|---|
| string (ids too) | text, varchar, char, name, citext, enum, uuid, integers, numeric | their text form |
| enum, country | text, varchar, char, name, citext, enum | text |
| timestamp | timestamptz (UTC), timestamp (as UTC), date (midnight UTC), text (ISO 8601) | as they are |
| date | date, timestamp (midnight only), text (`YYYY-MM-DD`) | as they are |
| boolean | boolean, integers (1/0), text (true/false, t/f, 1/0) | as they are |

Any other type (interval, json, bytea, float, arrays...) is refused, naming the
column and the rule. Extra columns are kept (types other than booleans,
numbers, text, dates and timestamps in their text form). SQLite stores values,
not types: every column is read as text and validated as a CSV field is.

The password (from the URL, PGPASSWORD or ~/.pgpass, which libpq reads) is
never echoed, logged or written: the snapshot records `redacted_url`, and every
driver message is scrubbed of it before it is shown.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import duckdb

from audit_lib.errors import InvalidExportError, UsageError, ValidationFault
from audit_lib.ingest.schema import TABLES, Column, Table
from audit_lib.ingest.sources import check_names, ident, literal, position_name

LANDING = "audit_landing"
#: Called with each table's name once it is read, inside the transaction (a test's hook).
after_table: Callable[[str], None] | None = None

TEXT = ("text", "varchar", "bpchar", "name", "citext")
INTEGER = ("int2", "int4", "int8")
ALLOWED: dict[str, tuple[str, ...]] = {
    "string": (*TEXT, "enum", "uuid", *INTEGER, "numeric"),
    "enum": (*TEXT, "enum"),
    "country": (*TEXT, "enum"),
    "timestamp": ("timestamptz", "timestamp", "date", *TEXT),
    "date": ("date", "timestamp", *TEXT),
    "boolean": ("bool", *INTEGER, *TEXT),
}
#: Read as the driver hands them; everything else allowed is read in its text form.
NATIVE = ("timestamptz", "timestamp", "date", "bool", *INTEGER)
#: Extra columns of these types are kept as they are, others in their text form.
KEPT = (*NATIVE, "float4", "float8")


def is_database_url(text: str) -> bool:
    return bool(re.match(r"^(postgres(ql)?|sqlite)(\+\w+)?:", str(text)))


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed `postgresql://USER[:PASSWORD]@HOST:PORT/DB?schema=NAME` or `sqlite:///PATH`."""

    kind: str  # "postgresql" or "sqlite"
    schema: str
    database: str  # the database name, or the SQLite file's path
    password: str | None = field(default=None, repr=False)
    _driver_uri: str = field(default="", repr=False)
    redacted: str = ""

    @classmethod
    def parse(cls, text: str) -> DatabaseURL:
        parts = urlsplit(text)
        scheme = parts.scheme.split("+")[0]
        if scheme == "sqlite":
            path = text.split(":", 1)[1]
            if not path.startswith("///") or len(path) == 3:
                raise UsageError("a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
            file = unquote(path[3:].split("?")[0])
            return cls("sqlite", "main", file, None, file, f"sqlite:///{file}")
        if scheme not in ("postgres", "postgresql"):
            raise UsageError(
                f"unsupported database URL scheme {parts.scheme!r} (postgresql:// or sqlite:///)"
            )
        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = next((v for k, v in query if k == "schema"), "public")
        query = [(k, v) for k, v in query if k not in ("schema", "password")]
        password = unquote(parts.password) if parts.password is not None else None
        password = next((v for k, v in parse_qsl(parts.query) if k == "password"), password)
        host = parts.hostname or ""
        netloc = host if ":" not in host else f"[{host}]"
        if parts.port:
            netloc += f":{parts.port}"
        user = quote(unquote(parts.username), safe="") if parts.username else ""
        public = f"{user}@{netloc}" if user else netloc
        secret = f"{user}:{quote(password, safe='')}@{netloc}" if password is not None else public
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise UsageError("the PostgreSQL URL names no database (postgresql://USER@HOST:PORT/DB)")
        shown = urlunsplit(("postgresql", public, parts.path, urlencode([*query, ("schema", schema)]), ""))
        driver = urlunsplit(("postgresql", secret, parts.path, urlencode(query), ""))
        return cls("postgresql", schema, database, password, driver, shown)

    def scrub(self, text: str) -> str:
        """`text` (a driver's message) without the password in any form."""
        if self.password:
            for form in {self.password, quote(self.password, safe=""), quote(self.password)}:
                text = text.replace(form, "***")
        return text


@dataclass(frozen=True)
class DatabaseSource:
    """One table as landed from the database: read by validation like an export file."""

    table: Table
    relation: str  # the qualified name in the source database, e.g. public.customers
    layout: tuple[tuple[str, str], ...]  # (name, DuckDB type of the landed column)
    refused: tuple[tuple[str, str], ...]  # (column, rule) of listed columns of a type refused
    kind: str  # postgresql or sqlite

    @property
    def path(self) -> PurePosixPath:  # what faults name (as a file's name)
        return PurePosixPath(self.relation)

    @property
    def format(self) -> str:
        return self.kind

    def locate(self, row: int) -> str:
        return f"row {row + 1}"

    def reader(self, width: int) -> str:
        return f"{LANDING}.main.{ident(self.table.name)}"

    def columns(self, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        return list(self.layout)

    def type_fault(self, column: Column) -> str | None:
        return dict(self.refused).get(column.name)


@dataclass(frozen=True)
class DatabaseRead:
    """What was read: the sources, and the identity of the read for the snapshot."""

    sources: list[DatabaseSource]
    started_at: datetime  # the transaction's start, server clock, UTC
    identity: dict[str, str]
    checksums: dict[str, str]  # table -> content checksum of the rows as read


def _kind_of(column: Column) -> str:
    return "enum" if column.enum else column.kind


def _refusal(column: Column, type_name: str, database: str) -> str:
    allowed = ", ".join(dict.fromkeys(ALLOWED[_kind_of(column)]))
    kind = f"{column.kind} (enum)" if column.enum else column.kind
    return f"{database} type {type_name} cannot hold a {kind} (allowed: {allowed})"


def _pg_select(table: Table, columns: list[tuple[str, str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """The SELECT of one table (columns as `#i`), and the refused listed columns."""
    listed = {c.name: c for c in table.columns}
    parts, refused = [], []
    for i, (name, base, shown) in enumerate(columns):
        value, alias = ident(name), ident(position_name(i))
        column = listed.get(name)
        if column is None:
            expr = f"{value}::{base}" if base in KEPT else f"{value}::text"
        elif base not in ALLOWED[_kind_of(column)]:
            refused.append((name, _refusal(column, shown, "PostgreSQL")))
            expr = "NULL::text"
        elif base in NATIVE and not (base in INTEGER and column.kind == "string"):
            expr = f"{value}::{base}"
        else:
            expr = f"{value}::text"
        parts.append(f"{expr} AS {alias}")
    return ", ".join(parts), refused


_PG_COLUMNS = """
SELECT c.relname, a.attname, CASE WHEN b.typtype = 'e' THEN 'enum' ELSE b.typname END,
  format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
WHERE n.nspname = {schema} AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND a.attnum > 0
  AND NOT a.attisdropped AND c.relname IN ({tables})
ORDER BY c.relname, a.attnum
"""


@contextlib.contextmanager
def _driver_errors(url: DatabaseURL, what: str) -> Iterator[None]:
    """Turn a driver's error into a plain UsageError (exit 2), the password scrubbed."""
    try:
        yield
    except (UsageError, InvalidExportError):
        raise
    except Exception as exc:
        message = " ".join(url.scrub(str(exc)).split())
        message = re.sub(r"^(IO|INVALID_ARGUMENT|INTERNAL|UNKNOWN): ", "", message)
        message = re.sub(r"\[libpq\] |Failed to connect: ", "", message)
        raise UsageError(f"{url.redacted}: {what} ({message})") from None


def read_database(text: str, con: duckdb.DuckDBPyConnection, landing: Path) -> DatabaseRead:
    """Read the contract's tables of the database at URL `text` into `landing` (attached to `con`)."""
    url = DatabaseURL.parse(text)
    con.execute(f"ATTACH {literal(str(landing))} AS {LANDING}")
    if url.kind == "sqlite":
        return _read_sqlite(url, con)
    return _read_postgres(url, con)


def _land(con: duckdb.DuckDBPyConnection, table: str, stream: object, sentinel: bool = False) -> None:
    con.register("audit_stream", stream)
    try:
        where = ' EXCLUDE ("#sentinel") FROM audit_stream WHERE "#sentinel" = 0' if sentinel else ""
        select = f"SELECT *{where}" if sentinel else "SELECT * FROM audit_stream"
        con.execute(f"CREATE TABLE {LANDING}.main.{ident(table)} AS {select}")
    finally:
        con.unregister("audit_stream")


def _landed_layout(con: duckdb.DuckDBPyConnection, table: str, names: list[str]) -> tuple:
    described = con.execute(f"DESCRIBE {LANDING}.main.{ident(table)}").fetchall()
    return tuple((name, kind) for name, (_, kind, *_) in zip(names, described, strict=True))


def _checksum(con: duckdb.DuckDBPyConnection, table: str) -> str:
    ((total,),) = con.execute(
        f"SELECT coalesce(sum(hash(*COLUMNS(*))), 0)::VARCHAR FROM {LANDING}.main.{ident(table)}"
    ).fetchall()
    return hashlib.sha256(f"{table}:{total}".encode()).hexdigest()


def _missing(faults: list[ValidationFault]) -> None:
    if faults:
        raise InvalidExportError(faults)


def _check_names(relation: str, names: list[str]) -> None:
    from audit_lib.ingest.sources import SourceFault

    try:
        check_names(names)
    except SourceFault as fault:
        raise InvalidExportError([ValidationFault(relation, None, fault.rule)]) from None


def _read_postgres(url: DatabaseURL, con: duckdb.DuckDBPyConnection) -> DatabaseRead:
    import adbc_driver_postgresql
    import adbc_driver_postgresql.dbapi as pg

    with _driver_errors(url, "cannot connect to the PostgreSQL server"):
        db = pg.connect(url._driver_uri, autocommit=True)
    with contextlib.closing(db), _driver_errors(url, "cannot read the inventory"):
        cur = db.cursor()
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cur.execute(
            "SELECT transaction_timestamp(), current_setting('server_version'), current_database(), "
            f"EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = {literal(url.schema)})"
        )
        ((started, version, database, has_schema),) = cur.fetchall()
        if not has_schema:
            raise UsageError(f"{url.redacted}: no schema {url.schema!r} in database {database!r}")
        tables = ", ".join(literal(t.name) for t in TABLES)
        cur.execute(_PG_COLUMNS.format(schema=literal(url.schema), tables=tables))
        found: dict[str, list[tuple[str, str, str]]] = {}
        for relname, name, base, shown in cur.fetchall():
            found.setdefault(relname, []).append((name, base, shown))
        _missing(
            [
                ValidationFault(f"{url.schema}.{t.name}", None, "missing table")
                for t in TABLES
                if t.name not in found
            ]
        )
        sources, checksums = [], {}
        for table in TABLES:
            relation = f"{url.schema}.{table.name}"
            names = [name for name, _, _ in found[table.name]]
            _check_names(relation, names)
            select, refused = _pg_select(table, found[table.name])
            cur.execute(f"SELECT {select} FROM {ident(url.schema)}.{ident(table.name)}")
            _land(con, table.name, cur.fetch_record_batch())
            layout = _landed_layout(con, table.name, names)
            sources.append(DatabaseSource(table, relation, layout, tuple(refused), "postgresql"))
            checksums[table.name] = _checksum(con, table.name)
            if after_table:
                after_table(table.name)
        cur.execute("COMMIT")
    identity = {
        "driver": f"adbc-driver-postgresql {adbc_driver_postgresql.__version__}",
        "server_version": f"PostgreSQL {version}",
        "database": database,
        "schema": url.schema,
        "url": url.redacted,
        "isolation": "one read-only REPEATABLE READ transaction",
        "transaction_started_at": started.astimezone(UTC).isoformat(),
    }
    return DatabaseRead(sources, started.astimezone(UTC), identity, checksums)


def _read_sqlite(url: DatabaseURL, con: duckdb.DuckDBPyConnection) -> DatabaseRead:
    import adbc_driver_sqlite
    import adbc_driver_sqlite.dbapi as lite

    path = Path(url.database)
    if not path.is_file():
        raise UsageError(f"{url.redacted}: no such SQLite database file")
    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    with _driver_errors(url, "cannot open the SQLite database"):
        db = lite.connect(uri, autocommit=True)
    with contextlib.closing(db), _driver_errors(url, "cannot read the inventory"):
        cur = db.cursor()
        cur.execute("BEGIN")
        cur.execute("SELECT sqlite_version(), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')")
        ((version, now),) = cur.fetchall()
        found: dict[str, list[str]] = {}
        for table in TABLES:
            cur.execute(f"SELECT name FROM pragma_table_info({literal(table.name)}) ORDER BY cid")
            names = [name for (name,) in cur.fetchall()]
            if names:
                found[table.name] = names
        _missing([ValidationFault(t.name, None, "missing table") for t in TABLES if t.name not in found])
        sources, checksums = [], {}
        for table in TABLES:
            names = found[table.name]
            _check_names(table.name, names)
            sentinel = ", ".join(f"'' AS {ident(position_name(i))}" for i in range(len(names)))
            values = ", ".join(f"CAST({ident(n)} AS TEXT)" for n in names)
            # ADBC's SQLite driver types a column by its first rows: a text row first.
            cur.execute(
                f'SELECT 1 AS "#sentinel", {sentinel} UNION ALL SELECT 0, {values} FROM {ident(table.name)}'
            )
            _land(con, table.name, cur.fetch_record_batch(), sentinel=True)
            layout = _landed_layout(con, table.name, names)
            sources.append(DatabaseSource(table, table.name, layout, (), "sqlite"))
            checksums[table.name] = _checksum(con, table.name)
            if after_table:
                after_table(table.name)
        cur.execute("COMMIT")
    started = datetime.fromisoformat(now).astimezone(UTC)
    identity = {
        "driver": f"adbc-driver-sqlite {adbc_driver_sqlite.__version__}",
        "server_version": f"SQLite {version}",
        "database": str(path.resolve()),
        "schema": "main",
        "url": url.redacted,
        "isolation": "one read transaction",
        "transaction_started_at": started.isoformat(),
    }
    return DatabaseRead(sources, started, identity, checksums)
