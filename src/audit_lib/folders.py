"""Output folders that appear complete or not at all; file digests."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from audit_lib.errors import OutputExistsError, UsageError
from audit_lib.periods import utc_now

#: Where reports and investigations go by default, relative to the working directory.
REPORTS_DIR = Path("reports")


def slug(text: str) -> str:
    """A name safe in a path: `until 2026-10-08T00:00:00Z` -> `until-2026-10-08T00-00-00Z`."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "x"


def dated_folder(*parts: str) -> Path:
    """`reports/<parts joined by _>` with `{today}` as the run's UTC date, suffixed when taken."""
    today = utc_now().date().isoformat()
    return free_name(REPORTS_DIR, "_".join(today if p == "{today}" else slug(p) for p in parts))


def refuse_non_empty(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise OutputExistsError(f"{folder}: exists and is not an empty folder; nothing is overwritten")


def free_name(parent: Path, name: str) -> Path:
    """`parent/name`, or `name-2`, `name-3`... when taken (default names only)."""
    candidate, n = parent / name, 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{name}-{n}"
    return candidate


@contextlib.contextmanager
def assembled(folder: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `folder`; move it into place on success."""
    folder = folder.resolve()  # notebooks and renderers run in other working directories
    refuse_non_empty(folder)
    tmp = folder.with_name(f".{folder.name}.partial-{os.getpid()}")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    except OSError as exc:
        raise UsageError(f"{folder}: cannot write there ({exc.strerror or exc})") from None
    try:
        yield tmp
        try:
            os.rename(tmp, folder)  # replaces only a missing or empty folder
        except OSError:
            raise OutputExistsError(f"{folder}: appeared meanwhile; nothing is overwritten") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
