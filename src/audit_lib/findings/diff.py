"""diff.json: one quarterly report beside an earlier one, control by control.

Two report folders are compared by their findings.json and evidence CSVs.

- Comparable or not: a control is flagged when its definition hash (the sha256
  of its SQL file), a parameter its query binds, or the suite version differs
  between the two reports, so a changed rule is not read as new violations.
- Controls whose records carry over from one period to the next (state
  controls, and DSR-01 / DSP-01: requests and complaints stay open) get their
  violation keys compared: new, persisting (with the quarter each was first
  seen: the start of its unbroken run of reports, following the chain of
  `previous` blocks) and resolved (and those now waived). Event controls
  (a disclosure, a message, an event belongs to one period) get their counts
  and rates (violations / population) side by side.
- Waivers added, expired and removed, when either report has a `waivers` section.
- The trend: violations per control over the chain (up to `CHAIN_LIMIT`
  earlier reports) and this one.

Key comparisons are set operations in DuckDB over the evidence rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.errors import OutputExistsError, UsageError
from audit_lib.findings.documents import write_document
from audit_lib.findings.manifest import check_manifest
from audit_lib.findings.quarterly import read_evidence, read_findings

if TYPE_CHECKING:
    import polars as pl

FORMAT = "privacy-audit/diff/1"
NAME = "diff.json"
#: Controls judged per record over time although not state controls: open items carry over.
CARRY_OVER = frozenset({"DSR-01", "DSP-01"})
#: How many earlier reports the chain (first seen, trend) follows at most.
CHAIN_LIMIT = 8

#: (control, key) of the latest report's violations, the previous report's, and the
#: chain's (report 0 = the latest): new, persisting (with first seen) and resolved.
KEY_CHANGES = """
WITH now AS (SELECT control, key FROM history WHERE report = 0 AND outcome = 'violation'),
before AS (SELECT control, key FROM history WHERE report = 1 AND outcome = 'violation'),
waived AS (SELECT control, key FROM history WHERE report = 0 AND outcome = 'waived'),
runs AS (  -- the unbroken run of reports 0, 1, 2, ... in which a key is a violation
    SELECT control, key, max(report) AS since
    FROM (
        SELECT control, key, report,
               row_number() OVER (PARTITION BY control, key ORDER BY report) - 1 AS position
        FROM (SELECT DISTINCT control, key, report FROM history WHERE outcome = 'violation')
    )
    WHERE report = position
    GROUP BY control, key
)
SELECT control, key, 'new' AS change, NULL::INTEGER AS since FROM (SELECT * FROM now EXCEPT SELECT * FROM before)
UNION ALL
SELECT control, key, 'persisting', since FROM (SELECT * FROM now INTERSECT SELECT * FROM before) JOIN runs USING (control, key)
UNION ALL
SELECT gone.control, gone.key, CASE WHEN waived.key IS NULL THEN 'resolved' ELSE 'waived' END, NULL
FROM (SELECT * FROM before EXCEPT SELECT * FROM now) AS gone LEFT JOIN waived USING (control, key)
ORDER BY control, change, key
"""  # noqa: E501


@dataclass(frozen=True)
class Report:
    """One report's findings.json document and evidence rows; `name` is its folder's name."""

    document: dict
    evidence: pl.DataFrame
    name: str

    @classmethod
    def read(cls, folder: Path, name: str | None = None) -> Report:
        folder = Path(folder)
        document = read_findings(folder / "findings.json")
        ids = [str(c["id"]) for c in document["controls"]]
        return cls(document, read_evidence(folder / "evidence", ids), name or folder.name)

    def identity(self) -> dict[str, object]:
        """The `previous` block: which report this is (period, snapshot id, run, folder name)."""
        return report_identity(self.document, self.name)

    def controls(self) -> dict[str, dict]:
        return {str(c["id"]): c for c in self.document["controls"]}


def report_identity(document: dict, folder_name: str) -> dict[str, object]:
    """`{period, snapshot_id, generated_at, folder}` of a findings.json document."""
    return {
        "period": document["period"]["label"],
        "snapshot_id": document["snapshot"]["id"],
        "generated_at": document.get("generated_at"),
        "folder": folder_name,
    }


def report_problems(folder: Path) -> list[str]:
    """Why `folder` is not a valid, intact report folder (empty when it is one)."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder}: not a folder"]
    try:
        document = read_findings(folder / "findings.json")
        ids = [str(c["id"]) for c in document["controls"]]
        report_identity(document, folder.name)
    except UsageError as exc:
        return [str(exc)]
    except (KeyError, TypeError) as exc:
        return [f"{folder / 'findings.json'}: incomplete findings document ({exc})"]
    problems = [f"manifest: {p}" for p in check_manifest(folder)]
    missing = [cid for cid in ids if not (folder / "evidence" / f"{cid}.csv").is_file()]
    if missing:
        problems.append(f"evidence missing for {', '.join(missing)}")
    return problems


def require_report(folder: Path) -> Path:
    """`folder` resolved, or UsageError (exit 2) saying why it is not a valid report."""
    folder = Path(folder).resolve()
    problems = report_problems(folder)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise UsageError(f"{folder}: not a valid report folder\n{lines}")
    return folder


def chain(previous: Path, limit: int = CHAIN_LIMIT) -> tuple[list[Report], list[str]]:
    """`previous` and the reports before it, newest first, through each findings.json's
    `previous` block (a folder name beside the report naming it); and why the chain stops early.
    """
    reports: list[Report] = []
    notes: list[str] = []
    folder: Path | None = Path(previous).resolve()
    expected: dict | None = None
    seen: set[Path] = set()
    while folder is not None and len(reports) < limit:
        if folder in seen:
            notes.append(f"{folder.name}: named twice in the chain; stopped there")
            break
        seen.add(folder)
        problems = report_problems(folder) if reports else []
        if problems:
            notes.append(f"{folder.name}: not a valid report ({problems[0]}); the chain stops before it")
            break
        report = Report.read(folder)
        if expected is not None and _differs(expected, report.identity()):
            notes.append(f"{folder.name}: not the report its successor names; the chain stops before it")
            break
        reports.append(report)
        expected = report.document.get("previous")
        name = expected.get("folder") if isinstance(expected, dict) else None
        if name and (Path(str(name)).name != name or name in ("", ".", "..")):
            notes.append(f"{name!r}: not a folder name; the chain stops")
            break
        folder = folder.parent / name if name else None
        if folder is not None and not folder.is_dir():
            notes.append(f"{name}: not found beside {report.name}; the chain stops")
            folder = None
    return reports, notes


def _differs(expected: dict, actual: dict) -> bool:
    return any(expected.get(k) != actual.get(k) for k in ("period", "snapshot_id", "generated_at"))


def diff_reports(previous: Path, current: Path, current_name: str | None = None) -> dict[str, object]:
    """The diff.json document of `current` beside `previous` (and the chain before it)."""
    now = Report.read(current, current_name)
    earlier, notes = chain(previous)
    return diff_document(now, earlier, notes)


def diff_document(now: Report, earlier: list[Report], notes: list[str] | None = None) -> dict[str, object]:
    """Compare `now` with `earlier[0]`; `earlier` is the chain, newest first."""
    before = earlier[0]
    reasons = comparability(before.document, now.document)
    changes = key_changes([now, *earlier])
    periods = [r.document["period"]["label"] for r in [now, *earlier]]
    old = before.controls()
    controls = []
    for summary in now.document["controls"]:
        cid = str(summary["id"])
        prior = old.get(cid)
        entry = {
            "id": cid,
            "title": summary.get("title"),
            "kind": summary.get("kind"),
            "comparison": "keys" if cid in CARRY_OVER or summary.get("kind") == "state" else "counts",
            "comparable": not reasons.get(cid),
            "not_comparable": reasons.get(cid, []),
            "before": _counts(prior),
            "now": _counts(summary),
        }
        if entry["comparison"] == "keys":
            mine = changes.get(cid, {})
            entry["new"] = mine.get("new", [])
            entry["persisting"] = [
                {"key": key, "first_seen": periods[since], "run_reaches_chain_start": since == len(earlier)}
                for key, since in mine.get("persisting", [])
            ]
            entry["resolved"] = mine.get("resolved", [])
            entry["waived"] = mine.get("waived", [])
        controls.append(entry)
    flagged = [c["id"] for c in controls if not c["comparable"]]
    return {
        "format": FORMAT,
        "previous": before.identity(),
        "current": now.identity(),
        "comparable": not flagged,
        "not_comparable": flagged,
        "differences": differences(before.document, now.document),
        "controls": controls,
        "waivers": waiver_changes(before.document, now.document),
        "trend": [
            {
                **r.identity(),
                "violations": {str(c["id"]): c.get("violations") for c in r.document["controls"]},
            }
            for r in reversed([now, *earlier])
        ],
        "notes": list(notes or []),
    }


def differences(before: dict, now: dict) -> dict[str, object]:
    """What differs between the two runs as a whole: suite version and parameters."""
    old, new = before.get("parameters") or {}, now.get("parameters") or {}
    return {
        "suite_version": None
        if before.get("suite_version") == now.get("suite_version")
        else [before.get("suite_version"), now.get("suite_version")],
        "parameters": {
            k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
        },
    }


def comparability(before: dict, now: dict) -> dict[str, list[str]]:
    """Per control of `now`, why its results cannot be read against `before` (absent: comparable)."""
    from audit_lib.controls.registry import load_controls

    changed = differences(before, now)
    binds = {c.id: set(c.parameters) for c in load_controls()}
    old = {str(c["id"]): c for c in before["controls"]}
    reasons: dict[str, list[str]] = {}
    for control in now["controls"]:
        cid = str(control["id"])
        why = []
        prior = old.get(cid)
        if prior is None:
            why.append("not in the previous report")
        elif not prior.get("definition") or not control.get("definition"):
            why.append("definition hash not recorded")
        elif prior["definition"] != control["definition"]:
            why.append("definition changed")
        used = binds.get(cid, set(changed["parameters"]))
        why += [
            f"parameter {name}: {old_value} then {new_value}"
            for name, (old_value, new_value) in changed["parameters"].items()
            if name in used
        ]
        if changed["suite_version"]:
            why.append("suite version {} then {}".format(*changed["suite_version"]))
        if why:
            reasons[cid] = why
    return reasons


def key_changes(reports: list[Report]) -> dict[str, dict[str, list]]:
    """Per control: new, persisting `(key, report index it first appeared in)`, resolved, waived keys."""
    import duckdb
    import polars as pl

    history = pl.concat(
        [
            r.evidence.select("control", "key", "outcome").with_columns(report=pl.lit(i))
            for i, r in enumerate(reports)
        ]
    )
    with duckdb.connect() as con:
        con.register("history", history)
        rows = con.execute(KEY_CHANGES).fetchall()
    changes: dict[str, dict[str, list]] = {}
    for control, key, change, since in rows:
        changes.setdefault(control, {}).setdefault(change, []).append(
            (key, since) if change == "persisting" else key
        )
    return changes


def _counts(summary: dict | None) -> dict[str, object] | None:
    if summary is None:
        return None
    population, violations = summary.get("population"), summary.get("violations")
    rate = violations / population if population and violations is not None else None
    return {
        "status": summary.get("status"),
        "population": population,
        "violations": violations,
        "exceptions": summary.get("exceptions"),
        "rate": rate,
    }


def waiver_entries(document: dict) -> list[dict] | None:
    """A findings.json's waivers, as a list of {id, control, state, covered}; None without the section."""
    section = document.get("waivers")
    if section is None:
        return None
    if isinstance(section, dict):
        section = next((v for v in section.values() if isinstance(v, list)), [])
    return [w for w in section if isinstance(w, dict) and w.get("id") is not None]


def waiver_changes(before: dict, now: dict) -> dict[str, list] | None:
    """Waivers added, expired and removed since `before`; None when neither report has waivers."""
    old, new = waiver_entries(before), waiver_entries(now)
    if old is None and new is None:
        return None
    old_by_id = {str(w["id"]): w for w in old or []}
    new_by_id = {str(w["id"]): w for w in new or []}
    return {
        "added": [w for i, w in new_by_id.items() if i not in old_by_id],
        "expired": [
            w
            for i, w in new_by_id.items()
            if w.get("state") == "expired" and (old_by_id.get(i) or {}).get("state") != "expired"
        ],
        "removed": [w for i, w in old_by_id.items() if i not in new_by_id],
    }


def write_diff(document: dict[str, object], folder: Path) -> None:
    """diff.json in a report folder being assembled."""
    write_document(document, Path(folder) / NAME)


def write_json(document: dict[str, object], path: Path) -> None:
    """The diff as a new JSON file at `path` (never overwritten)."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        with Path(path).open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise OutputExistsError(f"{path}: exists; nothing is overwritten") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write it ({exc.strerror or exc})") from None


def read_diff(path: Path) -> dict[str, object]:
    from audit_lib.findings.documents import read_document

    return read_document(path, FORMAT)


def summary_rows(document: dict) -> list[dict[str, object]]:
    """One short row per control: what a terminal or a table shows of the diff."""
    rows = []
    for c in document["controls"]:
        before, now = c.get("before") or {}, c.get("now") or {}
        if c["comparison"] == "keys":
            change = f"{len(c['new'])} new, {len(c['persisting'])} persisting, {len(c['resolved'])} resolved"
            if c.get("waived"):
                change += f", {len(c['waived'])} now waived"
        else:
            change = f"rate {_rate(before.get('rate'))} -> {_rate(now.get('rate'))}"
        rows.append({
            "id": c["id"], "kind": c["kind"],
            "violations before": before.get("violations"), "violations now": now.get("violations"),
            "change": change,
            "comparable": "yes" if c["comparable"] else "no: " + "; ".join(c["not_comparable"]),
        })  # fmt: skip
    return rows


def _rate(rate: object) -> str:
    return "-" if rate is None else f"{float(rate):.1%}"
