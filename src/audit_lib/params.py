"""The parameters of controls.md, their defaults and parsing of `k=v`."""

from __future__ import annotations

import json

from audit_lib.errors import UsageError

DEFAULTS: dict[str, int] = {
    "retention_years": 10,
    "grace_days": 365,
    "response_days": 30,
    "notice_days": 30,
    "min_age": 13,
}

#: Years and days beyond this are typing errors, and would overflow calendar arithmetic.
MAXIMUM = 10_000


def resolve(overrides: dict[str, object] | None = None) -> dict[str, int]:
    """Defaults with `overrides` applied; unknown names and bad values are refused."""
    params = dict(DEFAULTS)
    for name, value in (overrides or {}).items():
        if name not in DEFAULTS:
            raise UsageError(f"unknown parameter {name!r} (known: {', '.join(DEFAULTS)})")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise UsageError(f"parameter {name} must be a whole number, not {value!r}") from None
        if not 0 <= number <= MAXIMUM:
            raise UsageError(f"parameter {name} must be between 0 and {MAXIMUM}, not {number}")
        params[name] = number
    return params


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`["grace_days=180"]` -> `{"grace_days": "180"}`."""
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param takes name=value, not {item!r}")
        if name.strip() in pairs:
            raise UsageError(f"--param {name.strip()} given twice; give each parameter once")
        pairs[name.strip()] = value
    return pairs


def parse_json(params: str | dict[str, object] | None) -> dict[str, int]:
    """A notebook's `params` parameter (JSON text or a dict) resolved against the defaults."""
    if isinstance(params, str):
        try:
            params = json.loads(params or "{}")
        except json.JSONDecodeError as exc:
            raise UsageError(f"params is not JSON: {exc}") from None
    if not isinstance(params, dict | None):
        raise UsageError("params must be a JSON object of control parameters")
    return resolve(params)
