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
