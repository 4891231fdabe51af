"""Execute the suite's parameterized notebooks (package data) with papermill."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor, as_completed
from importlib.resources import files
from pathlib import Path

from audit_lib.errors import NotebookError
from audit_lib.progress import Progress

#: The quarterly report's notebooks, in the order the report shows them.
QUARTERLY = ("scorecard", "changes", "retention", "sharing", "flows", "requests", "exceptions")
INVESTIGATION = ("investigate",)


def notebook_dir() -> Path:
    """Where the installed package keeps its notebooks."""
    return Path(str(files("audit_lib") / "notebooks"))


def notebook_path(name: str) -> Path:
    path = notebook_dir() / f"{name}.ipynb"
    if not path.is_file():
        raise NotebookError(name, message=f"{path}: notebook missing from the installation")
    return path


def execute(names: tuple[str, ...], out_dir: Path, parameters: dict[str, object], folder: Path) -> list[Path]:
    """Run the notebooks with `parameters` into `out_dir`, a kernel per core at a time.

    Each kernel starts in `out_dir`, so relative parameters name files of the
    folder and stay valid once it is moved into place (papermill's `cwd` would
    chdir this whole process, and notebooks run in threads). A notebook that
    fails is kept beside `folder` (the folder being assembled), named in the
    NotebookError, since the partial folder is removed.
    """
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [out_dir / f"{name}.ipynb" for name in names]
    workers = max(1, min(len(names), os.cpu_count() or 1))
    with Progress("running notebooks", total=len(names)) as progress, ThreadPoolExecutor(workers) as pool:
        runs = [
            pool.submit(_execute_one, name, target, parameters, folder)
            for name, target in zip(names, targets, strict=True)
        ]
        for run in as_completed(runs):
            progress.advance(f"notebook {run.result()} done")
    return targets


def _execute_one(name: str, target: Path, parameters: dict[str, object], folder: Path) -> str:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(notebook_path(name)),
            str(target),
            parameters=parameters,
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            resources={"metadata": {"path": str(target.parent)}},
        )
    except PapermillExecutionError as exc:
        kept = keep_failed(target, folder)
        raise NotebookError(
            name, cell=exc.cell_index, ename=exc.ename, evalue=exc.evalue, kept=kept
        ) from None
    return name


def keep_failed(target: Path, folder: Path) -> Path | None:
    """Copy a failed notebook out of the folder about to be removed: `<folder>.<name>.failed.ipynb`."""
    if not target.is_file():
        return None
    kept = folder.with_name(f"{folder.name}.{target.stem}.failed.ipynb")
    if kept.exists():
        kept = kept.with_name(f"{folder.name}.{target.stem}.failed-{os.getpid()}.ipynb")
    shutil.copyfile(target, kept)
    return kept
