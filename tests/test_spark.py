"""The controls on Spark equal DuckDB's, key by key, on the same Parquet snapshot."""

from __future__ import annotations

import json
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


@pytest.fixture(scope="module")
def parquet_sample(tmp_path_factory: pytest.TempPathFactory, sample_export: Path) -> Path:
    out = tmp_path_factory.mktemp("spark") / "sample"
    build_parquet_snapshot(sample_export, out)
    return out


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


#: The sample's quarter with default parameters, and the quarter before with every parameter changed.
RUNS = [
    ("2026-Q3", []),
    ("2026-Q2", ["retention_years=3", "grace_days=10", "response_days=20", "notice_days=5", "min_age=16"]),
]


def _report(folder: Path, engine: str) -> dict[str, object]:
    """findings.json (less generated_at and the engine option) and every evidence file, as bytes."""
    document = json.loads((folder / "findings.json").read_text())
    document.pop("generated_at")
    assert document["settings"]["options"].pop("engine")["value"] == engine
    files = {p.name: p.read_bytes() for p in sorted((folder / "evidence").iterdir())}
    return {"findings": document, "evidence": files}


@pytest.mark.parametrize(("period", "params"), RUNS, ids=[r[0] for r in RUNS])
def test_sample_equivalence(
    spark,  # noqa: F811
    parquet_sample: Path,
    tmp_path: Path,
    period: str,
    params: list[str],
) -> None:
    """`run quarterly` on DuckDB and with --engine spark, same Parquet snapshot: the same report folder."""
    from typer.testing import CliRunner

    from audit_lib.cli import app

    folders = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / engine
        args = ["run", "quarterly", "--snapshot", str(parquet_sample), "--period", period, "--out", str(out),
                "--reports", str(tmp_path / "reports"), "--no-notebooks", "--engine", engine]  # fmt: skip
        for param in params:
            args += ["--param", param]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (engine, result.output, result.exception)
        folders[engine] = _report(out, engine)
    expected, actual = folders["duckdb"], folders["spark"]
    assert expected["evidence"], "no evidence written"
    assert sorted(actual["evidence"]) == sorted(expected["evidence"])
    for name, content in expected["evidence"].items():
        assert actual["evidence"][name] == content, name
    assert actual["findings"] == expected["findings"]


def test_figures_run_on_spark(spark, parquet_sample: Path) -> None:  # noqa: F811
    import polars as pl

    from audit_lib.controls.registry import query_parameters
    from audit_lib.engines.spark import register_snapshot
    from audit_lib.figures import Analytics, run

    register_snapshot(spark, parquet_sample)
    with Analytics.open(parquet_sample, "2026-Q3") as analytics:
        previous = analytics.period.previous()
        extra = {"previous_label": previous.label, "previous_start": previous.start,
                 "previous_end": previous.end, "bin_days": 5, "limit": 50}  # fmt: skip
        values = analytics.bindings(**extra)
        for name in FIGURES:
            duck = run(analytics.con, name, values)
            sql = query_text(name)
            args = {n: values[n] for n in query_parameters(sql)}
            on_spark = pl.from_arrow(spark.sql(to_spark(sql), args=args).toArrow())
            assert on_spark.columns == duck.columns, name
            assert on_spark.height == duck.height, name


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


@pytest.mark.parametrize(
    ("dispute", "customer"), [("D0000011", None), (None, "C0001040"), ("D0000012", None)]
)  # fmt: skip
def test_investigation_on_spark(
    spark,  # noqa: F811
    parquet_sample: Path,
    dispute: str | None,
    customer: str | None,
) -> None:
    """`investigate --engine spark`: the same investigation.json document as DuckDB's."""
    from audit_lib.engines import engine_selected
    from audit_lib.findings.investigation import investigate

    params = {"response_days": 20}
    duck = investigate(parquet_sample, dispute, customer, params=params)
    with engine_selected("spark", "local[2]"):
        on_spark = investigate(parquet_sample, dispute, customer, params=params)
    for document in (duck, on_spark):
        document.pop("generated_at")
    assert on_spark == duck
    assert any(c["violations"] for c in duck["controls"].values()) or duck["customer"] is None
