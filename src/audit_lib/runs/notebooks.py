"""Execute the suite's parameterized notebooks (package data) with papermill."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files
from pathlib import Path
from queue import Empty

from jupyter_client import KernelManager
from jupyter_client.asynchronous.client import AsyncKernelClient
from traitlets import DottedObjectName

from audit_lib.errors import NotebookError
from audit_lib.progress import Progress

#: The quarterly report's notebooks, in the order the report shows them.
QUARTERLY = ("scorecard", "changes", "retention", "sharing", "flows", "ropa", "requests", "exceptions")
INVESTIGATION = ("investigate",)


def notebook_dir() -> Path:
    """Where the installed package keeps its notebooks."""
    return Path(str(files("audit_lib") / "notebooks"))


def notebook_path(name: str) -> Path:
    path = notebook_dir() / f"{name}.ipynb"
    if not path.is_file():
        raise NotebookError(name, message=f"{path}: notebook missing from the installation")
    return path


#: Run in a fresh kernel while DuckDB evaluates: the imports every notebook pays otherwise.
WARM_UP = """
import audit_lib  # first: it spares jsonschema (altair's) a grammar compile of seconds
import altair, duckdb, polars, vl_convert
from audit_lib.figures import Analytics, charts, tables
from audit_lib.report import display, audit_view, investigation_view
display.setup()
"""
#: Before a kernel's first notebook: a clean namespace (modules stay imported), in the notebooks'
#: folder. Each notebook then sets every name it uses (nbval runs each in a fresh kernel too).
BETWEEN = "get_ipython().run_line_magic('reset', '-f')\nimport os\nos.chdir({folder!r})"


#: How long a client waits for its kernel_info to be answered before it asks again.
RESEND_SECONDS = 0.2


class PromptClient(AsyncKernelClient):
    """An asynchronous client ready as soon as its kernel has answered a kernel_info request.

    Asynchronous, as nbclient expects: with a blocking client its wait for a reply
    blocks the event loop, so a kernel that dies mid-cell (the memory killer, a crash)
    is never seen dead and the run hangs. jupyter_client's `wait_for_ready` ends by
    waiting 0.2 s for IOPub to fall silent, and papermill starts a client per notebook.
    This one waits for the kernel to report idle after one of its kernel_info requests
    on IOPub instead (which proves both channels connected), asking again every
    RESEND_SECONDS: a reply IOPub missed while it was still connecting costs that long.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        timeout = 60 if timeout is None else timeout
        deadline = time.monotonic() + timeout
        asked: set[str] = set()
        while True:
            asked.add(self.kernel_info())
            resend = time.monotonic() + RESEND_SECONDS
            with contextlib.suppress(Empty):
                while (left := resend - time.monotonic()) > 0:  # other messages do not hold it up
                    msg = await self.iopub_channel.get_msg(timeout=left)
                    if msg["parent_header"].get("msg_id") in asked and _idle(msg):
                        return
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")


class PromptKernelManager(KernelManager):
    """A kernel manager whose clients are PromptClients, and whose shutdown sees a killed kernel
    gone within milliseconds (jupyter_client polls for it every 0.1 s: a run paid that per kernel)."""

    client_class = DottedObjectName("audit_lib.runs.notebooks.PromptClient")  # as jupyter_client's own

    async def _async_wait(self, pollinterval: float = 0.005) -> None:
        await super()._async_wait(pollinterval)


def _idle(msg: dict) -> bool:
    return msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"


class WarmKernel:
    """One python3 kernel for a run's notebooks, started early and warmed with their imports.

    Kernel start and imports cost seconds; a run pays them once, and while DuckDB
    evaluates. Notebooks then run one after another in this kernel (papermill with
    our kernel manager), each in a clean namespace.
    """

    def __init__(self) -> None:
        self.km: object | None = None
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._start, name="warm kernel", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            km = PromptKernelManager(kernel_name="python3")
            km.start_kernel(extra_arguments=["--IPKernelApp.log_level=ERROR"])
            self.km = km
            self.run(WARM_UP)
        except BaseException as exc:  # reported when the kernel is asked for
            self.error = exc

    def ready(self) -> object:
        self._thread.join()
        if self.error is not None or self.km is None:
            raise NotebookError("kernel", message=f"the notebook kernel did not start: {self.error}")
        return self.km

    def run(self, code: str) -> None:
        """Execute `code` in the kernel and wait for it."""
        reply = asyncio.run(self._execute(code))
        if reply["content"]["status"] != "ok":
            raise NotebookError("kernel", message=f"kernel set-up failed: {reply['content'].get('evalue')}")

    async def _execute(self, code: str) -> dict:
        """The reply to `code`; a kernel that dies meanwhile (or is killed: the run stopping) is
        a NotebookError within RESEND_SECONDS, not a wait for the reply's timeout."""
        kc = self.km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            reply = asyncio.ensure_future(
                kc.execute_interactive(code, timeout=120, store_history=False, output_hook=lambda msg: None)
            )
            while not (await asyncio.wait([reply], timeout=RESEND_SECONDS))[0]:
                if not await kc.is_alive():
                    reply.cancel()
                    raise NotebookError("kernel", message="the notebook kernel died")
            return reply.result()
        finally:
            kc.stop_channels()

    def shutdown(self) -> None:
        """Kill the kernel, once, whichever thread asks first."""
        self._thread.join()
        with self._lock:
            km, self.km = self.km, None
        if km is not None:
            with contextlib.suppress(Exception):
                km.shutdown_kernel(now=True)


_prewarmed: list[WarmKernel] = []


def kernels_wanted(notebooks: int = len(QUARTERLY)) -> int:
    """One warm kernel per core (two here), never more than there are notebooks."""
    return max(1, min(notebooks, os.cpu_count() or 1, 2))


def prewarm(notebooks: int = len(QUARTERLY)) -> None:
    """Start the next run's kernels now (they warm up while the caller evaluates), and import
    what this process runs and renders notebooks with (a second of imports, paid meanwhile)."""
    while len(_prewarmed) < kernels_wanted(notebooks):
        _prewarmed.append(WarmKernel())
    threading.Thread(target=_import_tooling, name="notebook tooling", daemon=True).start()


def _import_tooling() -> None:
    import papermill  # noqa: F401

    from audit_lib.report.render import warm_up

    warm_up()


@atexit.register
def _shutdown_prewarmed() -> None:
    while _prewarmed:
        _prewarmed.pop().shutdown()


def execute(
    names: tuple[str, ...],
    out_dir: Path,
    parameters: dict[str, object],
    folder: Path,
    on_done: Callable[[Path], object] | None = None,
) -> list[Path]:
    """Run the notebooks with `parameters` into `out_dir` in warm kernels, one per core.

    `on_done(path)` is called with each executed notebook as soon as it is written
    (the report renders it while the other notebooks still run).

    Each kernel takes the next notebook not yet taken as soon as it is free (one long
    notebook does not hold up a fixed share), working in `out_dir`: relative
    parameters name files of the folder and stay valid once it is moved into place.
    A notebook that fails is kept beside `folder` (the folder being assembled),
    named in the NotebookError, since the partial folder is removed (one whose
    kernel died is not kept); no kernel takes another notebook after it.
    """
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    kernels = [_prewarmed.pop() if _prewarmed else WarmKernel() for _ in range(kernels_wanted(len(names)))]
    pending = list(names)
    lock = threading.Lock()

    def take() -> str | None:
        with lock:
            return pending.pop(0) if pending else None

    def stop_taking() -> None:
        with lock:
            pending.clear()

    def run_kernel(index: int, progress: Progress) -> None:
        try:
            km = ready_kernel(kernels, index)
            kernels[index].run(BETWEEN.format(folder=str(out_dir)))
            while (name := take()) is not None:
                target = _execute_one(name, out_dir / f"{name}.ipynb", parameters, folder, km)
                if on_done is not None:
                    on_done(target)
                with lock:
                    progress.advance(f"notebook {name} done")
        except BaseException:
            stop_taking()
            raise
        kernels[index].shutdown()  # now, while the other kernels still run

    pool = ThreadPoolExecutor(len(kernels))
    try:
        with Progress("running notebooks", total=len(names)) as progress:
            for done in [pool.submit(run_kernel, i, progress) for i in range(len(kernels))]:
                done.result()
    except BaseException:  # a notebook failed, or Ctrl-C: no kernel takes another one
        stop_taking()
        raise
    finally:
        for kernel in kernels:  # a kernel still running a notebook is killed: its thread ends
            kernel.shutdown()
        pool.shutdown(wait=True)
    return [out_dir / f"{name}.ipynb" for name in names]


def ready_kernel(kernels: list[WarmKernel], index: int) -> object:
    """The manager of `kernels[index]` once it is up; a kernel that died while it started (seen
    rarely, under load) is replaced by a fresh one, once."""
    try:
        return kernels[index].ready()
    except NotebookError:
        kernels[index].shutdown()
        kernels[index] = WarmKernel()
        return kernels[index].ready()


def _execute_one(name: str, target: Path, parameters: dict[str, object], folder: Path, km: object) -> Path:
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(notebook_path(name)),
            str(target),
            parameters=parameters,
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
            km=km,
            request_save_on_cell_execute=False,  # written once, at the end: not after every cell
        )
    except PapermillExecutionError as exc:
        kept = keep_failed(target, folder)
        raise NotebookError(
            name, cell=exc.cell_index, ename=exc.ename, evalue=exc.evalue, kept=kept
        ) from None
    except DeadKernelError:  # a crash, the memory killer, or this run stopping its kernels
        raise NotebookError(name, message=f"notebook {name}: its kernel died while it ran") from None
    return target


def keep_failed(target: Path, folder: Path) -> Path | None:
    """Copy a failed notebook out of the folder about to be removed: `<folder>.<name>.failed.ipynb`."""
    if not target.is_file():
        return None
    kept = folder.with_name(f"{folder.name}.{target.stem}.failed.ipynb")
    if kept.exists():
        kept = kept.with_name(f"{folder.name}.{target.stem}.failed-{os.getpid()}.ipynb")
    shutil.copyfile(target, kept)
    return kept
