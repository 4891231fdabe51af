"""The declared record of processing activities (GDPR Art. 30): its file, checks and ropa.csv.

`run quarterly --ropa FILE` reads a YAML file: the controller's details
(Art. 30(1)(a)) and one entry per processing activity (a purpose of policy §3)
with the categories, recipients, third countries, safeguards and retention
the company declares. It is checked (the JSON Schema `SCHEMA`, then duplicate
purposes) before anything runs; a fault is exit 2 naming the entry and the
field. The observed record (figures/sql/ropa.sql) is compared with it by the
ROPA-NN controls (controls/ropa/), whose results join findings.json after
the controls of controls.md.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.findings.documents import read_yaml, refuse_faults
from audit_lib.ingest.schema import TABLE_BY_NAME

if TYPE_CHECKING:
    import polars as pl

#: The name the declared file is copied to in a report folder.
COPIED_NAME = "ropa-declared.yaml"
CSV_NAME = "ropa.csv"
CONTROLLER_FIELDS = ("name", "contact", "dpo", "representative")


def _enum(table: str, column: str) -> list[str]:
    return list(next(c for c in TABLE_BY_NAME[table].columns if c.name == column).enum or ())


PURPOSES = _enum("personal_data", "purpose")
CATEGORIES = _enum("personal_data", "category")
PARTY_KINDS = _enum("parties", "kind")
SAFEGUARDS = ["adequacy", "scc", "bcr"]

_TEXT = {"type": "string", "minLength": 1}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["activities"],
    "properties": {
        "controller": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "contact"],
            "properties": {name: _TEXT for name in CONTROLLER_FIELDS},
        },
        "activities": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["purpose", "categories"],
                "properties": {
                    "purpose": {"enum": PURPOSES},
                    "description": _TEXT,
                    "categories": {"type": "array", "items": {"enum": CATEGORIES}, "uniqueItems": True},
                    "recipients": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "party": _TEXT,
                                "kind": {"enum": PARTY_KINDS},
                                "safeguard": {"enum": SAFEGUARDS},
                            },
                            "oneOf": [{"required": ["party"]}, {"required": ["kind"]}],
                            "not": {"required": ["kind", "safeguard"]},
                        },
                    },
                    "third_countries": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
                        "uniqueItems": True,
                    },
                    "retention_years": {"type": "integer", "minimum": 0},
                    "security": _TEXT,
                },
            },
        },
    },
}


@dataclass(frozen=True)
class DeclaredRopa:
    """A declared RoPA file as read (its bytes, for the copy and the hash) and parsed."""

    path: Path
    content: bytes
    controller: dict[str, str]
    activities: tuple[dict[str, object], ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def copy_into(self, folder: Path) -> None:
        (folder / COPIED_NAME).write_bytes(self.content)

    def tables(self) -> dict[str, list[tuple]]:
        """The declaration as rows of the tables the ROPA controls read (registered as declared_*)."""
        activities, categories, recipients, countries = [], [], [], []
        for a in self.activities:
            purpose = str(a["purpose"])
            activities.append((purpose, a.get("retention_years")))
            categories += [(purpose, str(c)) for c in a.get("categories") or ()]
            recipients += [
                (purpose, r.get("party"), r.get("kind"), r.get("safeguard"))
                for r in a.get("recipients") or ()
            ]
            countries += [(purpose, str(c)) for c in a.get("third_countries") or ()]
        return {
            "declared_activities": activities,
            "declared_categories": categories,
            "declared_recipients": recipients,
            "declared_countries": countries,
        }


#: Columns (name, DuckDB type) of each declared_* table.
DECLARED_COLUMNS = {
    "declared_activities": (("purpose", "VARCHAR"), ("retention_years", "INTEGER")),
    "declared_categories": (("purpose", "VARCHAR"), ("category", "VARCHAR")),
    "declared_recipients": (
        ("purpose", "VARCHAR"),
        ("party", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("safeguard", "VARCHAR"),
    ),
    "declared_countries": (("purpose", "VARCHAR"), ("country", "VARCHAR")),
}


def load_declared(path: Path) -> DeclaredRopa:
    """Read and check a declared RoPA file; any fault is a UsageError naming the entry and field."""
    path = Path(path)
    content, data = read_yaml(path, "RoPA file")
    refuse_faults(check(data), "RoPA file", path)
    return DeclaredRopa(path, content, dict(data.get("controller") or {}), tuple(data["activities"]))


def check(data: object) -> list[str]:
    """Every fault of a parsed RoPA file, each naming the entry (purpose or position) and the field."""
    import jsonschema

    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        return [f"the file must be a YAML mapping with `activities`, not {kind}"]
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path])
    faults = [_fault(data, error) for error in errors]
    if faults:
        return faults
    seen: dict[str, int] = {}
    for position, activity in enumerate(data["activities"], 1):
        purpose = activity["purpose"]
        if purpose in seen:
            first = seen[purpose]
            faults.append(
                f"activity {position} ({purpose}): field purpose: declared twice (also activity {first})"
            )
        seen.setdefault(purpose, position)
    return faults


def _fault(data: dict, error: object) -> str:
    path = list(error.path)  # type: ignore[attr-defined]
    message = error.message  # type: ignore[attr-defined]
    if len(path) >= 2 and path[0] == "activities" and isinstance(path[1], int):
        entry = data["activities"][path[1]]
        purpose = entry.get("purpose") if isinstance(entry, dict) else None
        named = f"activity {path[1] + 1}" + (f" ({purpose})" if isinstance(purpose, str) else "")
        field = ".".join(str(p) for p in path[2:]) or _missing_field(message)
        return f"{named}: field {field}: {message}"
    if path[:1] == ["controller"] or (not path and "controller" in message):
        return f"controller: field {'.'.join(str(p) for p in path[1:]) or _missing_field(message)}: {message}"
    return f"{'.'.join(str(p) for p in path) or 'file'}: {message}"


def _missing_field(message: str) -> str:
    """The property a 'required' or 'additional properties' message names, else '(entry)'."""
    import re

    found = re.findall(r"'([^']+)'", message)
    return found[0] if found else "(entry)"


def controller_rows(declared: DeclaredRopa | None) -> list[dict[str, object]]:
    """Art. 30(1)(a) rows of ropa.csv: the controller's details, or that none were given."""
    given = declared.controller if declared is not None else {}
    return [
        {"purpose": "", "article": "30(1)(a)", "element": f"controller_{name}",
         "value": given.get(name) or "not given"}
        for name in CONTROLLER_FIELDS
    ]  # fmt: skip


def write_ropa(observed: pl.DataFrame, declared: DeclaredRopa | None, folder: Path) -> Path:
    """ropa.csv: the controller's rows, then the observed record, one row per purpose, element and value."""
    columns = observed.columns
    path = folder / CSV_NAME
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in controller_rows(declared):
            writer.writerow(row)
        for row in observed.iter_rows(named=True):
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return path


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return value
