"""Output folders that appear complete or not at all; temporary names; file digests.

Temporary files and folders carry their owner in their name: the process id,
the process's start time (field 22 of /proc/PID/stat, in clock ticks since
boot; 0 where /proc is missing) and a random token, e.g.
`.NAME.partial-1234-98765-1a2b3c4d` for a folder and
`.NAME.1234-98765-1a2b3c4d.partial` for a snapshot file. A partial is stale
when no process has that id (`os.kill(pid, 0)`) or the process that has it
started at another time (a reused id). Every run removes the stale partials it
finds beside its target, and inside an (empty) target folder; a live
process's partial is never touched. The random token keeps two names apart
even when a dead process's id and start time come back.

Default report names are reserved atomically: `free_name` creates the folder
(`os.mkdir`, which fails on anything already there, a symlink included, and
never follows one), and `assembled` renames the complete temporary folder over
that empty reservation. An explicit `--out` that exists and is empty (a mount
point, say) is assembled inside: files appear one by one, `manifest.json` last.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from audit_lib.errors import OutputExistsError, UsageError
from audit_lib.periods import utc_now

#: Where reports and investigations go by default, relative to the working directory.
REPORTS_DIR = Path("reports")

#: The file moved into an in-place folder last: its presence means the folder is complete.
LAST = "manifest.json"

#: A partial's owner: `<pid>` (older suites) or `<pid>-<start>-<token>`.
_OWNER = r"(?P<pid>\d+)(?:-(?P<start>\d+)-(?P<token>[0-9a-f]+))?"
_PARTIAL_FOLDER = re.compile(rf"^\..+\.partial-{_OWNER}(?P<reserved>-reserved)?$")
_PARTIAL_FILE = re.compile(rf"^\..+\.{_OWNER}\.partial(?:\.wal|\.tmp)?$")

#: Folders reserved by `free_name` in this process and not yet assembled.
_RESERVED: set[Path] = set()

#: The signals that stop a command (it cleans up first).
_INTERRUPTS = (signal.SIGINT, signal.SIGTERM)

#: Errors of the target (not of the inputs): a read-only, full or forbidden place.
_TARGET_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def slug(text: str) -> str:
    """A name safe in a path: `until 2026-10-08T00:00:00Z` -> `until-2026-10-08T00-00-00Z`."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "x"


def dated_folder(*parts: str, parent: Path | None = None) -> Path:
    """`reports/<parts joined by _>` with `{today}` as the run's UTC date, suffixed when taken.

    The folder is created empty, as a reservation that `assembled` fills.
    """
    today = utc_now().date().isoformat()
    return free_name(parent or REPORTS_DIR, "_".join(today if p == "{today}" else slug(p) for p in parts))


def refuse_non_empty(folder: Path) -> None:
    folder = Path(folder)
    with contextlib.suppress(OSError):
        if folder.is_dir() and not folder.is_symlink():
            remove_stale_partials(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise OutputExistsError(f"{folder}: exists and is not an empty folder; nothing is overwritten")


def free_name(parent: Path, name: str) -> Path:
    """Reserve `parent/name`, or `name-2`, `name-3`... when taken (default names only).

    The name is reserved by creating it as an empty folder: two runs never get
    the same one, and an entry already there (a symlink included) is skipped.
    """
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(parent)
    except OSError as exc:
        raise UsageError(f"{parent}: cannot write there ({exc.strerror or exc})") from None
    n = 1
    while True:
        candidate = parent / (name if n == 1 else f"{name}-{n}")
        try:
            with signals_held():  # made and remembered, or neither
                os.mkdir(candidate)
                _RESERVED.add(candidate.absolute())
        except FileExistsError:
            n += 1
            continue
        except OSError as exc:
            raise UsageError(f"{parent}: cannot write there ({exc.strerror or exc})") from None
        return candidate


def release_reservations() -> None:
    """Remove this process's reservations that no `assembled` took up (a command that failed
    or was interrupted between reserving its folder and assembling it)."""
    with signals_held():
        while _RESERVED:
            with contextlib.suppress(OSError):
                _RESERVED.pop().rmdir()  # only when still empty


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back while a short step (a cleanup) must not be cut, then
    delivered. Outside the main thread, where handlers cannot be set, a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {
        n: signal.signal(n, lambda number, _: held.append(number))
        for n in _INTERRUPTS
        if signal.getsignal(n) is not None  # a handler set outside Python stays
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(held):
            signal.raise_signal(number)


@contextlib.contextmanager
def temporary_folder(tmp: Path, refusal: str) -> Iterator[Path]:
    """Make the folder `tmp` (UsageError `refusal (cause)` when it cannot be made), and remove
    it at the end whatever happens: a signal that cuts in once it is made, or while it is
    removed, leaves nothing behind."""
    try:
        try:
            tmp.mkdir()
        except OSError as exc:
            raise UsageError(f"{refusal} ({exc.strerror or exc})") from None
        yield tmp
    finally:
        with signals_held():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def assembled(folder: Path) -> Iterator[Path]:
    """Yield a temporary folder; move it into place as `folder` on success.

    Beside `folder` when it is missing or reserved by `free_name` (then one
    rename makes it appear complete); inside it when it is an existing empty
    folder given by the user (then its entries are moved in, `manifest.json`
    last). On failure or interruption nothing is left, the reservation included.
    """
    folder = Path(folder)
    reservation = folder.absolute()
    reserved = reservation in _RESERVED
    # Notebooks and renderers run in other working directories: an absolute path;
    # a reserved name is a real folder, never resolved through a symlink.
    folder = folder.parent.resolve() / folder.name if reserved else folder.resolve()
    done = False
    try:
        refuse_non_empty(folder)
        inside = folder.is_dir() and not reserved
        suffix = "-reserved" if reserved else ""
        tmp = (folder if inside else folder.parent) / f".{folder.name}.partial-{owner_token()}{suffix}"
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_partials(folder.parent)
        except OSError as exc:
            raise UsageError(f"{folder}: cannot write there ({exc.strerror or exc})") from None
        with _target_blamed(tmp, folder), temporary_folder(tmp, f"{folder}: cannot write there"):
            yield tmp
            if inside:
                _move_entries(tmp, folder)
            else:
                try:
                    os.rename(tmp, folder)  # replaces only a missing or empty folder
                except OSError:
                    raise OutputExistsError(f"{folder}: appeared meanwhile; nothing is overwritten") from None
        done = True
    finally:
        with signals_held():
            if reserved and not done:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only the empty reservation
            _RESERVED.discard(reservation)


@contextlib.contextmanager
def _target_blamed(tmp: Path, folder: Path) -> Iterator[None]:
    """An OSError of the place written to (full, read-only, forbidden) as a UsageError."""
    try:
        yield
    except OSError as exc:
        if _blames_target(exc, tmp, folder):
            raise UsageError(f"{folder}: cannot write there ({exc.strerror or exc})") from None
        raise


def _move_entries(tmp: Path, folder: Path) -> None:
    entries = sorted(tmp.iterdir(), key=lambda p: (p.name == LAST, p.name))
    for entry in entries:
        target = folder / entry.name
        if os.path.lexists(target):
            raise OutputExistsError(f"{target}: appeared meanwhile; nothing is overwritten")
        os.rename(entry, target)


def _blames_target(exc: OSError, tmp: Path, folder: Path) -> bool:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return True
    if exc.errno not in _TARGET_ERRNOS or not exc.filename:
        return False
    name = os.fspath(exc.filename)
    return any(name == str(p) or name.startswith(str(p) + os.sep) for p in (tmp, folder))


def owner_token() -> str:
    """`<pid>-<start time>-<random>`: who made a temporary name, surviving pid reuse."""
    pid = os.getpid()
    return f"{pid}-{process_start(pid) or 0}-{secrets.token_hex(4)}"


def process_start(pid: int) -> int | None:
    """The start time of process `pid` (clock ticks since boot), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:  # the command name (field 2) may hold spaces and parentheses: split after the last ')'
        return int(stat[stat.rindex(")") + 2 :].split()[19])
    except (ValueError, IndexError):
        return None


def owner_alive(pid: int, start: int | None, made_at: float | None = None) -> bool:
    """Whether process `pid`, started at `start` (None or 0: unknown), still runs.

    Without a start time (names of older suites), a partial made (`made_at`,
    its mtime) before process `pid` started is another process's: stale.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    except OverflowError:
        return False
    actual = process_start(pid)
    if actual is None:
        return True
    if not start:
        began = _started_at(actual)
        return made_at is None or began is None or made_at >= began
    return actual == start


def _started_at(ticks: int) -> float | None:
    """The wall-clock time of a process start given in clock ticks since boot."""
    try:
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, StopIteration):
        return None


def stale_partials(parent: Path) -> list[Path]:
    """The partial files and folders in `parent` whose process is gone."""
    stale = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return []
    for entry in entries:
        match = _PARTIAL_FOLDER.match(entry.name) or _PARTIAL_FILE.match(entry.name)
        if match is None:
            continue
        start = match["start"]
        try:
            made_at = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if not owner_alive(int(match["pid"]), int(start) if start else None, made_at):
            stale.append(Path(entry.path))
    return stale


def remove_stale_partials(parent: Path) -> list[Path]:
    """Remove the stale partials in `parent` (and the empty folders they had reserved)."""
    removed = stale_partials(parent)
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        match = _PARTIAL_FOLDER.match(path.name)
        if match and match["reserved"]:
            reservation = path.with_name(path.name[1 : path.name.rindex(".partial-")])
            with contextlib.suppress(OSError):
                if reservation.is_dir() and not reservation.is_symlink():
                    reservation.rmdir()  # only when still empty
    return removed


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
