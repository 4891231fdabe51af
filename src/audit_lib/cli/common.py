"""What every command shares: errors as exit codes, interruptions, option types, formatters."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from audit_lib.errors import AuditError, UsageError
from audit_lib.folders import release_reservations
from audit_lib.periods import Period

if TYPE_CHECKING:
    from datetime import datetime

F = TypeVar("F", bound=Callable[..., object])


class _Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that every cleanup runs."""


def _interrupted(exc: BaseException) -> bool:
    """Whether `exc` is, or was caused by, an interruption (DuckDB turns SIGINT into its own)."""
    duckdb = sys.modules.get("duckdb")
    interrupt = getattr(duckdb, "InterruptException", None) if duckdb else None
    return isinstance(exc, KeyboardInterrupt) or (interrupt is not None and isinstance(exc, interrupt))


@contextlib.contextmanager
def _signals_watched(seen: list[int]) -> Iterator[None]:
    """SIGINT and SIGTERM raise (so cleanup runs) and are remembered, whatever catches them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: object) -> None:
        seen.append(signum)
        signal.default_int_handler(signum, frame)

    def on_sigterm(signum: int, frame: object) -> None:
        seen.append(signum)
        raise _Terminated

    previous = signal.signal(signal.SIGINT, on_sigint), signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def reported(command: F) -> F:
    """Turn AuditError into its message and exit code; any other error into exit 1.

    An interruption (SIGINT, inside a DuckDB query too, or SIGTERM) exits 130
    (143 for SIGTERM) once the cleanup of every temporary file has run, even
    where a library caught it and raised something else.
    """

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        seen: list[int] = []
        try:
            with _signals_watched(seen):
                try:
                    return command(*args, **kwargs)
                finally:
                    release_reservations()
        except (Exception, KeyboardInterrupt, _Terminated) as exc:
            if seen or _interrupted(exc) or isinstance(exc, _Terminated):
                typer.echo("privacy-audit: interrupted; nothing was written", err=True)
                code = 143 if signal.SIGTERM in seen else 130
                raise typer.Exit(code) from None
            if isinstance(exc, BrokenPipeError):  # the reader went away (`| head`): quiet, as SIGPIPE
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(141) from None
            if isinstance(exc, AuditError):
                typer.echo(f"privacy-audit: {exc}", err=True)
                raise typer.Exit(exc.exit_code) from None
            if isinstance(exc, KeyboardInterrupt):  # pragma: no cover - caught above
                raise
            typer.echo(f"privacy-audit: internal error: {type(exc).__name__}: {exc}", err=True)
            if os.environ.get("PRIVACY_AUDIT_DEBUG"):
                traceback.print_exc()
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


SnapshotOption = Annotated[
    Path, typer.Option("--snapshot", metavar="FILE", help="A snapshot built by `snapshot build`.")
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param", metavar="NAME=VALUE",
        help="A control parameter (repeatable, each once); default: controls.md's, or the config file's.",
    ),
]  # fmt: skip


EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine", metavar="ENGINE", help="duckdb, or spark (a Parquet snapshot); default: duckdb."
    ),
]
SparkMasterOption = Annotated[
    str | None, typer.Option("--spark-master", metavar="URL", help="Spark master; default: local[*].")
]
SparkRemoteOption = Annotated[
    str | None,
    typer.Option(
        "--spark-remote", metavar="URL", help="A Spark Connect server, sc://HOST:15002; default: none."
    ),
]


def examples(*lines: str) -> str:
    """The epilog of a command's help: example calls, kept as written."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def iso_or_dash(value: datetime | None) -> str:
    from audit_lib.periods import iso

    return iso(value) or "-"


def period_of(period: str | None, as_of: str | None, start: str | None, end: str | None) -> Period:
    given = [name for name, v in (("--period", period), ("--as-of", as_of), ("--start", start)) if v]
    if len(given) != 1 or bool(start) != bool(end):
        raise UsageError("give exactly one of --period, --as-of, or --start with --end")
    if period:
        return Period.quarter(period)
    if as_of:
        return Period.until(as_of)
    return Period.between(start, end)
