"""JUnit XML of a report folder, for CI: one testcase per control.

A control with violations fails (message: the counts and the first keys; the
body lists more keys and names the evidence file); a control whose population
is empty is skipped ("nothing to judge"); otherwise it passes. Waived
violations never fail a testcase (they are counted in the message). Every
text is made XML-1.0-safe (`xmltext`).
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

from audit_lib.findings.quarterly import read_findings
from audit_lib.findings.xmltext import xml_text

#: Keys named in a failure's message, and in its body.
MESSAGE_KEYS = 5
BODY_KEYS = 50


def outcome_keys(folder: Path, control_id: str) -> dict[str, list[tuple[str, str]]]:
    """A control's evidence rows of `folder` by outcome: `(key, reason)` in file order."""
    rows: dict[str, list[tuple[str, str]]] = {}
    path = Path(folder) / "evidence" / f"{control_id}.csv"
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                rows.setdefault(row.get("outcome") or "", []).append(
                    (row.get("key") or "", row.get("reason") or "")
                )
    return rows


def junit_xml(folder: Path) -> bytes:
    """The JUnit document (UTF-8 bytes) of the report folder `folder`."""
    folder = Path(folder)
    document = read_findings(folder / "findings.json")
    label = str((document.get("period") or {}).get("label", ""))
    snapshot = document.get("snapshot") or {}
    controls = document["controls"]
    failures = sum(1 for c in controls if (c.get("violations") or 0) > 0)
    skipped = sum(1 for c in controls if not c.get("violations") and not c.get("population"))
    suites = ET.Element("testsuites", name="privacy-audit", tests=str(len(controls)),
                        failures=str(failures), errors="0", skipped=str(skipped))  # fmt: skip
    suite = ET.SubElement(
        suites, "testsuite", name=xml_text(f"privacy-audit quarterly {label}"), tests=str(len(controls)),
        failures=str(failures), errors="0", skipped=str(skipped),
        timestamp=xml_text(document.get("generated_at")), time="0",
    )  # fmt: skip
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("period", label),
        ("as_of", document.get("as_of")),
        ("snapshot_id", snapshot.get("id")),
        ("snapshot_sha256", snapshot.get("sha256")),
        ("report", folder.name),
        ("suite_version", document.get("suite_version")),
    ):
        ET.SubElement(properties, "property", name=name, value=xml_text(value))
    for control in controls:
        cid = str(control["id"])
        case = ET.SubElement(
            suite, "testcase", classname=xml_text(f"privacy-audit.{label}"),
            name=xml_text(f"{cid} {control.get('title', '')}"), time="0",
        )  # fmt: skip
        violations, population = control.get("violations") or 0, control.get("population") or 0
        counts = _counts(control)
        if violations:
            keys = [key for key, _ in outcome_keys(folder, cid).get("violation", [])]
            first = ", ".join(keys[:MESSAGE_KEYS]) + (", ..." if len(keys) > MESSAGE_KEYS else "")
            failure = ET.SubElement(case, "failure", type="violation",
                                    message=xml_text(f"{counts}; first keys: {first}"))  # fmt: skip
            more = f"\n... and {len(keys) - BODY_KEYS:,} more" if len(keys) > BODY_KEYS else ""
            failure.text = xml_text(
                f"{cid} ({control.get('clause', '')}): {counts}\n"
                + "\n".join(keys[:BODY_KEYS]) + more + f"\nevery record: evidence/{cid}.csv"
            )  # fmt: skip
        elif not population:
            ET.SubElement(case, "skipped", message="nothing to judge (population 0)")
        else:
            ET.SubElement(case, "system-out").text = xml_text(counts)
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def _counts(control: dict) -> str:
    text = (
        f"{control.get('violations') or 0:,} violation(s) of {control.get('population') or 0:,} judged, "
        f"{control.get('exceptions') or 0:,} exception(s)"
    )
    if "waived" in control:
        text += f", {control.get('waived') or 0:,} waived"
    return text
