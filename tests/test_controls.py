"""The controls of controls.md against hand-written cases.

Each `control_cases/<CONTROL-ID>.yaml` holds cases written from the spec:
partial rows per table (tests/builders.py fills in the rest), a period,
optional parameters, and the population, violations and exceptions that
controls.md says the control must report for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from builders import make_snapshot

CASES_DIR = Path(__file__).parent / "control_cases"
CONTROLS_MD = Path(__file__).resolve().parents[2] / "shared" / "spec" / "controls.md"

#: The controls of controls.md in its order, each with its exemptions in the
#: order listed (the first one a record meets names it).
SPEC: dict[str, tuple[str, ...]] = {
    "RET-01": ("access_log", "indefinite_hold"),
    "RET-02": ("legal_retention", "access_log", "hold"),
    "RET-03": ("legal_retention", "access_log", "indefinite_hold"),  # "as RET-02, except ..."
    "DSR-01": (),
    "DSP-01": (),
    "SHR-01": (),
    "SHR-02": (),
    "SHR-03": (),
    "SHR-04": (),
    "SHR-05": (),
    "SHR-06": (),
    "XFR-01": (),
    "SEC-01": (),
    "SEC-02": (),
    "MKT-01": (),
    "MKT-02": (),
    "TRK-01": (),
    "AGE-01": (),
}


@dataclass(frozen=True)
class Case:
    control: str
    name: str
    period: str
    params: dict[str, int]
    tables: dict[str, list[dict[str, Any]]]
    population: int
    violations: list[str]
    exceptions: list[tuple[str, str]]

    @property
    def id(self) -> str:
        return f"{self.control}: {self.name}"

    def expected(self) -> dict[str, object]:
        return {
            "population": self.population,
            "violations": sorted(self.violations),
            "exceptions": sorted(self.exceptions),
        }


def load_cases(path: Path) -> list[Case]:
    """The cases of one file; a malformed case fails loudly, naming the file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) != {"cases"} or not data["cases"]:
        raise ValueError(f"{path}: expected a mapping with one non-empty list, `cases`")
    cases = []
    for raw in data["cases"]:
        extra = set(raw) - {"name", "period", "params", "tables", "expect"}
        expect = raw.get("expect") or {}
        extra |= {f"expect.{k}" for k in set(expect) - {"population", "violations", "exceptions"}}
        missing = {"name", "period", "tables"} - set(raw)
        missing |= {f"expect.{k}" for k in {"population", "violations"} - set(expect)}
        if extra or missing:
            raise ValueError(f"{path}: case {raw.get('name')!r}: unknown {extra}, missing {missing}")
        cases.append(
            Case(
                control=path.stem,
                name=raw["name"],
                period=raw["period"],
                params=raw.get("params") or {},
                tables=raw["tables"],
                population=expect["population"],
                violations=list(expect["violations"]),
                exceptions=[(key, reason) for key, reason in expect.get("exceptions", [])],
            )
        )
    return cases


def _spec_rank(path: Path) -> tuple[int, str]:
    return (list(SPEC).index(path.stem) if path.stem in SPEC else len(SPEC), path.stem)


CASE_FILES = sorted(CASES_DIR.glob("*.yaml"), key=_spec_rank)
CASES = [case for path in CASE_FILES for case in load_cases(path)]


@pytest.fixture(scope="session")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Case], Any]:
    """Evaluate a case's snapshot once, however many tests ask for it."""
    from audit_lib.controls.evaluate import evaluate
    from audit_lib.periods import Period

    cache: dict[str, Any] = {}

    def run(case: Case) -> Any:
        if case.id not in cache:
            snapshot = make_snapshot(tmp_path_factory.mktemp(case.control), case.tables)
            cache[case.id] = evaluate(snapshot, Period.parse(case.period), case.params)
        return cache[case.id]

    return run


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_control_case(case: Case, findings: Callable[[Case], Any]) -> None:
    result = findings(case).result(case.control)
    actual = {
        "population": result.population,
        "violations": list(result.violations),
        "exceptions": [tuple(exception) for exception in result.exceptions],
    }
    assert actual == case.expected()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_status_is_fail_iff_violations(case: Case, findings: Callable[[Case], Any]) -> None:
    results = findings(case).controls
    assert [result.id for result in results] == list(SPEC)
    for result in results:
        assert result.status == ("fail" if result.violations else "pass"), result.id


def test_case_files_cover_every_control_in_spec_order() -> None:
    assert [path.stem for path in CASE_FILES] == list(SPEC)
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case names repeat within a control"


@pytest.mark.parametrize("control", list(SPEC))
def test_every_exemption_is_exercised(control: str) -> None:
    """Each exemption of the control names at least one expected exception, and no other does."""
    named = {reason for case in CASES if case.control == control for _, reason in case.exceptions}
    assert named == set(SPEC[control])


def test_spec_table_follows_controls_md() -> None:
    """SPEC above is controls.md's order and exemption names (RET-03's are inherited)."""
    if not CONTROLS_MD.exists():
        pytest.skip(f"{CONTROLS_MD} is not beside the project")
    text = CONTROLS_MD.read_text(encoding="utf-8")
    heads = list(re.finditer(r"^\*\*([A-Z]{3}-\d{2}) ", text, flags=re.MULTILINE))
    assert [head[1] for head in heads] == list(SPEC)
    ends = [head.start() for head in heads[1:]] + [len(text)]
    for head, end in zip(heads, ends, strict=True):
        listed = text[head.start() : end].partition("Exemptions")[2].partition("Key:")[0]
        named = re.findall(r"\(`([a-z_]+)`", listed)
        in_spec_order = [name for name in SPEC[head[1]] if name in named]
        assert named == in_spec_order and bool(named) == bool(SPEC[head[1]]), head[1]
