"""Execute the suite's parameterized notebooks with papermill."""

from __future__ import annotations

import os
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
    """Run each notebook with `parameters` into `out_dir`; stop at the first failure."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_dir.mkdir(parents=True, exist_ok=True)
    executed = []
    with Progress("running notebooks", total=len(names)) as progress:
        for name in names:
            target = out_dir / f"{name}.ipynb"
            progress.advance(f"notebook {name}")
            try:
                papermill.execute_notebook(
                    str(notebook_path(name)),
                    str(target),
                    parameters=parameters,
                    cwd=str(NOTEBOOK_DIR),
                    progress_bar=False,
                    log_output=False,
                    kernel_name="python3",
                )
            except PapermillExecutionError as exc:
                raise NotebookError(
                    f"notebook {name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
                ) from None
            executed.append(target)
    return executed


def kernel_environment() -> None:
    """Keep kernels quiet and in UTC whatever the caller's locale."""
    os.environ.setdefault("TZ", "UTC")
