"""manifest.json: the sha256 of every other file of a report or investigation folder."""

from __future__ import annotations

from pathlib import Path

from audit_lib.findings.documents import write_document
from audit_lib.folders import sha256_of

FORMAT = "privacy-audit/manifest/1"
NAME = "manifest.json"


def write_manifest(folder: Path) -> None:
    """List every file under `folder` but the manifest itself, by relative path."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != NAME)
    manifest = {"format": FORMAT, "files": {p.relative_to(folder).as_posix(): sha256_of(p) for p in files}}
    write_document(manifest, folder / NAME)
