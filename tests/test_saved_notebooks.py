"""Executed notebooks in a finished folder re-run elsewhere; a failing notebook keeps its context."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

from audit_lib.cli import app
from audit_lib.errors import NotebookError
from audit_lib.runs import notebooks

pytestmark = pytest.mark.slow


def injected_parameters(notebook: Path) -> dict[str, object]:
    """The parameters papermill injected into an executed notebook."""
    return nbformat.read(notebook, as_version=4).metadata["papermill"]["parameters"]


def rerun_every_notebook(folder: Path) -> list[Path]:
    """Re-execute each notebook of `folder` in place, from its own directory, as saved."""
    executed = sorted(folder.rglob("*.ipynb"))
    for notebook in executed:
        papermill.execute_notebook(
            str(notebook), str(notebook), progress_bar=False, kernel_name="python3", cwd=str(notebook.parent)
        )
    return executed


def test_a_report_folder_re_runs_elsewhere(cli, sample_snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = cli.invoke(app, ["run", "quarterly", "--snapshot", str(sample_snapshot), "--period", "2026-Q3",
                              "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    for notebook in (out / "notebooks").glob("*.ipynb"):
        parameters = injected_parameters(notebook)
        assert parameters["findings"] == "../findings.json"
        assert parameters["snapshot"] == str(sample_snapshot.resolve())
        assert parameters["snapshot_id"] == json.loads((out / "findings.json").read_text())["snapshot"]["id"]
        assert ".partial" not in json.dumps(parameters)
    moved = shutil.copytree(out, tmp_path / "elsewhere" / "copy")
    assert len(rerun_every_notebook(moved)) == len(notebooks.QUARTERLY)


def test_an_investigation_folder_re_runs_elsewhere(cli, sample_snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "case"
    result = cli.invoke(app, ["investigate", "--snapshot", str(sample_snapshot), "--customer", "C0000001",
                              "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    parameters = injected_parameters(out / "investigate.ipynb")
    assert parameters["investigation"] == "investigation.json"
    assert ".partial" not in json.dumps(parameters)
    moved = shutil.copytree(out, tmp_path / "elsewhere")
    assert rerun_every_notebook(moved) == [moved / "investigate.ipynb"]


def _quarterly_with_notebook(
    cli, snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *cells: str
) -> tuple[object, Path]:
    """`run quarterly` into reports/q3 with every notebook replaced by one of these code cells
    (after a parameters cell): the result, and the folder asked for."""
    notebook = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    )
    notebook.cells = [
        nbformat.v4.new_code_cell('snapshot = ""', metadata={"tags": ["parameters"]}),
        *(nbformat.v4.new_code_cell(cell) for cell in cells),
    ]
    path = tmp_path / "replaced.ipynb"
    nbformat.write(notebook, path)
    monkeypatch.setattr(notebooks, "notebook_path", lambda name: path)
    out = tmp_path / "reports" / "q3"
    result = cli.invoke(app, ["run", "quarterly", "--snapshot", str(snapshot), "--period", "2026-Q3",
                              "--out", str(out)])  # fmt: skip
    return result, out


def test_a_failing_notebook_is_kept_with_its_cell_and_exception(
    cli, sample_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, out = _quarterly_with_notebook(
        cli, sample_snapshot, tmp_path, monkeypatch, "x = 1", "raise ValueError('the figure cannot be drawn')"
    )
    assert result.exit_code == 1
    message = result.stderr
    assert "failed in cell 3" in message and "ValueError: the figure cannot be drawn" in message
    kept = [p for p in (tmp_path / "reports").glob("q3.*.failed.ipynb") if str(p) in message]
    assert len(kept) == 1
    outputs = nbformat.read(kept[0], as_version=4).cells[-1].outputs
    assert outputs[0]["ename"] == "ValueError"
    assert not out.exists() and not list((tmp_path / "reports").glob(".*partial*"))


def test_a_kernel_that_dies_in_a_notebook_is_a_clear_error_and_leaves_nothing(
    cli, sample_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """vl-convert aborts the process it runs in on some values; the memory killer ends a kernel."""
    result, _ = _quarterly_with_notebook(cli, sample_snapshot, tmp_path, monkeypatch, "import os\nos.abort()")
    assert result.exit_code == 1
    assert "its kernel died while it ran" in result.stderr and "internal error" not in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "reports").exists() or list((tmp_path / "reports").iterdir()) == []


def test_notebook_error_carries_its_context() -> None:
    error = NotebookError("scorecard", cell=3, ename="KeyError", evalue="'x'", kept=Path("/tmp/x.ipynb"))
    assert (error.notebook, error.cell, error.ename, error.evalue) == ("scorecard", 3, "KeyError", "'x'")
    assert "/tmp/x.ipynb" in str(error)
