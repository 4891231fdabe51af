"""privacy-audit.toml: what an audit team sets once, with command-line options taking precedence.

The file is found in the working directory or given with `--config FILE`.
Every key is checked (a JSON Schema): an unknown key or a bad value is a
UsageError naming it. `Settings.resolve` merges, for each option, the command
line over the file over the default, and remembers where each value came from,
so findings.json and the report can state it.

```toml
[run]
reports = "reports"            # the folder default report folders go into
waivers = "waivers.yaml"       # paths are relative to the config file's folder
ropa = "declared-ropa.yaml"
previous = "reports/2026-Q2_2026-07-03_3393e80a18bf"

[parameters]                   # controls.md's parameters
grace_days = 180
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from audit_lib.errors import UsageError
from audit_lib.params import DEFAULTS, MAXIMUM

NAME = "privacy-audit.toml"
DEFAULT, CONFIG, COMMAND_LINE = "default", "config", "command line"

#: Options of `run quarterly` the file may set; each a path unless listed in FLAGS or WORDS.
PATHS = ("reports", "waivers", "ropa", "previous", "junit", "sarif", "controller")
FLAGS = ("reveal", "pdf", "xlsx", "notebooks")
WORDS = {"fail_on": ("violations", "new-violations", "expired-waivers"), "engine": ("duckdb", "spark")}
TEXT = ("spark_master", "spark_remote")

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "run": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **{name: {"type": "string", "minLength": 1} for name in (*PATHS, *TEXT)},
                **{name: {"type": "boolean"} for name in FLAGS},
                **{name: {"enum": list(values)} for name, values in WORDS.items()},
                "fail_on": {
                    "anyOf": [
                        {"enum": list(WORDS["fail_on"])},
                        {"type": "array", "items": {"enum": list(WORDS["fail_on"])}},
                    ]
                },
            },
        },
        "parameters": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: {"type": "integer", "minimum": 0, "maximum": MAXIMUM} for name in DEFAULTS},
        },
    },
}


@dataclass(frozen=True)
class Settings:
    """A config file's values (paths made absolute), or none."""

    path: Path | None = None
    run: dict[str, object] = field(default_factory=dict)
    parameters: dict[str, int] = field(default_factory=dict)

    def option(self, name: str, given: object, default: object = None) -> tuple[object, str]:
        """(value, source) of one option: the command line over the file over the default."""
        if given is not None:
            return given, COMMAND_LINE
        if name in self.run:
            return self.run[name], CONFIG
        return default, DEFAULT

    def resolve_parameters(self, given: dict[str, object]) -> tuple[dict[str, object], dict[str, str]]:
        """controls.md's parameters: overrides to apply, and where each of the five came from."""
        merged = {**self.parameters, **given}
        sources = {
            name: COMMAND_LINE if name in given else CONFIG if name in self.parameters else DEFAULT
            for name in DEFAULTS
        }
        return merged, sources


def load_settings(explicit: Path | None = None, cwd: Path | None = None) -> Settings:
    """The settings of `explicit`, else of ./privacy-audit.toml when it exists, else none."""
    path = explicit or (Path(cwd or Path.cwd()) / NAME)
    if explicit is None and not path.is_file():
        return Settings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not TOML ({exc})") from None
    check(document, path)
    base = path.resolve().parent
    run = dict(document.get("run", {}))
    for name in PATHS:
        if name in run:
            run[name] = (base / str(run[name])).resolve()
    if isinstance(run.get("fail_on"), str):  # one condition or a list of them
        run["fail_on"] = [run["fail_on"]]
    return Settings(path.resolve(), run, dict(document.get("parameters", {})))


def check(document: dict, path: Path) -> None:
    """Refuse what the schema does not allow, naming the key (first fault first)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    lines = []
    for error in errors:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        if error.validator == "additionalProperties":
            known = ", ".join(sorted(error.schema.get("properties", {})))
            unknown = ", ".join(sorted(set(error.instance) - set(error.schema.get("properties", {}))))
            lines.append(f"{where}: unknown key(s) {unknown} (known: {known})")
        else:
            lines.append(f"{where}: {error.message}")
    raise UsageError(f"{path}: " + "; ".join(lines))
