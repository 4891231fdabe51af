"""A full quarterly run with notebooks, from a relative working directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_lib.cli import app
from audit_lib.report.render import external_references


@pytest.mark.slow
def test_quarterly_report_folder(cli, sample_snapshot: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["run", "quarterly", "--snapshot", str(sample_snapshot), "--period", "2026-Q3"])
    assert result.exit_code == 0, result.output
    assert Path.cwd() == tmp_path  # notebooks do not move the process
    (folder,) = (tmp_path / "reports").iterdir()
    assert result.stdout.strip() == f"report: {Path('reports') / folder.name / 'report.html'}"
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert external_references(html) == [] and "<script" not in html.lower()
    assert html.index("Scorecard") < html.index("Retention")
    assert html.count("<svg") + html.count("data:image/svg+xml") >= 5
    executed = sorted(p.name for p in (folder / "notebooks").iterdir())
    assert executed == sorted(
        f"{n}.ipynb"
        for n in ("scorecard", "changes", "retention", "sharing", "flows", "ropa", "requests", "exceptions")
    )
    manifest = json.loads((folder / "manifest.json").read_text())["files"]
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest) == on_disk


def test_a_kernel_that_died_while_starting_is_replaced_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from audit_lib.errors import NotebookError
    from audit_lib.runs import notebooks

    class Dead:
        shut = False

        def ready(self) -> object:
            raise NotebookError("kernel", message="the notebook kernel did not start: died")

        def shutdown(self) -> None:
            self.shut = True

    class Fresh:
        def ready(self) -> object:
            return "manager"

    dead = Dead()
    kernels = [dead]
    monkeypatch.setattr(notebooks, "WarmKernel", Fresh)
    assert notebooks.ready_kernel(kernels, 0) == "manager"
    assert dead.shut and isinstance(kernels[0], Fresh)
    monkeypatch.setattr(notebooks, "WarmKernel", Dead)  # dead again: the error is the user's to see
    with pytest.raises(NotebookError):
        notebooks.ready_kernel([Dead()], 0)
