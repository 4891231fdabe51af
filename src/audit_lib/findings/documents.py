"""What every JSON document of the suite shares: its format tag and the snapshot block."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.errors import UsageError
from audit_lib.periods import iso

if TYPE_CHECKING:
    from audit_lib.ingest.snapshot import SnapshotInfo


def snapshot_identity(info: SnapshotInfo) -> dict[str, str | None]:
    """The `snapshot` block of findings.json and investigation.json."""
    return {"id": info.id, "sha256": info.sha256, "taken_at": iso(info.taken_at)}


def write_document(document: dict[str, object], path: Path) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_document(path: Path, expected_format: str) -> dict[str, object]:
    """A JSON document the suite wrote, checked by its format tag."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != expected_format:
        raise UsageError(f"{path}: not a {expected_format} document")
    return document


def read_yaml(path: Path, what: str) -> tuple[bytes, object]:
    """The bytes of a YAML file the user gives (waivers, a declared RoPA) and what they parse to.

    The bytes are returned so that what is copied and hashed is exactly what was checked.
    """
    import yaml

    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        return content, yaml.safe_load(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid syntax"
        raise UsageError(f"{what} {path}: not valid YAML{at}: {problem}") from None


def refuse_faults(faults: list[str], what: str, path: Path) -> None:
    """One UsageError listing every fault of a user's file, or nothing when there is none."""
    if faults:
        lines = "\n".join(f"  - {fault}" for fault in faults)
        raise UsageError(f"{what} {path} refused: {len(faults)} fault(s)\n{lines}")
