"""The investigation folder: investigation.json, the executed notebook, its HTML, the manifest."""

from __future__ import annotations

import json
from pathlib import Path

from audit_lib.errors import UsageError
from audit_lib.findings.documents import write_document
from audit_lib.findings.investigation import investigate
from audit_lib.findings.manifest import write_manifest
from audit_lib.folders import assembled, dated_folder, refuse_non_empty
from audit_lib.runs.notebooks import INVESTIGATION, prewarm

#: Where investigate.ipynb finds the document: beside itself, in the folder.
DOCUMENT = "investigation.json"


def run_investigation(
    snapshot: Path,
    dispute_id: str | None,
    customer_id: str | None,
    as_of: str | None,
    reveal: bool,
    out: Path | None,
    params: dict,
) -> Path:
    """Write the investigation folder and return it.

    Everything that can be refused (unknown dispute or customer, a dispute with
    no customer, bad snapshot, bad as_of, taken folder) is refused before
    anything is written; a dispute with no customer is refused with its deadline.
    """
    snapshot = Path(snapshot).resolve()
    if out is not None:
        refuse_non_empty(out)
    prewarm(len(INVESTIGATION))  # the kernel starts and imports while DuckDB investigates
    document = investigate(snapshot, dispute_id, customer_id, as_of, params, reveal=reveal)
    if document["dispute"] and document["customer"] is None:
        raise UsageError(no_customer_message(document["dispute"], document["as_of"]))
    folder = out or dated_folder("investigation", str(dispute_id or customer_id), "{today}")
    with assembled(folder) as tmp:
        write_document(document, tmp / DOCUMENT)
        render_investigation(snapshot, document, tmp, folder.resolve())
        write_manifest(tmp)
    return folder


def no_customer_message(dispute: dict, as_of: str) -> str:
    """The refusal for a complaint from a non-customer, with what staff need: the deadline."""
    left = "" if dispute["days_left"] is None else f", {dispute['days_left']} day(s) left"
    return (
        f"dispute {dispute['id']} has no customer (customer_id is NULL): no customer to judge, "
        f"nothing written. Received {dispute['received_at']}, response due {dispute['deadline']}: "
        f"{dispute['status']}{left} at {as_of}."
    )


def render_investigation(snapshot: Path, document: dict, tmp: Path, folder: Path) -> None:
    """Execute investigate.ipynb over the written document and render investigation.html."""
    from audit_lib.report.render import render_report
    from audit_lib.runs.notebooks import INVESTIGATION, execute

    dispute, customer = document["dispute"], document["customer"]
    parameters = {
        "snapshot": str(snapshot),
        "snapshot_id": document["snapshot"]["id"],
        "dispute_id": dispute["id"] if dispute else "",
        "customer_id": "" if dispute else customer["id"],
        "as_of": document["as_of"],
        "reveal": bool(document["revealed"]),
        "params": json.dumps(document["parameters"]),
        "investigation": DOCUMENT,
    }
    executed = execute(INVESTIGATION, tmp, parameters, folder)
    subject = f"complaint {dispute['id']}" if dispute else f"customer {customer['id']}"
    render_report(executed, tmp / "investigation.html", title=f"Investigation of {subject}")
