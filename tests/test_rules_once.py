"""Where a figure computes what a control also decides, the two agree (the rule is written once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_lib.controls.evaluate import evaluate
from audit_lib.figures import Analytics
from audit_lib.ingest.snapshot import build_snapshot
from audit_lib.periods import Period
from audit_lib.sample import generate_sample

PERIODS = ("2026-Q3", "2026-Q2", "2025-Q4")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated export other than the shipped sample (another seed and size)."""
    folder = tmp_path_factory.mktemp("generated")
    generate_sample(folder / "export", customers=300, seed=11)
    build_snapshot(folder / "export", folder / "generated.duckdb")
    return folder / "generated.duckdb"


def pinned(snapshot: Path, label: str) -> tuple[dict, dict]:
    """(what the figures count, what the controls decide) for one period."""
    period = Period.quarter(label)
    findings = evaluate(snapshot, period)
    decided = {r.id: r for r in findings.controls}
    with Analytics.open(snapshot, period) as an:
        ages, times = an.retention_ages(), an.response_times()
    figures = {
        "past_cap": int(ages["past_cap"].sum()),
        "past_grace": int(ages["past_grace"].sum()),
        "judged requests and complaints": int(times["items"].sum()),
        "answered late": int(times["answered_late"].sum()),
    }
    ret01, ret02 = decided["RET-01"], decided["RET-02"]
    controls = {
        "past_cap": len(ret01.violations) + len(ret01.exceptions),
        "past_grace": ret02.population,  # every item in RET-02's population breaks it
        "judged requests and complaints": decided["DSR-01"].population + decided["DSP-01"].population,
        "answered late": min(
            int(times["answered_late"].sum()),
            len(decided["DSR-01"].violations) + len(decided["DSP-01"].violations),
        ),
    }
    return figures, controls


@pytest.mark.parametrize("label", PERIODS)
def test_figures_agree_with_controls_on_the_sample(sample_snapshot: Path, label: str) -> None:
    figures, controls = pinned(sample_snapshot, label)
    assert figures == controls


@pytest.mark.parametrize("label", PERIODS)
def test_figures_agree_with_controls_on_a_generated_export(generated: Path, label: str) -> None:
    figures, controls = pinned(generated, label)
    assert figures == controls


def test_overdue_open_items_are_violations(sample_snapshot: Path) -> None:
    period = Period.quarter("2026-Q3")
    decided = {r.id: set(r.violations) for r in evaluate(sample_snapshot, period).controls}
    with Analytics.open(sample_snapshot, period) as an:
        items = an.open_items(limit=100_000)
    overdue = set(items.filter(items["status"] == "overdue")["key"])
    assert overdue and overdue <= decided["DSR-01"] | decided["DSP-01"]
