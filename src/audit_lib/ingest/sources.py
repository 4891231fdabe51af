"""An export folder's files: which file is which table, and how DuckDB reads each as it is.

Three decisions hold the answer to the file's content and nothing else:

- Column names are data. DuckDB reads every file under positional names of
  its own (`#0`, `#1`, ...; see `position_name`), so no name in a header (an
  internal name, `rowid`, quotes, newlines) can meet a name the suite uses.
  A header with an empty name, or two names equal but for case, is refused:
  DuckDB cannot keep such a column under its name.
- Paths are literal. DuckDB's readers expand glob characters in their
  argument; `glob_literal` escapes them and `SourceFile.columns` checks that
  the pattern names exactly this one file.
- A table file is a regular file in the export folder. A symbolic link is
  refused (not followed): the export is what the folder holds, and a link's
  target may change between the checksum and the read.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import mmap
import re
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.errors import InvalidExportError, ValidationFault
from audit_lib.ingest.schema import TABLES, Table

if TYPE_CHECKING:
    import duckdb

#: DuckDB's default `max_line_size` of read_csv (bytes), named in faults.
CSV_MAX_LINE = 2_000_000

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a field DuckDB reads must not stop the locator


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def position_name(index: int) -> str:
    """The name DuckDB gives the file's column at `index` (0-based): never a contract name."""
    return f"#{index}"


def glob_literal(path: Path) -> str:
    """`path` as a DuckDB glob pattern matching only itself (`[`, `*`, `?` as classes)."""
    return re.sub(r"([\[*?])", r"[\1]", str(path))


class SourceFault(Exception):
    """A fault of the file as a whole (its names, its syntax): becomes a ValidationFault."""

    def __init__(self, rule: str, first: str | None = None) -> None:
        self.rule, self.first = rule, first
        super().__init__(rule)


@dataclass(frozen=True)
class SourceFile:
    """One table's export file."""

    table: Table
    path: Path
    null_marker: str | None = None  # a CSV field equal to it is NULL, as an empty one is

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".")

    def locate(self, row: int) -> str:
        """Name a row (0-based, file order) the way a person finds it in the file."""
        if self.format != "csv":
            return f"row {row + 1}"
        try:
            with self.path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                end_of_previous = 0
                for index, _ in enumerate(reader):  # the header is record 0
                    if index == row + 1:
                        return f"line {end_of_previous + 1}"
                    end_of_previous = reader.line_num
        except (OSError, csv.Error, UnicodeDecodeError):
            pass
        return f"row {row + 1}"

    def reader(self, width: int) -> str:
        """The DuckDB relation reading this file as it is, columns named by position."""
        path = literal(glob_literal(self.path))
        names = ", ".join(ident(position_name(i)) for i in range(width))
        if self.format == "parquet":
            return f"read_parquet({path}) AS source({names})"
        columns = ", ".join(f"{literal(position_name(i))}: 'VARCHAR'" for i in range(width))
        nulls = f"nullstr=['', {literal(self.null_marker)}], " if self.null_marker else ""
        return (
            f"read_csv({path}, header=true, auto_detect=false, columns={{{columns}}}, "
            f"delim=',', quote='\"', escape='\"', strict_mode=true, encoding='utf-8', {nulls}"
            f"max_line_size={CSV_MAX_LINE})"
        )

    def columns(self, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        """(name, DuckDB type) of every column of the file as it is, in file order.

        Raises SourceFault for a file DuckDB cannot read literally or whose names clash.
        """
        pattern = literal(glob_literal(self.path))
        matched = [p for (p,) in con.execute(f"SELECT file FROM glob({pattern})").fetchall()]
        if matched != [str(self.path)]:
            raise SourceFault("the path cannot be read literally (DuckDB expands it onto other files)")
        if self.format == "csv":
            names = csv_header(self.path)
            check_names(names)
            return [(name, "VARCHAR") for name in names]
        names = parquet_names(con, self.path)
        check_names(names)
        described = con.execute(f"DESCRIBE SELECT * FROM {self.reader(len(names))}").fetchall()
        return [(name, kind) for name, (_, kind, *_) in zip(names, described, strict=True)]


def find_sources(export_dir: Path, null_marker: str | None = None) -> list[SourceFile]:
    """Pair every contract table with exactly one regular file of the folder (no symbolic link)."""
    if not export_dir.is_dir():
        raise InvalidExportError([ValidationFault(str(export_dir), None, "not a folder")])
    faults, sources = [], []
    for table in TABLES:
        candidates = [export_dir / f"{table.name}.{ext}" for ext in ("csv", "parquet")]
        links = [p for p in candidates if p.is_symlink()]
        found = [p for p in candidates if p.is_file() and not p.is_symlink()]
        if links:
            rule = "a symbolic link, not a file: table files are read as the folder holds them; copy it in"
            faults.append(ValidationFault(links[0].name, None, rule))
        elif not found:
            faults.append(ValidationFault(f"{table.name}.csv", None, missing_rule(export_dir, table.name)))
        elif len(found) > 1:
            faults.append(ValidationFault(found[0].name, None, "table given twice (one format per table)"))
        else:
            sources.append(SourceFile(table, found[0], null_marker))
    if faults:
        raise InvalidExportError(faults)
    return sources


def missing_rule(export_dir: Path, table: str) -> str:
    """`missing table file`, naming a file whose name differs only in case (`Parties.CSV`)."""
    wanted = {f"{table}.csv", f"{table}.parquet"}
    near = sorted(p.name for p in export_dir.iterdir() if p.name.lower() in wanted)
    if near:
        return (
            f"missing table file (found {near[0]}: names are case-sensitive; name it {table}.csv or .parquet)"
        )
    return "missing table file"


def csv_header(path: Path) -> list[str]:
    """The header row (a UTF-8 byte order mark is allowed).

    A name with a line break is refused: DuckDB takes the file's line ending
    from the first break it meets, and one inside the header misreads the file.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
            header = next(csv.reader(handle), None)
    except csv.Error as exc:
        raise SourceFault(f"unreadable CSV: the header is not CSV ({exc})", "line 1") from None
    if not header or not any(name.strip() for name in header):
        raise SourceFault("empty file: no header row")
    if any("\udc80" <= ch <= "\udcff" for name in header for ch in name):  # undecodable bytes
        raise SourceFault(f"unreadable CSV: {_CAUSES['INVALID ENCODING']}", "line 1")
    broken = [repr(name) for name in header if "\n" in name or "\r" in name]
    if broken:
        raise SourceFault(f"column name(s) with a line break: {', '.join(broken)}; rename them", "line 1")
    return header


def parquet_names(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """The top-level column names as the file has them (DuckDB's DESCRIBE renames clashes)."""
    schema = con.execute(
        f"SELECT name, coalesce(num_children, 0) FROM parquet_schema({literal(glob_literal(path))})"
    ).fetchall()
    names, pending = [], [schema[0][1]] if schema else []  # the root's children
    for name, children in schema[1:]:
        if len(pending) == 1:
            names.append(name)
        pending[-1] -= 1
        if children:
            pending.append(children)
        while pending and pending[-1] == 0:
            pending.pop()
    return names


def check_names(names: list[str]) -> None:
    """Refuse a header DuckDB cannot keep: an empty name, names equal but for case."""
    empty = [str(i + 1) for i, name in enumerate(names) if not name]
    if empty:
        raise SourceFault(f"column(s) {', '.join(empty)} of the header have no name; name or drop them")
    folded = [name.lower() for name in names]
    clashes = sorted({name for name in names if folded.count(name.lower()) > 1})
    if clashes:
        shown = ", ".join(repr(name) for name in clashes)
        raise SourceFault(f"column names given twice (case-insensitively): {shown}")


def line_of(path: Path, offset: int) -> int:
    """The physical line (1-based; LF, CRLF or CR ends a line) holding byte `offset`."""
    with path.open("rb") as handle:
        head = handle.read(max(offset, 0))
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


#: Two line breaks in a row, the second not the LF of a CRLF: where a blank line may be.
BREAK_PAIRS = (b"\n\n", b"\n\r", b"\r\r")
BLANK_LINE_RULE = "unreadable CSV: blank line (a record cannot be empty)"
SCAN_CHUNK = 1 << 20  # bytes read at a time


def has_break_pair(chunk: bytes) -> bool:
    """Whether `chunk` holds one of BREAK_PAIRS (vectorised: `bytes.find` of a two-byte
    needle runs at a fifth of the speed on text full of line breaks)."""
    import numpy as np

    data = np.frombuffer(chunk, np.uint8)
    lf = data == 10
    second = lf[1:]
    if b"\r" in chunk:
        cr = data == 13
        second = second | cr[1:]
        if (cr[:-1] & cr[1:]).any():
            return True
    return bool((lf[:-1] & second).any())


@dataclass(frozen=True)
class FileScan:
    """What one read of a file's bytes tells: its sha256, and for a CSV file its first blank line."""

    sha256: str
    blank_line: int | None = None


def scan_file(path: Path, is_csv: bool) -> FileScan:
    """Read `path` once: its sha256 and, for CSV, the first blank line outside quotes.

    DuckDB skips blank lines silently, so they are searched for here, in C, in
    the chunks the digest reads anyway; only a file with two breaks in a row
    (a blank line, or a paragraph break inside a quoted field) is parsed.
    """
    digest, suspect, last = hashlib.sha256(), False, b""
    with path.open("rb") as handle:
        while chunk := handle.read(SCAN_CHUNK):
            digest.update(chunk)
            if is_csv and not suspect:
                suspect = last + chunk[:1] in BREAK_PAIRS or has_break_pair(chunk)
                last = chunk[-1:]
    return FileScan(digest.hexdigest(), blank_line(path) if suspect else None)


@contextlib.contextmanager
def scanning(sources: list[SourceFile]) -> Iterator[dict[Path, Future[FileScan]]]:
    """Every file scanned on one thread beside the load, in order; what is pending at the end is dropped."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="file scan") as pool:
        scans = {s.path: pool.submit(scan_file, s.path, s.format == "csv") for s in sources}
        try:
            yield scans
        finally:
            for scan in scans.values():
                scan.cancel()


def blank_line(path: Path) -> int | None:
    """The first blank line outside quotes, or None (the CSV parse behind `scan_file`)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        try:
            for record in reader:
                if not record:
                    return reader.line_num
        except csv.Error:
            return None  # DuckDB names the syntax fault
    return None


_CAUSES = {
    "UNQUOTED VALUE": "a quoted field is not closed, or text follows its closing quote",
    "INVALID ENCODING": "not UTF-8 text (save the file as UTF-8)",
    "LINE SIZE OVER MAXIMUM": f"the line is longer than DuckDB's limit of {CSV_MAX_LINE:,} bytes",
}


def csv_fault(source: SourceFile, width: int) -> SourceFault:
    """Why DuckDB cannot read a CSV file, in words, with the physical line."""
    import duckdb

    with duckdb.connect() as con:
        try:
            con.execute(
                f"SELECT min(COLUMNS(*)) FROM {source.reader(width)[:-1]}, store_rejects=true, "
                "rejects_table='rejected_rows', rejects_scan='rejected_scans')"
            ).fetchall()
            rejected = con.execute(
                "SELECT error_type, line_byte_position, error_message FROM rejected_rows "
                "ORDER BY line_byte_position LIMIT 1"
            ).fetchone()
        except duckdb.Error:
            rejected = None
    if rejected is None:
        return line_ending_fault(source.path)
    kind, offset, message = rejected
    where = f"line {line_of(source.path, int(offset))}" if offset is not None else None
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message or "")
    if counts:
        expected, found = counts.groups()
        return SourceFault(f"unreadable CSV: a record of {found} field(s); the header has {expected}", where)
    cause = _CAUSES.get(kind, f"not RFC 4180 CSV ({(message or kind).splitlines()[0]})")
    return SourceFault(f"unreadable CSV: {cause}", where)


def line_ending_fault(path: Path) -> SourceFault:
    """The parser gave up: most often line endings that change kind mid-file (a guess, in words)."""
    names = {b"\r\n": "CRLF", b"\n": "LF", b"\r": "CR"}
    # In a CRLF file a lone LF is most often inside quotes (as Excel writes); a lone CR first.
    others = {b"\r\n": (rb"\r(?!\n)", rb"(?<!\r)\n"), b"\n": (rb"\r",), b"\r": (rb"\n",)}
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        first = re.search(rb"\r\n|\n|\r", data)
        if first:
            style = first.group()
            found = (re.compile(p).search(data, first.end()) for p in others[style])
            other = next((hit for hit in found if hit), None)
            if other:
                return SourceFault(
                    f"unreadable CSV: line endings change kind (the header ends with {names[style]})",
                    f"line {line_of(path, other.start())}",
                )
    return SourceFault("unreadable CSV: not RFC 4180 CSV (the parser cannot make sense of the file)")
