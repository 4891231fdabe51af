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


class _FakeKernel:
    """A warm kernel that is up at once and runs nothing (execute's scheduling under test)."""

    def ready(self) -> object:
        return self

    def run(self, code: str) -> None:
        pass

    def shutdown(self) -> None:
        pass


def _two_fake_kernels(
    monkeypatch: pytest.MonkeyPatch,
    execute_one: object,
    kernel: type = _FakeKernel,
    prewarmed: list | None = None,
) -> None:
    """execute() with two kernels of class `kernel` (`prewarmed` ones first), running `execute_one`."""
    from audit_lib.runs import notebooks

    monkeypatch.setattr(notebooks, "_prewarmed", prewarmed or [])
    monkeypatch.setattr(notebooks, "WarmKernel", kernel)
    monkeypatch.setattr(notebooks, "kernels_wanted", lambda n: 2)
    monkeypatch.setattr(notebooks, "_execute_one", execute_one)


def test_each_kernel_takes_the_next_notebook_when_free(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A long notebook holds up only its own kernel: the other one runs every notebook left."""
    import threading
    import time

    from audit_lib.runs import notebooks

    ran: dict[str, int] = {}
    threads: dict[int, int] = {}

    def execute_one(name: str, target: Path, parameters: dict, folder: Path, km: object) -> Path:
        ran[name] = threads.setdefault(threading.get_ident(), len(threads))
        time.sleep(0.6 if name == "long" else 0.05)
        return target

    _two_fake_kernels(monkeypatch, execute_one)
    names = ("long", "a", "b", "c", "d", "e")
    done = notebooks.execute(names, tmp_path / "notebooks", {}, tmp_path)
    assert done == [tmp_path / "notebooks" / f"{n}.ipynb" for n in names]  # in the order asked for
    assert set(ran) == set(names)
    assert {ran[n] for n in names[1:]} == {1 - ran["long"]}


def test_no_notebook_starts_after_one_failed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import time

    from audit_lib.errors import NotebookError
    from audit_lib.runs import notebooks

    started: list[str] = []

    def execute_one(name: str, target: Path, parameters: dict, folder: Path, km: object) -> Path:
        started.append(name)
        if name == "broken":
            raise NotebookError(name, cell=2, ename="ValueError", evalue="no figure")
        time.sleep(0.2)
        return target

    _two_fake_kernels(monkeypatch, execute_one)
    with pytest.raises(NotebookError, match="broken"):
        notebooks.execute(("broken", "a", "b", "c", "d"), tmp_path / "notebooks", {}, tmp_path)
    assert "broken" in started and len(started) <= 2


def test_no_notebook_starts_once_a_kernel_failed_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import time

    from audit_lib.errors import NotebookError
    from audit_lib.runs import notebooks

    class Dead(_FakeKernel):
        def ready(self) -> object:
            time.sleep(0.1)
            raise NotebookError("kernel", message="the notebook kernel did not start: died")

    started: list[str] = []

    def execute_one(name: str, target: Path, parameters: dict, folder: Path, km: object) -> Path:
        started.append(name)
        time.sleep(0.2)
        return target

    # popped from the end: the second kernel is dead, and its replacement dies too
    _two_fake_kernels(monkeypatch, execute_one, Dead, prewarmed=[_FakeKernel(), Dead()])
    with pytest.raises(NotebookError, match="did not start"):
        notebooks.execute(tuple("abcdefgh"), tmp_path / "notebooks", {}, tmp_path)
    assert 1 <= len(started) <= 2


def test_ctrl_c_stops_the_notebooks_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SIGINT reaches the main thread only (the kernels run in their own sessions): no kernel
    takes another notebook, and every kernel is shut down."""
    import signal
    import threading
    import time

    from audit_lib.runs import notebooks

    started: list[str] = []
    shut: list[object] = []

    class Kernel(_FakeKernel):
        def shutdown(self) -> None:
            shut.append(self)

    def execute_one(name: str, target: Path, parameters: dict, folder: Path, km: object) -> Path:
        started.append(name)
        if len(started) == 2:  # both kernels busy, the run waiting for them
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        time.sleep(0.3)
        return target

    _two_fake_kernels(monkeypatch, execute_one, Kernel)
    with pytest.raises(KeyboardInterrupt):
        notebooks.execute(tuple("abcdefgh"), tmp_path / "notebooks", {}, tmp_path)
    time.sleep(1)  # a thread still taking notebooks would have started more by now
    assert len(started) <= 3
    assert len({id(k) for k in shut}) == 2
