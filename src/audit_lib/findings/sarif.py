"""SARIF 2.1.0 of a report folder, for code-scanning dashboards.

One run of the tool `privacy-audit`: its rules are the controls (id, title,
explanation, clause), its results the violations, each with its record key as
a logical location (`<control>/<key>`), and the waived violations as results
with an accepted external suppression naming the waiver and its
justification. Exceptions are not results: they meet an exemption of the
policy. Validated in the tests against the published schema
(tests/schemas/sarif-2.1.0.json).
"""

from __future__ import annotations

import json
from pathlib import Path

from audit_lib import __version__
from audit_lib.findings.junit import outcome_keys
from audit_lib.findings.quarterly import read_findings

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
VERSION = "2.1.0"


def sarif_document(folder: Path) -> dict[str, object]:
    """The SARIF log of the report folder `folder`."""
    from audit_lib.controls.registry import load_controls

    folder = Path(folder)
    document = read_findings(folder / "findings.json")
    defined = {c.id: c for c in load_controls()}
    waivers = {str(w.get("id")): w for w in document.get("waivers") or []}
    label = str((document.get("period") or {}).get("label", ""))
    rules, results = [], []
    for index, control in enumerate(document["controls"]):
        cid = str(control["id"])
        definition = defined.get(cid)
        explanation = " ".join((definition.explanation if definition else control.get("title", "")).split())
        rules.append(
            {
                "id": cid,
                "name": str(control.get("title", cid)),
                "shortDescription": {"text": str(control.get("title", cid))},
                "fullDescription": {"text": explanation or str(control.get("title", cid))},
                "help": {"text": f"Privacy policy {control.get('clause', '')}: {explanation}"},
                "defaultConfiguration": {"level": "error"},
                "properties": {
                    "clause": control.get("clause"),
                    "kind": control.get("kind"),
                    "key": control.get("key"),
                    "population": control.get("population"),
                    "tags": ["privacy", "gdpr"],
                },
            }
        )
        rows = outcome_keys(folder, cid)
        for key, _ in rows.get("violation", []):
            results.append(_result(cid, index, control, key, "violation"))
        for key, waiver_id in rows.get("waived", []):
            result = _result(cid, index, control, key, "waived")
            waiver = waivers.get(waiver_id, {})
            suppression = {
                "kind": "external",
                "status": "accepted",
                "justification": str(waiver.get("justification") or f"waiver {waiver_id}"),
                "properties": {
                    "waiver": waiver_id,
                    "approved_by": waiver.get("approved_by"),
                    "expires_on": waiver.get("expires_on"),
                },
            }
            result["suppressions"] = [suppression]
            results.append(result)
    snapshot = document.get("snapshot") or {}
    run = {
        "tool": {
            "driver": {
                "name": "privacy-audit",
                "version": str(document.get("suite_version") or __version__),
                "semanticVersion": str(document.get("suite_version") or __version__),
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"privacy-audit/quarterly/{label}/{snapshot.get('id', '')}"},
        "invocations": [
            {
                "executionSuccessful": True,
                "endTimeUtc": document.get("generated_at"),
                "properties": {"period": document.get("period"), "as_of": document.get("as_of")},
            }
        ],
        "results": results,
        "properties": {"snapshot": snapshot, "parameters": document.get("parameters"), "report": folder.name},
    }
    if not run["invocations"][0]["endTimeUtc"]:
        del run["invocations"][0]["endTimeUtc"]
    return {"$schema": SCHEMA_URI, "version": VERSION, "runs": [run]}


def _result(cid: str, index: int, control: dict, key: str, outcome: str) -> dict[str, object]:
    return {
        "ruleId": cid,
        "ruleIndex": index,
        "kind": "fail",
        "level": "error",
        "message": {
            "text": f"{cid} {outcome}: {control.get('key', 'key')} {key} ({control.get('title', '')})"
        },
        "locations": [
            {
                "logicalLocations": [
                    {"name": key, "fullyQualifiedName": f"{cid}/{key}", "kind": "object"},
                ]
            }
        ],
        "partialFingerprints": {"controlKey/v1": f"{cid}/{key}"},
    }


def sarif_bytes(folder: Path) -> bytes:
    return (json.dumps(sarif_document(folder), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
