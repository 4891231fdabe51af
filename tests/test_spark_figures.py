"""`run quarterly --engine spark` with notebooks: every figure they show computed on Spark, the same folder.

One pair of runs (DuckDB, then Spark, on one Parquet snapshot of the sample)
serves the folder tests; the store's own behaviour (lookups, misses, a folder
that is gone, another snapshot, clean-up) is tested beside them.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import papermill
import polars as pl
import pytest
from spark_session import spark  # noqa: F401  (the session fixture)

from audit_lib.figures import OPEN_ITEMS_SHOWN, Analytics, FrameStore, bound, figure_key
from audit_lib.ingest.parquet_snapshot import build_parquet_snapshot

pytestmark = pytest.mark.slow
PERIOD = "2026-Q3"
#: The one line the Spark run prints about the notebooks' figures when none was queried on DuckDB.
ALL_FROM_SPARK = (
    f"privacy-audit: note: the notebooks read {len(Analytics.figures())} figures computed on Spark\n"
)


@pytest.fixture(scope="module")
def parquet_sample(tmp_path_factory: pytest.TempPathFactory, sample_export: Path) -> Path:
    out = tmp_path_factory.mktemp("spark-figures") / "sample"
    build_parquet_snapshot(sample_export, out)
    return out


@pytest.fixture(scope="module")
def runs(spark, parquet_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:  # noqa: F811
    """Both engines' report folders (with notebooks), the Spark run's stderr, its temporary directory."""
    from typer.testing import CliRunner

    from audit_lib.cli import app

    base = tmp_path_factory.mktemp("runs")
    scratch = base / "tmp"  # the Spark run's temporary directory: where its store is made
    scratch.mkdir()
    folders, stderr = {}, {}
    for engine in ("duckdb", "spark"):
        out = base / engine
        args = ["run", "quarterly", "--snapshot", str(parquet_sample), "--period", PERIOD, "--out", str(out),
                "--reports", str(base / "reports"), "--engine", engine]  # fmt: skip
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(tempfile, "tempdir", str(scratch))
            result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (engine, result.output, result.exception)
        folders[engine], stderr[engine] = out, result.stderr
    return {"folders": folders, "stderr": stderr, "scratch": scratch}


def test_every_figure_the_notebooks_ask_for_is_computed_on_spark(runs: dict[str, object]) -> None:
    """The store held each (query, values) a notebook asked for, and only those; then it was removed."""
    stderr = runs["stderr"]
    assert ALL_FROM_SPARK in stderr["spark"], stderr["spark"]  # no lookup missed, none unused
    assert "figures computed on Spark" not in stderr["duckdb"]
    assert not list(runs["scratch"].glob("privacy-audit-figures-*"))  # the store is gone
    folder = runs["folders"]["spark"]
    stores = set()
    for notebook in sorted((folder / "notebooks").glob("*.ipynb")):
        store = nbformat.read(notebook, as_version=4).metadata["papermill"]["parameters"]["figures"]
        assert Path(store).parent == runs["scratch"], notebook.name  # outside the report folder
        stores.add(store)
    assert len(stores) == 1
    from audit_lib.findings.diff import report_problems

    assert report_problems(folder) == []  # the manifest lists every file, nothing of the store


def _normalised_report(folder: Path, engine: str) -> str:
    """report.html less what legitimately differs: when the run evaluated (findings' generated_at,
    in the identity table), when the report was rendered (header and footer), the engine setting."""
    html = (folder / "report.html").read_text(encoding="utf-8")
    run_at = r"(<td>run at</td>\s*<td[^>]*>)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z(?=</td>)"
    html, stamped = re.subn(run_at, r"\1RUN-AT", html)
    assert stamped == 1, "the run's timestamp is shown once"
    html, rendered = re.subn(r"([Gg]enerated) \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", r"\1 RENDERED-AT", html)
    assert rendered == 2, "the render time is shown in the header and the footer"
    engine_row = rf"<tr>\s*<td>option engine</td>\s*<td>{engine} \(command line\)</td>\s*</tr>"
    html, shown = re.subn(engine_row, "", html)
    assert shown == 1, "the engine is shown once"
    return html


def test_report_is_the_duckdb_engines(runs: dict[str, object]) -> None:
    folders = runs["folders"]
    expected, actual = (_normalised_report(folders[e], e) for e in ("duckdb", "spark"))
    for caption in ("Response times in days, per kind", "Disclosures per category and party",
                    "Stored items by category", "Disclosures by stated purpose"):  # fmt: skip
        assert caption in expected
    assert actual == expected


def _findings(folder: Path, engine: str) -> dict[str, object]:
    document = json.loads((folder / "findings.json").read_text())
    document.pop("generated_at")
    assert document["settings"]["options"].pop("engine")["value"] == engine
    return document


def test_findings_evidence_and_every_other_file_identical(runs: dict[str, object]) -> None:
    duck, spark_folder = runs["folders"]["duckdb"], runs["folders"]["spark"]
    assert _findings(spark_folder, "spark") == _findings(duck, "duckdb")
    different = {"findings.json", "report.html", "manifest.json"}  # compared above / hashes of those

    def files(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                if p.is_file() and p.name not in different and p.parent.name != "notebooks"}  # fmt: skip

    expected, actual = files(duck), files(spark_folder)
    assert any(name.startswith("evidence/") for name in expected) and "ropa.csv" in expected
    assert sorted(actual) == sorted(expected)
    for name, content in expected.items():
        assert actual[name] == content, name


def test_saved_notebook_re_runs_without_its_store(runs: dict[str, object], tmp_path: Path) -> None:
    """Its saved `figures` folder is gone: the notebook queries the snapshot, and shows the same."""
    moved = shutil.copytree(runs["folders"]["spark"], tmp_path / "copy")
    notebook = moved / "notebooks" / "requests.ipynb"
    before = [c.get("outputs") for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    papermill.execute_notebook(str(notebook), str(notebook), progress_bar=False, kernel_name="python3",
                               cwd=str(notebook.parent))  # fmt: skip
    after = [c.get("outputs") for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    tables = [i for i, o in enumerate(before) if o and "text/html" in o[0].get("data", {})]
    assert tables and all(
        after[i][0]["data"]["text/html"] == before[i][0]["data"]["text/html"] for i in tables
    )


def test_a_lookup_with_other_arguments_queries_duckdb(parquet_sample: Path, tmp_path: Path) -> None:
    """A person exploring with other arguments: a miss, logged, answered by DuckDB."""
    with Analytics.open(parquet_sample, PERIOD) as live:
        store = FrameStore.create(tmp_path, live.info.id)
        marked = live.open_items().head(1)  # one row: recognisably the store's
        store.put("open_items", bound("open_items", live.bindings(limit=OPEN_ITEMS_SHOWN)), marked)
        expected = live.open_items(limit=10)
    with Analytics.open(parquet_sample, PERIOD, "{}", tmp_path) as an:
        assert an.open_items().equals(marked)
        assert an.open_items(limit=10).equals(expected)
    assert [(e["query"], e["hit"]) for e in store.lookups()] == [("open_items", True), ("open_items", False)]
    (tmp_path / "other").mkdir()
    FrameStore.create(tmp_path / "other", "the id of another snapshot")
    for no_store in ("", tmp_path / "gone", tmp_path / "other"):
        with Analytics.open(parquet_sample, PERIOD, "{}", no_store) as an:
            assert an.store is None, no_store


def test_keys_name_instants_not_their_spelling() -> None:
    instant = datetime(2026, 7, 1, tzinfo=UTC)
    from datetime import timedelta, timezone

    elsewhere = instant.astimezone(timezone(timedelta(hours=2)))
    assert figure_key("q", {"as_of": instant})[0] == figure_key("q", {"as_of": elsewhere})[0]
    assert figure_key("q", {"limit": 1})[0] != figure_key("q", {"limit": True})[0]
    assert figure_key("q", {"start": "-infinity"})[0] != figure_key("p", {"start": "-infinity"})[0]


def test_conform_makes_spark_frames_duckdbs() -> None:
    from audit_lib.engines.figures import FigureMismatch, conform

    schema = pl.Schema({"n": pl.Int64, "at": pl.Datetime("us", "UTC"), "x": pl.Float64, "s": pl.String})
    naive = datetime(2026, 7, 1, 12, 0)
    frame = pl.DataFrame({"n": [1], "at": [naive], "x": [None], "s": ["a"]},
                         schema={"n": pl.Int32, "at": pl.Datetime("ns"), "x": pl.Null, "s": pl.String})  # fmt: skip
    conformed = conform(frame, schema)
    assert conformed.schema == schema
    assert conformed["at"][0] == naive.replace(tzinfo=UTC)  # Spark's naive timestamps are UTC
    with pytest.raises(FigureMismatch, match="columns"):
        conform(frame.select("n", "s"), schema)
    with pytest.raises(FigureMismatch, match="column n"):
        conform(frame.with_columns(pl.col("n").cast(pl.String)), schema)


def test_store_removed_when_the_notebooks_fail(spark, parquet_sample: Path) -> None:  # noqa: F811
    from audit_lib.engines import engine_selected, selected_engine

    with engine_selected("spark"), pytest.raises(RuntimeError, match="a notebook failed"):
        spark_engine = selected_engine()
        with spark_engine.figures(str(parquet_sample), PERIOD, "{}") as folder:
            kept = json.loads((Path(folder) / "index.json").read_text())["frames"]
            assert sorted(e["query"] for e in kept.values()) == sorted(Analytics.figures())
            raise RuntimeError("a notebook failed")
    assert not Path(folder).exists()
