"""Synthetic exports with known planted violations (`privacy-audit sample generate`).

The background rows are random but compliant with every control by
construction (background.py); every violation and exception comes from the
planted rows (planted.py), which `planted.json` lists with their keys.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from audit_lib.errors import UsageError
from audit_lib.folders import assembled
from audit_lib.periods import iso
from audit_lib.sample import background, planted
from audit_lib.sample.parties import party_list
from audit_lib.sample.timeline import Timeline
from audit_lib.sample.writer import FORMATS, assemble, write_table

MANIFEST_FORMAT = "privacy-audit/planted/1"


def generate_sample(
    out_dir: Path, customers: int = 2000, seed: int = 7, fmt: str = "csv",
    period: str = "2026-Q3",
) -> dict:  # fmt: skip
    """Write a synthetic export (one file per table of schema.TABLES, plus planted.json) and
    return the manifest."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    if customers < 1:
        raise UsageError(f"customers must be at least 1, not {customers}")
    timeline = Timeline.for_quarter(period)
    parties = party_list(timeline.start.date())
    rng = np.random.default_rng(seed)
    plan = planted.build(timeline, parties)
    tables, keys = assemble(
        [background.generate(rng, customers, timeline, parties), plan.frames(customers)], parties
    )
    manifest = {
        "format": MANIFEST_FORMAT,
        "seed": seed,
        "customers": customers,
        "period": timeline.period.to_json(),
        "parameters": dict(timeline.parameters),
        "controls": plan.outcomes(keys),
        "investigation": {role: keys[tag] for role, tag in plan.investigation.items()},
        "rows": {name: frame.height for name, frame in tables.items()},
    }
    try:
        with assembled(Path(out_dir)) as folder:
            for name, frame in tables.items():
                write_table(frame, name, folder, fmt)
            text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
            (folder / "planted.json").write_text(text, encoding="utf-8")
    except OSError as exc:  # a full disk, a read-only folder: the user's to fix
        raise UsageError(f"{out_dir}: cannot write the export there ({exc.strerror or exc})") from None
    return manifest


__all__ = ["MANIFEST_FORMAT", "generate_sample", "iso"]
