"""Waivers: accepted risks, each with a justification, an approver and an end.

A waivers file (YAML) is a list of waivers. Each waives the violations of one
control that it covers (one record key, one customer's records, or the whole
control) while it is in force: from 00:00:00Z of `approved_on` until 00:00:00Z
of `expires_on`, half-open, judged at the audit's as_of. Exceptions are never
waived (they are not violations). The file is checked, whole, before anything
runs: a JSON Schema for its shape, then what a schema cannot say (a control
the suite knows, unique ids, an expiry after the approval).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from audit_lib.findings.documents import read_yaml, refuse_faults

if TYPE_CHECKING:
    from audit_lib.controls.evaluate import ControlResult, Findings

#: The name of the waivers file inside a report folder.
FOLDER_NAME = "waivers.yaml"
#: How `covers` names the whole control.
WHOLE_CONTROL = "all"
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TEXT = {"type": "string", "pattern": r"\S"}
COVERS_HELP = f"must be {WHOLE_CONTROL!r}, {{key: KEY}} or {{customer_id: CUSTOMER_ID}}"

#: The shape of a waivers file. Dates are ISO strings here: YAML dates are turned into them first.
SCHEMA: dict[str, object] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "privacy-audit waivers file",
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "control", "covers", "justification", "approved_by", "approved_on", "expires_on"],
        "properties": {
            "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "maxLength": 64},
            "control": {"type": "string"},
            "covers": {
                "oneOf": [
                    {"const": WHOLE_CONTROL},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["key"],
                        "properties": {"key": {"type": "string", "minLength": 1}},
                    },
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["customer_id"],
                        "properties": {"customer_id": {"type": "string", "minLength": 1}},
                    },
                ]
            },
            "justification": TEXT,
            "approved_by": TEXT,
            "approved_on": {"type": "string", "format": "date", "pattern": ISO_DATE},
            "expires_on": {"type": "string", "format": "date", "pattern": ISO_DATE},
            "ticket": TEXT,
        },
    },
}

STATES = ("active", "unused", "expired", "not yet in force")


@dataclass(frozen=True)
class Waiver:
    id: str
    control: str
    covers: str | dict[str, str]
    justification: str
    approved_by: str
    approved_on: date
    expires_on: date
    ticket: str | None = None

    @property
    def starts(self) -> datetime:
        """00:00:00Z of the approval date: the first instant in force."""
        return datetime.combine(self.approved_on, time(), UTC)

    @property
    def ends(self) -> datetime:
        """00:00:00Z of the expiry date: the first instant no longer in force."""
        return datetime.combine(self.expires_on, time(), UTC)

    def in_force(self, as_of: datetime) -> bool:
        return self.starts <= as_of < self.ends

    def state_at(self, as_of: datetime) -> str:
        """`expired` or `not yet in force` outside its span; in force, `active` until told unused."""
        if as_of < self.starts:
            return "not yet in force"
        if as_of >= self.ends:
            return "expired"
        return "active"

    @property
    def specificity(self) -> int:
        """Where two waivers cover one violation, the narrower one names it: key, customer, control."""
        if self.covers == WHOLE_CONTROL:
            return 2
        return 0 if "key" in self.covers else 1

    def matches(self, key: str, customer_id: str | None) -> bool:
        if self.covers == WHOLE_CONTROL:
            return True
        if "key" in self.covers:
            return self.covers["key"] == key
        return customer_id is not None and self.covers["customer_id"] == customer_id

    def describe_covers(self) -> str:
        if self.covers == WHOLE_CONTROL:
            return "the whole control"
        if "key" in self.covers:
            return f"key {self.covers['key']}"
        return f"customer {self.covers['customer_id']}"


@dataclass(frozen=True)
class WaiverFile:
    """A validated waivers file: its waivers, and the exact bytes read (copied, hashed)."""

    path: Path
    content: bytes
    waivers: tuple[Waiver, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def identity(self) -> dict[str, str]:
        return {"name": FOLDER_NAME, "sha256": self.sha256}

    def copy_into(self, folder: Path) -> Path:
        """Write the bytes that were validated (not the file as it is now) into `folder`."""
        target = folder / FOLDER_NAME
        target.write_bytes(self.content)
        return target


def load_waivers(path: Path | str, control_ids: list[str] | None = None) -> WaiverFile:
    """Read and validate a waivers file; any fault is a UsageError naming the waiver and field."""
    path = Path(path)
    content, data = read_yaml(path, "waivers file")
    if control_ids is None:
        from audit_lib.controls.registry import load_controls

        control_ids = [c.id for c in load_controls()]
    refuse_faults(check(data, control_ids), "waivers file", path)
    return WaiverFile(path, content, tuple(_waiver(item) for item in data))


def check(data: object, control_ids: list[str]) -> list[str]:
    """Every fault of a parsed waivers file, each naming the waiver (id or position) and field."""
    import jsonschema

    if not isinstance(data, list):
        kind = "empty" if data is None else f"a {_kind(data)}"
        return [f"the file must be a YAML list of waivers, not {kind}"]
    data = [_plain(item) for item in data]
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    faults: list[str] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if not path:  # pragma: no cover - the top level is a list, checked above
            faults.append(error.message)
            continue
        item = data[path[0]]
        faults.extend(f"{_name(item, path[0])}: {text}" for text in _describe(error, item, path[1:]))
    items = [(n, item) for n, item in enumerate(data) if isinstance(item, dict)]
    seen: dict[str, int] = {}
    for n, item in items:
        waiver_id = item.get("id")
        if isinstance(waiver_id, str):
            if waiver_id in seen:
                faults.append(f"{_name(item, n)}: field id: duplicate of waiver #{seen[waiver_id] + 1}")
            seen.setdefault(waiver_id, n)
        control = item.get("control")
        if isinstance(control, str) and control not in control_ids:
            faults.append(f"{_name(item, n)}: field control: unknown control {control!r}")
        approved, expires = _date(item.get("approved_on")), _date(item.get("expires_on"))
        if approved and expires and expires <= approved:
            faults.append(
                f"{_name(item, n)}: field expires_on: {expires} is not after approved_on {approved}"
            )
    return list(dict.fromkeys(faults))  # one line per fault, however many schema rules it breaks


def _describe(error: object, item: object, fields: list[object]) -> list[str]:
    """A schema error in words: which field, what is wrong."""
    validator = error.validator  # type: ignore[attr-defined]
    if not fields:
        if validator == "required":
            missing = [f for f in error.validator_value if f not in item]  # type: ignore[attr-defined]
            return [f"field {f}: missing" for f in missing]
        if validator == "additionalProperties":
            known = SCHEMA["items"]["properties"]  # type: ignore[index]
            return [f"field {f}: unknown field" for f in item if f not in known]
        if validator == "type":
            return [f"must be a mapping of fields, not {_kind(item)}"]
        return [error.message]  # type: ignore[attr-defined]  # pragma: no cover
    field_name = str(fields[0])
    value = item[fields[0]] if isinstance(item, dict) else None
    if field_name == "covers":
        return [f"field covers: {COVERS_HELP}, not {value!r}"]
    if field_name in ("approved_on", "expires_on"):
        return [f"field {field_name}: {value!r} is not a date (YYYY-MM-DD)"]
    if validator == "type":
        return [f"field {field_name}: must be text, not {_kind(value)}"]
    if validator == "pattern" and field_name == "id":
        return [f"field id: {value!r} must be letters, digits, '.', '_' or '-'"]
    if validator in ("pattern", "minLength"):
        return [f"field {field_name}: empty"]
    return [f"field {field_name}: {error.message}"]  # type: ignore[attr-defined]


def _name(item: object, n: int) -> str:
    waiver_id = item.get("id") if isinstance(item, dict) else None
    return f"waiver {waiver_id} (#{n + 1})" if isinstance(waiver_id, str) else f"waiver #{n + 1}"


def _kind(value: object) -> str:
    names = {dict: "mapping", list: "list", str: "text", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _plain(item: object) -> object:
    """YAML's dates as ISO strings (what the schema checks); a datetime is not a date."""
    if not isinstance(item, dict):
        return item
    plain = {}
    for name, value in item.items():
        plain[name] = value.isoformat() if isinstance(value, date) else value
    return plain


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _waiver(item: dict[str, object]) -> Waiver:
    return Waiver(
        id=str(item["id"]),
        control=str(item["control"]),
        covers=item["covers"],  # type: ignore[arg-type]
        justification=str(item["justification"]),
        approved_by=str(item["approved_by"]),
        approved_on=_date(item["approved_on"]),  # type: ignore[arg-type]
        expires_on=_date(item["expires_on"]),  # type: ignore[arg-type]
        ticket=str(item["ticket"]) if item.get("ticket") is not None else None,
    )


def apply_waivers(findings: Findings, waivers: WaiverFile) -> Findings:
    """`findings` with each violation a waiver in force covers moved to `waived`, and the register.

    A violation two waivers in force cover is waived by the narrower (key, then
    customer, then whole control), then by the first in the file.
    """
    as_of = findings.period.as_of
    in_force = [w for w in waivers.waivers if w.in_force(as_of)]
    ranked = sorted(in_force, key=lambda w: w.specificity)  # stable: file order within a rank
    waived_by: dict[str, list[str]] = {w.id: [] for w in waivers.waivers}
    results = []
    for result in findings.controls:
        candidates = [w for w in ranked if w.control == result.id]
        remaining, waived = [], []
        for key in result.violations:
            waiver = next((w for w in candidates if w.matches(key, result.customers.get(key))), None)
            if waiver is None:
                remaining.append(key)
            else:
                waived.append((key, waiver.id))
                waived_by[waiver.id].append(key)
        results.append(replace(result, violations=remaining, waived=waived))
    register = [_entry(w, as_of, waived_by[w.id], findings) for w in waivers.waivers]
    section = {"file": waivers.identity(), "register": register}
    return replace(findings, controls=results, waivers=section)


def _entry(waiver: Waiver, as_of: datetime, waived: list[str], findings: Findings) -> dict[str, object]:
    """One waiver of the register; `keys`: what it waived, or (not in force) what it would cover."""
    state = waiver.state_at(as_of)
    if state == "active":
        keys = waived
        if not keys:
            state = "unused"
    else:
        result: ControlResult = findings.result(waiver.control)
        keys = [k for k in result.violations if waiver.matches(k, result.customers.get(k))]
    return {
        "id": waiver.id,
        "control": waiver.control,
        "covers": waiver.covers,
        "state": state,
        "waived": len(waived),
        "keys": sorted(keys),
        "justification": waiver.justification,
        "approved_by": waiver.approved_by,
        "approved_on": waiver.approved_on.isoformat(),
        "expires_on": waiver.expires_on.isoformat(),
        "ticket": waiver.ticket,
    }
