"""manifest.json: the sha256 of every other file of a report or investigation folder.

`write_manifest` lists every file under the folder by relative POSIX path,
except manifest.json itself and a detached signature `manifest.sig` (written
after the manifest, where the report is signed). `check_manifest` re-checks a
folder against it: every listed file exists with its sha256, and nothing else
is there (symlinks count as files; empty folders are ignored).
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath

from audit_lib.findings.documents import write_document
from audit_lib.folders import sha256_of

FORMAT = "privacy-audit/manifest/1"
NAME = "manifest.json"
SIGNATURE = "manifest.sig"
UNLISTED = {NAME, SIGNATURE}


def write_manifest(folder: Path) -> None:
    """List every file under `folder` but the manifest itself and its signature, by relative path."""
    manifest = {"format": FORMAT, "files": {name: sha256_of(folder / name) for name in _files(folder)}}
    write_document(manifest, folder / NAME)


def check_manifest(folder: Path) -> list[str]:
    """What differs between `folder` and its manifest.json, one line per file; empty when intact."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder}: no such folder"]
    try:
        manifest = json.loads((folder / NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{NAME}: missing"]
    except (OSError, ValueError) as exc:
        return [f"{NAME}: unreadable ({exc})"]
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(listed, dict):
        return [f"{NAME}: not a {FORMAT} document"]
    problems = []
    for name, digest in sorted(listed.items()):
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or name in UNLISTED or not isinstance(digest, str):
            problems.append(f"{name}: not a file the manifest may list")
            continue
        target = folder / path
        if target.is_symlink() or not target.is_file():
            problems.append(
                f"{name}: missing" if not os.path.lexists(target) else f"{name}: not a regular file"
            )
            continue
        try:
            actual = sha256_of(target)
        except OSError as exc:
            problems.append(f"{name}: unreadable ({exc.strerror or exc})")
            continue
        if actual != digest.lower():
            problems.append(f"{name}: altered (sha256 {actual}, listed {digest})")
    problems += [f"{name}: not listed in {NAME}" for name in _files(folder) if name not in listed]
    return problems


def _files(folder: Path) -> list[str]:
    """Every non-directory under `folder` (symlinks not followed), but the unlisted two at the top."""
    names = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        entries = files + [d for d in dirs if (here / d).is_symlink()]
        for entry in entries:
            name = (here / entry).relative_to(folder).as_posix()
            if name not in UNLISTED:
                names.append(name)
    return sorted(names)
