"""Reshape the small aggregate frames of `figures` into the tables a reader sees."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


# (a) retention ----------------------------------------------------------------
def ages_by(ages: pl.DataFrame, *by: str) -> pl.DataFrame:
    """Items per `by` columns and age in years (the chart's data)."""
    import polars as pl

    return ages.group_by(*by, "age_years").agg(pl.col("items").sum()).sort(*by, "age_years")


def retention_summary(ages: pl.DataFrame, *by: str) -> pl.DataFrame:
    """Per `by`: stored items, oldest age, items past the cap and past the grace period."""
    import polars as pl

    return (
        ages.group_by(*by)
        .agg(
            pl.col("items").sum(),
            pl.col("age_years").max().alias("oldest_years"),
            pl.col("past_cap").sum(),
            pl.col("past_grace").sum(),
        )
        .sort(*by)
    )


def age_matrix(ages: pl.DataFrame, by: str) -> pl.DataFrame:
    """Items per `by` (rows) and age in whole years (columns 0, 1, ...)."""
    import polars as pl

    if ages.is_empty():
        return pl.DataFrame({by: []}, schema={by: pl.String})
    oldest = int(ages["age_years"].max())
    wide = ages_by(ages, by).pivot("age_years", index=by, values="items", sort_columns=True)
    columns = [str(n) for n in range(oldest + 1)]
    filled = [pl.col(c).fill_null(0) if c in wide.columns else pl.lit(0).alias(c) for c in columns]
    return wide.select(by, *filled).sort(by)


def totals(frame: pl.DataFrame, label_column: str, columns: tuple[str, ...]) -> pl.DataFrame:
    """`frame` with one more row, labelled "total", summing `columns`."""
    import polars as pl

    row = {name: None for name in frame.columns}
    row |= {label_column: "total"} | {name: frame[name].sum() for name in columns}
    return pl.concat([frame, pl.DataFrame([row], schema=frame.schema)], how="vertical")


def retention_table(ages: pl.DataFrame, by: str) -> pl.DataFrame:
    """`retention_summary` by one column, with a total row."""
    return totals(retention_summary(ages, by), by, ("items", "past_cap", "past_grace"))


# (b) sharing ------------------------------------------------------------------
def compare_quarters(disclosures: pl.DataFrame, by: str, current: str, previous: str) -> pl.DataFrame:
    """Disclosures per `by`: previous quarter, this quarter and the change."""
    import polars as pl

    counts = disclosures.group_by(by).agg(
        pl.col("disclosures").filter(pl.col("quarter") == previous).sum().alias(previous),
        pl.col("disclosures").filter(pl.col("quarter") == current).sum().alias(current),
    )
    return counts.with_columns((pl.col(current) - pl.col(previous)).alias("change")).sort(by)


def quarter_counts(disclosures: pl.DataFrame, by: str) -> pl.DataFrame:
    """Disclosures per quarter and `by` (the chart's data)."""
    import polars as pl

    return disclosures.group_by("quarter", by).agg(pl.col("disclosures").sum()).sort("quarter", by)


# (c) flows --------------------------------------------------------------------
def parties(flows: pl.DataFrame) -> pl.DataFrame:
    """One row per receiving party: where it is, how it was authorized and safeguarded."""
    import polars as pl

    keys = ("party_id", "party", "party_kind", "country", "in_eea", "safeguard")
    return (
        flows.group_by(*keys)
        .agg(
            pl.col("authorized_from").first(),
            pl.col("authorized_until").first(),
            pl.col("category").n_unique().alias("categories"),
            pl.col("disclosures").sum(),
            pl.col("authorized").sum(),
            pl.col("unauthorized").sum(),
            pl.col("without_dpa").sum(),
        )
        .sort("party_id")
    )


def flow_table(flows: pl.DataFrame) -> pl.DataFrame:
    """The flows, category -> party -> country, for display."""
    return flows.select(
        "category", "party_id", "party", "country", "safeguard", "disclosures", "authorized", "unauthorized"
    )


# (d) requests and complaints ----------------------------------------------------
def response_table(times: pl.DataFrame) -> pl.DataFrame:
    """Statistics per kind, days rounded to one decimal."""
    import polars as pl

    days = ("median_days", "p90_days", "max_days")
    return times.with_columns(pl.col(c).round(1) for c in days)


def open_table(items: pl.DataFrame) -> pl.DataFrame:
    """The open items without the running total."""
    return items.drop("total_open")


def total_open(items: pl.DataFrame) -> int:
    """How many items were open at as_of (the listing may show fewer)."""
    return 0 if items.is_empty() else int(items["total_open"][0])


# (e) exceptions ---------------------------------------------------------------
def exceptions_by_reason(register: pl.DataFrame) -> pl.DataFrame:
    """Claimed exceptions per reason across controls."""
    import polars as pl

    return (
        register.filter(pl.col("exceptions") > 0)
        .group_by("reason")
        .agg(pl.col("exceptions").sum(), pl.col("control").sort().str.join(", ").alias("controls"))
        .sort("exceptions", "reason", descending=[True, False])
    )
