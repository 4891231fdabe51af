"""The controls of controls.md, one SQL file each, loaded in spec order.

A control file is a YAML header in a leading block comment and a query. The
query returns one row per member of the control's population with columns
`key`, `customer_id`, `breaks` (the rule is broken) and `exemption` (the
first exemption the record meets, or NULL). Parameters are bound by name
(`$as_of`, `$start`, `$end`, `$retention_years`, ...), never pasted in.

Adding a control is adding a file `NN_<ID>.sql` to `sql/`. The queries speak
the vocabulary of `controls.vocabulary`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from audit_lib.errors import AuditError

SQL_DIR = Path(__file__).parent / "sql"
#: The controls the suite adds beyond controls.md: the RoPA reconciliation (run with --ropa only).
ROPA_DIR = Path(__file__).parent / "ropa"
HEADER = re.compile(r"^\s*/\*(?P<header>.*?)\*/(?P<query>.*)$", re.DOTALL)
PARAMETER = re.compile(r"\$([a-z_]+)")
REQUIRED = ("id", "clause", "title", "kind", "key", "explanation")
#: Names the evidence files already use: no detail column may take them.
RESERVED_DETAILS = ("key", "outcome", "reason", "customer_id")


class ControlDefinitionError(AuditError):
    """A malformed control file; names the file."""

    exit_code = 1


@dataclass(frozen=True)
class Control:
    id: str
    clause: str
    title: str
    kind: str
    key: str
    explanation: str
    query: str
    exemptions: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    #: Columns of the query, beyond key and customer_id, that explain one record (evidence details).
    details: tuple[str, ...] = ()
    #: The detail column that breaks the records down best (system, party, kind, ...).
    breakdown: str | None = None
    #: Detail columns holding personal values (free text, birth dates): masked unless revealed.
    personal: tuple[str, ...] = ()
    #: The control file's whole text as it was parsed (header and query).
    text: str = field(default="", repr=False, compare=False)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names the query binds, in order of first use."""
        return query_parameters(self.query)

    @property
    def definition_hash(self) -> str:
        """sha256 of the control file's text as parsed, header included (the query alone without one).

        The text is read with universal newlines, so a checkout's line endings do not change it.
        """
        return hashlib.sha256((self.text or self.query).encode("utf-8")).hexdigest()


def query_parameters(sql: str) -> tuple[str, ...]:
    """The `$name` parameters a query binds, in order of first use."""
    return tuple(dict.fromkeys(PARAMETER.findall(sql)))


def parse_control(path: Path) -> Control:
    text = path.read_text(encoding="utf-8")
    match = HEADER.match(text)
    if not match:
        raise ControlDefinitionError(f"{path}: no /* header */ before the query")
    try:
        header = yaml.safe_load(match["header"]) or {}
    except yaml.YAMLError as exc:
        raise ControlDefinitionError(f"{path}: header is not YAML: {exc}") from None
    missing = [name for name in REQUIRED if not header.get(name)]
    if missing:
        raise ControlDefinitionError(f"{path}: header lacks {', '.join(missing)}")
    if header["kind"] not in ("state", "event"):
        raise ControlDefinitionError(f"{path}: kind must be state or event")
    fields = {name: str(header[name]).strip() for name in REQUIRED}
    exemptions = {str(k): str(v) for k, v in (header.get("exemptions") or {}).items()}
    details = tuple(str(c) for c in header.get("details") or ())
    personal = tuple(str(c) for c in header.get("personal") or ())
    breakdown = header.get("breakdown")
    unknown = [c for c in (*personal, *([breakdown] if breakdown else [])) if c not in details]
    unknown += [c for c in details if c in RESERVED_DETAILS]
    if unknown:
        raise ControlDefinitionError(
            f"{path}: bad details (reserved, or personal/breakdown not in details): {unknown}"
        )
    return Control(
        **fields, exemptions=exemptions, query=match["query"].strip(), path=path, text=text,
        details=details, breakdown=breakdown, personal=personal,
    )  # fmt: skip


@cache
def load_controls(directory: Path = SQL_DIR) -> tuple[Control, ...]:
    """Every control, in the order of its file names (the order of controls.md)."""
    controls = tuple(parse_control(path) for path in sorted(directory.glob("*.sql")))
    seen: set[str] = set()
    for control in controls:
        if control.id in seen:
            raise ControlDefinitionError(f"{control.path}: duplicate control id {control.id}")
        seen.add(control.id)
    return controls


def control_by_id(control_id: str) -> Control:
    for control in (*load_controls(), *load_controls(ROPA_DIR)):
        if control.id == control_id:
            return control
    raise AuditError(f"unknown control {control_id!r}")
