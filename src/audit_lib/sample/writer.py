"""From working frames to the files of an export: keys, column order, formats.

Keys are assigned once background and planted rows are merged: each table is
sorted by its own time (ties keep background-then-planted order) and numbered,
so planted rows are not told apart by their keys. An export written in chunks
of customers numbers each chunk after the rows of the chunks before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from audit_lib.ingest.schema import TABLE_BY_NAME, TABLES
from audit_lib.sample.frames import CUSTOMER_REF
from audit_lib.sample.parties import Party, party_ids

if TYPE_CHECKING:
    import pyarrow.parquet as pq

#: Table -> (key prefix, the time that orders its keys).
ID_SCHEME = {
    "customers": ("C", "created_at"),
    "personal_data": ("I", "received_at"),
    "disclosures": ("X", "disclosed_at"),
    "consents": ("K", "given_at"),
    "communications": ("M", "sent_at"),
    "dsr_requests": ("R", "received_at"),
    "disputes": ("D", "received_at"),
    "legal_holds": ("H", "placed_at"),
    "tracking_events": ("E", "occurred_at"),
}
ID_DIGITS = 7
FORMATS = ("csv", "parquet")


def _numbered(frame: pl.DataFrame, table: str, before: int) -> pl.DataFrame:
    """Sort by the table's time and set its key column from the row number (after `before`)."""
    prefix, time = ID_SCHEME[table]
    key = TABLE_BY_NAME[table].key
    return (
        frame.sort(time, maintain_order=True)
        .with_row_index("_n", offset=before + 1)
        .with_columns(_ident(prefix, pl.col("_n")).alias(key))
        .drop("_n")
    )


def _ident(prefix: str, number: pl.Expr) -> pl.Expr:
    return pl.lit(prefix) + number.cast(pl.String).str.zfill(ID_DIGITS)


def assemble(
    parts: list[dict[str, pl.DataFrame]], before: Mapping[str, int] | None = None
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """Merge working frames (in order) into final tables but parties; also planted tag -> key.

    Each table's keys follow its `before` rows (those of earlier chunks; none by default).
    """
    first = parts[0]
    merged = {
        t: pl.concat([first[t], *(p[t].cast(first[t].schema) for p in parts[1:] if t in p)])
        for t in ID_SCHEME
    }
    skip = {t: (before or {}).get(t, 0) for t in ID_SCHEME}
    customers = _numbered(merged.pop("customers").with_row_index("_idx"), "customers", skip["customers"])
    key = TABLE_BY_NAME["customers"].key
    key_of = customers.sort("_idx")[key]  # working index -> customer key
    tables = {"customers": customers.drop("_idx")}
    for table, frame in merged.items():
        if "_cust" in frame.columns:
            frame = _resolve_customers(frame, table, key_of)
        tables[table] = _numbered(frame, table, skip[table])
    keys: dict[str, str] = {}
    for table, frame in tables.items():
        planted = frame.filter(pl.col("_tag").is_not_null())
        keys.update(zip(planted["_tag"], planted[TABLE_BY_NAME[table].key], strict=True))
    ordered = [t for t in TABLES if t.name in tables]
    return {t.name: tables[t.name].select(c.name for c in t.columns) for t in ordered}, keys


def _resolve_customers(frame: pl.DataFrame, table: str, key_of: pl.Series) -> pl.DataFrame:
    """Working customer indexes (`_cust`, -1 for NULL) to customer keys."""
    column = next(c.name for c in TABLE_BY_NAME[table].columns if c.references == CUSTOMER_REF)
    index = frame["_cust"]
    keys = key_of.gather(pl.select(pl.when(index >= 0).then(index)).to_series())
    return frame.with_columns(keys.alias(column)).drop("_cust")


def party_frame(parties: list[Party]) -> pl.DataFrame:
    schema = TABLE_BY_NAME["parties"]
    rows = {"party_id": list(party_ids(parties).values())}
    for column in schema.columns[1:]:
        rows[column.name] = [getattr(p, column.name) for p in parties]
    types = {c.name: pl.Date if c.kind == "date" else pl.String for c in schema.columns}
    return pl.DataFrame(rows, schema=types)


def to_output(frame: pl.DataFrame, table: str, fmt: str) -> pl.DataFrame:
    """Epoch-second columns as timestamps (UTC-aware for Parquet); Enums as strings."""
    stamps = [c.name for c in TABLE_BY_NAME[table].columns if c.kind == "timestamp"]
    zone = "UTC" if fmt == "parquet" else None
    return frame.with_columns(
        pl.from_epoch(pl.col(name), time_unit="s").dt.replace_time_zone(zone) for name in stamps
    ).with_columns(pl.col(pl.Enum).cast(pl.String) if fmt == "parquet" else [])


@dataclass
class Output:
    """Where an export's tables go, and the state of their files (close it when done)."""

    folder: Path
    fmt: str
    chunks: int  # 1: every table comes whole, in one frame
    begun: set[str] = field(default_factory=set)
    parquet: dict[str, pq.ParquetWriter] = field(default_factory=dict)

    def close(self) -> None:
        for writer in self.parquet.values():
            writer.close()


def write_table(frame: pl.DataFrame, table: str, out: Output) -> None:
    """Append one chunk of `table` to its file: CSV rows (the header with the first chunk
    only), or a Parquet row group (a one-chunk export is one polars write, as it always was)."""
    data = to_output(frame, table, out.fmt)
    path = out.folder / f"{table}.{out.fmt}"
    if out.fmt == "csv":
        with path.open("ab") as file:
            data.write_csv(
                file, include_header=table not in out.begun, datetime_format="%Y-%m-%dT%H:%M:%SZ",
                date_format="%Y-%m-%d", null_value="",
            )  # fmt: skip
    elif out.chunks == 1:
        data.write_parquet(path)
    else:
        import pyarrow.parquet as pq  # only here: ~50 MB more memory

        arrow = data.to_arrow()
        if table not in out.parquet:
            out.parquet[table] = pq.ParquetWriter(path, arrow.schema, compression="zstd")
        out.parquet[table].write_table(arrow)
    out.begun.add(table)
