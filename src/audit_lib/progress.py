"""Progress for long steps: a live bar on a terminal, silence in CI and pipes."""

from __future__ import annotations

import os
import sys
from types import TracebackType


def interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


class Progress:
    """`with Progress("loading", total=4) as p: ...; p.advance()`."""

    def __init__(self, description: str, total: int) -> None:
        self.description, self.total = description, total
        self._bar = None

    def __enter__(self) -> Progress:
        if interactive():
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        return self

    def advance(self, description: str | None = None) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=description or self.description)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
