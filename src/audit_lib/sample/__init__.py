"""Synthetic exports with known planted violations (`privacy-audit sample generate`).

The background rows are random but compliant with every control by
construction (background.py); every violation and exception comes from the
planted rows (planted.py), which `planted.json` lists with their keys.

Customers are generated in chunks (at most CHUNK_CUSTOMERS each, with their
rows), each appended to the files before the next is drawn, so memory is
bounded by the chunk size. Chunk 0 draws from the seed itself and carries the
planted rows: an export of one chunk is what it was before chunks existed.
"""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import numpy as np

from audit_lib.errors import UsageError
from audit_lib.folders import assembled
from audit_lib.ingest.schema import TABLES
from audit_lib.periods import iso
from audit_lib.sample import background, planted
from audit_lib.sample.parties import Party, party_list
from audit_lib.sample.plan import Plan
from audit_lib.sample.timeline import Timeline
from audit_lib.sample.writer import FORMATS, Output, assemble, party_frame, write_table

MANIFEST_FORMAT = "privacy-audit/planted/1"
#: Background customers generated (and held in memory, with their rows) at a time.
CHUNK_CUSTOMERS = 500_000


def generate_sample(
    out_dir: Path, customers: int = 2000, seed: int = 7, fmt: str = "csv",
    period: str = "2026-Q3", chunk: int = CHUNK_CUSTOMERS,
) -> dict:  # fmt: skip
    """Write a synthetic export (one file per table of schema.TABLES, plus planted.json) and
    return the manifest; `chunk` customers at most are generated at a time."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    if customers < 1 or chunk < 1:
        raise UsageError(f"customers and chunk must be at least 1, not {customers} and {chunk}")
    timeline = Timeline.for_quarter(period)
    parties = party_list(timeline.start.date())
    plan = planted.build(timeline, parties)
    sizes = chunk_sizes(customers, chunk)
    try:
        with assembled(Path(out_dir)) as folder, closing(Output(folder, fmt, len(sizes))) as out:
            rows, keys = _write_tables(out, sizes, seed, timeline, parties, plan)
            manifest = {
                "format": MANIFEST_FORMAT,
                "seed": seed,
                "customers": customers,
                "period": timeline.period.to_json(),
                "parameters": dict(timeline.parameters),
                "controls": plan.outcomes(keys),
                "investigation": {role: keys[tag] for role, tag in plan.investigation.items()},
                "rows": rows,
            }
            text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
            (folder / "planted.json").write_text(text, encoding="utf-8")
    except OSError as exc:  # a full disk, a read-only folder: the user's to fix
        raise UsageError(f"{out_dir}: cannot write the export there ({exc.strerror or exc})") from None
    return manifest


def chunk_sizes(customers: int, chunk: int) -> list[int]:
    """`customers` split into the fewest chunks of at most `chunk`, as even as possible."""
    count = -(-customers // chunk)
    return [customers // count + (i < customers % count) for i in range(count)]


def chunk_rng(seed: int, index: int) -> np.random.Generator:
    """Chunk 0 draws from `seed` itself, chunk k from the seed's k-th child sequence."""
    if index == 0:
        return np.random.default_rng(seed)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def _write_tables(
    out: Output, sizes: list[int], seed: int, timeline: Timeline, parties: list[Party], plan: Plan
) -> tuple[dict[str, int], dict[str, str]]:
    """Write parties, then every chunk (the planted rows with the first).

    Returns rows per table (in schema order) and planted tag -> key.
    """
    rows = {table.name: 0 for table in TABLES} | {"parties": len(parties)}
    write_table(party_frame(parties), "parties", out)
    keys: dict[str, str] = {}
    for index, size in enumerate(sizes):
        keys |= _write_chunk(out, index, size, seed, timeline, parties, plan, rows)
    return rows, keys


def _write_chunk(
    out: Output, index: int, size: int, seed: int, timeline: Timeline, parties: list[Party],
    plan: Plan, rows: dict[str, int],
) -> dict[str, str]:  # fmt: skip
    """Generate and write one chunk, numbered after `rows` (then counted into it); its planted keys."""
    parts = [background.generate(chunk_rng(seed, index), size, timeline, parties)]
    if index == 0:
        parts.append(plan.frames(size))
    tables, keys = assemble(parts, before=rows)
    for name, frame in tables.items():
        write_table(frame, name, out)
        rows[name] += frame.height
    return keys


__all__ = ["CHUNK_CUSTOMERS", "MANIFEST_FORMAT", "chunk_sizes", "generate_sample", "iso"]
