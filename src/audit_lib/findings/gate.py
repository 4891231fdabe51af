"""`run quarterly --fail-on`: whether a report folder meets a CI failure condition (exit 3).

- `violations`: any control has a violation (waived ones do not count: they
  are not in findings.json's `violations`).
- `new-violations`: any violation not in the previous report. With a previous
  report, diff.json says which: a control compared by keys (state controls,
  open requests and complaints) has its `new` keys; a control compared by
  counts judges events of the period, so each of its violations is new. With
  no previous report (no diff.json) every violation is new.
- `expired-waivers`: the waiver register (findings.json `waivers`) holds a
  waiver whose state at as_of is `expired`: it waives nothing any more and
  should be renewed or removed.

Also here: writing a CI file given by path (--junit, --sarif), never over an
existing one.
"""

from __future__ import annotations

import json
from pathlib import Path

from audit_lib.errors import AuditError, OutputExistsError, UsageError
from audit_lib.findings.quarterly import read_findings

CONDITIONS = ("violations", "new-violations", "expired-waivers")
#: How many control ids a condition's message names.
NAMED = 5


class FailOnMet(AuditError):
    """A --fail-on condition is met: the report is written, the step exits 3."""

    exit_code = 3


def check_conditions(conditions: list[str]) -> list[str]:
    """The conditions as given, checked (exit 2 naming an unknown one), without repeats."""
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise UsageError(f"--fail-on {unknown[0]!r}: not one of {', '.join(CONDITIONS)}")
    return list(dict.fromkeys(conditions))


def met_conditions(folder: Path, conditions: list[str]) -> list[str]:
    """One line per condition of `conditions` that the report folder meets; empty when none is."""
    folder = Path(folder)
    document = read_findings(folder / "findings.json")
    met = []
    for condition in conditions:
        if condition == "violations":
            hit = {str(c["id"]): int(c.get("violations") or 0) for c in document["controls"]}
            what = "violation(s)"
        elif condition == "new-violations":
            hit, what = new_violations(folder, document), "new violation(s)"
        else:
            expired = [str(w.get("id")) for w in document.get("waivers") or [] if w.get("state") == "expired"]
            if expired:
                met.append(f"expired-waivers: {len(expired)} expired waiver(s): {_first(expired)}")
            continue
        hit = {cid: n for cid, n in hit.items() if n}
        if hit:
            named = _first([f"{cid} {n}" for cid, n in hit.items()])
            met.append(f"{condition}: {sum(hit.values())} {what} in {len(hit)} control(s): {named}")
    return met


def new_violations(folder: Path, document: dict) -> dict[str, int]:
    """Per control, how many of its violations the previous report did not have (diff.json)."""
    counts = {str(c["id"]): int(c.get("violations") or 0) for c in document["controls"]}
    diff_path = folder / "diff.json"
    if not diff_path.is_file():
        return counts
    diff = json.loads(diff_path.read_text(encoding="utf-8"))
    for control in diff.get("controls", []):
        cid = str(control.get("id"))
        if control.get("comparison") == "keys" and cid in counts:
            counts[cid] = len(control.get("new") or [])
    return counts


def _first(items: list[str]) -> str:
    return ", ".join(items[:NAMED]) + (", ..." if len(items) > NAMED else "")


def refuse_existing(*paths: Path | None) -> None:
    """Exit 2 before anything runs when a CI file to write already exists."""
    for path in paths:
        if path is not None and (Path(path).exists() or Path(path).is_symlink()):
            raise OutputExistsError(f"{path}: exists; nothing is overwritten")


def write_new(path: Path, data: bytes) -> None:
    """`data` as the new file `path` (exclusive create: an existing file is never overwritten)."""
    try:
        with Path(path).open("xb") as handle:
            handle.write(data)
    except FileExistsError:
        raise OutputExistsError(f"{path}: exists; nothing is overwritten") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write it ({exc.strerror or exc})") from None
