"""From working frames to the files of an export: keys, column order, formats.

Keys are assigned once background and planted rows are merged: each table is
sorted by its own time (ties keep background-then-planted order) and numbered,
so planted rows are not told apart by their keys.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from audit_lib.ingest.schema import TABLE_BY_NAME, TABLES
from audit_lib.sample.frames import CUSTOMER_REF
from audit_lib.sample.parties import Party, party_ids

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


def _numbered(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Sort by the table's time and set its key column from the row number."""
    prefix, time = ID_SCHEME[table]
    key = TABLE_BY_NAME[table].key
    return (
        frame.sort(time, maintain_order=True)
        .with_row_index("_n", offset=1)
        .with_columns(_ident(prefix, pl.col("_n")).alias(key))
        .drop("_n")
    )


def _ident(prefix: str, number: pl.Expr) -> pl.Expr:
    return pl.lit(prefix) + number.cast(pl.String).str.zfill(ID_DIGITS)


def assemble(
    parts: list[dict[str, pl.DataFrame]], parties: list[Party]
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """Merge working frames (in order) into final tables; also planted tag -> key."""
    first = parts[0]
    merged = {
        t: pl.concat([first[t], *(p[t].cast(first[t].schema) for p in parts[1:] if t in p)])
        for t in ID_SCHEME
    }
    customers = _numbered(merged.pop("customers").with_row_index("_idx"), "customers")
    key = TABLE_BY_NAME["customers"].key
    key_of = customers.sort("_idx")[key]  # working index -> customer key
    tables = {"customers": customers.drop("_idx"), "parties": party_frame(parties)}
    for table, frame in merged.items():
        if "_cust" in frame.columns:
            frame = _resolve_customers(frame, table, key_of)
        tables[table] = _numbered(frame, table)
    keys: dict[str, str] = {}
    for table, frame in tables.items():
        if "_tag" in frame.columns:
            planted = frame.filter(pl.col("_tag").is_not_null())
            keys.update(zip(planted["_tag"], planted[TABLE_BY_NAME[table].key], strict=True))
    return {t.name: tables[t.name].select(c.name for c in t.columns) for t in TABLES}, keys


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


def write_table(frame: pl.DataFrame, table: str, folder: Path, fmt: str) -> None:
    data = to_output(frame, table, fmt)
    if fmt == "parquet":
        data.write_parquet(folder / f"{table}.parquet")
    else:
        data.write_csv(
            folder / f"{table}.csv", datetime_format="%Y-%m-%dT%H:%M:%SZ",
            date_format="%Y-%m-%d", null_value="",
        )  # fmt: skip
