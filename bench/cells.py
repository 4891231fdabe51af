"""Where a report's notebook time went: papermill's timings of each notebook and its slowest cells.

    .venv/bin/python bench/cells.py bench/data/7-870000/work/quarterly-1/notebooks [--top 3]

`overhead` is the notebook's time outside its cells: kernel start and shutdown.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cell_times(notebook: dict) -> list[tuple[float, int, str]]:
    """(seconds, index, first line) of every code cell."""
    times = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        seconds = cell["metadata"].get("papermill", {}).get("duration") or 0.0
        source = "".join(cell["source"]).strip().replace("\n", "  ")
        times.append((float(seconds), index, source[:80]))
    return times


def describe(path: Path, top: int) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    meta = notebook["metadata"].get("papermill", {})
    total = float(meta.get("duration") or 0.0)
    cells = cell_times(notebook)
    in_cells = sum(seconds for seconds, _, _ in cells)
    lines = [
        f"{path.stem:<14} {total:7.2f} s  cells {in_cells:6.2f} s  overhead {total - in_cells:5.2f} s  "
        f"{meta.get('start_time', '')[11:19]}-{meta.get('end_time', '')[11:19]}"
    ]
    for seconds, index, source in sorted(cells, reverse=True)[:top]:
        lines.append(f"    {seconds:6.2f} s  cell {index:>2}  {source}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="a folder of executed notebooks")
    parser.add_argument("--top", type=int, default=3, help="slowest cells shown per notebook")
    args = parser.parse_args(argv)
    for path in sorted(args.folder.glob("*.ipynb")):
        print("\n".join(describe(path, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
