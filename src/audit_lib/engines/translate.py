"""DuckDB-dialect queries to Spark SQL, checked: expand the vocabulary, map what differs, refuse the rest.

sqlglot alone translates silently and sometimes wrongly: `list(x ORDER BY y)`
becomes `collect_list(x)` (order lost), `to_years` passes through untouched,
DuckDB's `date_diff('year', a, b)` (year boundaries crossed) becomes Spark's
`datediff(YEAR, a, b)` (whole years elapsed), and the vocabulary's macros are
unknown to Spark. So a query goes through four steps:

1. parse (DuckDB dialect) and expand the macros of `controls.vocabulary`,
   scalar and table, until none is left (arguments substituted, parenthesized);
2. refuse any function the layer does not know (`KNOWN`), an unordered
   `list()`, a `date_diff` unit other than second or year;
3. map the constructs that differ (`SPARK_REWRITES`):
   `to_years(n)` -> `make_ym_interval(n, 0)` (calendar years: 29 February + 1
   year = 28 February, as DuckDB and controls.md), `to_days(n)` ->
   `make_dt_interval(n, 0, 0, 0)` (whole 24-hour days on UTC wall-clock time),
   `date_diff('second', a, b)` -> `unix_seconds(b) - unix_seconds(a)`,
   `date_diff('year', a, b)` -> `CAST(year(b) - year(a) AS BIGINT)` (DuckDB's
   date_diff is a BIGINT, Spark's year() an INT), `a / b` -> `CAST(a AS DOUBLE) /
   CAST(b AS DOUBLE)` (DuckDB's `/` is always floating-point division; Spark
   divides decimals as decimals, rounded to a scale: `n / 86400.0` kept 7
   digits and the figures computed from them differed), `epoch_us` ->
   `unix_micros`, `make_timestamp(us)` -> `timestamp_micros` (naive),
   `quantile_cont` -> `percentile` (exact, linear interpolation, like DuckDB;
   computed in another order, so a result can differ in the last bit),
   `list(x ORDER BY k) [FILTER (WHERE c)]` -> the values of
   `array_sort(collect_list(named_struct(k, x)) [FILTER ...])`;
4. generate Spark SQL, parse it back and check every function against the
   Spark allow-list (`SPARK_FUNCTIONS`): whatever sqlglot emitted that the
   layer has not vetted is refused at load time, not run.

Parameters stay parameters: `$as_of` becomes Spark's named marker `:as_of`,
bound by `spark.sql(query, args=...)`.
"""

from __future__ import annotations

import re
from functools import cache

import sqlglot
from sqlglot import exp

from audit_lib.controls.vocabulary import MACROS, TABLE_MACROS
from audit_lib.errors import AuditError

SIGNATURE = re.compile(r"^(?P<name>[a-z_]+)\((?P<params>[^)]*)\)$")


class TranslationError(AuditError):
    """A query construct the translation layer does not know for the target engine."""

    exit_code = 1


#: DuckDB functions (sqlglot expression classes, or anonymous names) the layer knows.
KNOWN = {
    "Abs", "ArrayAgg", "Avg", "Case", "Cast", "Ceil", "Coalesce", "Count", "DateDiff", "Exists", "Floor",
    "If", "Max", "Median", "Min", "Quantile", "Sign", "Sum", "Year", "Lower", "Upper", "Round", "Array",
    "Least", "Greatest", "Length", "Concat", "Nullif", "TryCast", "Trim", "Substring", "ArraySize",
    "UnixToTime", "TimeStrToTime", "CountIf", "Mod", "Star", "Filter", "ApproxQuantile", "PercentileCont",
    "And", "Or", "Not", "ToDays",
}  # fmt: skip
KNOWN_ANONYMOUS = {"to_years", "to_days", "epoch_us", "make_timestamp", "quantile_cont"}

#: Spark functions (sqlglot classes after parsing the generated Spark SQL, or names) allowed to run.
SPARK_FUNCTIONS = {
    "Abs", "ArrayAgg", "ArraySort", "Avg", "Case", "Cast", "Ceil", "Coalesce", "Count", "Exists", "Floor",
    "If", "Max", "Median", "Min", "Sign", "Sum", "Year", "Lower", "Upper", "Round", "Array", "Least",
    "Greatest", "Length", "Concat", "Nullif", "TryCast", "Trim", "Substring", "Transform", "Struct",
    "UnixToTime", "CountIf", "Mod", "Star", "Filter", "Lambda", "Dot", "Bracket", "ArrayFilter",
    "Quantile", "UnixSeconds", "UnixMicros", "StructExtract", "And", "Or", "Not",
    # sqlglot reads Spark's YEAR(x) as YEAR(TO_DATE(x)); the SQL run is YEAR(x)
    "TsOrDsToDate",
}  # fmt: skip
SPARK_ANONYMOUS = {
    "make_ym_interval", "make_dt_interval", "unix_seconds", "unix_micros", "timestamp_micros",
    "percentile", "named_struct", "collect_list", "array_sort", "transform",
}  # fmt: skip


def _signature(text: str) -> tuple[str, list[str]]:
    match = SIGNATURE.match(text)
    assert match, text
    return match["name"], [p.strip() for p in match["params"].split(",") if p.strip()]


@cache
def _macros() -> tuple[dict, dict]:
    scalar = {}
    for signature, body in MACROS.items():
        name, params = _signature(signature)
        scalar[name] = (params, sqlglot.parse_one(body, read="duckdb"))
    table = {}
    for signature, body in TABLE_MACROS.items():
        name, params = _signature(signature)
        table[name] = (params, sqlglot.parse_one(body, read="duckdb"))
    return scalar, table


def _substitute(body: exp.Expression, params: list[str], args: list[exp.Expression]) -> exp.Expression:
    if len(params) != len(args):
        raise TranslationError(f"macro called with {len(args)} arguments, {len(params)} expected")
    values = dict(zip(params, args, strict=True))

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            arg = values[node.name].copy()
            return (
                arg
                if isinstance(arg, exp.Column | exp.Literal | exp.Placeholder | exp.Null)
                else exp.paren(arg)
            )
        return node

    return body.copy().transform(swap)


def expand_macros(tree: exp.Expression) -> exp.Expression:
    """Replace every call of a vocabulary macro by its body, until none is left."""
    scalar, table = _macros()
    for _ in range(50):
        changed = False

        def expand(node: exp.Expression) -> exp.Expression:
            nonlocal changed
            if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous):
                name = node.this.name.lower()
                if name in table:
                    params, body = table[name]
                    changed = True
                    query = _substitute(body, params, list(node.this.expressions))
                    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(name))
                    return exp.Subquery(this=query, alias=alias.copy())
            if isinstance(node, exp.Anonymous) and node.name.lower() in scalar:
                params, body = scalar[node.name.lower()]
                changed = True
                return exp.paren(_substitute(body, params, list(node.expressions)))
            return node

        tree = tree.transform(expand)
        if not changed:
            return tree
    raise TranslationError("macro expansion does not terminate")


def _name(node: exp.Func) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else type(node).__name__


def _check_duckdb(tree: exp.Expression) -> None:
    for node in tree.find_all(exp.Func):
        name = _name(node)
        if isinstance(node, exp.Anonymous):
            if name not in KNOWN_ANONYMOUS:
                raise TranslationError(f"function {name}() is unknown to the Spark translation")
        elif name not in KNOWN:
            raise TranslationError(f"{node.sql('duckdb')!r}: {name} is unknown to the Spark translation")
        if isinstance(node, exp.ArrayAgg) and not isinstance(node.this, exp.Order):
            raise TranslationError(f"{node.sql('duckdb')!r}: list() without ORDER BY has no order on Spark")
        if isinstance(node, exp.DateDiff) and _unit(node) not in ("second", "year"):
            raise TranslationError(f"{node.sql('duckdb')!r}: date_diff unit {_unit(node)!r} not translated")
        if isinstance(node, exp.UnixToTime) and _scale(node) != 6:
            raise TranslationError(f"{node.sql('duckdb')!r}: only make_timestamp(epoch_us) is translated")
        if isinstance(node, exp.Anonymous) and name == "make_timestamp" and len(node.expressions) != 1:
            raise TranslationError(f"{node.sql('duckdb')!r}: only make_timestamp(epoch_us) is translated")


def _scale(node: exp.UnixToTime) -> int | None:
    scale = node.args.get("scale")
    return int(scale.name) if isinstance(scale, exp.Literal) else None


def _unit(node: exp.DateDiff) -> str:
    unit = node.args.get("unit")
    return (unit.name if unit is not None else "day").lower()


def _tz(node: exp.Expression) -> exp.Expression:
    """A Spark TIMESTAMP (instant; the session is in UTC) of `node`."""
    return exp.Cast(this=_rw(node), to=exp.DataType.build("TIMESTAMPTZ"))


def _rw(node: exp.Expression) -> exp.Expression:
    """A rewritten copy of `node` (transform does not descend into the nodes a rewrite returns)."""
    return node.copy().transform(_spark_rewrite)


def _timestamp_micros(micros: exp.Expression) -> exp.Expression:
    """DuckDB's make_timestamp(us): Spark's timestamp_micros wants an integer (its sign() is a double)."""
    integral = exp.Cast(this=micros, to=exp.DataType.build("BIGINT"))
    return exp.Anonymous(this="timestamp_micros", expressions=[integral])


def _spark_rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ToDays):
        zeros = [exp.Literal.number(0)] * 3
        return exp.Anonymous(this="make_dt_interval", expressions=[_rw(node.this), *zeros])
    if isinstance(node, exp.Anonymous):
        name, args = node.name.lower(), [_rw(a) for a in node.expressions]
        if name == "to_years":
            return exp.Anonymous(this="make_ym_interval", expressions=[*args, exp.Literal.number(0)])
        if name == "to_days":
            zeros = [exp.Literal.number(0)] * 3
            return exp.Anonymous(this="make_dt_interval", expressions=[*args, *zeros])
        if name == "epoch_us":
            return exp.Anonymous(this="unix_micros", expressions=[_tz(args[0])])
        if name == "make_timestamp":
            return _timestamp_micros(args[0])
        if name == "quantile_cont":
            return exp.Anonymous(this="percentile", expressions=args)
    if isinstance(node, exp.UnixToTime):  # how sqlglot reads DuckDB's make_timestamp(us)
        return _timestamp_micros(_rw(node.this))
    if isinstance(node, exp.Quantile | exp.PercentileCont):
        quantile = node.args.get("quantile") or node.args.get("expression")
        return exp.Anonymous(this="percentile", expressions=[_rw(node.this), _rw(quantile)])
    if isinstance(node, exp.DateDiff):
        end, start = node.this, node.expression
        if _unit(node) == "year":
            years = [exp.Anonymous(this="year", expressions=[_rw(x)]) for x in (end, start)]
            return exp.Cast(this=exp.Sub(this=years[0], expression=years[1]), to=exp.DataType.build("BIGINT"))
        seconds = [exp.Anonymous(this="unix_seconds", expressions=[_tz(x)]) for x in (end, start)]
        return exp.paren(exp.Sub(this=seconds[0], expression=seconds[1]))
    if isinstance(node, exp.Div):  # DuckDB's `/`: a DOUBLE whatever the numeric operands
        double = exp.DataType.build("DOUBLE")
        operands = [exp.Cast(this=_rw(x), to=double) for x in (node.this, node.expression)]
        return exp.paren(exp.Div(this=operands[0], expression=operands[1]))
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
        return _ordered_list(node.this, node.expression)
    if isinstance(node, exp.ArrayAgg) and not isinstance(node.parent, exp.Filter):
        return _ordered_list(node, None)
    return node


def _ordered_list(agg: exp.ArrayAgg, where: exp.Where | None) -> exp.Expression:
    """`list(x ORDER BY k...)`: collect (k..., x) structs, sort them, keep x."""
    order: exp.Order = agg.this
    fields: list[exp.Expression] = []
    for i, ordered in enumerate(order.expressions):
        if ordered.args.get("desc") or ordered.args.get("nulls_first"):
            raise TranslationError(
                f"{agg.sql('duckdb')!r}: only ascending ORDER BY, nulls last, is translated"
            )
        fields += [exp.Literal.string(f"k{i}"), _rw(ordered.this)]
    fields += [exp.Literal.string("v"), _rw(order.this)]
    collected: exp.Expression = exp.Anonymous(
        this="collect_list", expressions=[exp.Anonymous(this="named_struct", expressions=fields)]
    )
    if where is not None:
        collected = exp.Filter(this=collected, expression=_rw(where))
    sorted_ = exp.Anonymous(this="array_sort", expressions=[collected])
    return sqlglot.parse_one("transform(__sorted__, e -> e.v)", read="spark").transform(
        lambda n: sorted_ if isinstance(n, exp.Column) and n.name == "__sorted__" else n
    )


def _check_spark(sql: str) -> None:
    try:
        tree = sqlglot.parse_one(sql, read="spark")
    except sqlglot.errors.ParseError as exc:
        raise TranslationError(f"generated Spark SQL does not parse back: {exc}") from None
    for node in tree.find_all(exp.Func):
        name = _name(node)
        allowed = SPARK_ANONYMOUS if isinstance(node, exp.Anonymous) else SPARK_FUNCTIONS
        if name not in allowed:
            raise TranslationError(f"generated Spark SQL uses {name} ({node.sql('spark')!r}), not vetted")


@cache
def to_spark(query: str) -> str:
    """The Spark SQL of a DuckDB-dialect query of this suite; TranslationError when unknown."""
    try:
        tree = sqlglot.parse_one(query, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise TranslationError(f"query does not parse as DuckDB SQL: {exc}") from None
    tree = expand_macros(tree)
    _check_duckdb(tree)
    sql = tree.transform(_spark_rewrite).sql("spark")
    _check_spark(sql)
    return sql
