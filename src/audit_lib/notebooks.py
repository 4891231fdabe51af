"""Execute the suite's parameterized notebooks with papermill."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from audit_lib.errors import NotebookError
from audit_lib.progress import Progress

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"

#: The quarterly report's notebooks, in the order the report shows them.
QUARTERLY = ("scorecard", "retention", "sharing", "flows", "requests", "exceptions")
INVESTIGATION = ("investigate",)


def notebook_path(name: str) -> Path:
    path = NOTEBOOK_DIR / f"{name}.ipynb"
    if not path.is_file():
        raise NotebookError(f"{path}: notebook missing from the installation")
    return path


def execute(names: tuple[str, ...], out_dir: Path, parameters: dict[str, object]) -> list[Path]:
    """Run the notebooks with `parameters` into `out_dir`, a kernel per core at a time.

    Kernel start-up and imports dominate a small notebook, so notebooks run side by side
    (in threads: papermill's `cwd` would chdir the whole process, so it is not used; every
    path a notebook gets is absolute).
    """
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [out_dir / f"{name}.ipynb" for name in names]
    workers = max(1, min(len(names), os.cpu_count() or 1))
    with Progress("running notebooks", total=len(names)) as progress, ThreadPoolExecutor(workers) as pool:
        runs = [
            pool.submit(_execute_one, name, target, parameters)
            for name, target in zip(names, targets, strict=True)
        ]
        for run in as_completed(runs):
            progress.advance(f"notebook {run.result()} done")
    return targets


def _execute_one(name: str, target: Path, parameters: dict[str, object]) -> str:
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
        )
    except PapermillExecutionError as exc:
        raise NotebookError(
            f"notebook {name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
        ) from None
    return name
