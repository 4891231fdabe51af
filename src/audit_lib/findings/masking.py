"""Personal values (birth dates, free text) hidden unless revealed: the one gate they all pass."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

MASK = "\u2022\u2022\u2022\u2022"


def mask(value: object) -> str | None:
    """A personal value hidden; NULL stays NULL so that absence still shows.

    >>> mask("late reply to my access request"), mask(None)
    ('•••• (31 chars)', None)
    """
    if value is None:
        return None
    return f"{MASK} ({len(as_text(value))} chars)"


def personal(value: object, reveal: bool) -> str | None:
    """Shown as text if revealed, else masked."""
    return as_text(value) if reveal and value is not None else mask(value)


def as_text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def mask_columns(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """`frame` with `columns` masked as `mask` masks one value (vectorised)."""
    import polars as pl

    hidden = []
    for name in (c for c in columns if c in frame.columns):
        length = pl.col(name).cast(pl.String).str.len_chars().cast(pl.String)
        shown = pl.lit(f"{MASK} (") + length + pl.lit(" chars)")
        hidden.append(pl.when(pl.col(name).is_null()).then(None).otherwise(shown).alias(name))
    return frame.with_columns(hidden)
