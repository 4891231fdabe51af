"""findings.json and evidence/<CONTROL-ID>.csv: written from Findings, read back for the report.

The evidence rows are the one source of the per-record outcomes: the CSV files
are written from `evidence_rows`, and the exceptions register is aggregated
(in DuckDB) from the same rows, whether they come from Findings just
evaluated or from the CSV files of a folder.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib import __version__
from audit_lib.findings.documents import read_document, snapshot_identity, write_document
from audit_lib.periods import iso, utc_now

if TYPE_CHECKING:
    import polars as pl

    from audit_lib.controls.evaluate import ControlResult, Findings

FORMAT = "privacy-audit/findings/1"
EVIDENCE_COLUMNS = ("key", "outcome", "reason")
#: How many keys the exceptions register shows per control and reason.
SAMPLE_KEYS = 5

EXCEPTIONS_BY_REASON = """
SELECT control, reason, count(*) AS n, list(key ORDER BY key)[1:$sample] AS first_keys
FROM evidence
WHERE outcome = 'exception'
GROUP BY control, reason
ORDER BY list_position($controls, control), reason
"""


def control_summary(result: ControlResult, with_waivers: bool = False) -> dict[str, object]:
    """A control's line of findings.json; `waived` only in an audit run with a waivers file."""
    c = result.control
    summary = {
        "id": c.id,
        "clause": c.clause,
        "title": c.title,
        "kind": c.kind,
        "key": c.key,
        "definition": c.definition_hash,
        "status": result.status,
        "population": result.population,
        "violations": len(result.violations),
        "exceptions": len(result.exceptions),
    }
    if with_waivers:
        summary["waived"] = len(result.waived)
    return summary


def findings_document(
    findings: Findings,
    previous: dict[str, object] | None = None,
    revealed: bool = False,
    settings: dict[str, object] | None = None,
) -> dict[str, object]:
    """The findings.json document; `previous` names the report it was compared with (diff.py)."""
    with_waivers = findings.waivers is not None
    document = {
        "format": FORMAT,
        "period": findings.period.to_json(),
        "as_of": iso(findings.period.as_of),
        "snapshot": snapshot_identity(findings.snapshot),
        "parameters": findings.params,
        "generated_at": iso(utc_now()),
        "suite_version": __version__,
        "controls": [control_summary(r, with_waivers) for r in findings.controls],
    }
    document["revealed"] = revealed
    if settings is not None:  # every option's value and where it came from (default, config, command line)
        document["settings"] = settings
    if with_waivers:
        document["waivers_file"] = findings.waivers["file"]
        document["waivers"] = findings.waivers["register"]
    if previous:
        document["previous"] = previous
    return document


def evidence_rows(result: ControlResult) -> list[tuple[str, str, str]]:
    """`(key, outcome, reason)` sorted by outcome then key."""
    rows = [(key, "exception", reason) for key, reason in result.exceptions]
    rows += [(key, "violation", "") for key in result.violations]
    rows += [(key, "waived", waiver_id) for key, waiver_id in result.waived]
    return sorted(rows, key=lambda row: (row[1], row[0]))


def write_findings(
    findings: Findings,
    folder: Path,
    previous: dict[str, object] | None = None,
    revealed: bool = False,
    settings: dict[str, object] | None = None,
) -> dict[str, object]:
    """Write findings.json and one evidence CSV per control into `folder` (and details, when fetched)."""
    document = findings_document(findings, previous, revealed, settings)
    write_document(document, folder / "findings.json")
    evidence = folder / "evidence"
    evidence.mkdir()
    for result in findings.controls:
        with (evidence / f"{result.control.id}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(EVIDENCE_COLUMNS)
            writer.writerows(evidence_rows(result))
    if findings.details is not None:
        write_details(findings, evidence, revealed)
    return document


def details_of(result: ControlResult, details: pl.DataFrame, revealed: bool) -> pl.DataFrame:
    """The evidence rows of one control, in their order, with the record's detail columns."""
    import polars as pl

    from audit_lib.findings.masking import mask_columns

    schema = dict.fromkeys(EVIDENCE_COLUMNS, pl.String)
    rows = pl.DataFrame(evidence_rows(result), schema=schema, orient="row")
    joined = rows.join(details, on="key", how="left", maintain_order="left")
    shown = joined if revealed else mask_columns(joined, result.control.personal)
    stamps = [c for c, t in shown.schema.items() if isinstance(t, pl.Datetime)]
    return shown.with_columns(pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ") for c in stamps)


def write_details(findings: Findings, evidence: Path, revealed: bool) -> None:
    """evidence/<ID>.details.csv: each evidence row with the columns that explain it."""
    for result in findings.controls:
        frame = details_of(result, findings.details[result.control.id], revealed)
        frame.write_csv(evidence / f"{result.control.id}.details.csv", date_format="%Y-%m-%d")


def read_details(evidence: Path, control_id: str) -> pl.DataFrame:
    """A control's details file, every column as text (as written)."""
    import polars as pl

    return pl.read_csv(evidence / f"{control_id}.details.csv", infer_schema=False)


def read_findings(path: Path) -> dict[str, object]:
    """A findings.json document, checked by its format."""
    return read_document(path, FORMAT)


def evidence_of(findings: Findings) -> pl.DataFrame:
    """Every control's evidence rows, with a `control` column, from evaluated Findings."""
    import polars as pl

    rows = [(r.control.id, *row) for r in findings.controls for row in evidence_rows(r)]
    return pl.DataFrame(rows, schema=_evidence_schema(), orient="row")


def read_evidence(folder: Path, control_ids: list[str]) -> pl.DataFrame:
    """The evidence CSV files of `folder` (those present), with a `control` column."""
    import duckdb
    import polars as pl

    files = [str(folder / f"{cid}.csv") for cid in control_ids if (folder / f"{cid}.csv").is_file()]
    if not files:
        return pl.DataFrame(schema=_evidence_schema())
    columns = {name: "VARCHAR" for name in EVIDENCE_COLUMNS}
    with duckdb.connect() as con:
        relation = con.read_csv(files, header=True, columns=columns, filename=True)
        return relation.select(
            "parse_filename(filename, true) AS control, key, outcome, coalesce(reason, '') AS reason"
        ).pl()


def exceptions_by_reason(
    evidence: pl.DataFrame, control_ids: list[str]
) -> list[tuple[str, str, int, list[str]]]:
    """(control, reason, count, first keys) in control order, aggregated in DuckDB."""
    import duckdb

    with duckdb.connect() as con:
        con.register("evidence", evidence)
        rows = con.execute(EXCEPTIONS_BY_REASON, {"sample": SAMPLE_KEYS, "controls": control_ids}).fetchall()
    return [(c, r, n, list(keys)) for c, r, n, keys in rows]


def _evidence_schema() -> dict[str, object]:
    import polars as pl

    return {"control": pl.String, "key": pl.String, "outcome": pl.String, "reason": pl.String}
