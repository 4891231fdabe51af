"""Altair charts of the report, built from the small frames of `analytics`.

Every chart renders offline to static SVG (`display.setup()` enables the svg
renderer, backed by vl-convert); text in the SVG is escaped by the renderer.
Chart data are aggregates only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import altair as alt
    import polars as pl

WIDTH = 640
FLOW_COLORS = {
    "authorized": "#4c9f70",
    "not authorized": "#d1495b",
    "within the EEA": "#9aa5b1",
    "safeguarded": "#3a7ca5",
    "no safeguard": "#edae49",
}


def empty(message: str) -> alt.Chart:
    """A chart that only says `message` (for an empty figure)."""
    import altair as alt
    import polars as pl

    frame = pl.DataFrame({"message": [message]})
    return alt.Chart(frame).mark_text(fontSize=13).encode(text="message:N").properties(width=WIDTH, height=40)


def scorecard(frame: pl.DataFrame) -> alt.LayerChart:
    """Each control's violations as a share of its population, labelled with the counts."""
    import altair as alt
    import polars as pl

    data = frame.select(
        "id",
        "violations",
        "population",
        rate=pl.when(pl.col("population") > 0)
        .then(pl.col("violations") / pl.col("population"))
        .otherwise(0.0),
        label=pl.format("{} of {}", pl.col("violations"), pl.col("population")),
    )
    y = alt.Y("id:N", sort=list(frame["id"]), title="control")
    x = alt.X("rate:Q", axis=alt.Axis(format="%"), title="violations, share of the population judged")
    bars = (
        alt.Chart(data).mark_bar(color="#cf222e").encode(y=y, x=x, tooltip=["id", "violations", "population"])
    )
    labels = alt.Chart(data).mark_text(align="left", dx=4, fontSize=11).encode(y=y, x=x, text="label:N")
    return alt.layer(bars, labels).properties(
        width=WIDTH - 200, height=alt.Step(16), title="Violations per control (count of population)"
    )


def age_by_category(ages: pl.DataFrame, retention_years: int) -> alt.LayerChart:
    """Stacked yearly age buckets by category, with the retention cap marked."""
    import altair as alt

    if ages.is_empty():
        return empty("No stored items at as_of.")
    bars = (
        alt.Chart(ages)
        .transform_calculate(age_end="datum.age_years + 1")
        .mark_bar(stroke="white", strokeWidth=0.5, binSpacing=0)
        .encode(
            x=alt.X(
                "age_years:Q",
                title="age at as_of (whole years)",
                axis=alt.Axis(tickMinStep=1),
                scale=alt.Scale(domainMin=0, nice=False),
            ),
            x2="age_end:Q",
            y=alt.Y("sum(items):Q", stack="zero", title="stored items"),
            color=alt.Color("category:N", title="category", scale=alt.Scale(scheme="tableau20")),
            order=alt.Order("category:N"),
        )
    )
    return (bars + _cap_rule(retention_years, f"retention cap: {retention_years} years")).properties(
        width=WIDTH, height=280, title="Age of stored items by category"
    )


def _cap_rule(at: int, label: str) -> alt.LayerChart:
    """A dashed vertical rule at x = `at`, labelled."""
    import altair as alt
    import polars as pl

    cap = alt.Chart(pl.DataFrame({"x": [at], "label": [label]}))
    return cap.mark_rule(color="black", strokeDash=[4, 3]).encode(x="x:Q") + cap.mark_text(
        align="left", dx=4, dy=-6, baseline="bottom"
    ).encode(x="x:Q", y=alt.value(0), text="label:N")


def age_by_system(ages: pl.DataFrame) -> alt.Chart:
    """Heat map: items per system (and its kind) and yearly age bucket."""
    import altair as alt

    if ages.is_empty():
        return empty("No stored items at as_of.")
    return (
        alt.Chart(ages)
        .transform_calculate(label="datum.system + ' (' + datum.system_kind + ')'")
        .mark_rect()
        .encode(
            x=alt.X("age_years:O", title="age at as_of (whole years)"),
            y=alt.Y("label:N", title="system (kind)"),
            color=alt.Color(
                "items:Q", scale=alt.Scale(type="sqrt", scheme="blues", zero=True), title="items"
            ),
        )
        .properties(width=WIDTH - 160, title="Age of stored items by system")
    )


def quarters(counts: pl.DataFrame, by: str, title: str) -> alt.Chart:
    """Grouped bars: disclosures per `by` in the previous and in this quarter."""
    import altair as alt

    if counts.is_empty():
        return empty("No disclosures in either quarter.")
    labels = sorted(set(counts["quarter"]))
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X(f"{by}:N", title=by.replace("_", " "), axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset("quarter:N", sort=labels),
            y=alt.Y("disclosures:Q", title="disclosures"),
            color=alt.Color("quarter:N", sort=labels, scale=alt.Scale(range=["#b6c8d9", "#3a7ca5"])),
        )
        .properties(width=WIDTH - 120, height=260, title=title)
    )


def response_times(times: pl.DataFrame, response_days: int) -> alt.LayerChart:
    """Median, 90th percentile and maximum days to answer, per kind, with the deadline."""
    import altair as alt
    import polars as pl

    stats = {"median_days": "median", "p90_days": "90th percentile", "max_days": "maximum"}
    long = (
        times.filter(pl.col("answered") > 0)
        .unpivot(list(stats), index=["kind"], variable_name="statistic", value_name="days")
        .with_columns(pl.col("statistic").replace_strict(stats))
    )
    if long.is_empty():
        return empty("No answered requests or complaints in the period.")
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("kind:N", title=None),
            yOffset=alt.YOffset("statistic:N", sort=list(stats.values())),
            x=alt.X("days:Q", title="days to answer"),
            color=alt.Color(
                "statistic:N",
                sort=list(stats.values()),
                scale=alt.Scale(range=["#9ecae1", "#4292c6", "#08519c"]),
            ),
        )
    )
    return (bars + _cap_rule(response_days, f"deadline: {response_days} days")).properties(
        width=WIDTH - 140, title="Response times by kind"
    )


def response_histogram(histogram: pl.DataFrame, bin_days: int, response_days: int) -> alt.LayerChart:
    """How many items were answered after how many days, per kind."""
    import altair as alt

    if histogram.is_empty():
        return empty("No answered requests or complaints in the period.")
    bars = (
        alt.Chart(histogram)
        .transform_calculate(days_to=f"datum.days_from + {int(bin_days)}")
        .mark_bar(stroke="white", strokeWidth=0.5, binSpacing=0)
        .encode(
            x=alt.X(
                "days_from:Q",
                title=f"days to answer ({bin_days}-day bins)",
                scale=alt.Scale(domainMin=0, nice=False),
            ),
            x2="days_to:Q",
            y=alt.Y("sum(items):Q", stack="zero", title="answered items"),
            color=alt.Color("kind:N"),
            order=alt.Order("kind:N"),
        )
    )
    return (bars + _cap_rule(response_days, f"deadline: {response_days} days")).properties(
        width=WIDTH, height=240, title="Distribution of response times"
    )


def exceptions_by_reason(register: pl.DataFrame) -> alt.Chart:
    """Exceptions claimed per reason, split by control."""
    import altair as alt
    import polars as pl

    claimed = register.filter(pl.col("exceptions") > 0)
    if claimed.is_empty():
        return empty("No exemption was claimed.")
    return (
        alt.Chart(claimed)
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", title="exemption", sort="-x"),
            x=alt.X("sum(exceptions):Q", title="exceptions"),
            color=alt.Color("control:N"),
        )
        .properties(width=WIDTH - 160, title="Exceptions by reason")
    )


def flows(frame: pl.DataFrame) -> alt.LayerChart:
    """Sankey-like diagram: category -> party -> country, band width = disclosures."""
    import altair as alt

    from audit_lib.figures.flow_layout import layout

    if frame.is_empty():
        return empty("No disclosures to sub-processors or to render services in the period.")
    nodes, bands = layout(frame)
    colors = alt.Scale(domain=list(FLOW_COLORS), range=list(FLOW_COLORS.values()))
    y_scale = alt.Scale(domain=[0, float(nodes["y1"].max())], reverse=True, nice=False, zero=False)
    x_scale = alt.Scale(domain=[-0.5, 2.45], nice=False, zero=False)
    band = (
        alt.Chart(bands)
        .mark_area(opacity=0.6)
        .encode(
            x=alt.X("x:Q", scale=x_scale, axis=None),
            y=alt.Y("y0:Q", scale=y_scale, axis=None),
            y2="y1:Q",
            detail="band:N",
            color=alt.Color("status:N", scale=colors, title="flow"),
        )
    )
    base = alt.Chart(nodes).transform_calculate(ymid="(datum.y0 + datum.y1) / 2")
    rects = base.mark_rect(color="#37474f").encode(
        x=alt.X("x0:Q", scale=x_scale), x2="x1:Q", y=alt.Y("y0:Q", scale=y_scale), y2="y1:Q"
    )
    layers = [band, rects]
    for columns, align, side, dx in (([0], "right", "x0", -4), ([1, 2], "left", "x1", 4)):
        layers.append(
            base.transform_filter(alt.FieldOneOfPredicate(field="column", oneOf=columns))
            .mark_text(fontSize=11, align=align, dx=dx, baseline="middle")
            .encode(x=alt.X(f"{side}:Q", scale=x_scale), y=alt.Y("ymid:Q", scale=y_scale), text="label:N")
        )
    height = max(300, 30 * int(nodes.group_by("column").len()["len"].max()))
    return alt.layer(*layers).properties(
        width=WIDTH + 160, height=height, title="Sub-processor flows: category → party → country"
    )


def trend(frame: pl.DataFrame) -> alt.FacetChart | alt.Chart:
    """Violations per control over the reports of a chain: one small line chart per control."""
    import altair as alt
    import polars as pl

    if frame.is_empty() or frame["period"].n_unique() < 2:
        return empty("No earlier report was found: there is no trend to draw.")
    shown = frame.filter(pl.col("violations").max().over("control") > 0)
    if shown.is_empty():
        return empty("No control found a violation in any of these reports.")
    periods = list(dict.fromkeys(frame["period"]))
    controls = list(dict.fromkeys(shown["control"]))
    return (
        alt.Chart(shown)
        .mark_line(point=True, color="#cf222e")
        .encode(
            x=alt.X("period:O", sort=periods, title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("violations:Q", title="violations", axis=alt.Axis(tickMinStep=1, format="d")),
        )
        .properties(width=110, height=70)
        .facet(facet=alt.Facet("control:N", sort=controls, title=None), columns=5)
        .resolve_scale(y="independent")
        .properties(title="Violations per control, report by report")
    )
