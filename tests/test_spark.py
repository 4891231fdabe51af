"""The controls on Spark equal DuckDB's, key by key, on the same Parquet snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from spark_session import JVM_ZONE, spark  # noqa: F401  (the session fixture)
from test_controls import CASES, Case

from audit_lib.controls.details import DETAILS
from audit_lib.controls.evaluate import JUDGE, judge
from audit_lib.controls.registry import load_controls
from audit_lib.controls.vocabulary import install_macros
from audit_lib.engines.translate import TranslationError, to_spark
from audit_lib.figures import query_text
from audit_lib.ingest.parquet_snapshot import build_parquet_snapshot
from audit_lib.ingest.snapshot import opened
from audit_lib.periods import Period

from builders import LATE_TAKEN_AT, complete_tables, write_export

FIGURES = ["answered", "disclosures", "flows", "open_items", "response_histogram", "response_times",
           "retention_ages"]  # fmt: skip


#: Generated exports compared besides the shipped sample (seed 7, CSV, 2000 customers): another seed
#: and format each, small enough to keep the Spark tests fast (the planted rows come on top).
#: name -> (format, seed, background customers).
GENERATED = {"csv-11": ("csv", 11, 600), "parquet-23": ("parquet", 23, 1200)}

Snapshots = Callable[[str], tuple[Path, dict]]


def _generate(out: Path, fmt: str, seed: int, customers: int) -> Path:
    """`privacy-audit sample generate` into `out`."""
    from typer.testing import CliRunner

    from audit_lib.cli import app

    args = ["sample", "generate", "--out", str(out), "--customers", str(customers), "--seed", str(seed),
            "--format", fmt]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    assert [p.name for p in out.iterdir() if p.suffix != f".{fmt}"] == ["planted.json"], sorted(out.iterdir())
    return out


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory, sample_export: Path) -> Snapshots:
    """name ("sample" or one of GENERATED) -> (its Parquet snapshot, its planted.json), each built once."""
    root = tmp_path_factory.mktemp("spark")
    built: dict[str, tuple[Path, dict]] = {}

    def get(name: str) -> tuple[Path, dict]:
        if name not in built:
            export = sample_export if name == "sample" else _generate(root / name, *GENERATED[name])
            snapshot = root / f"{name}.snapshot"
            build_parquet_snapshot(export, snapshot)
            built[name] = (snapshot, json.loads((export / "planted.json").read_text(encoding="utf-8")))
        return built[name]

    return get


def test_every_query_translates() -> None:
    for control in load_controls():
        for restriction in ("", "WHERE customer_id = $customer_id"):
            assert ":as_of" in to_spark(JUDGE.format(query=control.query, restriction=restriction)) or (
                "as_of" not in control.parameters
            )
        to_spark(DETAILS.format(query=control.query, columns="customer_id", restriction=""))
    for name in FIGURES:
        to_spark(query_text(name))


@pytest.mark.parametrize(
    "query",
    ["SELECT list(key) FROM t", "SELECT regexp_matches(a, 'x') FROM t", "SELECT date_diff('month', a, b) FROM t",
     "SELECT list(key ORDER BY key DESC) FROM t"],
)  # fmt: skip
def test_unknown_constructs_refused(query: str) -> None:
    with pytest.raises(TranslationError):
        to_spark(query)


def test_jvm_zone_is_not_utc(spark) -> None:  # noqa: F811
    zone = spark.sparkContext._jvm.java.util.TimeZone.getDefault().getID()
    assert zone == JVM_ZONE
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


CALENDAR = [
    ("CAST(TIMESTAMP '2016-02-29 13:14:15' + to_years(10) AS VARCHAR)", "2026-02-28 13:14:15"),
    ("CAST(TIMESTAMP '2016-02-29 13:14:15' + to_years(12) AS VARCHAR)", "2028-02-29 13:14:15"),
    ("CAST(CAST(DATE '2012-02-29' + to_years(13) AS TIMESTAMPTZ) AS VARCHAR)", None),
    ("past_cap(TIMESTAMPTZ '2016-02-29 00:00:00+00', 10, TIMESTAMPTZ '2026-02-28 00:00:00+00')", False),
    ("past_cap(TIMESTAMPTZ '2016-02-29 00:00:00+00', 10, TIMESTAMPTZ '2026-02-28 00:00:01+00')", True),
    ("whole_years(TIMESTAMPTZ '2016-02-29 00:00:00+00', TIMESTAMPTZ '2026-02-27 23:59:59+00')", 9),
    ("whole_years(TIMESTAMPTZ '2016-02-29 00:00:00+00', TIMESTAMPTZ '2026-02-28 00:00:00+00')", 10),
    ("late(TIMESTAMPTZ '2026-03-01 10:00:00+00', 30, TIMESTAMPTZ '2026-03-31 10:00:00+00', NULL)", False),
    ("late(TIMESTAMPTZ '2026-03-01 10:00:00+00', 30, TIMESTAMPTZ '2026-03-31 10:00:01+00', NULL)", True),
    ("late(TIMESTAMPTZ '2026-03-01 10:00:00+00', 30, NULL, TIMESTAMPTZ '2026-03-31 10:00:01+00')", True),
    ("late(TIMESTAMPTZ '2026-03-01 10:00:00+00', 30, NULL, TIMESTAMPTZ '2026-03-31 10:00:00+00')", False),
    ("days_left(TIMESTAMPTZ '2026-03-01 10:00:00+00', 30, TIMESTAMPTZ '2026-03-31 09:59:59+00')", 0),
    ("late_by_days(TIMESTAMPTZ '2026-03-01 10:00:00+00', 30, TIMESTAMPTZ '2026-04-01 10:00:01+00', NULL)", 1.1),
    ("authorized_at('sub_processor', DATE '2026-03-01', DATE '2026-04-01', TIMESTAMPTZ '2026-03-31 23:59:59+00')",
     True),
    ("authorized_at('sub_processor', DATE '2026-03-01', DATE '2026-04-01', TIMESTAMPTZ '2026-04-01 00:00:00+00')",
     False),
    ("bound_at(DATE '2026-03-01', TIMESTAMPTZ '2026-03-01 23:59:59+00')", True),
]  # fmt: skip


@pytest.mark.parametrize(("expression", "expected"), CALENDAR, ids=[c[0][:60] for c in CALENDAR])
def test_calendar_on_spark(spark, expression: str, expected: object) -> None:  # noqa: F811
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE consents (customer_id VARCHAR, kind VARCHAR, given_at TIMESTAMPTZ, "
                "withdrawn_at TIMESTAMPTZ)")  # fmt: skip
    con.execute(
        "CREATE TABLE customers (customer_id VARCHAR, account_status VARCHAR, deactivated_at TIMESTAMPTZ)"
    )
    con.execute("CREATE TABLE legal_holds (customer_id VARCHAR, reason VARCHAR, placed_at TIMESTAMPTZ, "
                "released_at TIMESTAMPTZ)")  # fmt: skip
    install_macros(con)
    (duck,) = con.execute(f"SELECT {expression}").fetchone()
    (on_spark,) = spark.sql(to_spark(f"SELECT {expression}")).collect()[0]
    if expected is not None:
        assert duck == expected
    if isinstance(duck, str):
        assert on_spark.replace("+00", "").replace("Z", "") == duck.replace("+00", "")
    else:
        assert on_spark == duck


#: DuckDB's `/` is a DOUBLE whatever the numeric operands (Spark divides decimals as decimals, rounded
#: to a scale), and date_diff a BIGINT (Spark's year() an INT): the same value of the same type.
ARITHMETIC = [
    "1584450 / 86400.0",
    "CAST(7 AS INTEGER) / 2",
    "CAST(1 AS DECIMAL(10, 2)) / CAST(3 AS DECIMAL(10, 2))",
    "1.5 / 0.7",
    "ceil(100 / 8640.0) / 10",
    "date_diff('second', TIMESTAMPTZ '2026-01-01 00:00:00+00', TIMESTAMPTZ '2026-01-19 08:08:09+00') / 86400.0",
    "date_diff('second', TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2026-01-19 08:08:09') / 86400.0 / 5",
    "date_diff('year', TIMESTAMPTZ '2016-02-29 00:00:00+00', TIMESTAMPTZ '2026-02-28 00:00:00+00')",
    "date_diff('year', TIMESTAMP '2016-02-29 00:00:00', TIMESTAMP '2026-02-28 00:00:00') - CAST(true AS INTEGER)",
]  # fmt: skip


@pytest.mark.parametrize("expression", ARITHMETIC, ids=[e[:70] for e in ARITHMETIC])
def test_arithmetic_on_spark(spark, expression: str) -> None:  # noqa: F811
    import duckdb
    import polars as pl

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    duck = con.sql(f"SELECT {expression} AS v").pl()
    on_spark = pl.from_arrow(spark.sql(to_spark(f"SELECT {expression} AS v")).toArrow())
    assert (on_spark.schema, on_spark.rows()) == (duck.schema, duck.rows())


#: (snapshot, period, parameters): the sample's quarter with default parameters and the quarter before
#: with every parameter changed; each generated export's quarter (planted for the defaults).
CHANGED = ["retention_years=3", "grace_days=10", "response_days=20", "notice_days=5", "min_age=16"]
RUNS = [("sample", "2026-Q3", []), ("sample", "2026-Q2", CHANGED), *((n, "2026-Q3", []) for n in GENERATED)]


def _report(folder: Path, engine: str) -> dict[str, object]:
    """findings.json (less generated_at and the engine option) and every evidence file, as bytes."""
    document = json.loads((folder / "findings.json").read_text())
    document.pop("generated_at")
    assert document["settings"]["options"].pop("engine")["value"] == engine
    files = {p.name: p.read_bytes() for p in sorted((folder / "evidence").iterdir())}
    return {"findings": document, "evidence": files}


@pytest.mark.parametrize(("name", "period", "params"), RUNS, ids=[f"{r[0]}-{r[1]}" for r in RUNS])
def test_equivalence(
    spark,  # noqa: F811
    snapshots: Snapshots,
    tmp_path: Path,
    name: str,
    period: str,
    params: list[str],
) -> None:
    """`run quarterly` on DuckDB and with --engine spark, same Parquet snapshot: the same report folder."""
    from typer.testing import CliRunner

    from audit_lib.cli import app

    snapshot, planted = snapshots(name)
    folders = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / engine
        args = ["run", "quarterly", "--snapshot", str(snapshot), "--period", period, "--out", str(out),
                "--reports", str(tmp_path / "reports"), "--no-notebooks", "--engine", engine]  # fmt: skip
        for param in params:
            args += ["--param", param]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (engine, result.output, result.exception)
        folders[engine] = _report(out, engine)
    expected, actual = folders["duckdb"], folders["spark"]
    assert expected["evidence"], "no evidence written"
    controls = expected["findings"]["controls"]
    assert sum(c["violations"] for c in controls), "no violation compared"
    assert sum(c["exceptions"] for c in controls), "no exception compared"
    if not params:  # planted.json's parameters: every control with planted violations fails
        failing = {c["id"] for c in controls if c["violations"]}
        assert failing >= {i for i, outcome in planted["controls"].items() if outcome["violations"]}
    assert sorted(actual["evidence"]) == sorted(expected["evidence"])
    for name, content in expected["evidence"].items():
        assert actual["evidence"][name] == content, name
    assert actual["findings"] == expected["findings"]


@pytest.mark.parametrize("name", ["sample", "parquet-23"])
def test_figures_on_spark(spark, snapshots: Snapshots, name: str) -> None:  # noqa: F811
    """Every figure query on Spark: the same frame as DuckDB's, value by value.

    Rows are compared in sorted order (ties of a query's ORDER BY may come in either order); types
    exactly (timestamps are UTC microseconds on both, no normalisation). Floats within a relative
    1e-12: quantile_cont's interpolation is computed in another order by Spark's percentile, so the
    last bit of a p90 can differ; every other column is compared exactly.
    """
    import polars as pl
    from polars.testing import assert_frame_equal

    from audit_lib.controls.registry import query_parameters
    from audit_lib.engines.spark import register_snapshot
    from audit_lib.figures import Analytics, run

    snapshot, _ = snapshots(name)
    register_snapshot(spark, snapshot)
    with Analytics.open(snapshot, "2026-Q3") as analytics:
        previous = analytics.period.previous()
        extra = {"previous_label": previous.label, "previous_start": previous.start,
                 "previous_end": previous.end, "bin_days": 5, "limit": 50}  # fmt: skip
        values = analytics.bindings(**extra)
        for figure in FIGURES:
            duck = run(analytics.con, figure, values)
            sql = query_text(figure)
            args = {n: values[n] for n in query_parameters(sql)}
            on_spark = pl.from_arrow(spark.sql(to_spark(sql), args=args).toArrow())
            assert duck.height, figure
            assert on_spark.schema == duck.schema, figure
            assert_frame_equal(
                on_spark.sort(on_spark.columns), duck.sort(duck.columns), rel_tol=1e-12, abs_tol=0
            )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_control_case_on_spark(spark, case: Case, tmp_path: Path) -> None:  # noqa: F811
    from audit_lib.controls.registry import control_by_id
    from audit_lib.engines.spark import judge_spark, register_snapshot
    from audit_lib.params import resolve

    export = write_export(complete_tables(case.tables), tmp_path / "export")
    snapshot = build_parquet_snapshot(export, tmp_path / "snapshot", taken_at=LATE_TAKEN_AT)
    assert snapshot.id
    register_snapshot(spark, tmp_path / "snapshot")
    period = Period.parse(case.period)
    bindings = {**period.bind(), **resolve(case.params)}
    control = control_by_id(case.control)
    on_spark = judge_spark(spark, control, bindings)
    with opened(tmp_path / "snapshot") as (con, _):
        install_macros(con)
        duck = judge(con, control, bindings)
    assert (on_spark.population, on_spark.violations, on_spark.exceptions, on_spark.customers) == (
        duck.population, duck.violations, duck.exceptions, duck.customers,
    )  # fmt: skip
    assert {"population": on_spark.population, "violations": sorted(on_spark.violations),
            "exceptions": sorted(on_spark.exceptions)} == case.expected()  # fmt: skip


#: (snapshot, dispute, customer, parameters); a role of planted.json's `investigation`
#: (dispute_id, dispute_without_customer) stands for the dispute it names.
INVESTIGATIONS = [
    ("sample", "D0000011", None, {"response_days": 20}),
    ("sample", None, "C0001040", {"response_days": 20}),
    ("sample", "D0000012", None, {"response_days": 20}),
    *((name, "dispute_id", None, {}) for name in GENERATED),
    ("parquet-23", "dispute_without_customer", None, {}),
]


@pytest.mark.parametrize(
    ("name", "dispute", "customer", "params"),
    INVESTIGATIONS,
    ids=[f"{n}-{d or c}" for n, d, c, _ in INVESTIGATIONS],
)
def test_investigation_on_spark(
    spark,  # noqa: F811
    snapshots: Snapshots,
    name: str,
    dispute: str | None,
    customer: str | None,
    params: dict[str, object],
) -> None:
    """`investigate --engine spark`: the same investigation.json document as DuckDB's."""
    from audit_lib.engines import engine_selected
    from audit_lib.findings.investigation import investigate

    snapshot, planted = snapshots(name)
    dispute = planted["investigation"].get(dispute, dispute)
    duck = investigate(snapshot, dispute, customer, params=params)
    with engine_selected("spark", "local[2]"):
        on_spark = investigate(snapshot, dispute, customer, params=params)
    for document in (duck, on_spark):
        document.pop("generated_at")
    assert on_spark == duck
    assert any(c["violations"] for c in duck["controls"].values()) or duck["customer"] is None
